"""Read the outcome of a CBC run from its log.

PuLP reads only CBC's solution file, whose first line does not say whether a run stopped by
a limit proved anything, and which never holds the best bound. The final summary of the CBC
log does, for example::

    Result - Stopped on time limit

    Objective value:                9.00000000
    Lower bound:                    0.000
    Gap:                            inf

Numbers in the summary are in the problem's own sense (a maximisation prints its objective
and an ``Upper bound`` as positive values) and exclude PuLP's objective constant.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from allocator.solvers.base import SolveStatus

__all__ = ["CbcLogSummary", "cbc_status", "parse_cbc_log"]

_VERSION = re.compile(r"^Version:\s*(\S+)", re.MULTILINE)
_RESULT = re.compile(r"^Result - (.+?)\s*$", re.MULTILINE)
_OBJECTIVE = re.compile(r"^Objective value:\s+(\S+)", re.MULTILINE)
_BOUND = re.compile(r"^(?:Lower|Upper) bound:\s+(\S+)", re.MULTILINE)
_LP_OPTIMAL = re.compile(r"^Optimal - objective value\s+(\S+)", re.MULTILINE)
_NO_FEASIBLE = "No feasible solution found"
_PROBLEM_INFEASIBLE = "Problem is infeasible"
_PROBLEM_UNBOUNDED = "Problem is unbounded"


@dataclass(frozen=True)
class CbcLogSummary:
    """What the final summary of a CBC log says.

    Attributes
    ----------
    version
        CBC version from the log banner, or ``"unknown"``.
    result
        Text after ``Result - `` (e.g. ``"Optimal solution found"``), or ``None`` when the
        run ended before branch and bound (presolve verdict or a pure LP).
    objective
        Incumbent objective in CBC's sense, without PuLP's constant; ``None`` if absent.
    bound
        Best bound (``Lower bound`` / ``Upper bound``) in CBC's sense; ``None`` if absent.
    no_feasible
        The log says ``No feasible solution found``.
    presolve_infeasible
        The log says ``Problem is infeasible`` (proven before branch and bound).
    presolve_unbounded
        The log says ``Problem is unbounded``.
    lp_optimal
        A pure LP ended with ``Optimal - objective value``.
    """

    version: str
    result: str | None
    objective: float | None
    bound: float | None
    no_feasible: bool
    presolve_infeasible: bool
    presolve_unbounded: bool
    lp_optimal: bool


def _last_float(pattern: re.Pattern[str], text: str) -> float | None:
    """Last match of ``pattern`` in ``text`` as a float; ``None`` if absent or unreadable."""
    matches = pattern.findall(text)
    if not matches:
        return None
    try:
        return float(matches[-1])
    except ValueError:
        return None


def parse_cbc_log(text: str) -> CbcLogSummary:
    """Parse the banner and the final summary of a CBC log.

    Parameters
    ----------
    text
        Full log text written by CBC (PuLP's ``logPath``).

    Returns
    -------
    CbcLogSummary
        The fields found; missing ones are ``None`` or ``False``.
    """
    version = _VERSION.search(text)
    results = _RESULT.findall(text)
    bound = _last_float(_BOUND, text)
    if bound is not None and math.isnan(bound):
        bound = None
    return CbcLogSummary(
        version=version.group(1) if version else "unknown",
        result=results[-1] if results else None,
        objective=_last_float(_OBJECTIVE, text),
        bound=bound,
        no_feasible=_NO_FEASIBLE in text,
        presolve_infeasible=_PROBLEM_INFEASIBLE in text,
        presolve_unbounded=_PROBLEM_UNBOUNDED in text,
        lp_optimal=_LP_OPTIMAL.search(text) is not None,
    )


def _status_from_result(summary: CbcLogSummary, result: str) -> SolveStatus | None:
    """Map the ``Result - ...`` line to a status; ``None`` if the wording is unknown."""
    text = result.lower()
    if text.startswith("optimal solution found"):
        return "optimal"
    if "infeasible" in text:  # "Problem proven infeasible", "Linear relaxation infeasible"
        return "infeasible"
    if "unbounded" in text:  # "Linear relaxation unbounded"
        return "unbounded"
    if text.startswith(("stopped", "finished")) or "ctrl-c" in text:
        has_incumbent = summary.objective is not None and not summary.no_feasible
        return "feasible" if has_incumbent else "no_solution"
    return None


def cbc_status(summary: CbcLogSummary, pulp_sol_status: int) -> SolveStatus:
    """Status of a CBC run from its log, falling back on PuLP's solution status.

    Parameters
    ----------
    summary
        Parsed log.
    pulp_sol_status
        ``problem.sol_status`` after the run (PuLP's reading of the solution file).

    Returns
    -------
    SolveStatus
        The log's verdict when it has one; otherwise PuLP's solution status, where only
        "optimal solution" counts as a proof.
    """
    if summary.result is not None:
        status = _status_from_result(summary, summary.result)
        if status is not None:
            return status
    if summary.presolve_infeasible:
        return "infeasible"
    if summary.presolve_unbounded:
        return "unbounded"
    if summary.lp_optimal and pulp_sol_status == 1:
        return "optimal"
    fallback: dict[int, SolveStatus] = {
        1: "optimal",  # LpSolutionOptimal
        2: "feasible",  # LpSolutionIntegerFeasible
        -1: "infeasible",  # LpSolutionInfeasible
        -2: "unbounded",  # LpSolutionUnbounded
        0: "no_solution",  # LpSolutionNoSolutionFound
    }
    return fallback.get(pulp_sol_status, "error")
