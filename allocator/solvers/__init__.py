"""Solver adapters: one options type, one report type, one function per modelling layer.

:func:`solve_pulp` solves a PuLP model with HiGHS (default) or CBC and returns a
:class:`SolveInfo` with the status the solver proved, the incumbent objective, the best
bound and the relative gap.
"""

from allocator.solvers.base import Backend, SolveInfo, SolverOptions, SolveStatus, relative_gap
from allocator.solvers.pulp_backend import solve_pulp

__all__ = [
    "Backend",
    "SolveInfo",
    "SolveStatus",
    "SolverOptions",
    "relative_gap",
    "solve_pulp",
]
