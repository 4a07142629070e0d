"""The multi-period siting model on its hand-checked base fixture (tests/plan_fixtures.py).

Hand calculation of the base optimum (lexicographic mode, default weights):

Phase 1 (unmet). Junior demand exceeds E2's 300 seats in 2025 (350) and 2030 (380); only
C1's nine-year option adds junior seats, so C1 opens "9y" in 2025 (primary 270, junior
300). Primary 2030: 740 reachable children (Z3 is out of reach) against E1 450 + C1 270 =
720, so 20 more seats: one E1 module (2 classes, 90 seats, 8 M) is the cheapest (C2 costs
25 M). Reachable unmet 0; Z3's 30 + 30 = 60 child-periods are unmet whatever is built.

Phase 2 (cost + travel). Capital 60 M + 8 M = 68 M. The module goes in 2025, not 2030:
in 2025 Z1's 460 primary children exceed E1's 450 seats, and with the module none of them
travels 1,500 m to C1 instead of 1,000 m to E1 (5,000 child·m saved; same capital).
Travel (child·m), Z1 prefers E1/E2, Z2 prefers C1 for both stages:

    2025 P: Z1 460 × 1000 + Z2 200 × 1200                 = 700,000
    2025 J: Z1 200 × 1500 + Z2 150 × 1000                 = 450,000
    2030 P: Z1 460 × 1000 + Z2 270 × 1200 + Z2 10 × 2000  = 804,000  (C1 full at 270)
    2030 J: Z1 220 × 1500 + Z2 160 × 1000                 = 490,000
    total                                                  = 2,444,000

Objective = 1e-6 × 68e6 + 1e-5 × 2,444,000 = 68 + 24.44 = 92.44. C2 would save at most
~200,000 child·m (2 units) for 25 M (25 units), so it stays closed.
"""

from __future__ import annotations

import dataclasses
import math
import re

import pandas as pd
import pulp
import pytest

from allocator.plan import (
    PlanInput,
    PlanResult,
    PlanRules,
    PlanWeights,
    build_plan_model,
    solve_plan,
)
from allocator.plan.frames import SCHEMAS
from allocator.plan.greedy import apply_plan, greedy_plan
from allocator.plan.validate import validate
from allocator.solvers import SolverOptions
from tests.plan_fixtures import YEARS, J, M, P, base_caps, base_input, frame, with_rows

OPTIONS = SolverOptions(mip_gap=1e-6, time_limit_s=60)
ASCII_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def solve(data: PlanInput, backend: str = "highs") -> PlanResult:
    return solve_plan(data, dataclasses.replace(OPTIONS, backend=backend))  # type: ignore[arg-type]


def opened(result: PlanResult) -> set[tuple[str, str, int]]:
    return set(result.opened[["site_id", "option_id", "year"]].itertuples(index=False, name=None))


def modules(result: PlanResult) -> dict[tuple[str, str, int], int]:
    cols = ["school_id", "stage", "year", "modules"]
    return {(s, g, t): n for s, g, t, n in result.expansions[cols].itertuples(index=False)}


def flow(result: PlanResult, zone: str, school: str, stage: str, year: int) -> float:
    a = result.assignments
    rows = a[(a.zone_id == zone) & (a.school_id == school) & (a.stage == stage) & (a.year == year)]
    return float(rows["children"].sum())


def assert_base_optimum(result: PlanResult) -> None:
    assert result.info.status == "optimal"
    assert result.info.objective == pytest.approx(92.44, abs=1e-4)
    assert opened(result) == {("C1", "9y", 2025)}
    assert modules(result) == {("E1", P, 2025): 1}
    assert result.terms["capital_cost_cny"] == pytest.approx(68 * M)
    assert result.terms["travel_child_m"] == pytest.approx(2_444_000, abs=0.1)
    assert result.terms["unmet_children"] == pytest.approx(60, abs=1e-4)
    assert flow(result, "Z2", "E1", P, 2030) == pytest.approx(10, abs=1e-4)
    assert flow(result, "Z2", "C1", P, 2030) == pytest.approx(270, abs=1e-4)


# --------------------------------------------------------------------------- base optimum


def test_base_optimum_highs() -> None:
    result = solve(base_input())
    assert_base_optimum(result)
    assert [p.status for p in result.phases] == ["optimal", "optimal"]
    assert result.phases[0].objective == pytest.approx(0.0, abs=1e-6)  # reachable unmet
    # capacity table: E1 primary has 12 classes from 2025 on, C1 only from 2025
    cap = result.capacity.set_index(["school_id", "stage", "year"])
    assert cap.loc[("E1", P, 2030), "classes"] == 12
    assert cap.loc[("E1", P, 2030), "seats"] == 540
    assert cap.loc[("E1", P, 2030), "enrolled"] == pytest.approx(470, abs=1e-4)
    assert cap.loc[("C1", J, 2030), "kind"] == "new"
    spend = result.spend.set_index("year")
    assert spend.loc[2025, "capital_cny"] == 68 * M
    assert spend.loc[2025, "projects"] == 2  # C1 opens, E1 expands
    assert spend.loc[2030, "projects"] == 0
    unmet = result.unmet.set_index(["zone_id", "stage", "year"])
    assert unmet.loc[("Z3", P, 2030), "unmet"] == 30
    assert result.terms["max_unmet_share"] == 1.0


def test_highs_and_cbc_agree() -> None:
    highs, cbc = solve(base_input()), solve(base_input(), "cbc")
    assert_base_optimum(highs)
    assert_base_optimum(cbc)


def test_ortools_agrees() -> None:
    result = solve(base_input(), "ortools")
    assert result.info.solver.startswith("ortools")
    assert_base_optimum(result)


def test_weighted_mode_same_plan() -> None:
    """Weighted: 1e6 × 60 unmet child-periods + 92.44 (the same plan)."""
    result = solve(base_input(lexicographic=False))
    assert result.info.status == "optimal"
    assert result.info.objective == pytest.approx(60e6 + 92.44, abs=1e-3)
    assert opened(result) == {("C1", "9y", 2025)}
    assert modules(result) == {("E1", P, 2025): 1}
    assert len(result.phases) == 1


def test_equity_spreads_unmet_evenly() -> None:
    """Two zones of 100 share one school of 100 seats: the equity term gives 50/50."""
    data = PlanInput(
        periods=(2025,),
        demand=frame([("A", P, 2025, 100.0), ("B", P, 2025, 100.0)], "zone_id stage year children"),
        caps=frame([(P, 2025, 50.0)], "stage year cap"),
        existing=frame([("E", P, 2)], "school_id stage classes"),
        options=frame([], "site_id option_id stage classes cost_cny"),
        pairs=frame([("A", "E", P, 1000.0), ("B", "E", P, 1000.0)],
                    "zone_id school_id stage distance_m"),
        weights=PlanWeights(equity_weight=1.0),
    )
    result = solve(data)
    assert result.terms["unmet_children"] == pytest.approx(100)
    assert result.terms["max_unmet_share"] == pytest.approx(0.5, abs=1e-6)
    assert result.unmet["unmet"].tolist() == pytest.approx([50, 50], abs=1e-6)


# --------------------------------------------------------------------------- status


def test_infeasible_returns_status_not_exception() -> None:
    rules = PlanRules(projects_by_period={2025: 4})  # at most 3 projects exist in 2025
    result = solve(base_input(rules))
    assert result.info.status == "infeasible"
    assert not result.info.has_solution
    for name, schema in SCHEMAS.items():
        table = getattr(result, name)
        assert table.empty and list(table.columns) == list(schema)
    assert result.terms == {}


def test_node_limited_run_keeps_incumbent() -> None:
    """A run stopped by a node limit keeps its incumbent with a bound and a gap."""
    data = base_input(lexicographic=False)
    result = solve_plan(data, SolverOptions(node_limit=1, mip_gap=0.0, time_limit_s=30))
    assert result.info.status in ("optimal", "feasible")
    assert result.info.bound is not None and result.info.gap is not None
    assert not result.opened.empty


# --------------------------------------------------------------------------- model


def test_names_ascii_and_deterministic() -> None:
    data = base_input()
    ids = {"Z1": "城东片区", "E1": "城东小学 1", "C1": "新城 地块"}
    data = dataclasses.replace(
        data,
        demand=data.demand.replace({"zone_id": ids}),
        existing=data.existing.replace({"school_id": ids}),
        options=data.options.replace({"site_id": ids}),
        pairs=data.pairs.replace({"zone_id": ids, "school_id": ids}),
    )
    first, _ = build_plan_model(data)
    second, _ = build_plan_model(data)
    names = [v.name for v in first.variables()] + [c.name for c in first.constraints()]
    assert all(ASCII_NAME.match(n) for n in names)
    assert names == [v.name for v in second.variables()] + [c.name for c in second.constraints()]
    result = solve(data)
    assert result.info.objective == pytest.approx(92.44, abs=1e-4)
    assert set(result.opened["site_id"]) == {"新城 地块"}


def test_sparse_variables() -> None:
    """Assignments only for pairs with demand; C2 has options but nobody else is paired."""
    _, v = build_plan_model(base_input())
    assert len(v.assign) == 9 * 2  # 9 pairs, 2 years, all with demand
    assert len(v.open) == 3 * 2  # 3 options, 2 years
    assert set(v.fixed_unmet) == {("Z3", P, 2025), ("Z3", P, 2030)}
    assert len(v.modules) == 2  # E1 primary in 2025 and 2030; E2 cannot expand


def test_result_frames_sorted_and_typed() -> None:
    result = solve(base_input())
    for name, schema in SCHEMAS.items():
        table = getattr(result, name)
        assert list(table.columns) == list(schema)
    a = result.assignments
    assert a.equals(a.sort_values(["zone_id", "school_id", "stage", "year"]).reset_index(drop=True))


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"caps": base_caps(primary_2030=50.0)}, "rises from 45 in 2025 to 50 in 2030.*Z-18"),
        ({"caps": base_caps().iloc[:3]}, r"caps: no class cap for .*'junior', 2030"),
        ({"caps": base_caps().iloc[:2]}, r"caps: no class cap for .*'junior', 2025"),
        ({"periods": (2030, 2025)}, "strictly increasing"),
        ({"demand": base_input().demand.drop(columns="children")}, "demand: missing column"),
        ({"pairs": with_rows(base_input().pairs, [("Z9", "E1", P, 1.0)])},
         r"pairs: \(zone_id, stage\) not in demand: \('Z9', 'primary'\)"),
        ({"pairs": with_rows(base_input().pairs, [("Z1", "C2", J, 1.0)])},
         r"pairs: \(school_id, stage\) is neither.*\('C2', 'junior'\)"),
        ({"demand": base_input().demand.assign(year=2026)}, "period year"),
        ({"demand": base_input().demand.assign(migrant=1000.0)}, "'migrant' must be <="),
        ({"options": base_input().options.assign(cost_cny=[1.0, 2.0, 3.0, 4.0])},
         "'cost_cny' must be the same on every row of a site option"),
        ({"rules": PlanRules(budget_by_period={2026: 1.0})}, "budget_by_period"),
    ],
)
def test_validation_errors_name_frame_and_rows(change: dict[str, object], message: str) -> None:
    data = dataclasses.replace(base_input(), **change)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        validate(data)


def test_unknown_target_rule_rejected() -> None:
    from allocator.plan import SeatTarget

    rules = PlanRules(seat_targets=(SeatTarget("X-99", (P,), 2030, 1.0),))
    with pytest.raises(ValueError, match=r"X-99.*not in the rule catalogue"):
        validate(base_input(rules))


# --------------------------------------------------------------------------- warm start


def assert_start_feasible(problem: pulp.LpProblem) -> None:
    """Every row, bound and integrality holds at the variables' initial values."""
    for var in problem.variables():
        value = var.value()
        assert value is not None, var.name
        low = -math.inf if var.lowBound is None else var.lowBound
        up = math.inf if var.upBound is None else var.upBound
        assert low - 1e-9 <= value <= up + 1e-9, var.name
        if var.cat == pulp.LpInteger:
            assert value == round(value), var.name
    broken = [c.name for c in problem.constraints() if not c.valid(1e-6)]
    assert broken == []


@pytest.mark.parametrize(
    "rules",
    [
        PlanRules(),
        PlanRules(budget_by_period={2025: 62 * M}, projects_by_period={2025: 1},
                  projects_sense="at_most"),
        PlanRules(budget_by_period={2025: 30 * M, 2030: 40 * M}, carry_over=True,
                  budget_total=70 * M),
        PlanRules(seat_targets=(), elastic=True,
                  count_targets=()),
    ],
)
def test_greedy_start_is_feasible(rules: PlanRules) -> None:
    data = base_input(rules)
    problem, v = build_plan_model(data)
    plan = greedy_plan(validate(data), data, v)
    apply_plan(plan, validate(data), v)
    assert_start_feasible(problem)


def test_greedy_start_on_base_fixture() -> None:
    """Greedy: C2 seats Z2's 200 primary children for 25 M (8.0 per M CNY) before C1's
    nine-year option (260 / 60 M); then 9y seats the rest (10 primary + 50 junior)."""
    data = base_input()
    tables = validate(data)
    _, v = build_plan_model(data)
    plan = greedy_plan(tables, data, v)
    assert plan.opened == {("C2", "P6"): 2025, ("C1", "9y"): 2025}


def test_greedy_elastic_start_sets_violations() -> None:
    """In elastic mode the greedy start is feasible: target slacks take the shortfall."""
    from allocator.plan import CountTarget, SeatTarget

    rules = PlanRules(elastic=True, seat_targets=(SeatTarget("J-04", (P, J), 2030, 1100.0),),
                      count_targets=(CountTarget("D-06", J, 2030, 2),))
    data = base_input(rules)
    tables = validate(data)
    problem, v = build_plan_model(data)
    apply_plan(greedy_plan(tables, data, v), tables, v)
    assert_start_feasible(problem)
    # greedy opens C2 (270) and 9y (570): 840 new seats, 1 junior school
    assert v.elastic["elastic__J_04__2030__primary_junior"].value() == pytest.approx(260)
    assert v.elastic["elastic__D_06__junior__2030__under"].value() == pytest.approx(1)


@pytest.mark.parametrize("backend", ["highs", "cbc", "ortools"])
def test_warm_started_solve_same_optimum(backend: str) -> None:
    result = solve(base_input(warm_start=True), backend)
    assert_base_optimum(result)
    assert "warm start" in result.phases[0].message


def test_frames_empty_match_schema() -> None:
    from allocator.plan.frames import empty_frames

    frames = empty_frames()
    assert isinstance(frames.rule_report, pd.DataFrame)
    assert str(frames.rule_report["year"].dtype) == "Int64"
    assert YEARS == (2025, 2030)
