"""Solve a PuLP model with HiGHS, CBC or (for cross-checking) SCIP and report what it proved.

PuLP's own status is not a proof: a run stopped by its time limit comes back ``Optimal``
(see ``reference/stack-notes.md``). This adapter reads the verdict, the incumbent objective
and the best bound from the solver itself:

* HiGHS (default): PuLP's highspy interface; model status, primal solution status and
  ``mip_dual_bound`` are read from the ``highspy.Highs`` object PuLP keeps in
  ``problem.solverModel``.
* CBC: the binary bundled with PuLP 3.x, run through ``pulp.COIN_CMD`` (the same binary as
  the deprecated ``PULP_CBC_CMD``, without its deprecation warning); the verdict and bound
  are parsed from the CBC log (:mod:`allocator.solvers.cbc_log`).
* OR-Tools (``backend="ortools"``): SCIP through MathOpt, see
  :mod:`allocator.solvers.ortools_backend`.

Warm start (``SolverOptions.warm_start``): the variables' current values (set with
``LpVariable.setInitialValue``) go to the solver as a starting solution. PuLP 3.3's highspy
interface ignores ``warmStart``; here the values that are set are passed with
``Highs.setSolution`` (HiGHS completes a partial start by fixing the given integer values
and solving an LP) and HiGHS's log is written to a temporary file to report what HiGHS made
of the start. CBC gets PuLP's mst file (``-mips``; PuLP writes 0 for unset values) and its
``MIPStart`` log lines are reported. The report's message ends with ``warm start: ...``.

Objective and bound are reported in the problem's own sense and include the objective's
constant term (which PuLP does not pass to either solver).

Quiet HiGHS runs (``msg=False``): HiGHS 1.12 still writes a few lines with C ``printf``,
past its own ``output_flag`` (e.g. ``HighsMipSolverData::transformNewIntegerFeasibleSolution
tmpSolver.run();`` when it repairs a solution after a presolve restart). While a quiet
HiGHS run lasts, file descriptor 1 (standard output) is pointed at a temporary file; what
lands there goes to this module's logger at DEBUG level (``allocator --debug`` shows it),
line by line with a ``highs stdout:`` prefix. The redirection is process-wide for the
length of the run (output of other threads meanwhile goes to the log too). With
``msg=True`` nothing is redirected: HiGHS's log goes to standard output.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pulp

from allocator.solvers.base import SolveInfo, SolverOptions, SolveStatus, relative_gap
from allocator.solvers.cbc_log import CbcLogSummary, cbc_status, parse_cbc_log

__all__ = ["solve_pulp"]

logger = logging.getLogger(__name__)

_HMS = highspy.HighsModelStatus
_HIGHS_ERRORS = frozenset(
    {
        _HMS.kNotset,
        _HMS.kLoadError,
        _HMS.kModelError,
        _HMS.kPresolveError,
        _HMS.kSolveError,
        _HMS.kPostsolveError,
    }
)
_HIGHS_FEASIBLE = int(highspy.SolutionStatus.kSolutionStatusFeasible)
# Log lines in which HiGHS and CBC say what became of a warm start.
_HIGHS_START = re.compile(r"MIP start|[Uu]ser-supplied")
_CBC_START = re.compile(r"mipstart", re.IGNORECASE)
_CBC_START_FILE = "opening mipstart file"


def solve_pulp(problem: pulp.LpProblem, options: SolverOptions) -> SolveInfo:
    """Solve ``problem`` in place and report status, objective, bound and gap.

    Never raises because a run is not optimal: infeasible, unbounded, stopped by a limit
    with or without incumbent, or a solver failure all come back as a :class:`SolveInfo`.
    With a solution (``info.has_solution``) the PuLP variables hold it, the incumbent of a
    run stopped by a limit included; without one their values are reset to ``None`` (CBC
    would otherwise leave LP-relaxation values in them).

    Parameters
    ----------
    problem
        PuLP model; solved in place.
    options
        Backend (``"ortools"`` is passed to
        :func:`allocator.solvers.ortools_backend.solve_ortools`), limits (seconds, nodes),
        relative gap, threads, seed and warm start (see the module docstring).

    Returns
    -------
    SolveInfo
        What the solver proved; objective and bound in the problem's objective units.
    """
    if options.backend == "ortools":
        from allocator.solvers.ortools_backend import solve_ortools  # loads OR-Tools lazily

        return solve_ortools(problem, options)
    solve = _solve_highs if options.backend == "highs" else _solve_cbc
    info = solve(problem, options)
    if not info.has_solution:
        for variable in problem.variables():
            variable.varValue = None
    logger.info(
        "solved %s with %s %s in %.2f s: %s",
        problem.name,
        info.solver,
        info.solver_version,
        info.seconds,
        info.message,
    )
    return info


# --------------------------------------------------------------------------- helpers


def _user_objective(problem: pulp.LpProblem) -> float | None:
    """Objective of the values held by the variables, constant included; ``None`` if unset."""
    if problem.objective is None:
        return 0.0
    value = problem.objective.value()
    return None if value is None else float(value)


def _objective_constant(problem: pulp.LpProblem) -> float:
    """Constant term of the objective (objective units)."""
    return 0.0 if problem.objective is None else float(problem.objective.constant)


def _shift_bound(
    solver_bound: float,
    solver_objective: float | None,
    objective: float | None,
    constant: float,
) -> float:
    """Put a solver's bound on the same footing as the reported objective.

    Both solvers work without PuLP's objective constant. With an incumbent the bound is
    ``objective - (solver_objective - solver_bound)``, which is right whether or not the
    solver saw the constant; without one it is ``solver_bound + constant``. Inputs are in
    the problem's own sense (a maximisation's values positive).
    """
    if objective is not None and solver_objective is not None and math.isfinite(solver_objective):
        return objective - (solver_objective - solver_bound)
    return solver_bound + constant


def _fmt(value: float | None) -> str:
    """Short number for messages."""
    return "n/a" if value is None else f"{value:.10g}"


def _describe(verdict: str, objective: float | None, bound: float | None) -> str:
    """Human-readable one-liner: solver verdict, objective, bound and gap."""
    gap = relative_gap(objective, bound)
    gap_text = "n/a" if gap is None else f"{gap:.4%}"
    return f"{verdict}; objective {_fmt(objective)}, bound {_fmt(bound)}, gap {gap_text}"


def _flush_c_stdout() -> None:
    """Flush C's ``stdout`` buffer (what ``printf`` wrote and has not yet passed on)."""
    with contextlib.suppress(OSError, AttributeError, TypeError):  # no C library to ask
        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def _stdout_to_log(quiet: bool) -> Iterator[None]:
    """While it lasts, send what is written to file descriptor 1 to the DEBUG log.

    Parameters
    ----------
    quiet
        Redirect; ``False`` leaves standard output alone (the solver log is wanted there).
    """
    if not quiet:
        yield
        return
    try:
        saved = os.dup(1)
    except OSError:  # no standard output to protect
        yield
        return
    with contextlib.suppress(ValueError, OSError, AttributeError):
        sys.stdout.flush()
    _flush_c_stdout()
    with tempfile.TemporaryFile(prefix="allocator-highs-stdout-") as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError, OSError, AttributeError):
                sys.stdout.flush()
            _flush_c_stdout()
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", errors="replace")
    for line in text.splitlines():
        if line.strip():
            logger.debug("highs stdout: %s", line.rstrip())


def _timed(run: Callable[[], Any]) -> tuple[str | None, float]:
    """Run ``run()``; return (error text or ``None``, wall-clock seconds)."""
    start = time.perf_counter()
    try:
        run()
    except (pulp.PulpSolverError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}", time.perf_counter() - start
    return None, time.perf_counter() - start


def _error_info(solver: str, version: str, seconds: float, message: str) -> SolveInfo:
    """Report of a run that failed before giving a verdict."""
    logger.error("%s failed: %s", solver, message)
    return SolveInfo("error", None, None, None, seconds, solver, version, message)


def _start_values(problem: pulp.LpProblem) -> int:
    """Number of variables with an initial value (``varValue`` not ``None``)."""
    return sum(v.varValue is not None for v in problem.variables())


def _with_start_report(info: SolveInfo, given: int, total: int, said: list[str]) -> SolveInfo:
    """``info`` with ``; warm start: ...`` (values given, the solver's own lines) appended."""
    head = f"{given} of {total} values given"
    tail = ": " + " | ".join(said) if said else "; the solver's log says nothing about it"
    return dataclasses.replace(info, message=f"{info.message}; warm start: {head}{tail}")


# --------------------------------------------------------------------------- HiGHS


class _HiGHS(pulp.HiGHS):  # type: ignore[misc]  # pulp ships no type information
    """PuLP's HiGHS interface with two repairs for PuLP 3.3 / HiGHS 1.12.

    * Model statuses PuLP does not map (``kSolutionLimit`` after a node limit,
      ``kMemoryLimit``, ``kHighsInterrupt``) raise ``KeyError`` in PuLP after the values
      were loaded; here they give a neutral PuLP status and :func:`_highs_info` reads the
      real one from highspy.
    * HiGHS keeps one thread pool per process; a run asking for another thread count fails
      at once ("global scheduler has already been initialized"). The pool is then reset and
      the run retried once.

    With ``warm_start`` the variables' values that are set are passed to HiGHS with
    ``setSolution`` before the run (PuLP's own class ignores ``warmStart``), and the log
    file named in the options, if any, is closed after it.
    """

    def __init__(self, *, warm_start: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warm_start = warm_start

    def callSolver(self, lp: pulp.LpProblem) -> None:  # noqa: N802  (PuLP's method name)
        """Run HiGHS; rebuild the thread pool and retry once if HiGHS did not start."""
        highs = lp.solverModel
        if self.warm_start:
            _set_highs_start(lp, highs)
        if highs.run() == highspy.HighsStatus.kError and highs.getModelStatus() == _HMS.kNotset:
            logger.warning(
                "HiGHS did not start (thread pool built for another thread count?); "
                "resetting the HiGHS thread pool and retrying once"
            )
            highspy.Highs.resetGlobalScheduler(True)
            highs.run()
        if self.optionsDict.get("log_file"):
            highs.setOptionValue("log_file", "")  # close the temporary log file

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, int]:  # noqa: N802
        """Load values and return PuLP's statuses; neutral ones for unmapped statuses."""
        try:
            statuses: tuple[int, int] = super().findSolutionValues(lp)
        except KeyError:
            return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound
        return statuses


def _set_highs_start(lp: pulp.LpProblem, highs: Any) -> None:
    """Pass the values of the variables that have one to HiGHS as a (partial) solution.

    Uses the column indices PuLP's ``buildSolverModel`` stored in ``var.index``.
    """
    given = [(v.index, float(v.varValue)) for v in lp.variables() if v.varValue is not None]
    if not given:
        return
    index = np.array([k for k, _ in given], dtype=np.int32)
    value = np.array([x for _, x in given], dtype=np.float64)
    status = highs.setSolution(len(given), index, value)
    if status == highspy.HighsStatus.kError:
        logger.warning("HiGHS rejected the warm start (%d values)", len(given))


def _highs_solver(options: SolverOptions, log_path: Path | None = None) -> _HiGHS:
    """PuLP HiGHS solver configured from ``options``; HiGHS also logs to ``log_path``."""
    params: dict[str, Any] = {"random_seed": options.seed}
    if options.node_limit is not None:
        params["mip_max_nodes"] = options.node_limit
    if log_path is not None:
        params |= {"output_flag": True, "log_to_console": options.msg}
        params["log_file"] = str(log_path)
    return _HiGHS(
        warm_start=options.warm_start,
        msg=options.msg,
        gapRel=options.mip_gap,
        threads=options.threads,
        timeLimit=options.time_limit_s,
        **params,
    )


def _highs_status(model_status: Any, has_primal: bool) -> SolveStatus:
    """Map a HiGHS model status (and whether a primal solution exists) to a status."""
    if model_status in (_HMS.kOptimal, _HMS.kModelEmpty):
        return "optimal"
    if model_status in (_HMS.kInfeasible, _HMS.kUnboundedOrInfeasible):
        return "infeasible"
    if model_status == _HMS.kUnbounded:
        return "unbounded"
    if model_status in _HIGHS_ERRORS:
        return "error"
    # Time, iteration, node/solution, memory limits, interrupts, objective bound/target,
    # unknown: the run stopped; it holds a solution only if HiGHS says one is feasible.
    return "feasible" if has_primal else "no_solution"


def _highs_bound(
    problem: pulp.LpProblem,
    highs: Any,
    status: SolveStatus,
    objective: float | None,
    has_primal: bool,
) -> float | None:
    """Best proven bound in the problem's sense, constant included; ``None`` if unproven.

    MIP: HiGHS's ``mip_dual_bound`` (HiGHS minimises ``sense * f``). LP: the objective when
    optimal (strong duality), otherwise none.
    """
    if status in ("infeasible", "unbounded", "error"):
        return None
    if not problem.isMIP():
        return objective if status == "optimal" else None
    info = highs.getInfo()
    dual_bound = float(info.mip_dual_bound)
    if not math.isfinite(dual_bound):
        return objective if status == "optimal" else None
    sense = -1.0 if problem.sense == pulp.LpMaximize else 1.0
    solver_objective = sense * float(info.objective_function_value) if has_primal else None
    return _shift_bound(
        sense * dual_bound, solver_objective, objective, _objective_constant(problem)
    )


def _highs_info(problem: pulp.LpProblem, seconds: float) -> SolveInfo:
    """Build the report from the highspy object PuLP left in ``problem.solverModel``."""
    highs = problem.solverModel
    version = str(highs.version())
    model_status = highs.getModelStatus()
    verdict = f"HiGHS: {highs.modelStatusToString(model_status)}"
    info = highs.getInfo()
    has_primal = int(info.primal_solution_status) == _HIGHS_FEASIBLE
    status = _highs_status(model_status, has_primal)
    if model_status == _HMS.kUnboundedOrInfeasible:
        verdict += " (reported as infeasible)"
    objective = _user_objective(problem) if status in ("optimal", "feasible") else None
    bound = _highs_bound(problem, highs, status, objective, has_primal)
    return SolveInfo(
        status=status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        seconds=seconds,
        solver="highs",
        solver_version=version,
        message=_describe(verdict, objective, bound),
    )


def _solve_highs(problem: pulp.LpProblem, options: SolverOptions) -> SolveInfo:
    """Solve with HiGHS through PuLP and read the verdict from highspy."""
    given = _start_values(problem) if options.warm_start else 0
    with tempfile.TemporaryDirectory(prefix="allocator-highs-") as tmp:
        log_path = Path(tmp) / "highs.log" if options.warm_start else None
        with _stdout_to_log(not options.msg):
            error, seconds = _timed(lambda: problem.solve(_highs_solver(options, log_path)))
        text = log_path.read_text(errors="replace") if log_path and log_path.exists() else ""
    if error is not None or problem.solverModel is None:
        version = highspy.Highs().version()
        return _error_info("highs", str(version), seconds, error or "HiGHS did not run")
    info = _highs_info(problem, seconds)
    if not options.warm_start:
        return info
    said = [line.strip() for line in text.splitlines() if _HIGHS_START.search(line)]
    return _with_start_report(info, given, len(problem.variables()), said)


# --------------------------------------------------------------------------- CBC


def _cbc_path() -> str | None:
    """Path of the CBC binary bundled with PuLP, else ``cbc`` on PATH, else ``None``."""
    bundled = getattr(getattr(pulp, "PULP_CBC_CMD", None), "pulp_cbc_path", None)
    if isinstance(bundled, str) and os.access(bundled, os.X_OK):
        return bundled
    on_path = pulp.COIN_CMD(msg=False)
    return str(on_path.path) if on_path.available() else None


def _cbc_solver(options: SolverOptions, path: str, log_path: Path) -> pulp.COIN_CMD:
    """PuLP CBC command configured from ``options``, logging to ``log_path``.

    Threads: 1 runs CBC serially; ``n > 1`` passes ``100 + n`` (CBC's deterministic
    parallel mode). Seed 0 keeps CBC's fixed default seeds; ``s > 0`` sets
    ``randomCbcSeed`` and ``randomSeed`` to ``s``.
    """
    extra: list[str] = []
    if options.seed > 0:
        extra += [f"randomCbcSeed {options.seed}", f"randomSeed {options.seed}"]
    return pulp.COIN_CMD(
        path=path,
        msg=False,
        warmStart=options.warm_start,
        timeLimit=options.time_limit_s,
        gapRel=options.mip_gap,
        threads=100 + options.threads if options.threads > 1 else None,
        maxNodes=options.node_limit,
        options=extra,
        logPath=str(log_path),
    )


def _cbc_bound(
    problem: pulp.LpProblem,
    summary: CbcLogSummary,
    status: SolveStatus,
    objective: float | None,
) -> float | None:
    """Best proven bound in the problem's sense, constant included; ``None`` if unproven.

    CBC prints no bound once it proves optimality (within ``ratioGap``); the bound is then
    the objective.
    """
    if status == "optimal":
        return objective
    if status not in ("feasible", "no_solution") or summary.bound is None:
        return None
    if math.isinf(summary.bound):
        return None
    return _shift_bound(summary.bound, summary.objective, objective, _objective_constant(problem))


def _run_cbc(
    problem: pulp.LpProblem, options: SolverOptions, path: str
) -> tuple[str | None, float, str]:
    """Run CBC on ``problem``; return (error text or ``None``, seconds, log text)."""
    with tempfile.TemporaryDirectory(prefix="allocator-cbc-") as tmp:
        log_path = Path(tmp) / "cbc.log"
        solver = _cbc_solver(options, path, log_path)
        error, seconds = _timed(lambda: problem.solve(solver))
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
    if options.msg:
        for line in text.splitlines():
            logger.info("cbc: %s", line)
    return error, seconds, text


def _solve_cbc(problem: pulp.LpProblem, options: SolverOptions) -> SolveInfo:
    """Solve with CBC through PuLP and read the verdict and bound from CBC's log."""
    path = _cbc_path()
    if path is None:
        return _error_info("cbc", "unknown", 0.0, "CBC binary not found (PuLP bundle or PATH)")
    asked = options.warm_start
    given = _start_values(problem) if asked else 0
    if asked and given == 0:
        # PuLP would write an all-zero start; without any initial value there is none.
        options = dataclasses.replace(options, warm_start=False)
    error, seconds, text = _run_cbc(problem, options, path)
    summary = parse_cbc_log(text)
    if error is not None:
        return _error_info("cbc", summary.version, seconds, error)
    status = cbc_status(summary, int(problem.sol_status))
    objective = _user_objective(problem) if status in ("optimal", "feasible") else None
    bound = _cbc_bound(problem, summary, status, objective)
    verdict = f"CBC: {summary.result or pulp.LpStatus.get(problem.status, 'unknown')}"
    info = SolveInfo(
        status=status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        seconds=seconds,
        solver="cbc",
        solver_version=summary.version,
        message=_describe(verdict, objective, bound),
    )
    if not asked:
        return info
    said = _cbc_start_lines(text)
    return _with_start_report(info, given, len(problem.variables()), said)


def _cbc_start_lines(text: str) -> list[str]:
    """Lines of a CBC log about the MIP start, e.g. ``MIPStart values read for 62 ...``.

    Parameters
    ----------
    text
        Full CBC log.

    Returns
    -------
    list of str
        The stripped lines that mention the MIP start, without the ``opening mipstart
        file`` line (which names a temporary file).
    """
    return [
        line.strip()
        for line in text.splitlines()
        if _CBC_START.search(line) and _CBC_START_FILE not in line
    ]
