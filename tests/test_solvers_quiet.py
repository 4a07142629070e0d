"""A quiet HiGHS solve writes nothing to standard output (file descriptor 1).

HiGHS 1.12 prints ``HighsMipSolverData::transformNewIntegerFeasibleSolution
tmpSolver.run();`` with C ``printf`` whatever its ``output_flag`` (seen on the
generic-plan scenario: 8 lines in a 30 s siting solve). The model here is too small to
make HiGHS do that, so one test prints that line the same way (libc ``printf`` through
ctypes, buffered by C like HiGHS's) from inside the solver call.

Model: minimise x + 3y with x + y >= 3.5, x integer in [0, 10], y in [0, 10]: x = 4,
y = 0, objective 4 (x = 3, y = 0.5 costs 4.5).
"""

from __future__ import annotations

import ctypes
import logging
from typing import Any

import pulp
import pytest

import allocator.solvers.pulp_backend as backend
from allocator.solvers import SolverOptions, solve_pulp

LINE = "HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();"


def model() -> tuple[pulp.LpProblem, pulp.LpVariable, pulp.LpVariable]:
    problem = pulp.LpProblem("quiet", pulp.LpMinimize)
    x = problem.add_variable("x", 0, 10, pulp.LpInteger)
    y = problem.add_variable("y", 0, 10)
    problem += x + 3 * y
    problem += x + y >= 3.5
    return problem, x, y


@pytest.fixture
def printing_highs(monkeypatch: pytest.MonkeyPatch) -> None:
    """HiGHS's solver call, printing LINE with C printf first (as HiGHS itself does)."""
    original = backend._HiGHS.callSolver

    def call(self: Any, lp: pulp.LpProblem) -> None:
        ctypes.CDLL(None).printf(f"{LINE}\n".encode())
        original(self, lp)

    monkeypatch.setattr(backend._HiGHS, "callSolver", call)


def test_quiet_solve_writes_nothing_to_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    problem, x, y = model()
    info = solve_pulp(problem, SolverOptions())
    backend._flush_c_stdout()
    assert capfd.readouterr().out == ""
    assert info.status == "optimal" and info.objective == 4.0
    assert (x.varValue, y.varValue) == (4.0, 0.0)


def test_c_printf_of_a_quiet_solve_goes_to_the_debug_log(
        printing_highs: None, capfd: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    problem, _, _ = model()
    with caplog.at_level(logging.DEBUG, logger=backend.__name__):
        info = solve_pulp(problem, SolverOptions(warm_start=True))
    backend._flush_c_stdout()
    assert capfd.readouterr().out == ""
    assert info.objective == 4.0
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert debug == [f"highs stdout: {LINE}"]


def test_msg_leaves_the_solver_log_on_stdout(printing_highs: None,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    problem, _, _ = model()
    info = solve_pulp(problem, SolverOptions(msg=True))
    backend._flush_c_stdout()
    out = capfd.readouterr().out
    assert info.objective == 4.0
    assert out.startswith("Running HiGHS ") and f"\n{LINE}\n" in out
    assert "  Status            Optimal\n" in out
