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
SEED = 2002005
STAGES = ("primary", "junior")
#: The 市中心城区 of rule G-12: the two urban districts.
CENTRE = frozenset({"440703", "440704"})


def build(plan: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The school attributes and the roster by file stem (not written).

    ``plan``: the ``schools`` table of a run of ``scenario.yaml`` (``None`` runs the
    siting plan here).
    """
    resolved = load_scenario(HERE / "scenario.yaml")
    policy = rotation_policy(resolved)  # the scenario must import rotation.yaml
    schools = pd.read_csv(DATA / "schools.csv", dtype={"school_id": str, "county": str})
    zones = pd.read_csv(DATA / "zones.csv", dtype={"zone_id": str, "county": str})
    schools = schools[schools["stage"].isin(STAGES)].reset_index(drop=True)
    urban = pd.Series(False, index=schools.index)
    for county, part in schools.groupby("county", sort=True):
        urban[part.index] = urban_from_zones(part, zones[zones["county"].eq(county)])
    attributes = synth_school_flags(schools["school_id"], urban, seed=SEED)
    county_of = schools.set_index("school_id")["county"]
    attributes["centre"] = attributes["school_id"].map(county_of).isin(CENTRE)
    sizes = planned_sizes(resolved, plan).loc[:, ["school_id", "pupils", "classes"]]
    sized = schools.drop(columns="classes").merge(attributes, on="school_id").merge(
        sizes, on="school_id", how="left", validate="one_to_one")
    roster = synth_roster(sized, seed=SEED + 1, first_year=rotation_years(resolved)[0],
                          policy=policy)
    return {"school_attributes": attributes, "teachers": roster}


def _write(frame: pd.DataFrame, path: Path) -> None:
    """CSV with flags as 1/0 (smaller files), UTF-8, LF line endings."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = out[column].astype(int)
    out.to_csv(path, index=False, lineterminator="\n")


def main() -> None:
    """Write the two CSVs."""
    for stem, frame in build().items():
        _write(frame, DATA / f"{stem}.csv")


if __name__ == "__main__":
    main()
