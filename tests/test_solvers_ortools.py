"""Tests of the OR-Tools path (SCIP through MathOpt): statuses, write-back, agreement.

The same models are solved with HiGHS (the default PuLP path) and with
``SolverOptions(backend="ortools")``; hand-checked optima come from tests/test_siting.py
and the published OR-Library optima from tests/test_orlib.py.
"""

from __future__ import annotations

import inspect
import random
import subprocess
import sys
from pathlib import Path

import pulp
import pytest

from allocator.orlib import cap_siting_input, pmedian_siting_input, read_cap, read_pmed
from allocator.scenario import SolverConfig
from allocator.siting import Formulation, SitingInput, SitingWeights, solve_siting
from allocator.solvers import SolverOptions, relative_gap, solve_pulp
from allocator.solvers.ortools_backend import SOLVER_NAME, solve_ortools
from tests.test_siting import capacity_bound_input, flows, random_input, tiny_input, unmet
from tests.test_solvers import (
    assert_bound_side,
    assert_values_form_solution,
    infeasible_mip,
    market_split,
    tiny_lp,
    tiny_mip,
    unbounded_lp,
)

DATA = Path(__file__).resolve().parent / "data" / "orlib"
ORTOOLS = SolverOptions(backend="ortools")
EXACT = {"mip_gap": 0.0, "time_limit_s": 120.0}


# --------------------------------------------------------------------------- small models


@pytest.mark.parametrize(("sense", "expected"), [(pulp.LpMaximize, 17.0), (pulp.LpMinimize, -7.0)])
def test_known_optimum_and_values_written_back(sense: int, expected: float) -> None:
    # tiny_mip: max 3x + 2y + 5 s.t. 2x + 2y <= 9 -> x = 4, y = 0: 12 + 5 = 17; as a
    # minimisation of -(3x + 2y) + 5: -12 + 5 = -7. The constant 5 is PuLP's objective
    # constant, passed to SCIP as the objective offset.
    prob = tiny_mip(sense=sense)
    info = solve_pulp(prob, ORTOOLS)
    assert info.status == "optimal" and info.has_solution
    assert info.objective == pytest.approx(expected)
    assert info.bound == pytest.approx(expected)
    assert info.gap == pytest.approx(0.0, abs=1e-9)
    assert info.solver == SOLVER_NAME == "ortools-scip"
    assert "SCIP 10" in info.solver_version
    assert {v.name: v.varValue for v in prob.variables()} == pytest.approx({"x": 4.0, "y": 0.0})
    assert pulp.value(prob.objective) == pytest.approx(expected)


def test_lp_optimum() -> None:
    # min x + 2y + 1 s.t. x + y >= 3, x <= 2: x = 2, y = 1, value 5.
    prob = tiny_lp()
    info = solve_ortools(prob, ORTOOLS)
    assert (info.status, info.objective, info.bound) == ("optimal", 5.0, 5.0)
    assert [v.varValue for v in prob.variables()] == pytest.approx([2.0, 1.0])


def test_infeasible_clears_values() -> None:
    prob = infeasible_mip()
    for variable in prob.variables():
        variable.varValue = 1.0  # stale values must not survive a run without solution
    info = solve_pulp(prob, ORTOOLS)
    assert info.status == "infeasible" and not info.has_solution
    assert (info.objective, info.bound, info.gap) == (None, None, None)
    assert all(v.varValue is None for v in prob.variables())


def test_unbounded() -> None:
    info = solve_pulp(unbounded_lp(), ORTOOLS)
    assert info.status == "unbounded"
    assert info.objective is None


def free_integer_model(equality: str) -> pulp.LpProblem:
    """min -x, x integer (>= 0 for the feasible case), plus one integer row.

    ``"odd"``: x - 2w = 1 with w integer free: x = 1, 3, 5, ... feasible, so unbounded.
    ``"half"``: 2y = 1 with y integer: no integer y, so infeasible (x free).
    """
    prob = pulp.LpProblem(f"free_{equality}", pulp.LpMinimize)
    if equality == "odd":
        x = prob.add_variable("x", 0, cat=pulp.LpInteger)
        w = prob.add_variable("w", cat=pulp.LpInteger)
        prob += -x
        prob += x - 2 * w == 1, "odd"
    else:
        x = prob.add_variable("x", cat=pulp.LpInteger)
        y = prob.add_variable("y", cat=pulp.LpInteger)
        prob += -x
        prob += 2 * y == 1, "half"
    return prob


@pytest.mark.parametrize(("equality", "status"), [("odd", "unbounded"), ("half", "infeasible")])
def test_infeasible_or_unbounded_is_decided(equality: str, status: str) -> None:
    # SCIP 10 ends both models with "infeasible or unbounded"; the adapter settles it with
    # a zero-objective solve of the same rows. (HiGHS reports both as infeasible.)
    info = solve_pulp(free_integer_model(equality), ORTOOLS)
    assert info.status == status
    assert "zero-objective solve" in info.message
    assert info.objective is None and info.bound is None


def test_sos_model_is_an_error_not_a_wrong_answer() -> None:
    prob = tiny_mip()
    prob.sos1["s"] = {v: float(k + 1) for k, v in enumerate(prob.variables())}
    info = solve_pulp(prob, ORTOOLS)
    assert info.status == "error" and "SOS" in info.message
    assert all(v.varValue is None for v in prob.variables())


# --------------------------------------------------------------------------- limits


@pytest.mark.parametrize("maximise", [False, True])
def test_node_limit_keeps_incumbent(maximise: bool) -> None:
    # Market split 6 x 50: LP bound is slack 0 (0 when minimising, 100 when maximising
    # 100 - slack); one node proves nothing, but SCIP's root heuristics find an incumbent.
    prob = market_split(maximise=maximise)
    info = solve_pulp(prob, SolverOptions(backend="ortools", node_limit=1))
    assert info.status == "feasible", info.message
    assert "node limit" in info.message
    assert_values_form_solution(prob, info)
    assert_bound_side(prob, info)
    assert info.bound == pytest.approx(100.0 if maximise else 0.0, abs=1e-6)
    assert info.gap == pytest.approx(relative_gap(info.objective, info.bound))
    assert info.gap is not None and info.gap > 0


def market_split_feasibility(rows: int = 4, cols: int = 30, seed: int = 0) -> pulp.LpProblem:
    """Market split without slack: Σ_j a_ij x_j = floor(Σ_j a_ij / 2), x binary, min Σ x.

    No rounding heuristic hits these equalities, so one node finds no solution.
    """
    rng = random.Random(seed)
    prob = pulp.LpProblem("market_split_feasibility", pulp.LpMinimize)
    x = [prob.add_variable(f"x{j:02d}", cat=pulp.LpBinary) for j in range(cols)]
    prob += pulp.lpSum(x)
    for i in range(rows):
        a = [rng.randint(0, 99) for _ in range(cols)]
        prob += pulp.lpSum(a[j] * x[j] for j in range(cols)) == sum(a) // 2, f"split{i}"
    return prob


def test_node_limit_without_incumbent_is_no_solution() -> None:
    prob = market_split_feasibility()
    info = solve_pulp(prob, SolverOptions(backend="ortools", node_limit=1))
    assert info.status == "no_solution", info.message
    assert info.objective is None and info.gap is None
    assert all(v.varValue is None for v in prob.variables())


def test_tiny_time_limit_does_not_raise() -> None:
    prob = market_split()
    info = solve_pulp(prob, SolverOptions(backend="ortools", time_limit_s=0.01))
    # Whether SCIP has an incumbent after 10 ms depends on the machine; what it reports
    # must match what it holds.
    assert info.status in {"feasible", "no_solution"}, info.message
    assert info.seconds < 30
    if info.status == "feasible":
        assert_values_form_solution(prob, info)
        assert_bound_side(prob, info)
    else:
        assert all(v.varValue is None for v in prob.variables())


def test_node_limited_run_is_deterministic() -> None:
    options = SolverOptions(backend="ortools", node_limit=1, seed=3)
    first, second = market_split(), market_split()
    one, two = solve_pulp(first, options), solve_pulp(second, options)
    assert (one.status, one.objective, one.bound) == (two.status, two.objective, two.bound)
    assert [v.varValue for v in first.variables()] == [v.varValue for v in second.variables()]


# --------------------------------------------------------------------------- siting fixtures


@pytest.mark.parametrize(
    ("budget", "weights", "objective"),
    [
        # Hand-checked in tests/test_siting.py: C1 6 classes; C2 6 classes under a 25 M
        # budget; C1 6 + C2 6 with travel at 1 unit per child·km.
        (None, None, 50_000_030.565),
        (25e6, None, 100_000_020.41),
        (None, SitingWeights(travel_weight=1e-3), 50_000_375.0),
    ],
)
def test_tiny_siting_matches_hand_checked_and_highs(
    budget: float | None, weights: SitingWeights | None, objective: float
) -> None:
    data = tiny_input(budget) if weights is None else tiny_input(budget, weights)
    scip = solve_siting(data, ORTOOLS)
    highs = solve_siting(data, SolverOptions())
    assert scip.info.status == highs.info.status == "optimal"
    assert scip.info.solver == "ortools-scip"
    assert scip.info.objective == pytest.approx(objective, abs=1e-6)
    assert highs.info.objective == pytest.approx(objective, abs=1e-6)
    assert scip.opened[["site_id", "classes"]].values.tolist() == (
        highs.opened[["site_id", "classes"]].values.tolist()
    )
    assert flows(scip) == pytest.approx(flows(highs))
    assert unmet(scip) == pytest.approx(unmet(highs))


@pytest.mark.parametrize("lexicographic", [False, True])
def test_random_two_stage_siting_agrees_with_highs(lexicographic: bool) -> None:
    data = random_input(lexicographic=lexicographic)
    scip = solve_siting(data, SolverOptions(backend="ortools", **EXACT))  # type: ignore[arg-type]
    highs = solve_siting(data, SolverOptions(**EXACT))  # type: ignore[arg-type]
    assert scip.info.status == highs.info.status == "optimal"
    assert scip.info.objective == pytest.approx(highs.info.objective, rel=1e-9, abs=1e-6)
    assert scip.unmet["unmet"].sum() == pytest.approx(highs.unmet["unmet"].sum(), abs=1e-6)
    assert len(scip.phases) == len(highs.phases) == (2 if lexicographic else 1)


def test_capacity_bound_siting_agrees_with_highs() -> None:
    # B's 1000 children reach only E1 (100 seats): 900 unmet whatever opens; A's 100 go to
    # the cheaper site C1 (20 M CNY). Travel: 100 * 2000 m (B -> E1) + 100 * 1000 m
    # (A -> C1) = 300000 child·m * 1e-5 = 3. Objective: 900 * 1e6 + 20 + 3 = 900000023.
    data: SitingInput = capacity_bound_input(lexicographic=False)
    scip = solve_siting(data, SolverOptions(backend="ortools", mip_gap=0.0))
    highs = solve_siting(data, SolverOptions(mip_gap=0.0))
    assert scip.info.objective == pytest.approx(900_000_023.0, abs=1e-6)
    assert highs.info.objective == pytest.approx(scip.info.objective, abs=1e-6)
    assert scip.opened[["site_id", "classes"]].values.tolist() == [["C1", 6]]


# --------------------------------------------------------------------------- OR-Library


@pytest.mark.parametrize("formulation", ["radius", "assignment"])
def test_pmed1_published_optimum(formulation: Formulation) -> None:
    # OR-Library pmedopt: pmed1 (n = 100, p = 5) = 5819.
    data = pmedian_siting_input(read_pmed(DATA / "pmed1.txt"), formulation)
    scip = solve_siting(data, SolverOptions(backend="ortools", **EXACT))  # type: ignore[arg-type]
    assert scip.info.status == "optimal", scip.info.message
    assert scip.info.objective == pytest.approx(5819, abs=1e-6)
    assert scip.info.bound == pytest.approx(5819, abs=1e-6)
    assert len(scip.opened) == 5
    if formulation == "radius":  # HiGHS on the assignment model takes 1-3 s (test_orlib)
        highs = solve_siting(data, SolverOptions(**EXACT))  # type: ignore[arg-type]
        assert highs.info.objective == pytest.approx(scip.info.objective, abs=1e-6)
        assert sorted(highs.opened["site_id"]) == sorted(scip.opened["site_id"])


def test_cap71_published_optimum_and_highs() -> None:
    # OR-Library capopt: cap71 (16 warehouses, 50 customers) = 932615.750.
    data = cap_siting_input(read_cap(DATA / "cap71.txt"))
    scip = solve_siting(data, SolverOptions(backend="ortools", **EXACT))  # type: ignore[arg-type]
    highs = solve_siting(data, SolverOptions(**EXACT))  # type: ignore[arg-type]
    assert scip.info.status == highs.info.status == "optimal"
    assert scip.info.objective == pytest.approx(932_615.750, abs=1e-3)
    assert highs.info.objective == pytest.approx(scip.info.objective, abs=1e-3)
    assert sorted(scip.opened["site_id"]) == sorted(highs.opened["site_id"])


# --------------------------------------------------------------------------- options


def test_backend_option_is_accepted_everywhere() -> None:
    assert SolverOptions(backend="ortools").backend == "ortools"
    assert SolverConfig(backend="ortools").backend == "ortools"
    with pytest.raises(ValueError, match="backend must be one of"):
        SolverOptions(backend="scip")  # type: ignore[arg-type]


def scip_then_highs() -> list[float | None]:
    """Solve the tiny MIP with SCIP (OR-Tools) and with HiGHS (highspy); both values."""
    import pulp

    from allocator.solvers import SolverOptions, solve_pulp

    values: list[float | None] = []
    for backend in ("ortools", "highs"):
        prob = pulp.LpProblem("pin", pulp.LpMaximize)
        x = prob.add_variable("x", 0, 10, pulp.LpInteger)
        y = prob.add_variable("y", 0, 10, pulp.LpInteger)
        prob += 3 * x + 2 * y
        prob += 2 * x + 2 * y <= 9, "c1"
        values.append(solve_pulp(prob, SolverOptions(backend=backend)).objective)
    return values


@pytest.mark.parametrize("first", ["import highspy", "from ortools.math_opt.python import mathopt"])
def test_scip_and_highs_in_one_fresh_process(first: str) -> None:
    # ortools and highspy both ship libhighs.so.1 (see tests/test_solver_pins.py); MathOpt
    # must not break HiGHS, whichever library is loaded first.
    code = "\n".join([first, inspect.getsource(scip_then_highs), "print(scip_then_highs())"])
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[12.0, 12.0]"
