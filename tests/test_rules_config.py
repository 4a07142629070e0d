"""The scenario's rules: section (switches, exceptions, unknown IDs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from allocator.errors import InputError
from allocator.layering import load_scenario
from allocator.rules import catalogue
from allocator.rules.config import (
    RuleException,
    RulesConfig,
    active_rules,
    exceptions_allowed,
    rule_exceptions,
    suggest_rule_id,
    switch_label,
)
from allocator.scenario import scenario_json_schema

EXCEPTION = {"who": "某民办学校", "where": "440703", "why": "市政府批准", "years": [2025]}


def with_rules(path: Path, block: str) -> Path:
    path.write_text(path.read_text(encoding="utf-8") + block, encoding="utf-8")
    return path


def problems_of(path: Path, *sets: str) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_scenario(path, sets=sets)
    return [str(p) for p in caught.value.problems]


def test_default_every_rule_on() -> None:
    config = RulesConfig()
    assert len(active_rules(config)) == 116
    assert switch_label(config, "J-10") == "on"
    assert rule_exceptions(config, "J-10") == ()


def test_switches_and_exceptions_from_a_scenario(tiny_scenario: Path) -> None:
    with_rules(tiny_scenario, (
        "rules:\n"
        "  J-10: {active: false}\n"
        "  D-13: {active: true}\n"
        "  J-20:\n"
        "    exceptions:\n"
        "      - {who: 某民办学校, where: '440703', why: 市政府批准, years: [2025]}\n"
        "      - {who: 另一所学校, where: '440781', why: 省厅批复}\n"
    ))
    config = load_scenario(tiny_scenario).config
    on = active_rules(config)
    assert len(on) == 115 and "J-10" not in on and {"D-13", "J-20"} <= on
    found = rule_exceptions(config, "J-20")
    assert [e.who for e in found] == ["某民办学校", "另一所学校"]
    assert found[0].years == (2025,) and found[1].years == ()
    assert switch_label(config, "J-10") == "off"
    assert switch_label(config, "J-20") == "on, 2 exceptions"
    assert switch_label(config, "D-13") == "on"


def test_set_switches_a_rule_off(tiny_scenario: Path) -> None:
    config = load_scenario(tiny_scenario, sets=["rules.D-19.active=false"]).config
    assert catalogue().keys() - active_rules(config) == {"D-19"}


def test_unknown_id_names_the_key_and_suggests(tiny_scenario: Path) -> None:
    with_rules(tiny_scenario, "rules:\n  J-100: {active: false}\n  X-99: {active: false}\n")
    found = problems_of(tiny_scenario)
    assert len(found) == 2
    assert "key rules.J-100" in found[0] and "did you mean 'J-10'?" in found[0]
    assert "key rules.X-99" in found[1] and "allocator rules --all" in found[1]


def test_suggestions() -> None:
    assert suggest_rule_id("j10") == "J-10"
    assert suggest_rule_id("D-019") == "D-19"
    assert suggest_rule_id("J-35") == "J-30"
    assert suggest_rule_id("J-1O") == "J-10"  # letter O
    assert suggest_rule_id("X-99") is None


def test_exception_on_a_rule_without_in_principle_is_refused(tiny_scenario: Path) -> None:
    with_rules(tiny_scenario, (
        "rules:\n  D-13:\n    exceptions:\n"
        "      - {who: 城关小学, where: '320904', why: 过渡期}\n"
    ))
    (problem,) = problems_of(tiny_scenario)
    assert "key rules.D-13.exceptions" in problem
    assert "D-13 allows no exceptions" in problem and "原则上" in problem
    assert "catalogue kind is HARD, not SOFT" in problem


def test_which_rules_take_exceptions() -> None:
    allowed = sorted(r for r, e in catalogue().items() if exceptions_allowed(e))
    # 原则上 in the quote: J-10 J-14 J-15 J-20 J-22 G-12 Z-08 Z-16; SOFT kind: J-30 D-04 D-07
    # D-10 D-20 G-02 N-05 N-17 (J-10 and G-12 are both).
    assert allowed == ["D-04", "D-07", "D-10", "D-20", "G-02", "G-12", "J-10", "J-14", "J-15",
                       "J-20", "J-22", "J-30", "N-05", "N-17", "Z-08", "Z-16"]
    config = RulesConfig.model_validate({"D-04": {"exceptions": [EXCEPTION]},
                                         "J-15": {"exceptions": [EXCEPTION]}})
    assert switch_label(config, "J-15") == "on, 1 exception"


def test_exceptions_are_strict() -> None:
    with pytest.raises(ValidationError, match="why"):
        RulesConfig.model_validate({"J-20": {"exceptions": [{"who": "a", "where": "b"}]}})
    with pytest.raises(ValidationError, match="reason"):
        RulesConfig.model_validate({"J-20": {"exceptions": [{**EXCEPTION, "reason": "x"}]}})
    with pytest.raises(ValidationError, match="actve"):
        RulesConfig.model_validate({"J-20": {"actve": False}})
    with pytest.raises(ValidationError, match="2100"):
        RulesConfig.model_validate({"J-20": {"exceptions": [{**EXCEPTION, "years": [20250]}]}})
    config = RulesConfig.model_validate({"J-20": {"exceptions": [EXCEPTION]}})
    with pytest.raises(ValidationError, match="frozen"):
        config.root["J-20"].active = False  # type: ignore[misc]
    assert isinstance(rule_exceptions(config, "J-20")[0], RuleException)
    with pytest.raises(KeyError, match="X-99"):
        rule_exceptions(config, "X-99")


def test_schema_and_resolved_scenario_carry_the_section(tiny_scenario: Path) -> None:
    schema = scenario_json_schema()
    assert "rules" in schema["properties"]
    assert schema["$defs"]["RuleSwitch"]["additionalProperties"] is False
    with_rules(tiny_scenario, "rules:\n  J-10: {active: false}\n")
    resolved = load_scenario(tiny_scenario)
    assert resolved.to_dict()["rules"] == {"J-10": {"active": False, "exceptions": []}}
