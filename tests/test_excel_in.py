"""Layers and tables from .xlsx workbooks: Chinese and English headers, sheet/row/column errors,
the Excel-only tiny and Jiangmen scenarios."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from allocator import rotation_pipeline
from allocator.cli import app
from allocator.inputs import HOUSING_COLUMNS, SCHOOL_COLUMNS, load_inputs
from allocator.layering import load_scenario
from allocator.pipeline import run
from allocator.rotation_config import RotationTableRef
from allocator.rotation_pipeline import TEACHER_COLUMNS
from gis.errors import InputError, Problem
from gis.headers import HEADERS, INPUT_HEADERS, VALUES
from gis.io import ColumnSpec, read_layer, read_table

ROOT = Path(__file__).resolve().parent.parent
JIANGMEN = ROOT / "scenarios" / "jiangmen"
runner = CliRunner()

SCHOOL_HEADER_ZH = ["学校编号", "学校名称", "学段", "班级数", "最大班级数", "办学性质", "经度",
                    "纬度"]
SCHOOL_ROWS: list[list[Any]] = [
    ["S1", "第一小学", "小学", 12, 18, "公办", 113.1, 22.5],
    ["S2", "第二初中", "初中", 18.0, 24, "民办", 113.2, 22.6],  # Excel may store 18 as 18.0
    ["S3", "第三小学", "小学", "24", 30, "公办", 113.3, 22.7],  # a number typed as text
]


def workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """Write a workbook with one sheet per entry (the first row of each is the header)."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def schools_book(tmp_path: Path, rows: list[list[Any]] | None = None,
                 header: list[str] | None = None) -> Path:
    return workbook(tmp_path / "data" / "book.xlsx", {
        "说明": [["这是说明"]],
        "学校": [header or SCHOOL_HEADER_ZH, *(SCHOOL_ROWS if rows is None else rows)],
    })


def read_schools(path: Path, sheet: str | None = "学校") -> Any:
    return read_layer(path, label="data/book.xlsx", columns=SCHOOL_COLUMNS,
                      id_column="school_id", geometry_types=("Point",), sheet=sheet)


def problems_of(call: Any) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        call()
    return list(caught.value.problems)


# ----------------------------------------------------------------------------- headers


def test_chinese_headers_and_values_become_code_names(tmp_path: Path) -> None:
    frame = read_schools(schools_book(tmp_path))
    assert list(frame["school_id"]) == ["S1", "S2", "S3"]
    assert list(frame["name"]) == ["第一小学", "第二初中", "第三小学"]
    assert list(frame["stage"]) == ["primary", "junior", "primary"]  # 小学, 初中
    assert list(frame["ownership"]) == ["public", "private", "public"]  # 公办, 民办
    assert list(frame["classes"]) == [12, 18, 24] and frame["classes"].dtype == "int64"
    assert "max_classes" in frame.columns and frame.crs.to_epsg() == 4326
    assert list(frame.geometry.x) == [113.1, 113.2, 113.3]
    assert list(frame.geometry.y) == [22.5, 22.6, 22.7]


def test_optional_cell_left_empty_names_excel_row(tmp_path: Path) -> None:
    rows = [*SCHOOL_ROWS, ["S4", "第四小学", "小学", 6, None, "公办", 113.4, 22.8]]
    (problem,) = problems_of(lambda: read_schools(schools_book(tmp_path, rows)))
    assert str(problem) == ("data/book.xlsx, sheet 学校: row 5, column 最大班级数: the cell is "
                            "empty; fill it in, or delete the whole column to use the default")


def test_english_headers_and_code_names(tmp_path: Path) -> None:
    path = workbook(tmp_path / "data" / "book.xlsx", {"Schools": [
        ["School ID", "Stage", "Classes", "max_classes", "Ownership", "Longitude", "lat"],
        ["S1", "primary", 12, 18, "public", 120.0, 33.0],
        ["S2", "kindergarten", 6, 6, "private", 120.1, 33.1],
    ]})
    frame = read_schools(path, sheet=None)  # a one-sheet workbook needs no sheet name
    assert list(frame["school_id"]) == ["S1", "S2"]
    assert list(frame["stage"]) == ["primary", "kindergarten"]
    assert list(frame["classes"]) == [12, 6]
    assert list(frame["max_classes"]) == [18, 6]
    assert list(frame.geometry.x) == [120.0, 120.1]


def test_teachers_roster_with_chinese_headers(tmp_path: Path) -> None:
    path = workbook(tmp_path / "data" / "book.xlsx", {"教师": [
        ["教师编号", "学校编号", "学科", "骨干教师", "本校任教年限", "职称"],
        ["T1", "S1", "数学", "是", 7, "一级"],
        ["T2", "S1", "语文", "否", 2, "高级"],
        ["T3", "S2", "体育", True, 12.0, "二级"],
        ["T4", "S2", "书法", False, 0, None],  # a subject without a code stays as written
    ]})
    table = read_table(path, label="data/book.xlsx", columns=TEACHER_COLUMNS,
                       id_column="teacher_id", sheet="教师")
    assert list(table["teacher_id"]) == ["T1", "T2", "T3", "T4"]
    assert list(table["subject"]) == ["math", "chinese", "pe", "书法"]
    assert list(table["backbone"]) == [True, False, True, False]
    assert list(table["years_at_school"]) == [7, 2, 12, 0]
    assert list(table["title"]) == ["level1", "senior", "level2", ""]


def test_housing_projects_sheet(tmp_path: Path) -> None:
    path = workbook(tmp_path / "data" / "book.xlsx", {"住宅项目": [
        ["项目编号", "片区编号", "住宅套数", "竣工年份", "小学每百户学生数", "原容积率",
         "新容积率"],
        ["H1", "Z01", 1200, 2027, 12.5, 2.0, 2.5],
        ["H2", "Z02", 800, 2030, 10, 1.5, 1.5],
    ]})
    table = read_table(path, label="data/book.xlsx", columns=HOUSING_COLUMNS, sheet="住宅项目")
    assert list(table["project_id"]) == ["H1", "H2"]
    assert list(table["zone_id"]) == ["Z01", "Z02"]
    assert list(table["units"]) == [1200.0, 800.0]
    assert list(table["completion_year"]) == [2027, 2030]
    assert list(table["yield_primary"]) == [12.5, 10.0]
    assert list(table["plot_ratio_base"]) == [2.0, 1.5]
    assert list(table["plot_ratio_new"]) == [2.5, 1.5]


def test_csv_with_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "births.csv"
    path.write_text("区县,年份,出生人口\n440703,2021,6098\n440704,2021,2609\n", encoding="utf-8")
    columns = (ColumnSpec("county", "text"), ColumnSpec("year", "count", integer=True),
               ColumnSpec("births", "count"))
    table = read_table(path, label="births.csv", columns=columns, unique=("county", "year"))
    assert table[["county", "year", "births"]].values.tolist() == [
        ["440703", 2021, 6098.0], ["440704", 2021, 2609.0]]


def test_blank_rows_keep_excel_row_numbers(tmp_path: Path) -> None:
    rows = [SCHOOL_ROWS[0], [None] * 8, [None] * 8,
            ["S4", "x", "小学", "many", 18, "公办", 113, 22]]
    (problem,) = problems_of(lambda: read_schools(schools_book(tmp_path, rows)))
    assert str(problem) == (
        "data/book.xlsx, sheet 学校: row 5, column 班级数: not a number; write plain digits "
        "such as 1234 or 12.5, without units, spaces or thousands separators (got 'many')")


# ----------------------------------------------------------------------------- broken workbooks


def test_missing_sheet_lists_the_sheets(tmp_path: Path) -> None:
    path = schools_book(tmp_path)
    (problem,) = problems_of(lambda: read_schools(path, sheet="学效"))
    assert problem.source == "data/book.xlsx" and problem.where == ""
    assert problem.message == ("the workbook has no sheet '学效'; its sheets are: '说明', "
                               "'学校' (did you mean '学校'?)")


def test_several_sheets_need_a_sheet_name(tmp_path: Path) -> None:
    (problem,) = problems_of(lambda: read_schools(schools_book(tmp_path), sheet=None))
    assert problem.message == ("the workbook has 2 sheets; say which one to use (sheet: ...). "
                               "Its sheets are: '说明', '学校'")


def test_wrong_header_names_sheet_and_column(tmp_path: Path) -> None:
    header = [h if h != "班级数" else "班级数量" for h in SCHOOL_HEADER_ZH]
    (problem,) = problems_of(lambda: read_schools(schools_book(tmp_path, header=header)))
    assert problem.source == "data/book.xlsx, sheet 学校"
    assert problem.where == "column 班级数 (classes)"
    assert problem.message == ("required column is missing; did you mean '班级数量'? (rename "
                               "that column to '班级数'); write the header as '班级数' or "
                               "'classes'")


def test_text_and_fractions_in_number_columns_all_reported(tmp_path: Path) -> None:
    rows = [SCHOOL_ROWS[0],
            ["S2", "第二初中", "初中", "abc", 24, "民办", 113.2, 22.6],
            ["S3", "第三小学", "小学", 12.5, 18, "公立", 113.3, "北纬22度"]]
    found = {(p.where, p.value): p.message
             for p in problems_of(lambda: read_schools(schools_book(tmp_path, rows)))}
    assert found == {
        ("row 4, column 纬度", "'北纬22度'"):
            "the latitude is not a number; expected decimal degrees such as 120.56",
        ("row 3, column 班级数", "'abc'"):
            "not a number; write plain digits such as 1234 or 12.5, without units, spaces or "
            "thousands separators",
        ("row 4, column 班级数", "'12.5'"):
            "not a whole number; this count must be a whole number",
        ("row 4, column 办学性质", "'公立'"):
            "not an allowed value; use one of 'public', 'private'",
    }


def test_title_row_above_the_header(tmp_path: Path) -> None:
    path = workbook(tmp_path / "book.xlsx", {"学校": [["江门市学校名单"], SCHOOL_HEADER_ZH,
                                                     *SCHOOL_ROWS]})
    (problem,) = problems_of(lambda: read_schools(path))
    assert problem.source == "data/book.xlsx, sheet 学校" and problem.where == "row 1"
    assert "delete the title rows above it" in problem.message


def test_two_headers_for_one_column(tmp_path: Path) -> None:
    header = [*SCHOOL_HEADER_ZH, "school_id"]
    rows = [[*row, row[0]] for row in SCHOOL_ROWS]
    problems = problems_of(lambda: read_schools(schools_book(tmp_path, rows, header)))
    assert [p.message for p in problems if p.where == "row 1"] == [
        "the headers '学校编号', 'school_id' all mean the column 'school_id'; keep one of them"]


def test_sheet_named_for_a_csv_file(tmp_path: Path) -> None:
    path = tmp_path / "schools.csv"
    path.write_text("school_id,stage,classes,lon,lat\nS1,primary,12,120,33\n", encoding="utf-8")
    (problem,) = problems_of(lambda: read_layer(path, label="schools.csv", sheet="学校"))
    assert "not an Excel workbook" in problem.message and problem.source == "schools.csv"


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_text("school_id\n", encoding="utf-8")
    (problem,) = problems_of(lambda: read_table(path, label="book.xlsx"))
    assert problem.message.startswith("cannot be read as an Excel workbook (.xlsx)")


# ----------------------------------------------------------------------------- tiny, from Excel


def tiny_workbook(folder: Path) -> Path:
    """The tiny fixture's CSV layers as a workbook with Chinese headers; scenario points at it."""
    zones: list[list[Any]] = [
        ["片区编号", "片区名称", "片区类型", "人口", "小学适龄儿童", "经度", "纬度"],
        ["A", "Zone A", "城市核心区", 12000, 900, 120.0, 33.0],
        ["B", "Zone B", "新区", 4000, 300, 120.008, 33.0],
        ["C", "Zone C", "农村", 1500, 100, 120.2, 33.0]]
    schools: list[list[Any]] = [
        ["学校编号", "学校名称", "学段", "班级数", "经度", "纬度"],
        ["S1", "School 1", "小学", 10, 119.997, 33.0]]
    sites: list[list[Any]] = [
        ["地块编号", "地块名称", "学段", "城乡类型", "土地费用(元)", "污染或地灾地块", "经度",
         "纬度"],
        ["C1", "Site 1", "小学", "城区", 0, "否", 120.0035, 33.0],
        ["C2", "Site 2", "小学", "城区", 0, "否", 120.011, 33.0]]
    workbook(folder / "tiny.xlsx", {"片区": zones, "学校": schools, "备选地块": sites})
    scenario = folder / "scenario.yaml"
    text = scenario.read_text(encoding="utf-8")
    for layer, sheet in (("zones", "片区"), ("schools", "学校"), ("candidates", "备选地块")):
        text = text.replace(f"{layer}: {{path: {layer}.csv}}",
                            f"{layer}: {{path: tiny.xlsx, sheet: {sheet}}}")
    scenario.write_text(text, encoding="utf-8")
    for name in ("zones", "schools", "candidates"):
        (folder / f"{name}.csv").unlink()  # Excel only
    return scenario


def test_excel_only_tiny_scenario_runs_like_the_csv_one(tiny_dir: Path,
                                                        tiny_scenario: Path) -> None:
    from_csv = run(load_scenario(tiny_scenario))
    scenario = tiny_workbook(tiny_dir)
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 0, result.output
    assert "3 zones, 1 schools, 2 candidate sites" in result.output
    from_excel = run(load_scenario(scenario))
    new = from_excel.tables["schools"].query("kind == 'new'")
    assert new[["school_id", "classes", "seats", "cost_cny"]].values.tolist() == [
        ["C1", 18, 810, 810_000.0]]
    unmet = from_excel.tables["demand"].set_index("zone_id")["unmet"].to_dict()
    assert unmet == {"A": 0, "B": 0, "C": 100}
    for name in ("schools", "assignments", "sites"):
        pd.testing.assert_frame_equal(from_excel.tables[name], from_csv.tables[name])
    assert from_excel.inputs["zones"][0] == "tiny.xlsx"


def test_broken_tiny_workbook_is_rejected_with_sheet_row_column(tiny_dir: Path) -> None:
    scenario = tiny_workbook(tiny_dir)
    from openpyxl import load_workbook

    book = load_workbook(tiny_dir / "tiny.xlsx")
    book["学校"]["D2"] = "十个"  # 班级数 of S1
    book["片区"]["C1"] = "类型"  # header 片区类型 misspelt
    book.save(tiny_dir / "tiny.xlsx")
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 2
    output = re.sub(r"\s+", " ", result.output)
    assert "tiny.xlsx, sheet 学校: row 2, column 班级数: not a number" in output
    assert "(got '十个')" in output
    assert ("tiny.xlsx, sheet 片区: column 片区类型 (zone_type): required column is missing"
            in output)
    (tiny_dir / "scenario.yaml").write_text(
        scenario.read_text(encoding="utf-8").replace("sheet: 学校", "sheet: 学生"),
        encoding="utf-8")
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 2
    assert "the workbook has no sheet '学生'; its sheets are: '片区', '学校', '备选地块'" in \
        re.sub(r"\s+", " ", result.output)


# ----------------------------------------------------------------------------- Jiangmen, from Excel

needs_rotation_sheets = pytest.mark.skipif(
    "sheet" not in RotationTableRef.model_fields,
    reason="the rotation data references have no 'sheet' field yet (diff in helper M's report)")


@needs_rotation_sheets
def test_jiangmen_excel_scenario_validates() -> None:
    result = runner.invoke(app, ["validate", str(JIANGMEN / "scenario_excel.yaml")])
    assert result.exit_code == 0, result.output
    assert "149" in result.output and "982" in result.output and "160" in result.output


def _without(data: dict[str, Any], *paths: tuple[str, ...]) -> dict[str, Any]:
    for path in paths:
        node = data
        for key in path[:-1]:
            node = node[key]
        node.pop(path[-1])
    return data


@needs_rotation_sheets
def test_jiangmen_excel_scenario_mirrors_the_csv_one() -> None:
    csv_scenario = load_scenario(JIANGMEN / "scenario.yaml")
    excel_scenario = load_scenario(JIANGMEN / "scenario_excel.yaml")
    dropped = [("meta", "name"), ("meta", "description"), ("data",), ("demand", "births"),
               ("rotation", "data")]
    assert _without(excel_scenario.config.model_dump(mode="json"), *dropped) == \
        _without(csv_scenario.config.model_dump(mode="json"), *dropped)
    data = excel_scenario.config.data
    assert data.boundary is None
    assert data.candidates is not None
    assert [(r.path, r.sheet) for r in (data.zones, data.schools, data.candidates)] == [
        ("data/jiangmen.xlsx", "片区"), ("data/jiangmen.xlsx", "学校"),
        ("data/jiangmen.xlsx", "备选地块")]
    a, b = load_inputs(csv_scenario), load_inputs(excel_scenario)
    for name in ("zones", "schools", "candidates", "births"):
        pd.testing.assert_frame_equal(getattr(b, name), getattr(a, name), check_like=False)
    assert b.births is not None
    assert (len(b.zones), len(b.schools), len(b.candidates), len(b.births)) == (149, 982, 160, 21)


class _CapturedError(Exception):
    pass


@pytest.mark.slow
@needs_rotation_sheets
def test_jiangmen_excel_rotation_inputs_equal_the_csv_ones(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    seen: list[Any] = []

    def capture(data: Any, **_: Any) -> Any:
        seen.append(data)
        raise _CapturedError

    monkeypatch.setattr(rotation_pipeline, "solve_rotation", capture)
    for name in ("scenario.yaml", "scenario_excel.yaml"):
        resolved = load_scenario(JIANGMEN / name)
        inputs = load_inputs(resolved)
        enrolment = rotation_pipeline.static_enrolment(resolved, inputs.schools)
        with pytest.raises(_CapturedError):
            rotation_pipeline.plan_rotation(resolved, inputs.schools, enrolment,
                                            crs=inputs.schools.estimate_utm_crs())
    from_csv, from_excel = seen
    for name in ("schools", "teachers", "pairings", "enrolment"):
        pd.testing.assert_frame_equal(getattr(from_excel, name), getattr(from_csv, name))
    assert len(from_excel.teachers) == 32270


def test_jiangmen_workbook_has_the_sheets_and_chinese_headers() -> None:
    from openpyxl import load_workbook

    book = load_workbook(JIANGMEN / "data" / "jiangmen.xlsx", read_only=True)
    try:
        assert book.sheetnames == ["说明", "片区", "学校", "备选地块", "出生人口", "教师",
                                   "学校属性", "区县", "教研机构", "结对帮扶"]
        header = next(book["学校"].iter_rows(max_row=1, values_only=True))
        assert header[:6] == ("学校编号", "学校名称", "区县", "区域", "学段", "班级数")
        second = next(book["教师"].iter_rows(min_row=2, max_row=2, values_only=True))
        assert second[3] in VALUES["subject"] and second[6] in ("是", "否")
    finally:
        book.close()


def test_docs_list_every_input_header() -> None:
    text = (ROOT / "docs" / "excel.md").read_text(encoding="utf-8")
    for name in INPUT_HEADERS:
        if not name.startswith("age_"):
            header = HEADERS[name]
            assert f"| `{name}` | {header.zh} | {header.en} |" in text, name
    assert "| `age_0` … `age_17` | 0岁 … 17岁 | Age 0 … Age 17 |" in text
    for column, words in VALUES.items():
        for zh, code in words.items():
            assert f"{zh} → `{code}`" in text, (column, zh)
