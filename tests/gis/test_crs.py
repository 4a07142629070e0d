from __future__ import annotations

import geopandas as gpd
import numpy as np
import prcoords
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.crs import (
    WGS84,
    gcj02_to_wgs84,
    metric_crs,
    out_of_china,
    to_wgs84,
    wgs84_to_gcj02,
)

# Published test vectors: (wgs_lon, wgs_lat, gcj_lon, gcj_lat).
# Source: googollee/eviltransform, python/test.py (MIT), the TESTS list
# (Shanghai, Shenzhen, Beijing).
EVILTRANSFORM_VECTORS = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
]

# Source: hujiulong/gcoord, test/unit/crs/GCJ02.spec.js (MIT): GCJ02 -> WGS84 of
# (123, 45) is (122.99395597, 44.99804071), checked there to 5 decimals.
GCOORD_GCJ_TO_WGS = ((123.0, 45.0), (122.99395597, 44.99804071))


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    geod = pyproj.Geod(ellps="WGS84")
    return float(geod.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_VECTORS)
def test_forward_matches_published_vectors(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_VECTORS)
def test_inverse_matches_published_vectors(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert _metres(lon, lat, wlon, wlat) < 0.01


def test_inverse_matches_gcoord_vector() -> None:
    (glon, glat), (wlon, wlat) = GCOORD_GCJ_TO_WGS
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert lon == pytest.approx(wlon, abs=5e-6)
    assert lat == pytest.approx(wlat, abs=5e-6)


def test_agrees_with_prcoords() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(74.0, 134.0, 200)
    lat = rng.uniform(19.0, 52.0, 200)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    for i in range(len(lon)):
        ref = prcoords.wgs_gcj((lat[i], lon[i]), False)
        assert g_lon[i] == pytest.approx(ref.lon, abs=1e-9)
        assert g_lat[i] == pytest.approx(ref.lat, abs=1e-9)
        back = prcoords.gcj_wgs_bored((g_lat[i], g_lon[i]), False)
        # prcoords stops at 1e-5 deg; ours is far tighter, so compare within ~1 m.
        assert _metres(w_lon[i], w_lat[i], back.lon, back.lat) < 1.0


def test_scalars_give_floats_and_arrays_give_arrays() -> None:
    lon, lat = wgs84_to_gcj02(120.0, 33.0)
    assert isinstance(lon, float)
    assert isinstance(lat, float)
    lons, lats = gcj02_to_wgs84(np.array([120.0, 121.0]), np.array([33.0, 34.0]))
    assert isinstance(lons, np.ndarray)
    assert lons.shape == (2,)
    assert lats.dtype == np.float64


def test_nan_stays_nan() -> None:
    lon, _ = gcj02_to_wgs84(np.array([np.nan, 120.0]), np.array([30.0, 30.0]))
    assert np.isnan(lon[0])
    assert np.isfinite(lon[1])


@settings(max_examples=300, deadline=None)
@given(
    lon=st.floats(min_value=73.0, max_value=135.0),
    lat=st.floats(min_value=18.0, max_value=53.0),
)
def test_round_trip_within_a_metre(lon: float, lat: float) -> None:
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert _metres(lon, lat, back_lon, back_lat) < 1.0
    assert abs(back_lon - lon) < 1e-7
    assert abs(back_lat - lat) < 1e-7


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(2.35, 48.85), (-74.0, 40.7), (139.7, 35.7), (100.0, 0.5), (120.0, 56.0)],
)
def test_outside_china_unchanged(lon: float, lat: float) -> None:
    assert bool(out_of_china(lon, lat))
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_out_of_china_vectorised() -> None:
    result = out_of_china(np.array([120.0, 2.0]), np.array([30.0, 48.0]))
    assert result.tolist() == [False, True]


def _layer(lon: float, lat: float, crs: str = WGS84) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.Point(lon, lat)], crs=crs)


def test_metric_crs_dafeng() -> None:
    dafeng = _layer(120.56, 33.24)
    assert metric_crs(dafeng) == pyproj.CRS.from_epsg(32651)
    gk3 = metric_crs(dafeng, kind="cgcs2000_gk3")
    assert gk3.to_epsg() == 4549
    assert gk3.name == "CGCS2000 / 3-degree Gauss-Kruger CM 120E"


def test_metric_crs_uses_centre_of_total_bounds() -> None:
    layer = gpd.GeoDataFrame(
        geometry=[shapely.Point(100.0, 30.0), shapely.Point(110.0, 40.0), None], crs=WGS84
    )
    # centre (105, 35): UTM zone 48N, GK CM 105E
    assert metric_crs(layer).to_epsg() == 32648
    assert metric_crs(layer, kind="cgcs2000_gk3").to_epsg() == 4544


def test_metric_crs_from_projected_layer() -> None:
    layer = _layer(120.56, 33.24).to_crs("EPSG:4549")
    assert metric_crs(layer).to_epsg() == 32651


def test_metric_crs_southern_hemisphere() -> None:
    assert metric_crs(_layer(151.2, -33.9)).to_epsg() == 32756


@pytest.mark.parametrize(
    ("lon", "epsg"), [(73.6, 4534), (121.49, 4549), (121.5, 4550), (136.4, 4554)]
)
def test_gk3_zone_edges(lon: float, epsg: int) -> None:
    assert metric_crs(_layer(lon, 30.0), kind="cgcs2000_gk3").to_epsg() == epsg


@pytest.mark.parametrize("lon", [73.0, 137.0, 2.0])
def test_gk3_outside_china_is_an_error(lon: float) -> None:
    with pytest.raises(ValueError, match="Gauss-Kruger"):
        metric_crs(_layer(lon, 30.0), kind="cgcs2000_gk3")


def test_metric_crs_empty_layer_is_an_error() -> None:
    with pytest.raises(ValueError, match="no geometries"):
        metric_crs(gpd.GeoDataFrame(geometry=[], crs=WGS84))


def _square(lon: float, lat: float, size: float = 0.01) -> shapely.Polygon:
    return shapely.box(lon, lat, lon + size, lat + size)


@pytest.mark.parametrize(("lon", "lat"), [(120.56, 33.24), (113.26, 23.13)])
def test_to_wgs84_gcj02_shifts_polygon(lon: float, lat: float) -> None:
    layer = gpd.GeoDataFrame({"name": ["x"]}, geometry=[_square(lon, lat)], crs=WGS84)
    out = to_wgs84(layer, datum="gcj02")
    assert out.crs == pyproj.CRS.from_user_input(WGS84)
    assert list(out["name"]) == ["x"]
    before = shapely.get_coordinates(layer.geometry.array)
    after = shapely.get_coordinates(out.geometry.array)
    assert before.shape == after.shape
    shifts = [_metres(*b, *a) for b, a in zip(before, after, strict=True)]
    assert all(450.0 < s < 650.0 for s in shifts), shifts
    expected = gcj02_to_wgs84(before[:, 0], before[:, 1])
    np.testing.assert_allclose(after[:, 0], expected[0])
    np.testing.assert_allclose(after[:, 1], expected[1])
    # the input is not modified
    assert shapely.equals(layer.geometry.iloc[0], _square(lon, lat))


def test_to_wgs84_keeps_z_and_nulls() -> None:
    layer = gpd.GeoDataFrame(geometry=[shapely.Point(120.0, 33.0, 5.0), None], crs=WGS84)
    out = to_wgs84(layer, datum="gcj02")
    assert out.geometry.iloc[0].has_z
    assert out.geometry.iloc[0].z == 5.0
    assert out.geometry.iloc[1] is None


@pytest.mark.parametrize("datum", ["wgs84", "cgcs2000"])
def test_to_wgs84_wgs_and_cgcs2000_are_unchanged(datum: str) -> None:
    layer = gpd.GeoDataFrame(geometry=[_square(120.56, 33.24)], crs=WGS84)
    out = to_wgs84(layer, datum=datum)
    assert shapely.equals(out.geometry.iloc[0], layer.geometry.iloc[0])


def test_to_wgs84_transforms_projected_and_cgcs2000_geographic() -> None:
    projected = _layer(120.56, 33.24).to_crs("EPSG:4549")
    out = to_wgs84(projected, datum="cgcs2000")
    assert out.crs == pyproj.CRS.from_user_input(WGS84)
    point = out.geometry.iloc[0]
    assert point.x == pytest.approx(120.56, abs=1e-7)
    assert point.y == pytest.approx(33.24, abs=1e-7)
    geographic = _layer(120.56, 33.24, crs="EPSG:4490")
    out = to_wgs84(geographic, datum="gcj02")
    assert out.crs == pyproj.CRS.from_user_input(WGS84)
    assert out.geometry.iloc[0].x != 120.56


def test_to_wgs84_projected_gcj02_is_an_error() -> None:
    with pytest.raises(ValueError, match="GCJ-02"):
        to_wgs84(_layer(120.56, 33.24).to_crs("EPSG:4549"), datum="gcj02")


def test_to_wgs84_rejects_unknown_datum_and_missing_crs() -> None:
    with pytest.raises(ValueError, match="datum"):
        to_wgs84(_layer(120.0, 33.0), datum="bd09")
    with pytest.raises(ValueError, match="no CRS"):
        to_wgs84(gpd.GeoDataFrame(geometry=[shapely.Point(120.0, 33.0)]), datum="wgs84")
