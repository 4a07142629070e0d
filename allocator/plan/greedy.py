"""Greedy warm start for the plan model (``PlanInput.warm_start``).

:func:`greedy_plan` builds a plan without a solver, period by period:

1. Seats of the period: existing schools at ``classes × cap[g, t]`` (none after a decided
   closure) and the sites already opened.
2. Children go to their nearest school with free seats (zones in id order; D-23: at most
   ``d - migrant`` of a public-only stage to private schools). For a stage and year with
   a share target (N-12) the schools of the target's ownership come first, nearest
   first, then the others.
3. While some option reaches children still without a seat, open the one that seats the
   most of them per CNY (``Σ_g min(classes × cap, reachable unseated children) / cost``)
   among those the period's budget (N-01, with carry-over if allowed), the horizon budget,
   the project count (N-02, unless it is a lower bound only) and the school counts
   (D-06 ``at_most`` / ``exact``) and D-10 (no opening beside a decided closure) still
   allow; seat its children, nearest first.

The plan uses no expansion modules and no free closures. It meets every row of the model
except, possibly, lower bounds it does not try to reach (seat targets, ``exact`` /
``at_least`` counts, project numbers and shares it seats towards but may miss); in
elastic mode :func:`apply_plan` sets the
slack of such rows to their violation, so the start is feasible. :func:`apply_plan` writes
it into the variables with ``LpVariable.setInitialValue``.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from allocator.plan.data import PlanInput
from allocator.plan.frames import side_value
from allocator.plan.targets import counted_sites
from allocator.plan.validate import PlanTables
from allocator.plan.variables import PlanVariables

__all__ = ["GreedyPlan", "apply_plan", "greedy_plan"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class GreedyPlan:
    """A plan found without a solver.

    Attributes
    ----------
    opened
        ``(site_id, option_id) -> year`` of opening.
    flows
        ``(zone_id, school_id, stage, year) -> children`` (persons), positive only.
    """

    opened: dict[tuple[str, str], int]
    flows: dict[tuple[str, str, str, int], float]


class _Period:
    """Seats, unseated children and flows of one period while the greedy plan is built."""

    def __init__(self, tables: PlanTables, data: PlanInput, t: int,
                 opened: Mapping[tuple[str, str], int]) -> None:
        self.tables, self.t = tables, t
        self.left = {(z, g): d for (z, g, t0), d in tables.demand.items() if t0 == t and d > 0}
        public_only = set(data.rules.public_only_stages) if data.rules.migrant_public else set()
        self.private_room = {
            (z, g): d - tables.migrant.get((z, g, t), 0.0)
            for (z, g), d in self.left.items() if g in public_only
        }
        self.private = {s for s, school in tables.schools.items() if school.ownership == "private"}
        self.seats: dict[tuple[str, str], float] = {}
        for (s, g), row in tables.existing.items():
            closed = tables.schools[s].closure_year
            if (g, t) in tables.caps and (closed is None or closed > t):
                self.seats[(s, g)] = row.classes * tables.caps[(g, t)]
        for (c, k), t0 in opened.items():
            if t0 <= t:
                self.add_option(c, k)
        self.flows: dict[tuple[str, str, str, int], float] = defaultdict(float)

    def add_option(self, c: str, k: str) -> None:
        """Add the seats of an opened option."""
        for g, n in self.tables.options[(c, k)].classes.items():
            if (g, self.t) in self.tables.caps:
                self.seats[(c, g)] = self.seats.get((c, g), 0.0) + n * self.tables.caps[(g, self.t)]

    def seat(self, z: str, s: str, g: str) -> None:
        """Seat as many unseated children of ``(z, g)`` at ``s`` as seats and D-23 allow."""
        amount = min(self.left.get((z, g), 0.0), self.seats.get((s, g), 0.0))
        if s in self.private and (z, g) in self.private_room:
            amount = min(amount, self.private_room[(z, g)])
            self.private_room[(z, g)] -= max(amount, 0.0)
        if amount <= 0:
            return
        self.left[(z, g)] -= amount
        self.seats[(s, g)] -= amount
        self.flows[(z, s, g, self.t)] += amount


def _nearest(tables: PlanTables) -> dict[tuple[str, str], list[str]]:
    """``(zone, stage) -> schools and sites`` by distance, then id."""
    out: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    for (z, s, g), dist in tables.pairs.items():
        out[(z, g)].append((dist, s))
    return {key: [s for _, s in sorted(items)] for key, items in out.items()}


def _seat_order(tables: PlanTables, data: PlanInput, t: int,
                nearest: Mapping[tuple[str, str], list[str]]
                ) -> dict[tuple[str, str], list[str]]:
    """``nearest`` with, for a stage that has a share target in ``t``, counted schools first.

    Counted: existing schools and sites of the target's ownership (as
    :func:`allocator.plan.targets.add_share_targets` counts them); the order within each
    group stays nearest first.
    """
    out = dict(nearest)
    for target in data.rules.share_targets:
        if target.year != t:
            continue
        counted = {s for s, school in tables.schools.items()
                   if school.ownership == target.ownership} | counted_sites(tables, target)
        for (z, g), schools in nearest.items():
            if g == target.stage:
                out[(z, g)] = sorted(schools, key=lambda s: s not in counted)  # stable
    return out


def _zones_of(tables: PlanTables) -> dict[tuple[str, str], list[str]]:
    """``(site or school, stage) -> zones`` by distance, then id."""
    out: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    for (z, s, g), dist in tables.pairs.items():
        out[(s, g)].append((dist, z))
    return {key: [z for _, z in sorted(items)] for key, items in out.items()}


class _Limits:
    """Budget, project and count limits the greedy plan keeps."""

    def __init__(self, tables: PlanTables, data: PlanInput) -> None:
        self.tables, self.rules = tables, data.rules
        self.spent: dict[int, float] = defaultdict(float)
        self.projects: dict[int, int] = defaultdict(int)
        self.opened: dict[tuple[str, str], int] = {}
        self.blocked = {  # D-10: no opening beside a decided closure in its period
            (c, tables.schools[s].closure_year) for s, c in tables.catchment
            if tables.schools[s].closure_year is not None
        }

    def room(self, t: int) -> float:
        """CNY still allowed in period ``t`` (period, cumulative and horizon budgets)."""
        rules = self.rules
        out = math.inf
        if t in rules.budget_by_period:
            if rules.carry_over:
                years = [y for y in rules.budget_by_period if y <= t]
                out = sum(rules.budget_by_period[y] - self.spent[y] for y in years)
                # later cumulative rows also count this period's spend
                for later in sorted(y for y in rules.budget_by_period if y > t):
                    upto = [y for y in rules.budget_by_period if y <= later]
                    out = min(out, sum(rules.budget_by_period[y] - self.spent[y] for y in upto))
            else:
                out = rules.budget_by_period[t] - self.spent[t]
        if rules.budget_total is not None:
            out = min(out, rules.budget_total - sum(self.spent.values()))
        return out

    def allows(self, c: str, k: str, t: int) -> bool:
        """Whether opening option ``(c, k)`` in ``t`` keeps every limit."""
        option = self.tables.options[(c, k)]
        if (c, t) in self.blocked or option.cost_cny > self.room(t) + 1e-9:
            return False
        n = self.rules.projects_by_period.get(t)
        if n is not None and self.rules.projects_sense != "at_least" and self.projects[t] >= n:
            return False
        for target in self.rules.count_targets:
            if target.sense == "at_least" or target.stage not in option.classes:
                continue
            if t <= target.year:
                count = sum(1 for (c2, k2), t2 in self.opened.items()
                            if t2 <= target.year and target.stage in
                            self.tables.options[(c2, k2)].classes)
                if count >= target.count:
                    return False
        return True

    def open(self, c: str, k: str, t: int) -> None:
        """Record an opening."""
        self.opened[(c, k)] = t
        self.spent[t] += self.tables.options[(c, k)].cost_cny
        self.projects[t] += 1


def _best_option(tables: PlanTables, period: _Period, limits: _Limits,
                 candidates: list[tuple[str, str]],
                 zones_of: Mapping[tuple[str, str], list[str]]) -> tuple[str, str] | None:
    """The allowed option seating the most unseated children per CNY, or ``None``."""
    best: tuple[float, tuple[str, str]] | None = None
    opened_sites = {c for c, _ in limits.opened}
    for c, k in candidates:
        if c in opened_sites:
            continue
        option = tables.options[(c, k)]
        seated = 0.0
        for g, n in option.classes.items():
            if (g, period.t) not in tables.caps:
                continue
            reach = sum(period.left.get((z, g), 0.0) for z in zones_of.get((c, g), []))
            seated += min(n * tables.caps[(g, period.t)], reach)
        if seated <= 1e-9 or not limits.allows(c, k, period.t):
            continue
        score = seated / max(option.cost_cny, 1.0)
        if best is None or score > best[0]:
            best = (score, (c, k))
    return None if best is None else best[1]


def greedy_plan(tables: PlanTables, data: PlanInput, v: PlanVariables) -> GreedyPlan:
    """Build the greedy plan (see the module docstring).

    Parameters
    ----------
    tables
        Validated inputs.
    data
        The run's input (rules).
    v
        Model variables: only options with an opening variable are considered.

    Returns
    -------
    GreedyPlan
        Openings and flows.
    """
    nearest, zones_of = _nearest(tables), _zones_of(tables)
    candidates = sorted({(c, k) for c, k, _ in v.open})
    limits = _Limits(tables, data)
    for t in tables.periods:
        period = _Period(tables, data, t, limits.opened)
        order = _seat_order(tables, data, t, nearest)
        for z, g in sorted(period.left):
            for s in order.get((z, g), []):
                period.seat(z, s, g)
        while (choice := _best_option(tables, period, limits, candidates, zones_of)) is not None:
            c, k = choice
            limits.open(c, k, t)
            period.add_option(c, k)
            for g in tables.options[(c, k)].classes:
                for z in zones_of.get((c, g), []):
                    period.seat(z, c, g)
    flows: dict[tuple[str, str, str, int], float] = {}
    for t in tables.periods:
        # final assignment with every site opened so far, nearest first
        period = _Period(tables, data, t, limits.opened)
        order = _seat_order(tables, data, t, nearest)
        for z, g in sorted(period.left):
            for s in order.get((z, g), []):
                period.seat(z, s, g)
        flows.update({key: x for key, x in period.flows.items() if x > 0})
    logger.info("greedy plan: %d options opened, %.0f children seated over all periods",
                len(limits.opened), sum(flows.values()))
    return GreedyPlan(dict(limits.opened), dict(sorted(flows.items())))


def apply_plan(plan: GreedyPlan, tables: PlanTables, v: PlanVariables) -> None:
    """Write the plan into the variables as initial values (``setInitialValue``).

    Every variable gets a value: openings and flows from the plan, ``u = d - Σ x``,
    decided closures 1, everything else 0, the equity variable the largest unmet share
    and elastic slack the violation of its row.
    """
    for key, y in v.open.items():
        y.setInitialValue(1.0 if plan.opened.get((key[0], key[1])) == key[2] else 0.0)
    for m in v.modules.values():
        m.setInitialValue(0)
    for e in v.expand.values():
        e.setInitialValue(0)
    for q in v.close.values():
        q.setInitialValue(float(q.lowBound or 0.0))
    seated: dict[tuple[str, str, int], float] = defaultdict(float)
    for pair, x in v.assign.items():
        value = plan.flows.get(pair, 0.0)
        x.setInitialValue(value)
        seated[(pair[0], pair[2], pair[3])] += value
    share = 0.0
    for row_key, u in v.unmet.items():
        d = tables.demand[row_key]
        left = max(d - seated[row_key], 0.0)
        u.setInitialValue(left)
        share = max(share, left / d)
    if v.share is not None:
        v.share.setInitialValue(share)
    for slack in v.elastic.values():
        slack.setInitialValue(0.0)
    for row in v.rows:
        if not row.elastic:
            continue
        gap = side_value(row.lhs) - side_value(row.rhs)  # > 0: above rhs
        under = [s for s in row.elastic if not s.name.endswith("__over")]
        over = [s for s in row.elastic if s.name.endswith("__over")]
        if row.sense == ">=" and under:
            under[0].setInitialValue(max(-gap, 0.0))
        elif row.sense == "<=" and row.elastic:
            row.elastic[0].setInitialValue(max(gap, 0.0))
        elif row.sense == "=" and under and over:
            under[0].setInitialValue(max(-gap, 0.0))
            over[0].setInitialValue(max(gap, 0.0))
