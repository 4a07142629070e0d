"""Read a planner's non-spatial table and check it, reporting every problem at once.

:func:`read_table` reads a table without locations (births by county and year, housing
projects, ...), checks the file and the columns the caller declares with
:class:`~gis.columns.ColumnSpec`, and returns a plain DataFrame. Anything wrong is collected
as :class:`~gis.errors.Problem` records naming the file, the row, the column and the
offending values, and raised together as one :class:`~gis.errors.InputError`. Rows are
numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.

The file checks (missing file, empty file, not UTF-8, repeated header names, blank rows)
live here too and are shared with :func:`gis.io.read_layer`. Each table format is one
reader in ``_READERS`` that turns a file into text cells with a header row; adding a
format means adding a reader and its extension to :data:`TABLE_SUFFIXES`.
"""

from __future__ import annotations

import csv
import difflib
import io
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import pandas as pd

from gis.columns import (
    ColumnSpec,
    Context,
    all_specs,
    check_column,
    combination_problems,
    duplicate_problems,
    shorten,
)
from gis.errors import InputError, Problem

__all__ = ["TABLE_SUFFIXES", "read_table"]

logger = logging.getLogger(__name__)

HEADER_ROWS: Final = 1
"""Header rows above the data in a table file; the first data row is row ``HEADER_ROWS + 1``."""

TABLE_SUFFIXES: Final = {".csv": "CSV"}
"""File name extensions :func:`read_table` understands, and the format each means."""

_TABLE_HINTS: Final = {
    ".xlsx": "save the sheet as 'CSV UTF-8 (Comma delimited)' from Excel",
    ".xls": "save the sheet as 'CSV UTF-8 (Comma delimited)' from Excel",
    ".txt": "if it is a comma-separated table, rename it to .csv",
}


class UnreadableError(Exception):
    """The file cannot be read at all; carries the one problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def one_line(exc: BaseException, path: Path, label: str) -> str:
    """Return the first line of an exception message, with the path replaced by the label."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.replace(str(path), label)


# ----------------------------------------------------------------------------- entry point


def read_table(
    path: Path,
    *,
    label: str,
    columns: Sequence[ColumnSpec] = (),
    id_column: str | None = None,
    unique: Sequence[str] = (),
) -> pd.DataFrame:
    """Read one table without locations, check it and return it.

    Parameters
    ----------
    path
        The file: ``.csv`` (UTF-8 with or without Excel's BOM, one header row).
    label
        The file name as the user wrote it (e.g. in the scenario file); used in every
        problem message.
    columns
        Columns to check and convert (see :class:`~gis.columns.ColumnSpec`). Other
        columns are kept as text.
    id_column
        Column whose values must be present and unique. If it is not listed in
        ``columns`` it is checked as a required ``"id"`` column.
    unique
        Columns whose values taken together must not repeat, e.g. ``("county", "year")``.
        Each must be declared in ``columns`` (or be ``id_column``); the check compares
        converted values and leaves out rows where one of these cells is bad. It is
        skipped when one of the columns is absent.

    Returns
    -------
    pandas.DataFrame
        The table, index 0..n-1 in file order, blank rows dropped, header names stripped
        of surrounding spaces. Declared columns are converted: ``id``, ``text`` and
        ``choice`` to ``str``; ``count`` and ``number`` to float64 (int64 for ``integer``
        counts); ``flag`` to bool. Optional columns absent from the file are not added.
        Other columns are kept as the text in the file.

    Raises
    ------
    gis.errors.InputError
        With every problem found (only one if the file cannot be read at all).
    ValueError
        For invalid arguments (duplicate column specs, ``unique`` naming an undeclared or
        repeated column).
    """
    specs = all_specs(columns, id_column)
    _check_unique_argument(unique, specs)
    ctx = Context(label, "row", HEADER_ROWS + 1)
    try:
        suffix = check_file(path, label, TABLE_SUFFIXES, _TABLE_HINTS)
        table, problems = _READERS[suffix](path, ctx)
    except UnreadableError as unreadable:
        raise InputError([unreadable.problem]) from None

    coerced: dict[str, pd.Series[Any]] = {}
    bad: set[int] = set()
    for spec in specs:
        checked = check_column(table, spec, ctx)
        problems += checked.problems
        if checked.values is not None:
            coerced[spec.name] = checked.values
            if spec.name in unique:
                bad |= checked.bad
    if id_column is not None and id_column in coerced:
        problems += duplicate_problems(coerced[id_column], id_column, ctx)
    if unique and all(name in coerced for name in unique):
        problems += combination_problems(coerced, unique, ctx, skip=bad)
    if problems:
        raise InputError(problems)

    result = table.copy()
    for name, values in coerced.items():
        result[name] = values
    result = result.reset_index(drop=True)
    logger.info("read %d rows from %s (%s)", len(result), label, TABLE_SUFFIXES[suffix])
    return result


def _check_unique_argument(unique: Sequence[str], specs: Sequence[ColumnSpec]) -> None:
    if isinstance(unique, str):
        raise ValueError(f"unique must be a sequence of column names, not the string {unique!r}")
    declared = {spec.name for spec in specs}
    undeclared = [name for name in unique if name not in declared]
    if undeclared:
        raise ValueError(f"unique names columns that are not declared: {', '.join(undeclared)}")
    if len(set(unique)) != len(unique):
        raise ValueError(f"unique names a column more than once: {', '.join(unique)}")


# ----------------------------------------------------------------------------- the file


def check_file(
    path: Path, label: str, suffixes: Mapping[str, str], hints: Mapping[str, str]
) -> str:
    """Check that the file exists, has one of ``suffixes`` and is not empty.

    Parameters
    ----------
    path
        The file.
    label
        The file name as the user wrote it.
    suffixes
        Supported extensions (lower case, with the dot) and the format each means.
    hints
        Advice for extensions that are not supported but common, e.g. ``.xlsx``.

    Returns
    -------
    str
        The extension, lower case.

    Raises
    ------
    UnreadableError
        With the one problem that stops the file being read.
    """
    if not path.exists():
        raise UnreadableError(Problem(label, "", _missing_file_message(path)))
    if path.is_dir():
        raise UnreadableError(Problem(label, "", "is a folder, not a file"))
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        supported = ", ".join(f"{s} ({fmt})" for s, fmt in suffixes.items())
        message = f"unsupported file type {suffix or '(no extension)'!r}; use one of {supported}"
        if suffix in hints:
            message += f"; {hints[suffix]}"
        raise UnreadableError(Problem(label, "", message))
    if path.stat().st_size == 0:
        raise UnreadableError(Problem(label, "", "the file is empty (0 bytes)"))
    return suffix


def _missing_file_message(path: Path) -> str:
    folder = path.parent
    if not folder.is_dir():
        return f"file not found: the folder {folder.name or str(folder)!r} does not exist either"
    siblings = sorted(p.name for p in folder.iterdir() if p.is_file())
    close = difflib.get_close_matches(path.name, siblings, n=3, cutoff=0.6)
    if not close:
        lower = {name.lower(): name for name in siblings}
        close = [lower[path.name.lower()]] if path.name.lower() in lower else []
    if close:
        names = ", ".join(repr(name) for name in close)
        return f"file not found; similarly named files in the same folder: {names}"
    return "file not found"


# ----------------------------------------------------------------------------- CSV


def read_csv_cells(path: Path, ctx: Context) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a CSV file as text cells, the way a spreadsheet shows it.

    Parameters
    ----------
    path
        The file (already checked with :func:`check_file`).
    ctx
        Names the file and its rows.

    Returns
    -------
    tuple of pandas.DataFrame and list of gis.errors.Problem
        Every cell as text (``""`` for empty), header names stripped, blank rows dropped;
        the index is the 0-based data row, so ``ctx`` numbers rows as in the file. The
        problems are repeated header names (the later copies are read as ``name.1``).

    Raises
    ------
    UnreadableError
        If the file is not UTF-8, cannot be parsed, or has no data rows.
    """
    text = decode_csv(path, ctx.label)
    try:
        table = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError:
        raise UnreadableError(ctx.problem("the file is empty (no header row)")) from None
    except (pd.errors.ParserError, ValueError) as exc:
        message = f"cannot be read as CSV: {one_line(exc, path, ctx.label)}"
        raise UnreadableError(ctx.problem(message)) from None
    table.columns = pd.Index([str(c).strip() for c in table.columns])
    blank_rows = (table.apply(lambda col: col.str.strip()) == "").all(axis=1)
    table = table.loc[~blank_rows]
    if table.empty:
        raise UnreadableError(ctx.problem("the file has a header row but no data rows"))
    return table, _duplicate_header_problems(text, ctx)


def decode_csv(path: Path, label: str) -> str:
    """Decode a CSV as UTF-8 (an Excel BOM is fine); anything else is a problem."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            guess = ""
        else:
            guess = " (it looks like GBK/GB18030, the Chinese Windows default)"
        message = (
            f"the file is not UTF-8 text{guess}; first bad byte on line {line}. "
            "Save it as UTF-8: in Excel 'Save As' > 'CSV UTF-8 (Comma delimited)', "
            "in WPS or a text editor choose the UTF-8 encoding"
        )
        raise UnreadableError(Problem(label, "", message)) from None


def _duplicate_header_problems(text: str, ctx: Context) -> list[Problem]:
    header = next(csv.reader(io.StringIO(text)), [])
    names = [name.strip() for name in header]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    return [
        Problem(
            ctx.label,
            "row 1",
            "column names appear more than once in the header; rename or delete the extra "
            "copies (the later copies were read as 'name.1', 'name.2', …)",
            shorten([repr(name) for name in repeated]),
        )
    ] if repeated else []


_Reader = Callable[[Path, Context], tuple[pd.DataFrame, list[Problem]]]

_READERS: Final[dict[str, _Reader]] = {".csv": read_csv_cells}
"""One reader per entry of :data:`TABLE_SUFFIXES`: text cells plus header problems."""
