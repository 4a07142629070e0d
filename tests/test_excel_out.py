"""plan.xlsx: sheets, Chinese headers, frozen panes, number formats, print setup, and the values
read back against the CSV tables of the same results directory (tiny fixture, hand-checked)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from allocator.excel_out import PLAN_XLSX, column_label, write_plan_xlsx
from allocator.layering import load_scenario
from allocator.pipeline import run
from allocator.results import AUDIT, read_results_dir
from gis.headers import value_label

ZH_SHEETS = ["新建学校", "学校容量", "扩建学校", "片区分配汇总", "教师轮岗", "教师配置", "规则审计"]
EN_SHEETS = ["New sites", "School capacities", "Expansions", "Zones", "Rotations", "Staffing",
             "Audit"]

# Two moves of the teacher rotation, and the staffing of two schools (hand-made; the tiny
# fixture has no rotation section).
ROTATIONS = pd.DataFrame({
    "year": [2024, 2024], "teacher_id": ["T1", "T2"], "count": [1, 1],
    "subject": ["math", "music"], "backbone": [True, False],
    "from_school": ["S1", "S1"], "from_county": ["440703", "440703"],
    "from_region": ["east", "east"], "to_school": ["C1", "C1"],
    "to_county": ["440781", "440781"], "to_region": ["west", "west"],
    "kind": ["rotation", "rotation"], "distance_km": [12.345, 12.345]})
STAFFING = pd.DataFrame({
    "school": ["C1", "S1"], "year": [2024, 2024], "posts_required": [43, 24],
    "teachers_before": [40, 26], "teachers_after": [42, 24], "shortfall_math": [1, 0],
    "shortfall": [1, 0], "shortfall_before": [3, 0], "backbone_per100_before": [0.5, 1.1538],
    "backbone_per100_after": [0.625, 0.7692], "county": ["440781", "440703"],
    "region": ["west", "east"], "stage": ["primary", "primary"], "pupils": [810, 450]})


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results directory of the tiny run, rotation tables added, with plan.xlsx in zh."""
    source = Path(__file__).resolve().parent / "fixtures" / "tiny" / "scenario.yaml"
    results = run(load_scenario(source))
    tables = {**results.tables, "rotations": ROTATIONS, "staffing": STAFFING}
    results = dataclasses.replace(results, tables=tables)
    out = results.to_dir(tmp_path_factory.mktemp("run") / "tiny", report=False)
    write_plan_xlsx(out, with_audit(out), "zh")
    return out


def with_audit(out: Path) -> dict[str, pd.DataFrame]:
    """The tables as the results directory holds them (what the writer gets in a run)."""
    tables = dict(read_results_dir(out).tables)
    tables["audit"] = pd.read_csv(out / AUDIT, dtype={"scope": str})
    return tables


def rows(ws: Worksheet) -> list[list[Any]]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def back(column: str, value: Any) -> Any:
    """A cell read back in code terms: 小学 -> primary, 是 -> True, empty -> NaN."""
    if value is None:
        return math.nan
    if value in ("是", "否"):
        return value == "是"
    if isinstance(value, str):
        for code in ("primary", "junior", "kindergarten", "senior", "nine_year", "public",
                     "private", "new", "existing", "expanded", "closed", "rotation", "opened",
                     "pass", "fail", "exception", "not applicable", "HARD", "TARGET", "SOFT",
                     "math", "music", "chinese"):
            if value_label(column, code, "zh") == value:
                return code
    return value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return str(a) == str(b)


def assert_sheet_is_csv(ws: Worksheet, table: pd.DataFrame, language: str = "zh") -> None:
    """Every header and cell of ``ws`` against ``table`` (as read from its CSV)."""
    header, *body = rows(ws)
    assert header == [column_label(c, language) for c in table.columns]
    assert len(body) == len(table)
    for row, expected in zip(body, table.itertuples(index=False, name=None), strict=True):
        for column, got, want in zip(table.columns, row, expected, strict=True):
            value = back(column, got)
            if column.endswith("_cny") and isinstance(value, int | float):
                value *= 10_000  # written in 万元
            want = None if want is pd.NA else want
            assert same(value, math.nan if want is None else want), (ws.title, column, got,
                                                                      want)


def test_sheets_in_chinese_with_frozen_headers(folder: Path) -> None:
    book = load_workbook(folder / PLAN_XLSX)
    assert book.sheetnames == ZH_SHEETS
    freeze = {ws.title: ws.freeze_panes for ws in book.worksheets}
    assert freeze == {**dict.fromkeys(ZH_SHEETS, "B2"), "学校容量": "C2"}
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 == "9"  # A4
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
        assert ws.sheet_properties.pageSetUpPr is not None
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1"
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:")
        assert all(cell.font.bold for cell in ws[1])
        widths = [ws.column_dimensions[get_column_letter(i)].width
                  for i in range(1, ws.max_column + 1)]
        assert all(8 <= w <= 48 for w in widths), (ws.title, widths)


def test_new_sites_sheet(folder: Path) -> None:
    ws = load_workbook(folder / PLAN_XLSX)["新建学校"]
    header, *body = rows(ws)
    assert header == ["地块编号", "名称", "区县", "学段", "建设方案", "年份", "班级数",
                      "小学班级数", "学位数", "投资(万元)", "经度", "纬度"]
    # C1 opens in 2024 with 18 classes x 45 = 810 seats at 1,000 CNY a seat = 81 万元.
    assert body == [["C1", "Site 1", None, "小学", "C1_c18", 2024, 18, 18, 810, 81, 120.0035,
                     33]]
    formats = {h: c.number_format for h, c in zip(header, ws[2], strict=True)}
    assert formats["学位数"] == "#,##0" and formats["投资(万元)"] == "#,##0.00"
    assert formats["年份"] == "0" and formats["经度"] == "0.000000"
    assert formats["地块编号"] == "@"
    sites = pd.read_csv(folder / "sites.csv", dtype={"site_id": str, "county": str})
    opened = sites[sites["status"] == "opened"].drop(columns=["status", "reason"])
    assert_sheet_is_csv(ws, opened.reset_index(drop=True))


def test_capacities_by_stage_and_year(folder: Path) -> None:
    ws = load_workbook(folder / PLAN_XLSX)["学校容量"]
    header, *body = rows(ws)
    assert header == ["学校编号", "名称", "区县", "办学性质", "学段", "类型", "2024年班级数",
                      "2024年学位数", "2024年在校生", "投资(万元)"]
    # S1: 10 classes x 45 = 450 seats, all 450 taken (A); C1: 810 seats, 450 (A) + 300 (B).
    assert body == [["C1", "Site 1", None, "公办", "小学", "新建", 18, 810, 750, 81],
                    ["S1", "School 1", None, "公办", "小学", "现有", 10, 450, 450, 0]]
    schools = pd.read_csv(folder / "schools.csv", dtype={"school_id": str})
    for row in body:
        csv_row = schools[schools["school_id"] == row[0]].iloc[0]
        assert [csv_row["classes"], csv_row["seats"], csv_row["enrolled"]] == row[6:9]
        assert csv_row["cost_cny"] == row[9] * 10_000


def test_zones_summary(folder: Path) -> None:
    ws = load_workbook(folder / PLAN_XLSX)["片区分配汇总"]
    header, *body = rows(ws)
    assert header == ["片区编号", "学段", "年份", "适龄儿童", "已安排入学", "未满足",
                      "就读学校数", "平均距离(公里)", "最远距离(公里)"]
    assignments = pd.read_csv(folder / "assignments.csv", dtype={"zone_id": str})
    a = assignments[assignments["zone_id"] == "A"].set_index("school_id")["distance_m"]
    b = assignments[assignments["zone_id"] == "B"].set_index("school_id")["distance_m"]
    # A: 450 children to S1 and 450 to C1; B: 300 to C1; C: 100 children, no seat in reach.
    expected = [
        ["A", "小学", 2024, 900, 900, 0, 2, (450 * a["S1"] + 450 * a["C1"]) / 900 / 1000,
         max(a) / 1000],
        ["B", "小学", 2024, 300, 300, 0, 1, b["C1"] / 1000, b["C1"] / 1000],
        ["C", "小学", 2024, 100, 0, 100, 0, None, None],
    ]
    assert len(body) == 3
    for got, want in zip(body, expected, strict=True):
        assert got[:7] == want[:7]
        for g, w in zip(got[7:], want[7:], strict=True):
            assert (g is None and w is None) or g == pytest.approx(w, rel=1e-12)
    formats = [c.number_format for c in ws[2]]
    assert formats[3:] == ["#,##0", "#,##0", "#,##0", "#,##0", "#,##0.0", "#,##0.0"]


def test_rotation_staffing_and_audit_sheets_equal_the_csvs(folder: Path) -> None:
    book = load_workbook(folder / PLAN_XLSX)
    tables = with_audit(folder)
    assert rows(book["教师轮岗"])[1] == [2024, "T1", 1, "数学", "是", "S1", "440703", "east",
                                      "C1", "440781", "west", "轮岗交流", 12.345]
    assert rows(book["教师配置"])[0][:6] == ["学校编号", "年份", "核定教师数", "调整前教师数",
                                          "调整后教师数", "数学缺口"]
    for sheet, name in (("教师轮岗", "rotations"), ("教师配置", "staffing"),
                        ("扩建学校", "expansions"), ("规则审计", "audit")):
        table = tables[name]
        for column in ("from_county", "to_county", "county", "school"):
            if column in table.columns:
                table[column] = table[column].astype(str)
        assert_sheet_is_csv(book[sheet], table)
    audit = rows(book["规则审计"])
    assert audit[0] == ["规则编号", "类型", "文件", "条款", "范围", "关系", "要求值", "实际值",
                        "状态", "说明"]
    assert len(audit) - 1 == len(tables["audit"]) > 0
    assert {row[8] for row in audit[1:]} <= {"通过", "未通过", "例外", "不适用"}


def test_english_workbook_and_stable_bytes(folder: Path, tmp_path: Path) -> None:
    tables = with_audit(folder)
    (tmp_path / "a").mkdir()
    first = write_plan_xlsx(tmp_path / "a", tables, "en")
    second = write_plan_xlsx(tmp_path, tables, "en")
    assert first.read_bytes() == second.read_bytes()
    book = load_workbook(second)
    assert book.sheetnames == EN_SHEETS
    header, *body = rows(book["New sites"])
    assert header[:4] == ["Site ID", "Name", "County", "Stage"]
    assert header[9] == "Cost (10,000 CNY)" and body[0][3] == "primary" and body[0][9] == 81
    assert rows(book["Rotations"])[1][4] == "yes"
    footer = book["Rotations"].oddFooter
    assert footer is not None and footer.center is not None
    assert footer.center.text == "Page &P of &N"
    zh = (folder / PLAN_XLSX).read_bytes()
    write_plan_xlsx(tmp_path, tables, "zh")
    assert (tmp_path / PLAN_XLSX).read_bytes() == zh  # same tables, same bytes


def test_run_without_rotation_has_no_rotation_sheets(tmp_path: Path) -> None:
    tables = {"schools": STAFFING.rename(columns={"school": "school_id"})
              .assign(kind="existing", classes=[18, 10], seats=[810, 450], enrolled=[750, 450],
                      cost_cny=[0.0, 0.0])}
    path = write_plan_xlsx(tmp_path, tables, "zh")
    assert load_workbook(path).sheetnames == ["学校容量"]
