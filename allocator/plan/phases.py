"""Lexicographic (two-phase) solve of the plan model.

The driver of :func:`allocator.siting_phases.solve_lexicographic` (whose phase-2 options
and combined report it reuses), extended for elastic slack. Phase 1 minimises
``P = Σ u + Σ penalty · σ``; phase 2 minimises cost, travel and equity subject to

    ``Σ u <= U1 + max(1e-6, 1e-9 · U1)``                          (row ``lex_unmet``)
    ``P <= P1 + max(1e-6, 1e-9 · |P1|, 1e-6 · max penalty)``       (row ``lex_elastic``)

with ``U1`` the unmet children of the phase-1 plan and ``P1`` its objective; without
elastic slack ``P = Σ u`` and only ``lex_unmet`` is added. The second row's tolerance
covers a solver's feasibility tolerance on a slack (about 1e-6 in the slack's unit) times
its penalty (1,000 by default), which would otherwise make phase 2 infeasible (SCIP does);
the first keeps phase 2 from trading that tolerance for unmet children.
"""

from __future__ import annotations

import logging

import pulp

from allocator.siting_phases import LEX_ROW, Solve, combined_info, phase2_options, unmet_tolerance
from allocator.solvers import SolveInfo, SolverOptions

__all__ = ["LEX_ELASTIC_ROW", "lex_tolerance", "solve_two_phase"]

LEX_ELASTIC_ROW = "lex_elastic"

logger = logging.getLogger(__name__)


def lex_tolerance(p1: float, first: pulp.LpAffineExpression) -> float:
    """Slack of the phase-2 row ``first <= P1 + tol`` (units of ``first``).

    Parameters
    ----------
    p1
        Phase-1 incumbent.
    first
        Phase-1 objective expression.

    Returns
    -------
    float
        ``max(unmet_tolerance(P1), 1e-6 · max |coefficient|)``.
    """
    largest = max((abs(c) for _, c in first.items()), default=0.0)
    return max(unmet_tolerance(p1), 1e-6 * largest)


def solve_two_phase(
    problem: pulp.LpProblem,
    unmet: pulp.LpAffineExpression,
    first: pulp.LpAffineExpression,
    second: pulp.LpAffineExpression,
    fixed_unmet: float,
    options: SolverOptions,
    solve: Solve,
) -> tuple[SolveInfo, tuple[SolveInfo, ...]]:
    """Solve phase 1 (the model's objective, ``first``), then phase 2 (``second``).

    Parameters
    ----------
    problem
        Model whose objective is ``first``.
    unmet
        Reachable unmet child-periods ``Σ u``.
    first
        Phase-1 objective: ``Σ u`` plus priced elastic slack (``first`` is ``unmet`` when
        no rule is elastic).
    second
        Phase-2 objective: cost, travel and equity (objective units).
    fixed_unmet
        Out-of-reach child-periods, not in the model (persons).
    options
        Options of the whole run (phase 2: :func:`allocator.siting_phases.phase2_options`).
    solve
        Solver call.

    Returns
    -------
    tuple of SolveInfo and tuple of SolveInfo
        As :func:`allocator.siting_phases.solve_lexicographic`: without a phase-1 solution
        phase 1's report (the variables hold no values); otherwise the combined report
        and both phase reports, the variables holding phase 2's plan (phase 1's if phase 2
        found none). The message names both phases; :func:`allocator.plan.solve.solve_plan`
        rewrites its phase-1 part with the achieved unmet children and slack.
    """
    first_info = solve(problem, options)
    if not first_info.has_solution:
        logger.warning("plan phase 1 (unmet): no solution (%s)", first_info.message)
        return first_info, (first_info,)
    p1 = first_info.objective or 0.0
    logger.info("plan phase 1 (unmet): %s; objective %.10g", first_info.status, p1)
    saved = [(var, var.varValue) for var in problem.variables()]
    elastic = len(first) > len(unmet)
    if len(unmet):
        u1 = float(unmet.value() or 0.0) if elastic else p1
        problem.addConstraint(pulp.LpConstraint(
            unmet, sense=pulp.LpConstraintLE, rhs=u1 + unmet_tolerance(u1), name=LEX_ROW))
    if elastic:
        problem.addConstraint(pulp.LpConstraint(
            first, sense=pulp.LpConstraintLE, rhs=p1 + lex_tolerance(p1, first),
            name=LEX_ELASTIC_ROW))
    problem.setObjective(second)
    second_info = solve(problem, phase2_options(options, first_info.seconds))
    objective = second_info.objective
    if not second_info.has_solution:
        logger.warning("plan phase 2 (cost+travel): no solution (%s); keeping the phase-1 plan",
                       second_info.message)
        for var, value in saved:
            var.varValue = value
        objective = float(pulp.value(problem.objective) or 0.0)
    info = combined_info(first_info, second_info, max(p1, 0.0) + fixed_unmet, objective)
    return info, (first_info, second_info)
