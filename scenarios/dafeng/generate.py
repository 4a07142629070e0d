"""Regenerate the SYNTHETIC layers of the Dafeng (大丰区, 320904) demonstration scenario.

Run from anywhere::

    python scenarios/dafeng/generate.py

It reads the real district boundary ``data/320904.geojson`` (GCJ-02 lon/lat), builds
synthetic zones, existing schools and candidate sites with :mod:`gis.synth` and a fixed
seed, and writes ``data/zones.csv``, ``data/schools.csv`` and ``data/candidates.csv``
(UTF-8, LF line endings). The output is byte-identical on every run; the test
``tests/gis/test_synth.py`` checks that the committed CSVs match.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import geopandas as gpd

try:
    from allocator import scenario_synth as shared
except ModuleNotFoundError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from allocator import scenario_synth as shared

from gis.synth import (
    CANDIDATE_COLUMNS,
    SCHOOL_COLUMNS,
    ZONE_COLUMNS,
    synth_candidate_sites,
    synth_schools,
    synth_town_centres,
    synth_zones,
)

HERE = Path(__file__).resolve().parent
log = logging.getLogger("dafeng.generate")

DATA = HERE / "data"
BOUNDARY = DATA / "320904.geojson"
COUNTY = "320904"
#: Resident population, 7th national census (2020). Secondary source: Wikipedia infobox.
POPULATION = 645_603
SEED = 320904
#: Seat of the district government (大中街道), approximate, GCJ-02 lon/lat.
SEAT = (120.47, 33.20)
#: Number of SYNTHETIC town centres (not the real towns' positions).
N_TOWNS = 7
N_ZONES = 26
#: Existing seats as a share of demand, per stage.
COVERAGE = {"primary": 0.87, "junior": 0.89}
N_CANDIDATES = {"primary": 7, "junior": 7}


def build_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the synthetic zones, schools and candidate sites (GCJ-02 lon/lat)."""
    boundary = shared.read_geometry(BOUNDARY)
    centres = synth_town_centres(boundary, seed=SEED, n_towns=N_TOWNS, main=SEAT)
    zones = synth_zones(
        boundary,
        population=POPULATION,
        n_zones=N_ZONES,
        seed=SEED,
        county=COUNTY,
        centres=centres,
    )
    schools = synth_schools(zones, boundary=boundary, seed=SEED + 1, coverage=COVERAGE)
    sites = synth_candidate_sites(
        zones, boundary=boundary, seed=SEED + 2, n_per_stage=N_CANDIDATES, schools=schools
    )
    return zones, schools, sites


def write_layers(out_dir: Path = DATA) -> list[Path]:
    """Write ``zones.csv``, ``schools.csv`` and ``candidates.csv`` into ``out_dir``."""
    zones, schools, sites = build_layers()
    return shared.write_layers(out_dir, (("zones.csv", zones, ZONE_COLUMNS),
                                         ("schools.csv", schools, SCHOOL_COLUMNS),
                                         ("candidates.csv", sites, CANDIDATE_COLUMNS)))


def main() -> None:
    """Regenerate the CSVs in ``data/`` and log a one-line summary."""
    shared.regenerate(write_layers, HERE, log)


if __name__ == "__main__":
    main()
