"""The scenario's ``rules:`` section: switch catalogue rules on or off and list exceptions.

A scenario may name any catalogue rule (``allocator rules --all`` lists them)::

    rules:
      J-10: {active: false}
      J-20:
        active: true
        exceptions:
          - who: 某民办九年一贯制学校 (approved before the plan)
            where: "440703"
            why: 市政府常务会议 2023-05 批准
            years: [2025]

Every rule is on unless switched off. Exceptions (who, where, why and optionally the plan
years they hold in; no years means every year) are only accepted for rules the documents
allow exceptions to: the catalogue quote says 原则上 ("in principle"), or the catalogue
kind includes SOFT. An unknown ID is an error naming the key (``rules.X-99``) with the
closest catalogue ID.

The section is validated and recorded in the resolved scenario. Which models read it is
listed in :data:`SWITCH_HONOURED_BY`; so far none does, so a switch documents the
planner's intent but does not yet change a plan.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from allocator.rules import CatalogueEntry, catalogue

__all__ = [
    "SWITCH_HONOURED_BY",
    "RuleException",
    "RuleSwitch",
    "RulesConfig",
    "active_rules",
    "exceptions_allowed",
    "rule_exceptions",
    "suggest_rule_id",
    "switch_label",
]

SWITCH_HONOURED_BY: tuple[str, ...] = ()
"""Models that read the ``rules:`` switches and exceptions (none yet)."""

_ID = re.compile(r"^\s*([A-Za-z])\s*-?\s*0*(\d{1,3})\s*$")


class RuleException(BaseModel):
    """One listed exception to a 原则上 (in-principle) rule: who, where, why, when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    who: str = Field(min_length=1, description="The school, person or project excepted.")
    where: str = Field(min_length=1, description="County or school code, or place name.")
    why: str = Field(min_length=1, description="The justification (approval, document).")
    years: tuple[Annotated[int, Field(ge=2000, le=2100)], ...] = Field(
        (), description="Plan years the exception holds in; empty: every year."
    )


class RuleSwitch(BaseModel):
    """The scenario's setting for one rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    active: bool = Field(True, description="false switches the rule off.")
    exceptions: tuple[RuleException, ...] = Field(
        (), description="Listed exceptions (only for 原则上 or SOFT rules)."
    )


def exceptions_allowed(entry: CatalogueEntry) -> bool:
    """Whether the documents allow exceptions to a rule: 原则上 in its quote or a SOFT kind."""
    return "原则上" in entry.quote or "SOFT" in entry.catalogue_kind.split("/")


def suggest_rule_id(word: str) -> str | None:
    """The catalogue ID a mistyped ``word`` most likely means (``j10`` → ``J-10``), or None."""
    ids = list(catalogue())
    match = _ID.match(word)
    if match:
        normal = f"{match.group(1).upper()}-{int(match.group(2)):02d}"
        if normal in ids:
            return normal
    typed = word.strip().upper()

    def score(rule_id: str) -> tuple[float, int]:
        ratio = difflib.SequenceMatcher(None, typed, rule_id).ratio()
        prefix = next((i for i, (a, b) in enumerate(zip(typed, rule_id, strict=False)) if a != b),
                      min(len(typed), len(rule_id)))
        return ratio, prefix

    scored = [(score(r), -i, r) for i, r in enumerate(ids)]
    best = max(scored)
    return best[2] if best[0][0] >= 0.6 else None


def _unknown(rule_id: str, value: object) -> InitErrorDetails:
    guess = suggest_rule_id(rule_id)
    hint = (
        f"; did you mean '{guess}'?"
        if guess
        else "; IDs look like J-10 or D-19 (allocator rules --all lists them)"
    )
    return InitErrorDetails(
        type=PydanticCustomError("unknown_rule", "unknown rule ID '{rule_id}'{hint}",
                                 {"rule_id": rule_id, "hint": hint}),
        loc=(rule_id,),
        input=value,
    )


def _no_exceptions(entry: CatalogueEntry, value: object) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError(
            "rule_takes_no_exceptions",
            "{rule_id} allows no exceptions: its clause ({source}) does not say 原则上 "
            "(in principle) and its catalogue kind is {kind}, not SOFT; remove the "
            "exceptions, or switch the rule off with active: false",
            {"rule_id": entry.rule_id, "source": entry.source, "kind": entry.catalogue_kind},
        ),
        loc=(entry.rule_id, "exceptions"),
        input=value,
    )


class RulesConfig(RootModel[dict[str, RuleSwitch]]):
    """Rule switches by catalogue ID (the ``rules:`` section); empty: every rule on."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={"propertyNames": {"pattern": "^[JDGNZ]-[0-9]{2}$"}},
    )

    root: dict[str, RuleSwitch] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_ids(self) -> RulesConfig:
        entries = catalogue()
        errors: list[InitErrorDetails] = []
        for rule_id, switch in self.root.items():
            entry = entries.get(rule_id)
            if entry is None:
                errors.append(_unknown(rule_id, rule_id))
            elif switch.exceptions and not exceptions_allowed(entry):
                errors.append(_no_exceptions(entry, [e.who for e in switch.exceptions]))
        if errors:
            raise ValidationError.from_exception_data("RulesConfig", errors)
        return self


class _HasRules(Protocol):
    @property
    def rules(self) -> RulesConfig: ...


def _section(config: RulesConfig | _HasRules) -> RulesConfig:
    return config if isinstance(config, RulesConfig) else config.rules


def active_rules(config: RulesConfig | _HasRules) -> frozenset[str]:
    """Catalogue IDs that are on: every catalogue rule except those with ``active: false``.

    Parameters
    ----------
    config
        The ``rules:`` section or a scenario holding one.
    """
    section = _section(config).root
    return frozenset(r for r in catalogue() if section.get(r, RuleSwitch()).active)


def rule_exceptions(config: RulesConfig | _HasRules, rule_id: str) -> tuple[RuleException, ...]:
    """The exceptions the scenario lists for ``rule_id`` (empty if none).

    Raises
    ------
    KeyError
        If ``rule_id`` is not in the catalogue.
    """
    if rule_id not in catalogue():
        raise KeyError(f"{rule_id} is not in the rule catalogue")
    switch = _section(config).root.get(rule_id)
    return switch.exceptions if switch is not None else ()


def switch_label(config: RulesConfig | _HasRules, rule_id: str) -> str:
    """``on``, ``off`` or ``on, 2 exceptions``: the scenario's setting for one rule."""
    switch = _section(config).root.get(rule_id, RuleSwitch())
    if not switch.active:
        return "off"
    count = len(switch.exceptions)
    return "on" if count == 0 else f"on, {count} exception{'s' if count > 1 else ''}"
