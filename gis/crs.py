"""Coordinate reference systems: datums, GCJ-02 and metric CRSs for distance work.

Everything in this project is stored in WGS-84 longitude/latitude (``EPSG:4326``).
Layers arrive in one of three datums:

``wgs84``
    GPS coordinates, OpenStreetMap, most GIS exports.
``cgcs2000``
    The Chinese national datum (``EPSG:4490`` and its projections). It differs from
    WGS-84 by a few centimetres, far below the accuracy of school or village locations,
    so it is treated as WGS-84.
``gcj02``
    The obfuscated "Mars coordinates" used by AutoNavi/Amap, Tencent and other Chinese
    web maps. Points copied from those maps are shifted by roughly 100 to 700 m and
    must be converted back with :func:`gcj02_to_wgs84`.

Distances and areas are computed in a metric CRS chosen by :func:`metric_crs`.
"""

from __future__ import annotations

import logging
import math
from typing import Final, Literal, overload

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyproj
import shapely

__all__ = [
    "DATUMS",
    "WGS84",
    "MetricKind",
    "gcj02_to_wgs84",
    "metric_crs",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

WGS84: Final = "EPSG:4326"
"""The CRS every layer is stored in: WGS-84 longitude/latitude in degrees."""

DATUMS: Final = ("wgs84", "cgcs2000", "gcj02")
"""The datums :func:`to_wgs84` accepts."""

MetricKind = Literal["utm", "cgcs2000_gk3"]

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 obfuscation.
_GCJ_A: Final = 6378245.0
_GCJ_EE: Final = 0.00669342162296594323

# Stop the inverse iteration when every point moves less than this (degrees, ~0.1 mm).
_INVERSE_TOLERANCE_DEG: Final = 1e-9
_INVERSE_MAX_ITERATIONS: Final = 30

# CGCS2000 3-degree Gauss-Kruger "CM" zones: EPSG:4534 (CM 75E) ... EPSG:4554 (CM 135E).
_GK3_FIRST_EPSG: Final = 4534
_GK3_FIRST_CM: Final = 75
_GK3_LAST_CM: Final = 135

FloatArray = npt.NDArray[np.float64]


def out_of_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Tell which points lie outside the rough bounding box where GCJ-02 applies.

    This is the bounding box used by every common GCJ-02 implementation (longitude
    72.004 to 137.8347, latitude 0.8293 to 55.8271). It is a box, not the border, so
    it includes parts of neighbouring countries, exactly as the web maps do.

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees (scalars or arrays of the same shape).

    Returns
    -------
    numpy.ndarray
        Boolean array (0-d for scalars): ``True`` where the point is outside the box.
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    inside = (lon_a >= 72.004) & (lon_a <= 137.8347) & (lat_a >= 0.8293) & (lat_a <= 55.8271)
    return np.asarray(~inside)


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 shift (degrees) of WGS-84 points, computed everywhere (no China test)."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    d_lon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad_lat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return d_lon, d_lat


def _as_float_arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon_a, lat_a = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return lon_a, lat_a


@overload
def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def wgs84_to_gcj02(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Convert WGS-84 longitude/latitude to GCJ-02 ("Mars coordinates").

    Uses the standard published formulas on the Krasovsky 1940 ellipsoid. Points
    outside China (see :func:`out_of_china`) are returned unchanged, as web maps do.

    Parameters
    ----------
    lon, lat
        WGS-84 longitude and latitude in degrees: Python floats or arrays of the same
        (or broadcastable) shape. NaN stays NaN.

    Returns
    -------
    tuple
        GCJ-02 ``(lon, lat)`` in degrees: floats for float input, else float64 arrays.
    """
    lon_a, lat_a = _as_float_arrays(lon, lat)
    d_lon, d_lat = _gcj_offset(lon_a, lat_a)
    outside = out_of_china(lon_a, lat_a)
    out_lon = np.where(outside, lon_a, lon_a + d_lon)
    out_lat = np.where(outside, lat_a, lat_a + d_lat)
    return _maybe_scalar(lon, lat, out_lon, out_lat)


@overload
def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]: ...
def gcj02_to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 longitude/latitude back to WGS-84.

    GCJ-02 has no closed-form inverse. This solves ``wgs84_to_gcj02(w) = g`` by
    fixed-point iteration ``w <- w - (wgs84_to_gcj02(w) - g)`` until every point moves
    less than 1e-9 degrees (about 0.1 mm), with at most 30 iterations (3 to 5 are
    typical). A round trip is accurate to well under a centimetre. Points outside
    China (tested on the GCJ-02 input) are returned unchanged.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees: Python floats or arrays of the same
        (or broadcastable) shape. NaN stays NaN.

    Returns
    -------
    tuple
        WGS-84 ``(lon, lat)`` in degrees: floats for float input, else float64 arrays.
    """
    g_lon, g_lat = _as_float_arrays(lon, lat)
    w_lon = g_lon.copy()
    w_lat = g_lat.copy()
    for _ in range(_INVERSE_MAX_ITERATIONS):
        d_lon, d_lat = _gcj_offset(w_lon, w_lat)
        step_lon = (w_lon + d_lon) - g_lon
        step_lat = (w_lat + d_lat) - g_lat
        w_lon = w_lon - step_lon
        w_lat = w_lat - step_lat
        step = np.maximum(np.abs(step_lon), np.abs(step_lat))
        finite = np.isfinite(step)
        if not finite.any() or float(step[finite].max()) < _INVERSE_TOLERANCE_DEG:
            break
    else:
        logger.warning("GCJ-02 inverse did not converge in %d iterations", _INVERSE_MAX_ITERATIONS)
    outside = out_of_china(g_lon, g_lat)
    out_lon = np.where(outside, g_lon, w_lon)
    out_lat = np.where(outside, g_lat, w_lat)
    return _maybe_scalar(lon, lat, out_lon, out_lat)


def _maybe_scalar(
    lon: npt.ArrayLike, lat: npt.ArrayLike, out_lon: FloatArray, out_lat: FloatArray
) -> tuple[float, float] | tuple[FloatArray, FloatArray]:
    if np.ndim(lon) == 0 and np.ndim(lat) == 0:
        return float(out_lon), float(out_lat)
    return out_lon, out_lat


def _gcj02_coords_to_wgs84(coords: FloatArray) -> FloatArray:
    """Convert an (N, 2) or (N, 3) array of GCJ-02 coordinates, keeping any z."""
    out = coords.copy()
    out[:, 0], out[:, 1] = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    return out


def to_wgs84(gdf: gpd.GeoDataFrame, *, datum: str) -> gpd.GeoDataFrame:
    """Return a copy of a layer in WGS-84 longitude/latitude (``EPSG:4326``).

    Parameters
    ----------
    gdf
        The layer. Its CRS must be set. For ``datum="gcj02"`` it must be geographic
        (longitude/latitude in degrees, normally labelled ``EPSG:4326`` although the
        numbers are GCJ-02). For ``wgs84`` and ``cgcs2000`` any CRS that PROJ can
        transform to ``EPSG:4326`` works, including projected ones (metres).
    datum
        What the coordinates really are: ``"wgs84"``, ``"cgcs2000"`` or ``"gcj02"``.
        CGCS2000 is treated as WGS-84: the two differ by a few centimetres.

    Returns
    -------
    geopandas.GeoDataFrame
        A new layer in ``EPSG:4326``. For GCJ-02 every vertex of every geometry is
        converted with :func:`gcj02_to_wgs84`.

    Raises
    ------
    ValueError
        Unknown datum, no CRS, a projected CRS with ``datum="gcj02"``, or a CRS that
        cannot be transformed to WGS-84.
    """
    if datum not in DATUMS:
        raise ValueError(f"unknown datum {datum!r}; expected one of {', '.join(DATUMS)}")
    if gdf.crs is None:
        raise ValueError("the layer has no CRS; set it before converting to WGS-84")
    crs = pyproj.CRS.from_user_input(gdf.crs)
    if datum == "gcj02" and not crs.is_geographic:
        raise ValueError(
            f"GCJ-02 data must be longitude/latitude in degrees, but the layer's CRS is "
            f"{_crs_name(crs)}"
        )
    out = gdf.copy()
    if not crs.equals(pyproj.CRS.from_user_input(WGS84)):
        try:
            out = out.to_crs(WGS84)
        except (pyproj.exceptions.ProjError, pyproj.exceptions.CRSError) as exc:
            raise ValueError(f"cannot transform {_crs_name(crs)} to WGS-84: {exc}") from exc
    if datum == "gcj02":
        out = out.set_geometry(
            shapely.transform(out.geometry.array, _gcj02_coords_to_wgs84, include_z=None),
            crs=WGS84,
        )
    out = out.set_crs(WGS84, allow_override=True)
    logger.debug("converted %d geometries from %s (%s) to WGS-84", len(out), crs.name, datum)
    return out


def _crs_name(crs: pyproj.CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg is not None else repr(crs.name)


def _lonlat_centre(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    """Centre of the layer's total bounds, in WGS-84 degrees."""
    if gdf.crs is None:
        raise ValueError("the layer has no CRS")
    geoms = gdf.geometry
    geoms = geoms[~(geoms.isna() | geoms.is_empty)]
    if len(geoms) == 0:
        raise ValueError("the layer has no geometries to choose a metric CRS from")
    crs = pyproj.CRS.from_user_input(gdf.crs)
    if not crs.equals(pyproj.CRS.from_user_input(WGS84)):
        geoms = geoms.to_crs(WGS84)
    min_x, min_y, max_x, max_y = (float(v) for v in geoms.total_bounds)
    lon = (min_x + max_x) / 2.0
    lat = (min_y + max_y) / 2.0
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError("the layer's bounds are not finite")
    return lon, lat


def metric_crs(gdf: gpd.GeoDataFrame, *, kind: MetricKind = "utm") -> pyproj.CRS:
    """Choose a metric (metres) CRS for a layer, from the centre of its total bounds.

    Parameters
    ----------
    gdf
        The layer, in any CRS PROJ can transform to WGS-84 (normally ``EPSG:4326``).
    kind
        ``"utm"``: WGS 84 / UTM zone of the centre (``EPSG:326xx`` north of the
        equator, ``EPSG:327xx`` south; the standard 6-degree zones without the
        Norway/Svalbard exceptions). ``"cgcs2000_gk3"``: CGCS2000 3-degree
        Gauss-Kruger CM zone (``EPSG:4534`` for 75E ... ``EPSG:4554`` for 135E) whose
        central meridian is ``3 * round(lon / 3)``, halves rounded up; the centre
        must lie between 73.5E and 136.5E.

    Returns
    -------
    pyproj.CRS
        The chosen CRS. The same bounds always give the same CRS.

    Raises
    ------
    ValueError
        Empty layer, no CRS, unknown kind, or a centre outside the GK zones.
    """
    lon, lat = _lonlat_centre(gdf)
    if kind == "utm":
        zone = min(max(math.floor((lon + 180.0) / 6.0) + 1, 1), 60)
        epsg = (32600 if lat >= 0.0 else 32700) + zone
    elif kind == "cgcs2000_gk3":
        if not 73.5 <= lon <= 136.5:
            raise ValueError(
                f"the layer's centre (longitude {lon:.3f}) is outside the CGCS2000 "
                "3-degree Gauss-Kruger zones (73.5E to 136.5E); use kind='utm'"
            )
        central_meridian = 3 * math.floor(lon / 3.0 + 0.5)
        central_meridian = min(max(central_meridian, _GK3_FIRST_CM), _GK3_LAST_CM)
        epsg = _GK3_FIRST_EPSG + (central_meridian - _GK3_FIRST_CM) // 3
    else:
        raise ValueError(f"unknown metric CRS kind {kind!r}; expected 'utm' or 'cgcs2000_gk3'")
    return pyproj.CRS.from_epsg(epsg)
