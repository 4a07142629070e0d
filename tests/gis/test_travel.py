"""Straight-line travel pairs and the unreachable-origins report."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from gis.travel import straight_line_pairs, unreachable

CRS = "EPSG:32651"
X0, Y0 = 500_000.0, 3_400_000.0


def _layer(column: str, items: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {column: list(items)},
        geometry=[Point(X0 + x, Y0 + y) for x, y in items.values()],
        crs=CRS,
    )


ZONES = {"A": (0, 0), "B": (3_000, 4_000)}  # A-B is 5 km
SCHOOLS = {"S1": (300, 400), "S2": (3_000, 0)}  # A-S1 500 m, A-S2 3 km, B-S2 4 km, B-S1 4.5 km


def test_pairs_within_limit_and_columns_unchanged() -> None:
    kwargs = {"origin_id": "zone_id", "destination_id": "school_id"}
    pairs = straight_line_pairs(
        _layer("zone_id", ZONES), _layer("school_id", SCHOOLS), limit_m=3_000.0, **kwargs
    )
    assert list(pairs.columns) == ["zone_id", "school_id", "distance_m"]
    assert list(pairs.itertuples(index=False, name=None)) == [
        ("A", "S1", 500.0),
        ("A", "S2", 3_000.0),
    ]
    per_zone = pd.Series([600.0, 4_000.0])
    pairs = straight_line_pairs(
        _layer("zone_id", ZONES),
        _layer("school_id", SCHOOLS),
        limit_m=per_zone,
        circuity=1.0,
        **kwargs,
    )
    assert list(pairs.itertuples(index=False, name=None)) == [
        ("A", "S1", 500.0),
        ("B", "S2", 4_000.0),
    ]


def test_circuity_and_minutes() -> None:
    pairs = straight_line_pairs(
        _layer("zone_id", ZONES),
        _layer("school_id", SCHOOLS),
        origin_id="zone_id",
        destination_id="school_id",
        limit_m=1_000.0,
        circuity=1.5,
        speed_kmh=4.5,
    )
    # 500 m x 1.5 = 750 m at 4.5 km/h = 75 m/min: 10 minutes
    assert list(pairs.columns) == ["zone_id", "school_id", "distance_m", "minutes"]
    assert list(pairs.itertuples(index=False, name=None)) == [("A", "S1", 750.0, 10.0)]
    with pytest.raises(ValueError, match="speed_kmh"):
        straight_line_pairs(
            _layer("zone_id", ZONES),
            _layer("school_id", SCHOOLS),
            origin_id="zone_id",
            destination_id="school_id",
            limit_m=1.0,
            speed_kmh=0.0,
        )


def test_polygons_use_their_centroid_and_empty_inputs() -> None:
    zones = gpd.GeoDataFrame(
        {"zone_id": ["P"]}, geometry=[box(X0 - 100, Y0 - 100, X0 + 100, Y0 + 100)], crs=CRS
    )
    pairs = straight_line_pairs(
        zones,
        _layer("school_id", SCHOOLS),
        origin_id="zone_id",
        destination_id="school_id",
        limit_m=500.0,
    )
    assert list(pairs["distance_m"]) == [500.0]
    empty = straight_line_pairs(
        zones.iloc[:0],
        _layer("school_id", SCHOOLS),
        origin_id="zone_id",
        destination_id="school_id",
        limit_m=500.0,
        speed_kmh=4.0,
    )
    assert empty.empty
    assert list(empty.columns) == ["zone_id", "school_id", "distance_m", "minutes"]


def test_geographic_crs_is_refused() -> None:
    zones = _layer("zone_id", ZONES).to_crs("EPSG:4326")
    with pytest.raises(ValueError, match="projected"):
        straight_line_pairs(
            zones, zones, origin_id="zone_id", destination_id="zone_id", limit_m=1.0
        )


def test_unreachable_lists_origins_without_pairs() -> None:
    zones = _layer("zone_id", ZONES)
    pairs = straight_line_pairs(
        zones,
        _layer("school_id", SCHOOLS),
        origin_id="zone_id",
        destination_id="school_id",
        limit_m=1_000.0,
    )
    report = unreachable(zones, pairs, origin_id="zone_id")
    assert list(report.itertuples(index=False, name=None)) == [
        ("B", "no destination within the travel limit")
    ]
    snaps = pd.DataFrame(
        {"zone_id": ["A", "B"], "snap_m": [3.0, 1_234.0], "on_network": [True, False]}
    )
    report = unreachable(zones, pairs, origin_id="zone_id", snaps=snaps)
    assert report["reason"].item() == "1,234 m from the nearest road (beyond the snap limit)"
