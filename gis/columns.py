"""Declared columns, their checks, and the problem bookkeeping shared by the gis readers.

A caller declares the columns it needs with :class:`ColumnSpec`; :func:`check_column`
checks one of them cell by cell and converts it, and :func:`duplicate_problems` and
:func:`combination_problems` report values that must not repeat. Every problem is a
:class:`~gis.errors.Problem` naming the file, the rows (or features), the column and the
offending values; :class:`Context` knows how to name places in one file.

:func:`gis.io.read_layer` and :func:`gis.tables.read_table` use these; callers normally
import :class:`ColumnSpec` from :mod:`gis.io`, which re-exports it.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

import numpy as np
import pandas as pd

from gis.errors import Problem

__all__ = [
    "FALSE_WORDS",
    "TRUE_WORDS",
    "ColumnKind",
    "ColumnSpec",
]

ColumnKind = Literal["id", "text", "count", "number", "flag", "choice"]

TRUE_WORDS: Final = frozenset({"true", "1", "yes", "y", "是"})
FALSE_WORDS: Final = frozenset({"false", "0", "no", "n", "否"})
_FLAG_HELP: Final = "true/false, 1/0, yes/no, y/n or 是/否"

MAX_SHOWN: Final = 5
"""How many rows or values a problem lists before saying how many more there are."""


@dataclass(frozen=True)
class ColumnSpec:
    """A column that a layer must (or may) have, and what its cells must hold.

    Parameters
    ----------
    name
        Column name as it appears in the file header.
    kind
        ``"id"``: a non-empty identifier, kept as text (``"007"`` stays ``"007"``).
        ``"text"``: free text, empty allowed. ``"count"``: a number that is 0 or more.
        ``"number"``: any finite number. ``"flag"``: yes/no (true/false, 1/0, yes/no,
        y/n, 是/否; any case). ``"choice"``: one of ``choices``.
    required
        If ``True`` the column must be present. An optional column may be left out
        (it is then not added; the caller applies its default), but if it is present
        every cell must be filled in, except for ``"text"`` columns.
    choices
        The allowed values of a ``"choice"`` column (matched ignoring case and
        surrounding spaces; returned in the spelling given here).
    integer
        For ``"count"`` columns: the values must be whole numbers.
    blank_ok
        For ``"count"`` and ``"number"`` columns: an empty cell means "none" and is kept
        as missing (``NaN``; ``<NA>`` in an integer column) instead of being an error.
    """

    name: str
    kind: ColumnKind
    required: bool = True
    choices: tuple[str, ...] = ()
    integer: bool = False
    blank_ok: bool = False

    def __post_init__(self) -> None:
        """Reject specs that make no sense (a programming error, not bad input)."""
        if self.kind not in get_args(ColumnKind):
            raise ValueError(f"column {self.name!r}: unknown kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"column {self.name!r}: a 'choice' column needs choices")
        if self.kind != "choice" and self.choices:
            raise ValueError(f"column {self.name!r}: only 'choice' columns take choices")
        if self.integer and self.kind != "count":
            raise ValueError(f"column {self.name!r}: integer=True only applies to 'count'")
        if self.blank_ok and self.kind not in ("count", "number"):
            raise ValueError(f"column {self.name!r}: blank_ok=True only applies to 'count' "
                             "and 'number'")


# ----------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Context:
    """How to name places in one file: ``row 17`` for tables, ``feature 3`` for GIS files.

    Parameters
    ----------
    label
        The file name as the user wrote it; the ``source`` of every problem.
    unit
        What one record is called: ``"row"`` or ``"feature"``.
    offset
        Added to a 0-based record index to get the number the user sees (2 for tables
        with one header row, as a spreadsheet shows them; 1 for features).
    """

    label: str
    unit: str
    offset: int

    def number(self, index: int) -> int:
        """Return the number the user sees for the record at 0-based ``index``."""
        return index + self.offset

    def where(self, indices: Sequence[int], column: str | None = None) -> str:
        """Name records (and a column), e.g. ``rows 3, 5, column year``."""
        numbers = [self.number(i) for i in indices]
        noun = self.unit if len(numbers) == 1 else f"{self.unit}s"
        place = f"{noun} {shorten([str(n) for n in numbers])}"
        return f"{place}, column {column}" if column is not None else place

    def problem(
        self,
        message: str,
        *,
        indices: Sequence[int] = (),
        column: str | None = None,
        values: Sequence[str] | None = None,
        quote: bool = True,
    ) -> Problem:
        """Build a problem at ``indices``/``column`` (or the whole file) with its values."""
        if indices:
            where = self.where(indices, column)
        else:
            where = f"column {column}" if column is not None else ""
        shown = None if values is None else [repr(v) if quote else v for v in values]
        value = None if shown is None else shorten(shown)
        return Problem(self.label, where, message, value)


def shorten(items: Sequence[str]) -> str:
    """Join at most five items, then say how many more there are."""
    shown = ", ".join(items[:MAX_SHOWN])
    if len(items) > MAX_SHOWN:
        shown += f" … and {len(items) - MAX_SHOWN} more"
    return shown


def with_suggestion(message: str, name: str, present: Iterable[str]) -> str:
    """Add "did you mean 'X'?" when a present column name is close to ``name``."""
    candidates = [str(c) for c in present if str(c) != "geometry"]
    by_lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
    if close:
        return f"{message}; did you mean {by_lower[close[0]]!r}? (rename that column to {name!r})"
    if candidates:
        return f"{message}; the file has columns: {shorten([repr(c) for c in candidates])}"
    return message


def cell_text(value: object) -> str:
    """Render one cell as stripped text; missing values become ``""``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return ""
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    return str(value).strip()


def parse_float(text: str) -> float | None:
    """Parse a finite number, or return ``None``."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


# ----------------------------------------------------------------------------- columns


def all_specs(columns: Sequence[ColumnSpec], id_column: str | None) -> list[ColumnSpec]:
    """Return the specs to check: ``columns``, led by ``id_column`` if it is not among them.

    Raises
    ------
    ValueError
        If a column is declared more than once.
    """
    specs = list(columns)
    names = [spec.name for spec in specs]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"columns declared more than once: {', '.join(duplicated)}")
    if id_column is not None and id_column not in names:
        specs.insert(0, ColumnSpec(id_column, "id"))
    return specs


@dataclass(frozen=True)
class CheckedColumn:
    """The outcome of :func:`check_column`.

    Parameters
    ----------
    problems
        What is wrong with the column or its cells.
    values
        The converted values (placeholders where a cell is bad), or ``None`` when the
        column is absent.
    bad
        Index labels of the cells that are empty (where that is not allowed) or could not
        be converted.
    """

    problems: list[Problem]
    values: pd.Series[Any] | None
    bad: frozenset[int]


_Parser = Callable[[str, ColumnSpec], tuple[Any, str | None]]


def check_column(frame: pd.DataFrame, spec: ColumnSpec, ctx: Context) -> CheckedColumn:
    """Check one declared column of ``frame`` and convert its values."""
    if spec.name not in frame.columns:
        if not spec.required:
            return CheckedColumn([], None, frozenset())
        message = with_suggestion("required column is missing", spec.name, frame.columns)
        return CheckedColumn([ctx.problem(message, column=spec.name)], None, frozenset())
    texts = [cell_text(v) for v in frame[spec.name].tolist()]
    indices = [int(i) for i in frame.index]
    problems: list[Problem] = []
    blank: list[int] = []
    if spec.kind != "text" and not spec.blank_ok:
        blank = [i for i, t in zip(indices, texts, strict=True) if t == ""]
        if blank:
            hint = "" if spec.required else ", or delete the whole column to use the default"
            problems.append(ctx.problem(f"the cell is empty; fill it in{hint}",
                                        indices=blank, column=spec.name))
    converted: list[Any] = []
    failures: dict[str, list[tuple[int, str]]] = {}
    for index, text in zip(indices, texts, strict=True):
        value, failure = _PARSERS[spec.kind](text, spec) if text or spec.kind == "text" else (
            math.nan if spec.blank_ok else _PLACEHOLDER[spec.kind], None)
        converted.append(value)
        if failure is not None:
            failures.setdefault(failure, []).append((index, text))
    for message, cells in failures.items():
        problems.append(ctx.problem(message, indices=[i for i, _ in cells], column=spec.name,
                                    values=[t for _, t in cells]))
    bad = frozenset(blank) | {i for cells in failures.values() for i, _ in cells}
    values = pd.Series(converted, index=frame.index, dtype=_dtype(spec))
    return CheckedColumn(problems, values, bad)


def _dtype(spec: ColumnSpec) -> str:
    if spec.kind in ("count", "number"):
        if spec.integer:
            return "Int64" if spec.blank_ok else "int64"
        return "float64"
    if spec.kind == "flag":
        return "bool"
    return "str"


def _parse_text(text: str, spec: ColumnSpec) -> tuple[Any, str | None]:
    return text, None


def _parse_number(text: str, spec: ColumnSpec) -> tuple[Any, str | None]:
    number = parse_float(text)
    if number is None:
        return math.nan, (
            "not a number; write plain digits such as 1234 or 12.5, without units, spaces "
            "or thousands separators")
    return number, None


def _parse_count(text: str, spec: ColumnSpec) -> tuple[Any, str | None]:
    number, failure = _parse_number(text, spec)
    placeholder = 0 if spec.integer else math.nan
    if failure is not None:
        return placeholder, failure
    if number < 0:
        return placeholder, "negative; a count must be 0 or more"
    if spec.integer:
        if not float(number).is_integer():
            return placeholder, "not a whole number; this count must be a whole number"
        return int(number), None
    return number, None


def _parse_flag(text: str, spec: ColumnSpec) -> tuple[Any, str | None]:
    word = text.lower()
    if word in TRUE_WORDS:
        return True, None
    if word in FALSE_WORDS:
        return False, None
    return False, f"not a yes/no value; use {_FLAG_HELP}"


def _parse_choice(text: str, spec: ColumnSpec) -> tuple[Any, str | None]:
    by_lower = {choice.lower(): choice for choice in spec.choices}
    if text.lower() in by_lower:
        return by_lower[text.lower()], None
    allowed = ", ".join(repr(choice) for choice in spec.choices)
    return text, f"not an allowed value; use one of {allowed}"


_PARSERS: Final[dict[str, _Parser]] = {
    "id": _parse_text,
    "text": _parse_text,
    "count": _parse_count,
    "number": _parse_number,
    "flag": _parse_flag,
    "choice": _parse_choice,
}
_PLACEHOLDER: Final[dict[str, Any]] = {
    "id": "",
    "text": "",
    "count": 0,
    "number": math.nan,
    "flag": False,
    "choice": "",
}


# ----------------------------------------------------------------------------- repeats


def duplicate_problems(ids: pd.Series[Any], column: str, ctx: Context) -> list[Problem]:
    """Name every id used more than once, with the rows it appears in."""
    filled = ids[ids != ""]
    repeated = filled[filled.duplicated(keep=False)]
    if repeated.empty:
        return []
    groups = repeated.groupby(repeated, sort=False).groups
    described = [(repr(value), [int(i) for i in rows]) for value, rows in groups.items()]
    return [Problem(
        ctx.label,
        ctx.where(list(repeated.index), column),
        "duplicate ids; every row must have its own id",
        _describe(described, ctx),
    )]


def combination_problems(
    values: Mapping[str, pd.Series[Any]],
    names: Sequence[str],
    ctx: Context,
    *,
    skip: Iterable[int] = (),
) -> list[Problem]:
    """Name every combination of the ``names`` columns that appears in more than one row.

    Parameters
    ----------
    values
        Converted columns by name; all of ``names`` must be present, on the same index.
    names
        The columns whose values together must be unique, e.g. ``("county", "year")``.
    ctx
        Names the file and its rows.
    skip
        Index labels to leave out (rows whose cells in these columns are bad and are
        reported already).

    Returns
    -------
    list of gis.errors.Problem
        At most one problem, listing each repeated combination with its rows.
    """
    skipped = set(skip)
    index = [int(i) for i in values[names[0]].index if int(i) not in skipped]
    columns = [values[name].loc[index].tolist() for name in names]
    rows: dict[tuple[Any, ...], list[int]] = {}
    for position, key in zip(index, zip(*columns, strict=True), strict=True):
        rows.setdefault(key, []).append(position)
    repeated = [(key, where) for key, where in rows.items() if len(where) > 1]
    if not repeated:
        return []
    single = len(names) == 1
    described = [(repr(key[0] if single else key), where) for key, where in repeated]
    every = sorted(i for _, where in repeated for i in where)
    joined = names[0] if single else f"{', '.join(names[:-1])} and {names[-1]}"
    noun = "column" if single else "columns"
    message = (f"{joined} repeats; each {joined} must appear in one row only" if single else
               f"{joined} repeat; each combination of {joined} must appear in one row only")
    return [Problem(ctx.label, f"{ctx.where(every)}, {noun} {', '.join(names)}", message,
                    _describe(described, ctx))]


def _describe(groups: Sequence[tuple[str, list[int]]], ctx: Context) -> str:
    """Render ``'A' in rows 2, 4; 'B' in rows 5, 6``, shortened after five groups."""
    described = [f"{value} in {ctx.where(rows)}" for value, rows in groups]
    shown = "; ".join(described[:MAX_SHOWN])
    if len(described) > MAX_SHOWN:
        shown += f" … and {len(described) - MAX_SHOWN} more"
    return shown
