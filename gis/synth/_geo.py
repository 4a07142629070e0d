"""Shared internals of :mod:`gis.synth`: metric geometry, point sampling, rounding.

Private to the package. Coordinates: the boundary's longitude/latitude in degrees (any
datum, e.g. GCJ-02) on the outside, a projected metric CRS (metres) inside.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

Coord = tuple[float, float]

#: Points are drawn at least this far inside the boundary (metres).
INNER_MARGIN_M: Final = 200.0
#: Random draws per sampling attempt before giving up.
MAX_TRIES: Final = 5_000


class Geo:
    """The boundary in metres, and transforms between its lon/lat and metres."""

    def __init__(self, boundary: BaseGeometry, crs_metric: str | None) -> None:
        if boundary.is_empty or boundary.geom_type not in {"Polygon", "MultiPolygon"}:
            kind = boundary.geom_type
            raise ValueError(f"boundary must be a non-empty (Multi)Polygon, got {kind}")
        if crs_metric is None:
            crs_metric = utm_for(boundary)
        self._fwd = Transformer.from_crs("EPSG:4326", CRS(crs_metric), always_xy=True)
        self._inv = Transformer.from_crs(CRS(crs_metric), "EPSG:4326", always_xy=True)
        self.metric: BaseGeometry = shapely.transform(boundary, self._forward_xy)
        self.inner: BaseGeometry = self.metric.buffer(-INNER_MARGIN_M)
        if self.inner.is_empty:
            raise ValueError("boundary is too small to place points in")
        shapely.prepare(self.inner)

    def _forward_xy(self, xy: np.ndarray) -> np.ndarray:
        x, y = self._fwd.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def _inverse_xy(self, xy: np.ndarray) -> np.ndarray:
        lon, lat = self._inv.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    def to_metric(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lon/lat (degrees) to metric x/y (metres)."""
        x, y = self._fwd.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    def point_to_metric(self, lon: float, lat: float) -> Coord:
        """One lon/lat (degrees) to metric x/y (metres)."""
        x, y = self._fwd.transform(lon, lat)
        return float(x), float(y)

    def to_lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Metric x/y (metres) to lon/lat (degrees), rounded to 6 decimals."""
        lon, lat = self._inv.transform(np.asarray(x, float), np.asarray(y, float))
        return np.round(np.asarray(lon, float), 6), np.round(np.asarray(lat, float), 6)

    def geometry_to_lonlat(self, geometry: BaseGeometry) -> BaseGeometry:
        """A metric geometry (metres) back to lon/lat (degrees), not rounded."""
        result: BaseGeometry = shapely.transform(geometry, self._inverse_xy)
        return result


def utm_for(boundary: BaseGeometry) -> str:
    """EPSG code of the UTM zone that holds the boundary's centroid."""
    c = boundary.centroid
    zone = int((c.x + 180.0) // 6.0) + 1
    return f"EPSG:{32600 + zone if c.y >= 0 else 32700 + zone}"


def pole(inner: BaseGeometry) -> Coord:
    """Pole of inaccessibility of the largest part of ``inner`` (metres)."""
    parts = list(getattr(inner, "geoms", [inner]))
    largest = max(parts, key=lambda p: p.area)
    radius = shapely.maximum_inscribed_circle(largest, tolerance=10.0)
    x, y = shapely.get_coordinates(radius)[0]
    return float(x), float(y)


def far_enough(x: float, y: float, others: Sequence[Coord], gap: float) -> bool:
    """True if ``(x, y)`` is at least ``gap`` metres from every point of ``others``."""
    return all((x - ox) ** 2 + (y - oy) ** 2 >= gap * gap for ox, oy in others)


def ring_point(
    rng: np.random.Generator,
    geo: Geo,
    centre: Coord,
    ring: tuple[float, float],
    others: Sequence[Coord],
    gap: float,
) -> Coord | None:
    """Draw a point in the ring around ``centre``, inside the boundary, ``gap`` from others.

    The gap is halved after every ``MAX_TRIES // 5`` failures; None if all tries fail.
    """
    r_min, r_max = ring
    for attempt in range(MAX_TRIES):
        if attempt and attempt % (MAX_TRIES // 5) == 0:
            gap /= 2.0
        r = math.sqrt(rng.uniform(r_min * r_min, r_max * r_max))
        a = rng.uniform(0.0, 2.0 * math.pi)
        x, y = centre[0] + r * math.cos(a), centre[1] + r * math.sin(a)
        if shapely.contains_xy(geo.inner, x, y) and far_enough(x, y, others, gap):
            return x, y
    return None


def near_point(
    rng: np.random.Generator,
    geo: Geo,
    centre: Coord,
    ring: tuple[float, float],
    others: Sequence[Coord],
    gap: float,
) -> Coord:
    """Draw a point in the ring around ``centre``, else within twice its outer radius."""
    point = ring_point(rng, geo, centre, ring, others, gap)
    if point is None:
        point = ring_point(rng, geo, centre, (0.0, 2.0 * ring[1]), others, gap)
    if point is None:
        raise RuntimeError(f"could not place a point within {2 * ring[1]:.0f} m of {centre}")
    return point


def best_candidate(
    rng: np.random.Generator,
    inner: BaseGeometry,
    others: Sequence[Coord],
    *,
    min_gap: float,
    keep_away: Sequence[tuple[Coord, float]] = (),
    n_candidates: int = 40,
) -> Coord | None:
    """Mitchell's best-candidate sampling: of valid random points, the one farthest from others."""
    minx, miny, maxx, maxy = inner.bounds
    best: Coord | None = None
    best_d = -1.0
    found = 0
    for _ in range(MAX_TRIES):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not shapely.contains_xy(inner, x, y):
            continue
        if any((x - c[0]) ** 2 + (y - c[1]) ** 2 < r * r for c, r in keep_away):
            continue
        d = min((math.hypot(x - ox, y - oy) for ox, oy in others), default=math.inf)
        if d < min_gap:
            continue
        if d > best_d:
            best, best_d = (float(x), float(y)), d
        found += 1
        if found >= n_candidates:
            break
    return best


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers >= 1 proportional to ``weights`` that sum exactly to ``total``."""
    n = len(weights)
    share = (total - n) * weights / weights.sum()
    base = np.floor(share).astype(np.int64)
    left = int(total - n - base.sum())
    order = np.argsort(-(share - base), kind="stable")
    base[order[:left]] += 1
    result: np.ndarray = base + 1
    return result


def check_stage(zones: pd.DataFrame, stage: str, class_caps: Mapping[str, int]) -> None:
    """Raise ValueError unless ``zones`` has a children column and a class cap for ``stage``."""
    if stage not in zones.columns:
        raise ValueError(f"zones has no column of children for stage {stage!r}")
    if stage not in class_caps:
        raise ValueError(f"class_caps has no entry for stage {stage!r}")


def finish(frame: pd.DataFrame, boundary: BaseGeometry, id_column: str) -> gpd.GeoDataFrame:
    """Check every point lies in the boundary, sort by id and add point geometry."""
    frame = frame.sort_values(id_column, kind="stable").reset_index(drop=True)
    lon = frame["lon"].to_numpy(float)
    lat = frame["lat"].to_numpy(float)
    outside = ~shapely.contains_xy(boundary, lon, lat)
    if outside.any():
        bad = ", ".join(str(v) for v in frame.loc[outside, id_column])
        raise RuntimeError(f"generated points outside the boundary: {bad}")
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=None)
