"""Tests of the CP-SAT adapter: statuses, objective, bound, gap and determinism."""

from __future__ import annotations

import math
import random

import pytest
from ortools.sat.python import cp_model

from allocator.solvers import CpSatOptions, SolverOptions, solve_cpsat


def tiny_model() -> tuple[cp_model.CpModel, cp_model.IntVar, cp_model.IntVar]:
    """Max 3x + 2y s.t. 2x + 2y <= 9, x, y in [0, 10]: x = 4, y = 0, value 12."""
    model = cp_model.CpModel()
    x = model.new_int_var(0, 10, "x")
    y = model.new_int_var(0, 10, "y")
    model.add(2 * x + 2 * y <= 9)
    model.maximize(3 * x + 2 * y)
    return model, x, y


def knapsack(n: int = 200, m: int = 5, seed: int = 3) -> cp_model.CpModel:
    """A random multi-dimensional 0-1 knapsack (maximise), too big to prove at once."""
    rng = random.Random(seed)
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(n)]
    for _ in range(m):
        w = [rng.randint(20, 100) for _ in range(n)]
        model.add(sum(wi * xi for wi, xi in zip(w, x, strict=True)) <= sum(w) // 2)
    model.maximize(sum(rng.randint(20, 100) * xi for xi in x))
    return model


def market_split(n: int = 42, rows: int = 7, seed: int = 1) -> cp_model.CpModel:
    """Equality knapsacks with no objective: very hard to find any solution."""
    rng = random.Random(seed)
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(n)]
    for _ in range(rows):
        a = [rng.randint(0, 99) for _ in x]
        model.add(sum(ai * xi for ai, xi in zip(a, x, strict=True)) == sum(a) // 2)
    return model


def test_optimal_reports_objective_bound_and_zero_gap() -> None:
    model, x, y = tiny_model()
    info, solver = solve_cpsat(model, CpSatOptions())
    assert info.status == "optimal" and info.has_solution
    assert info.objective == pytest.approx(12.0)
    assert info.bound == pytest.approx(12.0)
    assert info.gap == pytest.approx(0.0)
    assert (solver.value(x), solver.value(y)) == (4, 0)
    assert info.solver == "cp-sat" and info.solver_version.startswith("9.15")
    assert "OPTIMAL" in info.message and info.seconds >= 0


def test_objective_scale_divides_objective_and_bound() -> None:
    model, _, _ = tiny_model()
    info, _ = solve_cpsat(model, CpSatOptions(), objective_scale=100)
    assert info.objective == pytest.approx(0.12) and info.bound == pytest.approx(0.12)


def test_infeasible_is_a_status_not_an_exception() -> None:
    model, x, y = tiny_model()
    model.add(x + y >= 12)
    info, _ = solve_cpsat(model, CpSatOptions())
    assert info.status == "infeasible" and not info.has_solution
    assert info.objective is None and info.bound is None and info.gap is None


def test_work_limited_run_is_feasible_with_bound_and_gap() -> None:
    options = CpSatOptions(time_limit_s=None, deterministic_time_limit=0.01)
    info, _ = solve_cpsat(knapsack(), options)
    assert info.status == "feasible" and info.has_solution
    assert info.objective is not None and info.bound is not None
    assert info.bound >= info.objective  # maximisation: the bound is an upper bound
    assert info.gap == pytest.approx((info.bound - info.objective) / abs(info.objective))
    assert 0 < info.gap < 0.05
    again, _ = solve_cpsat(knapsack(), options)  # a work limit repeats exactly
    assert (again.status, again.objective, again.bound) == (info.status, info.objective,
                                                              info.bound)


def test_wall_clock_limited_run_keeps_its_incumbent() -> None:
    info, _ = solve_cpsat(knapsack(n=600), CpSatOptions(time_limit_s=2.0))
    assert info.status in ("feasible", "optimal")
    assert info.objective is not None and info.bound is not None and info.gap is not None
    assert info.seconds < 15


def test_limit_without_solution_is_no_solution() -> None:
    options = CpSatOptions(time_limit_s=None, deterministic_time_limit=0.001)
    info, _ = solve_cpsat(market_split(), options)
    assert info.status == "no_solution" and not info.has_solution
    assert info.objective is None


def test_model_without_objective_reports_zero() -> None:
    model = cp_model.CpModel()
    x = model.new_int_var(0, 3, "x")
    model.add(x >= 2)
    info, solver = solve_cpsat(model, CpSatOptions())
    assert info.status == "optimal" and info.objective == 0.0 and info.bound == 0.0
    assert solver.value(x) >= 2


def test_invalid_model_is_an_error_with_the_validation_text() -> None:
    model = cp_model.CpModel()
    model.new_int_var(0, 10, "v")
    domain = model.proto.variables[0].domain
    domain[0], domain[1] = 5, 1
    info, _ = solve_cpsat(model, CpSatOptions())
    assert info.status == "error" and "MODEL_INVALID" in info.message
    assert "domain" in info.message


def test_single_worker_with_seed_is_deterministic() -> None:
    values = []
    for _ in range(2):
        model = knapsack(n=80)
        info, solver = solve_cpsat(model, CpSatOptions(seed=7))
        values.append((info.objective, [solver.value(v) for v in _bools(model)]))
    assert values[0] == values[1]


def _bools(model: cp_model.CpModel) -> list[cp_model.IntVar]:
    return [model.get_int_var_from_proto_index(i) for i in range(len(model.proto.variables))]


def test_options_are_validated_and_mapped() -> None:
    with pytest.raises(ValueError, match="relative_gap"):
        CpSatOptions(relative_gap=1.5)
    with pytest.raises(ValueError, match="num_workers"):
        CpSatOptions(num_workers=0)
    with pytest.raises(ValueError, match="linearization_level"):
        CpSatOptions(linearization_level=3)
    mapped = CpSatOptions.from_solver_options(
        SolverOptions(time_limit_s=12.0, mip_gap=0.01, threads=2, seed=5, msg=True))
    assert (mapped.time_limit_s, mapped.relative_gap, mapped.num_workers, mapped.seed,
            mapped.log) == (12.0, 0.01, 2, 5, True)


def test_log_goes_to_the_logger(caplog: pytest.LogCaptureFixture) -> None:
    model, _, _ = tiny_model()
    with caplog.at_level("INFO", logger="allocator.solvers.cpsat"):
        solve_cpsat(model, CpSatOptions(log=True))
    assert any("cp-sat:" in r.getMessage() for r in caplog.records)


def test_interleaved_parallel_search_is_reproducible() -> None:
    options = CpSatOptions(num_workers=2, interleave_search=True, time_limit_s=None,
                           deterministic_time_limit=0.05)
    first, _ = solve_cpsat(knapsack(), options)
    second, _ = solve_cpsat(knapsack(), options)
    assert first.has_solution and (first.objective, first.bound) == (second.objective,
                                                                      second.bound)
    assert not math.isnan(first.objective or math.nan)
