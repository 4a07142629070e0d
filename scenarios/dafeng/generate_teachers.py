"""Regenerate the SYNTHETIC teachers and school flags of the Dafeng scenario.

Run from anywhere::

    python scenarios/dafeng/generate_teachers.py

It reads ``data/schools.csv`` and ``data/zones.csv`` (themselves synthetic, see
``README.md``), runs the siting plan of ``scenario.yaml`` (without its rotation section;
deterministic for the scenario's seed, about 10 s) and writes, with fixed seeds:

* ``data/school_attributes.csv``: ``school_id, urban, high_quality, weak`` for the primary
  and junior schools. ``urban``: the school's nearest zone is urban_core, new_district or
  industrial; 40 % of urban schools are high-quality (优质学校); 30 % of rural and 15 % of
  other urban schools are weak (薄弱学校).
* ``data/teachers.csv``: a roster consistent with the PLAN's enrolment: each school is
  sized on the year of the rotation horizon (``rotation.years``, 2025–2029; a year
  between two plan periods holds the earlier one) in which the plan gives it the most
  posts (:func:`allocator.rotation_roster.planned_sizes`), by
  :func:`allocator.rotation_roster.synth_roster` with the scenario's rotation policy:
  D-19 senders (urban or high-quality) staffed 15–25 % above those posts and never below
  the headcount that lets them lend 10 % of all their teachers and keep their posts
  (J-27), the other schools 0–10 % below.

The output is byte-identical on every run; ``tests/test_rotation_pipeline.py`` checks that
the committed files match a fresh run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
try:
    from allocator.layering import load_scenario
    from allocator.rotation_pipeline import rotation_years
    from allocator.rotation_roster import (
        planned_sizes,
        rotation_policy,
        synth_roster,
        synth_school_flags,
        urban_from_zones,
    )
except ModuleNotFoundError:  # run from a checkout without installing the package
    sys.path.insert(0, str(HERE.parents[1]))
    from allocator.layering import load_scenario
    from allocator.rotation_pipeline import rotation_years
    from allocator.rotation_roster import (
        planned_sizes,
        rotation_policy,
        synth_roster,
        synth_school_flags,
        urban_from_zones,
    )

DATA = HERE / "data"
SEED = 3209045
STAGES = ("primary", "junior")


def build(plan: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The school attributes and the roster (not written).

    ``plan``: the ``schools`` table of a run of ``scenario.yaml`` (``None`` runs the
    siting plan here).
    """
    resolved = load_scenario(HERE / "scenario.yaml")
    policy = rotation_policy(resolved)  # the scenario must import rotation.yaml
    schools = pd.read_csv(DATA / "schools.csv", dtype={"school_id": str, "county": str})
    zones = pd.read_csv(DATA / "zones.csv", dtype={"zone_id": str, "county": str})
    schools = schools[schools["stage"].isin(STAGES)].reset_index(drop=True)
    urban = urban_from_zones(schools, zones)
    attributes = synth_school_flags(schools["school_id"], urban, seed=SEED)
    sizes = planned_sizes(resolved, plan).loc[:, ["school_id", "pupils", "classes"]]
    sized = schools.drop(columns="classes").merge(attributes, on="school_id").merge(
        sizes, on="school_id", how="left", validate="one_to_one")
    roster = synth_roster(sized, seed=SEED + 1, first_year=rotation_years(resolved)[0],
                          policy=policy)
    return attributes, roster


def _write(frame: pd.DataFrame, path: Path) -> None:
    """CSV with flags as 1/0 (smaller files), UTF-8, LF line endings."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = out[column].astype(int)
    out.to_csv(path, index=False, lineterminator="\n")


def main() -> None:
    """Write the two CSVs."""
    attributes, roster = build()
    _write(attributes, DATA / "school_attributes.csv")
    _write(roster, DATA / "teachers.csv")


if __name__ == "__main__":
    main()
