"""Solve a PuLP model with SCIP through OR-Tools MathOpt, to cross-check HiGHS and CBC.

:func:`solve_ortools` translates a PuLP model in memory (variables with bounds and
integrality, linear rows, objective with its constant) into a MathOpt ``ModelProto``, solves
it with SCIP (``SolverType.GSCIP``), writes the solution back into the PuLP variables
(``var.varValue``) and returns the same :class:`~allocator.solvers.base.SolveInfo` as
:func:`allocator.solvers.solve_pulp`. Code written against PuLP therefore reads the result
unchanged.

Why SCIP through MathOpt:

* The ortools 9.15 wheel bundles SCIP 10 (LP solver SoPlex), CBC, HiGHS, CP-SAT, GLOP and
  PDLP. SCIP is the only bundled MIP solver that is *independent* of the two PuLP backends
  (HiGHS and CBC are the same codes PuLP already runs), so agreement with it is a real
  cross-check rather than the same code run twice.
* MathOpt reports a termination reason that separates "stopped by a limit with a solution"
  (``FEASIBLE``) from "without one" (``NO_SOLUTION_FOUND``); ``pywraplp`` folds both
  limit cases into one status. Its standard parameters map one to one onto
  :class:`~allocator.solvers.base.SolverOptions` (time limit, relative gap, node limit,
  threads, seed) and it takes solution hints. The objective constant is not passed (SCIP
  would measure its relative gap on it) and is added back to the bound.

Status mapping (MathOpt termination reason -> :data:`~allocator.solvers.base.SolveStatus`):

===========================  ===============  ==========================================
MathOpt                      status           meaning
===========================  ===============  ==========================================
``OPTIMAL``                  ``optimal``      proven within ``mip_gap``
``FEASIBLE``                 ``feasible``     a limit stopped the run with an incumbent
``NO_SOLUTION_FOUND``        ``no_solution``  a limit stopped the run without one
``INFEASIBLE``               ``infeasible``   proven
``UNBOUNDED``                ``unbounded``    proven
``INFEASIBLE_OR_UNBOUNDED``  either           decided by a second solve of the same rows
                                              with a zero objective
``IMPRECISE``                ``feasible``     numerically doubtful; never called optimal
                                              (``error`` without a solution)
``NUMERICAL_ERROR`` / other  ``error``
===========================  ===============  ==========================================

Threads: SCIP's branch and bound is sequential; MathOpt passes ``threads`` on as SCIP's
``parallel/maxnthreads``, which only its concurrent mode uses, so every run is in effect
single-threaded and ``threads`` changes nothing. ``seed`` becomes SCIP's
``randomization/randomseedshift``.
"""

from __future__ import annotations

import datetime
import functools
import logging
import math
import time
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import pulp
from ortools.math_opt import model_pb2
from ortools.math_opt.python import mathopt

from allocator.solvers.base import SolveInfo, SolverOptions, SolveStatus, relative_gap

__all__ = ["SOLVER_NAME", "solve_ortools"]

logger = logging.getLogger(__name__)

SOLVER_NAME = "ortools-scip"
"""Value of :attr:`SolveInfo.solver` for runs of this adapter."""

_REASON = mathopt.TerminationReason
_INF = math.inf
# SCIP log lines that tell what became of a solution hint (warm start).
_HINT_MARKERS = ("completesol", "solution candidate storage", "original solutions")


def solve_ortools(problem: pulp.LpProblem, options: SolverOptions) -> SolveInfo:
    """Solve ``problem`` with SCIP (OR-Tools MathOpt) and write the solution back.

    Never raises because a run is not optimal: infeasible, unbounded, stopped by a limit
    with or without incumbent, or a solver failure all come back as a :class:`SolveInfo`.
    With a solution (``info.has_solution``) the PuLP variables hold it, the incumbent of a
    run stopped by a limit included; without one their values are set to ``None``.

    Parameters
    ----------
    problem
        PuLP model (minimisation or maximisation, continuous and integer variables, linear
        rows). A model with SOS constraints is not translated: the run reports ``error``.
        It is not modified except for the variables' values.
    options
        Time limit (s), relative gap, node limit, threads (no effect, see the module
        docstring), seed, ``msg`` (SCIP log to this module's logger at INFO) and
        ``warm_start``: the variables' current values (``LpVariable.setInitialValue``;
        ``None`` values are left out) are passed to SCIP as a solution hint, which SCIP
        completes if partial. ``options.backend`` is not read.

    Returns
    -------
    SolveInfo
        ``solver == "ortools-scip"``; objective (the PuLP objective of the values written
        back, constant included) and bound in the problem's own sense and units.
    """
    variables = problem.variables()
    given = sum(v.varValue is not None for v in variables) if options.warm_start else 0
    lines: list[str] = []
    start = time.perf_counter()
    if problem.sos1 or problem.sos2:
        _reset(variables)
        message = "SOS constraints are not translated to OR-Tools; use backend highs or cbc"
        logger.error("%s: %s", SOLVER_NAME, message)
        return SolveInfo("error", None, None, None, 0.0, SOLVER_NAME, _version(), message)
    try:
        proto = _model_proto(problem, variables)
        model = mathopt.Model.from_model_proto(proto)
        result = _solve(model, variables, options, lines)
        status, verdict = _status(result)
        if result.termination.reason == _REASON.INFEASIBLE_OR_UNBOUNDED:
            status, verdict = _decide_infeasible_or_unbounded(proto, options)
    except (ValueError, RuntimeError, TypeError, OverflowError) as exc:
        seconds = time.perf_counter() - start
        _reset(variables)
        message = f"{type(exc).__name__}: {exc}"
        logger.error("%s failed: %s", SOLVER_NAME, message)
        return SolveInfo("error", None, None, None, seconds, SOLVER_NAME, _version(), message)
    seconds = time.perf_counter() - start
    if status in ("optimal", "feasible"):
        _write_back(result, model, variables)
        objective = _objective_value(problem)
    else:
        _reset(variables)
        objective = None
    constant = float(problem.objective.constant) if problem.objective is not None else 0.0
    bound = _bound(result, status, objective, constant)
    message = _describe(verdict, objective, bound)
    if options.warm_start:
        message += "; warm start: " + _hint_report(lines, given, len(variables))
    info = SolveInfo(
        status=status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        seconds=seconds,
        solver=SOLVER_NAME,
        solver_version=_version(),
        message=message,
    )
    logger.info("solved %s with %s in %.2f s: %s", problem.name, SOLVER_NAME, seconds, message)
    return info


# --------------------------------------------------------------------------- translation


def _finite_or(value: float | None, default: float) -> float:
    """``value`` as a float, ``default`` (an infinity) for ``None``."""
    return default if value is None else float(value)


def _model_proto(
    problem: pulp.LpProblem, variables: Sequence[pulp.LpVariable]
) -> model_pb2.ModelProto:
    """MathOpt model of ``problem``: variable ``k`` is ``variables[k]``, row ``r`` is row r.

    Bounds ``None`` become infinities, ``LpInteger`` (binaries included) becomes integer,
    a row ``lhs + constant (sense) 0`` becomes ``[-constant, -constant]`` (``==``),
    ``(-inf, -constant]`` (``<=``) or ``[-constant, inf)`` (``>=``); zero coefficients are
    dropped. PuLP's objective constant is left out (no offset), as for HiGHS and CBC.
    """
    index = {id(var): k for k, var in enumerate(variables)}
    proto = model_pb2.ModelProto(name=problem.name)
    columns = proto.variables
    columns.ids.extend(range(len(variables)))
    columns.lower_bounds.extend(_finite_or(v.lowBound, -_INF) for v in variables)
    columns.upper_bounds.extend(_finite_or(v.upBound, _INF) for v in variables)
    columns.integers.extend(v.cat == pulp.LpInteger for v in variables)
    columns.names.extend(v.name for v in variables)
    constraints = problem.constraints()
    rows = proto.linear_constraints
    rows.ids.extend(range(len(constraints)))
    rows.lower_bounds.extend(_finite_or(c.getLb(), -_INF) for c in constraints)
    rows.upper_bounds.extend(_finite_or(c.getUb(), _INF) for c in constraints)
    rows.names.extend(str(c.name) for c in constraints)
    row_ids: list[int] = []
    column_ids: list[int] = []
    coefficients: list[float] = []
    for r, constraint in enumerate(constraints):
        terms = sorted((index[id(v)], float(a)) for v, a in constraint.items() if a)
        row_ids.extend([r] * len(terms))
        column_ids.extend(k for k, _ in terms)
        coefficients.extend(a for _, a in terms)
    matrix = proto.linear_constraint_matrix
    matrix.row_ids.extend(row_ids)
    matrix.column_ids.extend(column_ids)
    matrix.coefficients.extend(coefficients)
    objective = proto.objective
    objective.maximize = problem.sense == pulp.LpMaximize
    if problem.objective is not None:
        # No offset: SCIP would measure its relative gap on the constant too (as HiGHS
        # and CBC, which never see it, do not); the constant is added back to the bound.
        terms = sorted((index[id(v)], float(a)) for v, a in problem.objective.items() if a)
        objective.linear_coefficients.ids.extend(k for k, _ in terms)
        objective.linear_coefficients.values.extend(a for _, a in terms)
    return proto


def _parameters(options: SolverOptions) -> Any:
    """MathOpt solve parameters from ``options`` (see the module docstring)."""
    params = mathopt.SolveParameters(
        relative_gap_tolerance=options.mip_gap,
        threads=options.threads,
        random_seed=options.seed,
        node_limit=options.node_limit,
    )
    if options.time_limit_s is not None:
        params.time_limit = datetime.timedelta(seconds=options.time_limit_s)
    return params


def _hints(model: Any, variables: Sequence[pulp.LpVariable]) -> Any:
    """Model parameters with one solution hint (the values that are set), or ``None``."""
    values = {
        model.get_variable(k): float(v.varValue)
        for k, v in enumerate(variables)
        if v.varValue is not None
    }
    if not values:
        return None
    return mathopt.ModelSolveParameters(
        solution_hints=[mathopt.SolutionHint(variable_values=values)]
    )


def _solve(
    model: Any,
    variables: Sequence[pulp.LpVariable],
    options: SolverOptions,
    lines: list[str],
) -> Any:
    """Run SCIP on ``model``; SCIP's log lines are appended to ``lines``."""

    def collect(new: Sequence[str]) -> None:
        lines.extend(new)
        if options.msg:
            for line in new:
                logger.info("scip: %s", line)

    model_params = _hints(model, variables) if options.warm_start else None
    return mathopt.solve(
        model,
        mathopt.SolverType.GSCIP,
        params=_parameters(options),
        model_params=model_params,
        msg_cb=collect,
    )


# --------------------------------------------------------------------------- results


def _status(result: Any) -> tuple[SolveStatus, str]:
    """Status and a verdict text from a MathOpt result."""
    termination = result.termination
    reason = termination.reason
    verdict = f"SCIP: {reason.name.lower()}"
    if termination.limit is not None:
        verdict += f" ({termination.limit.name.lower()} limit)"
    has_solution = bool(result.has_primal_feasible_solution())
    if reason == _REASON.OPTIMAL:
        return "optimal", verdict
    if reason == _REASON.FEASIBLE:
        return "feasible", verdict
    if reason == _REASON.NO_SOLUTION_FOUND:
        return "no_solution", verdict
    if reason == _REASON.INFEASIBLE:
        return "infeasible", verdict
    if reason == _REASON.UNBOUNDED:
        return "unbounded", verdict
    if reason == _REASON.IMPRECISE:
        return ("feasible" if has_solution else "error"), verdict + " (not called optimal)"
    detail = str(termination.detail)
    return "error", verdict + (f": {detail}" if detail else "")


def _decide_infeasible_or_unbounded(
    proto: model_pb2.ModelProto, options: SolverOptions
) -> tuple[SolveStatus, str]:
    """Settle SCIP's "infeasible or unbounded" by solving the rows with a zero objective.

    With a zero objective the model cannot be unbounded: if it has a feasible point the
    original model is unbounded (SCIP had proved it is infeasible or unbounded), otherwise
    it is infeasible.
    """
    feasibility = model_pb2.ModelProto()
    feasibility.CopyFrom(proto)
    feasibility.objective.Clear()
    result = mathopt.solve(
        mathopt.Model.from_model_proto(feasibility),
        mathopt.SolverType.GSCIP,
        params=_parameters(options),
    )
    reason = result.termination.reason
    prefix = "SCIP: infeasible or unbounded; zero-objective solve: "
    if reason in (_REASON.OPTIMAL, _REASON.FEASIBLE):
        return "unbounded", prefix + "feasible, so unbounded"
    if reason == _REASON.INFEASIBLE:
        return "infeasible", prefix + "infeasible"
    return "error", prefix + f"{reason.name.lower()}, undecided"


def _write_back(result: Any, model: Any, variables: Sequence[pulp.LpVariable]) -> None:
    """Copy SCIP's best solution into ``variables`` (variable ``k`` has MathOpt id ``k``)."""
    values = result.variable_values()
    for k, variable in enumerate(variables):
        variable.varValue = float(values[model.get_variable(k)]) + 0.0  # no -0.0


def _reset(variables: Sequence[pulp.LpVariable]) -> None:
    """Clear the variables' values (no solution)."""
    for variable in variables:
        variable.varValue = None


def _objective_value(problem: pulp.LpProblem) -> float:
    """PuLP objective of the values held by the variables, constant included."""
    if problem.objective is None:
        return 0.0
    value = problem.objective.value()
    return 0.0 if value is None else float(value)


def _bound(
    result: Any, status: SolveStatus, objective: float | None, constant: float
) -> float | None:
    """Best proven bound in the problem's sense, constant included; ``None`` if unproven.

    The model is passed without PuLP's objective constant (see :func:`_to_proto`), so the
    constant is added to MathOpt's ``dual_bound`` here. An optimal run without a finite
    dual bound (possible for a model SCIP presolves away) is bounded by its objective.
    """
    if status in ("infeasible", "unbounded", "error"):
        return None
    dual = float(result.termination.objective_bounds.dual_bound) + constant
    if math.isfinite(dual):
        return dual
    return objective if status == "optimal" else None


def _hint_report(lines: Sequence[str], given: int, total: int) -> str:
    """What SCIP's log says about the solution hint (``given`` of ``total`` values)."""
    said = [line.strip() for line in lines if any(m in line for m in _HINT_MARKERS)]
    head = f"{given} of {total} values given as a hint"
    return head + (": " + " | ".join(said) if said else "; SCIP's log says nothing about it")


def _fmt(value: float | None) -> str:
    """Short number for messages."""
    return "n/a" if value is None else f"{value:.10g}"


def _describe(verdict: str, objective: float | None, bound: float | None) -> str:
    """Human-readable one-liner: solver verdict, objective, bound and gap."""
    gap = relative_gap(objective, bound)
    gap_text = "n/a" if gap is None else f"{gap:.4%}"
    return f"{verdict}; objective {_fmt(objective)}, bound {_fmt(bound)}, gap {gap_text}"


@functools.cache
def _version() -> str:
    """``"<ortools version> / <SCIP version>"``, e.g. ``"9.15.6755 / SCIP 10.0.0"``."""
    from ortools.linear_solver import pywraplp

    scip = pywraplp.Solver.CreateSolver("SCIP")
    name = str(scip.SolverVersion()).split(" [")[0] if scip is not None else "SCIP unknown"
    return f"{version('ortools')} / {name}"
