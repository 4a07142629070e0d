"""``plan.xlsx``: the plan as a workbook a planner opens in Excel or WPS, reads and prints.

:func:`write_plan_xlsx` turns the result tables of a run (see :mod:`allocator.tables`,
:mod:`allocator.rotation_summary` and :mod:`allocator.audit`) into one workbook with a
sheet per subject:

======================  ===================  ==============================================
Sheet (zh)              Sheet (en)           Rows
======================  ===================  ==============================================
新建学校                New sites            opened candidate sites (``sites.csv``)
学校容量                School capacities    school × stage; classes, seats, pupils by year
扩建学校                Expansions           expansion modules (``expansions.csv``)
片区分配汇总            Zones                zone × stage × year: children, assigned,
                                             unmet, schools, mean and longest distance
教师轮岗                Rotations            ``rotations.csv``
教师配置                Staffing             ``staffing.csv``
规则审计                Audit                ``audit.csv``
======================  ===================  ==============================================

A sheet is written when its table is given (new sites, capacities and zones need
``sites``, ``schools`` and ``assignments``). Headers come from the one header table of
:mod:`gis.headers` in the scenario's language (``meta.language``: ``zh`` or ``en``);
coded values (``primary``, ``opened``, ``pass``) are written as Chinese words in ``zh``,
yes/no as 是/否. Money is written in 万元 (10,000 CNY) under headers that say so,
distances in km, shares as percentages. Every sheet has a frozen, filterable header row,
column widths fitted to the text, and a print setup (A4 landscape, fitted to the page
width, header row repeated on every page, page numbers in the footer).

The file is deterministic: the same tables give the same bytes (the document dates and
the zip entries' times are fixed).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from gis.columns import cell_text
from gis.headers import HEADERS, header_label, value_label

__all__ = ["PLAN_XLSX", "SHEETS", "save_workbook", "sheet_frames", "write_plan_xlsx"]

log = logging.getLogger(__name__)

PLAN_XLSX: Final = "plan.xlsx"
FIXED_TIME: Final = dt.datetime(2000, 1, 1)
"""Document creation and change time written into every workbook (for stable bytes)."""

_ZIP_TIME: Final = (2000, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Sheet:
    """One sheet of the plan workbook: its key, names and frozen cell."""

    key: str
    zh: str
    en: str
    freeze: str = "B2"

    def title(self, language: str) -> str:
        """The sheet's name in ``language``."""
        return self.zh if language == "zh" else self.en


SHEETS: Final = (
    Sheet("new_sites", "新建学校", "New sites"),
    Sheet("capacities", "学校容量", "School capacities", freeze="C2"),
    Sheet("expansions", "扩建学校", "Expansions"),
    Sheet("zones", "片区分配汇总", "Zones"),
    Sheet("rotations", "教师轮岗", "Rotations"),
    Sheet("staffing", "教师配置", "Staffing"),
    Sheet("audit", "规则审计", "Audit"),
)
"""The sheets in workbook order."""

#: Number formats by column code name (others: by dtype, see :func:`_number_format`).
FORMATS: Final[dict[str, str]] = {
    "year": "0",
    "completion_year": "0",
    "utilisation": "0.0%",
    "lon": "0.000000",
    "lat": "0.000000",
    "distance_km": "#,##0.0",
    "mean_distance_km": "#,##0.0",
    "max_distance_km": "#,##0.0",
    "children": "#,##0",
    "assigned": "#,##0",
    "unmet": "#,##0",
    "enrolled": "#,##0",
    "required": "General",
    "actual": "General",
}
_MONEY_FORMAT: Final = "#,##0.00"
#: Columns written as text whatever their type (codes such as the county code 440703).
TEXT_COLUMNS: Final = frozenset({"county", "region", "school", "from_county", "to_county",
                                 "from_region", "to_region", "from_school", "to_school",
                                 "scope", "clause"})
_WIDE_TEXT: Final = frozenset({"name", "reason", "message", "document", "scope"})
_WRAPPED: Final = frozenset({"reason", "message"})
_MAX_WIDTH: Final = 48
_WIDTH_ROWS: Final = 2000
"""Column widths are fitted to the header and the first rows (a display nicety)."""
_HEADER_FILL: Final = PatternFill("solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
_FOOTER: Final = {"zh": "第 &P 页，共 &N 页", "en": "Page &P of &N"}


# ----------------------------------------------------------------------------- sheet tables


def _new_sites(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame | None:
    sites = tables.get("sites")
    if sites is None:
        return None
    opened = sites[sites["status"] == "opened"] if "status" in sites.columns else sites
    drop = [c for c in ("status", "reason") if c in opened.columns]
    return opened.drop(columns=drop).reset_index(drop=True)


def _capacities(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame | None:
    """School × stage rows; per period year ``YEAR:classes``, ``YEAR:seats``, ``YEAR:enrolled``."""
    schools = tables.get("schools")
    if schools is None:
        return None
    keys = ["school_id", "stage"]
    info = [c for c in ("name", "county", "ownership") if c in schools.columns]
    ordered = schools.sort_values(["stage", "school_id", "year"], kind="mergesort")
    last = ordered.groupby(keys, sort=False).tail(1).set_index(keys)
    frame = last[[*info, "kind"]].copy() if "kind" in last.columns else last[info].copy()
    measures = [c for c in ("classes", "seats", "enrolled") if c in schools.columns]
    for year in sorted(int(y) for y in schools["year"].unique()):
        here = ordered[ordered["year"] == year].set_index(keys)
        for measure in measures:
            frame[f"{year}:{measure}"] = here[measure].reindex(frame.index)
    if "cost_cny" in schools.columns:
        frame["cost_cny"] = ordered.groupby(keys, sort=False)["cost_cny"].sum()
    frame = frame.reset_index()
    return frame[["school_id", *info, "stage", *frame.columns[len(keys) + len(info):]]]


def _zones(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame | None:
    """Zone × stage × year: children, assigned, unmet, schools, mean and longest distance (km)."""
    assignments = tables.get("assignments")
    if assignments is None:
        return None
    keys = ["zone_id", "stage", "year"]
    used = assignments[assignments["children"] > 0].assign(
        weighted=lambda f: f["children"] * f["distance_m"])
    grouped = used.groupby(keys)
    summary = pd.DataFrame({
        "assigned": grouped["children"].sum(),
        "schools": grouped["school_id"].nunique(),
        "mean_distance_km": grouped["weighted"].sum() / grouped["children"].sum() / 1000.0,
        "max_distance_km": grouped["distance_m"].max() / 1000.0,
    })
    demand = tables.get("demand")
    if demand is not None and "unmet" in demand.columns:
        planned = demand[demand["unmet"].notna()].set_index(keys)
        frame = planned[["children", "unmet"]].join(summary, how="outer")
        frame["assigned"] = frame["assigned"].fillna(0.0)
        frame["schools"] = frame["schools"].fillna(0).astype("int64")
    else:
        frame = summary.assign(children=summary["assigned"], unmet=0.0)
    frame = frame.reset_index().sort_values(keys, kind="mergesort")
    columns = [*keys, "children", "assigned", "unmet", "schools", "mean_distance_km",
               "max_distance_km"]
    return frame[columns].reset_index(drop=True)


def _as_is(name: str) -> Callable[[Mapping[str, pd.DataFrame]], pd.DataFrame | None]:
    def build(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame | None:
        table = tables.get(name)
        return None if table is None else table.reset_index(drop=True)
    return build


_BUILDERS: Final[dict[str, Callable[[Mapping[str, pd.DataFrame]], pd.DataFrame | None]]] = {
    "new_sites": _new_sites,
    "capacities": _capacities,
    "expansions": _as_is("expansions"),
    "zones": _zones,
    "rotations": _as_is("rotations"),
    "staffing": _as_is("staffing"),
    "audit": _as_is("audit"),
}


def sheet_frames(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The table behind each sheet, by sheet key, with code-named columns.

    Parameters
    ----------
    tables
        Result tables by name (``sites``, ``schools``, ``assignments``, ``demand``,
        ``expansions``, ``rotations``, ``staffing``, ``audit``); missing ones are skipped.

    Returns
    -------
    dict of str to pandas.DataFrame
        Values in the units of the result tables (CNY, persons, km); the workbook writer
        divides money to 万元. Wide capacity columns are named ``YEAR:measure``.
    """
    frames: dict[str, pd.DataFrame] = {}
    for sheet in SHEETS:
        frame = _BUILDERS[sheet.key](tables)
        if frame is not None:
            frames[sheet.key] = frame
    return frames


# ----------------------------------------------------------------------------- labels and cells


def column_label(name: str, language: str) -> str:
    """The header of a sheet column: ``2025年学位数`` / ``Seats 2025`` for ``2025:seats``."""
    year, _, measure = name.partition(":")
    if measure and year.isdigit():
        label = header_label(measure, language)
        return f"{year}年{label}" if language == "zh" else f"{label} {year}"
    return header_label(name, language)


def _divisor(name: str) -> float:
    measure = name.partition(":")[2] or name
    header = HEADERS.get(measure)
    return 1.0 if header is None else header.divisor


def _is_text(code: str) -> bool:
    return code in TEXT_COLUMNS or code.endswith("_id")


def _number_format(name: str, series: pd.Series[Any]) -> str | None:
    measure = name.partition(":")[2] or name
    if _is_text(measure):
        return "@"
    if _divisor(name) != 1.0:
        return _MONEY_FORMAT
    if measure in FORMATS:
        return FORMATS[measure]
    if "per100" in measure:
        return "0.00"
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return "#,##0"
    values = series.dropna()
    if len(values) and bool((values == values.round()).all()):
        return "#,##0"
    return "#,##0.0###"


def _cell(value: Any, column: str, divisor: float, language: str) -> Any:
    """One value as written: NaN empty, numbers scaled, codes and yes/no in the language."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalar -> Python
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool):
        return value_label(column, value, language)
    if _is_text(column):
        return cell_text(value)
    if isinstance(value, int | float):
        return round(value / divisor, 6) if divisor != 1.0 else value
    return value_label(column, str(value), language)


def _text_width(value: object, number_format: str | None) -> int:
    """Display width of a cell in Excel character units (CJK characters count two)."""
    if value is None:
        return 0
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = f"{value:,.2f}" if number_format not in (None, "0", "General") else str(value)
    else:
        text = str(value)
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


# ----------------------------------------------------------------------------- writing


def _write_sheet(book: Workbook, sheet: Sheet, frame: pd.DataFrame, language: str) -> None:
    sheet_ws = book.create_sheet(sheet.title(language))
    assert isinstance(sheet_ws, Worksheet)
    ws: Worksheet = sheet_ws
    columns = [str(c) for c in frame.columns]
    labels = [column_label(c, language) for c in columns]
    ws.append(labels)
    divisors = [_divisor(c) for c in columns]
    formats = [_number_format(c, frame[c]) for c in columns]
    codes = [c.partition(":")[2] or c for c in columns]
    widths = [_text_width(label, None) + 2 for label in labels]
    for number, row in enumerate(frame.itertuples(index=False, name=None)):
        cells = [_cell(v, code, d, language) for v, code, d in zip(row, codes, divisors,
                                                                    strict=True)]
        ws.append(cells)
        if number < _WIDTH_ROWS:
            for position, value in enumerate(cells):
                widths[position] = max(widths[position],
                                       _text_width(value, formats[position]) + 2)
    bold = Font(bold=True)
    line = Border(bottom=Side(style="thin"))
    for position, _ in enumerate(columns, start=1):
        head = ws.cell(row=1, column=position)
        head.font = bold
        head.fill = _HEADER_FILL
        head.border = line
        head.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for position, (code, number_format) in enumerate(zip(codes, formats, strict=True), start=1):
        letter = get_column_letter(position)
        ws.column_dimensions[letter].width = min(max(widths[position - 1], 8),
                                                 _MAX_WIDTH if code in _WIDE_TEXT else 24)
        wrap = code in _WRAPPED
        if number_format is None and not wrap:
            continue
        wrapped = Alignment(wrap_text=True, vertical="top")
        for (cell,) in ws.iter_rows(min_row=2, min_col=position, max_col=position):
            if number_format is not None:
                cell.number_format = number_format
            if wrap:
                cell.alignment = wrapped
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = sheet.freeze
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(frame) + 1, 2)}"
    _print_setup(ws, language)


def _print_setup(ws: Worksheet, language: str) -> None:
    """A4 landscape, fitted to one page wide, header row repeated, page numbers."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = True
    header, footer = ws.oddHeader, ws.oddFooter
    if header is not None and header.center is not None:
        header.center.text = "&A"
    if footer is not None and footer.center is not None:
        footer.center.text = _FOOTER.get(language, _FOOTER["en"])


def save_workbook(book: Workbook, path: Path) -> Path:
    """Save ``book`` to ``path`` with fixed dates, so equal content gives equal bytes.

    openpyxl stamps the document's change time and every zip entry with the clock; here
    the document dates are :data:`FIXED_TIME` and the zip entries carry 2000-01-01.
    """
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    book.properties.creator = "allocator"
    book.properties.lastModifiedBy = "allocator"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        writer = ExcelWriter(book, archive)
        writer.write_data()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dest.writestr(entry, source.read(info.filename))
    path.write_bytes(out.getvalue())
    return path


def write_plan_xlsx(folder: Path, tables: Mapping[str, pd.DataFrame], language: str) -> Path:
    """Write ``plan.xlsx`` into a results folder.

    Parameters
    ----------
    folder
        The results directory (being written).
    tables
        The run's result tables by name, the audit table under ``"audit"``.
    language
        ``"zh"`` for Chinese sheet names, headers and coded values; anything else gives
        English.

    Returns
    -------
    pathlib.Path
        The workbook written, ``folder / "plan.xlsx"``.
    """
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    frames = sheet_frames(tables)
    for sheet in SHEETS:
        if sheet.key in frames:
            _write_sheet(book, sheet, frames[sheet.key], language)
    if not book.worksheets:
        book.create_sheet("说明" if language == "zh" else "About")
    path = save_workbook(book, Path(folder) / PLAN_XLSX)
    log.info("wrote %s (%d sheets)", path, len(book.worksheets))
    return path
