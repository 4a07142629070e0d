"""Regenerate the SYNTHETIC teachers and school flags of the generic-plan scenario.

Run from anywhere::

    python scenarios/generic-plan/generate_teachers.py

It reads ``data/schools.csv`` and ``data/zones.csv`` (themselves synthetic, see
``README.md``), runs the siting plan of ``scenario.yaml`` (without its rotation section;
deterministic for the scenario's seed, about a minute) and writes, with fixed seeds:

* ``data/school_attributes.csv``: ``school_id, urban, high_quality, weak, centre`` for the
  primary and junior schools. ``urban``: the school's nearest zone of its county is
  urban_core, new_district or industrial; 40 % of urban schools are high-quality, 30 % of
  rural and 15 % of other urban schools weak (:func:`allocator.rotation_roster.
  synth_school_flags`); ``centre`` (rule G-12): the school lies in 蓬江区 or 江海区.
* ``data/teachers.csv``: a roster consistent with the PLAN's enrolment
  (:func:`allocator.rotation_roster.planned_sizes`, :func:`allocator.rotation_roster.
  synth_roster`): senders 15–25 % above their posts, the other schools 0–10 % below; 5 %
  of the backbone teachers not needed for the D-19 backbone quota hold a talent
  designation of the last five years (G-11).

The output is byte-identical on every run; ``tests/test_generic_plan.py`` checks that the
committed files match a fresh run (marked slow).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

try:
    from allocator import scenario_synth as shared
except ModuleNotFoundError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from allocator import scenario_synth as shared

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEED = 2002005
#: The 市中心城区 of rule G-12: the two urban districts.
CENTRE = frozenset({"440703", "440704"})


def build(plan: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The school attributes and the roster by file stem (not written).

    ``plan``: the ``schools`` table of a run of ``scenario.yaml`` (``None`` runs the
    siting plan here).
    """
    made = shared.scenario_roster(HERE, plan, seed=SEED, flags=_centre)
    return {"school_attributes": made.attributes, "teachers": made.roster}


def _centre(attributes: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Add ``centre`` (G-12): the school lies in a county of ``CENTRE``."""
    county_of = schools.set_index("school_id")["county"]
    return attributes.assign(centre=attributes["school_id"].map(county_of).isin(CENTRE))


#: CSV with flags as 1/0 (smaller files), UTF-8, LF line endings.
_write = shared.write_flags_csv


def main() -> None:
    """Write the two CSVs."""
    for stem, frame in build().items():
        _write(frame, DATA / f"{stem}.csv")


if __name__ == "__main__":
    main()
