"""Solver adapters: one options type, one report type, one function per modelling layer.

:func:`solve_pulp` solves a PuLP model with HiGHS (default), CBC or, for cross-checking,
SCIP through OR-Tools MathOpt (``SolverOptions(backend="ortools")``, implemented in
:func:`allocator.solvers.ortools_backend.solve_ortools`, which is imported on first use so
that OR-Tools' MathOpt is not loaded by runs that do not need it), and returns a
:class:`SolveInfo` with the status the solver proved, the incumbent objective, the best
bound and the relative gap. :func:`solve_cpsat` does the same for an OR-Tools CP-SAT
model (options: :class:`CpSatOptions`).
"""

from allocator.solvers.base import (
    BACKENDS,
    Backend,
    SolveInfo,
    SolverOptions,
    SolveStatus,
    relative_gap,
)
from allocator.solvers.cpsat import CpSatOptions, solve_cpsat
from allocator.solvers.pulp_backend import solve_pulp

__all__ = [
    "BACKENDS",
    "Backend",
    "CpSatOptions",
    "SolveInfo",
    "SolveStatus",
    "SolverOptions",
    "relative_gap",
    "solve_cpsat",
    "solve_pulp",
]
