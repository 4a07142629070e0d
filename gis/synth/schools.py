"""Synthetic existing public schools near synthetic zones, with an uneven seat supply."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from gis.synth._geo import Coord, Geo, check_stage, finish, near_point
from gis.synth.common import (
    DEFAULT_CLASS_CAPS,
    DEFAULT_SCHOOL_SIZES,
    DEFAULT_STAGES,
    SCHOOL_COLUMNS,
    STAGE_NAMES,
    school_size,
)

__all__ = ["synth_schools"]

# Existing seats as a share of demand, before rescaling to the requested coverage:
# fast-growing urban zones are short, rural zones have spare seats.
ZONE_COVERAGE: Final[Mapping[str, float]] = MappingProxyType(
    {"urban_core": 0.80, "new_district": 0.68, "industrial": 0.85, "town": 0.97, "rural": 1.12}
)
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
# Room left on the school's land, in size steps (one value drawn per school; a step is
# 6 classes for primary and junior schools, 3 for kindergartens).
_EXPANSION_STEPS: Final[Mapping[str, tuple[int, ...]]] = MappingProxyType(
    {
        "urban_core": (0, 0, 1),
        "new_district": (1, 2),
        "industrial": (1,),
        "town": (0, 1),
        "rural": (0, 0, 1),
    }
)
_SCHOOL_GAP_M: Final = 400.0


def synth_schools(
    zones: gpd.GeoDataFrame,
    *,
    boundary: BaseGeometry,
    seed: int,
    stages: Sequence[str] = DEFAULT_STAGES,
    class_caps: Mapping[str, int] = DEFAULT_CLASS_CAPS,
    coverage: float | Mapping[str, float] = 0.88,
    school_sizes: Mapping[str, tuple[int, int, int]] = DEFAULT_SCHOOL_SIZES,
    crs_metric: str | None = None,
) -> gpd.GeoDataFrame:
    """Synthetic existing public schools near the zones, with an overall seat shortfall.

    For each stage, every zone is given seats in proportion to its children, scaled by
    a zone-type factor (new districts and the urban core short, towns about even, rural
    zones with spare seats) and rescaled so that total seats are close to ``coverage``
    times total demand. A zone's classes are split into as few schools as the largest
    school size allows (a zone too small for the smallest school has none: its children
    are counted with the nearest zone); each school has a standard size (by default a
    multiple of 6 classes, 6 to 36; kindergartens a multiple of 3, 3 to 12), and a final
    pass adds or removes size steps to bring the total seats as close to the target as
    possible. Schools are placed 0.3-2.5 km from their zone point (closer in the urban
    core), at least 400 m from one another.

    Parameters
    ----------
    zones
        Output of :func:`gis.synth.synth_zones` (needs ``zone_type`` from
        :data:`gis.synth.ZONE_TYPES`, ``county``, ``lon``, ``lat`` and one column of
        children per stage).
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
        all stages or per stage. Seats come as close to it as the size steps and the
        size limits allow.
    school_sizes
        ``(step, smallest, largest)`` school size in classes, by stage; see
        :data:`gis.synth.DEFAULT_SCHOOL_SIZES`.
    crs_metric
        Projected CRS used to measure metres; default: the UTM zone of the centroid.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per school, sorted by ``school_id`` (by stage in the order of
        ``stages``, then by zone), columns :data:`gis.synth.SCHOOL_COLUMNS` plus a point
        ``geometry`` (no CRS; same longitude/latitude as ``boundary``). ``classes`` and
        ``max_classes`` (the most classes the school's land allows, never below
        ``classes``) are integers.

    Raises
    ------
    ValueError
        If a stage has no children column, no class cap, a bad school size, or coverage
        outside (0, 2].
    """
    rng = np.random.default_rng(seed)
    geo = Geo(boundary, crs_metric)
    zx, zy = geo.to_metric(zones["lon"].to_numpy(float), zones["lat"].to_numpy(float))
    types = [str(t) for t in zones["zone_type"]]
    rows: list[dict[str, object]] = []
    placed: list[Coord] = []
    for stage in stages:
        check_stage(zones, stage, class_caps)
        cap = int(class_caps[stage])
        step, smallest, largest = school_size(stage, school_sizes)
        cover = float(coverage[stage] if isinstance(coverage, Mapping) else coverage)
        if not 0.0 < cover <= 2.0:
            raise ValueError(f"coverage for {stage} must be in (0, 2], got {cover}")
        demand = zones[stage].to_numpy(float)
        factor = np.array([ZONE_COVERAGE[t] for t in types])
        factor *= 1.0 + rng.normal(0.0, 0.03, size=len(types))
        target = float(cover * demand.sum())
        weighted = factor * demand
        wanted_classes = weighted * (target / weighted.sum()) / cap if weighted.sum() else weighted
        wanted_classes = _pool_small_zones(wanted_classes, zx, zy, smallest=smallest)
        zone_of: list[int] = []
        wanted: list[float] = []
        for z, classes in enumerate(wanted_classes):
            if classes <= 0.0:
                continue
            n = max(1, math.ceil(classes / largest))
            zone_of += [z] * n
            wanted += [classes / n] * n
        sizes = _standard_sizes(
            np.array(wanted), target_classes=target / cap, size=(step, smallest, largest)
        )
        for number, (z, classes) in enumerate(zip(zone_of, sizes, strict=True), start=1):
            kind = types[z]
            x, y = near_point(
                rng, geo, (float(zx[z]), float(zy[z])), _SCHOOL_RING_M[kind], placed, _SCHOOL_GAP_M
            )
            placed.append((x, y))
            extra = int(rng.choice(_EXPANSION_STEPS[kind])) * step
            rows.append(
                {
                    "name": f"合成第{number}{STAGE_NAMES.get(stage, stage)} (synthetic)",
                    "county": str(zones["county"].iloc[z]),
                    "stage": stage,
                    "classes": int(classes),
                    "max_classes": max(int(classes), min(largest, int(classes) + extra)),
                    "ownership": "public",
                    "synthetic": True,
                    "x": x,
                    "y": y,
                }
            )
    frame = pd.DataFrame(rows, columns=[*SCHOOL_COLUMNS[1:8], "x", "y"])
    frame.insert(0, "school_id", [f"S{i + 1:03d}" for i in range(len(frame))])
    frame["lon"], frame["lat"] = geo.to_lonlat(frame["x"].to_numpy(), frame["y"].to_numpy())
    return finish(frame.drop(columns=["x", "y"]), boundary, "school_id")


def _standard_sizes(
    wanted: np.ndarray, *, target_classes: float, size: tuple[int, int, int]
) -> np.ndarray:
    """Round wanted classes to multiples of step in [smallest, largest], then steer to target."""
    step, smallest, largest = size
    sizes = np.clip(np.rint(wanted / step) * step, smallest, largest).astype(np.int64)
    steps = round((target_classes - sizes.sum()) / step)
    residual = wanted - sizes
    if steps > 0:
        order = np.argsort(-residual, kind="stable")
        room = sizes[order] < largest
    else:
        order = np.argsort(residual, kind="stable")
        room = sizes[order] > smallest
    for i in order[room][: abs(steps)]:
        sizes[i] += step if steps > 0 else -step
    result: np.ndarray = sizes
    return result


def _pool_small_zones(
    wanted: np.ndarray, x: np.ndarray, y: np.ndarray, *, smallest: int
) -> np.ndarray:
    """Move the classes of zones too small for the smallest school to the nearest other zone.

    Repeats, smallest zone first, until every zone left with classes wants at least
    ``smallest`` classes or only one zone is left; pooled zones end with 0 classes.
    """
    wanted = np.array(wanted, dtype=float)
    while True:
        active = np.flatnonzero(wanted > 0.0)
        if len(active) < 2:
            return wanted
        small = active[np.argmin(wanted[active])]
        if wanted[small] >= smallest:
            return wanted
        others = active[active != small]
        nearest = others[np.argmin(np.hypot(x[others] - x[small], y[others] - y[small]))]
        wanted[nearest] += wanted[small]
        wanted[small] = 0.0
