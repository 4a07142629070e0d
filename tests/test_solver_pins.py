"""Regression test for the solver pins (libhighs.so clash, google/or-tools#5246).

ortools 9.15 and highspy both ship ``libhighs.so.1``; whichever loads first wins. With the
pins ``pulp>=3.3,<4``, ``ortools==9.15.*``, ``highspy==1.12.0`` (highspy 1.12.0 is the HiGHS
inside ortools 9.15) PuLP+HiGHS and CP-SAT both work in one process, in either import order.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from importlib.metadata import version

import pytest
from packaging.version import Version

EXPECTED = 12.0  # max 3x + 2y s.t. 2x + 2y <= 9, x, y integer in [0, 10]: x = 4, y = 0


def pulp_highs_value() -> float:
    """Solve the tiny MIP with PuLP + HiGHS (highspy); return the objective."""
    import pulp

    prob = pulp.LpProblem("pin_check", pulp.LpMaximize)
    x = prob.add_variable("x", 0, 10, pulp.LpInteger)
    y = prob.add_variable("y", 0, 10, pulp.LpInteger)
    prob += 3 * x + 2 * y
    prob += 2 * x + 2 * y <= 9, "c1"
    prob.solve(pulp.HiGHS(msg=False, threads=1))
    assert prob.solverModel.getModelStatus().name == "kOptimal"
    return float(pulp.value(prob.objective))


def cp_sat_value() -> float:
    """Solve the same model with OR-Tools CP-SAT; return the objective."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    x = model.new_int_var(0, 10, "x")
    y = model.new_int_var(0, 10, "y")
    model.add(2 * x + 2 * y <= 9)
    model.maximize(3 * x + 2 * y)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    assert solver.solve(model) == cp_model.OPTIMAL
    return float(solver.objective_value)


def _run_in_subprocess(order: str) -> list[float]:
    """Run both tiny solves in a fresh interpreter, in ``order``; return their values."""
    calls = (
        "print(pulp_highs_value()); print(cp_sat_value())"
        if order == "pulp_first"
        else "print(cp_sat_value()); print(pulp_highs_value())"
    )
    imports = "import pulp" if order == "pulp_first" else "import ortools.sat.python.cp_model"
    functions = [inspect.getsource(pulp_highs_value), inspect.getsource(cp_sat_value)]
    code = "\n".join([imports, *functions, calls])
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"order {order}: rc={done.returncode}\n{done.stderr[-2000:]}"
    return [float(line) for line in done.stdout.split()]


def test_pulp_highs_then_cp_sat_in_this_process() -> None:
    import pulp  # noqa: F401 - the point: pulp (and with it highspy) is loaded first

    assert pulp_highs_value() == pytest.approx(EXPECTED)
    assert cp_sat_value() == pytest.approx(EXPECTED)


@pytest.mark.parametrize("order", ["pulp_first", "ortools_first"])
def test_both_import_orders_in_fresh_interpreter(order: str) -> None:
    # In this pytest process other tests may already have imported ortools, so the clean
    # orders are checked where nothing else was loaded before.
    assert _run_in_subprocess(order) == pytest.approx([EXPECTED, EXPECTED])


def test_installed_versions_match_pins() -> None:
    pulp_version = Version(version("pulp"))
    assert Version("3.3") <= pulp_version < Version("4"), pulp_version
    ortools_version = Version(version("ortools"))
    assert (ortools_version.major, ortools_version.minor) == (9, 15), ortools_version
    assert version("highspy") == "1.12.0"
