"""Input problems that a planner can act on.

Every validator in this project collects :class:`Problem` records instead of stopping at
the first one, and raises a single :class:`InputError` carrying all of them. ``gis`` owns
this module so that it never has to import ``allocator``; ``allocator.errors`` re-exports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["InputError", "Problem", "raise_if_any"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, phrased so that a planner can fix it.

    Parameters
    ----------
    source
        The file the problem is in, as the user named it (e.g. ``data/schools.csv``),
        or the scenario file for a key problem.
    where
        The key path (``solver.backend``) or the cell (``row 17, column classes``; rows
        are counted as a spreadsheet shows them: the header is row 1). Empty when the
        problem concerns the whole file.
    message
        What is wrong and what is expected.
    value
        A short rendering of the offending value(s), if any.
    """

    source: str
    where: str
    message: str
    value: str | None = None

    def __str__(self) -> str:
        place = f"{self.source}: {self.where}" if self.where else self.source
        got = f" (got {self.value})" if self.value is not None else ""
        return f"{place}: {self.message}{got}"


class InputError(Exception):
    """Bad input: one or more :class:`Problem` records, reported together."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("InputError needs at least one Problem")
        super().__init__("\n".join(str(p) for p in self.problems))


def raise_if_any(problems: Iterable[Problem]) -> None:
    """Raise :class:`InputError` if ``problems`` is not empty."""
    collected = list(problems)
    if collected:
        raise InputError(collected)
