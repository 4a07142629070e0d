"""Build ``data/jiangmen.xlsx``: the Jiangmen inputs as one Excel workbook with Chinese headers.

Run from anywhere::

    python scenarios/jiangmen/make_workbook.py

It reads the CSV layers of ``scenario.yaml`` and ``rotation.yaml`` (SYNTHETIC zones,
schools, candidate sites and teachers; see ``README.md``) and writes one sheet per layer,
with the headers and coded values a planner writes in Chinese (学校编号, 学段 = 小学,
骨干教师 = 是/否; the header table is :mod:`gis.headers`, documented in
``docs/excel.md``). ``scenario_excel.yaml`` reads every layer from this workbook, and
``tests/test_excel_in.py`` checks that it loads to the same inputs as the CSV scenario.

The first sheet, 说明, lists every sheet and column: header, code name, required or not,
what the cells must hold. Numbers are written as numbers, codes (county codes, ids) as
text, yes/no columns as 是/否; other columns keep the CSV text. The file is
byte-identical on every run (fixed document dates). Run it again after the CSVs change.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

HERE = Path(__file__).resolve().parent
try:
    from allocator.excel_out import save_workbook
    from allocator.inputs import (
        BIRTHS_COLUMNS,
        CANDIDATE_COLUMNS,
        SCHOOL_COLUMNS,
        ZONE_COLUMNS,
    )
    from allocator.rotation_pipeline import (
        ATTRIBUTE_COLUMNS,
        PAIRING_COLUMNS,
        RESEARCH_COLUMNS,
        TEACHER_COLUMNS,
    )
    from gis.columns import ColumnSpec
    from gis.headers import HEADERS, VALUES, value_label
except ModuleNotFoundError:  # run from a checkout without installing the package
    sys.path.insert(0, str(HERE.parents[1]))
    from allocator.excel_out import save_workbook
    from allocator.inputs import (
        BIRTHS_COLUMNS,
        CANDIDATE_COLUMNS,
        SCHOOL_COLUMNS,
        ZONE_COLUMNS,
    )
    from allocator.rotation_pipeline import (
        ATTRIBUTE_COLUMNS,
        PAIRING_COLUMNS,
        RESEARCH_COLUMNS,
        TEACHER_COLUMNS,
    )
    from gis.columns import ColumnSpec
    from gis.headers import HEADERS, VALUES, value_label

DATA = HERE / "data"
WORKBOOK = DATA / "jiangmen.xlsx"
COORDINATES = (ColumnSpec("lon", "number"), ColumnSpec("lat", "number"))
REGION_COLUMNS = (ColumnSpec("adcode", "id"), ColumnSpec("region", "id"))

#: (sheet, CSV file, declared columns, what the sheet is) in workbook order.
SHEETS: tuple[tuple[str, str, tuple[ColumnSpec, ...], str], ...] = (
    ("片区", "zones.csv", (*ZONE_COLUMNS, *COORDINATES),
     "需求片区: 每行一个片区(中心点经纬度, GCJ-02), 人口与各学段适龄儿童"),
    ("学校", "schools.csv", (*SCHOOL_COLUMNS, *COORDINATES),
     "现有学校: 每行一所学校的一个学段"),
    ("备选地块", "candidates.csv", (*CANDIDATE_COLUMNS, *COORDINATES),
     "新建学校备选地块"),
    ("出生人口", "births.csv", BIRTHS_COLUMNS, "各区县逐年出生人口"),
    ("教师", "teachers.csv", TEACHER_COLUMNS, "教师名册: 每行一名教师"),
    ("学校属性", "school_attributes.csv", ATTRIBUTE_COLUMNS,
     "学校标记: 城区学校、优质学校、薄弱学校(轮岗的派出与接收)"),
    ("区县", "counties.csv", REGION_COLUMNS, "区县与东西部区域"),
    ("教研机构", "research_bodies.csv", (*RESEARCH_COLUMNS, *COORDINATES),
     "教研机构(教研员回校任教, J-15)"),
    ("结对帮扶", "pairings.csv", PAIRING_COLUMNS, "结对帮扶关系(J-17): 帮扶方 → 受援方"),
)

#: The ``name`` column's header per sheet (aliases of 名称 in :data:`gis.headers.HEADERS`).
NAME_HEADERS = {"片区": "片区名称", "学校": "学校名称", "备选地块": "地块名称",
                "教研机构": "机构名称"}
_KIND_ZH = {"id": "编号(文本)", "text": "文本", "count": "非负数", "number": "数字",
            "flag": "是/否", "choice": "取值"}
_HEADER_FILL = PatternFill("solid", start_color="FFD9E1F2", end_color="FFD9E1F2")


def _read_csv(name: str) -> tuple[list[str], list[list[str]]]:
    with (DATA / name).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _number(text: str) -> int | float | str:
    """A number cell from CSV text (``"12"`` → 12, ``"0.373"`` → 0.373); blank stays blank."""
    if text == "":
        return ""
    try:
        number = float(text)
    except ValueError:
        return text  # not a number: kept, so the reader reports it
    return int(number) if number.is_integer() and "." not in text else number


def _cell(text: str, spec: ColumnSpec | None) -> object:
    """One CSV cell as the workbook holds it (see the module docstring)."""
    if spec is None or text == "":
        return text or None
    if spec.kind in ("count", "number"):
        return _number(text)
    if spec.kind == "flag":
        return value_label(spec.name, text.strip().lower() in ("true", "1", "yes", "是"), "zh")
    return value_label(spec.name, text, "zh")


def _header(name: str, sheet: str) -> str:
    if name == "name" and sheet in NAME_HEADERS:
        return NAME_HEADERS[sheet]
    header = HEADERS.get(name)
    return name if header is None else header.zh


def _style_header(ws: Worksheet, widths: Sequence[int]) -> None:
    for position, width in enumerate(widths, start=1):
        cell = ws.cell(row=1, column=position)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(position)].width = width
    ws.freeze_panes = "B2"


def _width(text: str) -> int:
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


def _layer_sheet(book: Workbook, sheet: str, csv_name: str,
                 specs: tuple[ColumnSpec, ...]) -> list[tuple[str, str, str, str]]:
    """Write one layer; return the 说明 rows (header, code name, required, cells)."""
    names, rows = _read_csv(csv_name)
    by_name = {spec.name: spec for spec in specs}
    ws = book.create_sheet(sheet)
    assert isinstance(ws, Worksheet)
    headers = [_header(name, sheet) for name in names]
    ws.append(headers)
    for row in rows:
        ws.append([_cell(text, by_name.get(name)) for name, text in zip(names, row,
                                                                          strict=True)])
    text_columns = [i for i, n in enumerate(names, start=1)
                    if by_name.get(n) is not None and by_name[n].kind in ("id", "text")]
    for position in text_columns:
        for (cell,) in ws.iter_rows(min_row=2, min_col=position, max_col=position):
            cell.number_format = "@"
    _style_header(ws, [max(_width(h) + 4, 10) for h in headers])
    described = []
    for name, header in zip(names, headers, strict=True):
        spec = by_name.get(name)
        if spec is None:
            described.append((header, name, "", "其他列: 原样保留"))
            continue
        what = _KIND_ZH[spec.kind]
        if spec.kind == "choice":
            words = VALUES.get(name, {})
            shown = [next((zh for zh, code in words.items() if code == c), c) for c in spec.choices]
            what = "取值: " + " / ".join(shown)
        elif spec.kind == "count" and spec.integer:
            what = "非负整数"
        described.append((header, name, "必填" if spec.required else "可选", what))
    return described


def build() -> Workbook:
    """The workbook (not saved)."""
    book = Workbook()
    readme = book.active
    assert isinstance(readme, Worksheet)
    readme.title = "说明"
    readme.append(["工作表", "列名", "程序列名", "必填", "内容", "工作表用途"])
    for sheet, csv_name, specs, purpose in SHEETS:
        for header, name, required, what in _layer_sheet(book, sheet, csv_name, specs):
            readme.append([sheet, header, name, required, what, purpose])
    readme.append([])
    readme.append(["注意", "数据为合成数据(SYNTHETIC), 不代表江门市真实学校与人口; "
                   "经纬度为 GCJ-02; 列名与取值对照见 docs/excel.md"])
    _style_header(readme, [12, 24, 24, 8, 36, 60])
    return book


def main() -> None:
    """Write ``data/jiangmen.xlsx``."""
    save_workbook(build(), WORKBOOK)
    sys.stdout.write(f"wrote {WORKBOOK} ({WORKBOOK.stat().st_size:,} bytes)\n")


if __name__ == "__main__":
    main()
