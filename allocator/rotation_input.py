"""Inputs of the staffing and teacher-rotation model (see :mod:`allocator.rotation`).

Plain DataFrames plus three frozen option objects:

* :class:`RotationPolicy`: every rule parameter, named and defaulted from the seed documents
  (``reference/policy-rules.md``) and the national standards (``domain-standards.md``);
* :class:`RotationWeights`: the named objective weights;
* :class:`RotationException`: one listed exception to a ban (J-10, G-12) or to the talent
  lock (G-11), for a named teacher or a school pair, with the reason; every use is reported.

Frames (ids are compared as strings; column order does not matter, extra columns are
ignored):

``schools``
    ``school_id, county, region, stage, urban, high_quality, weak, centre`` and, for the
    distance mode without a ``distances`` frame, ``x_m, y_m`` (projected metric CRS,
    metres). ``stage`` is a key of ``RotationPolicy.staffing_ratios`` (``primary``,
    ``junior``, ``senior``) or ``research`` for a research / teacher-development body
    (教研机构), which has researchers but no pupils. Flags are booleans (or 0/1).
``enrolment``
    ``school_id, year, pupils, classes`` for every school (not research bodies) and year
    (pupils: persons; classes: count).
``teachers`` (roster) or ``teacher_counts``
    Roster: ``teacher_id, school_id, subject, backbone, years_at_school`` and optionally
    ``county`` (checked against the school), ``title`` (kept, not used),
    ``degree_above_required`` (empty: false), ``talent_designation_year`` (calendar year
    or empty), ``researcher`` (empty: whether the school is a research body). ``years_at_school``
    is the completed years at the current school (or, for researchers, in post) at the
    start of the first plan year. Counts: ``school_id, subject, backbone, eligible, count``
    and optionally ``degree_above_required`` (how many of ``count`` hold a degree above the
    one required); ``eligible`` rows are eligible (researchers: due under J-15) in every
    plan year, the others in none. Counts carry no talent designations (G-11 needs a
    roster).
``pairings`` (optional, J-17)
    ``pairing_id, level, from_id, to_id``: ``level`` is ``county`` (ids are counties) or
    ``school`` (ids are schools); directed from the supporting side to the supported side.
``distances`` (optional)
    ``from_school, to_school, distance_km`` (km); overrides straight-line distances.
``subject_posts`` (optional)
    ``school_id, year, subject, posts``: posts required by subject; by default the posts
    of a school are split by its stage's subject shares (see ``RotationPolicy``).
``county_posts`` (optional, D-21 / Z-10)
    ``county, year, posts``: approved post totals; by default the sum of the schools'
    required posts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import pandas as pd

__all__ = [
    "SWITCHABLE_RULES",
    "RotationException",
    "RotationInput",
    "RotationMode",
    "RotationPolicy",
    "RotationWeights",
]

RotationMode = Literal["distance", "pairing"]
"""``distance``: rotation arcs within ``max_distance_km`` or on a pairing arc;
``pairing``: pairing arcs only."""

SWITCHABLE_RULES: tuple[str, ...] = (
    "D-19", "J-08", "J-10", "G-12", "G-11", "J-15", "J-18", "J-27", "D-21",
)
"""Rules a scenario can switch off with ``RotationPolicy.rules_off``."""

_LIFTABLE = frozenset({"J-10", "G-12", "G-11"})


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    """Read-only copy of a mapping (so a frozen policy stays frozen)."""
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class RotationException:
    """A listed exception (原则上 rules allow them): who, where, why.

    Attributes
    ----------
    rules
        Rule IDs lifted: any of ``J-10``, ``G-12`` (bans) and ``G-11`` (talent lock).
    reason
        Why (document, approval); copied to the report.
    teacher_id
        The named teacher, or ``None`` for a school-pair exception.
    from_school, to_school
        The arc lifted; for a teacher, ``from_school`` is their school and ``to_school``
        ``None`` means any destination the rotation or transfer arcs would otherwise have.
        A school-pair exception needs both.
    years
        Plan years it holds in; empty: every year.
    """

    rules: tuple[str, ...]
    reason: str
    teacher_id: str | None = None
    from_school: str | None = None
    to_school: str | None = None
    years: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        """Check the rule IDs and that the exception names who or where."""
        unknown = sorted(set(self.rules) - _LIFTABLE)
        if not self.rules or unknown:
            raise ValueError(
                f"RotationException.rules must name J-10, G-12 or G-11; got {self.rules!r}"
            )
        if not self.reason.strip():
            raise ValueError("RotationException.reason must say why the exception holds")
        if self.teacher_id is None and (self.from_school is None or self.to_school is None):
            raise ValueError(
                "a RotationException names a teacher_id, or both from_school and to_school"
            )

    def holds_in(self, year: int) -> bool:
        """Whether the exception applies in ``year``."""
        return not self.years or year in self.years


@dataclass(frozen=True)
class RotationPolicy:
    """Rule parameters, each named and defaulted from the documents.

    Attributes
    ----------
    years
        Plan years (calendar years, ascending); ``None``: every year in ``enrolment``.
    rotation_min_share
        D-19: rotators of an urban or high-quality school per year >= this share of its
        eligible teachers, rounded up (default 0.10). Eligible: at least
        ``eligibility_years`` at the school at the start of the year (a rotation year
        counts, the teacher keeps the post; teachers transferred away do not count). A
        rotation lasts one school year, so a teacher may rotate again in a later year;
        the named plan sends those who have not rotated yet first.
    backbone_min_share
        D-19: backbone rotators >= this share of rotators, rounded up (default 0.20).
    backbone_scope
        D-19 backbone share per sending ``school`` (default, the catalogue's reading) or
        over the sending schools of a ``county``.
    eligibility_years
        Completed years at the school from which a teacher is eligible (default 6,
        national practice; the seeds leave it open).
    staffing_ratios
        J-27 / Z-09: pupils per post by stage (19 primary, 13.5 junior, 12.5 senior).
    small_school_pupils, small_school_teachers_per_class, small_school_stages
        Z-11: schools of these stages with fewer pupils get at least
        ``ceil(teachers_per_class × classes)`` posts (defaults 100, 1.8, primary;
        unverified provincial practice, see domain-standards.md §1).
    backbone_school_min
        J-08 / G-10: backbone teachers >= this share of the teachers of each school and
        county, rounded up (default 0.10).
    backbone_levels
        J-08 scopes: ``school``, ``county`` or both (default).
    backbone_basis
        What J-08 counts. ``home`` (default): the teachers holding a post at the school
        (本校), after transfers and hires; a rotating teacher keeps the home post (and
        stays the sending school's backbone), so rotations do not change it. ``present``:
        the teachers teaching at the school that year, rotations included (stricter and
        much harder for the solver). J-08 rows no move can change (e.g. ``home`` without
        transfers or hires) are not model rows: they are reported, with their violation
        if the input already breaks them.
    talent_lock_years
        G-11: years of service, counting the designation year, during which a designated
        talent stays in the same kind of school (default 5).
    talent_kind
        School columns whose values make up "the same kind of region and school" (default
        region, centre, urban, high_quality).
    researcher_years
        J-15: years in post after which a researcher teaches a year in a school (default
        5); the researcher goes in the year the count is reached (those already past it go
        in the first plan year), to a rural or weak school of the county or on a pairing.
    banned_region_pairs
        J-10: (from region, to region) pairs no teacher or researcher moves along (default
        west -> east).
    exceptions
        Listed exceptions; each use is reported.
    mode
        ``distance`` (default) or ``pairing``; see :data:`RotationMode`.
    max_distance_km
        Distance limit of rotation arcs in the distance mode (km; default 50, not from the
        documents).
    nearest_receivers
        Distance mode: keep only the nearest this many receivers of each sender (pairing
        arcs are always kept), or ``None`` for all; a size option for large runs.
    same_stage
        Rotation and transfer arcs join schools of the same stage only (default true).
    pairing_min_exchanges
        J-18: rotations per pairing arc per year (default 1).
    allow_transfers
        Permanent transfers within a county (J-29) from schools above their posts to
        schools below them (default false).
    allow_hires
        New hires per school, capped by the county's approved posts (D-21, Z-10; default
        false).
    hire_cap_per_county
        Hires per county per year (teachers), or ``None``.
    subject_shares
        Stage -> subject -> share of posts; ``None``: each stage's subject mix in the
        teacher input.
    pe_art_subjects
        Subjects counted by the PE and arts indicator (default pe, music, art).
    indicator_minimums
        优质均衡 minimum per 100 pupils by indicator and stage (degree 4.2 / 5.3, backbone 1,
        PE and arts 0.9).
    cv_thresholds
        Highest coefficient of variation by stage (0.50 primary, 0.45 junior).
    rules_off
        Rule IDs switched off (see :data:`SWITCHABLE_RULES`), e.g. ``{"J-10"}`` lifts the
        west -> east ban for everyone.
    """

    years: tuple[int, ...] | None = None
    rotation_min_share: float = 0.10
    backbone_min_share: float = 0.20
    backbone_scope: Literal["school", "county"] = "school"
    eligibility_years: int = 6
    staffing_ratios: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"primary": 19.0, "junior": 13.5, "senior": 12.5})
    )
    small_school_pupils: int = 100
    small_school_teachers_per_class: float = 1.8
    small_school_stages: tuple[str, ...] = ("primary",)
    backbone_school_min: float = 0.10
    backbone_levels: tuple[Literal["school", "county"], ...] = ("school", "county")
    backbone_basis: Literal["home", "present"] = "home"
    talent_lock_years: int = 5
    talent_kind: tuple[str, ...] = ("region", "centre", "urban", "high_quality")
    researcher_years: int = 5
    banned_region_pairs: tuple[tuple[str, str], ...] = (("west", "east"),)
    exceptions: tuple[RotationException, ...] = ()
    mode: RotationMode = "distance"
    max_distance_km: float = 50.0
    nearest_receivers: int | None = None
    same_stage: bool = True
    pairing_min_exchanges: int = 1
    allow_transfers: bool = False
    allow_hires: bool = False
    hire_cap_per_county: int | None = None
    subject_shares: Mapping[str, Mapping[str, float]] | None = None
    pe_art_subjects: tuple[str, ...] = ("pe", "music", "art")
    indicator_minimums: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: MappingProxyType({
            "degree_per100": _frozen({"primary": 4.2, "junior": 5.3}),
            "backbone_per100": _frozen({"primary": 1.0, "junior": 1.0}),
            "pe_art_per100": _frozen({"primary": 0.9, "junior": 0.9}),
        })
    )
    cv_thresholds: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"primary": 0.50, "junior": 0.45})
    )
    rules_off: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        """Reject values outside their ranges (all problems at once)."""
        problems: list[str] = []
        for name in ("rotation_min_share", "backbone_min_share", "backbone_school_min"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                problems.append(f"{name} must be in [0, 1], got {value}")
        for name in ("eligibility_years", "talent_lock_years", "researcher_years",
                     "small_school_pupils", "pairing_min_exchanges"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        for stage, ratio in self.staffing_ratios.items():
            if not (math.isfinite(ratio) and ratio > 0):
                problems.append(f"staffing_ratios[{stage!r}] must be > 0, got {ratio}")
        if not self.max_distance_km >= 0:
            problems.append(f"max_distance_km must be >= 0, got {self.max_distance_km}")
        if self.mode not in ("distance", "pairing"):
            problems.append(f"mode must be 'distance' or 'pairing', got {self.mode!r}")
        if self.backbone_basis not in ("home", "present"):
            problems.append(f"backbone_basis must be 'home' or 'present', got "
                            f"{self.backbone_basis!r}")
        if self.backbone_scope not in ("school", "county"):
            problems.append(f"backbone_scope must be 'school' or 'county', got "
                            f"{self.backbone_scope!r}")
        unknown = sorted(set(self.rules_off) - set(SWITCHABLE_RULES))
        if unknown:
            problems.append(f"rules_off: unknown or not switchable {unknown}; "
                            f"switchable: {list(SWITCHABLE_RULES)}")
        if self.years is not None and list(self.years) != sorted(set(self.years)):
            problems.append(f"years must be ascending without repeats, got {self.years}")
        if problems:
            raise ValueError("RotationPolicy: " + "; ".join(problems))

    def active(self, rule_id: str) -> bool:
        """Whether ``rule_id`` is switched on."""
        return rule_id not in self.rules_off


@dataclass(frozen=True)
class RotationWeights:
    """Objective weights (objective units per unit of each term).

    Attributes
    ----------
    shortage
        Per missing teacher (subject post) and year (default 100).
    rural_extra, weak_extra
        Added to 1 and multiplied into ``shortage`` for rural and for weak schools
        (defaults 1.0 and 0.5: a rural weak school's missing teacher weighs 250;
        J-30, D-04, D-20).
    backbone_gap
        Per per-mille point of the largest minus smallest regional backbone share, per
        year (default 2: one percentage point weighs 20; J-02, G-02).
    travel
        Per teacher-kilometre moved (default 0.05).
    disruption
        Per move (rotation, transfer), default 1.
    hire
        Per new hire (default 50).
    elastic
        Per unit of elastic slack (teacher, or teacher moved on a banned arc) of any rule
        (default 10,000), unless ``elastic_by_rule`` names the rule.
    elastic_by_rule
        Rule ID -> weight per unit of its slack.
    """

    shortage: float = 100.0
    rural_extra: float = 1.0
    weak_extra: float = 0.5
    backbone_gap: float = 2.0
    travel: float = 0.05
    disruption: float = 1.0
    hire: float = 50.0
    elastic: float = 10_000.0
    elastic_by_rule: Mapping[str, float] = field(default_factory=lambda: _frozen({}))

    def __post_init__(self) -> None:
        """Reject negative or non-finite weights."""
        values = {name: getattr(self, name) for name in (
            "shortage", "rural_extra", "weak_extra", "backbone_gap", "travel", "disruption",
            "hire", "elastic")}
        values.update({f"elastic_by_rule[{k}]": v for k, v in self.elastic_by_rule.items()})
        bad = {k: v for k, v in values.items() if not (math.isfinite(v) and v >= 0)}
        if bad:
            raise ValueError(f"RotationWeights must be finite and >= 0: {bad}")

    def penalty(self, rule_id: str) -> float:
        """Weight per unit of elastic slack of ``rule_id``."""
        return float(self.elastic_by_rule.get(rule_id, self.elastic))


@dataclass(frozen=True, eq=False)
class RotationInput:
    """Data of one staffing and rotation run (see the module docstring for the frames).

    Give exactly one of ``teachers`` (roster) and ``teacher_counts``.

    Attributes
    ----------
    schools, enrolment, teachers, teacher_counts, pairings, distances, subject_posts,
    county_posts
        The frames described in the module docstring.
    policy
        Rule parameters.
    weights
        Objective weights.
    disaggregate
        With a roster, report one row per named teacher (default); otherwise aggregated
        rows with a blank ``teacher_id``.
    """

    schools: pd.DataFrame
    enrolment: pd.DataFrame
    teachers: pd.DataFrame | None = None
    teacher_counts: pd.DataFrame | None = None
    pairings: pd.DataFrame | None = None
    distances: pd.DataFrame | None = None
    subject_posts: pd.DataFrame | None = None
    county_posts: pd.DataFrame | None = None
    policy: RotationPolicy = field(default_factory=RotationPolicy)
    weights: RotationWeights = field(default_factory=RotationWeights)
    disaggregate: bool = True
