"""The rule catalogue and registry."""

from __future__ import annotations

import pytest

import allocator.pipeline  # noqa: F401 - registers the rules of the siting pipeline
from allocator.rules import Kind, catalogue, registered, rule


def test_catalogue_holds_every_seed_rule() -> None:
    entries = catalogue()
    assert len(entries) == 116
    assert {r[0] for r in entries} == {"J", "D", "G", "N", "Z"}
    d13 = entries["D-13"]
    assert d13.seed == "001" and d13.clause == "三(三)1" and "大班额" in d13.quote
    assert "大政办发〔2023〕11号" in d13.source


def test_pipeline_rules_are_registered_with_their_clause() -> None:
    found = {r.rule_id: r for r in registered()}
    assert {"D-07", "D-09", "D-13"} <= set(found)
    assert found["D-07"].kind is Kind.HARD and "travel limit" in found["D-07"].formula
    assert found["D-13"].entry.quote.startswith("到2023年消除大班额")


def test_unknown_rule_id_is_refused() -> None:
    with pytest.raises(KeyError, match="X-99"):
        rule("X-99", kind=Kind.HARD, family="seats")
