"""Every planner-facing message in Chinese and English: the table, its parity, the CLI."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allocator.audit_messages import CATALOGS, render
from allocator.cli import _argv_language, app
from allocator.i18n import (
    LANGUAGES,
    choose_language,
    from_english,
    glossary,
    messages,
    placeholders,
    problem_text,
    scenario_language,
    t,
    translate_where,
    use_language,
)
from gis.errors import Problem
from gis.map_style import LABELS, REGION_LABELS, STAGE_LABELS
from tests.conftest import ROOT
from tests.test_cli_input import CASES, edit

runner = CliRunner()
WIDE = {"COLUMNS": "200"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=WIDE)
    return result.exit_code, result.output


# ----------------------------------------------------------------------------- the table


def test_every_key_exists_in_both_languages() -> None:
    zh, en = messages().keys("zh"), messages().keys("en")
    assert sorted(zh - en) == [] and sorted(en - zh) == []
    assert len(en) > 300


def test_placeholders_are_the_same_in_both_languages() -> None:
    table = messages()
    differ = {key: (placeholders(table.tables["en"][key]), placeholders(table.tables["zh"][key]))
              for key in table.keys("en")
              if placeholders(table.tables["en"][key]) != placeholders(table.tables["zh"][key])}
    assert differ == {}


def test_every_template_formats() -> None:
    for lang in LANGUAGES:
        for key, template in messages().tables[lang].items():
            values = dict.fromkeys(placeholders(template), "X")
            text = template.format(**values)
            assert "{" not in text.replace("{{", "") or "overrides" in key or "scenarios" in key


def test_chinese_entries_are_chinese() -> None:
    zh, en = messages().tables["zh"], messages().tables["en"]
    # codes and the same-in-both entries are the only ones without a Chinese character
    same = sorted(k for k in zh if not CJK.search(zh[k]))
    assert same == sorted(k for k in same if zh[k] == en[k] or not CJK.search(en[k]))
    assert len(same) < 20, same


def test_map_labels_match_between_languages() -> None:
    for table in (LABELS, STAGE_LABELS, REGION_LABELS):
        assert set(table["zh"]) == set(table["en"])
        for key in table["en"]:
            assert placeholders(table["zh"][key]) == placeholders(table["en"][key])


def test_locale_files_ship_in_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "locale/*.toml" in config["tool"]["setuptools"]["package-data"]["allocator"]
    assert sorted(p.name for p in (ROOT / "allocator" / "locale").glob("*.toml")) == [
        "en.toml", "zh.toml"]


def test_t_falls_back_and_keeps_unknown_placeholders() -> None:
    assert t("run.col_stage", "zh") == "学段" and t("run.col_stage", "en") == "stage"
    assert t("validate.summary", "zh", path="a.yaml", zones=3, schools=1, candidates=2) == (
        " a.yaml：3 个规划片区，1 所学校，2 个候选校址")
    assert t("run.results", "zh") == "结果目录：{path}"
    with pytest.raises(KeyError):
        t("run.no_such_key", "zh")
    with pytest.raises(ValueError, match="'zh' or 'en'"):
        t("run.col_stage", "fr")


def test_language_choice() -> None:
    assert choose_language() == "en" and choose_language("zh") == "zh"
    with use_language("en"):
        assert choose_language("zh") == "en"
    assert choose_language("zh") == "zh"
    assert scenario_language({"meta": {"language": "zh"}}) == "zh"
    assert scenario_language({"meta": {}}) is None and scenario_language(None) is None
    assert _argv_language(["--lang", "zh", "run", "x.yaml"]) == "zh"
    assert _argv_language(["--lang=zh", "run"]) == "zh" and _argv_language(["run"]) == "en"


# ----------------------------------------------------------------------------- English in


def test_glossary_and_english_templates() -> None:
    assert glossary("primary", "zh") == "小学" and glossary("primary", "en") == "primary"
    assert glossary("S-17", "zh") == "S-17"
    assert from_english("on, 2 exceptions", "zh", "switch") == "启用，2 项例外"
    assert from_english("off", "zh", "switch") == "停用"
    assert from_english("something new", "zh", "problem") is None


def test_where_keeps_numbers_and_names() -> None:
    assert translate_where("rows 2, 3, column zone_id", "zh") == "第 2, 3 行，列 zone_id"
    assert translate_where("rows 2, 3, 4, 5, 6 … and 3 more, column 班级数", "zh") == (
        "第 2, 3, 4, 5, 6 行等（另有 3 处），列 班级数")
    assert translate_where("line 17, key planning.base_year", "zh") == (
        "第 17 行，键 planning.base_year")
    assert translate_where("feature 1", "zh") == "第 1 个要素"
    assert translate_where("pairing P1", "zh") == "pairing P1"  # unknown shape: as written
    assert translate_where("rows 2, 3, column zone_id", "en") == "rows 2, 3, column zone_id"


def test_problem_text() -> None:
    problem = Problem("data/j.xlsx, sheet 学校", "row 17, column 班级数",
                      "not a number; write plain digits such as 1234 or 12.5, without units, "
                      "spaces or thousands separators", "'十二'")
    assert problem_text(problem, "zh") == (
        "data/j.xlsx，工作表 学校：第 17 行，列 班级数：不是数字；请只写数字，如 1234 或 12.5，"
        "不带单位、空格或千位分隔符（实际值：'十二'）")
    assert problem_text(problem, "en") == str(problem)
    unknown = Problem("zones.csv", "row 4, column x", "a message no table knows", "7")
    assert problem_text(unknown, "zh") == (
        "zones.csv：第 4 行，列 x：a message no table knows（实际值：7）")
    key = Problem("s.yaml line 20", "key travel.circuitty",
                  "unknown key 'circuitty'; did you mean 'circuity'?")
    assert problem_text(key, "zh") == (
        "s.yaml 第 20 行：键 travel.circuitty：未知的键 'circuitty'；是否应为 'circuity'？")


# ----------------------------------------------------------------------------- the audit


def test_audit_catalogs_match() -> None:
    assert set(CATALOGS["zh"]) == set(CATALOGS["en"])
    for key, text in CATALOGS["en"].items():
        assert placeholders(CATALOGS["zh"][key]) == placeholders(text), key


def test_audit_messages_in_both_languages() -> None:
    values = {"enrolled": "1,380", "classes": "30", "cap": 45, "over": 30, "more": 1}
    assert render("D-13.over", values) == (
        "1,380 pupils in 30 classes of at most 45: 30 over the cap, 1 more classes needed")
    assert render("D-13.over", values, language="zh") == (
        "1,380 名学生分为 30 个班，每班不超过 45 人：超出 30 人，还需增加 1 个班")
    travel = {"pairs": 3, "worst": "3,200", "zone": "Z1", "school": "S1", "setting": "longer",
              "limit": "3,000", "over": 1,
              "note": " (zone setting unknown: longer limit applied)"}
    assert render("D-07.over", travel, language="zh") == (
        "3 条就学分配中有 1 条超出较长的上限 3,000 米；最远 3,200 米（片区 Z1 至 S1）"
        "（片区城乡属性未知：采用较长的上限）")
    budget = {"cumulative": "cumulative ", "spend": "60.0", "budget": "50.0", "over": "10.0",
              "source": "spend.csv", "why": "市政府 2025-03 批准"}
    assert render("N-01.over", budget, language="zh", exception=True) == (
        "累计支出 60.0 百万元，超出预算 50.0 百万元共 10.0 百万元（数据来自spend.csv）"
        "；列明的例外：市政府 2025-03 批准")


# ----------------------------------------------------------------------------- the CLI


def test_run_summary_in_chinese_for_a_chinese_scenario(tiny_scenario: Path,
                                                        tmp_path: Path) -> None:
    code, output = invoke("run", str(tiny_scenario), "--set", "meta.language=zh",
                          "--out", str(tmp_path / "zh"))
    assert code == 0, output
    header = next(line for line in output.splitlines() if "学段" in line)
    assert [cell.strip() for cell in header.strip("┃ ").split("┃")] == [
        "年份", "学段", "适龄儿童", "现有学位", "新建学校", "新增学位", "投资（万元）", "学位缺口"]
    row = next(line for line in output.splitlines() if "2024" in line)
    # 1,300 children, 450 seats today, one 18-class site (18 x 45 = 810 seats) at
    # 1,000 CNY per seat = 810,000 CNY = 81.0 万元, 100 children without a seat
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [
        "2024", "小学", "1,300", "450", "1", "810", "81.0", "100"]
    assert "tiny：最优" in output and "求解状态 最优" in output and "结果目录：" in output
    assert "stage" not in output and "status optimal" not in output


def test_lang_option_overrides_the_scenario(tiny_scenario: Path, tmp_path: Path) -> None:
    code, output = invoke("--lang", "en", "run", str(tiny_scenario), "--set",
                          "meta.language=zh", "--out", str(tmp_path / "en"))
    assert code == 0, output
    assert "cost (million CNY)" in output and "tiny: optimal" in output
    row = next(line for line in output.splitlines() if "2024" in line)
    assert [cell.strip() for cell in row.strip("│ ").split("│")] == [
        "2024", "primary", "1,300", "450", "1", "810", "0.8", "100"]
    assert not CJK.search(output)
    code, output = invoke("--lang", "zh", "validate", str(tiny_scenario))
    assert code == 0 and f"通过 {tiny_scenario}：3 个规划片区，1 所学校，2 个候选校址" in output
    assert choose_language() == "en"  # the option ends with the command


def test_input_error_in_chinese_names_file_row_and_column(tiny_dir: Path) -> None:
    edit(tiny_dir / "schools.csv", "primary,10,", "primary,-10,")
    code, output = invoke("validate", str(tiny_dir / "scenario.yaml"), "--set",
                          "meta.language=zh")
    assert code == 2
    assert "输入有误：共 1 个问题" in output
    assert ("schools.csv：第 2 行，列 classes：为负数；数量必须大于或等于 0（实际值：'-10'）"
            in output)


def test_scenario_that_does_not_load_still_speaks_its_language(tiny_dir: Path) -> None:
    edit(tiny_dir / "scenario.yaml", "  seed: 1", "  seed: 1\n  language: zh")
    edit(tiny_dir / "scenario.yaml", "circuity: 1.0", "circuitty: 1.0")
    code, output = invoke("validate", str(tiny_dir / "scenario.yaml"))
    assert code == 2
    line = next(line for line in output.splitlines() if "circuitty" in line)
    assert re.search(r"scenario\.yaml 第 \d+ 行：键 travel\.circuitty：未知的键 'circuitty'；"
                     r"是否应为 'circuity'？", line), line
    code, output = invoke("--lang", "en", "validate", str(tiny_dir / "scenario.yaml"))
    assert "Bad input: 1 problem(s)" in output and "unknown key 'circuitty'" in output


#: A Chinese fragment each bad-input case of tests/test_cli_input.py must show.
CHINESE_CASES = {
    "malformed yaml": "YAML 格式错误",
    "unknown key": "未知的键 'circuitty'",
    "wrong type": "应为整数",
    "missing data file": "找不到文件",
    "missing column": "缺少必填列",
    "negative count": "为负数",
    "non-numeric count": "不是数字",
    "duplicate ids": "编号重复",
    "empty file": "文件为空",
    "invalid geometry": "几何无效",
    "empty geometry": "要素没有几何",
}


#: Fragments of those cases that are English words, not names or values.
ENGLISH_WORDS = {"row 2", "rows 2, 3", "feature 1", "malformed YAML", "not found", "empty",
                 "geometry", "scenario.yaml line"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_bad_input_case_reads_in_chinese(tiny_dir: Path, case: str) -> None:
    breaker, fragments = CASES[case]
    breaker(tiny_dir)
    code, output = invoke("--lang", "zh", "validate", str(tiny_dir / "scenario.yaml"))
    assert code == 2 and "输入有误" in output
    for fragment in fragments:
        if fragment in ENGLISH_WORDS or fragment.startswith("did you"):
            continue  # translated; files, keys, columns and values must stay
        assert fragment in output, f"{fragment!r} missing from:\n{output}"
    if case in CHINESE_CASES:
        assert CHINESE_CASES[case] in output, output
    for english, chinese in (("rows 2, 3", "第 2, 3 行"), ("row 2", "第 2 行"),
                             ("feature 1", "第 1 个要素"), ("scenario.yaml line",
                                                         "scenario.yaml 第 ")):
        if english in fragments:
            assert chinese in output, output


def test_rules_table_in_chinese_keeps_quotes(tiny_scenario: Path) -> None:
    text = tiny_scenario.read_text(encoding="utf-8")
    tiny_scenario.write_text(text + "rules:\n  J-10: {active: false}\n", encoding="utf-8")
    code, output = invoke("--lang", "zh", "rules", str(tiny_scenario))
    assert code == 0, output
    header = next(line for line in output.splitlines() if "原文" in line)
    assert [c.strip() for c in header.strip("┃ ").split("┃")] == [
        "编号", "类型", "文件", "条款", "原文", "参数", "开关"]
    j10 = next(line for line in output.splitlines() if "│ J-10 " in line)
    assert "硬约束" in j10 and "东部三区一市学校原则上不得从西部地区" in j10
    assert j10.rstrip("│ ").endswith("停用")
    assert re.search(r"规则目录共 116 条，已建模 \d+ 条，未建模 \d+ 条（--all", output)
    assert "开关来自情景文件的 rules: 设置。" in output
