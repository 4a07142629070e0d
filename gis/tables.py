"""Read a planner's non-spatial table and check it, reporting every problem at once.

:func:`read_table` reads a table without locations (births by county and year, housing
projects, ...), checks the file and the columns the caller declares with
:class:`~gis.columns.ColumnSpec`, and returns a plain DataFrame. Anything wrong is collected
as :class:`~gis.errors.Problem` records naming the file, the row, the column and the
offending values, and raised together as one :class:`~gis.errors.InputError`. Rows are
numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.

Tables are CSV files or sheets of an Excel workbook (``.xlsx``, read with openpyxl; the
sheet is named by the caller, or is the workbook's only sheet). Problems in a sheet name
the workbook and the sheet: ``data/jiangmen.xlsx, sheet 学校: row 17, column 班级数: ...``.
Headers may be written in Chinese or English (学校编号 or school_id; see
:mod:`gis.headers`); they are renamed to the code names the caller declares, and
problems name the column as the planner wrote it.

The file checks (missing file, empty file, not UTF-8, repeated header names, blank rows)
live here too and are shared with :func:`gis.io.read_layer`. Each table format is one
reader in ``_READERS`` that turns a file into text cells with a header row; adding a
format means adding a reader and its extension to :data:`TABLE_SUFFIXES`.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import logging
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd

from gis.columns import (
    ColumnSpec,
    Context,
    all_specs,
    cell_text,
    check_column,
    combination_problems,
    duplicate_problems,
    shorten,
)
from gis.errors import InputError, Problem
from gis.headers import (
    HEADERS,
    VALUES,
    WrittenContext,
    match_headers,
    missing_column_message,
    translate_values,
)

__all__ = ["TABLE_SUFFIXES", "read_table"]

logger = logging.getLogger(__name__)

HEADER_ROWS: Final = 1
"""Header rows above the data in a table file; the first data row is row ``HEADER_ROWS + 1``."""

TABLE_SUFFIXES: Final = {".csv": "CSV", ".xlsx": "Excel workbook"}
"""File name extensions :func:`read_table` understands, and the format each means."""

XLS_HINT: Final = ("save it in Excel or WPS as 'Excel Workbook (*.xlsx)', or as "
                   "'CSV UTF-8 (Comma delimited)'")
_TABLE_HINTS: Final = {
    ".xls": XLS_HINT,
    ".xlsm": XLS_HINT,
    ".et": XLS_HINT,
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
    sheet: str | None = None,
) -> pd.DataFrame:
    """Read one table without locations, check it and return it.

    Parameters
    ----------
    path
        The file: ``.csv`` (UTF-8 with or without Excel's BOM, one header row) or
        ``.xlsx`` (an Excel workbook; the header is row 1 of the sheet).
    label
        The file name as the user wrote it (e.g. in the scenario file); used in every
        problem message.
    columns
        Columns to check and convert (see :class:`~gis.columns.ColumnSpec`). Other
        columns are kept as text. Headers may be written as in :mod:`gis.headers`
        (学校编号 for ``school_id``); they are renamed to the declared names.
    id_column
        Column whose values must be present and unique. If it is not listed in
        ``columns`` it is checked as a required ``"id"`` column.
    unique
        Columns whose values taken together must not repeat, e.g. ``("county", "year")``.
        Each must be declared in ``columns`` (or be ``id_column``); the check compares
        converted values and leaves out rows where one of these cells is bad. It is
        skipped when one of the columns is absent.
    sheet
        The sheet of an Excel workbook; may be left out when the workbook has one sheet.
        Naming a sheet for a CSV file is a problem.

    Returns
    -------
    pandas.DataFrame
        The table, index 0..n-1 in file order, blank rows dropped, header names stripped
        of surrounding spaces and known headers renamed to code names. Declared columns
        are converted: ``id``, ``text`` and ``choice`` to ``str``; ``count`` and
        ``number`` to float64 (int64 for ``integer`` counts); ``flag`` to bool. Optional
        columns absent from the file are not added. Other columns are kept as text.

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
    try:
        suffix = check_file(path, label, TABLE_SUFFIXES, _TABLE_HINTS)
        cells = read_cells(path, label, suffix, sheet)
    except UnreadableError as unreadable:
        raise InputError([unreadable.problem]) from None
    table, ctx, problems = named_columns(cells, [spec.name for spec in specs])
    coerced, checked_problems, bad_cells = check_specs(table, specs, ctx)
    problems += checked_problems
    bad: set[int] = set()
    for name in unique:
        bad |= bad_cells.get(name, frozenset())
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
    logger.info("read %d rows from %s (%s)", len(result), ctx.label, TABLE_SUFFIXES[suffix])
    return result


# ----------------------------------------------------------------------------- shared steps


@dataclass(frozen=True)
class Cells:
    """A table file read as text cells (the outcome of :func:`read_cells`).

    Parameters
    ----------
    table
        Every cell as text (``""`` for empty), header names stripped, blank rows dropped;
        the index is the 0-based data row (the header is row 1).
    problems
        Problems with the header row (repeated names).
    label
        The file as problems name it: the label, and for a workbook ``, sheet NAME``.
    """

    table: pd.DataFrame
    problems: list[Problem]
    label: str


def read_cells(path: Path, label: str, suffix: str, sheet: str | None) -> Cells:
    """Read a CSV file or one sheet of a workbook as text cells.

    Raises
    ------
    UnreadableError
        If the file or sheet cannot be read, or a sheet is named for a CSV file.
    """
    if suffix == ".xlsx":
        return read_xlsx_cells(path, label, sheet)
    if sheet is not None:
        raise UnreadableError(Problem(label, "", f"a sheet ({sheet!r}) is named, but the file "
                                      f"is {TABLE_SUFFIXES[suffix]}, not an Excel workbook "
                                      "(.xlsx); remove the sheet or name the workbook"))
    table, problems = _READERS[suffix](path, Context(label, "row", HEADER_ROWS + 1))
    return Cells(table, problems, label)


def named_columns(
    cells: Cells, keep: Sequence[str], *, unit: str = "row", offset: int = HEADER_ROWS + 1
) -> tuple[pd.DataFrame, WrittenContext, list[Problem]]:
    """Rename known headers to code names and coded Chinese cells to codes.

    Parameters
    ----------
    cells
        The table as read.
    keep
        Column names the caller asks for; a header written exactly so is not renamed.
    unit, offset
        How records are numbered (see :class:`~gis.columns.Context`).

    Returns
    -------
    tuple
        The renamed table, a context naming columns as written, and the header problems
        (those of ``cells`` and headers that mean the same column).
    """
    base = Context(cells.label, unit, offset)
    match = match_headers([str(c) for c in cells.table.columns if c != "geometry"], base,
                          keep=keep)
    table = cells.table.rename(columns=match.renames)
    for column in VALUES:
        if column in table.columns:
            table[column] = pd.Series(translate_values(table[column].tolist(), column),
                                      index=table.index, dtype=object)
    ctx = WrittenContext(cells.label, unit, offset, written=match.written, chinese=match.chinese)
    return table, ctx, [*cells.problems, *match.problems]


def check_specs(
    table: pd.DataFrame, specs: Sequence[ColumnSpec], ctx: WrittenContext
) -> tuple[dict[str, pd.Series[Any]], list[Problem], dict[str, frozenset[int]]]:
    """Check the declared columns of ``table`` and convert them.

    Returns
    -------
    tuple
        Converted columns by name (absent optional columns left out), the problems, and
        the index labels of the bad cells of each column.
    """
    coerced: dict[str, pd.Series[Any]] = {}
    problems: list[Problem] = []
    bad: dict[str, frozenset[int]] = {}
    as_written = [ctx.column(str(c)) for c in table.columns if c != "geometry"]
    taken = [ctx.column(str(c)) for c in table.columns if str(c) in HEADERS]
    for spec in specs:
        if spec.required and spec.name not in table.columns:
            message = missing_column_message(spec.name, as_written, chinese=ctx.chinese,
                                             taken=taken)
            problems.append(ctx.problem(message, column=spec.name))
            continue
        checked = check_column(table, spec, ctx)
        problems += checked.problems
        if checked.values is not None:
            coerced[spec.name] = checked.values
            bad[spec.name] = checked.bad
    return coerced, problems, bad


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


# ----------------------------------------------------------------------------- Excel


def read_xlsx_cells(path: Path, label: str, sheet: str | None) -> Cells:
    """Read one sheet of an Excel workbook (``.xlsx``) as text cells.

    Parameters
    ----------
    path
        The workbook (already checked with :func:`check_file`).
    label
        The file name as the user wrote it.
    sheet
        The sheet to read; ``None`` reads the only sheet of a one-sheet workbook.

    Returns
    -------
    Cells
        Row 1 is the header; the index is the Excel row number minus 2, so problems name
        rows as Excel shows them. Numbers become text as :func:`~gis.columns.cell_text`
        renders them (``12.0`` → ``"12"``), dates as ``YYYY-MM-DD``; formulas give the
        value Excel last saved. The label names the sheet: ``book.xlsx, sheet 学校``.

    Raises
    ------
    UnreadableError
        If the file is not a workbook, the sheet is missing (the message lists the
        sheets), or the sheet has no header or no data rows.
    """
    import openpyxl  # imported here: only workbooks need it

    with warnings.catch_warnings(record=True) as caught:  # openpyxl warns on extensions
        warnings.simplefilter("always")
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
            message = (f"cannot be read as an Excel workbook (.xlsx): {one_line(exc, path, label)}"
                       f"; open it in Excel or WPS and save it again as .xlsx")
            raise UnreadableError(Problem(label, "", message)) from None
        try:
            name = _choose_sheet(book.sheetnames, label, sheet)
            worksheet = book[name]
            if not hasattr(worksheet, "iter_rows"):
                raise UnreadableError(Problem(label, "", f"sheet {name!r} is a chart, not a "
                                              "table"))
            worksheet.reset_dimensions()
            rows: list[list[object]] = [list(row)
                                        for row in worksheet.iter_rows(values_only=True)]
        finally:
            book.close()
    for warning in caught:
        logger.debug("%s: %s", label, warning.message)
    where = f"{label}, sheet {name}"
    return Cells(*_sheet_table(rows, where), where)


def _choose_sheet(names: Sequence[str], label: str, sheet: str | None) -> str:
    listed = ", ".join(repr(n) for n in names)
    if sheet is None:
        if len(names) == 1:
            return names[0]
        raise UnreadableError(Problem(label, "", f"the workbook has {len(names)} sheets; say "
                                      f"which one to use (sheet: ...). Its sheets are: {listed}"))
    if sheet in names:
        return sheet
    stripped = {n.strip(): n for n in names}
    if sheet.strip() in stripped:
        return stripped[sheet.strip()]
    close = difflib.get_close_matches(sheet, list(names), n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UnreadableError(Problem(label, "", f"the workbook has no sheet {sheet!r}; its "
                                  f"sheets are: {listed}{hint}"))


def _excel_text(value: object) -> str:
    """One cell as text: numbers as :func:`cell_text` renders them, dates as ISO dates."""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return cell_text(value)


def _sheet_table(rows: list[list[object]], where: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Header row 1 and text cells below it; blank rows dropped, row numbers kept."""
    if not rows:
        raise UnreadableError(Problem(where, "", "the sheet is empty (no header row)"))
    header = [_excel_text(v) for v in rows[0]]
    data = [[_excel_text(v) for v in row] for row in rows[1:]]
    width = max([len(header), *(len(row) for row in data)])
    used = [i for i in range(width)
            if (i < len(header) and header[i]) or any(i < len(r) and r[i] for r in data)]
    filled = [h for h in header if h]
    if len(filled) == 1 and len(used) > 1:
        raise UnreadableError(Problem(where, "row 1", f"row 1 holds only {filled[0]!r}; the "
                                      "header (the column names) must be row 1, so delete the "
                                      "title rows above it"))
    if not filled:
        raise UnreadableError(Problem(where, "row 1", "row 1 is empty; the header (the column "
                                      "names) must be row 1"))
    names = _unique_names([header[i] if i < len(header) else "" for i in used])
    body = [[row[i] if i < len(row) else "" for i in used] for row in data]
    table = pd.DataFrame(body, columns=names, dtype=str)
    table = table.loc[(table != "").any(axis=1)] if len(table.columns) else table
    if table.empty:
        raise UnreadableError(Problem(where, "", "the sheet has a header row but no data rows"))
    repeated = sorted({n for n in filled if filled.count(n) > 1})
    problems = [Problem(where, "row 1", "column names appear more than once in the header; "
                        "rename or delete the extra copies (the later copies were read as "
                        "'name.1', 'name.2', …)", shorten([repr(n) for n in repeated]))
                ] if repeated else []
    return table, problems


def _unique_names(header: list[str]) -> list[str]:
    """Column names as pandas gives them: ``Unnamed: i`` for blanks, ``name.1`` for repeats."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for position, text in enumerate(header):
        name = text or f"Unnamed: {position}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


_Reader = Callable[[Path, Context], tuple[pd.DataFrame, list[Problem]]]

_READERS: Final[dict[str, _Reader]] = {".csv": read_csv_cells}
"""One reader per text format of :data:`TABLE_SUFFIXES`: text cells plus header problems
(workbooks, which have sheets, are read by :func:`read_xlsx_cells`)."""
