"""The scenario's ``rules:`` switches and exceptions reach the models and the results.

Siting cases are on copies of the tiny fixture (see tests/test_pipeline_tiny.py): S1 with
10 primary classes (450 seats); sites C1 (A and B in reach) and C2 (B only) with 12 or 18
classes (540 / 810 seats, 1,000 CNY per seat); zones A 900 (urban_core), B 300, C 100 (out
of reach). Without any rule: C1 at 18 classes (810,000 CNY), unmet 100. Each test adds a
rule that changes this plan, computes the changed plan by hand, switches the rule off and
finds the plan back, with the audit reporting the rule ``not applicable``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from allocator.errors import InputError
from allocator.exceptions_report import EXCEPTION_COLUMNS, exceptions_table
from allocator.layering import load_scenario
from allocator.pipeline import prepare, run
from allocator.plan import solve_plan
from allocator.plan.data import PlanInput
from allocator.plan_inputs import plan_rules, private_sites
from allocator.results import Results
from allocator.rotation import RotationResult, solve_rotation
from allocator.rotation_config import RotationConfig
from allocator.rotation_input import SWITCHABLE_RULES, RotationException, RotationInput
from allocator.rotation_pipeline import RotationOutcome
from allocator.rules.config import (
    ROTATION_SWITCHES,
    SWITCH_HONOURED_BY,
    RulesConfig,
    switch_honoured,
    switch_label,
)
from allocator.solvers import SolverOptions
from tests.fixtures.rotation.tiny import frames, tiny

BASELINE = (["C1", 18, 810_000.0],)


def add_column(path: Path, name: str, values: dict[str, str]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    out = [f"{lines[0]},{name}"]
    out += [f"{line},{values.get(line.split(',')[0], '')}" for line in lines[1:]]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def with_rules(path: Path, block: str) -> Path:
    path.write_text(path.read_text(encoding="utf-8") + block, encoding="utf-8")
    return path


def opened(results: Results) -> list[list[object]]:
    new = results.tables["schools"].query("kind == 'new'")
    return new[["school_id", "classes", "cost_cny"]].values.tolist()


def unmet(results: Results) -> float:
    return float(results.tables["demand"]["unmet"].sum())


def audit_status(results: Results, folder: Path, rule_id: str) -> list[str]:
    written = results.to_dir(folder, report=False)
    audit = pd.read_csv(written / "audit.csv")
    return audit.loc[audit["rule_id"] == rule_id, "status"].tolist()


CASES = {
    # N-01: 600,000 CNY buys one 12-class site: C1 at 12, unmet 210 (B) + 100 (C).
    "N-01": (["planning.budget_cny=600000"], [["C1", 12, 540_000.0]], 310.0),
    # N-02: no project in 2024 (at most 0): nothing opens, unmet 450 (A) + 300 + 100.
    "N-02": (["planning.projects_per_year={2024: 0}"], [], 850.0),
    # J-04 / G-03 / N-03: 1,620 new seats = both sites at 18 classes.
    **{rule_id: ([f"planning.seat_targets=[{{rule: {rule_id}, stages: [primary], year: 2024, "
                  "min_seats: 1620}]"], [["C1", 18, 810_000.0], ["C2", 18, 810_000.0]], 100.0)
       for rule_id in ("J-04", "G-03", "N-03")},
    # D-06: exactly 0 new primary schools: nothing opens.
    "D-06": (["planning.new_school_counts=[{rule: D-06, stage: primary, year: 2024, "
              "count: 0, sense: exact}]"], [], 850.0),
    # N-05: at most 12 classes: C1 at 12 (A 450, B 90) and C2 at 12 (B 210), unmet 100.
    "N-05": (["standards.max_school_classes.primary=12"],
             [["C1", 12, 540_000.0], ["C2", 12, 540_000.0]], 100.0),
}


@pytest.mark.parametrize("rule_id", list(CASES))
def test_a_switched_off_rule_drops_its_rows(tiny_scenario: Path, tmp_path: Path,
                                            rule_id: str) -> None:
    sets, plan, left = CASES[rule_id]
    on = run(load_scenario(tiny_scenario, sets=sets))
    assert sorted(opened(on)) == plan and unmet(on) == pytest.approx(left)
    off = run(load_scenario(tiny_scenario, sets=[*sets, f"rules.{rule_id}.active=false"]))
    assert opened(off) == list(BASELINE) and unmet(off) == pytest.approx(100)
    assert f"rules: {rule_id} is off" in " ".join(off.notes)
    assert audit_status(off, tmp_path / "out", rule_id) == ["not applicable"]


def test_j20_off_lets_a_private_site_open(tiny_dir: Path, tmp_path: Path) -> None:
    # C1 is private: J-20 drops it, so only C2 (B only) opens at 12; A's other 450 unmet.
    add_column(tiny_dir / "candidates.csv", "ownership", {"C1": "private", "C2": "public"})
    scenario = tiny_dir / "scenario.yaml"
    on = run(load_scenario(scenario))
    assert opened(on) == [["C2", 12, 540_000.0]] and unmet(on) == pytest.approx(550)
    off = run(load_scenario(scenario, sets=["rules.J-20.active=false"]))
    assert opened(off) == list(BASELINE) and unmet(off) == pytest.approx(100)
    assert off.tables["sites"].set_index("site_id").loc["C1", "status"] == "opened"
    assert any("so D-23 is not enforced either" in n for n in off.notes)
    assert audit_status(off, tmp_path / "out", "J-20") == ["not applicable"]


def test_d23_off_lets_migrants_take_private_seats(tiny_dir: Path, tmp_path: Path) -> None:
    # S1 is private and 60 % of A's 900 are migrants: S1 may seat only A's 360 others, so
    # 540 migrants need C1 (12 classes = 540) and B's 300 need C2 at 12: 1,080,000 CNY.
    add_column(tiny_dir / "schools.csv", "ownership", {"S1": "private"})
    scenario = tiny_dir / "scenario.yaml"
    sets = ["demand.migrant_shares={urban_core: 0.6}"]
    on = run(load_scenario(scenario, sets=sets))
    assert sorted(opened(on)) == [["C1", 12, 540_000.0], ["C2", 12, 540_000.0]]
    assert unmet(on) == pytest.approx(100)
    off = run(load_scenario(scenario, sets=[*sets, "rules.D-23.active=false"]))
    assert opened(off) == list(BASELINE) and unmet(off) == pytest.approx(100)
    assert audit_status(off, tmp_path / "out", "D-23") == ["not applicable"]


def test_d10_off_lets_a_site_open_beside_a_closing_school(tiny_scenario: Path,
                                                          tmp_path: Path) -> None:
    # 1,000 m limit: S1-C1 = 607 m share a catchment, S1-C2 = 1,307 m do not. S1 closes in
    # 2024 (decided): D-10 keeps C1 shut that year, so only C2 at 12 opens for B and A's 900
    # are unmet (1,000 with C). Off: C1 at 18 for A (90 unmet) and C2 at 12 for B: 190.
    sets = ["planning.allow_closures=true",
            "standards.travel_limits_m.primary={urban: 1000, rural: 3000}"]
    on = prepare(load_scenario(tiny_scenario, sets=sets))
    off = prepare(load_scenario(tiny_scenario, sets=[*sets, "rules.D-10.active=false"]))
    assert on.plan.catchment is not None and off.plan.catchment is not None
    assert on.plan.catchment.values.tolist() == [["S1", "C1"]] and off.plan.catchment.empty

    def solved(plan: PlanInput) -> tuple[list[list[object]], int]:
        closing = replace(plan, existing=plan.existing.assign(closure_year=2024))
        result = solve_plan(closing, SolverOptions())
        rows = result.opened[["site_id", "classes"]].values.tolist()
        return sorted(rows), round(float(result.unmet["unmet"].sum()))

    assert solved(on.plan) == ([["C2", 12]], 1_000)
    assert solved(off.plan) == ([["C1", 18], ["C2", 12]], 190)
    results = run(load_scenario(tiny_scenario, sets=[*sets, "rules.D-10.active=false"]))
    assert audit_status(results, tmp_path / "out", "D-10") == ["not applicable"]


@pytest.mark.parametrize("rule_id", ["D-13", "Z-18"])
def test_class_caps_cannot_be_switched_off(tiny_scenario: Path, rule_id: str) -> None:
    resolved = load_scenario(tiny_scenario, sets=[f"rules.{rule_id}.active=false"])
    with pytest.raises(InputError) as caught:
        prepare(resolved)
    (problem,) = caught.value.problems
    assert problem.source == "scenario.yaml" and problem.where == f"key rules.{rule_id}.active"
    assert f"{rule_id} cannot be switched off" in problem.message
    assert switch_label(resolved.config, rule_id) == "off (refused)"


def test_plan_rules_keep_every_rule_by_default(tiny_scenario: Path) -> None:
    config = load_scenario(tiny_scenario, sets=["planning.budget_cny=600000",
                                                "standards.max_school_classes.primary=12"]
                           ).config
    rules = plan_rules(config)
    assert rules.budget_total == 600_000 and dict(rules.max_classes_by_stage) == {"primary": 12}
    assert rules.public_only_stages == ("primary", "junior") and rules.migrant_public
    off = plan_rules(load_scenario(tiny_scenario, sets=[
        "planning.budget_cny=600000", "rules.N-01.active=false", "rules.J-20.active=false",
        "rules.D-23.active=false"]).config)
    assert off.budget_total is None and off.public_only_stages == ()
    assert off.migrant_public is False


def test_switch_labels_say_what_the_models_do() -> None:
    rules = RulesConfig.model_validate({
        "J-10": {"active": False}, "D-07": {"active": False}, "J-08": {"active": False},
        "D-21": {"active": False}, "Z-10": {"active": False}, "D-13": {"active": False}})
    assert [switch_label(rules, r) for r in ("J-10", "D-07", "J-08", "D-21", "Z-10", "D-13",
                                             "N-01")] == [
        "off", "off (recorded only)", "off (kept: G-10 on)", "off", "off", "off (refused)", "on"]
    assert switch_honoured(rules, "D-21") and not switch_honoured(rules, "J-08")
    assert SWITCH_HONOURED_BY == ("allocator.plan_inputs", "allocator.rotation_config")
    assert ROTATION_SWITCHES == SWITCHABLE_RULES


# --------------------------------------------------------------------------- rotation


def _section(**extra: object) -> RotationConfig:
    return RotationConfig.model_validate({"data": {"teachers": {"path": "teachers.csv"}},
                                          **extra})


SCHOOLS = {"EU", "ER", "WU"}


def test_rotation_policy_takes_the_rules_switches() -> None:
    rules = RulesConfig.model_validate({"D-19": {"active": False}, "J-08": {"active": False},
                                        "D-07": {"active": False}})
    policy = _section(rules_off=["J-15"]).policy(years=(2024,), staffing_ratios={},
                                                 rules=rules, schools=SCHOOLS)
    assert policy.rules_off == frozenset({"D-19", "J-15"})  # J-08 kept: G-10 is on
    both = RulesConfig.model_validate({"J-08": {"active": False}, "G-10": {"active": False}})
    assert _section().policy(years=(2024,), staffing_ratios={}, rules=both).rules_off == {
        "J-08"}


def test_rotation_policy_takes_j10_and_g12_exceptions() -> None:
    rules = RulesConfig.model_validate({
        "J-10": {"exceptions": [
            {"who": "WU", "where": "ER", "why": "pilot exchange", "years": [2025]},
            {"who": "WU-B1", "where": "440781", "why": "secondment"}]},
        "G-12": {"exceptions": [{"who": "EU-T01", "where": "ER", "why": "approved"}]}})
    own = {"rules": ["G-11"], "who": "EU-B1", "why": "talent release"}
    policy = _section(exceptions=[own]).policy(years=(2024, 2025), staffing_ratios={},
                                               rules=rules, schools=SCHOOLS)
    assert policy.exceptions == (
        RotationException(rules=("G-11",), reason="talent release", teacher_id="EU-B1"),
        RotationException(rules=("J-10",), reason="pilot exchange", from_school="WU",
                          to_school="ER", years=(2025,)),
        RotationException(rules=("J-10",), reason="secondment", teacher_id="WU-B1"),
        RotationException(rules=("G-12",), reason="approved", teacher_id="EU-T01",
                          to_school="ER"))
    off = RulesConfig.model_validate({"J-10": {"active": False, "exceptions": [
        {"who": "WU", "where": "ER", "why": "pilot exchange"}]}})
    assert _section().policy(years=(2024,), staffing_ratios={}, rules=off,
                             schools=SCHOOLS).exceptions == ()


def test_a_school_exception_needs_a_receiving_school() -> None:
    rules = RulesConfig.model_validate({"J-10": {"exceptions": [
        {"who": "WU", "where": "440781", "why": "pilot exchange"}]}})
    with pytest.raises(InputError) as caught:
        _section().policy(years=(2024,), staffing_ratios={}, rules=rules, schools=SCHOOLS,
                          source="jiangmen.yaml")
    (problem,) = caught.value.problems
    assert str(problem) == ("jiangmen.yaml: key rules.J-10.exceptions[0].where: WU is a "
                            "school, so where must name the receiving school (a school_id) "
                            "(got 440781)")


def _west_only(policy_rules: RulesConfig, section: RotationConfig | None = None
               ) -> tuple[RotationInput, RotationResult]:
    """Solve the rotation fixture without WR (WU's only rural school in reach is ER, east)."""
    base = frames()
    keep = {name: frame[frame["school_id"] != "WR"] for name, frame in base.items()}
    policy = (section or _section()).policy(years=(2024, 2025),
                                            staffing_ratios={"primary": 19.0},
                                            rules=policy_rules, schools=SCHOOLS)
    data = tiny(schools=keep["schools"], enrolment=keep["enrolment"],
                teachers=keep["teachers"], exceptions=policy.exceptions,
                rules_off=policy.rules_off)
    return data, solve_rotation(data)


def test_rules_section_lifts_the_j10_ban_in_the_rotation_model() -> None:
    # D-19 asks WU for 1 rotator in 2024 and 2 in 2025; J-10 bans WU -> ER: infeasible.
    _, hard = _west_only(RulesConfig())
    assert hard.info.status == "infeasible"
    _, off = _west_only(RulesConfig.model_validate({"J-10": {"active": False}}))
    wu = off.rotations.query("from_school == 'WU'")
    assert wu.groupby("year")["count"].sum().to_dict() == {2024: 1, 2025: 2}


RULES_BLOCK = (
    "rules:\n"
    "  J-10:\n"
    "    exceptions:\n"
    "      - {who: WU, where: ER, why: pilot exchange}\n"
    "  J-20:\n"
    "    exceptions:\n"
    "      - {who: X9, where: '440703', why: 市政府批准, years: [2024]}\n"
    "  D-07:\n"
    "    active: false\n"
    "    exceptions:\n"
    "      - {who: C, where: rural, why: boarding school}\n"
    "  N-05:\n"
    "    exceptions:\n"
    "      - {who: S1, where: '440703', why: 老校区, years: [2024, 2025]}\n")

SITING_ROWS = [
    ["J-20", "X9", "440703", "市政府批准", "2024",
     "recorded only: names no candidate site with a private option"],
    ["D-07", "C", "rural", "boarding school", "", "not used: the rule is switched off"],
    ["N-05", "S1", "440703", "老校区", "2024;2025",
     "recorded only: no model reads exceptions to N-05; the audit lifts the findings it "
     "covers"],
]


def test_a_run_reports_its_exceptions(tiny_scenario: Path) -> None:
    results = run(load_scenario(with_rules(tiny_scenario, RULES_BLOCK)))
    table = results.tables["exceptions"]
    assert list(table.columns) == EXCEPTION_COLUMNS
    assert table.values.tolist() == [
        ["J-10", "WU", "ER", "pilot exchange", "",
         "recorded only: the scenario plans no rotation"], *SITING_ROWS]
    assert any("J-20 exception for 'X9' is recorded only" in n for n in results.notes)


def test_exceptions_table_counts_rotation_moves(tiny_scenario: Path) -> None:
    # The J-10 pair WU -> ER carries D-19's 1 + 2 rotators; the section's own G-11
    # exception names a teacher without a talent lock: never used.
    resolved = load_scenario(with_rules(tiny_scenario, RULES_BLOCK + (
        "rotation:\n"
        "  exceptions:\n"
        "    - {rules: [G-11], who: WU-T01, why: talent release, years: [2025]}\n"
        "  data: {teachers: {path: teachers.csv}}\n")))
    data, result = _west_only(resolved.config.rules, resolved.config.rotation)
    assert result.info.status == "optimal"
    outcome = RotationOutcome(result=result, tables={}, summary={}, data=data)
    table = exceptions_table(resolved, None, outcome, private=set())
    assert table.values.tolist() == [
        ["J-10", "WU", "ER", "pilot exchange", "", "rotation: 3 moves"], *SITING_ROWS,
        ["G-11", "WU-T01", "", "talent release", "2025",
         "rotation: not used (0 moves) (rotation.exceptions[0])"],
    ]


def _private_c1(tiny_dir: Path, year: int = 2024) -> Path:
    add_column(tiny_dir / "candidates.csv", "ownership", {"C1": "private", "C2": "public"})
    return with_rules(tiny_dir / "scenario.yaml", (
        "rules:\n  J-20:\n    exceptions:\n"
        f"      - {{who: C1, where: '440703', why: 市政府常务会议批准, years: [{year}]}}\n"))


def test_j20_exception_names_a_private_candidate_site(tiny_dir: Path) -> None:
    resolved = load_scenario(_private_c1(tiny_dir))
    ready = prepare(resolved)
    assert private_sites(resolved.config, ready.options) == {"C1": (2024,)}


def test_j20_exception_opens_the_private_site(tiny_dir: Path, tmp_path: Path) -> None:
    # As in test_j20_off...: with the exception C1 may open as private in 2024.
    results = run(load_scenario(_private_c1(tiny_dir)))
    assert opened(results) == list(BASELINE) and unmet(results) == pytest.approx(100)
    row = results.tables["exceptions"].iloc[0].tolist()
    assert row == ["J-20", "C1", "440703", "市政府常务会议批准", "2024",
                   "siting: C1 opened in 2024 as private (18 primary classes)"]
    assert audit_status(results, tmp_path / "out", "J-20") == ["exception"]


def test_j20_exception_holds_only_in_its_years(tiny_dir: Path) -> None:
    # The exception is for 2025; the plan's only period is 2024: C1 stays shut (as with
    # J-20 and no exception: C2 at 12 for B).
    results = run(load_scenario(_private_c1(tiny_dir, year=2025)))
    assert opened(results) == [["C2", 12, 540_000.0]]
    assert results.tables["exceptions"]["used_in"].tolist() == [
        "siting: not used (C1 not opened as private)"]


