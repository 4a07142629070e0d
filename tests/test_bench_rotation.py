"""Smoke test of the rotation benchmark's case builder (bench/rotation_bench.py); no timing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from allocator.rotation_synth import synth_rotation_input

BENCH = Path(__file__).resolve().parent.parent / "bench" / "rotation_bench.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rotation_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_case_builder_hits_the_requested_counts() -> None:
    bench = _bench()
    spec = bench.CaseSpec(schools=40, years=2, teachers=2_000, counties=4)
    data = bench.build_case(spec)
    counts = bench.case_counts(data)
    assert counts["schools"] == 40 and counts["years"] == 2 and counts["counties"] == 4
    assert counts["research_bodies"] == 4 and counts["researchers"] == 12  # 3 per county
    assert abs(counts["teachers"] - 2_000) <= 10  # calibrated to within 0.5 %
    assert counts["east_schools"] + counts["west_schools"] == 40
    assert counts["east_schools"] > 0 and counts["west_schools"] > 0
    assert counts["pairings"] == 2  # C00 -> C02, C01 -> C03
    assert counts["talent"] > 0  # G-11 has teachers to lock
    # The shipped policy defaults, apart from the one size option.
    assert data.policy.rotation_min_share == 0.10 and data.policy.backbone_min_share == 0.20
    assert data.policy.banned_region_pairs == (("west", "east"),)
    assert data.policy.nearest_receivers == 5 and not data.policy.rules_off
    assert sorted(data.enrolment["year"].unique()) == [2025, 2026]


def test_full_spec_is_the_jiangmen_scale_case() -> None:
    spec = _bench().CaseSpec()
    assert (spec.schools, spec.years, spec.teachers, spec.counties) == (700, 5, 40_000, 7)


def test_pupil_scale_one_leaves_the_generator_unchanged() -> None:
    plain = synth_rotation_input(n_schools=8, n_years=2, seed=3)
    scaled = synth_rotation_input(n_schools=8, n_years=2, seed=3, pupil_scale=1.0)
    assert plain.enrolment.equals(scaled.enrolment) and plain.teachers is not None
    assert scaled.teachers is not None and plain.teachers.equals(scaled.teachers)
    bigger = synth_rotation_input(n_schools=8, n_years=2, seed=3, pupil_scale=2.0)
    first = plain.enrolment[plain.enrolment["year"].eq(2024)]["pupils"].to_numpy()
    doubled = bigger.enrolment[bigger.enrolment["year"].eq(2024)]["pupils"].to_numpy()
    assert (doubled == 2 * first).all()  # same draws, each school's pupils doubled
    with pytest.raises(ValueError, match="pupil_scale"):
        synth_rotation_input(n_schools=8, pupil_scale=0.0)
