"""Tests of the single-period capacitated siting MIP on hand-checked fixtures."""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pandas as pd
import pulp
import pytest

import allocator.siting as siting
import allocator.siting_frames as siting_frames
from allocator.siting import (
    SitingInput,
    SitingResult,
    SitingWeights,
    build_siting_model,
    solve_siting,
)
from allocator.solvers import Backend, SolveInfo, SolverOptions, SolveStatus, solve_pulp

BACKENDS: list[Backend] = ["highs", "cbc"]
P = "primary"
J = "junior"
ASCII_NAME = re.compile(r"^[A-Za-z0-9_]+$")
# Travel as a tie-breaker: 1e-6 objective units per child·metre = 0.001 per child·km, i.e.
# 1,000 CNY of capital per child·km with the default cost weight (1 unit = 1 million CNY).
TIE_BREAK = SitingWeights(travel_weight=1e-6)


def frame(**columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame(columns)


# --------------------------------------------------------------------------- fixtures


def tiny_input(
    budget_cny: float | None = None,
    weights: SitingWeights = TIE_BREAK,
    *,
    lexicographic: bool = False,
) -> SitingInput:
    """3 zones, 1 existing school, 2 candidate sites with 2 size options each (primary).

    Zones: Z1 300 children, Z2 200, Z3 50 (no feasible pair: out of reach of everything).
    Existing E1: 250 seats.
    Sites: C1 6 classes 270 seats 30 M CNY | 12 classes 540 seats 50 M CNY
           C2 6 classes 270 seats 20 M CNY | 12 classes 540 seats 35 M CNY
    Pairs (metres): Z1-E1 1000, Z1-C1 500, Z2-E1 3000, Z2-C1 1500, Z2-C2 800.
    Weights (TIE_BREAK): 1e6 per unmet child, 1 per million CNY, 1e-6 per child·metre.
    """
    return SitingInput(
        demand=frame(zone_id=["Z1", "Z2", "Z3"], stage=[P] * 3, children=[300.0, 200.0, 50.0]),
        existing=frame(school_id=["E1"], stage=[P], seats=[250.0]),
        options=frame(
            site_id=["C1", "C1", "C2", "C2"],
            stage=[P] * 4,
            classes=[6, 12, 6, 12],
            seats=[270.0, 540.0, 270.0, 540.0],
            cost_cny=[30e6, 50e6, 20e6, 35e6],
        ),
        pairs=frame(
            zone_id=["Z1", "Z1", "Z2", "Z2", "Z2"],
            school_id=["E1", "C1", "E1", "C1", "C2"],
            stage=[P] * 5,
            distance_m=[1000.0, 500.0, 3000.0, 1500.0, 800.0],
        ),
        weights=weights,
        budget_cny=budget_cny,
        lexicographic=lexicographic,
    )


def random_input(
    seed: int = 8, zones: int = 30, sites: int = 8, *, lexicographic: bool = False
) -> SitingInput:
    """Random two-stage instance with ids out of order (tests sorting and agreement)."""
    rng = random.Random(seed)
    points = {f"z{i:02d}": (rng.uniform(0, 6000), rng.uniform(0, 6000)) for i in range(zones)}
    schools = {"E_b": (1500.0, 1500.0), "E_a": (4500.0, 4500.0)}
    cands = {f"S{j}": (rng.uniform(0, 6000), rng.uniform(0, 6000)) for j in range(sites)}
    demand, existing, options, pairs = [], [], [], []
    for z in reversed(points):  # deliberately unsorted input
        for g in (J, P):
            demand.append((z, g, float(rng.randint(20, 160))))
    for s in schools:
        existing += [(s, P, 450.0), (s, J, 400.0)]
    for c in cands:
        g = P if rng.random() < 0.5 else J
        options += [(c, g, 6, 270.0, 25e6 + rng.randint(0, 9) * 1e6)]
        options += [(c, g, 12, 540.0, 40e6 + rng.randint(0, 9) * 1e6)]
    stage_of = {c: g for c, g, *_ in options}
    limit = {P: 3000.0, J: 4500.0}
    for z, (zx, zy) in points.items():
        for s, (sx, sy) in {**schools, **cands}.items():
            dist = round(abs(zx - sx) + abs(zy - sy), 1)
            for g in (P, J):
                serves = s in schools or stage_of[s] == g
                if serves and dist <= limit[g]:
                    pairs.append((z, s, g, dist))
    rng.shuffle(pairs)
    return SitingInput(
        demand=pd.DataFrame(demand, columns=["zone_id", "stage", "children"]),
        existing=pd.DataFrame(existing, columns=["school_id", "stage", "seats"]),
        options=pd.DataFrame(options, columns=["site_id", "stage", "classes", "seats", "cost_cny"]),
        pairs=pd.DataFrame(pairs, columns=["zone_id", "school_id", "stage", "distance_m"]),
        weights=TIE_BREAK,
        lexicographic=lexicographic,
    )


def flows(result: SitingResult) -> dict[tuple[str, str], float]:
    return {
        (z, s): c
        for z, s, c in result.assignments[["zone_id", "school_id", "children"]].itertuples(
            index=False
        )
    }


def unmet(result: SitingResult) -> dict[str, float]:
    return dict(zip(result.unmet["zone_id"], result.unmet["unmet"], strict=True))


# --------------------------------------------------------------------------- hand-checked


@pytest.mark.parametrize("backend", BACKENDS)
def test_hand_checked_optimum(backend: Backend) -> None:
    # Reachable demand Z1 + Z2 = 500 > 250 seats at E1, so >= 250 new seats are needed
    # (each unmet child costs 1e6, any school at most 50).
    #  - C2 alone cannot do it: it reaches only Z2 (200), and E1 takes 250 of Z1's 300,
    #    leaving 50 unmet (5e7).
    #  - C1 6 classes (270 seats, 30) covers everything: 250 + 270 = 520 >= 500. Cheapest
    #    full cover; C1 12 classes (50) or C1 + C2 (>= 50) cost more than any travel saving.
    # Transport with C1 open: moving a child from E1 to C1 saves 500 m for Z1 and 1500 m for
    # Z2, so C1's 270 seats go first to Z2 (200), then 70 to Z1; E1 takes the other 230 of
    # Z1 (230 <= 250).
    # Travel: 200*1500 + 70*500 + 230*1000 = 300000 + 35000 + 230000 = 565000 child·m
    #       * 1e-6 = 0.565.
    # Z3 has no pair: unmet 50 -> 50 * 1e6 = 5e7.
    # Objective: 5e7 + 30e6 * 1e-6 + 0.565 = 50000030.565.
    result = solve_siting(tiny_input(), SolverOptions(backend=backend))
    assert result.info.status == "optimal"
    assert result.info.objective == pytest.approx(50_000_030.565, abs=1e-6)
    assert result.info.gap == pytest.approx(0.0, abs=1e-9)
    assert result.opened.to_dict("records") == [
        {"site_id": "C1", "stage": P, "classes": 6, "seats": 270.0, "cost_cny": 30e6}
    ]
    assert flows(result) == {("Z1", "C1"): 70.0, ("Z1", "E1"): 230.0, ("Z2", "C1"): 200.0}
    assert unmet(result) == {"Z1": 0.0, "Z2": 0.0, "Z3": 50.0}
    assert result.school_load.values.tolist() == [
        ["C1", P, 270.0, 270.0],
        ["E1", P, 230.0, 250.0],
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_binding_budget_changes_the_answer(backend: Backend) -> None:
    # Budget 25 M CNY: C1 (>= 30 M) and C2 12 classes (35 M) are out; C2 6 classes (20 M)
    # fits. C2 reaches only Z2: all 200 of Z2 go there (800 m), E1 takes 250 of Z1 (1000 m),
    # 50 of Z1 stay unmet. Any other split serves fewer children (Z1 can use only E1).
    # Travel: 200*800 + 250*1000 = 410000 child·m * 1e-6 = 0.41. Unmet 50 + 50 (Z3) = 100.
    # Objective: 100 * 1e6 + 20 + 0.41 = 100000020.41.
    result = solve_siting(tiny_input(budget_cny=25e6), SolverOptions(backend=backend))
    assert result.info.status == "optimal"
    assert result.info.objective == pytest.approx(100_000_020.41, abs=1e-6)
    assert result.opened[["site_id", "classes"]].values.tolist() == [["C2", 6]]
    assert flows(result) == {("Z1", "E1"): 250.0, ("Z2", "C2"): 200.0}
    assert unmet(result) == {"Z1": 50.0, "Z2": 0.0, "Z3": 50.0}
    assert result.opened["cost_cny"].sum() <= 25e6


def test_budget_of_zero_opens_nothing() -> None:
    # Nothing can open. E1's 250 seats serve 250 children either way; the shorter trips are
    # Z1's (1000 m against 3000 m for Z2), so E1 takes 250 of Z1.
    # Unmet: Z1 50 + Z2 200 + Z3 50 = 300. Travel: 250 * 1000 m * 1e-6 = 0.25.
    # Objective: 300 * 1e6 + 0.25 = 300000000.25.
    result = solve_siting(tiny_input(budget_cny=0.0), SolverOptions())
    assert result.opened.empty
    assert result.info.objective == pytest.approx(300_000_000.25, abs=1e-6)
    assert unmet(result) == {"Z1": 50.0, "Z2": 200.0, "Z3": 50.0}


@pytest.mark.parametrize("backend", BACKENDS)
def test_heavy_travel_weight_pays_for_a_second_school(backend: Backend) -> None:
    # Travel weight 1e-3 per child·metre = 1 unit (1 million CNY) per child·km, so
    # travel now outweighs capital. Decision part (cost + travel, units) of the layouts
    # that serve all reachable children:
    #   C1 6 alone:    30 + (200*1500 + 70*500 + 230*1000) * 1e-3 = 30 + 565 = 595
    #   C1 12 alone:   50 + (300*500 + 200*1500) * 1e-3           = 50 + 450 = 500
    #   C1 6 + C2 6:   50 + (270*500 + 30*1000 + 200*800) * 1e-3  = 50 + 325 = 375  <- best
    #   C1 12 + C2 6:  70 + (300*500 + 200*800) * 1e-3            = 70 + 310 = 380
    #   C1 6 + C2 12:  65 + 325 = 390;  C1 12 + C2 12: 85 + 310 = 395
    # (C2 without C1 leaves 50 of Z1 unmet.) Objective: 5e7 (Z3) + 375 = 50000375.
    heavy = SitingWeights(travel_weight=1e-3)
    result = solve_siting(tiny_input(weights=heavy), SolverOptions(backend=backend))
    assert result.info.objective == pytest.approx(50_000_375.0, abs=1e-6)
    assert result.opened[["site_id", "classes"]].values.tolist() == [["C1", 6], ["C2", 6]]
    assert flows(result) == {("Z1", "C1"): 270.0, ("Z1", "E1"): 30.0, ("Z2", "C2"): 200.0}


def test_two_stages_share_one_site() -> None:
    # Site S offers a primary (6 classes, 270 seats) or a junior option (6 classes, 300
    # seats), 10 M CNY each, but opens with at most one. Zone A has 100 primary and 100
    # junior children, no existing school. Either choice leaves 100 children unmet; the
    # primary trip is 500 m against 2000 m, so primary opens:
    # 100 * 1e6 + 10 + 100 * 500 m * 1e-6 = 100000010.05.
    data = SitingInput(
        demand=frame(zone_id=["A", "A"], stage=[P, J], children=[100.0, 100.0]),
        existing=frame(school_id=[], stage=[], seats=[]),
        options=frame(
            site_id=["S", "S"],
            stage=[P, J],
            classes=[6, 6],
            seats=[270.0, 300.0],
            cost_cny=[10e6, 10e6],
        ),
        pairs=frame(
            zone_id=["A", "A"], school_id=["S", "S"], stage=[P, J], distance_m=[500.0, 2000.0]
        ),
        weights=TIE_BREAK,
    )
    result = solve_siting(data, SolverOptions())
    assert result.info.objective == pytest.approx(100_000_010.05, abs=1e-6)
    assert result.opened[["site_id", "stage"]].values.tolist() == [["S", P]]
    assert result.unmet.values.tolist() == [["A", J, 100.0], ["A", P, 0.0]]


def test_zone_without_pairs_is_all_unmet() -> None:
    data = tiny_input()
    problem, variables = build_siting_model(data)
    assert variables.fixed_unmet == {("Z3", P): 50.0}
    assert ("Z3", P) not in variables.unmet
    assert not any(z == "Z3" for z, _, _ in variables.assign)
    # The out-of-reach penalty is an objective constant: 50 children * 1e6.
    assert problem.objective.constant == pytest.approx(5e7)
    result = solve_siting(data, SolverOptions())
    assert unmet(result)["Z3"] == 50.0
    assert "Z3" not in set(result.assignments["zone_id"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_demand_zone_gets_no_variables(backend: Backend) -> None:
    base = tiny_input()
    demand = pd.concat([base.demand, frame(zone_id=["Z4"], stage=[P], children=[0.0])])
    pairs = pd.concat(
        [base.pairs, frame(zone_id=["Z4"], school_id=["C2"], stage=[P], distance_m=[10.0])]
    )
    data = SitingInput(demand, base.existing, base.options, pairs, base.weights)
    _, variables = build_siting_model(data)
    assert not any(z == "Z4" for z, _, _ in variables.assign)
    result = solve_siting(data, SolverOptions(backend=backend))
    assert result.info.objective == pytest.approx(50_000_030.565, abs=1e-6)
    assert unmet(result)["Z4"] == 0.0


# --------------------------------------------------------------------------- agreement, order


def test_highs_and_cbc_agree() -> None:
    data = random_input()
    exact = {"mip_gap": 0.0, "time_limit_s": 120.0}
    highs = solve_siting(data, SolverOptions(backend="highs", **exact))  # type: ignore[arg-type]
    cbc = solve_siting(data, SolverOptions(backend="cbc", **exact))  # type: ignore[arg-type]
    assert highs.info.status == cbc.info.status == "optimal"
    assert highs.info.objective == pytest.approx(cbc.info.objective, rel=1e-9, abs=1e-6)
    assert highs.unmet["unmet"].sum() == pytest.approx(cbc.unmet["unmet"].sum(), abs=1e-6)
    assert not highs.opened.empty  # the instance needs new seats


def test_results_sorted_and_deterministic(tmp_path: Path) -> None:
    data = random_input()
    first = solve_siting(data, SolverOptions())
    second = solve_siting(data, SolverOptions())
    for name in ("opened", "assignments", "unmet", "school_load"):
        left, right = getattr(first, name), getattr(second, name)
        pd.testing.assert_frame_equal(left, right)
        keys = [c for c in left.columns if c.endswith("_id") or c == "stage"]
        pd.testing.assert_frame_equal(left, left.sort_values(keys).reset_index(drop=True))
    assert len(first.unmet) == len(data.demand)
    # The model itself is built identically (names, order, coefficients).
    problem_1, _ = build_siting_model(data)
    problem_2, _ = build_siting_model(data)
    problem_1.writeLP(str(tmp_path / "one.lp"))
    problem_2.writeLP(str(tmp_path / "two.lp"))
    assert (tmp_path / "one.lp").read_text() == (tmp_path / "two.lp").read_text()


def test_result_tables_are_consistent() -> None:
    data = random_input()
    result = solve_siting(data, SolverOptions())
    served = result.assignments.groupby(["zone_id", "stage"])["children"].sum()
    for z, g, children in data.demand.itertuples(index=False):
        row = result.unmet[(result.unmet["zone_id"] == z) & (result.unmet["stage"] == g)]
        total = served.get((z, g), 0.0) + float(row["unmet"].iloc[0])
        assert total == pytest.approx(children, abs=1e-5)
    load = result.school_load
    assert (load["enrolled"] <= load["seats"] + 1e-5).all()
    assert list(result.opened.columns) == list(siting_frames.OPENED_SCHEMA)
    assert result.opened["classes"].dtype == "int64"


# --------------------------------------------------------------------------- names and ids


def test_names_are_ascii_and_ids_survive() -> None:
    data = SitingInput(
        demand=frame(zone_id=["城东 1区", "Zone 7"], stage=["小学", "小学"], children=[80.0, 40.0]),
        existing=frame(school_id=["第一小学"], stage=["小学"], seats=[60.0]),
        options=frame(
            site_id=["新校址A"], stage=["小学"], classes=[6], seats=[270.0], cost_cny=[1e7]
        ),
        pairs=frame(
            zone_id=["城东 1区", "城东 1区", "Zone 7"],
            school_id=["第一小学", "新校址A", "新校址A"],
            stage=["小学"] * 3,
            distance_m=[900.0, 1200.0, 700.0],
        ),
        weights=TIE_BREAK,
    )
    problem, _ = build_siting_model(data)
    names = [v.name for v in problem.variables()] + [c.name for c in problem.constraints()]
    assert all(ASCII_NAME.match(n) for n in names), names
    assert len(set(names)) == len(names)
    again, _ = build_siting_model(data)
    assert names == [v.name for v in again.variables()] + [c.name for c in again.constraints()]
    assert any(n.startswith("demand__Zone_7_") for n in names)
    result = solve_siting(data, SolverOptions())
    assert set(result.assignments["school_id"]) == {"第一小学", "新校址A"}
    assert result.opened["site_id"].tolist() == ["新校址A"]


def test_plain_ids_keep_readable_names() -> None:
    problem, _ = build_siting_model(tiny_input())
    names = {c.name for c in problem.constraints()}
    assert {"demand__Z1__primary", "cap_existing__E1__primary", "cap_site__C1__primary"} <= names
    assert {"one_option__C1", "link__Z2__C2__primary"} <= names
    assert {v.name for v in problem.variables()} >= {"open__C1__primary__c6", "unmet__Z1__primary"}


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("table", "replacement", "match"),
    [
        (
            "pairs",
            frame(zone_id=["Z1"], school_id=["NOPE"], stage=[P], distance_m=[1.0]),
            "school_id",
        ),
        (
            "pairs",
            frame(zone_id=["Z9"], school_id=["E1"], stage=[P], distance_m=[1.0]),
            "not in demand",
        ),
        (
            "pairs",
            frame(zone_id=["Z1"], school_id=["E1"], stage=[J], distance_m=[1.0]),
            "not in demand",
        ),
        ("existing", frame(school_id=["C1"], stage=[P], seats=[10.0]), "both as existing"),
        ("existing", frame(school_id=["E1"], stage=[P], seats=[-1.0]), ">= 0"),
        ("existing", frame(school_id=["E1", "E1"], stage=[P, P], seats=[1.0, 2.0]), "duplicate"),
        ("demand", frame(zone_id=["Z1"], children=[1.0]), "missing column"),
        (
            "options",
            frame(site_id=["C1"], stage=[P], classes=[6.5], seats=[1.0], cost_cny=[1.0]),
            "whole",
        ),
    ],
)
def test_bad_inputs_raise_value_error(table: str, replacement: pd.DataFrame, match: str) -> None:
    base = tiny_input()
    fields = {
        "demand": base.demand,
        "existing": base.existing,
        "options": base.options,
        "pairs": base.pairs,
    }
    fields[table] = replacement
    data = SitingInput(
        fields["demand"], fields["existing"], fields["options"], fields["pairs"], base.weights
    )
    with pytest.raises(ValueError, match=match):
        build_siting_model(data)


def test_negative_budget_and_weights_raise() -> None:
    with pytest.raises(ValueError, match="budget"):
        build_siting_model(tiny_input(budget_cny=-1.0))
    with pytest.raises(ValueError, match="travel_weight"):
        SitingWeights(travel_weight=-1.0)


def assert_empty(result: SitingResult) -> None:
    for name, schema in [
        ("opened", siting_frames.OPENED_SCHEMA),
        ("assignments", siting_frames.ASSIGNMENTS_SCHEMA),
        ("unmet", siting_frames.UNMET_SCHEMA),
        ("school_load", siting_frames.SCHOOL_LOAD_SCHEMA),
    ]:
        table = getattr(result, name)
        assert table.empty
        assert list(table.columns) == list(schema)
    assert result.terms == {}


@pytest.mark.parametrize("lexicographic", [False, True])
@pytest.mark.parametrize("status", ["no_solution", "infeasible"])
def test_no_solution_gives_empty_frames(
    monkeypatch: pytest.MonkeyPatch, lexicographic: bool, status: SolveStatus
) -> None:
    # Without a solution (in lexicographic mode: in phase 1) nothing is raised, the report
    # is the solver's and phase 2 never runs.
    stopped = SolveInfo(status, None, None, None, 0.1, "highs", "1.12.0", "stopped")
    calls: list[SolverOptions] = []

    def fake(problem: object, options: SolverOptions) -> SolveInfo:
        calls.append(options)
        return stopped

    monkeypatch.setattr(siting, "solve_pulp", fake)
    result = solve_siting(tiny_input(lexicographic=lexicographic), SolverOptions())
    assert result.info is stopped
    assert result.phases == (stopped,)
    assert len(calls) == 1
    assert_empty(result)


# --------------------------------------------------------------------------- lexicographic


def capacity_bound_input(*, lexicographic: bool) -> SitingInput:
    """Capacity-bound unmet demand that swamps the weighted gap (default weights).

    Zones: A 100 children, B 1000 children (primary).
    Existing E1: 100 seats, reached only by B (2000 m); B reaches nothing else.
    Sites: C1 6 classes 270 seats 20 M CNY (A 1000 m); C2 6 classes 270 seats 30 M CNY
    (A 500 m).
    Weights (defaults, as in the shipped scenarios): 1e6 per unmet child, 1 per million
    CNY, 1e-5 per child·metre.
    """
    return SitingInput(
        demand=frame(zone_id=["A", "B"], stage=[P, P], children=[100.0, 1000.0]),
        existing=frame(school_id=["E1"], stage=[P], seats=[100.0]),
        options=frame(
            site_id=["C1", "C2"],
            stage=[P, P],
            classes=[6, 6],
            seats=[270.0, 270.0],
            cost_cny=[20e6, 30e6],
        ),
        pairs=frame(
            zone_id=["A", "A", "B"],
            school_id=["C1", "C2", "E1"],
            stage=[P] * 3,
            distance_m=[1000.0, 500.0, 2000.0],
        ),
        weights=SitingWeights(),
        lexicographic=lexicographic,
    )


# Expected plan of tiny_input per budget (see the hand-checked tests above):
# opened, flows, unmet, terms (unmet children, CNY, child·m), reachable unmet of phase 1.
TINY_PLANS = {
    None: (
        [["C1", 6]],
        {("Z1", "C1"): 70.0, ("Z1", "E1"): 230.0, ("Z2", "C1"): 200.0},
        {"Z1": 0.0, "Z2": 0.0, "Z3": 50.0},
        (50.0, 30e6, 565_000.0),
        0.0,
    ),
    25e6: (
        [["C2", 6]],
        {("Z1", "E1"): 250.0, ("Z2", "C2"): 200.0},
        {"Z1": 50.0, "Z2": 0.0, "Z3": 50.0},
        (100.0, 20e6, 410_000.0),
        50.0,
    ),
    0.0: (
        [],
        {("Z1", "E1"): 250.0},
        {"Z1": 50.0, "Z2": 200.0, "Z3": 50.0},
        (300.0, 0.0, 250_000.0),
        250.0,
    ),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("budget", [None, 25e6, 0.0])
def test_lexicographic_gives_the_hand_checked_plan(backend: Backend, budget: float | None) -> None:
    # With a penalty far above any school, the weighted optimum also minimises unmet
    # demand first, so both modes give the plans of the hand-checked tests above.
    # Lexicographic phase 2 may leave up to tol = 1e-6 more children unmet to save travel,
    # hence approx.
    opened, plan_flows, plan_unmet, (children, cost, travel), reachable = TINY_PLANS[budget]
    options = SolverOptions(backend=backend)
    weighted = solve_siting(tiny_input(budget), options)
    lex = solve_siting(tiny_input(budget, lexicographic=True), options)
    expected_terms = {
        "unmet_children": children,
        "capital_cost_cny": cost,
        "travel_child_m": travel,
    }
    for result in (weighted, lex):
        assert result.info.status == "optimal"
        assert result.opened[["site_id", "classes"]].values.tolist() == opened
        assert flows(result) == pytest.approx(plan_flows, abs=1e-5)
        assert unmet(result) == pytest.approx(plan_unmet, abs=1e-5)
        assert result.terms == pytest.approx(expected_terms, abs=1e-2)
    assert weighted.phases == (weighted.info,)
    assert weighted.info.objective == pytest.approx(1e6 * children + 1e-6 * (cost + travel))
    # Lexicographic: phase 1 reports the reachable unmet children (Z3's 50 are out of
    # reach), phase 2 and the result cost + travel: 1e-6 per CNY + 1e-6 per child·m.
    first, second = lex.phases
    assert first.objective == pytest.approx(reachable, abs=1e-6)
    assert second.objective == lex.info.objective
    assert lex.info.objective == pytest.approx(1e-6 * (cost + travel), abs=1e-6)
    assert lex.info.seconds == pytest.approx(first.seconds + second.seconds)
    assert lex.info.message.startswith(
        f"phase 1 (unmet) optimal: {children:,.0f} children unmet; phase 2 (cost+travel) optimal ("
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_lexicographic_finds_the_cost_optimum_under_a_loose_gap(backend: Backend) -> None:
    # B can use only E1 (100 seats): 900 of its children stay unmet whatever opens, and
    # they are reachable, so their 9e8 penalty sits inside the solver's gap. A needs C1 or
    # C2 (270 seats each >= 100).
    # Weighted objective: C1 plan 900 * 1e6 + 20 + (100*1000 + 100*2000) * 1e-5 = 900000023;
    # C2 plan 900e6 + 30 + (100*500 + 100*2000) * 1e-5 = 900000032.5. At mip_gap 1e-2 the
    # C2 plan (10 M CNY wasted) is within the gap, and so is leaving 9 of A's children
    # unmet (9e6 = 1 % of 9e8): the weighted gap bounds neither capital nor unmet demand.
    worse, best = 900e6 + 32.5, 900e6 + 23.0
    assert (worse - best) / worse < 1e-2
    loose = SolverOptions(backend=backend, mip_gap=1e-2)
    weighted = solve_siting(capacity_bound_input(lexicographic=False), loose)
    assert weighted.info.status == "optimal"
    assert weighted.info.gap is not None and weighted.info.gap <= 1e-2
    # Lexicographic: phase 1 gives Σ u = 900 (reachable); phase 2 minimises cost + travel
    # with Σ u <= 900 + 1e-6: C1 23.0 against C2 32.5 (both sites >= 53). Its gap is on
    # cost + travel, so 1e-2 allows at most 0.23 above 23.0 and C2 cannot be returned.
    lex = solve_siting(capacity_bound_input(lexicographic=True), loose)
    assert lex.info.status == "optimal"
    assert lex.opened[["site_id", "classes"]].values.tolist() == [["C1", 6]]
    assert lex.terms["capital_cost_cny"] == 20e6
    assert lex.terms["unmet_children"] == pytest.approx(900.0, abs=1e-5)
    assert lex.terms["travel_child_m"] == pytest.approx(300_000.0, abs=1e-2)
    assert unmet(lex) == pytest.approx({"A": 0.0, "B": 900.0}, abs=1e-5)
    assert lex.info.objective == pytest.approx(23.0, abs=1e-4)
    objective, bound = lex.info.objective, lex.info.bound
    assert objective is not None and bound is not None
    assert bound >= 23.0 * (1 - 1e-2) - 1e-6
    assert lex.info.gap == pytest.approx(abs(objective - bound) / objective, abs=1e-12)
    assert lex.phases[0].objective == pytest.approx(900.0, abs=1e-6)


def test_lexicographic_backends_agree_and_match_weighted() -> None:
    exact = {"mip_gap": 0.0, "time_limit_s": 120.0}
    highs = solve_siting(
        random_input(lexicographic=True),
        SolverOptions(backend="highs", **exact),  # type: ignore[arg-type]
    )
    cbc = solve_siting(
        random_input(lexicographic=True),
        SolverOptions(backend="cbc", **exact),  # type: ignore[arg-type]
    )
    weighted = solve_siting(random_input(), SolverOptions(**exact))  # type: ignore[arg-type]
    assert highs.info.status == cbc.info.status == "optimal"
    assert [p.status for p in highs.phases] == [p.status for p in cbc.phases] == ["optimal"] * 2
    assert highs.info.objective == pytest.approx(cbc.info.objective, rel=1e-7)
    assert highs.terms["unmet_children"] == pytest.approx(cbc.terms["unmet_children"], abs=1e-5)
    assert not highs.opened.empty
    # With 1e6 per child (far above any school) the weighted optimum is the lexicographic
    # one: same unmet children, and weighted = 1e6 * unmet + cost + travel.
    assert weighted.terms["unmet_children"] == pytest.approx(
        highs.terms["unmet_children"], abs=1e-5
    )
    assert highs.info.objective is not None
    assert weighted.info.objective == pytest.approx(
        1e6 * weighted.terms["unmet_children"] + highs.info.objective, abs=1e-3
    )


def test_phase_two_without_solution_keeps_the_phase_one_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = solve_pulp
    stopped = SolveInfo("no_solution", None, 20.0, None, 0.5, "highs", "1.12.0", "stopped")

    def fake(problem: pulp.LpProblem, options: SolverOptions) -> SolveInfo:
        if not any(c.name == "lex_unmet" for c in problem.constraints()):
            return real(problem, options)  # phase 1
        for variable in problem.variables():  # as solve_pulp does without a solution
            variable.varValue = None
        return stopped

    monkeypatch.setattr(siting, "solve_pulp", fake)
    result = solve_siting(tiny_input(lexicographic=True), SolverOptions())
    first, second = result.phases
    assert (first.status, second) == ("optimal", stopped)
    assert result.info.status == "feasible"
    assert "kept the phase-1 plan" in result.info.message
    # Phase 1's plan serves every reachable child (which sites it opens is arbitrary).
    assert unmet(result) == pytest.approx({"Z1": 0.0, "Z2": 0.0, "Z3": 50.0}, abs=1e-6)
    assert not result.opened.empty
    # Objective: that plan's cost + travel (1e-6 per CNY, 1e-6 per child·m); bound phase 2's.
    terms = result.terms
    value = 1e-6 * (terms["capital_cost_cny"] + terms["travel_child_m"])
    assert result.info.objective == pytest.approx(value, abs=1e-5)
    assert result.info.bound == 20.0
    assert result.info.gap == pytest.approx((value - 20.0) / value, abs=1e-6)


@pytest.mark.parametrize(
    ("limit", "spent", "expected"),
    [
        (60.0, 10.0, 50.0),  # what phase 1 left
        (60.0, 58.0, 6.0),  # at least 10 % of the limit
        (5.0, 4.9, 1.0),  # at least 1 s
        (0.5, 0.5, 0.5),  # ... or the whole limit if shorter
        (None, 3.0, None),  # no limit
    ],
)
def test_phase_two_gets_the_time_phase_one_left(
    monkeypatch: pytest.MonkeyPatch, limit: float | None, spent: float, expected: float | None
) -> None:
    limits: list[float | None] = []

    def fake(problem: pulp.LpProblem, options: SolverOptions) -> SolveInfo:
        limits.append(options.time_limit_s)
        seconds = spent if len(limits) == 1 else 1.0
        return SolveInfo("optimal", 0.0, 0.0, 0.0, seconds, "highs", "1.12.0", "optimal")

    monkeypatch.setattr(siting, "solve_pulp", fake)
    result = solve_siting(tiny_input(lexicographic=True), SolverOptions(time_limit_s=limit))
    assert limits == [limit, expected]
    assert result.info.seconds == pytest.approx(spent + 1.0)


def test_lexicographic_model_objective_is_reachable_unmet() -> None:
    # build_siting_model in lexicographic mode holds the phase-1 objective Σ u (persons),
    # without the out-of-reach constant (Z3's 50 children).
    problem, variables = build_siting_model(tiny_input(lexicographic=True))
    assert problem.objective.constant == 0.0
    assert dict(problem.objective.items()) == {u: 1.0 for u in variables.unmet.values()}


# --------------------------------------------------------------------------- open exactly p


def test_open_exactly_two_sites() -> None:
    # Both sites must open. Cheapest pair: C1 6 + C2 6 (50 M CNY); C1's 270 seats take Z1
    # (500 m), E1 the other 30 of Z1 (1000 m), C2 all of Z2 (800 m):
    # 270*500 + 30*1000 + 200*800 = 325000 child·m -> 0.325. C1 12 + C2 6 costs 70 + 0.31.
    # Objective: 5e7 (Z3) + 50 + 0.325 = 50000050.325.
    data = dataclasses.replace(tiny_input(), open_exactly=2)
    result = solve_siting(data, SolverOptions())
    assert result.info.objective == pytest.approx(50_000_050.325, abs=1e-6)
    assert result.opened[["site_id", "classes"]].values.tolist() == [["C1", 6], ["C2", 6]]
    assert flows(result) == {("Z1", "C1"): 270.0, ("Z1", "E1"): 30.0, ("Z2", "C2"): 200.0}


@pytest.mark.parametrize(
    ("p", "objective"),
    [(0, 300_000_000.25), (1, 50_000_030.565)],  # as test_budget_of_zero_opens_nothing
)  # and as the hand-checked optimum (which opens one site anyway)
def test_open_exactly_zero_or_one(p: int, objective: float) -> None:
    result = solve_siting(dataclasses.replace(tiny_input(), open_exactly=p), SolverOptions())
    assert result.info.objective == pytest.approx(objective, abs=1e-6)
    assert len(result.opened) == p


def test_open_exactly_row_and_every_option_get_a_variable() -> None:
    # Site C3 is out of everybody's reach: without open_exactly it gets no variable, with
    # it C3 can still be opened to make up p.
    base = tiny_input()
    options = pd.concat(
        [base.options, frame(site_id=["C3"], stage=[P], classes=[6], seats=[270.0], cost_cny=[1.0])]
    )
    _, plain = build_siting_model(dataclasses.replace(base, options=options))
    assert ("C3", P, 6) not in plain.open
    data = dataclasses.replace(base, options=options, open_exactly=3)
    problem, variables = build_siting_model(data)
    assert ("C3", P, 6) in variables.open
    (row,) = [c for c in problem.constraints() if c.name == "open_exactly"]
    assert {var.name for var in row} == {y.name for y in variables.open.values()}
    assert row.sense == pulp.LpConstraintEQ
    assert row.constant == -3.0
    result = solve_siting(data, SolverOptions())
    assert sorted(result.opened["site_id"]) == ["C1", "C2", "C3"]


@pytest.mark.parametrize("p", [-1, 3, 1.5, True])
def test_open_exactly_out_of_range(p: object) -> None:
    data = dataclasses.replace(tiny_input(), open_exactly=p)
    with pytest.raises(ValueError, match=r"open_exactly must be a whole number in \[0, 2\]"):
        solve_siting(data, SolverOptions())


def test_radius_needs_capacities_that_never_bind() -> None:
    data = dataclasses.replace(tiny_input(), formulation="radius")
    with pytest.raises(ValueError, match="needs capacities that never bind"):
        solve_siting(data, SolverOptions())
    with pytest.raises(ValueError, match="formulation must be one of"):
        solve_siting(dataclasses.replace(tiny_input(), formulation="fast"), SolverOptions())


def roomy(data: SitingInput) -> SitingInput:
    """The same input with seats that no school can fill (capacities never bind)."""
    return dataclasses.replace(
        data,
        existing=data.existing.assign(seats=1e6),
        options=data.options.assign(seats=1e6),
    )


def test_choose_formulation() -> None:
    capacitated = dataclasses.replace(tiny_input(), open_exactly=1)
    free = roomy(capacitated)
    cases = [
        (capacitated, "assignment"),
        (free, "radius"),
        (dataclasses.replace(free, open_exactly=None), "assignment"),
        (dataclasses.replace(free, formulation="assignment"), "assignment"),
        (dataclasses.replace(free, open_exactly=None, formulation="radius"), "radius"),
    ]
    for data, expected in cases:
        assert siting.choose_formulation(data, siting._prepare(data)) == expected


EXACT = SolverOptions(mip_gap=0.0)


def assert_same_optimum(data: SitingInput) -> tuple[SitingResult, SitingResult]:
    """Solve with both formulations; the optima (and unmet children) must agree."""
    assignment = solve_siting(dataclasses.replace(data, formulation="assignment"), EXACT)
    radius = solve_siting(dataclasses.replace(data, formulation="radius"), EXACT)
    for result in (assignment, radius):
        assert result.info.status == "optimal", result.info.message
    assert radius.info.objective == pytest.approx(assignment.info.objective, rel=1e-7, abs=1e-7)
    a, r = assignment.terms, radius.terms
    assert r["unmet_children"] == pytest.approx(a["unmet_children"], abs=1e-5)
    # The radius plan is whole: each zone and stage goes to one school.
    assert not radius.assignments.duplicated(["zone_id", "stage"]).any()
    return assignment, radius


@pytest.mark.parametrize("lexicographic", [False, True])
@pytest.mark.parametrize(("p", "budget"), [(None, None), (None, 60e6), (3, None), (4, 140e6)])
def test_radius_matches_assignment_two_stages(
    lexicographic: bool, p: int | None, budget: float | None
) -> None:
    # Two stages, two size options per site, existing schools, travel limits (zones that
    # reach nothing, zones that may stay unmet), budget and open-exactly variants.
    base = roomy(random_input(seed=3, lexicographic=lexicographic))
    assert_same_optimum(dataclasses.replace(base, open_exactly=p, budget_cny=budget))


def one_stage_input(seed: int, weights: SitingWeights, *, existing: bool) -> SitingInput:
    """One stage, one option per site (the p-median shape), travel limit 2500 m."""
    rng = random.Random(seed)
    zones = {f"z{i:02d}": (rng.uniform(0, 6000), rng.uniform(0, 6000)) for i in range(40)}
    sites = {f"S{j:02d}": (rng.uniform(0, 6000), rng.uniform(0, 6000)) for j in range(12)}
    schools = {"E1": (3000.0, 3000.0)} if existing else {}
    pairs = [
        (z, s, P, round(abs(zx - sx) + abs(zy - sy), 0))
        for z, (zx, zy) in zones.items()
        for s, (sx, sy) in {**sites, **schools}.items()
        if abs(zx - sx) + abs(zy - sy) <= 2500
    ]
    return SitingInput(
        demand=frame(
            zone_id=list(zones), stage=[P] * 40, children=[float(rng.randint(5, 90)) for _ in zones]
        ),
        existing=frame(
            school_id=list(schools), stage=[P] * len(schools), seats=[1e6] * len(schools)
        ),
        options=frame(
            site_id=list(sites),
            stage=[P] * 12,
            classes=[6] * 12,
            seats=[1e6] * 12,
            cost_cny=[float(rng.randint(0, 3)) * 1e6 for _ in sites],
        ),
        pairs=pd.DataFrame(pairs, columns=["zone_id", "school_id", "stage", "distance_m"]),
        weights=weights,
        open_exactly=4,
    )


@pytest.mark.parametrize("existing", [False, True])
@pytest.mark.parametrize(
    "weights",
    [
        SitingWeights(unmet_penalty=1e6, cost_weight=1e-6, travel_weight=1e-3),
        # Unmet costs 2 per child, travel 1e-3 per child·m: trips over 2 km are not worth it.
        SitingWeights(unmet_penalty=2.0, cost_weight=1e-6, travel_weight=1e-3),
    ],
)
def test_dynamic_radius_matches_assignment(existing: bool, weights: SitingWeights) -> None:
    data = one_stage_input(seed=5, weights=weights, existing=existing)
    _, radius = assert_same_optimum(data)
    assert "radius formulation" in radius.info.message  # the dynamic path ran
    assert radius.info.bound == pytest.approx(radius.info.objective, rel=1e-9)
    assert len(radius.opened) == 4


def test_dynamic_radius_lexicographic_uses_the_full_model() -> None:
    weights = SitingWeights(cost_weight=1e-6, travel_weight=1e-3)
    data = dataclasses.replace(
        one_stage_input(seed=6, weights=weights, existing=False), lexicographic=True
    )
    _, radius = assert_same_optimum(data)
    assert len(radius.phases) == 2
