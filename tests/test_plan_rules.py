"""Each rule of the plan model binds (changes the optimum) and, forced, fails or shows slack.

Fixtures and the base optimum (C1 "9y" and one E1 module in 2025, 68 M CNY, 2,444,000
child·m, objective 92.44) are in tests/plan_fixtures.py and tests/test_plan_model.py.
Forced tests: the plain model reports ``infeasible``; the elastic model reports the exact
slack of the rule that gives. Phase 1 of elastic runs minimises reachable unmet
child-periods + 1,000 × slack (default ``elastic_penalty``).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from allocator.plan import (
    CountTarget,
    PlanInput,
    PlanResult,
    PlanRules,
    PlanWeights,
    SeatTarget,
    build_plan_model,
)
from allocator.rules import registered
from tests.plan_fixtures import J, M, P, base_caps, base_existing, base_input, frame, with_rows
from tests.test_plan_model import flow, modules, opened, solve


def report(result: PlanResult, rule_id: str) -> pd.DataFrame:
    r = result.rule_report
    return r[r.rule_id == rule_id].reset_index(drop=True)


def assert_infeasible_then_elastic(data: PlanInput, rule_id: str, slack: float,
                                   scope: str | None = None) -> PlanResult:
    """Plain: infeasible. Elastic: ``rule_id``'s row (``scope``) gives exactly ``slack``."""
    plain = solve(data)
    assert plain.info.status == "infeasible"
    elastic = solve(dataclasses.replace(data, rules=dataclasses.replace(data.rules, elastic=True)))
    assert elastic.info.status == "optimal"
    rows = report(elastic, rule_id)
    if scope is not None:
        rows = rows[rows.scope == scope]
    assert rows["elastic"].sum() == pytest.approx(slack, abs=1e-5)
    others = elastic.rule_report[elastic.rule_report.rule_id != rule_id]
    assert others["elastic"].sum() == pytest.approx(0, abs=1e-6)
    assert elastic.terms["elastic_slack"] == pytest.approx(slack, abs=1e-5)
    return elastic


def test_every_rule_is_registered_with_a_formula() -> None:
    names = {r.rule_id: r.implementation for r in registered() if ".plan." in r.implementation}
    for rule_id in ("D-13", "Z-18", "N-05", "D-14", "D-10", "J-20", "D-23", "N-01", "N-02",
                    "J-04", "G-03", "N-03", "D-06"):
        assert rule_id in names, rule_id
    seat = [r for r in registered() if r.implementation.endswith("add_seat_targets")]
    assert {r.rule_id for r in seat} == {"J-04", "G-03", "N-03"}
    assert all("cap[g, Y]" in r.formula for r in seat)


# --------------------------------------------------------------------------- D-13 / Z-18


def test_d13_falling_cap_needs_a_second_module() -> None:
    """Primary cap 45 -> 40 in 2030: seats E1 (10 + 2m)·40 + C1 6·40 = 400 + 80m + 240 must
    reach 740, so m = 2 (16 M; one module + C2 would cost 33 M). Capital 76 M."""
    result = solve(base_input(caps=base_caps(primary_2030=40.0)))
    assert result.info.status == "optimal"
    assert sum(modules(result).values()) == 2
    assert result.terms["capital_cost_cny"] == pytest.approx(76 * M)
    cap = result.capacity.set_index(["school_id", "stage", "year"])
    assert tuple(cap.loc[("E1", P, 2030), ["classes", "cap", "seats"]]) == (14, 40.0, 560.0)
    assert result.terms["unmet_children"] == pytest.approx(60, abs=1e-5)


def test_d13_falling_cap_makes_seat_target_infeasible() -> None:
    """900 new primary seats by 2030 at the 2030 cap: at most P12 12 + C2 6 + E1 4 = 22
    classes. At 45 that is 990 (feasible); at 40 it is 880: 20 seats short. (Elastic:
    P12 instead of 9y leaves 50 + 80 junior children unmet but saves 260 seats of slack.)"""
    target = PlanRules(seat_targets=(SeatTarget("J-04", (P,), 2030, 900.0),))
    assert solve(base_input(target)).info.status == "optimal"
    data = base_input(target, caps=base_caps(primary_2030=40.0))
    elastic = assert_infeasible_then_elastic(data, "J-04", 20.0)
    row = report(elastic, "J-04").iloc[0]
    assert (row.lhs, row.sense, row.rhs, row.slack) == (880.0, ">=", 900.0, 0.0)
    assert row.scope == "primary new public seats by 2030"
    assert elastic.terms["unmet_children"] == pytest.approx(60 + 130, abs=1e-4)


# --------------------------------------------------------------------------- N-05 / D-14


def test_n05_stage_size_rejects_large_options_and_expansion() -> None:
    """Primary limit 11 classes: E1 (10) cannot add a 2-class module and P12 is rejected, so
    C2 opens (25 M; in 2025, where it seats Z2 800 m away instead of 1,200 m). 85 M."""
    result = solve(base_input(PlanRules(max_classes_by_stage={P: 11})))
    assert opened(result) == {("C1", "9y", 2025), ("C2", "P6", 2025)}
    assert modules(result) == {}
    assert result.terms["capital_cost_cny"] == pytest.approx(85 * M)
    assert result.terms["travel_child_m"] == pytest.approx(2_258_000, abs=0.1)
    assert result.info.objective == pytest.approx(85 + 22.58, abs=1e-4)


def test_n05_stage_size_rows_report_classes() -> None:
    """Limit 13: E1 may add one module; the N-05 row reads 12 <= 13 classes."""
    result = solve(base_input(PlanRules(max_classes_by_stage={P: 13})))
    row = report(result, "N-05").iloc[0]
    assert (row.scope, row.lhs, row.rhs, row.slack) == ("school E1 primary classes", 12, 13, 1)


def test_n05_forced_by_seat_target() -> None:
    """600 new primary seats by 2030 with limit 11: 9y 6 + C2 6 classes = 540; 60 short."""
    rules = PlanRules(max_classes_by_stage={P: 11},
                      seat_targets=(SeatTarget("N-03", (P,), 2030, 600.0),))
    elastic = assert_infeasible_then_elastic(base_input(rules), "N-03", 60.0)
    assert opened(elastic) == {("C1", "9y", 2025), ("C2", "P6", 2025)}


def test_d14_land_limit_blocks_expansion() -> None:
    """E1 max_classes 10 (land): no module; C2 opens instead, as under N-05: 85 M."""
    result = solve(base_input(existing=base_existing(e1_max=10.0)))
    assert modules(result) == {}
    assert result.terms["capital_cost_cny"] == pytest.approx(85 * M)
    assert len(report(result, "D-14")) == 0  # no module variables, no row


def test_d14_land_limit_forced_by_seat_target() -> None:
    """900 new primary seats by 2030 with E1 capped at 10 classes: P12 + C2 = 18 classes =
    810 seats, 90 short (9y + C2 would be 360 short)."""
    rules = PlanRules(seat_targets=(SeatTarget("G-03", (P,), 2030, 900.0),))
    data = base_input(rules, existing=base_existing(e1_max=10.0))
    elastic = assert_infeasible_then_elastic(data, "G-03", 90.0)
    assert opened(elastic) == {("C1", "P12", 2025), ("C2", "P6", 2025)}


# --------------------------------------------------------------------------- D-10


def d10_input(rules: PlanRules, closure_year: float = float("nan")) -> PlanInput:
    """Z1: 100 primary children in 2025 and 2030. E3: 3 classes (135 seats), closable, worth
    30 M closed. C2: 6 classes for 20 M. Both 1,000 m from Z1; one catchment."""
    return PlanInput(
        periods=(2025, 2030),
        demand=frame([("Z1", P, 2025, 100.0), ("Z1", P, 2030, 100.0)],
                     "zone_id stage year children"),
        caps=frame([(P, 2025, 45.0), (P, 2030, 45.0)], "stage year cap"),
        existing=frame([("E3", P, 3, True, 30 * M, closure_year)],
                       "school_id stage classes closable closure_value_cny closure_year"),
        options=frame([("C2", "P6", P, 6, 20 * M)], "site_id option_id stage classes cost_cny"),
        pairs=frame([("Z1", "E3", P, 1000.0), ("Z1", "C2", P, 1000.0)],
                    "zone_id school_id stage distance_m"),
        catchment=frame([("E3", "C2")], "school_id site_id"),
        rules=rules,
    )


def test_d10_no_closure_in_the_period_a_school_opens() -> None:
    """No spending in 2025 (budget 0): C2 can only open in 2030, and E3 must serve Z1 until
    then. Without D-10: open C2 and close E3 in 2030, 20 - 30 = -10 M, travel 200,000 child·m:
    objective -10 + 2 = -8. With D-10 that pair is banned: keep E3, build nothing: 0 + 2."""
    rules = PlanRules(allow_closures=True, budget_by_period={2025: 0.0})
    free = solve(dataclasses.replace(d10_input(rules), catchment=None))
    assert free.info.objective == pytest.approx(-8.0, abs=1e-6)
    assert free.closures.values.tolist() == [["E3", 2030]]
    assert opened(free) == {("C2", "P6", 2030)}
    assert free.terms["closure_value_cny"] == 30 * M
    cap = free.capacity.set_index(["school_id", "stage", "year"])
    assert cap.loc[("E3", P, 2030), "classes"] == 0
    bound = solve(d10_input(rules))
    assert bound.info.objective == pytest.approx(2.0, abs=1e-6)
    assert bound.closures.empty and bound.opened.empty
    row = report(bound, "D-10").set_index("year").loc[2030]
    assert (row.scope, row.lhs, row.rhs) == ("close school E3 / open site C2 in 2030", 0, 1)


def test_d10_decided_closure_leaves_children_unmet() -> None:
    """E3's closure is decided for 2025: C2 may not open in 2025 (D-10), so Z1's 100 children
    have no seat in 2025 (positive unmet); C2 opens in 2030."""
    result = solve(d10_input(PlanRules(), closure_year=2025))
    assert result.terms["unmet_children"] == pytest.approx(100, abs=1e-6)
    assert opened(result) == {("C2", "P6", 2030)}
    assert result.closures.values.tolist() == [["E3", 2025]]


def test_d10_forced_by_count_target() -> None:
    """Decided closure in 2025 + one new primary school by 2025 (only C2, same catchment):
    infeasible; elastic: D-06 gives 1 school (and Z1's 2025 children stay unmet)."""
    rules = PlanRules(count_targets=(CountTarget("D-06", P, 2025, 1),))
    elastic = assert_infeasible_then_elastic(d10_input(rules, closure_year=2025), "D-06", 1.0)
    assert elastic.terms["unmet_children"] == pytest.approx(100, abs=1e-6)


# --------------------------------------------------------------------------- J-20


def private_c2(options: pd.DataFrame, keep_public: bool = True) -> pd.DataFrame:
    """C2 gains a private option "P6x" (6 primary classes, 5 M CNY)."""
    if not keep_public:
        options = options[options.site_id != "C2"]
    return with_rows(options, [("C2", "P6x", P, 6, 5 * M, "private")])


def test_j20_private_option_never_opens() -> None:
    """A private C2 option at 5 M beats the 8 M module; J-20 (primary public-only) forbids
    it, so the base plan (68 M) comes back."""
    data = base_input(options=private_c2(base_input().options))
    off = solve(dataclasses.replace(data, rules=PlanRules(public_only_stages=())))
    assert opened(off) == {("C1", "9y", 2025), ("C2", "P6x", 2025)}
    assert off.terms["capital_cost_cny"] == pytest.approx(65 * M)
    on = solve(data)
    assert opened(on) == {("C1", "9y", 2025)}
    assert on.terms["capital_cost_cny"] == pytest.approx(68 * M)


def test_j20_private_school_not_expanded() -> None:
    existing = with_rows(base_existing(), [("E5", P, 4, 20, 2, 1 * M, "private", False)])
    pairs = with_rows(base_input().pairs, [("Z1", "E5", P, 3000.0)])
    _, v = build_plan_model(base_input(existing=existing, pairs=pairs))
    assert not [k for k in v.modules if k[0] == "E5"]
    _, v = build_plan_model(base_input(PlanRules(public_only_stages=()), existing=existing,
                                       pairs=pairs))
    assert [k for k in v.modules if k[0] == "E5"] == [("E5", P, 2025), ("E5", P, 2030)]


def test_j20_forced_by_count_target() -> None:
    """Two new primary schools by 2030, C2 only private: infeasible; D-06 gives 1."""
    rules = PlanRules(count_targets=(CountTarget("D-06", P, 2030, 2, "at_least"),))
    data = base_input(rules, options=private_c2(base_input().options, keep_public=False))
    off = dataclasses.replace(rules, public_only_stages=())
    assert solve(dataclasses.replace(data, rules=off)).info.status == "optimal"
    assert_infeasible_then_elastic(data, "D-06", 1.0)


# --------------------------------------------------------------------------- D-23


def with_private_e4(pairs: list[tuple[str, str, str, float]], **migrant: float) -> PlanInput:
    """E4: private primary school, 4 classes (180 seats)."""
    existing = with_rows(base_existing(), [("E4", P, 4, float("nan"), float("nan"),
                                            float("nan"), "private", False)])
    data = base_input(existing=existing, pairs=with_rows(base_input().pairs, pairs))
    return data


def test_d23_migrants_kept_out_of_private_school() -> None:
    """E4 (private) is Z2's nearest school (500 m). Z2 has 150 migrant primary children in
    2025 and 200 in 2030: E4 may take only 200 - 150 = 50 and 280 - 200 = 80 of Z2."""
    data = with_private_e4([("Z2", "E4", P, 500.0)])
    demand = data.demand.copy()
    demand.loc[(demand.zone_id == "Z2") & (demand.stage == P), "migrant"] = [150.0, 200.0]
    data = dataclasses.replace(data, demand=demand)
    off = solve(dataclasses.replace(data, rules=PlanRules(migrant_public=False)))
    assert flow(off, "Z2", "E4", P, 2025) == pytest.approx(180, abs=1e-5)
    assert flow(off, "Z2", "E4", P, 2030) == pytest.approx(180, abs=1e-5)
    on = solve(data)
    assert flow(on, "Z2", "E4", P, 2025) == pytest.approx(50, abs=1e-5)
    assert flow(on, "Z2", "E4", P, 2030) == pytest.approx(80, abs=1e-5)
    row = report(on, "D-23").set_index("year").loc[2030]
    assert (row.lhs, row.rhs, row.slack) == (80, 80, 0)


def test_d23_forced_leaves_migrants_unmet() -> None:
    """Z4 (100 primary children, 40 migrants, each year) reaches only private E4: 40 + 40
    child-periods unmet (positive slack), 60 + 60 seated at E4."""
    data = with_private_e4([("Z4", "E4", P, 700.0)])
    demand = with_rows(data.demand, [("Z4", P, 2025, 100.0, 40.0), ("Z4", P, 2030, 100.0, 40.0)])
    result = solve(dataclasses.replace(data, demand=demand))
    assert result.terms["unmet_children"] == pytest.approx(60 + 80, abs=1e-5)
    assert flow(result, "Z4", "E4", P, 2025) == pytest.approx(60, abs=1e-5)
    unmet = result.unmet.set_index(["zone_id", "stage", "year"])
    assert unmet.loc[("Z4", P, 2030), "unmet"] == pytest.approx(40, abs=1e-5)


# --------------------------------------------------------------------------- N-01


def test_n01_budget_moves_the_module() -> None:
    """Budget 62 M in 2025: C1 (60 M) fits, the module (8 M more) does not and moves to 2030;
    10 Z1 children travel 500 m further in 2025: 2,449,000 child·m, objective 92.49."""
    result = solve(base_input(PlanRules(budget_by_period={2025: 62 * M})))
    assert modules(result) == {("E1", P, 2030): 1}
    assert result.info.objective == pytest.approx(92.49, abs=1e-4)
    row = report(result, "N-01").iloc[0]
    assert (row.scope, row.lhs, row.rhs, row.slack) == ("2025", 60 * M, 62 * M, 2 * M)
    assert result.spend.set_index("year").loc[2030, "capital_cny"] == 8 * M


def test_n01_carry_over() -> None:
    """Budgets 65 M (2025) and 5 M (2030). Without carry-over the module fits neither year:
    20 children unmet in 2030 (80 with Z3). With carry-over 2030 may spend 65 + 5 - 60 = 10 M:
    the module goes in 2030 and only Z3's 60 are unmet."""
    budgets = {2025: 65 * M, 2030: 5 * M}
    plain = solve(base_input(PlanRules(budget_by_period=budgets)))
    assert plain.terms["unmet_children"] == pytest.approx(80, abs=1e-5)
    assert modules(plain) == {}
    carried = solve(base_input(PlanRules(budget_by_period=budgets, carry_over=True)))
    assert carried.terms["unmet_children"] == pytest.approx(60, abs=1e-5)
    assert modules(carried) == {("E1", P, 2030): 1}
    row = report(carried, "N-01").iloc[1]
    assert (row.scope, row.lhs, row.rhs) == ("2025-2030 cumulative", 68 * M, 70 * M)


def test_n01_forced_count_gives_by_default() -> None:
    """Two new primary schools by 2025 with 65 M in 2025: the cheapest pair (P12 + C2) costs
    70 M. Elastic at 1,000 per unit of slack: one school short (1,000) is cheaper than 5 M
    CNY over budget, so D-06 gives 1."""
    rules = PlanRules(budget_by_period={2025: 65 * M},
                      count_targets=(CountTarget("D-06", P, 2025, 2, "at_least"),))
    assert_infeasible_then_elastic(base_input(rules), "D-06", 1.0)


def test_n01_forced_budget_gives_when_priced_per_million() -> None:
    """Same conflict, budget slack at 1 per M CNY: 9y + C2 (85 M, 20 M over: 20 units) beats
    P12 + C2 (5 M over, but 130 junior child-periods unmet: 135) and D-06 short (1,000)."""
    rules = PlanRules(budget_by_period={2025: 65 * M},
                      count_targets=(CountTarget("D-06", P, 2025, 2, "at_least"),))
    weights = PlanWeights(elastic_penalty_by_rule={"N-01": 1e-6})
    elastic = assert_infeasible_then_elastic(base_input(rules, weights=weights), "N-01", 20 * M)
    assert opened(elastic) == {("C1", "9y", 2025), ("C2", "P6", 2025)}
    assert elastic.phases[0].objective == pytest.approx(20.0, abs=1e-4)


# --------------------------------------------------------------------------- N-02


def test_n02_projects_per_period() -> None:
    """Exactly one project in 2025 and one in 2030: C1 opens in 2025, E1 expands in 2030."""
    result = solve(base_input(PlanRules(projects_by_period={2025: 1, 2030: 1})))
    assert opened(result) == {("C1", "9y", 2025)}
    assert modules(result) == {("E1", P, 2030): 1}
    assert result.info.objective == pytest.approx(92.49, abs=1e-4)
    assert result.spend["projects"].tolist() == [1, 1]


def test_n02_forced() -> None:
    """Four projects in 2025, but only C1, C2 and E1 can be projects: 1 short."""
    elastic = assert_infeasible_then_elastic(base_input(PlanRules(projects_by_period={2025: 4})),
                                             "N-02", 1.0)
    row = report(elastic, "N-02").iloc[0]
    assert (row.scope, row.lhs, row.sense, row.rhs) == ("projects 2025", 3, "=", 4)
    assert opened(elastic) == {("C1", "9y", 2025), ("C2", "P6", 2025)}


# --------------------------------------------------------------------------- seat targets


def test_seat_target_over_two_stages() -> None:
    """1,000 new public primary + junior seats by 2030. 9y (270 + 300) + module (90) = 660;
    the cheapest way to 1,000 adds C2 (270) and a second module (90): 1,020 seats, 101 M."""
    rules = PlanRules(seat_targets=(SeatTarget("J-04", (P, J), 2030, 1000.0),))
    result = solve(base_input(rules))
    assert {(c, k) for c, k, _ in opened(result)} == {("C1", "9y"), ("C2", "P6")}
    assert sum(modules(result).values()) == 2
    assert result.terms["capital_cost_cny"] == pytest.approx(101 * M)
    row = report(result, "J-04").iloc[0]
    assert (row.scope, row.stage, row.lhs, row.rhs, row.slack) == (
        "primary+junior new public seats by 2030", "primary+junior", 1020, 1000, 20)


def test_seat_target_forced() -> None:
    """1,100 seats: at most 570 + 270 + 180 = 1,020 can be built; 80 short."""
    rules = PlanRules(seat_targets=(SeatTarget("J-04", (P, J), 2030, 1100.0),))
    assert_infeasible_then_elastic(base_input(rules), "J-04", 80.0)


# --------------------------------------------------------------------------- D-06


def test_d06_count_of_new_schools() -> None:
    """Exactly two new primary schools by 2030: C1 and C2 (C2 in 2025, nearer for Z2); C2's
    seats make the module unnecessary: 85 M, travel 2,258,000, objective 107.58."""
    result = solve(base_input(PlanRules(count_targets=(CountTarget("D-06", P, 2030, 2),))))
    assert opened(result) == {("C1", "9y", 2025), ("C2", "P6", 2025)}
    assert modules(result) == {}
    assert result.info.objective == pytest.approx(107.58, abs=1e-4)


def test_d06_forced() -> None:
    """Two new junior schools by 2030: only C1's nine-year option serves junior."""
    rules = PlanRules(count_targets=(CountTarget("D-06", J, 2030, 2),))
    elastic = assert_infeasible_then_elastic(base_input(rules), "D-06", 1.0)
    row = report(elastic, "D-06").iloc[0]
    assert (row.scope, row.lhs, row.sense, row.rhs) == ("new junior schools by 2030", 1, "=", 2)


# --------------------------------------------------------------------------- D-07


def test_d07_pairs_limit_travel() -> None:
    """Z2-C1 primary is beyond the travel limit (pair dropped): Z2's primary children go to
    E1 (2,000 m), Z1's overflow to C1. Travel P: 2025 200·2000 + 340·1000 + 120·1500 =
    920,000; 2030 280·2000 + 260·1000 + 200·1500 = 1,120,000; J unchanged 940,000: total
    2,980,000, capital 68 M, objective 97.8. Z3 (no pair at all) stays wholly unmet."""
    pairs = base_input().pairs
    pairs = pairs[~((pairs.zone_id == "Z2") & (pairs.school_id == "C1") & (pairs.stage == P))]
    result = solve(base_input(pairs=pairs))
    assert result.terms["travel_child_m"] == pytest.approx(2_980_000, abs=0.1)
    assert result.info.objective == pytest.approx(97.8, abs=1e-4)
    assert modules(result) == {("E1", P, 2025): 1}
    unmet = result.unmet.set_index(["zone_id", "stage", "year"])
    assert unmet.loc[("Z3", P, 2025), "unmet"] == 30
