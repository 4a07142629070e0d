from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gis.errors import InputError, Problem
from gis.io import ColumnSpec, read_table

REPO = Path(__file__).resolve().parents[2]
DAFENG_DATA = REPO / "scenarios" / "dafeng" / "data"

BIRTHS = (
    ColumnSpec("county", "text"),
    ColumnSpec("year", "count", integer=True),
    ColumnSpec("births", "count"),
)
HOUSING = (
    ColumnSpec("project_id", "text"),
    ColumnSpec("zone_id", "text"),
    ColumnSpec("units", "count"),
    ColumnSpec("completion_year", "count", integer=True),
    ColumnSpec("plot_ratio_base", "number", required=False),
    ColumnSpec("plot_ratio_new", "number", required=False),
    ColumnSpec("yield_primary", "number", required=False),
    ColumnSpec("yield_junior", "number", required=False),
)
GOOD_BIRTHS = "county,year,births,note\n320904,2023,7100,\n320904,2024,6900.5,估计\n"


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def _problems(path: Path, **kwargs: object) -> list[Problem]:
    kwargs.setdefault("label", f"data/{path.name}")
    with pytest.raises(InputError) as caught:
        read_table(path, **kwargs)  # type: ignore[arg-type]
    return list(caught.value.problems)


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# ----------------------------------------------------------------------------- good tables


def test_good_table_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, "births.csv", "\ufeff" + GOOD_BIRTHS)  # Excel's BOM
    table = read_table(path, label="births.csv", columns=BIRTHS, unique=("county", "year"))
    assert type(table) is pd.DataFrame
    assert list(table.columns) == ["county", "year", "births", "note"]
    assert list(table.index) == [0, 1]
    assert list(table["county"]) == ["320904", "320904"]
    assert pd.api.types.is_string_dtype(table["county"])
    assert table["year"].dtype == np.int64
    assert list(table["year"]) == [2023, 2024]
    assert table["births"].dtype == np.float64
    assert list(table["births"]) == [7100.0, 6900.5]
    assert pd.api.types.is_string_dtype(table["note"])  # undeclared: kept as text
    assert list(table["note"]) == ["", "估计"]


def test_ids_keep_leading_zeros_and_other_kinds_convert(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", " id , ok ,level\n007,是,Primary\n008,no,middle\n")
    table = read_table(
        path,
        label="t.csv",
        columns=(ColumnSpec("ok", "flag"), ColumnSpec("level", "choice",
                                                      choices=("primary", "middle"))),
        id_column="id",
    )
    assert list(table["id"]) == ["007", "008"]  # header names are stripped
    assert list(table["ok"]) == [True, False]
    assert table["ok"].dtype == bool
    assert list(table["level"]) == ["primary", "middle"]


def test_optional_columns_absent_are_not_added(tmp_path: Path) -> None:
    path = _write(tmp_path, "housing.csv",
                  "project_id,zone_id,units,completion_year\nH1,Z1,1200,2026\n")
    table = read_table(path, label="housing.csv", columns=HOUSING)
    assert list(table.columns) == ["project_id", "zone_id", "units", "completion_year"]
    assert list(table["completion_year"]) == [2026]


def test_blank_rows_dropped_and_rows_numbered_as_in_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "b.csv", "county,year,births\nA,2020,1\n\n , ,\nA,2021,x\n")
    problem = _only(_problems(path, columns=BIRTHS))
    assert problem.where == "row 5, column births"
    table = read_table(_write(tmp_path, "c.csv", "county,year,births\nA,2020,1\n\nA,2021,2\n"),
                       label="c.csv", columns=BIRTHS)
    assert list(table.index) == [0, 1]
    assert list(table["year"]) == [2020, 2021]


@pytest.mark.parametrize(
    ("name", "columns", "unique"),
    [("births.csv", BIRTHS, ("county", "year")), ("housing.csv", HOUSING, ())],
)
def test_shipped_tables_load(name: str, columns: tuple[ColumnSpec, ...],
                             unique: tuple[str, ...]) -> None:
    path = DAFENG_DATA / name
    if not path.exists():
        pytest.skip(f"{name} is not shipped")
    table = read_table(path, label=f"data/{name}", columns=columns, unique=unique)
    assert len(table) > 0


# ----------------------------------------------------------------------------- the file


def test_missing_file_suggests_similar_names(tmp_path: Path) -> None:
    _write(tmp_path, "births.csv", GOOD_BIRTHS)
    problem = _only(_problems(tmp_path / "birth.csv", label="data/birth.csv"))
    assert problem.source == "data/birth.csv"
    assert problem.where == ""
    assert "not found" in problem.message
    assert "'births.csv'" in problem.message


def test_missing_folder(tmp_path: Path) -> None:
    problem = _only(_problems(tmp_path / "nothing" / "b.csv", label="nothing/b.csv"))
    assert "not found" in problem.message
    assert "'nothing'" in problem.message


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "b.csv").mkdir()
    assert "folder" in _only(_problems(tmp_path / "b.csv")).message


def test_unsupported_type_with_hint(tmp_path: Path) -> None:
    path = _write(tmp_path, "births.xls", "x")
    problem = _only(_problems(path))
    assert problem.source == "data/births.xls"
    assert "unsupported file type '.xls'" in problem.message
    assert ".csv (CSV)" in problem.message
    assert "CSV UTF-8" in problem.message
    geo = _only(_problems(_write(tmp_path, "b.geojson", "{}")))
    assert "'.geojson'" in geo.message


def test_zero_byte_file(tmp_path: Path) -> None:
    problem = _only(_problems(_write(tmp_path, "b.csv", "")))
    assert problem.source == "data/b.csv"
    assert "empty" in problem.message


def test_header_without_rows(tmp_path: Path) -> None:
    problem = _only(_problems(_write(tmp_path, "b.csv", "county,year,births\n,,\n\n")))
    assert "no data rows" in problem.message


def test_non_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, "b.csv", "county,year,births\n大丰区,2024,7000\n", encoding="gbk")
    problem = _only(_problems(path, columns=BIRTHS))
    assert problem.source == "data/b.csv"
    assert "not UTF-8" in problem.message
    assert "GBK" in problem.message
    assert "line 2" in problem.message


def test_malformed_csv(tmp_path: Path) -> None:
    path = _write(tmp_path, "b.csv", 'county,year,births\nA,2024,1\nB,"2024,1\n')
    problem = _only(_problems(path))
    assert "cannot be read as CSV" in problem.message
    assert "\n" not in str(problem)
    assert str(tmp_path) not in problem.message


def test_duplicate_header(tmp_path: Path) -> None:
    path = _write(tmp_path, "b.csv", "county,year,births,births\nA,2024,1,2\n")
    problem = _only(_problems(path, columns=BIRTHS))
    assert problem.source == "data/b.csv"
    assert problem.where == "row 1"
    assert problem.value == "'births'"
    assert "more than once" in problem.message


# ----------------------------------------------------------------------------- columns


def test_missing_required_column_did_you_mean(tmp_path: Path) -> None:
    path = _write(tmp_path, "b.csv", "county,yaer,births\nA,2024,1\n")
    problem = _only(_problems(path, columns=BIRTHS, unique=("county", "year")))
    assert problem.source == "data/b.csv"
    assert problem.where == "column year"
    assert "required column is missing" in problem.message
    assert "did you mean 'yaer'?" in problem.message


@pytest.mark.parametrize(
    ("cell", "fragment"),
    [
        ("", "empty"),
        ("lots", "not a number"),
        ("-4", "negative"),
        ("2024.5", "whole number"),
    ],
)
def test_bad_count_cells(tmp_path: Path, cell: str, fragment: str) -> None:
    path = _write(tmp_path, "b.csv", f"county,year,births\nA,2023,1\nA,{cell},2\n")
    problem = _only(_problems(path, columns=BIRTHS))
    assert problem.source == "data/b.csv"
    assert problem.where == "row 3, column year"
    assert fragment in problem.message
    assert problem.value == (None if cell == "" else repr(cell))


def test_bad_number_flag_and_choice_cells(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", 'ratio,ok,level\n"1,5",maybe,high\n')
    columns = (
        ColumnSpec("ratio", "number"),
        ColumnSpec("ok", "flag"),
        ColumnSpec("level", "choice", choices=("primary", "middle")),
    )
    ratio, ok, level = _problems(path, columns=columns)
    assert (ratio.where, ratio.value) == ("row 2, column ratio", "'1,5'")
    assert "thousands separators" in ratio.message
    assert (ok.where, ok.value) == ("row 2, column ok", "'maybe'")
    assert "是/否" in ok.message
    assert (level.where, level.value) == ("row 2, column level", "'high'")
    assert "'primary', 'middle'" in level.message


def test_optional_column_present_with_blank(tmp_path: Path) -> None:
    path = _write(tmp_path, "h.csv",
                  "project_id,zone_id,units,completion_year,plot_ratio_new\nH1,Z1,10,2026,\n")
    problem = _only(_problems(path, columns=HOUSING))
    assert problem.where == "row 2, column plot_ratio_new"
    assert "delete the whole column" in problem.message


def test_duplicate_ids(tmp_path: Path) -> None:
    path = _write(tmp_path, "h.csv", "project_id,units\nH1,1\nH2,2\nH1,3\n")
    problem = _only(_problems(path, id_column="project_id"))
    assert problem.where == "rows 2, 4, column project_id"
    assert "duplicate ids" in problem.message
    assert problem.value == "'H1' in rows 2, 4"


# ----------------------------------------------------------------------------- unique


def test_combination_repeats(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "births.csv",
        "county,year,births\n320904,2024,1\n320904,2025,2\n320981,2025,3\n320904,2025.0,4\n"
        "320981,2025,5\n",
    )
    problem = _only(_problems(path, columns=BIRTHS, unique=("county", "year")))
    assert problem.source == "data/births.csv"
    assert problem.where == "rows 3, 4, 5, 6, columns county, year"
    assert problem.message.startswith("county and year repeat")
    # compared after conversion: 2025.0 is the year 2025
    assert problem.value == "('320904', 2025) in rows 3, 5; ('320981', 2025) in rows 4, 6"
    assert "county and year repeat" in str(problem)


def test_single_column_unique(tmp_path: Path) -> None:
    path = _write(tmp_path, "births.csv", "county,year,births\nA,2024,1\nB,2024,2\n")
    problem = _only(_problems(path, columns=BIRTHS, unique=("year",)))
    assert problem.where == "rows 2, 3, column year"
    assert problem.message.startswith("year repeats")
    assert problem.value == "2024 in rows 2, 3"


def test_combination_leaves_out_bad_cells(tmp_path: Path) -> None:
    path = _write(tmp_path, "births.csv", "county,year,births\nA,,1\nA,,2\nA,x,3\nA,y,4\n")
    problems = _problems(path, columns=BIRTHS, unique=("county", "year"))
    assert [p.where for p in problems] == ["rows 2, 3, column year", "rows 4, 5, column year"]
    assert not any("repeat" in p.message for p in problems)


def test_combination_skipped_when_a_column_is_missing(tmp_path: Path) -> None:
    path = _write(tmp_path, "births.csv", "county,births\nA,1\nA,2\n")
    problem = _only(_problems(path, columns=BIRTHS, unique=("county", "year")))
    assert problem.where == "column year"


def test_unique_combinations_pass(tmp_path: Path) -> None:
    path = _write(tmp_path, "births.csv", "county,year,births\nA,2024,1\nB,2024,2\nA,2025,3\n")
    table = read_table(path, label="b", columns=BIRTHS, unique=("county", "year"))
    assert len(table) == 3


# ----------------------------------------------------------------------------- together


def test_all_problems_reported_together(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "births.csv",
        "county,year,births,births\n"
        "A,2024,1,x\n"
        "A,2024,2,x\n"
        ",2025,-3,x\n"
        "B,20x5,4,x\n"
        "B,2026,,x\n",
    )
    with pytest.raises(InputError) as caught:
        read_table(path, label="data/births.csv", columns=BIRTHS, unique=("county", "year"))
    problems = caught.value.problems
    assert all(p.source == "data/births.csv" for p in problems)
    by_where = {p.where: p for p in problems}
    assert set(by_where) == {
        "row 1",
        "row 4, column births",
        "row 5, column year",
        "row 6, column births",
        "rows 2, 3, columns county, year",
    }
    assert "more than once" in by_where["row 1"].message
    assert "negative" in by_where["row 4, column births"].message
    assert by_where["row 5, column year"].value == "'20x5'"
    assert "empty" in by_where["row 6, column births"].message
    assert by_where["rows 2, 3, columns county, year"].value == "('A', 2024) in rows 2, 3"
    assert str(caught.value).count("data/births.csv") == len(problems) == 5


# ----------------------------------------------------------------------------- arguments


def test_bad_arguments_are_value_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "b.csv", GOOD_BIRTHS)
    with pytest.raises(ValueError, match="not declared: region"):
        read_table(path, label="b", columns=BIRTHS, unique=("county", "region"))
    with pytest.raises(ValueError, match="not the string"):
        read_table(path, label="b", columns=BIRTHS, unique="county")
    with pytest.raises(ValueError, match="more than once"):
        read_table(path, label="b", columns=BIRTHS, unique=("year", "year"))
    with pytest.raises(ValueError, match="more than once"):
        read_table(path, label="b", columns=(*BIRTHS, ColumnSpec("year", "number")))


def test_id_column_counts_as_declared_for_unique(tmp_path: Path) -> None:
    path = _write(tmp_path, "h.csv", "project_id,units\nH1,1\nH2,2\n")
    table = read_table(path, label="h", id_column="project_id", unique=("project_id",))
    assert list(table["project_id"]) == ["H1", "H2"]
