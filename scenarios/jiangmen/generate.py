"""Regenerate the SYNTHETIC layers of the Jiangmen (江门市, 440700) demonstration scenario.

Run from anywhere::

    python scenarios/jiangmen/generate.py

It reads the real county boundaries ``data/boundaries/<adcode>.geojson`` (GCJ-02
lon/lat) and the census populations and east/west regions in ``data/counties.csv``,
builds synthetic zones, existing schools and candidate sites for the seven counties with
:func:`gis.synth.synth_region` and a fixed seed, and writes ``data/zones.csv``,
``data/schools.csv``, ``data/candidates.csv`` (UTF-8, LF line endings) and
``data/counties.geojson`` (the seven boundaries, unchanged, as one FeatureCollection
for maps). The output is byte-identical on every run; ``tests/gis/test_synth_region.py``
checks that the committed files match.
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

from gis.synth import REGION_STAGES, synth_region

HERE = Path(__file__).resolve().parent
log = logging.getLogger("jiangmen.generate")

DATA = HERE / "data"
SEED: Final = 440700
STAGES: Final = REGION_STAGES  # kindergarten, primary, junior

#: Centre of each county seat, WGS-84 lon/lat in degrees, from the English Wikipedia
#: infoboxes (Jiangmen: "Coordinates (Jiangmen government)" 22°34′44″N 113°04′52″E;
#: Xinhui District 22.5281 N 113.031 E; Taicheng Subdistrict 22.26083 N 112.78111 E;
#: Kaiping, Heshan and Enping: city-centre coordinates to the arc-minute, so good to
#: about 1-2 km). Converted to GCJ-02 with gis.crs.wgs84_to_gcj02 before use. APPROXIMATE:
#: they only anchor the main density centre. Jianghai has no sourced point: its main
#: centre is the pole of inaccessibility of its boundary (synthetic).
SEATS_WGS84: Final[Mapping[str, tuple[float, float]]] = {
    "440703": (113.081, 22.579),
    "440705": (113.031, 22.5281),
    "440781": (112.78111, 22.26083),
    "440783": (112.683, 22.367),
    "440784": (112.950, 22.767),
    "440785": (112.300, 22.183),
}
#: Enping's 0-14 share is 16.73 % (official bulletin no. 4, confirmed) against 17.95 %
#: nationally: its child counts are scaled by 16.73 / 17.95. Other counties: 1.
CHILD_FACTOR: Final[Mapping[str, float]] = {"440785": round(16.73 / 17.95, 4)}


Knobs = shared.CountyKnobs


def _stage(kindergarten: float, primary: float, junior: float) -> dict[str, float]:
    return {"kindergarten": kindergarten, "primary": primary, "junior": junior}


def _sites(kindergarten: int, primary: int, junior: int) -> dict[str, int]:
    return {"kindergarten": kindergarten, "primary": primary, "junior": junior}


#: SYNTHETIC knobs per county: zones, synthetic town centres (Heshan: its real number of
#: towns besides 沙坪街道, 9; the others are illustrative), existing seats as a share of
#: children per stage (east short, Pengjiang and Jianghai most; west spare, as the
#: 2010-2020 census trend suggests), candidate sites per stage, hazard-flagged sites.
KNOBS: Final[Mapping[str, Knobs]] = {
    "440703": Knobs(22, 4, _stage(0.84, 0.83, 0.85), _sites(20, 14, 8), 2),
    "440704": Knobs(15, 2, _stage(0.80, 0.79, 0.82), _sites(12, 10, 6), 2),
    "440705": Knobs(24, 8, _stage(0.93, 0.94, 0.95), _sites(12, 10, 6), 1),
    "440781": Knobs(26, 12, _stage(1.08, 1.12, 1.08), _sites(5, 5, 4), 1),
    "440783": Knobs(22, 10, _stage(1.06, 1.10, 1.06), _sites(5, 5, 4), 1),
    "440784": Knobs(20, 9, _stage(0.93, 0.93, 0.95), _sites(10, 8, 5), 1),
    "440785": Knobs(20, 8, _stage(1.10, 1.14, 1.10), _sites(4, 4, 3), 1),
}


def build_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the synthetic zones, schools and candidate sites (GCJ-02 lon/lat)."""
    specs = shared.county_specs(DATA, KNOBS, SEATS_WGS84, region="region",
                                child_factor=CHILD_FACTOR)
    zones, schools, sites = synth_region(specs, seed=SEED, stages=STAGES)
    return zones, schools, sites


def write_layers(out_dir: Path = DATA) -> list[Path]:
    """Write the three CSVs and ``counties.geojson`` into ``out_dir``."""
    return shared.write_region_layers(
        out_dir, build_layers(), data=DATA,
        properties=("adcode", "name_zh", "name_pinyin", "region"))


def main() -> None:
    """Regenerate the files in ``data/`` and log a one-line summary."""
    shared.regenerate(write_layers, HERE, log)


if __name__ == "__main__":
    main()
