"""Warnings and run notes in Chinese: the ``[warning]`` templates, real texts, CLI, report.

The library writes its warnings (log records) and run notes (``Results.notes``) in English;
:func:`allocator.i18n.warning_text` translates them with the ``[warning]`` section of the
locale files, the CLI's log handler shows them in ``--lang`` or the scenario's
``meta.language`` and ``report.html`` lists the notes in the report's language, while
``manifest.json`` keeps them in English.

Numbers come from the fixtures (see tests/test_explain.py and
tests/fixtures/rotation/README.md): the infeasible fixture has 2,400 primary children in
2024 against 450 seats + 1,620 (two sites at 18 classes of 45), Chengqu's zones 2,300
against 2,070 reachable seats, Xiangcun's zone C 100 children and nothing in reach; J-04
asks 2,000 new seats, D-06 three new primary schools on two candidate sites. Rotation:
EU and WU rotate 1 teacher each in 2024 and 2 each in 2025, all to rural schools 8 km away,
so a 5 km limit leaves them without an arc.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from allocator.cli import app
from allocator.i18n import (
    WarningFormatter,
    messages,
    placeholders,
    t,
    use_language,
    warning_text,
)
from allocator.layering import load_scenario
from allocator.pipeline import prepare
from allocator.plan.solve import solve_plan
from allocator.rotation import solve_rotation
from allocator.rotation_checks import _FOLDED, precheck_findings, summary_lines
from allocator.rotation_network import build_network
from allocator.rotation_prep import prepare as prepare_rotation
from allocator.rules.config import SITING_SWITCHES
from allocator.solvers import SolverOptions
from tests.fixtures.rotation.tiny import frames, tiny

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY = FIXTURES / "tiny" / "scenario.yaml"
INFEASIBLE = FIXTURES / "infeasible" / "scenario.yaml"
CJK = re.compile(r"[\u4e00-\u9fff]")
ARCS_ZH = "距离上限 5 公里，按距离配对，受禁止方向限制"
STRANDED_EN = ("primary: 1 zone(s) have no school or site within the travel limit (C); "
               "their children will have no seat in any period")
STRANDED_ZH = ("小学：1 个规划片区在通学距离上限内没有任何学校或校址（C）；"
               "这些片区的儿童在各规划期都将没有学位")
YOUNG_ZH = ("3 个规划片区在其最小已知年龄以下的各岁（最高到 5 岁）既无人数也无出生数据；"
            "这些年龄沿用最小已知年龄的人数")

runner = CliRunner()


def squash(text: str) -> str:
    """``text`` without white space (the console wraps long lines anywhere)."""
    return re.sub(r"\s+", "", text)


# ----------------------------------------------------------------------------- the table


def test_warning_templates_exist_in_both_languages_with_the_same_placeholders() -> None:
    for section in ("warning", "warning_part"):
        en, zh = messages().section(section, "en"), messages().section(section, "zh")
        assert sorted(en) == sorted(zh)
        assert {k: placeholders(v) for k, v in en.items()} == {
            k: placeholders(v) for k, v in zh.items()}
    warning = messages().section("warning", "zh")
    assert len(warning) == 77
    assert [k for k, v in warning.items() if not CJK.search(v)] == []


_NUMERIC = {"count", "n", "need", "have", "short", "seats", "room", "largest", "most",
            "offered", "eligible", "heads", "posts", "due", "more", "solved", "blocks",
            "zones", "cells", "cell", "age", "km", "missing", "total"}
_SOLVER = {"objective": "3944.510861", "bound": "3944.5", "gap": "0.0100%"}


def test_every_template_is_reached_and_keeps_its_values() -> None:
    # Each English template filled with distinct values must come back as its own
    # Chinese template with the same values (no other template shadows it).
    for key, template in messages().section("warning", "en").items():
        values = {name: "2031" if name == "year" else f"{101 + i:,}" if name in _NUMERIC
                  else _SOLVER.get(name, f"Q{i}")
                  for i, name in enumerate(sorted(placeholders(template)))}
        english = template.format(**values)
        assert warning_text(english, "zh") == t(f"warning.{key}", "zh", **values), key
        assert warning_text(english, "en") == english


def test_unknown_text_stays_as_written_and_the_record_is_not_changed() -> None:
    assert warning_text("something new happened", "zh") == "something new happened"
    record = logging.LogRecord("gis.x", logging.WARNING, __file__, 1,
                               "%d zone(s) have no count or births for ages below their "
                               "youngest known age (up to age %d); those ages copy the "
                               "youngest known age", (3, 5), None)
    assert WarningFormatter(lang="zh").format(record) == YOUNG_ZH
    assert record.getMessage().startswith("3 zone(s) have no count")  # other handlers
    assert WarningFormatter(lang="en").format(record) == record.getMessage()
    info = logging.LogRecord("x", logging.INFO, __file__, 1, STRANDED_EN, None, None)
    assert WarningFormatter(lang="zh").format(info) == STRANDED_EN  # --verbose stays English


def test_folded_precheck_lines_and_switch_effects_are_the_code_s_own_text() -> None:
    english = messages().section("warning", "en")
    assert {check: english[f"{check}_folded"] for check in _FOLDED} == _FOLDED
    for rule_id, effect in SITING_SWITCHES.items():
        assert CJK.search(warning_text(f"rules: {rule_id} is off: {effect}", "zh")), rule_id


_SPEC = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[sdgrf]")
_UNTRANSLATABLE = {"%s", "%s: %s"}
"""Formats that are someone else's whole text (a note, a GDAL or solver message)."""
_ARGUMENTS: dict[str, list[tuple[object, ...]]] = {
    "rotation: no solution (%s)%s": [("Q", ""), ("Q", "; solve with elastic=True to see "
                                                   "which rule gives")],
    "%s given for unknown zone types: %s": [("migrant shares", "Q"),
                                            ("migration rates", "Q")],
    "%d %s are over %g m from every road: no pairs": [(7, "origins", 500.0),
                                                      (7, "destinations", 500.0)],
}
"""Formats whose arguments are chosen from a few words: each choice must translate."""


def _logged_formats() -> list[tuple[str, str]]:
    """``(file, format)`` of every warning or error logged by allocator/ and gis/."""
    root = Path(__file__).resolve().parent.parent
    found = []
    for path in sorted([*(root / "allocator").rglob("*.py"), *(root / "gis").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in ("log", "logger")):
                continue
            args = node.args[1:] if node.func.attr == "log" else node.args
            if node.func.attr not in ("log", "warning", "error", "critical", "exception"):
                continue
            if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                found.append((path.name, args[0].value))
    return found


def test_every_logged_warning_has_a_chinese_template() -> None:
    formats = _logged_formats()
    assert len(formats) >= 35
    missing = []
    for name, fmt in formats:
        if fmt in _UNTRANSLATABLE:
            continue
        choices: list[tuple[object, ...]] = _ARGUMENTS.get(fmt) or [tuple(
            "'Q'" if m.group()[-1] == "r" else "Q" if m.group()[-1] == "s" else 7
            for m in _SPEC.finditer(fmt))]
        for values in choices:
            english = fmt % values
            if not CJK.search(warning_text(english, "zh")):
                missing.append((name, english))
    assert missing == []


# ----------------------------------------------------------------------------- real texts


def test_presolve_notes_of_the_infeasible_fixture_in_chinese() -> None:
    notes = prepare(load_scenario(INFEASIBLE)).notes
    assert [warning_text(n, "zh") for n in notes] == [
        "2024 年小学：需求 2,400 人 > 现有学位 450 + 各候选校址的最大方案 1,620：至少 330 名儿童将"
        "没有学位",
        STRANDED_ZH,
        "D-06 2024 年小学：要求新建 3 所学校（恰好），但只有 2 个候选校址提供小学方案",
        "J-04 2024 年（小学）：要求新增 2,000 个学位，但所有候选校址按最大方案开办、所有学校全部"
        "扩建，合计最多新增 1,620 个（差 380 个）",
        "Chengqu 2024 年：小学需求 2,300 人 > 通学距离上限内可达的学位 2,070 个（即使每个候选校址"
        "按最大方案开办、每所学校全部扩建）：至少 230 名儿童将没有学位",
        "Xiangcun 2024 年：小学需求 100 人 > 通学距离上限内可达的学位 0 个（即使每个候选校址按最大"
        "方案开办、每所学校全部扩建）：至少 100 名儿童将没有学位"]


def test_plan_without_solution_and_forecast_warnings_in_chinese(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        ready = prepare(load_scenario(INFEASIBLE))
        solve_plan(ready.plan, SolverOptions(seed=1))
    said = [warning_text(r.getMessage(), "zh") for r in caplog.records
            if r.levelno == logging.WARNING]
    assert said[0] == YOUNG_ZH  # zones A, B, C count primary ages only: 0-5 copy age 6
    no_solution = "（HiGHS: Infeasible；目标值 无，下界 无，间隙 无）"
    assert said[-2:] == ["学校布局第 1 阶段（学位缺口）：无解" + no_solution,
                         "学校布局：无解" + no_solution]


def test_switch_notes_in_chinese() -> None:
    notes = prepare(load_scenario(TINY, sets=["rules.N-01.active=false",
                                              "rules.J-20.active=false"])).notes
    assert [warning_text(n, "zh") for n in notes] == [
        "规则开关：J-20 已停用：义务教育学段可开办民办方案，民办学校可以扩建",
        "规则开关：N-01 已停用：不设投资预算（忽略 planning.budget_by_year 和 budget_cny）",
        "规则开关：J-20 已停用，因此 D-23 也不再执行：学校布局模型只在 J-20 规定只设公办学位的"
        "学段要求随迁子女就读公办学位，而现在没有这样的学段",
        STRANDED_ZH]


def test_rotation_precheck_and_no_solution_in_chinese(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="allocator.rotation"):
        result = solve_rotation(tiny(max_distance_km=5.0))
    said = [warning_text(r.getMessage(), "zh") for r in caplog.records
            if r.name == "allocator.rotation"]
    assert said == [
        f"教师轮岗预检：D-19：2 所派出学校 2024 年须交流 2 名教师，但没有通往农村学校的可用交流"
        f"方向（EU, WU；{ARCS_ZH}）",
        f"教师轮岗预检：D-19：2 所派出学校 2025 年须交流 4 名教师，但没有通往农村学校的可用交流"
        f"方向（EU, WU；{ARCS_ZH}）",
        "教师轮岗：无解（2 个年度模型中 1 个已求解（2024：不可行）；目标值 无，下界 无，间隙 无）；"
        "用 elastic=True 求解可看出需要放宽哪条规则"]
    assert [warning_text(w, "zh") for w in result.warnings[:2]] == [
        f"D-19：EU 2024 年须在 10 名符合条件的教师中交流 1 名，但没有通往农村学校的可用交流方向"
        f"（{ARCS_ZH}）",
        f"D-19：EU 2025 年须在 12 名符合条件的教师中交流 2 名，但没有通往农村学校的可用交流方向"
        f"（{ARCS_ZH}）"]


def test_backbone_precheck_lines_in_chinese() -> None:
    # Without B1 and B2 (1 year at school) EU and WU have no eligible backbone teacher but
    # need ceil(0.2 x 1) = 1 backbone rotator each a year.
    teachers = frames()["teachers"]
    teachers.loc[teachers["teacher_id"].isin(["EU-B1", "EU-B2", "WU-B1", "WU-B2"]),
                 "years_at_school"] = 1
    data = tiny(teachers=teachers, max_distance_km=5.0)
    tables = prepare_rotation(data)
    found = precheck_findings(tables, build_network(tables, data.policy), data.policy)
    lines = [warning_text(line, "zh") for line in summary_lines(found, shown=1)]
    assert lines[2:] == [
        f"D-19：2 所派出学校 {year} 年需要 2 名骨干交流教师，但符合条件的骨干教师只有 0 名"
        "（EU 及另外 1 个）" for year in (2024, 2025)]
    single = next(f.text for f in found if f.check == "d19_backbone")
    assert warning_text(single, "zh") == (
        "D-19：EU 2024 年需要 1 名骨干交流教师，但符合条件的骨干教师只有 0 名")


# ----------------------------------------------------------------------------- CLI, report


def test_cli_log_and_report_speak_chinese_manifest_stays_english(tiny_scenario: Path,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "zh"
    result = runner.invoke(app, ["--lang", "zh", "-q", "run", str(tiny_scenario), "--out",
                                 str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    shown = squash(result.stderr)
    assert squash(f"WARNING {YOUNG_ZH}") in shown and squash(f"WARNING {STRANDED_ZH}") in shown
    assert "zone(s)" not in result.stderr
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["notes"] == [
        STRANDED_EN]
    assert f"<li>{STRANDED_ZH}</li>" in (out / "report.html").read_text(encoding="utf-8")


def test_cli_log_follows_the_scenario_language(tiny_scenario: Path, tmp_path: Path) -> None:
    with use_language(None):  # no --lang, no ALLOCATOR_LANG: meta.language decides
        result = runner.invoke(app, ["-q", "run", str(tiny_scenario), "--set",
                                     "meta.language=zh", "--out", str(tmp_path / "zh")],
                               env={"COLUMNS": "200", "ALLOCATOR_LANG": None})
    assert result.exit_code == 0, result.output
    assert squash(STRANDED_ZH) in squash(result.stderr)
    assert "zone(s)" not in result.stderr
