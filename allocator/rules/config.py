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

The section is validated and recorded in the resolved scenario. The modules that read it
are listed in :data:`SWITCH_HONOURED_BY`: the siting model's input
(:mod:`allocator.plan_inputs`) drops the rows of the rules in :data:`SITING_SWITCHES`
that are off, and the rotation policy (:mod:`allocator.rotation_config`) switches off the
rules in :data:`ROTATION_SWITCHES`; J-20 exceptions name candidate sites that may open as
private, J-10 and G-12 exceptions name teachers or school pairs that may move. D-13 and
Z-18 cannot be switched off (:data:`FIXED_RULES`): a run refuses. Any other switch or
exception is recorded only (the audit reports a switched-off rule as ``not applicable``
and lifts findings an exception covers, but no model reads it);
:func:`switch_label` says which.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from allocator.rules import CatalogueEntry, catalogue

__all__ = [
    "FIXED_RULES",
    "HONOURED_EXCEPTIONS",
    "ROTATION_SWITCHES",
    "SHARED_ROWS",
    "SITING_SWITCHES",
    "SWITCH_HONOURED_BY",
    "RuleException",
    "RuleSwitch",
    "RulesConfig",
    "active_rules",
    "exceptions_allowed",
    "rule_exceptions",
    "suggest_rule_id",
    "switch_honoured",
    "switch_label",
    "switch_summary",
    "switched_off",
]

SWITCH_HONOURED_BY: tuple[str, ...] = ("allocator.plan_inputs", "allocator.rotation_config")
"""Modules that read the ``rules:`` switches and exceptions and pass them to the models."""

SITING_SWITCHES: dict[str, str] = {
    "J-20": "private options of compulsory stages may open and private schools expand",
    "D-23": "migrant children may take private seats",
    "N-01": "no capital budget (planning.budget_by_year and budget_cny are ignored)",
    "N-02": "no project counts (planning.projects_per_year is ignored)",
    "J-04": "its seat targets are dropped",
    "G-03": "its seat targets are dropped",
    "N-03": "its seat targets are dropped",
    "D-06": "its new-school counts are dropped",
    "N-12": "its public-share targets are dropped",
    "N-05": "no school-size limit (standards.max_school_classes is ignored)",
    "D-10": "a school may close in a period when a site of its catchment opens",
}
"""Rules the siting model drops when switched off, and what that means."""

ROTATION_SWITCHES: tuple[str, ...] = (
    "D-19", "J-08", "J-10", "G-12", "G-11", "J-15", "J-18", "J-27", "D-21",
)
"""Rules the rotation model drops when switched off (its ``SWITCHABLE_RULES``)."""

SHARED_ROWS: dict[str, str] = {"J-08": "G-10", "G-10": "J-08", "D-21": "Z-10", "Z-10": "D-21"}
"""Rules implemented by one row: the row goes only when both are off."""

FIXED_RULES: dict[str, str] = {
    "D-13": "the class cap turns classes into seats, so the siting model cannot run "
            "without it; raise standards.class_caps instead",
    "Z-18": "the lowered caps are D-13's caps of those years; remove the entries of "
            "standards.class_caps_by_year instead",
}
"""Rules a scenario may not switch off, with the reason and what to do instead."""

HONOURED_EXCEPTIONS: tuple[str, ...] = ("J-20", "J-10", "G-12")
"""Rules whose listed exceptions a model reads (J-20: siting; J-10, G-12: rotation)."""

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


def switched_off(config: RulesConfig | _HasRules, rule_id: str) -> bool:
    """Whether the scenario switches ``rule_id`` off (``active: false``)."""
    return not _section(config).root.get(rule_id, RuleSwitch()).active


def switch_honoured(config: RulesConfig | _HasRules, rule_id: str) -> bool:
    """Whether switching ``rule_id`` off removes a model row in this scenario.

    True for the rules of :data:`SITING_SWITCHES` and :data:`ROTATION_SWITCHES`, and for a
    rule of :data:`SHARED_ROWS` only when its partner is off too (``G-10`` alone leaves
    the row ``J-08`` also requires).
    """
    partner = SHARED_ROWS.get(rule_id)
    if partner is not None:
        return switched_off(config, rule_id) and switched_off(config, partner)
    return rule_id in SITING_SWITCHES or rule_id in ROTATION_SWITCHES


def switch_label(config: RulesConfig | _HasRules, rule_id: str) -> str:
    """The scenario's setting for one rule, as the ``on/off`` column shows it.

    ``on``, ``on, 2 exceptions``; ``off`` when a model drops the rule; ``off (recorded
    only)`` when no model reads the switch (the audit still reports the rule as not
    applicable); ``off (kept: G-10 on)`` for a row two rules share; ``off (refused)``
    for :data:`FIXED_RULES`.
    """
    switch = _section(config).root.get(rule_id, RuleSwitch())
    if not switch.active:
        if rule_id in FIXED_RULES:
            return "off (refused)"
        partner = SHARED_ROWS.get(rule_id)
        if partner is not None and not switched_off(config, partner):
            return f"off (kept: {partner} on)"
        return "off" if switch_honoured(config, rule_id) else "off (recorded only)"
    count = len(switch.exceptions)
    return "on" if count == 0 else f"on, {count} exception{'s' if count > 1 else ''}"


def switch_summary() -> str:
    """What a ``rules:`` switch or exception does, in a few sentences (for docs and the CLI)."""
    siting = ", ".join(SITING_SWITCHES)
    rotation = ", ".join(ROTATION_SWITCHES)
    fixed = " and ".join(FIXED_RULES)
    return (f"Switching a rule off drops its rows in the siting model ({siting}) or the "
            f"rotation model ({rotation}); J-08 / G-10 and D-21 / Z-10 share one row each, "
            f"dropped only when both are off. {fixed} cannot be switched off (a run refuses). "
            "Any other switch is recorded only: the on/off column says \"off (recorded "
            "only)\", and the audit reports the rule as not applicable. Exceptions reach the "
            "models for J-20 (candidate sites that may open as private) and J-10, G-12 "
            "(teachers or school pairs that may move); every exception is listed in "
            "exceptions.csv with where it was used, and lifts the audit findings it covers.")
