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

try:
    from allocator import scenario_synth as shared
except ModuleNotFoundError:  # run from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from allocator import scenario_synth as shared

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEED = 3209045


def build(plan: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The school attributes and the roster (not written).

    ``plan``: the ``schools`` table of a run of ``scenario.yaml`` (``None`` runs the
    siting plan here).
    """
    made = shared.scenario_roster(HERE, plan, seed=SEED)
    return made.attributes, made.roster


#: CSV with flags as 1/0 (smaller files), UTF-8, LF line endings.
_write = shared.write_flags_csv


def main() -> None:
    """Write the two CSVs."""
    attributes, roster = build()
    _write(attributes, DATA / "school_attributes.csv")
    _write(roster, DATA / "teachers.csv")


if __name__ == "__main__":
    main()
