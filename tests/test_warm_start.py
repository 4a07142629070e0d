"""Warm starts: every backend accepts the variables' initial values and says so.

Evidence that a start is *used*, not just accepted without error: on the market split
instance of tests/test_solvers.py, a one-node run finds an incumbent of 57 (HiGHS), 56
(CBC) or 93 (SCIP) on its own; given a start of 49 the same one-node run returns 49 or
better, and each solver's own log line about the start is checked.
"""

from __future__ import annotations

import logging
import re

import pulp
import pytest

from allocator.siting import build_siting_model
from allocator.solvers import Backend, SolverOptions, solve_pulp
from tests.test_siting import random_input, tiny_input
from tests.test_solvers import assert_values_form_solution, market_split

BACKENDS: list[Backend] = ["highs", "cbc", "ortools"]


def split_rows(prob: pulp.LpProblem) -> list[tuple[dict[str, float], float]]:
    """Rows of the market split model: ({x name: a_ij}, b_i), read from the model itself."""
    rows = []
    for constraint in prob.constraints():
        coefficients = {v.name: a for v, a in constraint.items() if v.name.startswith("x")}
        rows.append((coefficients, -constraint.constant))
    return rows


def local_search_start(prob: pulp.LpProblem) -> float:
    """Set a feasible start by 1-flip / 2-swap descent; return its objective Σ|a_i x - b_i|.

    Starts from x_j = j mod 2 and keeps any flip or swap that lowers the total slack, until
    none does. The slacks are then ``s+_i = max(0, b_i - a_i x)``, ``s-_i = max(0, a_i x -
    b_i)``, so the start satisfies every row.
    """
    rows = split_rows(prob)
    names = sorted(rows[0][0])
    x = {name: j % 2 for j, name in enumerate(names)}

    def slack(values: dict[str, int]) -> float:
        return sum(abs(sum(a.get(n, 0.0) * values[n] for n in names) - b) for a, b in rows)

    best = slack(x)
    improved = True
    while improved:
        improved = False
        moves = [(n,) for n in names] + [
            (m, n) for i, m in enumerate(names) for n in names[i + 1 :]
        ]
        for move in moves:
            if len(move) == 2 and x[move[0]] == x[move[1]]:
                continue
            for n in move:
                x[n] ^= 1
            value = slack(x)
            if value < best:
                best, improved = value, True
            else:
                for n in move:
                    x[n] ^= 1
    variables = {v.name: v for v in prob.variables()}
    for name, value in x.items():
        variables[name].setInitialValue(float(value))
    for i, (a, b) in enumerate(rows):
        activity = sum(a.get(n, 0.0) * x[n] for n in names)
        variables[f"sp{i}"].setInitialValue(max(0.0, b - activity))
        variables[f"sm{i}"].setInitialValue(max(0.0, activity - b))
    assert pulp.value(prob.objective) == pytest.approx(best)
    return best


def set_start(prob: pulp.LpProblem, values: dict[str, float | None]) -> None:
    """Initial values by variable name, clipped into the bounds (solvers may overshoot a
    bound by their feasibility tolerance, e.g. 126.00000000000001 for an upper bound 126)."""
    for variable in prob.variables():
        value = values[variable.name]
        assert value is not None, variable.name
        if variable.lowBound is not None:
            value = max(value, variable.lowBound)
        if variable.upBound is not None:
            value = min(value, variable.upBound)
        variable.setInitialValue(value)


START = 49.0  # what local_search_start reaches on market_split() (6 x 50, seed 0)
COLD = {"highs": 57.0, "cbc": 56.0, "ortools": 93.0}  # one node, no start (measured)


def test_local_search_start_value() -> None:
    prob = market_split()
    assert local_search_start(prob) == START
    assert pulp.value(prob.objective) == START


@pytest.mark.parametrize("backend", BACKENDS)
def test_start_beats_the_cold_one_node_run(backend: Backend) -> None:
    options = SolverOptions(backend=backend, node_limit=1)
    cold = solve_pulp(market_split(), options)
    assert cold.status == "feasible"
    assert cold.objective == pytest.approx(COLD[backend])
    assert "warm start" not in cold.message

    prob = market_split()
    local_search_start(prob)
    warm = solve_pulp(prob, SolverOptions(backend=backend, node_limit=1, warm_start=True))
    assert warm.status == "feasible", warm.message
    assert warm.objective is not None and warm.objective <= START + 1e-6
    assert warm.objective < COLD[backend]
    assert_values_form_solution(prob, warm)
    assert "warm start: 62 of 62 values given" in warm.message


def test_highs_reports_the_start() -> None:
    prob = market_split()
    local_search_start(prob)
    info = solve_pulp(prob, SolverOptions(node_limit=1, warm_start=True))
    assert "MIP start solution is feasible, objective value is 49" in info.message


def test_cbc_log_reports_the_start(caplog: pytest.LogCaptureFixture) -> None:
    prob = market_split()
    local_search_start(prob)
    options = SolverOptions(backend="cbc", node_limit=1, warm_start=True, msg=True)
    with caplog.at_level(logging.INFO, logger="allocator.solvers.pulp_backend"):
        info = solve_pulp(prob, options)
    read = re.search(r"MIPStart values read for (\d+) variables", caplog.text)
    cost = re.search(r"MIPStart provided solution with cost (\S+)", caplog.text)
    assert read is not None and int(read.group(1)) == 62  # 50 x, 6 s+, 6 s-
    assert cost is not None and float(cost.group(1)) == START
    assert "MIPStart provided solution with cost 49" in info.message


def test_scip_reports_the_start() -> None:
    prob = market_split()
    local_search_start(prob)
    info = solve_pulp(prob, SolverOptions(backend="ortools", node_limit=1, warm_start=True))
    found = re.search(r"feasible solution given by solution candidate storage, new primal "
                      r"bound (\S+)", info.message)
    assert found is not None, info.message
    assert float(found.group(1)) == START


def test_highs_completes_a_partial_start() -> None:
    # Only the 50 binaries are given: HiGHS fixes them and solves an LP for the slacks,
    # which gives the same start of 49.
    prob = market_split()
    local_search_start(prob)
    for variable in prob.variables():
        if not variable.name.startswith("x"):
            variable.varValue = None
    info = solve_pulp(prob, SolverOptions(node_limit=1, warm_start=True))
    assert "warm start: 50 of 62 values given" in info.message
    assert "solving LP for user-supplied values of discrete variables" in info.message
    assert "MIP start solution is feasible, objective value is 49" in info.message
    assert info.objective is not None and info.objective <= START + 1e-6


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_initial_values_is_no_start(backend: Backend) -> None:
    info = solve_pulp(market_split(), SolverOptions(backend=backend, node_limit=1, warm_start=True))
    assert "warm start: 0 of 62 values given" in info.message
    assert "MIPStart" not in info.message  # CBC got no all-zero mst file
    assert info.objective == pytest.approx(COLD[backend])


def test_stale_values_are_ignored_without_warm_start() -> None:
    prob = market_split()
    local_search_start(prob)
    info = solve_pulp(prob, SolverOptions(node_limit=1))
    assert info.objective == pytest.approx(COLD["highs"])


# --------------------------------------------------------------------------- same optimum


@pytest.mark.parametrize("backend", BACKENDS)
def test_start_from_a_worse_plan_gives_the_same_optimum(backend: Backend) -> None:
    # Start: the optimal plan under a 25 M CNY budget (C2 6 classes, 100 unmet children,
    # objective 100000020.41, hand-checked in tests/test_siting.py), which is feasible
    # without the budget too. Optimum without budget: 50000030.565 (C1 6 classes).
    budgeted, _ = build_siting_model(tiny_input(budget_cny=25e6))
    assert solve_pulp(budgeted, SolverOptions(backend=backend)).objective == pytest.approx(
        100_000_020.41, abs=1e-6
    )
    values = {v.name: v.varValue for v in budgeted.variables()}
    prob, _ = build_siting_model(tiny_input())
    set_start(prob, values)
    assert pulp.value(prob.objective) == pytest.approx(100_000_020.41, abs=1e-6)
    info = solve_pulp(prob, SolverOptions(backend=backend, warm_start=True))
    assert info.status == "optimal"
    assert info.objective == pytest.approx(50_000_030.565, abs=1e-6)
    if backend == "highs":
        # HiGHS does not see PuLP's objective constant (Z3's 50 unmet children * 1e6):
        # 100000020.41 - 5e7 = 50000020.41.
        assert "MIP start solution is feasible, objective value is 50000020.41" in info.message


@pytest.mark.parametrize("backend", BACKENDS)
def test_warm_and_cold_optimum_agree_on_random_siting(backend: Backend) -> None:
    exact = SolverOptions(backend=backend, mip_gap=0.0, time_limit_s=120.0)
    cold, _ = build_siting_model(random_input())
    cold_info = solve_pulp(cold, exact)
    # Start from HiGHS's one-node plan (default gap 1e-4): 18000302.55 against the exact
    # optimum 18000301.91, so the start is feasible but not optimal.
    start, _ = build_siting_model(random_input())
    start_info = solve_pulp(start, SolverOptions(node_limit=1))
    assert start_info.objective is not None and cold_info.objective is not None
    assert start_info.objective > cold_info.objective + 0.5
    values = {v.name: v.varValue for v in start.variables()}
    warm, _ = build_siting_model(random_input())
    set_start(warm, values)
    warm_info = solve_pulp(
        warm, SolverOptions(backend=backend, mip_gap=0.0, time_limit_s=120.0, warm_start=True)
    )
    assert cold_info.status == warm_info.status == "optimal"
    assert warm_info.objective == pytest.approx(cold_info.objective, rel=1e-9, abs=1e-6)
