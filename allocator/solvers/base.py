"""Backend-neutral solve options and solve reports.

Every adapter in :mod:`allocator.solvers` takes a :class:`SolverOptions` and returns a
:class:`SolveInfo`. A report never claims more than the solver proved: ``"optimal"`` needs a
proof from the solver (within the relative gap tolerance), a run stopped by a limit with an
incumbent is ``"feasible"`` and carries the best proven bound and the gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BACKENDS",
    "Backend",
    "SolveInfo",
    "SolveStatus",
    "SolverOptions",
    "relative_gap",
]

SolveStatus = Literal["optimal", "feasible", "infeasible", "unbounded", "no_solution", "error"]
"""Outcome of a solve.

``optimal``: optimality proven (within ``mip_gap``). ``feasible``: an incumbent exists but
optimality is not proven (time, node or gap limit). ``infeasible`` / ``unbounded``: proven
(HiGHS sometimes proves only "infeasible or unbounded"; that is reported as ``infeasible``
and said so in the message). ``no_solution``: stopped by a limit without an incumbent.
``error``: the solver failed to run or returned an error status.
"""

Backend = Literal["highs", "cbc", "ortools"]
"""Solver of a PuLP model: HiGHS (highspy), CBC (binary bundled with PuLP) or SCIP through
OR-Tools MathOpt (:mod:`allocator.solvers.ortools_backend`, for cross-checking)."""

BACKENDS: tuple[Backend, ...] = ("highs", "cbc", "ortools")

_HAS_SOLUTION: frozenset[str] = frozenset({"optimal", "feasible"})


@dataclass(frozen=True)
class SolveInfo:
    """Report of one solver run.

    Attributes
    ----------
    status
        See :data:`SolveStatus`.
    objective
        Objective value of the best solution found, in the model's own objective units,
        including any constant term; ``None`` without a solution.
    bound
        Best proven bound on the optimal objective (a lower bound when minimising, an upper
        bound when maximising); ``None`` when the solver proved none.
    gap
        Relative gap ``|objective - bound| / max(|objective|, 1e-9)`` (dimensionless);
        ``0.0`` when the bound meets the objective; for an ``optimal`` run HiGHS reports
        its true final bound (gap at most ``mip_gap``), while CBC prints no bound after
        proving optimality, so its bound is the objective and the gap 0; ``None`` without
        objective or bound.
    seconds
        Wall-clock time of the solver call, in seconds.
    solver
        Solver name: ``"highs"``, ``"cbc"`` or ``"ortools-scip"``.
    solver_version
        Version string of the solver library or binary that ran.
    message
        Short human-readable summary.
    """

    status: SolveStatus
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    solver: str
    solver_version: str
    message: str

    @property
    def has_solution(self) -> bool:
        """Whether the run left a solution (optimal or feasible) in the model variables."""
        return self.status in _HAS_SOLUTION


@dataclass(frozen=True)
class SolverOptions:
    """Options shared by all backends.

    Attributes
    ----------
    backend
        ``"highs"`` (default, via highspy), ``"cbc"`` (the binary bundled with PuLP) or
        ``"ortools"`` (SCIP through OR-Tools MathOpt; single-threaded whatever
        ``threads`` says).
    time_limit_s
        Wall-clock limit in seconds, or ``None`` for no limit. A time limit makes the result
        depend on machine speed; use ``node_limit`` for a reproducible work limit.
    mip_gap
        Relative optimality tolerance (dimensionless, e.g. ``1e-4`` = 0.01 %).
    threads
        Solver threads. The default 1 makes runs reproducible. HiGHS keeps one thread pool
        per process; a solve asking for another thread count resets it.
    seed
        Random seed (integer >= 0). For CBC, 0 keeps CBC's fixed default seeds (CBC reads 0
        as "seed from the clock", so it is never passed).
    msg
        Show the solver log (HiGHS writes to stdout; the CBC log goes to this package's
        logger at INFO level).
    node_limit
        Maximum branch-and-bound nodes, or ``None``. Unlike a time limit, a node limit gives
        the same result on every machine (with ``threads=1``).
    warm_start
        Pass the variables' initial values (set with ``LpVariable.setInitialValue``, i.e.
        their current ``varValue``) to the solver as a starting solution: HiGHS gets the
        values that are set (``setSolution``; it completes a partial start), CBC an mst
        file (PuLP writes 0 for unset values), SCIP a solution hint (completed if partial).
        The report's message says what the solver made of it.
    """

    backend: Backend = "highs"
    time_limit_s: float | None = 60.0
    mip_gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    msg: bool = False
    node_limit: int | None = None
    warm_start: bool = False

    def __post_init__(self) -> None:
        """Reject option values no backend accepts."""
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise ValueError(f"time_limit_s must be > 0 or None, got {self.time_limit_s}")
        if not 0 <= self.mip_gap < 1:
            raise ValueError(f"mip_gap must be in [0, 1), got {self.mip_gap}")
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if self.node_limit is not None and self.node_limit < 1:
            raise ValueError(f"node_limit must be >= 1 or None, got {self.node_limit}")


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """Relative gap between an objective value and a bound.

    Parameters
    ----------
    objective
        Objective value of the incumbent, in objective units.
    bound
        Proven bound, in objective units.

    Returns
    -------
    float or None
        ``|objective - bound| / max(|objective|, 1e-9)`` (dimensionless), ``math.inf`` when
        the bound is infinite, ``None`` when either value is missing.
    """
    if objective is None or bound is None or math.isnan(objective) or math.isnan(bound):
        return None
    if math.isinf(bound):
        return math.inf
    return abs(objective - bound) / max(abs(objective), 1e-9)
