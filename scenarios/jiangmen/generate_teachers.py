"""Regenerate the SYNTHETIC teachers, school flags, research bodies and pairings of Jiangmen.

Run from anywhere::

    python scenarios/jiangmen/generate_teachers.py

It reads ``data/schools.csv`` and ``data/zones.csv`` (themselves synthetic, see
``README.md``), runs the siting plan of ``scenario.yaml`` (without its rotation section;
deterministic for the scenario's seed, about 35 s) and writes, with fixed seeds:

* ``data/school_attributes.csv``: ``school_id, urban, high_quality, weak`` for the primary
  and junior schools (urban: the nearest zone is urban_core, new_district or industrial;
  40 % of urban schools high-quality, 30 % of rural and 15 % of other urban schools weak);
* ``data/teachers.csv``: a roster consistent with the PLAN's enrolment (each school sized
  on the year of ``rotation.years`` in which the plan gives it the most posts, see
  :func:`allocator.rotation_roster.planned_sizes`) by
  :func:`allocator.rotation_roster.synth_roster` with the scenario's rotation policy
  (senders 15–25 % above their posts, the other schools 0–10 % below), plus four
  researchers (教研员, J-15) per county research body;
* ``data/research_bodies.csv``: one county teacher-development centre (教师发展中心) per
  county, placed at the mean position of the county's urban schools (GCJ-02, like the
  other layers);
* ``data/pairings.csv``: county pairings (结对帮扶, J-17) from each east county to a west
  county. The pairs are invented (the document names the three layers of pairing but not
  the pairs).

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
        synth_researchers,
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
        synth_researchers,
        synth_roster,
        synth_school_flags,
        urban_from_zones,
    )

DATA = HERE / "data"
SEED = 4407005
STAGES = ("primary", "junior")
#: SYNTHETIC county pairings, east supporter -> west supported (J-17).
PAIRINGS = (
    ("P1", "440703", "440781"),  # 蓬江 -> 台山
    ("P2", "440705", "440783"),  # 新会 -> 开平
    ("P3", "440704", "440785"),  # 江海 -> 恩平
    ("P4", "440784", "440783"),  # 鹤山 -> 开平
)


def build(plan: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The four tables by file stem (not written).

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
    sizes = planned_sizes(resolved, plan).loc[:, ["school_id", "pupils", "classes"]]
    sized = schools.drop(columns="classes").merge(attributes, on="school_id").merge(
        sizes, on="school_id", how="left", validate="one_to_one")
    roster = synth_roster(sized, seed=SEED + 1, first_year=rotation_years(resolved)[0],
                          policy=policy)
    urban_schools = sized[sized["urban"]]
    centres = urban_schools.groupby("county", sort=True)[["lon", "lat"]].mean().round(6)
    bodies = pd.DataFrame({
        "school_id": [f"{c}-R01" for c in centres.index],
        "name": [f"{c}合成教师发展中心 (synthetic)" for c in centres.index],
        "county": list(centres.index), "lon": centres["lon"].to_numpy(),
        "lat": centres["lat"].to_numpy()})
    researchers = synth_researchers(bodies, seed=SEED + 2)
    teachers = pd.concat([roster, researchers], ignore_index=True)
    teachers = teachers.sort_values("teacher_id", kind="mergesort").reset_index(drop=True)
    pairings = pd.DataFrame([(p, "county", a, b) for p, a, b in PAIRINGS],
                            columns=["pairing_id", "level", "from_id", "to_id"])
    return {"school_attributes": attributes, "teachers": teachers,
            "research_bodies": bodies, "pairings": pairings}


def _write(frame: pd.DataFrame, path: Path) -> None:
    """CSV with flags as 1/0 (smaller files), UTF-8, LF line endings."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == bool:
            out[column] = out[column].astype(int)
    out.to_csv(path, index=False, lineterminator="\n")


def main() -> None:
    """Write the four CSVs."""
    for stem, frame in build().items():
        _write(frame, DATA / f"{stem}.csv")


if __name__ == "__main__":
    main()
