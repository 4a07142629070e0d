"""Infeasibility explained in the rules' own words (allocator.explain, pipeline, CLI).

The infeasible fixture (tests/fixtures/infeasible) is the tiny layout (see
tests/test_pipeline_tiny.py): S1 with 10 primary classes (450 seats), candidate sites C1
and C2 with 12 or 18 classes (540 or 810 seats at 1,000 CNY per seat), zones A (2,000
children, county Chengqu; reaches S1 and C1), B (300, Chengqu; reaches C1 and C2) and C
(100, Xiangcun; reaches nothing). Its rules for 2024:

* J-04: 2,000 new public seats; both sites at 18 classes give at most 1,620: 380 short.
* N-01: budget 600,000 CNY; both sites at 18 cost 1,620,000: 1,020,000 over.
* N-02: exactly 3 projects, D-06: exactly 3 new primary schools; two sites: 1 short each.

Elastic re-solve, phase 1 = unmet + 1,000 per seat short (J-04), per project (N-02), per
school (D-06) + 0.001 per CNY over (N-01): both sites at 18 cost 380 x 1,000 + 1,020,000 x
0.001 + 1,000 + 1,000 = 383,020 (+ 840 unmet); C2 at 12 instead adds 270 seats short
(+270,000) to save 270 units of budget: both at 18 is the unique optimum.

Pre-solve: 2024 demand 2,400 > 450 + 1,620 = 2,070 (330 short); Chengqu's zones reach
S1, C1, C2: 2,300 > 2,070 (230 short); Xiangcun reaches nothing: 100 > 0.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from allocator.cli import app
from allocator.explain import explain_plan, explain_rotation, money, rotation_intro
from allocator.inputs import load_inputs
from allocator.layering import load_scenario
from allocator.pipeline import choose_metric_crs, explain_rotation_outcome, run
from allocator.rotation import RotationResult, solve_rotation
from allocator.rotation_input import RotationPolicy, RotationWeights
from allocator.rotation_pipeline import plan_rotation, static_enrolment
from tests.fixtures.rotation.tiny import frames, tiny

INFEASIBLE = Path(__file__).resolve().parent / "fixtures" / "infeasible" / "scenario.yaml"

EXPECTED = [
    "N-01 budget 2024: 1.02 million CNY over 600,000 CNY",
    "N-02 projects 2024: 1 short of 3",
    "J-04 new public seats by 2024 (primary): 380 seats short of 2,000",
    "D-06 new primary schools by 2024: 1 short of 3",
]

runner = CliRunner()


def test_infeasible_fixture_is_explained_rule_by_rule() -> None:
    results = run(load_scenario(INFEASIBLE))
    assert results.info.status == "infeasible" and int(results.exit_code) == 3
    intro, *lines, closing = results.explanation
    assert lines == EXPECTED
    assert intro.startswith("The siting model is infeasible")
    assert "relaxes 4 of their rows" in intro and "least weighted slack" in intro
    assert "N-01 0.001 per CNY; N-02 1,000 per project; J-04 1,000 per seat; D-06 1,000 " \
        "per school" in intro and "G-03" not in intro
    assert "plan_rules.csv is the elastic re-solve's rule report" in closing
    rules = results.tables["plan_rules"].set_index("rule_id")
    assert rules.loc[["N-01", "N-02", "J-04", "D-06"], "elastic"].tolist() == [
        1_020_000, 1, 380, 1]
    assert rules.loc["N-01", "lhs"] == 1_620_000 and rules.loc["J-04", "lhs"] == 1_620
    assert results.tables["assignments"].empty  # no plan is reported as one
    assert "explain" in results.timings


def test_infeasible_fixture_presolve_quotes_county_numbers() -> None:
    notes = run(load_scenario(INFEASIBLE)).notes
    assert "2024 primary: demand 2,400 > existing seats 450 + every candidate's largest " \
        "option 1,620: at least 330 children will have no seat" in notes
    assert ("Chengqu 2024: primary demand 2,300 > seats reachable within the travel limits "
            "2,070 even if every candidate opens at its largest option and every school "
            "expands fully: at least 230 children will have no seat") in notes
    assert any(n.startswith("Xiangcun 2024: primary demand 100 > seats reachable within "
                            "the travel limits 0 ") for n in notes)
    assert ("J-04 2024 (primary): 2,000 new seats asked, but every candidate site at its "
            "largest option and every expansion together add at most 1,620 (380 short)"
            ) in notes


def test_cli_exits_3_and_writes_the_explanation(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(INFEASIBLE), "--out", str(out)],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 3, result.output
    assert all(line in result.output for line in EXPECTED)  # logged as warnings
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "infeasible" and manifest["exit_code"] == 3
    assert manifest["explanation"][1:5] == EXPECTED
    assert "explanation.md" in manifest["files"]
    text = (out / "explanation.md").read_text(encoding="utf-8")
    assert text.startswith("# infeasible: infeasible\n\nThe siting model is infeasible")
    assert "\n".join(f"- {line}" for line in EXPECTED) in text
    rules = pd.read_csv(out / "plan_rules.csv")
    assert rules.loc[rules["elastic"] > 0, "rule_id"].tolist() == ["N-01", "N-02", "J-04",
                                                                    "D-06"]


def test_an_elastic_scenario_is_not_re_solved() -> None:
    results = run(load_scenario(INFEASIBLE, sets=["objective.elastic=true"]))
    assert results.info.status == "optimal" and results.explanation == ()
    assert "explain" not in results.timings
    elastic = results.tables["plan_rules"].set_index("rule_id")["elastic"]
    assert elastic.loc[["N-01", "J-04"]].tolist() == [1_020_000, 380]


def _report(rows: list[tuple[str, str, int | None, str, float, str, float, float]]
            ) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["rule_id", "scope", "year", "stage", "lhs", "sense",
                                        "rhs", "elastic"])
    frame["slack"] = 0.0
    return frame


def test_explain_plan_words_every_rule_kind() -> None:
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
        ("D-06", "new junior schools by 2025", 2025, "junior", 2, "=", 3, 1),
        ("D-06", "new primary schools by 2025", 2025, "primary", 4, "<=", 2, 2),
    ])
    assert explain_plan(report) == [
        "N-01 budget 2026: 120 million CNY over 500 million CNY",
        "N-01 budget 2024-2026 (cumulative): 100 million CNY over 1,200 million CNY",
        "N-01 budget of the whole horizon: 50 million CNY over 1,950 million CNY",
        "N-02 projects 2024: 3 short of 37",
        "N-02 projects 2025: 2 over 26",
        "J-04 new public seats by 2025 (primary, junior): 8,240 seats short of 110,000",
        "G-03 new public seats by 2025 (senior): 1 seat short of 20,000",
        "D-06 new junior schools by 2025: 1 short of 3",
        "D-06 new primary schools by 2025: 2 over 2",
    ]
    assert explain_plan(report.iloc[0:0]) == []


def test_money_in_words() -> None:
    assert [money(v) for v in (600_000, 1_020_000, 120e6, 1_234_567)] == [
        "600,000 CNY", "1.02 million CNY", "120 million CNY", "1.23 million CNY"]


# --------------------------------------------------------------------------- rotation


def _west_only_reaches_east(**policy: object) -> RotationResult:
    """The rotation fixture without WR: WU's only rural school in reach is ER (east)."""
    base = frames()
    keep = {name: frame[frame["school_id"] != "WR"] for name, frame in base.items()}
    data = tiny(schools=keep["schools"], enrolment=keep["enrolment"],
                teachers=keep["teachers"],
                weights=RotationWeights(elastic_by_rule={"J-10": 100.0}), **policy)
    return solve_rotation(data, elastic=True)


def _summary(result: RotationResult) -> dict[str, object]:
    slack = result.slacks.groupby("rule_id")["amount"].sum().to_dict()
    return {"elastic": result.elastic, "status": result.info.status,
            "hard": {"status": "infeasible"}, "slack": slack}


def test_explain_rotation_names_the_banned_arc() -> None:
    # D-19 asks WU for 1 rotator in 2024 and 2 in 2025 (README); only WU -> ER reaches a
    # rural school, and J-10 bans it: cheaper to break J-10 (100) than D-19 (10,000).
    result = _west_only_reaches_east()
    summary = _summary(result)
    assert explain_rotation(summary, result.slacks, RotationPolicy()) == [
        "J-10 2024: 1 move on the banned arc WU -> ER",
        "J-10 2025: 2 moves on the banned arc WU -> ER",
    ]
    assert explain_rotation(summary) == ["J-10: 3 teachers of elastic slack in all"]
    assert rotation_intro(summary)[0].startswith("The rotation model is infeasible")
    assert explain_rotation({**summary, "elastic": False}, result.slacks) == []


def test_explain_rotation_d19_short_of_its_share() -> None:
    # 5 km: no sender reaches a receiver (EU-ER 8 km, WU-WR 8 km), so D-19 gives: 1 then
    # 2 rotators short at EU and at WU (ceil(10% x 10) = 1, ceil(10% x 12) = 2).
    base = frames()
    data = tiny(schools=base["schools"], enrolment=base["enrolment"],
                teachers=base["teachers"], max_distance_km=5.0)
    result = solve_rotation(data, elastic=True)
    assert explain_rotation(_summary(result), result.slacks, data.policy) == [
        "D-19 at school EU 2024: 1 rotating teacher short of 10% of eligible teachers",
        "D-19 at school EU 2025: 2 rotating teachers short of 10% of eligible teachers",
        "D-19 at school WU 2024: 1 rotating teacher short of 10% of eligible teachers",
        "D-19 at school WU 2025: 2 rotating teachers short of 10% of eligible teachers",
    ]


@pytest.mark.parametrize(("row", "text"), [
    (("D-19", "school", "EU:backbone", 2025, 1),
     "D-19 backbone at school EU 2025: 1 backbone rotator short of 20% of rotators"),
    (("J-08", "county", "E", 2024, 2),
     "J-08 at county E 2024: 2 backbone teachers short of 10% of teachers"),
    (("G-11", "school", "EU:math", 2024, 1),
     "G-11 at school EU (math) 2024: 1 designated talent move inside the 5-year lock"),
    (("J-15", "research", "R1", 2025, 1),
     "J-15 at research body R1 2025: 1 researcher due to teach in a school who do not"),
    (("J-18", "pairing", "P1", 2025, 1), "J-18 pairing P1 2025: 1 exchange short of 1"),
    (("J-27", "school", "ER", 2024, 3),
     "J-27 at school ER 2024: 3 teachers below its staffing floor"),
    (("D-21", "county", "W", 2025, 4), "D-21 in county W 2025: 4 posts over the approved total"),
])
def test_explain_rotation_words_every_slack(row: tuple[object, ...], text: str) -> None:
    frame = pd.DataFrame([row], columns=["rule_id", "scope", "scope_id", "year", "amount"])
    assert explain_rotation({"elastic": True}, frame, RotationPolicy()) == [text]


def test_rotation_step_explains_its_elastic_re_solve(tmp_path: Path) -> None:
    # Dafeng with a 0.5 km rotation limit: no sender reaches a rural school, so the hard
    # model is infeasible and D-19 gives at every sender (its elastic slack, teachers).
    scenarios = Path(__file__).resolve().parent.parent / "scenarios"
    for folder in ("common", "dafeng"):
        shutil.copytree(scenarios / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("boundaries", "*.geojson"))
    path = tmp_path / "dafeng" / "scenario.yaml"
    text = path.read_text(encoding="utf-8")
    if "rotation.yaml" not in text:
        text = text.replace("  - ../common/standards.yaml\n",
                            "  - ../common/standards.yaml\n  - rotation.yaml\n", 1)
    path.write_text("\n".join(line for line in text.splitlines() if "boundary:" not in line)
                    + "\n", encoding="utf-8")
    resolved = load_scenario(path, sets=["rotation.years=[2025]",
                                         "rotation.max_distance_km=0.5"])
    inputs = load_inputs(resolved)
    outcome = plan_rotation(resolved, inputs.schools, static_enrolment(resolved, inputs.schools),
                            crs=choose_metric_crs(resolved, inputs.zones))
    intro, *lines = explain_rotation_outcome(outcome)
    assert intro.startswith("The rotation model is infeasible")
    d19 = outcome.result.slacks.query("rule_id == 'D-19'")
    assert len(lines) == len(outcome.result.slacks) and len(d19) > 0
    pattern = re.compile(r"D-19 at school (\S+) 2025: (\d+) rotating teachers? short of 10% "
                         r"of eligible teachers")
    found = [m for line in lines if (m := pattern.fullmatch(line))]
    assert len(found) == len(d19)
    assert sum(int(m.group(2)) for m in found) == outcome.summary["slack"]["D-19"]
