"""Deterministic SYNTHETIC planning layers inside a real administrative boundary.

Real school lists and sub-county population splits are rarely public, so demonstration
scenarios use layers generated here: demand zones, existing schools and candidate sites.
Everything produced by this module is invented, and every row says so (``synthetic`` is
``True`` and every name ends in ``(synthetic)``). Only the boundary and the population
total that the caller passes in can be real.

Coordinates. The functions work in whatever longitude/latitude the boundary is given in
(degrees; e.g. GCJ-02 for Amap-derived boundaries) and return points in that same
longitude/latitude. Distances are measured after projecting with a metric CRS (metres;
by default the UTM zone of the boundary's centroid). The few hundred metres between GCJ-02
and WGS-84 do not matter for generation: the metric CRS is only used to measure and place
points, and every output point is tested against the boundary in the input coordinates.
The returned GeoDataFrames carry no CRS, because GCJ-02 has no EPSG code.

Determinism. All randomness comes from ``numpy.random.default_rng(seed)``, rows are
sorted by id and coordinates are rounded to 6 decimals (about 0.1 m), so the same call
gives the same table on every run and machine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

__all__ = [
    "CANDIDATE_COLUMNS",
    "DEFAULT_CLASS_CAPS",
    "SCHOOL_AGE_SHARES",
    "SCHOOL_COLUMNS",
    "ZONE_COLUMNS",
    "ZONE_TYPES",
    "synth_candidate_sites",
    "synth_schools",
    "synth_town_centres",
    "synth_zones",
]

ZONE_COLUMNS: Final = (
    "zone_id", "name", "county", "zone_type", "population", "primary", "junior",
    "synthetic", "lon", "lat",
)  # fmt: skip
SCHOOL_COLUMNS: Final = (
    "school_id", "name", "county", "stage", "classes", "max_classes", "ownership",
    "synthetic", "lon", "lat",
)  # fmt: skip
CANDIDATE_COLUMNS: Final = (
    "site_id", "name", "county", "stage", "setting", "land_area_m2", "land_cost_cny",
    "hazard", "synthetic", "lon", "lat",
)  # fmt: skip

ZONE_TYPES: Final = ("urban_core", "new_district", "town", "rural", "industrial")
URBAN_ZONE_TYPES: Final = frozenset({"urban_core", "new_district", "industrial"})

#: Share of residents of primary (age 6-11) and junior (age 12-14) school age, derived
#: from the national 2020 (7th) census age structure (secondary; see
#: scenarios/common/standards.yaml).
SCHOOL_AGE_SHARES: Final[Mapping[str, float]] = MappingProxyType(
    {"primary": 0.075, "junior": 0.036}
)
#: Pupils per class: GB 50099-2011 §3.0.1, rule D-13.
DEFAULT_CLASS_CAPS: Final[Mapping[str, int]] = MappingProxyType({"primary": 45, "junior": 50})
DEFAULT_STAGES: Final = ("primary", "junior")
_STAGE_NAMES: Final[Mapping[str, str]] = MappingProxyType({"primary": "小学", "junior": "初中"})

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

# Existing seats as a share of demand, before rescaling to the requested coverage:
# fast-growing urban zones are short, rural zones have spare seats.
_ZONE_COVERAGE: Final[Mapping[str, float]] = MappingProxyType(
    {"urban_core": 0.80, "new_district": 0.68, "industrial": 0.85, "town": 0.97, "rural": 1.12}
)
_CLASS_STEP: Final = 6
_MIN_CLASSES: Final = 6
_MAX_CLASSES: Final = 36
# How far from its zone point a school is drawn (metres).
_SCHOOL_RING_M: Final[Mapping[str, tuple[float, float]]] = MappingProxyType(
    {
        "urban_core": (300.0, 1_000.0),
        "new_district": (300.0, 1_500.0),
        "industrial": (500.0, 2_000.0),
        "town": (300.0, 1_500.0),
        "rural": (500.0, 2_500.0),
    }
)
# Room left on the school's land, in classes (one value drawn per school).
_EXPANSION_CHOICES: Final[Mapping[str, tuple[int, ...]]] = MappingProxyType(
    {
        "urban_core": (0, 0, 6),
        "new_district": (6, 12),
        "industrial": (6,),
        "town": (0, 6),
        "rural": (0, 0, 6),
    }
)
_SCHOOL_GAP_M: Final = 400.0
_SITE_RING_M: Final = (500.0, 2_500.0)
_SITE_GAP_M: Final = 400.0
# Site land area (m2) by stage, and land price (CNY per m2) by setting. Illustrative.
_SITE_AREA_M2: Final[Mapping[str, tuple[float, float]]] = MappingProxyType(
    {"primary": (15_000.0, 40_000.0), "junior": (20_000.0, 60_000.0)}
)
_LAND_PRICE_CNY_M2: Final[Mapping[str, tuple[float, float]]] = MappingProxyType(
    {"urban": (1_500.0, 3_000.0), "rural": (300.0, 800.0)}
)
_INNER_MARGIN_M: Final = 200.0
_MAX_TRIES: Final = 5_000

_Coord = tuple[float, float]


# ---------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------


def synth_town_centres(
    boundary: BaseGeometry,
    *,
    seed: int,
    n_towns: int,
    main: tuple[float, float] | None = None,
    main_weight: float = 1.0,
    town_weight: tuple[float, float] = (0.2, 0.35),
    min_spacing_m: float = 12_000.0,
    crs_metric: str | None = None,
) -> list[tuple[float, float, float]]:
    """Pick a main centre and synthetic secondary town centres inside ``boundary``.

    Parameters
    ----------
    boundary
        Polygon or MultiPolygon, longitude/latitude in degrees (any datum, e.g. GCJ-02).
    seed
        Seed for ``numpy.random.default_rng``.
    n_towns
        Number of secondary (town) centres to place.
    main
        ``(lon, lat)`` of the main centre (county seat), in the boundary's coordinates.
        When omitted, the pole of inaccessibility of the boundary is used.
    main_weight
        Density weight of the main centre (dimensionless).
    town_weight
        Range from which each town's density weight is drawn uniformly (dimensionless).
    min_spacing_m
        Least distance between any two centres, metres. Halved as often as needed
        (and the shortfall filled) if the boundary cannot hold all towns.
    crs_metric
        Projected CRS used to measure metres; default: the UTM zone of the centroid.

    Returns
    -------
    list of tuple
        ``(lon, lat, weight)`` per centre, main centre first, towns in placement order;
        coordinates in the boundary's longitude/latitude, rounded to 6 decimals.

    Raises
    ------
    ValueError
        If ``n_towns`` is negative or ``main`` lies outside the boundary.
    RuntimeError
        If the boundary cannot hold the centres even 100 m apart.
    """
    if n_towns < 0:
        raise ValueError(f"n_towns must be >= 0, got {n_towns}")
    rng = np.random.default_rng(seed)
    geo = _Geo(boundary, crs_metric)
    if main is None:
        mx, my = _pole(geo.inner)
    else:
        if not shapely.contains_xy(boundary, main[0], main[1]):
            raise ValueError(f"main centre {main} lies outside the boundary")
        mx, my = geo.point_to_metric(main[0], main[1])
    placed: list[_Coord] = [(mx, my)]
    gap = min_spacing_m
    while len(placed) < n_towns + 1:
        point = _best_candidate(rng, geo.inner, placed, min_gap=gap)
        if point is None:
            gap /= 2.0
            if gap < 100.0:
                raise RuntimeError("could not place town centres inside the boundary")
            continue
        placed.append(point)
    weights = [main_weight] + [float(w) for w in rng.uniform(*town_weight, size=n_towns)]
    lons, lats = geo.to_lonlat(np.array([p[0] for p in placed]), np.array([p[1] for p in placed]))
    return [(float(x), float(y), round(w, 3)) for x, y, w in zip(lons, lats, weights, strict=True)]


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
    geo = _Geo(boundary, crs_metric)
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
    points: list[_Coord] = []
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
    pop = _largest_remainder(density, population)

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
    return _finish(frame, boundary, "zone_id")


def synth_schools(
    zones: gpd.GeoDataFrame,
    *,
    boundary: BaseGeometry,
    seed: int,
    stages: Sequence[str] = DEFAULT_STAGES,
    class_caps: Mapping[str, int] = DEFAULT_CLASS_CAPS,
    coverage: float | Mapping[str, float] = 0.88,
    crs_metric: str | None = None,
) -> gpd.GeoDataFrame:
    """Synthetic existing public schools near the zones, with an overall seat shortfall.

    For each stage, every zone is given seats in proportion to its children, scaled by
    a zone-type factor (new districts and the urban core short, towns about even, rural
    zones with spare seats) and rescaled so that total seats are close to ``coverage``
    times total demand. A zone's classes are split into as few schools as the 36-class
    limit allows (a zone too small for a 6-class school has none: its children are
    counted with the nearest zone); each school has a standard size (a multiple of 6
    classes, 6 to 36), and a final pass adds or removes 6-class steps to bring the
    total seats as close to the target as possible. Schools are placed 0.3-2.5 km from
    their zone point (closer in the urban core), at least 400 m from one another.

    Parameters
    ----------
    zones
        Output of :func:`synth_zones` (needs ``zone_type`` from :data:`ZONE_TYPES`,
        ``county``, ``lon``, ``lat`` and one column of children per stage).
    boundary
        The boundary the zones were drawn in (longitude/latitude, degrees).
    seed
        Seed for ``numpy.random.default_rng``.
    stages
        Stages to generate, each a column of ``zones`` and a key of ``class_caps``.
    class_caps
        Pupils per class by stage (seats = classes x cap).
    coverage
        Target existing seats as a share of the stage's children (dimensionless), for
        all stages or per stage. Seats come as close to it as 6-class steps and the
        6-36 class sizes allow.
    crs_metric
        Projected CRS used to measure metres; default: the UTM zone of the centroid.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per school, sorted by ``school_id`` (by stage in the order of
        ``stages``, then by zone), columns :data:`SCHOOL_COLUMNS` plus a point
        ``geometry`` (no CRS; same longitude/latitude as ``boundary``). ``classes`` and
        ``max_classes`` (the most classes the school's land allows, never below
        ``classes``) are integers.

    Raises
    ------
    ValueError
        If a stage has no children column, no class cap, or coverage outside (0, 2].
    """
    rng = np.random.default_rng(seed)
    geo = _Geo(boundary, crs_metric)
    zx, zy = geo.to_metric(zones["lon"].to_numpy(float), zones["lat"].to_numpy(float))
    types = [str(t) for t in zones["zone_type"]]
    rows: list[dict[str, object]] = []
    placed: list[_Coord] = []
    for stage in stages:
        _check_stage(zones, stage, class_caps)
        cap = int(class_caps[stage])
        cover = float(coverage[stage] if isinstance(coverage, Mapping) else coverage)
        if not 0.0 < cover <= 2.0:
            raise ValueError(f"coverage for {stage} must be in (0, 2], got {cover}")
        demand = zones[stage].to_numpy(float)
        factor = np.array([_ZONE_COVERAGE[t] for t in types])
        factor *= 1.0 + rng.normal(0.0, 0.03, size=len(types))
        target = float(cover * demand.sum())
        weighted = factor * demand
        wanted_classes = weighted * (target / weighted.sum()) / cap if weighted.sum() else weighted
        wanted_classes = _pool_small_zones(wanted_classes, zx, zy)
        zone_of: list[int] = []
        wanted: list[float] = []
        for z, classes in enumerate(wanted_classes):
            if classes <= 0.0:
                continue
            n = max(1, math.ceil(classes / _MAX_CLASSES))
            zone_of += [z] * n
            wanted += [classes / n] * n
        sizes = _standard_sizes(np.array(wanted), target_classes=target / cap)
        for number, (z, classes) in enumerate(zip(zone_of, sizes, strict=True), start=1):
            kind = types[z]
            x, y = _near_point(
                rng, geo, (float(zx[z]), float(zy[z])), _SCHOOL_RING_M[kind], placed, _SCHOOL_GAP_M
            )
            placed.append((x, y))
            extra = int(rng.choice(_EXPANSION_CHOICES[kind]))
            rows.append(
                {
                    "name": f"合成第{number}{_STAGE_NAMES.get(stage, stage)} (synthetic)",
                    "county": str(zones["county"].iloc[z]),
                    "stage": stage,
                    "classes": int(classes),
                    "max_classes": max(int(classes), min(_MAX_CLASSES, int(classes) + extra)),
                    "ownership": "public",
                    "synthetic": True,
                    "x": x,
                    "y": y,
                }
            )
    frame = pd.DataFrame(rows, columns=[*SCHOOL_COLUMNS[1:8], "x", "y"])
    frame.insert(0, "school_id", [f"S{i + 1:03d}" for i in range(len(frame))])
    frame["lon"], frame["lat"] = geo.to_lonlat(frame["x"].to_numpy(), frame["y"].to_numpy())
    return _finish(frame.drop(columns=["x", "y"]), boundary, "school_id")


def synth_candidate_sites(
    zones: gpd.GeoDataFrame,
    *,
    boundary: BaseGeometry,
    seed: int,
    stages: Sequence[str] = DEFAULT_STAGES,
    n_per_stage: int | Mapping[str, int] = 7,
    schools: gpd.GeoDataFrame | None = None,
    class_caps: Mapping[str, int] = DEFAULT_CLASS_CAPS,
    n_hazard: int = 2,
    crs_metric: str | None = None,
) -> gpd.GeoDataFrame:
    """Synthetic candidate sites for new schools, mostly where seats are short.

    For each stage, about three quarters of the sites go one by one to the zone with
    the largest remaining shortfall (drawn with probability proportional to it; each
    site then counts as one 36-class school against that shortfall), and the rest to
    other zones drawn in proportion to their children. Sites are placed 0.5-2.5 km from
    their zone point and at least 400 m from every school and other site. ``n_hazard``
    sites in short zones (spread over the stages) are flagged ``hazard=True``, standing
    for a parcel on a flagged hazard area that a siting rule must exclude.

    Parameters
    ----------
    zones
        Output of :func:`synth_zones`.
    boundary
        The boundary the zones were drawn in (longitude/latitude, degrees).
    seed
        Seed for ``numpy.random.default_rng``.
    stages
        Stages to generate sites for.
    n_per_stage
        Number of sites per stage, for all stages or per stage.
    schools
        Output of :func:`synth_schools`. When given, a zone's shortfall is its children
        minus the seats of the schools nearest to it; otherwise it is estimated from the
        zone type.
    class_caps
        Pupils per class by stage, to turn classes into seats.
    n_hazard
        Number of sites flagged ``hazard=True``.
    crs_metric
        Projected CRS used to measure metres; default: the UTM zone of the centroid.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site, sorted by ``site_id`` (by stage, then placement order),
        columns :data:`CANDIDATE_COLUMNS` plus a point ``geometry`` (no CRS; same
        longitude/latitude as ``boundary``). ``setting`` is ``"urban"`` when the
        nearest zone is urban_core, new_district or industrial, else ``"rural"``;
        ``land_area_m2`` is square metres (15,000-60,000) and ``land_cost_cny`` is yuan
        (illustrative land prices, urban 1,500-3,000 and rural 300-800 CNY/m2).

    Raises
    ------
    ValueError
        If a stage has no children column or no class cap, or a count is negative.
    """
    if n_hazard < 0:
        raise ValueError(f"n_hazard must be >= 0, got {n_hazard}")
    rng = np.random.default_rng(seed)
    geo = _Geo(boundary, crs_metric)
    zx, zy = geo.to_metric(zones["lon"].to_numpy(float), zones["lat"].to_numpy(float))
    types = [str(t) for t in zones["zone_type"]]
    placed: list[_Coord] = []
    if schools is not None and len(schools):
        sx, sy = geo.to_metric(schools["lon"].to_numpy(float), schools["lat"].to_numpy(float))
        placed = [(float(a), float(b)) for a, b in zip(sx, sy, strict=True)]
    rows: list[dict[str, object]] = []
    short_rows: dict[str, list[int]] = {}
    for stage in stages:
        _check_stage(zones, stage, class_caps)
        cap = int(class_caps[stage])
        n = int(n_per_stage[stage] if isinstance(n_per_stage, Mapping) else n_per_stage)
        if n < 0:
            raise ValueError(f"n_per_stage for {stage} must be >= 0, got {n}")
        demand = zones[stage].to_numpy(float)
        shortfall = demand - _zone_seats(zones, schools, stage, cap, geo, zx, zy)
        remaining = np.clip(shortfall, 0.0, None)
        n_other = max(1, n // 4) if n >= 2 else 0
        picks: list[tuple[int, bool]] = []
        for _ in range(n - n_other):
            if remaining.sum() > 0:
                z = int(rng.choice(len(types), p=remaining / remaining.sum()))
                remaining[z] = max(0.0, remaining[z] - _MAX_CLASSES * cap)
                picks.append((z, True))
            else:
                weights = demand + 1.0
                picks.append((int(rng.choice(len(types), p=weights / weights.sum())), False))
        short = {z for z, _ in picks}
        others = [z for z in range(len(types)) if z not in short] or list(range(len(types)))
        weights = demand[others] + 1.0
        size = min(n_other, len(others))
        for z in rng.choice(others, size=size, replace=False, p=weights / weights.sum()):
            picks.append((int(z), False))
        short_rows[stage] = []
        for z, is_short in picks:
            x, y = _near_point(
                rng, geo, (float(zx[z]), float(zy[z])), _SITE_RING_M, placed, _SITE_GAP_M
            )
            placed.append((x, y))
            nearest = int(np.argmin(np.hypot(zx - x, zy - y)))
            setting = "urban" if types[nearest] in URBAN_ZONE_TYPES else "rural"
            area = round(float(rng.uniform(*_SITE_AREA_M2[stage])), -1)
            price = float(rng.uniform(*_LAND_PRICE_CNY_M2[setting]))
            if is_short:
                short_rows[stage].append(len(rows))
            rows.append(
                {
                    "county": str(zones["county"].iloc[nearest]),
                    "stage": stage,
                    "setting": setting,
                    "land_area_m2": area,
                    "land_cost_cny": round(area * price, -4),
                    "hazard": False,
                    "synthetic": True,
                    "x": x,
                    "y": y,
                }
            )
    for row in _pick_hazards(rng, short_rows, n_hazard, len(rows)):
        rows[row]["hazard"] = True
    frame = pd.DataFrame(rows, columns=[*CANDIDATE_COLUMNS[2:9], "x", "y"])
    frame.insert(0, "name", [f"合成备选地块 {i + 1:02d} (synthetic)" for i in range(len(frame))])
    frame.insert(0, "site_id", [f"C{i + 1:02d}" for i in range(len(frame))])
    frame["lon"], frame["lat"] = geo.to_lonlat(frame["x"].to_numpy(), frame["y"].to_numpy())
    return _finish(frame.drop(columns=["x", "y"]), boundary, "site_id")


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


class _Geo:
    """The boundary in metres, and transforms between its lon/lat and metres."""

    def __init__(self, boundary: BaseGeometry, crs_metric: str | None) -> None:
        if boundary.is_empty or boundary.geom_type not in {"Polygon", "MultiPolygon"}:
            kind = boundary.geom_type
            raise ValueError(f"boundary must be a non-empty (Multi)Polygon, got {kind}")
        if crs_metric is None:
            crs_metric = _utm_for(boundary)
        self._fwd = Transformer.from_crs("EPSG:4326", CRS(crs_metric), always_xy=True)
        self._inv = Transformer.from_crs(CRS(crs_metric), "EPSG:4326", always_xy=True)
        metric = shapely.transform(boundary, self._forward_xy)
        self.inner: BaseGeometry = metric.buffer(-_INNER_MARGIN_M)
        if self.inner.is_empty:
            raise ValueError("boundary is too small to place points in")
        shapely.prepare(self.inner)

    def _forward_xy(self, xy: np.ndarray) -> np.ndarray:
        x, y = self._fwd.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def to_metric(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lon/lat (degrees) to metric x/y (metres)."""
        x, y = self._fwd.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    def point_to_metric(self, lon: float, lat: float) -> _Coord:
        """One lon/lat (degrees) to metric x/y (metres)."""
        x, y = self._fwd.transform(lon, lat)
        return float(x), float(y)

    def to_lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Metric x/y (metres) to lon/lat (degrees), rounded to 6 decimals."""
        lon, lat = self._inv.transform(np.asarray(x, float), np.asarray(y, float))
        return np.round(np.asarray(lon, float), 6), np.round(np.asarray(lat, float), 6)


def _utm_for(boundary: BaseGeometry) -> str:
    """EPSG code of the UTM zone that holds the boundary's centroid."""
    c = boundary.centroid
    zone = int((c.x + 180.0) // 6.0) + 1
    return f"EPSG:{32600 + zone if c.y >= 0 else 32700 + zone}"


def _pole(inner: BaseGeometry) -> _Coord:
    """Pole of inaccessibility of the largest part of ``inner`` (metres)."""
    parts = list(getattr(inner, "geoms", [inner]))
    largest = max(parts, key=lambda p: p.area)
    radius = shapely.maximum_inscribed_circle(largest, tolerance=10.0)
    x, y = shapely.get_coordinates(radius)[0]
    return float(x), float(y)


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


def _far_enough(x: float, y: float, others: Sequence[_Coord], gap: float) -> bool:
    return all((x - ox) ** 2 + (y - oy) ** 2 >= gap * gap for ox, oy in others)


def _ring_point(
    rng: np.random.Generator,
    geo: _Geo,
    centre: _Coord,
    ring: tuple[float, float],
    others: Sequence[_Coord],
    gap: float,
) -> _Coord | None:
    """Draw a point in the ring around ``centre``, inside the boundary, ``gap`` from others.

    The gap is halved after every ``_MAX_TRIES // 5`` failures; None if all tries fail.
    """
    r_min, r_max = ring
    for attempt in range(_MAX_TRIES):
        if attempt and attempt % (_MAX_TRIES // 5) == 0:
            gap /= 2.0
        r = math.sqrt(rng.uniform(r_min * r_min, r_max * r_max))
        a = rng.uniform(0.0, 2.0 * math.pi)
        x, y = centre[0] + r * math.cos(a), centre[1] + r * math.sin(a)
        if shapely.contains_xy(geo.inner, x, y) and _far_enough(x, y, others, gap):
            return x, y
    return None


def _near_point(
    rng: np.random.Generator,
    geo: _Geo,
    centre: _Coord,
    ring: tuple[float, float],
    others: Sequence[_Coord],
    gap: float,
) -> _Coord:
    """Draw a point in the ring around ``centre``, else within twice its outer radius."""
    point = _ring_point(rng, geo, centre, ring, others, gap)
    if point is None:
        point = _ring_point(rng, geo, centre, (0.0, 2.0 * ring[1]), others, gap)
    if point is None:
        raise RuntimeError(f"could not place a point within {2 * ring[1]:.0f} m of {centre}")
    return point


def _zone_point(
    rng: np.random.Generator,
    geo: _Geo,
    centre: _Coord | None,
    ring: tuple[float, float] | None,
    others: Sequence[_Coord],
    *,
    keep_away: Sequence[tuple[_Coord, float]] = (),
) -> _Coord:
    """Draw a zone point in the ring around ``centre`` (or spread out if none), else anywhere."""
    point = None
    if centre is not None and ring is not None:
        point = _ring_point(rng, geo, centre, ring, others, _ZONE_GAP_M)
    else:
        point = _best_candidate(rng, geo.inner, others, min_gap=_ZONE_GAP_M, keep_away=keep_away)
    if point is None:
        point = _best_candidate(rng, geo.inner, others, min_gap=_ZONE_GAP_M / 4)
    if point is None:
        raise RuntimeError("could not place the zones inside the boundary; use fewer zones")
    return point


def _best_candidate(
    rng: np.random.Generator,
    inner: BaseGeometry,
    others: Sequence[_Coord],
    *,
    min_gap: float,
    keep_away: Sequence[tuple[_Coord, float]] = (),
    n_candidates: int = 40,
) -> _Coord | None:
    """Mitchell's best-candidate sampling: of valid random points, the one farthest from others."""
    minx, miny, maxx, maxy = inner.bounds
    best: _Coord | None = None
    best_d = -1.0
    found = 0
    for _ in range(_MAX_TRIES):
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


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers >= 1 proportional to ``weights`` that sum exactly to ``total``."""
    n = len(weights)
    share = (total - n) * weights / weights.sum()
    base = np.floor(share).astype(np.int64)
    left = int(total - n - base.sum())
    order = np.argsort(-(share - base), kind="stable")
    base[order[:left]] += 1
    result: np.ndarray = base + 1
    return result


def _standard_sizes(wanted: np.ndarray, *, target_classes: float) -> np.ndarray:
    """Round wanted classes to multiples of 6 in [6, 36], then steer the total to target."""
    step = _CLASS_STEP
    sizes = np.clip(np.rint(wanted / step) * step, _MIN_CLASSES, _MAX_CLASSES).astype(np.int64)
    steps = round((target_classes - sizes.sum()) / step)
    residual = wanted - sizes
    if steps > 0:
        order = np.argsort(-residual, kind="stable")
        room = sizes[order] < _MAX_CLASSES
    else:
        order = np.argsort(residual, kind="stable")
        room = sizes[order] > _MIN_CLASSES
    for i in order[room][: abs(steps)]:
        sizes[i] += step if steps > 0 else -step
    result: np.ndarray = sizes
    return result


def _pool_small_zones(wanted: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Move the classes of zones too small for a 6-class school to the nearest other zone.

    Repeats, smallest zone first, until every zone left with classes wants at least
    ``_MIN_CLASSES`` or only one zone is left; pooled zones end with 0 classes.
    """
    wanted = np.array(wanted, dtype=float)
    while True:
        active = np.flatnonzero(wanted > 0.0)
        if len(active) < 2:
            return wanted
        small = active[np.argmin(wanted[active])]
        if wanted[small] >= _MIN_CLASSES:
            return wanted
        others = active[active != small]
        nearest = others[np.argmin(np.hypot(x[others] - x[small], y[others] - y[small]))]
        wanted[nearest] += wanted[small]
        wanted[small] = 0.0


def _check_stage(zones: pd.DataFrame, stage: str, class_caps: Mapping[str, int]) -> None:
    if stage not in zones.columns:
        raise ValueError(f"zones has no column of children for stage {stage!r}")
    if stage not in class_caps:
        raise ValueError(f"class_caps has no entry for stage {stage!r}")


def _zone_seats(
    zones: pd.DataFrame,
    schools: pd.DataFrame | None,
    stage: str,
    cap: int,
    geo: _Geo,
    zx: np.ndarray,
    zy: np.ndarray,
) -> np.ndarray:
    """Seats per zone: the seats of the schools nearest to it, or a type-based estimate."""
    demand = zones[stage].to_numpy(float)
    if schools is None:
        factor = np.array([_ZONE_COVERAGE[str(t)] for t in zones["zone_type"]])
        estimate: np.ndarray = demand * np.minimum(factor, 1.0)
        return estimate
    seats = np.zeros(len(zones))
    mine = schools[schools["stage"] == stage]
    if not len(mine):
        return seats
    sx, sy = geo.to_metric(mine["lon"].to_numpy(float), mine["lat"].to_numpy(float))
    nearest = np.argmin(np.hypot(zx[None, :] - sx[:, None], zy[None, :] - sy[:, None]), axis=1)
    np.add.at(seats, nearest, mine["classes"].to_numpy(float) * cap)
    return seats


def _pick_hazards(
    rng: np.random.Generator, short_rows: Mapping[str, list[int]], n_hazard: int, n_rows: int
) -> list[int]:
    """Rows to flag as hazard: taken in turn from each stage's short-zone sites."""
    pools = [list(rows) for rows in short_rows.values()]
    for pool in pools:
        rng.shuffle(pool)
    chosen: list[int] = []
    while len(chosen) < min(n_hazard, n_rows) and any(pools):
        for pool in pools:
            if pool and len(chosen) < n_hazard:
                chosen.append(pool.pop())
    if len(chosen) < min(n_hazard, n_rows):
        rest = [r for r in range(n_rows) if r not in chosen]
        size = min(n_hazard, n_rows) - len(chosen)
        chosen += [int(r) for r in rng.choice(rest, size=size, replace=False)]
    return sorted(chosen)


def _finish(frame: pd.DataFrame, boundary: BaseGeometry, id_column: str) -> gpd.GeoDataFrame:
    """Check every point lies in the boundary, sort by id and add point geometry."""
    frame = frame.sort_values(id_column, kind="stable").reset_index(drop=True)
    lon = frame["lon"].to_numpy(float)
    lat = frame["lat"].to_numpy(float)
    outside = ~shapely.contains_xy(boundary, lon, lat)
    if outside.any():
        bad = ", ".join(str(v) for v in frame.loc[outside, id_column])
        raise RuntimeError(f"generated points outside the boundary: {bad}")
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=None)
