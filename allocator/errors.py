"""Errors and exit codes shared by the CLI and the Python API.

Bad input is reported as :class:`InputError` (defined in :mod:`gis.errors` so that ``gis``
stays independent of ``allocator``), carrying every :class:`Problem` found. Solver outcomes
such as "infeasible" or "time limit without a solution" are *not* exceptions: they are
statuses on the result (see :class:`allocator.solvers.SolveInfo`).
"""

from __future__ import annotations

from enum import IntEnum

from gis.errors import InputError, Problem, raise_if_any

__all__ = ["ExitCode", "InputError", "OutputExistsError", "Problem", "raise_if_any"]


class ExitCode(IntEnum):
    """Process exit codes of the ``allocator`` command."""

    OK = 0
    BAD_INPUT = 2
    INFEASIBLE = 3
    SOLVER_FAILURE = 4
    AUDIT_FAILURE = 5


class OutputExistsError(FileExistsError):
    """The results directory exists and ``overwrite`` was not requested."""
