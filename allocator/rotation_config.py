"""The scenario's ``rotation:`` section: teacher staffing and rotation (issue #5).

A strict, frozen pydantic section (unknown keys are errors, values cannot change) that maps
onto :class:`~allocator.rotation_input.RotationPolicy` and
:class:`~allocator.rotation_input.RotationWeights`, plus the data files the run reads.
Every default is the policy's default (the documents' values), so a scenario states only
what differs::

    rotation:
      years: [2025, 2026, 2027, 2028, 2029]
      mode: distance            # or pairing (pairing arcs only)
      max_distance_km: 40
      nearest_receivers: 8
      rules_off: [D-19]         # rules this place's documents do not impose
      exceptions:
        - rules: [J-10]
          who: 440781-S040-T012       # a named teacher, or from_school + to_school
          why: 市教育局 2025-03 批准 (approved secondment)
      weights: {shortage: 100, travel: 0.05}
      data:
        teachers: {path: data/teachers.csv}
        pairings: {path: data/pairings.csv}
        school_attributes: {path: data/school_attributes.csv}
        regions: {path: data/counties.csv, county_column: adcode}

Paths are relative to the scenario file. The module imports nothing from
:mod:`allocator.scenario` (which imports it), so it defines its own strict base class.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from allocator.errors import Problem, raise_if_any
from allocator.rotation_input import (
    SWITCHABLE_RULES,
    RotationException,
    RotationPolicy,
    RotationWeights,
)
from allocator.rules import catalogue
from allocator.rules.config import RulesConfig, rule_exceptions, switch_honoured, switched_off

__all__ = [
    "LIFTABLE_RULES",
    "ExceptionConfig",
    "RegionTable",
    "RotationConfig",
    "RotationData",
    "RotationLayerRef",
    "RotationTableRef",
    "RotationWeightsConfig",
    "StaffedStage",
    "suggest_rule",
]

LIFTABLE_RULES: tuple[str, ...] = ("J-10", "G-12", "G-11")
"""Rules a listed exception can lift (the bans and the talent lock, all 原则上)."""

_POLICY = RotationPolicy()
_WEIGHTS = RotationWeights()
_ID = re.compile(r"^\s*([A-Za-z])\s*-?\s*0*(\d{1,3})\s*$")

Share01 = Annotated[float, Field(ge=0, le=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Year = Annotated[int, Field(ge=2000, le=2100)]
StaffedStage = Literal["primary", "junior", "senior"]


class _Strict(BaseModel):
    """Base of every part of the section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def suggest_rule(word: str, allowed: tuple[str, ...]) -> str:
    """Hint for a rule ID not in ``allowed``: the closest allowed or catalogue ID.

    ``j10`` and ``J10`` normalise to ``J-10``; a catalogue rule that is not allowed here
    gets an explanation instead of a guess.
    """
    match = _ID.match(word)
    normal = f"{match.group(1).upper()}-{int(match.group(2)):02d}" if match else word.upper()
    if normal in allowed:
        return f"; did you mean '{normal}'?"
    if normal in catalogue():
        return f"; {normal} is a catalogue rule but not one of {list(allowed)}"
    close = difflib.get_close_matches(normal, list(allowed), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else f"; allowed: {list(allowed)}"


def _check_rule_ids(values: list[str], allowed: tuple[str, ...]) -> list[str]:
    """Reject IDs not in ``allowed`` (one message for all, each with a suggestion)."""
    bad = [f"unknown rule ID '{v}'{suggest_rule(v, allowed)}" for v in values
           if v not in allowed]
    if bad:
        raise ValueError("; ".join(bad))
    return values


class RotationTableRef(_Strict):
    """A CSV table, by path relative to the scenario file."""

    path: str = Field(min_length=1)
    sheet: str | None = Field(None, description="Sheet of an Excel workbook (.xlsx); may be "
                              "left out when the workbook has one sheet.")


class RotationLayerRef(_Strict):
    """A CSV of points (``lon``, ``lat`` degrees), by path relative to the scenario file."""

    path: str = Field(min_length=1)
    sheet: str | None = Field(None, description="Sheet of an Excel workbook (.xlsx); may be "
                              "left out when the workbook has one sheet.")
    datum: Literal["wgs84", "cgcs2000", "gcj02"] = Field(
        "wgs84", description="Geodetic datum of lon/lat; gcj02 is converted to WGS-84.")


class RegionTable(_Strict):
    """County -> region table (e.g. Jiangmen's ``counties.csv``: adcode -> east / west)."""

    path: str = Field(min_length=1)
    sheet: str | None = Field(None, description="Sheet of an Excel workbook (.xlsx); may be "
                              "left out when the workbook has one sheet.")
    county_column: str = Field("county", min_length=1,
                               description="Column holding the county code of the schools.")
    region_column: str = Field("region", min_length=1, description="Column holding the region.")


class RotationData(_Strict):
    """Data files of the rotation run (CSV, UTF-8, one header row).

    ``teachers`` (roster) or ``teacher_counts`` is required. School flags ``urban``,
    ``high_quality``, ``weak``, ``centre`` and ``region`` come from ``school_attributes``
    (keyed by ``school_id``), else from columns of the schools layer; ``region`` else from
    ``regions`` (by county), else the county itself.
    """

    teachers: RotationTableRef | None = Field(
        None, description="Roster: teacher_id, school_id, subject, backbone, years_at_school; "
        "optional county, title, degree_above_required, talent_designation_year, researcher.")
    teacher_counts: RotationTableRef | None = Field(
        None, description="Counts: school_id, subject, backbone, eligible, count; optional "
        "degree_above_required.")
    pairings: RotationTableRef | None = Field(
        None, description="结对帮扶 arcs (J-17): pairing_id, level (county|school), from_id, "
        "to_id; directed supporter -> supported.")
    school_attributes: RotationTableRef | None = Field(
        None, description="school_id and any of urban, high_quality, weak, centre (flags), "
        "region.")
    regions: RegionTable | None = Field(None, description="County -> region table.")
    research_bodies: RotationLayerRef | None = Field(
        None, description="Research / teacher-development bodies (教研机构, J-15): school_id, "
        "county, lon, lat (degrees); optional region, centre.")

    @model_validator(mode="after")
    def _one_teacher_source(self) -> RotationData:
        if (self.teachers is None) == (self.teacher_counts is None):
            raise ValueError("give exactly one of teachers (a roster) and teacher_counts")
        return self


class ExceptionConfig(_Strict):
    """A listed exception to J-10, G-12 or G-11: who (or where), why, and when."""

    rules: list[str] = Field(min_length=1, description="Rule IDs lifted: J-10, G-12, G-11.")
    why: str = Field(min_length=1, description="The justification (approval, document).")
    who: str | None = Field(None, description="teacher_id of the named teacher.")
    from_school: str | None = Field(
        None, description="For a teacher: their school (optional); else the arc's source.")
    to_school: str | None = Field(
        None, description="The arc's target; for a teacher, none means any destination.")
    years: list[Year] = Field(default_factory=list,
                              description="Plan years it holds in; empty: every year.")

    @field_validator("rules")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return _check_rule_ids(value, LIFTABLE_RULES)

    @model_validator(mode="after")
    def _who_or_where(self) -> ExceptionConfig:
        if not self.why.strip():
            raise ValueError("why must say why the exception holds")
        if self.who is None and (self.from_school is None or self.to_school is None):
            raise ValueError("an exception names a teacher (who) or a school pair "
                             "(from_school and to_school)")
        return self

    def to_exception(self) -> RotationException:
        """The model's :class:`~allocator.rotation_input.RotationException`."""
        return RotationException(rules=tuple(self.rules), reason=self.why,
                                 teacher_id=self.who, from_school=self.from_school,
                                 to_school=self.to_school, years=tuple(self.years))


class RotationWeightsConfig(_Strict):
    """Objective weights (see :class:`~allocator.rotation_input.RotationWeights`)."""

    shortage: NonNegativeFloat = Field(_WEIGHTS.shortage,
                                       description="Per missing subject teacher and year.")
    rural_extra: NonNegativeFloat = Field(_WEIGHTS.rural_extra,
                                          description="Added shortage factor, rural schools.")
    weak_extra: NonNegativeFloat = Field(_WEIGHTS.weak_extra,
                                         description="Added shortage factor, weak schools.")
    backbone_gap: NonNegativeFloat = Field(
        _WEIGHTS.backbone_gap, description="Per per-mille point of regional backbone-share gap "
        "and year (J-02, G-02).")
    travel: NonNegativeFloat = Field(_WEIGHTS.travel, description="Per teacher-km moved.")
    disruption: NonNegativeFloat = Field(_WEIGHTS.disruption, description="Per move.")
    hire: NonNegativeFloat = Field(_WEIGHTS.hire, description="Per new hire.")
    elastic: NonNegativeFloat = Field(_WEIGHTS.elastic,
                                      description="Per unit of elastic slack (elastic runs).")
    elastic_by_rule: dict[str, NonNegativeFloat] = Field(
        default_factory=dict, description="Rule ID -> weight per unit of its slack.")

    @field_validator("elastic_by_rule")
    @classmethod
    def _rule_keys(cls, value: dict[str, float]) -> dict[str, float]:
        _check_rule_ids(list(value), SWITCHABLE_RULES)
        return value

    def to_weights(self) -> RotationWeights:
        """The model's :class:`~allocator.rotation_input.RotationWeights`."""
        values = self.model_dump()
        return RotationWeights(**values)


class RotationConfig(_Strict):
    """Teacher staffing and urban-rural rotation (CP-SAT; rules D-19, J-08, J-10, ...).

    Staffing ratios come from ``standards.staffing_ratios`` of the scenario; the solver's
    time limit and gap default to the ``solver`` section's.
    """

    years: list[Year] | None = Field(
        None, description="Plan years (ascending); default five years from the design year.")
    stages: list[StaffedStage] = Field(
        default_factory=lambda: ["primary", "junior"],  # type: ignore[arg-type]
        description="School stages staffed (each needs standards.staffing_ratios).")
    rotation_min_share: Share01 = Field(
        _POLICY.rotation_min_share, description="D-19: rotators >= this share of eligible "
        "teachers of each urban or high-quality school, every year.")
    backbone_min_share: Share01 = Field(
        _POLICY.backbone_min_share, description="D-19: backbone >= this share of rotators.")
    backbone_scope: Literal["school", "county"] = _POLICY.backbone_scope
    eligibility_years: NonNegativeInt = Field(
        _POLICY.eligibility_years, description="Years at the school from which a teacher is "
        "eligible to rotate.")
    backbone_school_min: Share01 = Field(
        _POLICY.backbone_school_min, description="J-08: backbone >= this share of teachers of "
        "each school and county.")
    backbone_basis: Literal["home", "present"] = _POLICY.backbone_basis
    talent_lock_years: NonNegativeInt = Field(_POLICY.talent_lock_years,
                                              description="G-11 lock, years.")
    researcher_years: NonNegativeInt = Field(_POLICY.researcher_years,
                                             description="J-15: years in post before a year "
                                             "of teaching.")
    small_school_pupils: NonNegativeInt = _POLICY.small_school_pupils
    small_school_teachers_per_class: NonNegativeFloat = _POLICY.small_school_teachers_per_class
    banned_region_pairs: list[tuple[str, str]] = Field(
        default_factory=lambda: [(a, b) for a, b in _POLICY.banned_region_pairs],
        description="J-10: [from region, to region] pairs no teacher moves along.")
    mode: Literal["distance", "pairing"] = Field(
        _POLICY.mode, description="distance: arcs within max_distance_km plus pairing arcs; "
        "pairing: pairing arcs only.")
    max_distance_km: NonNegativeFloat = Field(_POLICY.max_distance_km,
                                              description="Rotation distance limit, km.")
    nearest_receivers: Annotated[int, Field(gt=0)] | None = Field(
        _POLICY.nearest_receivers, description="Keep only this many nearest receivers per "
        "sender (a size option).")
    same_stage: bool = _POLICY.same_stage
    pairing_min_exchanges: NonNegativeInt = Field(
        _POLICY.pairing_min_exchanges, description="J-18: exchanges per pairing per year.")
    allow_transfers: bool = _POLICY.allow_transfers
    allow_hires: bool = _POLICY.allow_hires
    hire_cap_per_county: NonNegativeInt | None = _POLICY.hire_cap_per_county
    subject_shares: dict[str, dict[str, NonNegativeFloat]] | None = Field(
        None, description="Stage -> subject -> share of posts; default the roster's mix.")
    rules_off: list[str] = Field(
        default_factory=list, description=f"Rules switched off: any of {list(SWITCHABLE_RULES)}.")
    exceptions: list[ExceptionConfig] = Field(default_factory=list)
    weights: RotationWeightsConfig = Field(default_factory=RotationWeightsConfig)
    time_limit_s: Annotated[float, Field(gt=0)] | None = Field(
        None, description="CP-SAT time limit, s; default solver.time_limit_s.")
    relative_gap: Annotated[float, Field(ge=0, lt=1)] | None = Field(
        None, description="Relative gap; default solver.mip_gap.")
    workers: Annotated[int, Field(gt=0)] = Field(
        1, description="CP-SAT workers; above 1 the deterministic interleaved search is used.")
    elastic: Literal["off", "on_failure", "always"] = Field(
        "on_failure", description="Elastic re-solve naming the rules that must give: never, "
        "when the hard model has no solution, or always.")
    disaggregate: bool = Field(True, description="One rotations row per named teacher.")
    data: RotationData

    @field_validator("rules_off")
    @classmethod
    def _switchable(cls, value: list[str]) -> list[str]:
        return _check_rule_ids(value, SWITCHABLE_RULES)

    @field_validator("years")
    @classmethod
    def _ascending(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and (not value or value != sorted(set(value))):
            raise ValueError(f"years must be ascending without repeats, got {value}")
        return value

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: list[str]) -> list[str]:
        if not value or len(set(value)) != len(value):
            raise ValueError(f"stages must be non-empty without repeats, got {value}")
        return value

    def policy(self, *, years: tuple[int, ...], staffing_ratios: Mapping[str, float],
               rules: RulesConfig | None = None, schools: Collection[str] = (),
               source: str = "scenario") -> RotationPolicy:
        """The model's policy for ``years`` with the scenario's staffing ratios.

        With the scenario's ``rules:`` section, its switches join ``rules_off`` (J-08 only
        when G-10 is off too, D-21 only with Z-10: one row implements both) and its J-10
        and G-12 exceptions join ``exceptions`` after the section's own: ``who`` a school
        id of ``schools`` lifts the arc ``who -> where`` (``where`` must be a school id),
        any other ``who`` names a teacher (``where`` a school id: only that destination;
        else any). A rule switched off takes no exceptions.

        Raises
        ------
        InputError
            If a school's exception has no receiving school in ``where`` (``source`` names
            the scenario file).
        """
        shares = None if self.subject_shares is None else {
            stage: dict(mix) for stage, mix in self.subject_shares.items()}
        off = set(self.rules_off)
        listed = [e.to_exception() for e in self.exceptions]
        if rules is not None:
            off |= {r for r in SWITCHABLE_RULES if switch_honoured(rules, r)
                    and switched_off(rules, r)}
            listed += _rule_exceptions(rules, set(schools), off, source)
        return RotationPolicy(
            years=years, rotation_min_share=self.rotation_min_share,
            backbone_min_share=self.backbone_min_share, backbone_scope=self.backbone_scope,
            eligibility_years=self.eligibility_years, staffing_ratios=dict(staffing_ratios),
            small_school_pupils=self.small_school_pupils,
            small_school_teachers_per_class=self.small_school_teachers_per_class,
            backbone_school_min=self.backbone_school_min, backbone_basis=self.backbone_basis,
            talent_lock_years=self.talent_lock_years, researcher_years=self.researcher_years,
            banned_region_pairs=tuple((a, b) for a, b in self.banned_region_pairs),
            exceptions=tuple(listed), mode=self.mode,
            max_distance_km=self.max_distance_km, nearest_receivers=self.nearest_receivers,
            same_stage=self.same_stage, pairing_min_exchanges=self.pairing_min_exchanges,
            allow_transfers=self.allow_transfers, allow_hires=self.allow_hires,
            hire_cap_per_county=self.hire_cap_per_county, subject_shares=shares,
            rules_off=frozenset(off))


def _rule_exceptions(rules: RulesConfig, schools: set[str], off: set[str],
                     source: str) -> list[RotationException]:
    """J-10 and G-12 exceptions of the ``rules:`` section (see :meth:`RotationConfig.policy`)."""
    out: list[RotationException] = []
    problems: list[Problem] = []
    for rule_id in ("J-10", "G-12"):
        if rule_id in off:
            continue
        for i, item in enumerate(rule_exceptions(rules, rule_id)):
            who, where = item.who.strip(), item.where.strip()
            to_school = where if where in schools else None
            if who in schools and to_school is None:
                problems.append(Problem(source, f"key rules.{rule_id}.exceptions[{i}].where",
                                        f"{who} is a school, so where must name the receiving "
                                        "school (a school_id)", where))
                continue
            teacher = None if who in schools else who
            out.append(RotationException(
                rules=(rule_id,), reason=item.why, teacher_id=teacher,
                from_school=who if teacher is None else None, to_school=to_school,
                years=tuple(item.years)))
    raise_if_any(problems)
    return out
