"""Rule parameters of the audit, read from a scenario as plain data.

The audit reads the scenario (a :class:`~allocator.scenario.Scenario`, a
:class:`~allocator.scenario.ResolvedScenario` or the resolved YAML as a mapping, e.g.
``scenario.resolved.yaml`` of a results directory) through its dumped form, so it depends
on key names only, never on the model code. Keys read (units in brackets):

``planning``
    ``periods``, ``stages``, ``budget_cny`` (horizon total, CNY), ``budget_by_year``
    (CNY per period year, N-01), ``budget_carry_over``, ``projects_per_year`` (N-02),
    ``projects_sense`` (``exact``, ``at_least``, ``at_most``), ``seat_targets``
    (``[{rule, stages, year, min_seats}]``, J-04 / G-03 / N-03), ``new_school_counts``
    (``[{rule, stage, year, count, sense}]``, D-06), ``public_share_targets``
    (``[{rule, stage, year, min_share}]``, N-12; share a fraction), ``allow_closures``,
    ``public_only_stages`` (J-20, D-23; default primary and junior).
``standards``
    ``class_caps`` and ``class_caps_by_year`` (pupils per class; D-13, Z-18),
    ``travel_limits_m`` (metres by stage and setting, D-07), ``max_school_classes``
    (classes by stage, N-05).
``rotation`` (or ``rotation.policy``)
    ``rotation_min_share``, ``backbone_min_share``, ``backbone_scope``,
    ``eligibility_years`` (D-19), ``backbone_school_min``, ``backbone_levels``,
    ``backbone_basis`` (J-08),
    ``banned_region_pairs`` (J-10), ``pairing_min_exchanges`` (J-18), ``rules_off`` and
    ``exceptions`` (``[{rules, who, why, from_school, to_school, years}]``, ``who`` being
    a teacher id), as in :mod:`allocator.rotation_config`.
``rules``
    ``{ID: {active, exceptions: [{who, where, why, years}]}}`` (the scenario's rule
    switches, :mod:`allocator.rules.config`).

A key that is missing takes the documents' default (stated per field).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from pydantic import BaseModel

from allocator.scenario import ResolvedScenario, Scenario

__all__ = [
    "SENSES",
    "AuditParams",
    "CountTargetSpec",
    "ExceptionSpec",
    "RotationParams",
    "SeatTargetSpec",
    "ShareTargetSpec",
    "SitingParams",
    "ceil_share",
    "params_from_config",
]

SENSES: Mapping[str, str] = {"exact": "=", "at_least": ">=", "at_most": "<=",
                             "=": "=", ">=": ">=", "<=": "<="}
"""Scenario sense words to the audit's comparison signs."""


def ceil_share(share: float, count: float) -> int:
    """``ceil(share × count)`` computed exactly for decimal shares (0.1 × 30 = 3, not 4)."""
    exact = Fraction(str(share)).limit_denominator(10_000) * Fraction(str(count))
    return math.ceil(exact)


@dataclass(frozen=True)
class SeatTargetSpec:
    """Cumulative new public seats of ``stages`` by ``year`` >= ``min_seats`` (persons)."""

    rule_id: str
    stages: tuple[str, ...]
    year: int
    min_seats: float


@dataclass(frozen=True)
class CountTargetSpec:
    """New schools serving ``stage`` opened by ``year`` compared with ``count``."""

    rule_id: str
    stage: str
    year: int
    count: int
    sense: str = "="


@dataclass(frozen=True)
class ShareTargetSpec:
    """Enrolled children of ``stage`` in public schools in ``year`` / all >= ``min_share``."""

    rule_id: str
    stage: str
    year: int
    min_share: float


@dataclass(frozen=True)
class ExceptionSpec:
    """One listed exception to a rule, from the ``rules:`` or the ``rotation:`` section.

    Attributes
    ----------
    rules
        Rule IDs it lifts.
    who
        Identifiers or names that must match the finding (a school, site, teacher or
        county id, or a name); empty when the exception names an arc instead.
    where
        Where it applies (free text from the ``rules:`` section; reported, not matched).
    why
        The justification, copied to the audit message.
    years
        Plan years it holds in; empty: every year.
    teacher_id, from_school, to_school
        Rotation exceptions: a named teacher, and/or the arc ``from_school -> to_school``
        (``to_school`` ``None``: any destination).
    """

    rules: tuple[str, ...]
    why: str
    who: tuple[str, ...] = ()
    where: str = ""
    years: tuple[int, ...] = ()
    teacher_id: str | None = None
    from_school: str | None = None
    to_school: str | None = None

    def holds_in(self, year: int | None) -> bool:
        """Whether the exception holds in ``year`` (``None``: a finding without a year)."""
        return not self.years or year is None or year in self.years

    def covers(self, rule_id: str, ids: Sequence[str], year: int | None) -> bool:
        """Whether it lifts ``rule_id`` for a finding with these identifiers in ``year``."""
        if rule_id not in self.rules or not self.holds_in(year):
            return False
        return bool(self.who) and any(name in ids for name in self.who)

    def covers_move(self, rule_id: str, teacher_id: str, from_school: str, to_school: str,
                    year: int) -> bool:
        """Whether it lifts ``rule_id`` for one move of a teacher (or an aggregated row)."""
        if rule_id not in self.rules or not self.holds_in(year):
            return False
        if self.teacher_id is not None:
            return (self.teacher_id == teacher_id
                    and self.from_school in (None, from_school)
                    and self.to_school in (None, to_school))
        if self.from_school is not None:
            return self.from_school == from_school and self.to_school in (None, to_school)
        return any(name in (teacher_id, from_school, to_school) for name in self.who)


@dataclass(frozen=True)
class SitingParams:
    """Siting rule parameters (see the module docstring for the keys)."""

    periods: tuple[int, ...] = ()
    stages: tuple[str, ...] = ()
    base_caps: Mapping[str, int] = field(default_factory=dict)
    caps_by_year: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    travel_limits: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    max_classes: Mapping[str, int] = field(default_factory=dict)
    budget_by_year: Mapping[int, float] = field(default_factory=dict)
    budget_total: float | None = None
    carry_over: bool = False
    projects_per_year: Mapping[int, int] = field(default_factory=dict)
    projects_sense: str = "<="
    seat_targets: tuple[SeatTargetSpec, ...] = ()
    count_targets: tuple[CountTargetSpec, ...] = ()
    share_targets: tuple[ShareTargetSpec, ...] = ()
    public_only_stages: tuple[str, ...] = ("primary", "junior")
    allow_closures: bool = False

    def cap(self, stage: str, year: int) -> int | None:
        """Class cap of a stage in a year (pupils per class).

        Class cap of ``stage`` in ``year``: the latest ``class_caps_by_year`` entry at or
        before ``year``, else ``class_caps`` (pupils per class; ``None`` if neither).
        """
        by_year = self.caps_by_year.get(stage, {})
        earlier = [y for y in by_year if y <= year]
        if earlier:
            return by_year[max(earlier)]
        return self.base_caps.get(stage)


@dataclass(frozen=True)
class RotationParams:
    """Rotation rule parameters with the documents' defaults (D-19, J-08, J-10, J-18).

    ``backbone_basis`` says what J-08 counts: ``home`` (teachers holding a post at the
    school) or ``present`` (teachers teaching there that year, rotations included).
    """

    rotation_min_share: float = 0.10
    backbone_min_share: float = 0.20
    backbone_scope: str = "school"
    eligibility_years: int = 6
    backbone_school_min: float = 0.10
    backbone_levels: tuple[str, ...] = ("school", "county")
    backbone_basis: str = "home"
    banned_region_pairs: tuple[tuple[str, str], ...] = (("west", "east"),)
    pairing_min_exchanges: int = 1


@dataclass(frozen=True)
class AuditParams:
    """Everything the audit takes from a scenario.

    Attributes
    ----------
    siting, rotation
        Rule parameters.
    inactive
        Rule IDs switched off (``rules: {ID: {active: false}}`` or ``rotation.rules_off``).
    exceptions
        Listed exceptions of both sections.
    """

    siting: SitingParams = field(default_factory=SitingParams)
    rotation: RotationParams = field(default_factory=RotationParams)
    inactive: frozenset[str] = frozenset()
    exceptions: tuple[ExceptionSpec, ...] = ()

    def active(self, rule_id: str) -> bool:
        """Whether ``rule_id`` is switched on."""
        return rule_id not in self.inactive


ConfigLike = Scenario | ResolvedScenario | Mapping[str, Any] | AuditParams | None


def _as_dict(config: ConfigLike) -> dict[str, Any]:
    if config is None:
        return {}
    if isinstance(config, ResolvedScenario):
        config = config.config
    if isinstance(config, BaseModel):
        dumped: dict[str, Any] = config.model_dump(mode="json")
        return dumped
    return dict(config)  # type: ignore[arg-type]


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    return value if isinstance(value, Mapping) else {}


def _years(mapping: Any) -> dict[int, float]:
    if not isinstance(mapping, Mapping):
        return {}
    return {int(k): float(v) for k, v in mapping.items() if v is not None}


def _per_stage(mapping: Any) -> dict[str, Any]:
    if not isinstance(mapping, Mapping):
        return {}
    return {str(k): v for k, v in mapping.items() if v is not None}


def _siting(data: Mapping[str, Any]) -> SitingParams:
    planning = _section(data, "planning")
    standards = _section(data, "standards")
    periods = tuple(int(y) for y in planning.get("periods") or ())
    if not periods and planning.get("design_year") is not None:
        periods = (int(planning["design_year"]),)
    caps_by_year = {stage: {int(y): int(c) for y, c in by_year.items()}
                    for stage, by_year in _per_stage(standards.get("class_caps_by_year")).items()
                    if isinstance(by_year, Mapping)}
    limits = {stage: {str(s): float(v) for s, v in value.items()}
              for stage, value in _per_stage(standards.get("travel_limits_m")).items()
              if isinstance(value, Mapping)}
    seat_targets = tuple(
        SeatTargetSpec(str(t["rule"]), tuple(str(s) for s in t["stages"]), int(t["year"]),
                       float(t["min_seats"]))
        for t in planning.get("seat_targets") or ())
    count_targets = tuple(
        CountTargetSpec(str(t["rule"]), str(t["stage"]), int(t["year"]), int(t["count"]),
                        SENSES[str(t.get("sense", "exact"))])
        for t in planning.get("new_school_counts") or ())
    share_targets = tuple(
        ShareTargetSpec(str(t["rule"]), str(t["stage"]), int(t["year"]), float(t["min_share"]))
        for t in planning.get("public_share_targets") or ())
    total = planning.get("budget_cny")
    public_only = planning.get("public_only_stages")
    return SitingParams(
        periods=periods,
        stages=tuple(str(s) for s in planning.get("stages") or ()),
        base_caps={k: int(v) for k, v in _per_stage(standards.get("class_caps")).items()},
        caps_by_year=caps_by_year,
        travel_limits=limits,
        max_classes={k: int(v) for k, v in
                     _per_stage(standards.get("max_school_classes")).items()},
        budget_by_year=_years(planning.get("budget_by_year")),
        budget_total=None if total is None else float(total),
        carry_over=bool(planning.get("budget_carry_over", False)),
        projects_per_year={y: int(v) for y, v in
                           _years(planning.get("projects_per_year")).items()},
        projects_sense=SENSES[str(planning.get("projects_sense", "at_most"))],
        seat_targets=seat_targets,
        count_targets=count_targets,
        share_targets=share_targets,
        public_only_stages=(("primary", "junior") if public_only is None
                            else tuple(str(s) for s in public_only)),
        allow_closures=bool(planning.get("allow_closures", False)),
    )


def _rotation(data: Mapping[str, Any]) -> tuple[RotationParams, frozenset[str],
                                                 list[ExceptionSpec]]:
    section = dict(_section(data, "rotation"))
    section.update(_section(section, "policy"))
    defaults = RotationParams()
    pairs = section.get("banned_region_pairs")
    params = RotationParams(
        rotation_min_share=float(section.get("rotation_min_share",
                                             defaults.rotation_min_share)),
        backbone_min_share=float(section.get("backbone_min_share",
                                             defaults.backbone_min_share)),
        backbone_scope=str(section.get("backbone_scope", defaults.backbone_scope)),
        eligibility_years=int(section.get("eligibility_years", defaults.eligibility_years)),
        backbone_school_min=float(section.get("backbone_school_min",
                                              defaults.backbone_school_min)),
        backbone_levels=tuple(str(v) for v in section.get("backbone_levels",
                                                           defaults.backbone_levels)),
        backbone_basis=str(section.get("backbone_basis", defaults.backbone_basis)),
        banned_region_pairs=(defaults.banned_region_pairs if pairs is None
                             else tuple((str(a), str(b)) for a, b in pairs)),
        pairing_min_exchanges=int(section.get("pairing_min_exchanges",
                                              defaults.pairing_min_exchanges)),
    )
    off = frozenset(str(r) for r in section.get("rules_off") or ())
    exceptions = []
    for item in section.get("exceptions") or ():
        teacher = item.get("who", item.get("teacher_id"))
        exceptions.append(ExceptionSpec(
            rules=tuple(str(r) for r in item.get("rules") or ()),
            why=str(item.get("why", item.get("reason", ""))),
            who=tuple(str(v) for v in (teacher, item.get("from_school")) if v is not None),
            years=tuple(int(y) for y in item.get("years") or ()),
            teacher_id=None if teacher is None else str(teacher),
            from_school=None if item.get("from_school") is None else str(item["from_school"]),
            to_school=None if item.get("to_school") is None else str(item["to_school"]),
        ))
    return params, off, exceptions


def _switches(data: Mapping[str, Any]) -> tuple[frozenset[str], list[ExceptionSpec]]:
    off: set[str] = set()
    exceptions = []
    for rule_id, switch in _section(data, "rules").items():
        if not isinstance(switch, Mapping):
            continue
        if not switch.get("active", True):
            off.add(str(rule_id))
        for item in switch.get("exceptions") or ():
            exceptions.append(ExceptionSpec(
                rules=(str(rule_id),), why=str(item.get("why", "")),
                who=(str(item.get("who", "")),), where=str(item.get("where", "")),
                years=tuple(int(y) for y in item.get("years") or ())))
    return frozenset(off), exceptions


def params_from_config(config: ConfigLike) -> AuditParams:
    """The audit's parameters from a scenario (object or mapping); defaults where missing.

    Parameters
    ----------
    config
        A scenario, a resolved scenario, the resolved scenario as a mapping, ready-made
        :class:`AuditParams` (returned as they are) or ``None`` (every default).
    """
    if isinstance(config, AuditParams):
        return config
    data = _as_dict(config)
    rotation, rotation_off, rotation_exceptions = _rotation(data)
    rules_off, rule_exceptions = _switches(data)
    return AuditParams(siting=_siting(data), rotation=rotation,
                       inactive=rotation_off | rules_off,
                       exceptions=(*rule_exceptions, *rotation_exceptions))
