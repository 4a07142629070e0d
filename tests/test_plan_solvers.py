"""HiGHS, CBC and the OR-Tools path (SCIP through MathOpt) agree on the plan fixtures, and
the model scales to a Jiangmen-sized instance."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import pytest

from allocator.plan import (
    CountTarget,
    PlanInput,
    PlanRules,
    SeatTarget,
    build_plan_model,
    solve_plan,
)
from allocator.solvers import Backend, SolverOptions
from tests.plan_fixtures import J, M, P, base_caps, base_input
from tests.plan_scale import jiangmen_like_input
from tests.test_plan_model import solve
from tests.test_plan_rules import d10_input

# variant name -> (input, objective of the last phase, hand-checked in test_plan_rules.py)
VARIANTS: dict[str, tuple[Callable[[], PlanInput], float | None]] = {
    "base": (base_input, 92.44),
    "weighted": (lambda: base_input(lexicographic=False), 60e6 + 92.44),
    "D-13 falling cap": (lambda: base_input(caps=base_caps(primary_2030=40.0)), 100.68),
    "N-05": (lambda: base_input(PlanRules(max_classes_by_stage={P: 11})), 107.58),
    "N-01 carry-over": (lambda: base_input(PlanRules(
        budget_by_period={2025: 65 * M, 2030: 5 * M}, carry_over=True)), 92.49),
    "N-02": (lambda: base_input(PlanRules(projects_by_period={2025: 1, 2030: 1})), 92.49),
    "J-04": (lambda: base_input(PlanRules(
        seat_targets=(SeatTarget("J-04", (P, J), 2030, 1000.0),))), None),
    "D-06": (lambda: base_input(PlanRules(count_targets=(CountTarget("D-06", P, 2030, 2),))),
             107.58),
    "D-10": (lambda: d10_input(PlanRules(allow_closures=True, budget_by_period={2025: 0.0})),
             2.0),
    "elastic J-04": (lambda: base_input(PlanRules(
        elastic=True, seat_targets=(SeatTarget("J-04", (P, J), 2030, 1100.0),))), None),
}


def test_falling_cap_objective_by_hand() -> None:
    """D-13 falling cap (test_plan_rules): 76 M and travel 2025 P 700,000 + J 450,000,
    2030 P 460·1000 + 240·1200 + 40·2000 = 828,000, J 490,000: 2,468,000 child·m; objective
    76 + 24.68 = 100.68."""
    result = solve(VARIANTS["D-13 falling cap"][0]())
    assert result.terms["travel_child_m"] == pytest.approx(2_468_000, abs=0.1)
    assert result.info.objective == pytest.approx(100.68, abs=1e-4)


@pytest.mark.parametrize("backend", ["cbc", "ortools"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_backends_agree(variant: str, backend: Backend) -> None:
    make, expected = VARIANTS[variant]
    # mip_gap 0: the OR-Tools backend hands SCIP the objective constant (1e6 per out-of-reach
    # child in weighted mode), so a relative gap would be measured on 6e7, not on cost+travel
    exact = make()
    highs = solve(exact)
    assert highs.info.objective is not None
    other = solve_plan(exact, SolverOptions(backend=backend, mip_gap=0.0, time_limit_s=60))
    assert highs.info.status == other.info.status == "optimal"
    if expected is not None:
        assert highs.info.objective == pytest.approx(expected, abs=1e-4)
    assert other.info.objective == pytest.approx(highs.info.objective, rel=1e-7, abs=1e-4)
    tol = 1e-4
    for term in ("unmet_children", "capital_cost_cny", "elastic_slack"):
        assert other.terms[term] == pytest.approx(highs.terms[term], rel=1e-7, abs=tol)
    assert [p.objective for p in other.phases] == pytest.approx(
        [p.objective for p in highs.phases], rel=1e-7, abs=tol)


@pytest.mark.parametrize("backend", ["cbc", "ortools"])
def test_backends_agree_on_infeasible(backend: str) -> None:
    result = solve(base_input(PlanRules(count_targets=(CountTarget("D-06", J, 2030, 2),))),
                   backend)
    assert result.info.status == "infeasible"


@pytest.mark.slow
def test_jiangmen_sized_model_builds_fast_and_keeps_incumbent() -> None:
    """149 zones, 982 schools, 160 sites, 2 stages, 4 periods (tests/plan_scale.py): the model
    builds in seconds, and a run stopped by its time limit returns the warm-started
    incumbent with a bound and a gap."""
    data = jiangmen_like_input()
    start = time.perf_counter()
    problem, v = build_plan_model(data)
    seconds = time.perf_counter() - start
    assert (len(v.open), len(v.modules), len(v.assign)) == (2988, 3724, 16216)
    assert problem.numConstraints() == 10607
    assert seconds < 20
    data = dataclasses.replace(data, lexicographic=False, warm_start=True)
    result = solve_plan(data, SolverOptions(time_limit_s=3))
    assert result.info.has_solution
    assert result.info.bound is not None and result.info.gap is not None
    assert result.info.bound <= result.info.objective + 1e-6  # type: ignore[operator]
    assert not result.opened.empty
    assert len(result.unmet) == len(data.demand)
