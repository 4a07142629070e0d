"""Bookkeeping of the lexicographic (two-phase) siting solve (see :mod:`allocator.siting`).

Phase 1 minimises the reachable unmet children ``Σ u`` (persons); phase 2 keeps
``Σ u <= U1 + tol`` and minimises cost + travel (objective units). This module holds the
pure parts: the phase-2 tolerance and solver options, and the combined report.
"""

from __future__ import annotations

import dataclasses

from allocator.solvers import SolveInfo, SolverOptions, SolveStatus, relative_gap

__all__ = ["combined_info", "phase2_options", "unmet_tolerance"]

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
