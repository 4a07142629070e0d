"""The lexicographic (two-phase) siting solve (see :mod:`allocator.siting`).

Phase 1 minimises the reachable unmet children ``Σ u`` (persons); phase 2 keeps
``Σ u <= U1 + tol`` and minimises cost + travel (objective units). This module holds the
phase-2 tolerance and solver options, the combined report, and the two-phase driver
:func:`solve_lexicographic`, shared by the assignment and the radius formulation.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import pulp

from allocator.solvers import SolveInfo, SolverOptions, SolveStatus, relative_gap

__all__ = [
    "LEX_ROW",
    "Solve",
    "combined_info",
    "phase2_options",
    "solve_lexicographic",
    "unmet_tolerance",
]

logger = logging.getLogger(__name__)

LEX_ROW = "lex_unmet"  # name of the phase-2 row Σ u <= U1 + tol

Solve = Callable[[pulp.LpProblem, SolverOptions], SolveInfo]
"""A solver call such as :func:`allocator.solvers.solve_pulp`."""

PHASE2_MIN_S = 1.0  # seconds; phase 2 gets at least this (or the whole limit if shorter)
PHASE2_MIN_SHARE = 0.1  # ... and at least this share of the time limit


def unmet_tolerance(u1: float) -> float:
    """Slack of the phase-2 row ``Σ u <= U1 + tol``.

    Parameters
    ----------
    u1
        Phase-1 incumbent: reachable unmet children (persons).

    Returns
    -------
    float
        ``max(1e-6, 1e-9 · U1)`` (persons).
    """
    return max(1e-6, 1e-9 * abs(u1))


def phase2_options(options: SolverOptions, spent_s: float) -> SolverOptions:
    """Options of phase 2: what phase 1 left of the time limit, at least a small floor.

    Parameters
    ----------
    options
        Options of the whole run.
    spent_s
        Seconds phase 1 took.

    Returns
    -------
    SolverOptions
        ``options`` with ``time_limit_s = max(limit - spent_s, floor)``, the floor the
        larger of 10 % of the limit and 1 s (the whole limit if shorter); so the two phases
        together may overrun the limit by up to the floor. Unchanged without a time limit.
        The node limit and ``mip_gap`` apply to each phase as they are.
    """
    limit = options.time_limit_s
    if limit is None:
        return options
    floor = max(PHASE2_MIN_SHARE * limit, min(PHASE2_MIN_S, limit))
    return dataclasses.replace(options, time_limit_s=max(limit - spent_s, floor))


def combined_info(
    first: SolveInfo, second: SolveInfo, unmet_total: float, kept_objective: float | None
) -> SolveInfo:
    """Report of a lexicographic run whose phase 1 found a solution.

    Parameters
    ----------
    first
        Phase-1 report (objective: reachable unmet children, persons); has a solution.
    second
        Phase-2 report (objective: cost + travel, objective units).
    unmet_total
        Unmet children of the phase-1 solution, out-of-reach ones included (persons).
    kept_objective
        Cost + travel of the phase-1 plan (objective units), used when phase 2 found no
        solution and that plan is kept.

    Returns
    -------
    SolveInfo
        Objective, bound and gap of cost + travel (phase 2's; the kept plan's objective if
        phase 2 has no solution); status ``optimal`` if both phases are, else ``feasible``;
        seconds of both phases; a message naming both phases and ending with phase 2's
        solver message.
    """
    kept = not second.has_solution
    both_optimal = first.status == "optimal" and second.status == "optimal"
    status: SolveStatus = "optimal" if both_optimal else "feasible"
    objective = kept_objective if kept else second.objective
    message = (
        f"phase 1 (unmet) {first.status}: {unmet_total:,.10g} children unmet; "
        f"phase 2 (cost+travel) {second.status}"
        + ("; kept the phase-1 plan" if kept else "")
        + f" ({second.message})"
    )
    return SolveInfo(
        status=status,
        objective=objective,
        bound=second.bound,
        gap=relative_gap(objective, second.bound),
        seconds=first.seconds + second.seconds,
        solver=second.solver,
        solver_version=second.solver_version,
        message=message,
    )


def solve_lexicographic(
    problem: pulp.LpProblem,
    unmet: pulp.LpAffineExpression,
    second_objective: pulp.LpAffineExpression,
    fixed_unmet: float,
    options: SolverOptions,
    solve: Solve,
) -> tuple[SolveInfo, tuple[SolveInfo, ...]]:
    """Solve phase 1 (the model's objective, ``Σ u``), then phase 2 (cost + travel).

    Parameters
    ----------
    problem
        Model whose objective is the phase-1 objective (reachable unmet children, persons).
    unmet
        Reachable unmet children as an expression of the model's variables (persons); the
        phase-2 row ``unmet <= U1 + tol`` is added under the name ``lex_unmet`` (not when the
        expression has no variables).
    second_objective
        Phase-2 objective: ``cost_weight`` · CNY + ``travel_weight`` · child·m (objective
        units).
    fixed_unmet
        Out-of-reach children, not in the model (persons).
    options
        Options of the whole run (see :func:`phase2_options` for phase 2).
    solve
        Solver call.

    Returns
    -------
    tuple of SolveInfo and tuple of SolveInfo
        Without a phase-1 solution: phase 1's report twice over (``(first, (first,))``),
        the variables hold no values. Otherwise the combined report (see
        :func:`combined_info`) and both phase reports; the variables hold phase 2's plan,
        or phase 1's if phase 2 found none.
    """
    first = solve(problem, options)
    if not first.has_solution:
        logger.warning("siting phase 1 (unmet): no solution (%s)", first.message)
        return first, (first,)
    u1 = max(first.objective or 0.0, 0.0)
    unmet_total = u1 + fixed_unmet
    logger.info("siting phase 1 (unmet): %s; %.6g children unmet", first.status, unmet_total)
    saved = [(var, var.varValue) for var in problem.variables()]
    if len(unmet):
        row = pulp.LpConstraint(
            unmet, sense=pulp.LpConstraintLE, rhs=u1 + unmet_tolerance(u1), name=LEX_ROW
        )
        problem.addConstraint(row)
    problem.setObjective(second_objective)
    second = solve(problem, phase2_options(options, first.seconds))
    objective = second.objective
    if not second.has_solution:
        logger.warning(
            "siting phase 2 (cost+travel): no solution (%s); keeping the phase-1 plan",
            second.message,
        )
        for var, value in saved:
            var.varValue = value
        objective = float(pulp.value(problem.objective) or 0.0)
    return combined_info(first, second, unmet_total, objective), (first, second)
