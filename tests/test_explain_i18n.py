"""Infeasibility explained in Simplified Chinese as well as English (issue #8).

The numbers are those of tests/test_explain.py: the infeasible fixture
(tests/fixtures/infeasible) needs 380 more seats than its two sites can give (2,000 asked,
1,620 at most), spends 1,620,000 CNY against a 600,000 CNY budget (1,020,000 = 1.02
million over; money from a million on in 百万元, as in the audit) and has two sites for
3 projects and 3 new primary schools (1 short each). The penalties are 0.001 per CNY
(N-01) and 1,000 per project, seat and school.

The tiny rotation fixture (tests/fixtures/rotation/tiny): with a 5 km limit no sender
reaches a receiver, so D-19 (10 % of eligible teachers: ceil(10 % x 10) = 1 at EU and
ceil(10 % x 12) = 2 at WU from 2025) gives; without WR, WU's only rural school in reach
is ER, whose arc J-10 bans: 1 move in 2024, 2 in 2025.

The language: ``meta.language`` of the scenario, overridden by ``--lang``
(:func:`allocator.i18n.choose_language`), as the CLI summary and the audit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from allocator.cli import app
from allocator.explain import (
    explain_plan,
    explain_rotation,
    money,
    plan_closing,
    plan_intro,
    rotation_intro,
)
from allocator.i18n import use_language
from allocator.layering import load_scenario
from allocator.pipeline import explain_rotation_outcome, run
from allocator.plan.data import PlanWeights
from allocator.results import Results
from allocator.rotation import RotationResult, solve_rotation
from allocator.rotation_input import RotationPolicy, RotationWeights
from allocator.rotation_pipeline import RotationOutcome
from allocator.solvers import SolveInfo
from tests.fixtures.rotation.tiny import frames, tiny
from tests.test_explain import _report

INFEASIBLE = Path(__file__).resolve().parent / "fixtures" / "infeasible" / "scenario.yaml"

EN_LINES = [
    "N-01 budget 2024: 1.02 million CNY over 600,000 CNY",
    "N-02 projects 2024: 1 short of 3",
    "J-04 new public seats by 2024 (primary): 380 seats short of 2,000",
    "D-06 new primary schools by 2024: 1 short of 3",
]
ZH_INTRO = ("学校布局模型不可行：预算、项目数、学位目标和学校数量无法同时满足。"
            "弹性重解放宽其中 4 项；"
            "这是加权松弛量最小的放宽方案（每单位罚分：N-01 每元 0.001；N-02 每个项目 1,000；"
            "J-04 每个学位 1,000；D-06 每所学校 1,000），并非放宽规则条数最少的方案：")
ZH_LINES = [
    "N-01 2024 年预算：支出超出 600,000 元共 1.02 百万元",
    "N-02 2024 年项目数：距 3 个尚差 1 个",
    "J-04 截至 2024 年新增公办学位（小学）：距 2,000 个尚差 380 个学位",
    "D-06 截至 2024 年新建小学：距 3 所尚差 1 所",
]
ZH_CLOSING = ("各结果表中没有方案（情景不可行）；"
              "plan_rules.csv 是弹性重解的规则报告：其 elastic 列为各行的放宽量。")

runner = CliRunner()


@pytest.fixture(scope="module")
def chinese() -> Results:
    """The infeasible fixture with ``meta.language: zh`` (no ``--lang``)."""
    return run(load_scenario(INFEASIBLE, sets=["meta.language=zh"]))


def test_infeasible_fixture_explained_in_chinese(chinese: Results) -> None:
    assert chinese.info.status == "infeasible" and int(chinese.exit_code) == 3
    assert chinese.explanation == (ZH_INTRO, *ZH_LINES, ZH_CLOSING)
    rules = chinese.tables["plan_rules"].set_index("rule_id")  # the numbers quoted above
    assert rules.loc[["N-01", "N-02", "J-04", "D-06"], "elastic"].tolist() == [
        1_020_000, 1, 380, 1]


def test_lang_override_beats_meta_language() -> None:
    with use_language("en"):
        english = run(load_scenario(INFEASIBLE, sets=["meta.language=zh"])).explanation
    assert list(english[1:5]) == EN_LINES
    assert english[0].startswith("The siting model is infeasible: its budgets")
    assert english[-1] == plan_closing("en") and english[-1].startswith("The tables hold no")
    with use_language("zh"):
        assert run(load_scenario(INFEASIBLE)).explanation[1:5] == tuple(ZH_LINES)


def test_plan_intro_without_elastic_plan_in_both_languages() -> None:
    weights = PlanWeights()
    infeasible = SolveInfo("infeasible", None, None, None, 0.1, "highs", "1", "")
    none = SolveInfo("no_solution", None, None, None, 0.1, "highs", "1", "")
    assert plan_intro(infeasible, none, weights, 0, lang="zh") == [
        "学校布局模型不可行：预算、项目数、学位目标和学校数量无法同时满足。"
        "弹性重解也没有找到方案（无解（时限内未找到可行方案））；冲突在于不能放宽的规则。"]
    assert plan_intro(infeasible, none, weights, 0) == [
        "The siting model is infeasible: its budgets, project counts, seat targets and school "
        "counts cannot all hold. The elastic re-solve found no plan either (no_solution); the "
        "conflict lies in rules that cannot give."]


def test_cli_lang_zh_writes_a_chinese_explanation(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["--lang", "zh", "run", str(INFEASIBLE), "--out", str(out)],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 3, result.output
    assert all(line in result.output for line in ZH_LINES)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["explanation"] == [ZH_INTRO, *ZH_LINES, ZH_CLOSING]
    text = (out / "explanation.md").read_text(encoding="utf-8")
    assert f"\n\n{ZH_INTRO}\n\n" in text
    assert "\n".join(f"- {line}" for line in ZH_LINES) in text
    assert text.endswith(f"\n\n{ZH_CLOSING}\n")
    assert "short of" not in text and "million" not in text


def test_explain_plan_words_every_rule_kind_in_chinese() -> None:
    report = _report([
        ("N-01", "2026", 2026, "", 620e6, "<=", 500e6, 120e6),
        ("N-01", "2024-2026 cumulative", 2026, "", 1.3e9, "<=", 1.2e9, 1e8),
        ("N-01", "horizon", None, "", 2.0e9, "<=", 1.95e9, 5e7),
        ("N-01", "2027", 2027, "", 1e8, "<=", 2e8, 0.0),  # holds: no line
        ("N-02", "projects 2024", 2024, "", 34, "=", 37, 3),
        ("N-02", "projects 2025", 2025, "", 28, "=", 26, 2),
        ("J-04", "primary+junior new public seats by 2025", 2025, "primary+junior",
         101_760, ">=", 110_000, 8_240),
        ("G-03", "senior new public seats by 2025", 2025, "senior", 19_999, ">=", 20_000, 1),
        ("N-03", "kindergarten new public seats by 2026", 2026, "kindergarten", 500, ">=",
         1_500, 1_000),
        ("D-06", "new junior schools by 2025", 2025, "junior", 2, "=", 3, 1),
        ("D-06", "new primary schools by 2025", 2025, "primary", 4, "<=", 2, 2),
    ])
    assert explain_plan(report, "zh") == [
        "N-01 2026 年预算：支出超出 500 百万元共 120 百万元",
        "N-01 2024-2026 年（累计）预算：支出超出 1,200 百万元共 100 百万元",
        "N-01 整个规划期预算：支出超出 1,950 百万元共 50 百万元",
        "N-02 2024 年项目数：距 37 个尚差 3 个",
        "N-02 2025 年项目数：超出 26 个共 2 个",
        "J-04 截至 2025 年新增公办学位（小学、初中）：距 110,000 个尚差 8,240 个学位",
        "G-03 截至 2025 年新增公办学位（高中）：距 20,000 个尚差 1 个学位",
        "N-03 截至 2026 年新增公办学位（幼儿园）：距 1,500 个尚差 1,000 个学位",
        "D-06 截至 2025 年新建初中：距 3 所尚差 1 所",
        "D-06 截至 2025 年新建小学：超出 2 所共 2 所",
    ]
    assert explain_plan(report, "en")[7] == (
        "N-03 new public seats by 2026 (kindergarten): 1,000 seats short of 1,500")


def test_public_share_rows_read_in_children_short_of_the_share() -> None:
    # N-12 rows as allocator.plan.targets.add_share_targets writes them: lhs public
    # children, rhs min_share x reachable children, elastic the children short.
    report = _report([("N-12", "public kindergarten share 2025 >= 55 %", 2025,
                       "kindergarten", 45.0, ">=", 55.0, 10.0),
                      ("N-12", "public kindergarten share 2024 >= 55 %", 2024,
                       "kindergarten", 54.0, ">=", 55.0, 1.0)])
    assert explain_plan(report) == [
        "N-12 public kindergarten share 2025: 10 children short of 55 %",
        "N-12 public kindergarten share 2024: 1 child short of 55 %"]
    assert explain_plan(report, "zh") == [
        "N-12 2025 年幼儿园公办占比：距 55 %尚差 10 名儿童",
        "N-12 2024 年幼儿园公办占比：距 55 %尚差 1 名儿童"]


def test_a_rule_without_its_own_sentence_is_relaxed_by_in_both_languages() -> None:
    # an elastic row of a rule explain.py has no sentence for
    report = _report([("X-09", "some share 2025", 2025, "kindergarten",
                       0.45, ">=", 0.5, 0.05)])
    assert explain_plan(report) == [
        "X-09 some share 2025: relaxed by 0.05 (0.45 >= 0.5 does not hold)"]
    assert explain_plan(report, "zh") == [
        "X-09 some share 2025：放宽 0.05（0.45 >= 0.5 不成立）"]
    frame = pd.DataFrame([("X-01", "research", "R1", None, 2)],
                         columns=["rule_id", "scope", "scope_id", "year", "amount"])
    assert explain_rotation({"elastic": True}, frame, lang="zh") == ["X-01 教研机构 R1：放宽 2"]
    assert explain_rotation({"elastic": True}, frame) == ["X-01 research R1: relaxed by 2"]


def test_money_in_both_languages() -> None:
    values = (600_000, 1_020_000, 120e6, 1_234_567)
    assert [money(v, "zh") for v in values] == [
        "600,000 元", "1.02 百万元", "120 百万元", "1.23 百万元"]
    assert [money(v) for v in values] == [
        "600,000 CNY", "1.02 million CNY", "120 million CNY", "1.23 million CNY"]


# --------------------------------------------------------------------------- rotation


def _summary(result: RotationResult) -> dict[str, object]:
    slack = result.slacks.groupby("rule_id")["amount"].sum().to_dict()
    return {"elastic": result.elastic, "status": result.info.status,
            "hard": {"status": "infeasible"}, "slack": slack}


def test_rotation_d19_slack_in_chinese() -> None:
    base = frames()
    data = tiny(schools=base["schools"], enrolment=base["enrolment"],
                teachers=base["teachers"], max_distance_km=5.0)
    result = solve_rotation(data, elastic=True)
    hard = SolveInfo("infeasible", None, None, None, 0.1, "cp-sat", "9", "")
    outcome = RotationOutcome(result=result, tables={}, summary=_summary(result), data=data,
                              hard_info=hard)
    assert explain_rotation_outcome(outcome, lang="zh") == [
        "教师轮岗模型不可行：编制和交流轮岗规则无法同时满足。弹性重解（每条硬约束都有以教师人数计的"
        "命名松弛，每单位罚分为 rotation.weights.elastic）放宽了：",
        "D-19 学校 EU 2024 年：交流教师不足符合条件教师的10%，差 1 名交流教师",
        "D-19 学校 EU 2025 年：交流教师不足符合条件教师的10%，差 2 名交流教师",
        "D-19 学校 WU 2024 年：交流教师不足符合条件教师的10%，差 1 名交流教师",
        "D-19 学校 WU 2025 年：交流教师不足符合条件教师的10%，差 2 名交流教师",
    ]
    assert explain_rotation_outcome(outcome)[1] == (
        "D-19 at school EU 2024: 1 rotating teacher short of 10% of eligible teachers")


def test_rotation_banned_arc_and_totals_in_chinese() -> None:
    base = frames()
    keep = {name: frame[frame["school_id"] != "WR"] for name, frame in base.items()}
    data = tiny(schools=keep["schools"], enrolment=keep["enrolment"],
                teachers=keep["teachers"],
                weights=RotationWeights(elastic_by_rule={"J-10": 100.0}))
    result = solve_rotation(data, elastic=True)
    summary = _summary(result)
    assert explain_rotation(summary, result.slacks, RotationPolicy(), "zh") == [
        "J-10 2024 年：禁止的交流方向 WU -> ER 上有 1 次调动",
        "J-10 2025 年：禁止的交流方向 WU -> ER 上有 2 次调动",
    ]
    assert explain_rotation(summary, lang="zh") == ["J-10：弹性松弛共 3 名教师"]
    assert rotation_intro({**summary, "status": "no_solution"}, "zh") == [
        "教师轮岗模型不可行，弹性重解也没有找到方案（无解（时限内未找到可行方案））。"]
    assert rotation_intro({**summary, "hard": {"solver": "cp-sat"}, "status": "no_solution"},
                          "zh")[0].startswith("教师轮岗模型无解，")


@pytest.mark.parametrize(("row", "text"), [
    (("D-19", "school", "EU:backbone", 2025, 1),
     "D-19 学校 EU 2025 年：交流教师中骨干教师不足20%，差 1 名骨干交流教师"),
    (("J-08", "county", "E", 2024, 2),
     "J-08 县区 E 2024 年：骨干教师不足教师总数的10%，差 2 名骨干教师"),
    (("G-11", "school", "EU:math", 2024, 1),
     "G-11 学校 EU（math） 2024 年：1 次指定人才调动发生在 5 年服务期内"),
    (("J-15", "research", "R1", 2025, 1),
     "J-15 教研机构 R1 2025 年：1 名教研人员应到学校任教而未到"),
    (("J-18", "pairing", "P1", 2025, 1), "J-18 结对 P1 2025 年：交流未达 1 人次，差 1 人次交流"),
    (("J-27", "school", "ER", 2024, 3), "J-27 学校 ER 2024 年：低于最低配备 3 名教师"),
    (("D-21", "county", "W", 2025, 4), "D-21 县区 W 2025 年：超出核定编制 4 名"),
])
def test_explain_rotation_words_every_slack_in_chinese(row: tuple[object, ...],
                                                       text: str) -> None:
    frame = pd.DataFrame([row], columns=["rule_id", "scope", "scope_id", "year", "amount"])
    assert explain_rotation({"elastic": True}, frame, RotationPolicy(), "zh") == [text]


def test_rotation_without_policy_names_the_share_in_words() -> None:
    frame = pd.DataFrame([("D-19", "school", "EU", 2024, 1), ("G-11", "school", "EU", 2024, 1),
                          ("J-18", "pairing", "P1", None, 2)],
                         columns=["rule_id", "scope", "scope_id", "year", "amount"])
    assert explain_rotation({"elastic": True}, frame, None, "zh") == [
        "D-19 学校 EU 2024 年：交流教师不足符合条件教师的规定比例，差 1 名交流教师",
        "G-11 学校 EU 2024 年：1 次指定人才调动发生在服务期内",
        "J-18 结对 P1：交流未达最低要求，差 2 人次交流",
    ]
    assert explain_rotation({"elastic": True}, frame) == [
        "D-19 at school EU 2024: 1 rotating teacher short of the share of eligible teachers",
        "G-11 at school EU 2024: 1 designated talent move inside the lock",
        "J-18 pairing P1: 2 exchanges short of the minimum",
    ]
