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

try:
    from allocator import scenario_synth as shared
except ModuleNotFoundError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from allocator import scenario_synth as shared

from allocator.rotation_roster import synth_researchers

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEED = 4407005
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
    attributes, sized, roster = shared.scenario_roster(HERE, plan, seed=SEED)
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


#: CSV with flags as 1/0 (smaller files), UTF-8, LF line endings.
_write = shared.write_flags_csv


def main() -> None:
    """Write the four CSVs."""
    for stem, frame in build().items():
        _write(frame, DATA / f"{stem}.csv")


if __name__ == "__main__":
    main()
