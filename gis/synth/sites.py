"""Synthetic candidate sites for new schools, placed mostly where seats are short."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from gis.synth._geo import Coord, Geo, check_stage, finish, near_point
from gis.synth.common import (
    CANDIDATE_COLUMNS,
    DEFAULT_CLASS_CAPS,
    DEFAULT_SCHOOL_SIZES,
    DEFAULT_STAGES,
    URBAN_ZONE_TYPES,
    school_size,
)
from gis.synth.schools import ZONE_COVERAGE

__all__ = ["synth_candidate_sites"]

_SITE_RING_M: Final = (500.0, 2_500.0)
_SITE_GAP_M: Final = 400.0
# Site land area (m2) by stage, and land price (CNY per m2) by setting. Illustrative.
_SITE_AREA_M2: Final[Mapping[str, tuple[float, float]]] = MappingProxyType(
    {
        "kindergarten": (3_000.0, 8_000.0),
        "primary": (15_000.0, 40_000.0),
        "junior": (20_000.0, 60_000.0),
        "senior": (40_000.0, 100_000.0),
    }
)
_LAND_PRICE_CNY_M2: Final[Mapping[str, tuple[float, float]]] = MappingProxyType(
    {"urban": (1_500.0, 3_000.0), "rural": (300.0, 800.0)}
)


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
    school_sizes: Mapping[str, tuple[int, int, int]] = DEFAULT_SCHOOL_SIZES,
    crs_metric: str | None = None,
) -> gpd.GeoDataFrame:
    """Synthetic candidate sites for new schools, mostly where seats are short.

    For each stage, about three quarters of the sites go one by one to the zone with
    the largest remaining shortfall (drawn with probability proportional to it; each
    site then counts as one school of the largest size, e.g. 36 classes, against that
    shortfall), and the rest to other zones drawn in proportion to their children.
    Sites are placed 0.5-2.5 km from their zone point and at least 400 m from every
    school and other site. ``n_hazard`` sites in short zones (spread over the stages)
    are flagged ``hazard=True``, standing for a parcel on a flagged hazard area that a
    siting rule must exclude.

    Parameters
    ----------
    zones
        Output of :func:`gis.synth.synth_zones`.
    boundary
        The boundary the zones were drawn in (longitude/latitude, degrees).
    seed
        Seed for ``numpy.random.default_rng``.
    stages
        Stages to generate sites for.
    n_per_stage
        Number of sites per stage, for all stages or per stage.
    schools
        Output of :func:`gis.synth.synth_schools`. When given, a zone's shortfall is its
        children minus the seats of the schools nearest to it; otherwise it is
        estimated from the zone type.
    class_caps
        Pupils per class by stage, to turn classes into seats.
    n_hazard
        Number of sites flagged ``hazard=True``.
    school_sizes
        ``(step, smallest, largest)`` school size in classes, by stage; a site counts as
        ``largest`` classes against a zone's shortfall.
    crs_metric
        Projected CRS used to measure metres; default: the UTM zone of the centroid.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site, sorted by ``site_id`` (by stage, then placement order),
        columns :data:`gis.synth.CANDIDATE_COLUMNS` plus a point ``geometry`` (no CRS;
        same longitude/latitude as ``boundary``). ``setting`` is ``"urban"`` when the
        nearest zone is urban_core, new_district or industrial, else ``"rural"``;
        ``land_area_m2`` is square metres (kindergarten 3,000-8,000, primary
        15,000-40,000, junior 20,000-60,000, senior 40,000-100,000) and
        ``land_cost_cny`` is yuan (illustrative land prices, urban 1,500-3,000 and rural
        300-800 CNY/m2).

    Raises
    ------
    ValueError
        If a stage has no children column, no class cap or no site area range, or a
        count is negative.
    """
    if n_hazard < 0:
        raise ValueError(f"n_hazard must be >= 0, got {n_hazard}")
    rng = np.random.default_rng(seed)
    geo = Geo(boundary, crs_metric)
    zx, zy = geo.to_metric(zones["lon"].to_numpy(float), zones["lat"].to_numpy(float))
    types = [str(t) for t in zones["zone_type"]]
    placed: list[Coord] = []
    if schools is not None and len(schools):
        sx, sy = geo.to_metric(schools["lon"].to_numpy(float), schools["lat"].to_numpy(float))
        placed = [(float(a), float(b)) for a, b in zip(sx, sy, strict=True)]
    rows: list[dict[str, object]] = []
    short_rows: dict[str, list[int]] = {}
    for stage in stages:
        check_stage(zones, stage, class_caps)
        if stage not in _SITE_AREA_M2:
            raise ValueError(f"no land area range for candidate sites of stage {stage!r}")
        cap = int(class_caps[stage])
        largest = school_size(stage, school_sizes)[2]
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
                remaining[z] = max(0.0, remaining[z] - largest * cap)
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
            x, y = near_point(
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
    return finish(frame.drop(columns=["x", "y"]), boundary, "site_id")


def _zone_seats(
    zones: pd.DataFrame,
    schools: pd.DataFrame | None,
    stage: str,
    cap: int,
    geo: Geo,
    zx: np.ndarray,
    zy: np.ndarray,
) -> np.ndarray:
    """Seats per zone: the seats of the schools nearest to it, or a type-based estimate."""
    demand = zones[stage].to_numpy(float)
    if schools is None:
        factor = np.array([ZONE_COVERAGE[str(t)] for t in zones["zone_type"]])
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
