"""Rotation model API: output contract, aggregation round trip, determinism, scale."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from allocator.errors import InputError
from allocator.rotation import RotationInput, RotationPolicy, RotationResult, solve_rotation
from allocator.rotation_report import pupil_weighted_cv
from allocator.rotation_synth import synth_rotation_input
from allocator.solvers import CpSatOptions
from tests.fixtures.rotation.tiny import frames, tiny

ISSUE_COLUMNS = ["year", "teacher_id", "count", "subject", "backbone", "from_school",
                 "from_county", "from_region", "to_school", "to_county", "to_region", "kind",
                 "distance_km"]


def test_tiny_plan_matches_the_hand_check() -> None:
    result = solve_rotation(tiny())
    assert result.info.status == "optimal"
    assert result.info.objective == pytest.approx(8.4)  # README: 6 moves + 48 km x 0.05
    assert result.info.bound == pytest.approx(8.4) and result.info.gap == pytest.approx(0.0)
    assert list(result.rotations.columns) == ISSUE_COLUMNS
    rot = result.rotations
    assert rot["kind"].eq("rotation").all() and rot["count"].eq(1).all()
    assert rot.groupby(["year", "from_school", "to_school"])["count"].sum().to_dict() == {
        (2024, "EU", "ER"): 1, (2024, "WU", "WR"): 1, (2025, "EU", "ER"): 2,
        (2025, "WU", "WR"): 2}
    assert rot["distance_km"].eq(8.0).all()
    assert result.terms == {"shortage_teacher_years": 0.0, "moves": 6.0,
                            "travel_teacher_km": 48.0, "hires": 0.0, "elastic_slack": 0.0,
                            "objective": pytest.approx(8.4)}


def test_staffing_table_and_indicators() -> None:
    staffing = solve_rotation(tiny()).staffing.set_index(["school", "year"])
    er, eu = staffing.loc[("ER", 2024)], staffing.loc[("EU", 2025)]
    assert (er["posts_required"], er["teachers_before"], er["teachers_after"]) == (10, 9, 10)
    assert (er["shortfall_before"], er["shortfall"], er["shortfall_math"]) == (1, 0, 0)
    assert (eu["teachers_before"], eu["teachers_after"]) == (22, 20)
    # EU before: 3 backbone / 380 pupils; ER after 2024: its own backbone + EU-B1.
    assert eu["backbone_per100_before"] == pytest.approx(300 / 380)
    assert er["backbone_per100_after"] == pytest.approx(200 / 190)
    assert er["degree_per100_after"] == pytest.approx(100 / 190)  # EU-B1 holds one


def test_cv_is_pupil_weighted_as_in_the_assessment_example() -> None:
    # Worked example of the 均衡 差异系数 (books per pupil in five primaries, CV 0.52).
    pupils = np.array([45, 37, 89, 76, 55], dtype=float)
    books = np.array([279, 137, 935, 160, 402], dtype=float)
    assert pupil_weighted_cv(books / pupils, pupils) == pytest.approx(0.5156, abs=1e-3)
    assert math.isnan(pupil_weighted_cv(np.array([1.0]), np.array([10.0])))


def test_cv_table_per_county_stage_and_indicator() -> None:
    cv = solve_rotation(tiny()).cv
    row = cv[(cv["county"] == "E") & (cv["year"] == 2024) & (cv["indicator"] == "degree_per100")]
    assert row["threshold"].iloc[0] == 0.5 and row["schools"].iloc[0] == 2
    assert row["cv_after"].iloc[0] < row["cv_before"].iloc[0]  # EU-B1 brings a degree to ER
    undefined = cv[cv["indicator"] == "pe_art_per100"]  # nobody teaches PE or arts
    assert undefined["meets_after"].isna().all()


def _counts_from_roster(teachers: pd.DataFrame) -> pd.DataFrame:
    """The roster as counts by (school, subject, backbone, eligible in 2024)."""
    t = teachers.assign(eligible=teachers["years_at_school"] >= 6,
                        backbone=teachers["backbone"].astype(bool))
    return (t.groupby(["school_id", "subject", "backbone", "eligible"], as_index=False)
            .agg(count=("teacher_id", "size"),
                 degree_above_required=("degree_above_required", "sum")))


def _aggregate(result: RotationResult) -> dict[tuple[object, ...], int]:
    keys = ["year", "kind", "from_school", "to_school", "subject", "backbone"]
    return {tuple(k): int(n) for k, n in result.rotations.groupby(keys)["count"].sum().items()}


def test_counts_and_roster_give_the_same_aggregated_plan() -> None:
    base = frames()
    policy = RotationPolicy(years=(2024,))
    named = solve_rotation(tiny(years=(2024,)))
    counts = solve_rotation(RotationInput(
        schools=base["schools"], enrolment=base["enrolment"],
        teacher_counts=_counts_from_roster(base["teachers"]), policy=policy))
    assert counts.info.objective == pytest.approx(named.info.objective)
    assert _aggregate(counts) == _aggregate(named)
    assert counts.rotations["teacher_id"].isna().all()
    assert named.rotations["teacher_id"].notna().all()
    pd.testing.assert_frame_equal(counts.staffing, named.staffing)


def test_disaggregation_round_trip_and_order() -> None:
    named = solve_rotation(tiny())
    grouped = solve_rotation(tiny(extra={"disaggregate": False}))
    assert _aggregate(grouped) == _aggregate(named)
    assert grouped.rotations["teacher_id"].isna().all()
    # Longest-serving eligible first, teachers who have not rotated yet before the others.
    eu = named.rotations[named.rotations["from_school"].eq("EU")]
    assert eu.loc[eu["year"].eq(2024), "teacher_id"].tolist() == ["EU-B1"]
    assert sorted(eu.loc[eu["year"].eq(2025), "teacher_id"]) in (
        ["EU-B2", "EU-T01"], ["EU-B1", "EU-B2"])


def test_year_decomposition_is_exact() -> None:
    data = synth_rotation_input(n_schools=12, n_years=3, seed=4)
    options = CpSatOptions(relative_gap=0.0)
    split = solve_rotation(data, options=options)
    joint = solve_rotation(data, options=options, decompose=False)
    assert split.info.status == joint.info.status == "optimal"
    assert "year models" in split.info.message and "year models" not in joint.info.message
    assert split.info.objective == pytest.approx(joint.info.objective)
    parallel = solve_rotation(data, options=options, year_workers=2)
    assert parallel.info.objective == pytest.approx(split.info.objective)
    pd.testing.assert_frame_equal(parallel.rotations, split.rotations)


def test_transfers_are_permanent_and_solved_jointly() -> None:
    result = solve_rotation(tiny(allow_transfers=True, rules_off=frozenset({"D-19"})))
    assert result.info.status == "optimal" and "year models" not in result.info.message
    rot = result.rotations
    assert rot[["year", "kind", "from_school", "to_school"]].values.tolist() == [
        [2024, "transfer", "EU", "ER"], [2024, "transfer", "WU", "WR"]]
    assert not rot["backbone"].any()  # J-08 on home posts keeps EU's 3 backbone
    staffing = result.staffing.set_index(["school", "year"])
    assert staffing.loc[("ER", 2025), "teachers_after"] == 10
    assert staffing.loc[("EU", 2025), "teachers_after"] == 21


def test_solves_are_deterministic() -> None:
    data = synth_rotation_input(n_schools=20, n_years=2, seed=3)
    options = CpSatOptions(relative_gap=1e-3)
    first, second = solve_rotation(data, options=options), solve_rotation(data, options=options)
    assert first.info.status == "optimal" and len(first.rotations) > 100
    for name in ("rotations", "staffing", "cv", "rules"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    assert first.info.objective == second.info.objective


def test_infeasible_run_returns_empty_frames_without_raising() -> None:
    result = solve_rotation(tiny(max_distance_km=1.0))
    assert result.info.status == "infeasible" and not result.info.has_solution
    assert list(result.rotations.columns) == ISSUE_COLUMNS and result.rotations.empty
    assert result.slacks.empty and result.terms == {}


def test_input_problems_are_reported_together() -> None:
    base = frames()
    schools = base["schools"].copy()
    schools.loc[0, "stage"] = "college"
    teachers = base["teachers"].copy()
    teachers.loc[0, "school_id"] = "NOWHERE"
    teachers.loc[1, "years_at_school"] = -2
    with pytest.raises(InputError) as error:
        solve_rotation(tiny(schools=schools, teachers=teachers))
    text = str(error.value)
    assert "unknown stage" in text and "years_at_school" in text and "not in schools" in text
    assert len(error.value.problems) >= 3


def test_moderate_random_instance_is_fast_and_keeps_every_rule() -> None:
    data = synth_rotation_input(n_schools=50, n_years=5, seed=1)
    start = time.perf_counter()
    result = solve_rotation(data, options=CpSatOptions(time_limit_s=30, relative_gap=0.01))
    seconds = time.perf_counter() - start
    assert result.info.status == "optimal" and result.info.gap is not None
    assert result.info.gap <= 0.01
    assert seconds < 20  # about 4 s on the 2-core reference machine
    assert result.rules["violation"].sum() == 0 or set(
        result.rules.loc[result.rules["violation"] > 0, "rule_id"]) == {"J-08"}
    rot = result.rotations
    west_to_east = rot[rot["from_region"].eq("west") & rot["to_region"].eq("east")]
    assert west_to_east.empty  # J-10
    pairing = result.rules[result.rules["rule_id"].eq("J-18")]
    assert len(pairing) and (pairing["actual"] >= 1).all()  # J-18 east -> west exchanges
    d19 = result.rules[result.rules["rule_id"].eq("D-19")]
    assert (d19["actual"] >= d19["required"]).all()
