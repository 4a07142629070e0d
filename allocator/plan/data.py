"""Input and result types of the multi-period, multi-stage siting model.

This module is the contract between the model (:mod:`allocator.plan`), the pipeline that
fills it from a scenario, the greedy warm start and the result tables. Ids are compared
as strings. Units: children and seats in persons, distances in metres, money in CNY,
years as calendar years.

Periods
-------
``periods`` are the milestone years ``t1 < t2 < ...`` (for example 2023, 2024, 2025 or
2025, 2027, 2030). A project (opening, expansion, closure) "in period t" is finished by
year ``t``: its seats count from year ``t`` on and never go away again (opening is
irreversible). Demand, class caps and budgets are given per period year.

Input frames
------------
demand
    ``zone_id, stage, year, children, migrant``: children of a zone and stage in a period
    year (persons, >= 0); ``migrant`` (optional column, default 0) are the migrant children
    among them (随迁子女, D-23), ``0 <= migrant <= children``.
caps
    ``stage, year, cap``: pupils per class of a stage in a period year (D-13); one row per
    demand stage and period; non-increasing in year (Z-18).
existing
    ``school_id, stage, classes, max_classes, module_classes, module_cost_cny, ownership,
    closable``: one row per existing school and stage it serves (a nine-year school has a
    primary and a junior row). ``classes`` are today's classes of that stage;
    ``max_classes`` caps the school's total classes over all its stages after expansion
    (land and size limit, same value on every row of a school; NaN = no expansion);
    ``module_classes`` (classes per expansion module, > 0) and ``module_cost_cny`` (CNY per
    module) price expansion of that stage; ``ownership`` is ``public`` or ``private``;
    ``closable`` (bool) allows closure when :attr:`PlanRules.allow_closures` is on.
    Optional columns (same value on every row of a school): ``closure_value_cny`` (CNY,
    default 0) is what closing the school is worth (land released, running cost saved); it
    enters the objective as a negative capital cost, never the budget; ``closure_year``
    (a period year, default NaN) is a closure already decided outside the model (an
    approved merger): the school closes in that period whatever ``allow_closures`` says.
options
    ``site_id, option_id, stage, classes, cost_cny, ownership``: one row per stage of a
    size option of a candidate site. A nine-year option has a primary and a junior row
    under one ``option_id``; ``cost_cny`` is the option's whole capital cost, repeated on
    each of its rows; ``ownership`` (optional column, default ``public``). A site opens at
    most once, with one option, in one period.
pairs
    ``zone_id, school_id, stage, distance_m``: the feasible zone–school pairs (within the
    stage's travel limit, D-07); ``school_id`` is an existing school or a candidate site
    serving that stage. The same pairs serve every period.
catchment
    ``school_id, site_id``: existing schools and candidate sites that share a catchment
    (D-10: no closure of the school in a period in which the site opens). Optional.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from allocator.solvers import SolveInfo

__all__ = [
    "CountTarget",
    "PlanInput",
    "PlanResult",
    "PlanRules",
    "PlanWeights",
    "SeatTarget",
    "Sense",
    "ShareTarget",
]

Sense = Literal["exact", "at_least", "at_most"]
"""How a count is bounded: ``=``, ``>=`` or ``<=`` the given number."""


@dataclass(frozen=True)
class SeatTarget:
    """Cumulative new public seats by a year (J-04, G-03, N-03).

    ``Σ_{g ∈ stages} (classes opened or added by year) × cap[g, year] >= min_seats``: new
    seats of candidate sites opened and of expansion modules added in periods up to and
    including ``year``, counted at the class cap of ``year``; public seats only.

    Attributes
    ----------
    rule_id
        Catalogue ID the target comes from, e.g. ``"J-04"``.
    stages
        Stages the target covers (one or several).
    year
        The target year; a period year.
    min_seats
        New seats required (persons, >= 0).
    """

    rule_id: str
    stages: tuple[str, ...]
    year: int
    min_seats: float


@dataclass(frozen=True)
class CountTarget:
    """Number of new schools serving a stage opened by a year (D-06).

    ``Σ_{c, k: k serves stage} Σ_{t <= year} open[c, k, t]`` compared with ``count`` by
    ``sense``. A nine-year option counts for both its stages.

    Attributes
    ----------
    rule_id
        Catalogue ID, e.g. ``"D-06"``.
    stage
        Stage counted.
    year
        Count schools opened in periods up to this year (a period year).
    count
        The number.
    sense
        ``exact`` (default), ``at_least`` or ``at_most``.
    """

    rule_id: str
    stage: str
    year: int
    count: int
    sense: Sense = "exact"


@dataclass(frozen=True)
class ShareTarget:
    """Least share of a stage's children in public schools in a year (N-12).

    ``Σ_{z, s public} x[z, s, g, Y] >= min_share · Σ_z d[z, g, Y]``: children of stage
    ``g`` assigned to public schools and opened public sites in year ``Y`` (persons)
    against ``min_share`` times the stage's children of that year in zones that reach
    some school or site of ``g`` (seated or not). With every child seated this is the
    documents' enrolment share (公办率) ``Σ public x / Σ x >= min_share``; counting the
    unseated children too keeps the model from reaching the share by leaving children
    without a seat. A site counts as public when every option of it that serves ``g`` is
    public. Units: children (persons); the share is a fraction. In elastic mode the slack
    is in children: how many more children would need a public seat.

    Attributes
    ----------
    rule_id
        Catalogue ID the target comes from, e.g. ``"N-12"``.
    stage
        Stage the share is of (``kindergarten`` for N-12).
    year
        The target year; a period year.
    min_share
        Least share, a fraction ``0 <= min_share <= 1`` (0.55 = 55 %).
    ownership
        Whose share is bounded: ``public`` (default) or ``private`` (the formula with
        ``s private``).
    """

    rule_id: str
    stage: str
    year: int
    min_share: float
    ownership: str = "public"


@dataclass(frozen=True)
class PlanRules:
    """Which rules are in force and their parameters (rule IDs in brackets).

    Attributes
    ----------
    budget_by_period
        Capital budget per period year (CNY, N-01); a period not listed has no cap.
    budget_total
        Cap on the capital cost of the whole horizon (CNY), or ``None``.
    carry_over
        Unspent budget carries into later periods: ``Σ_{t' <= t} spend[t'] <=
        Σ_{t' <= t} budget[t']`` instead of ``spend[t] <= budget[t]``.
    projects_by_period
        Projects per period year (N-02): an opened site counts one, an expanded school one
        per period in which it adds modules.
    projects_sense
        How ``projects_by_period`` bounds the count.
    seat_targets
        Cumulative new-seat targets (J-04, G-03, N-03).
    count_targets
        New-school counts (D-06).
    share_targets
        Least public shares of a stage's children by year (N-12).
    allow_closures
        Closures of ``closable`` schools are decisions (off by default); with them D-10
        forbids closing a school in a period when a site of its catchment opens.
    public_only_stages
        Stages whose new capacity must be public (J-20): private options never open and
        private schools are not expanded for these stages.
    migrant_public
        Migrant children of the stages in ``public_only_stages`` go to public schools only
        (D-23).
    max_classes_by_stage
        Largest school of a stage in classes (N-05 size limit): options above it are
        rejected, and a school's classes of that stage never exceed it after expansion.
    private_allowed
        J-20 exceptions: candidate site id -> the period years in which its private
        options may open although they serve a public-only stage (empty tuple: any
        period). They stay private: no seat target counts them and D-23 keeps migrant
        children out of them.
    elastic
        Give every hard rule and target a named, penalised slack (per rule and scope)
        instead of making the model infeasible; the result reports the slacks.
    """

    budget_by_period: Mapping[int, float] = field(default_factory=dict)
    budget_total: float | None = None
    carry_over: bool = False
    projects_by_period: Mapping[int, int] = field(default_factory=dict)
    projects_sense: Sense = "exact"
    seat_targets: tuple[SeatTarget, ...] = ()
    count_targets: tuple[CountTarget, ...] = ()
    share_targets: tuple[ShareTarget, ...] = ()
    allow_closures: bool = False
    public_only_stages: tuple[str, ...] = ("primary", "junior")
    migrant_public: bool = True
    max_classes_by_stage: Mapping[str, int] = field(default_factory=dict)
    private_allowed: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    elastic: bool = False


@dataclass(frozen=True)
class PlanWeights:
    """Objective weights; every term is named.

    Attributes
    ----------
    unmet_penalty
        Objective units per child-period without a seat (weighted mode only).
    cost_weight
        Objective units per CNY of capital cost (1e-6: one unit per million CNY).
    travel_weight
        Objective units per child·metre of travel, summed over periods.
    equity_weight
        Objective units per unit of the largest unmet share ``u / d`` over zones, stages
        and periods (0 = off).
    elastic_penalty
        Objective units per unit of elastic slack (seats, CNY, projects or schools) when
        :attr:`PlanRules.elastic` is on; ranked before cost in lexicographic mode.
    elastic_penalty_by_rule
        Per-rule override of ``elastic_penalty`` keyed by rule ID (e.g. ``{"N-01": 1e-6}``:
        a budget may give at one unit per million CNY); rules not listed use
        ``elastic_penalty``. Units differ by rule (CNY for N-01, seats for J-04 ...), so
        this decides which rule gives first when several conflict.
    """

    unmet_penalty: float = 1e6
    cost_weight: float = 1e-6
    travel_weight: float = 1e-5
    equity_weight: float = 0.0
    elastic_penalty: float = 1e3
    elastic_penalty_by_rule: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Reject negative or non-finite weights."""
        for name in ("unmet_penalty", "cost_weight", "travel_weight", "equity_weight",
                     "elastic_penalty"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"PlanWeights.{name} must be finite and >= 0, got {value}")
        for rule_id, value in self.elastic_penalty_by_rule.items():
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(
                    f"PlanWeights.elastic_penalty_by_rule[{rule_id!r}] must be finite and "
                    f">= 0, got {value}"
                )

    def elastic_penalty_of(self, rule_id: str) -> float:
        """Penalty per unit of elastic slack of ``rule_id`` (objective units per unit)."""
        return float(self.elastic_penalty_by_rule.get(rule_id, self.elastic_penalty))


@dataclass(frozen=True, eq=False)
class PlanInput:
    """Data of one multi-period siting run (frames described in the module docstring).

    Attributes
    ----------
    periods
        Milestone years, strictly increasing.
    demand, caps, existing, options, pairs, catchment
        The input frames.
    rules
        Rules in force and their parameters.
    weights
        Objective weights.
    lexicographic
        Phase 1 minimises unmet children (plus elastic slack, if any); phase 2 holds it and
        minimises cost, travel and equity.
    warm_start
        Give the solver a greedy incumbent (:mod:`allocator.plan.greedy`).
    """

    periods: tuple[int, ...]
    demand: pd.DataFrame
    caps: pd.DataFrame
    existing: pd.DataFrame
    options: pd.DataFrame
    pairs: pd.DataFrame
    catchment: pd.DataFrame | None = None
    rules: PlanRules = field(default_factory=PlanRules)
    weights: PlanWeights = field(default_factory=PlanWeights)
    lexicographic: bool = True
    warm_start: bool = False


@dataclass(frozen=True, eq=False)
class PlanResult:
    """Solution of a multi-period run; frames sorted by their id columns.

    Without a solution (``info.has_solution`` false) every frame is empty with its columns.

    Attributes
    ----------
    info
        Solver report of the run (lexicographic: phase 2's objective, bound and gap).
    phases
        Report of every solver call.
    opened
        ``site_id, option_id, year, stage, classes, ownership, cost_cny``: opened options,
        one row per stage (``year`` = period of opening; ``cost_cny`` is the whole option's
        cost, repeated on each of its rows as in ``options``).
    expansions
        ``school_id, stage, year, modules, classes_added, cost_cny``.
    closures
        ``school_id, year``.
    capacity
        ``school_id, kind, stage, year, classes, cap, seats, enrolled, ownership``: every
        existing school (``kind`` ``existing``) and opened site (``new``) per stage and
        period year, from the year it opens; a closed school has 0 classes from its
        closure on.
    assignments
        ``zone_id, school_id, stage, year, children, distance_m``: positive flows.
    unmet
        ``zone_id, stage, year, children, unmet``: every demand row.
    spend
        ``year, capital_cny, budget_cny, projects``: per period.
    rule_report
        ``rule_id, scope, year, stage, lhs, sense, rhs, slack, elastic``: one row per rule
        constraint (``slack`` >= 0 is the margin; ``elastic`` the relaxation used, 0 when
        the rule holds).
    terms
        ``unmet_children`` (child-periods), ``capital_cost_cny``, ``travel_child_m``,
        ``max_unmet_share``, ``elastic_slack``, ``closure_value_cny`` (value of the
        closures, CNY; ``capital_cost_cny`` is gross of it).
    """

    info: SolveInfo
    phases: tuple[SolveInfo, ...]
    opened: pd.DataFrame
    expansions: pd.DataFrame
    closures: pd.DataFrame
    capacity: pd.DataFrame
    assignments: pd.DataFrame
    unmet: pd.DataFrame
    spend: pd.DataFrame
    rule_report: pd.DataFrame
    terms: dict[str, float] = field(default_factory=dict)
