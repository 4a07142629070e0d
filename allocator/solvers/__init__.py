"""Solver adapters: one options type, one report type, one function per modelling layer.

:func:`solve_pulp` solves a PuLP model with HiGHS (default) or CBC and returns a
:class:`SolveInfo` with the status the solver proved, the incumbent objective, the best
bound and the relative gap. :func:`solve_cpsat` does the same for an OR-Tools CP-SAT
model (options: :class:`CpSatOptions`).
"""

from allocator.solvers.base import Backend, SolveInfo, SolverOptions, SolveStatus, relative_gap
from allocator.solvers.cpsat import CpSatOptions, solve_cpsat
from allocator.solvers.pulp_backend import solve_pulp

__all__ = [
    "Backend",
    "CpSatOptions",
    "SolveInfo",
    "SolveStatus",
    "SolverOptions",
    "relative_gap",
    "solve_cpsat",
    "solve_pulp",
]
