"""Synthetic demand zones: points with residents and school-age children inside a boundary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis.synth._geo import Coord, Geo, best_candidate, finish, largest_remainder, ring_point
from gis.synth.centres import synth_town_centres
from gis.synth.common import DEFAULT_STAGES, SCHOOL_AGE_SHARES

__all__ = ["synth_zones"]

# Zone-type bands, metres. A zone is urban_core within _CORE_M of the main centre,
# new_district within _NEW_DISTRICT_M, town within _TOWN_M of a secondary centre,
# industrial in the peri-urban belt up to _INDUSTRIAL_M, rural beyond.
_CORE_M: Final = 3_000.0
_NEW_DISTRICT_M: Final = 7_000.0
_TOWN_M: Final = 2_500.0
_INDUSTRIAL_M: Final = 12_000.0
# Where each kind of zone point is drawn (ring around its centre, metres).
_ZONE_RING_M: Final[Mapping[str, tuple[float, float]]] = MappingProxyType(
    {
        "urban_core": (500.0, 2_700.0),
        "new_district": (3_600.0, 6_500.0),
        "industrial": (8_000.0, 11_500.0),
        "town": (200.0, 1_200.0),
    }
)
_ZONE_GAP_M: Final = 1_200.0
# Population density: weight(centre) * exp(-d / decay) summed over centres, plus a
# rural floor, times log-normal noise.
_MAIN_DECAY_M: Final = 5_000.0
_TOWN_DECAY_M: Final = 3_000.0
_RURAL_FLOOR: Final = 0.3
# Industrial zones house fewer residents than their distance alone suggests.
_INDUSTRIAL_DENSITY: Final = 0.5
_POP_NOISE_SIGMA: Final = 0.15
_AGE_NOISE_SD: Final = 0.04


def synth_zones(
    boundary: BaseGeometry,
    *,
    population: int,
    n_zones: int,
    seed: int,
    county: str,
    centres: Sequence[tuple[float, float, float]] | None = None,
    crs_metric: str | None = None,
) -> gpd.GeoDataFrame:
    """Synthetic demand zones (points) inside ``boundary`` with plausible density.

    Zone points are drawn around the centres: a handful in the core and the new
    district ring of the main centre, one in the peri-urban industrial belt, one at
    each town centre, and the rest spread over the countryside. Each zone's type
    follows from its distance to the centres (urban_core within 3 km of the main
    centre, new_district within 7 km, town within 2.5 km of a secondary centre,
    industrial within 12 km of the main centre, rural beyond). Population density is
    a rural floor plus, for each centre, its weight times ``exp(-d / 5 km)`` (main
    centre) or ``exp(-d / 3 km)`` (towns), halved in industrial zones, times log-normal
    noise; it is rounded by largest remainders so that it sums exactly to
    ``population`` (every zone gets at least one person).

    Parameters
    ----------
    boundary
        Polygon or MultiPolygon, longitude/latitude in degrees (any datum, e.g. GCJ-02).
    population
        Total resident population to split over the zones (persons).
    n_zones
        Number of zones (at least 2).
    seed
        Seed for ``numpy.random.default_rng``.
    county
        County code written to every row (e.g. the adcode ``"320904"``).
    centres
        ``(lon, lat, weight)`` per centre in the boundary's coordinates; the one with
        the largest weight (the first on ties) is the main centre, the others are towns.
        Default: :func:`synth_town_centres` with ``max(2, n_zones // 4)`` towns.
    crs_metric
        Projected CRS used to measure metres; default: the UTM zone of the centroid.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per zone, sorted by ``zone_id``, columns :data:`ZONE_COLUMNS` plus a
        point ``geometry`` (no CRS; same longitude/latitude as ``boundary``).
        ``population``, ``primary`` and ``junior`` are integers (persons); ``primary``
        and ``junior`` are the base-year children of age 6-11 and 12-14
        (population x 7.5 % and 3.6 %, with mild noise).

    Raises
    ------
    ValueError
        If the arguments are inconsistent (too few zones, population below the number
        of zones, a centre outside the boundary, weights not positive).
    RuntimeError
        If the boundary is too small to hold the zones.
    """
    if n_zones < 2:
        raise ValueError(f"n_zones must be >= 2, got {n_zones}")
    if population < n_zones:
        raise ValueError(f"population ({population}) must be at least n_zones ({n_zones})")
    rng = np.random.default_rng(seed)
    geo = Geo(boundary, crs_metric)
    if centres is None:
        centres = synth_town_centres(
            boundary, seed=seed, n_towns=max(2, n_zones // 4), crs_metric=crs_metric
        )
    if not centres:
        raise ValueError("centres must not be empty")
    for c_lon, c_lat, weight in centres:
        if weight <= 0:
            raise ValueError(f"centre weights must be positive, got {weight}")
        if not shapely.contains_xy(boundary, c_lon, c_lat):
            raise ValueError(f"centre ({c_lon}, {c_lat}) lies outside the boundary")
    main_index = int(np.argmax([c[2] for c in centres]))
    cx, cy = geo.to_metric(np.array([c[0] for c in centres]), np.array([c[1] for c in centres]))
    main_xy = (float(cx[main_index]), float(cy[main_index]))
    towns = [(float(cx[i]), float(cy[i])) for i in range(len(centres)) if i != main_index]

    counts = _zone_counts(n_zones, len(towns))
    points: list[Coord] = []
    for kind in ("urban_core", "new_district", "industrial"):
        for _ in range(counts[kind]):
            points.append(_zone_point(rng, geo, main_xy, _ZONE_RING_M[kind], points))
    for town in towns[: counts["town"]]:
        points.append(_zone_point(rng, geo, town, _ZONE_RING_M["town"], points))
    keep_away = [(main_xy, _INDUSTRIAL_M + 500.0)] + [(t, _TOWN_M + 500.0) for t in towns]
    for _ in range(counts["rural"]):
        # In a small boundary there may be no room beyond the industrial belt: then
        # the point goes anywhere, and its type follows from where it lands.
        points.append(_zone_point(rng, geo, None, None, points, keep_away=keep_away))

    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    d_main = np.hypot(x - main_xy[0], y - main_xy[1])
    d_towns = np.full(len(x), np.inf)
    for tx, ty in towns:
        d_towns = np.minimum(d_towns, np.hypot(x - tx, y - ty))
    zone_type = [_classify(float(dm), float(dt)) for dm, dt in zip(d_main, d_towns, strict=True)]

    density = np.full(len(x), _RURAL_FLOOR)
    for i in range(len(centres)):
        decay = _MAIN_DECAY_M if i == main_index else _TOWN_DECAY_M
        density += centres[i][2] * np.exp(-np.hypot(x - cx[i], y - cy[i]) / decay)
    density *= np.where(np.array(zone_type) == "industrial", _INDUSTRIAL_DENSITY, 1.0)
    density *= np.exp(rng.normal(0.0, _POP_NOISE_SIGMA, size=len(x)))
    pop = largest_remainder(density, population)

    kids: dict[str, np.ndarray] = {}
    for stage in DEFAULT_STAGES:
        noisy = pop * SCHOOL_AGE_SHARES[stage] * (1.0 + rng.normal(0.0, _AGE_NOISE_SD, len(x)))
        kids[stage] = np.rint(np.clip(noisy, 0.0, None)).astype(np.int64)

    lon, lat = geo.to_lonlat(x, y)
    ids = [f"Z{i + 1:02d}" for i in range(len(x))]
    frame = pd.DataFrame(
        {
            "zone_id": ids,
            "name": [f"合成片区 {i + 1:02d} (synthetic)" for i in range(len(x))],
            "county": county,
            "zone_type": zone_type,
            "population": pop,
            "primary": kids["primary"],
            "junior": kids["junior"],
            "synthetic": True,
            "lon": lon,
            "lat": lat,
        }
    )
    return finish(frame, boundary, "zone_id")


def _zone_counts(n_zones: int, n_towns: int) -> dict[str, int]:
    """How many zones of each kind to draw, filling core, towns, new district, rural."""
    wanted = {
        "urban_core": max(1, round(0.15 * n_zones)),
        "new_district": max(1, round(0.12 * n_zones)),
        "industrial": 1 if n_zones >= 8 else 0,
        "town": n_towns,
    }
    counts: dict[str, int] = {}
    left = n_zones
    for kind in ("urban_core", "town", "new_district", "industrial"):
        counts[kind] = min(wanted[kind], left)
        left -= counts[kind]
    counts["rural"] = left
    return counts


def _classify(d_main: float, d_town: float) -> str:
    if d_main <= _CORE_M:
        return "urban_core"
    if d_main <= _NEW_DISTRICT_M:
        return "new_district"
    if d_town <= _TOWN_M:
        return "town"
    if d_main <= _INDUSTRIAL_M:
        return "industrial"
    return "rural"


def _zone_point(
    rng: np.random.Generator,
    geo: Geo,
    centre: Coord | None,
    ring: tuple[float, float] | None,
    others: Sequence[Coord],
    *,
    keep_away: Sequence[tuple[Coord, float]] = (),
) -> Coord:
    """Draw a zone point in the ring around ``centre`` (or spread out if none), else anywhere."""
    point = None
    if centre is not None and ring is not None:
        point = ring_point(rng, geo, centre, ring, others, _ZONE_GAP_M)
    else:
        point = best_candidate(rng, geo.inner, others, min_gap=_ZONE_GAP_M, keep_away=keep_away)
    if point is None:
        point = best_candidate(rng, geo.inner, others, min_gap=_ZONE_GAP_M / 4)
    if point is None:
        raise RuntimeError("could not place the zones inside the boundary; use fewer zones")
    return point
