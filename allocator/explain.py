"""Why a scenario cannot be satisfied, in the rules' own words.

When the siting model is infeasible, :func:`allocator.pipeline.run` re-solves it with every
budget (N-01), project count (N-02), seat target (J-04, G-03, N-03) and school count
(D-06) made elastic: each row gets a named slack in its own unit (CNY, projects, seats,
schools), priced per unit by ``objective.elastic_penalty`` and
``objective.elastic_penalty_by_rule``. The rows whose slack is positive are the
relaxations that make the plan feasible; :func:`explain_plan` puts each in a sentence::

    J-04 new public seats by 2025 (primary, junior): 8,240 seats short of 110,000
    N-01 budget 2026: 120 million CNY over 500 million CNY
    N-02 projects 2024: 3 short of 37
    D-06 new junior schools by 2025: 1 short of 3

The relaxation is the smallest in the sense of least *weighted* slack (penalty x amount,
summed), which depends on the penalties; it is not searched for the fewest rules.
:func:`plan_intro` says so, with the penalties used.

The rotation step does the same with its own elastic re-solve
(:mod:`allocator.rotation_pipeline`); :func:`explain_rotation` reads its named slacks
(teachers) per rule, scope and year: ``D-19 at school X 2025: 3 rotating teachers short of
10% of eligible teachers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from allocator.plan.data import PlanWeights
from allocator.rotation_input import RotationPolicy
from allocator.solvers import SolveInfo

__all__ = [
    "explain_plan",
    "explain_rotation",
    "money",
    "plan_intro",
    "rotation_intro",
]

TOLERANCE = 1e-6
"""Slack at or below this (in the row's unit) counts as no relaxation."""

ELASTIC_RULES = ("N-01", "N-02", "J-04", "G-03", "N-03", "D-06")
"""The siting rules an elastic re-solve relaxes (catalogue order of their families)."""


def _count(value: float) -> str:
    """A count with thousands separators; one decimal unless whole."""
    rounded = round(value)
    if abs(value - rounded) < 1e-6:
        return f"{rounded:,.0f}"
    return f"{value:,.1f}"


def money(cny: float) -> str:
    """CNY in words: ``600,000 CNY``; from a million on ``1.02 million CNY``."""
    if abs(cny) >= 1e6:
        text = f"{cny / 1e6:,.2f}".rstrip("0").rstrip(".")
        return f"{text} million CNY"
    return f"{cny:,.0f} CNY"


def _plural(value: float, word: str) -> str:
    return f"{_count(value)} {word}{'' if abs(value - 1) < 1e-9 else 's'}"


def _gap(sense: str, lhs: float, rhs: float) -> str:
    """``short of`` or ``over`` for a relaxed row."""
    if sense == ">=":
        return "short of"
    if sense == "<=":
        return "over"
    return "short of" if lhs < rhs else "over"


def _budget_scope(scope: str) -> str:
    if scope == "horizon":
        return "of the whole horizon"
    if scope.endswith(" cumulative"):
        return f"{scope.removesuffix(' cumulative')} (cumulative)"
    return scope


def _plan_line(row: Mapping[Any, Any]) -> str:
    """One relaxed row of the siting model's rule report in words."""
    rule_id, scope = str(row["rule_id"]), str(row["scope"])
    amount, lhs, rhs = float(row["elastic"]), float(row["lhs"]), float(row["rhs"])
    gap = _gap(str(row["sense"]), lhs, rhs)
    if rule_id == "N-01":
        return f"N-01 budget {_budget_scope(scope)}: {money(amount)} {gap} {money(rhs)}"
    if rule_id == "N-02":
        return f"N-02 {scope}: {_count(amount)} {gap} {_count(rhs)}"
    if " new public seats by " in scope:
        stages = ", ".join(str(row["stage"]).split("+"))
        year = scope.rsplit(" ", 1)[-1]
        return (f"{rule_id} new public seats by {year} ({stages}): "
                f"{_plural(amount, 'seat')} {gap} {_count(rhs)}")
    if rule_id == "D-06" or scope.startswith("new "):
        return f"{rule_id} {scope}: {_count(amount)} {gap} {_count(rhs)}"
    return (f"{rule_id} {scope}: relaxed by {_count(amount)} "
            f"({_count(lhs)} {row['sense']} {_count(rhs)} does not hold)")


def explain_plan(rule_report: pd.DataFrame) -> list[str]:
    """The relaxations of an elastic siting solution, one sentence per relaxed row.

    Parameters
    ----------
    rule_report
        :attr:`allocator.plan.data.PlanResult.rule_report` of an elastic solve
        (``rule_id, scope, year, stage, lhs, sense, rhs, slack, elastic``); rows with
        ``elastic`` above :data:`TOLERANCE` are relaxed (amount in the row's unit: CNY for
        N-01, projects for N-02, seats for J-04 / G-03 / N-03, schools for D-06).

    Returns
    -------
    list of str
        In the report's order (rule families in build order, rows in key order).
    """
    if rule_report.empty:
        return []
    relaxed = rule_report[rule_report["elastic"].astype(float) > TOLERANCE]
    return [_plan_line(row) for row in relaxed.to_dict(orient="records")]


def _penalty(weights: PlanWeights, rule_id: str) -> str:
    value = weights.elastic_penalty_of(rule_id)
    unit = {"N-01": "CNY", "N-02": "project", "D-06": "school"}.get(rule_id, "seat")
    return f"{rule_id} {value:,.6g} per {unit}"


def plan_intro(hard: SolveInfo, elastic: SolveInfo, weights: PlanWeights, relaxed: int,
               rules: tuple[str, ...] = ELASTIC_RULES) -> list[str]:
    """The sentence before :func:`explain_plan`'s lines.

    It says what was infeasible and how it was relaxed: the penalties per unit of the
    elastic ``rules`` the model has rows of, and that the relaxation is the one of least
    weighted slack.
    """
    penalties = "; ".join(_penalty(weights, r) for r in ELASTIC_RULES if r in rules)
    head = (f"The siting model is {hard.status}: its budgets, project counts, seat targets "
            "and school counts cannot all hold.")
    if not elastic.has_solution:
        return [head + f" The elastic re-solve found no plan either ({elastic.status}); the "
                "conflict lies in rules that cannot give."]
    if relaxed == 0:
        return [head + " The elastic re-solve found a plan without relaxing any of them "
                "(a numerical difficulty of the hard model); nothing to relax."]
    return [head + f" An elastic re-solve relaxes {relaxed} of their rows; this is the "
            f"relaxation of least weighted slack (penalty per unit: {penalties}), not a "
            "search for the fewest rules:"]


def _pct(share: float) -> str:
    return f"{share * 100:.10g}%"


def _rotation_line(row: Mapping[Any, Any], policy: RotationPolicy | None) -> str:
    """One named slack of the rotation model in words."""
    rule_id, scope, sid = str(row["rule_id"]), str(row["scope"]), str(row["scope_id"])
    year = "" if row["year"] is None or pd.isna(row["year"]) else f" {int(row['year'])}"
    n = float(row["amount"])
    place = "school" if scope == "school" else scope
    if rule_id == "D-19" and sid.endswith(":backbone"):
        share = f" {_pct(policy.backbone_min_share)}" if policy else " the share"
        return (f"D-19 backbone at {place} {sid.removesuffix(':backbone')}{year}: "
                f"{_plural(n, 'backbone rotator')} short of{share} of rotators")
    if rule_id == "D-19":
        share = f" {_pct(policy.rotation_min_share)}" if policy else " the share"
        return (f"D-19 at {place} {sid}{year}: {_plural(n, 'rotating teacher')} short of"
                f"{share} of eligible teachers")
    if rule_id in ("J-08", "G-10"):
        share = f" {_pct(policy.backbone_school_min)}" if policy else " the share"
        return (f"{rule_id} at {place} {sid}{year}: {_plural(n, 'backbone teacher')} short "
                f"of{share} of teachers")
    if rule_id == "G-11":
        school, _, subject = sid.partition(":")
        lock = f" {policy.talent_lock_years}-year" if policy else ""
        what = f" ({subject})" if subject else ""
        return (f"G-11 at school {school}{what}{year}: {_plural(n, 'designated talent move')} "
                f"inside the{lock} lock")
    if rule_id == "J-15":
        return (f"J-15 at research body {sid}{year}: {_plural(n, 'researcher')} due to teach "
                "in a school who do not")
    if rule_id == "J-18":
        need = f" {policy.pairing_min_exchanges}" if policy else " the minimum"
        return f"J-18 pairing {sid}{year}: {_plural(n, 'exchange')} short of{need}"
    if rule_id == "J-27":
        return f"J-27 at school {sid}{year}: {_plural(n, 'teacher')} below its staffing floor"
    if rule_id in ("D-21", "Z-10"):
        return f"{rule_id} in county {sid}{year}: {_plural(n, 'post')} over the approved total"
    if scope == "arc":
        source, _, target = sid.partition("->")
        return f"{rule_id}{year}: {_plural(n, 'move')} on the banned arc {source} -> {target}"
    return f"{rule_id} {scope} {sid}{year}: relaxed by {_count(n)}"


def explain_rotation(summary: Mapping[str, Any], slacks: pd.DataFrame | None = None,
                     policy: RotationPolicy | None = None) -> list[str]:
    """The relaxations of an elastic rotation solution, one sentence per named slack.

    Parameters
    ----------
    summary
        The rotation step's summary (:func:`allocator.rotation_summary.summarise`); empty
        list unless ``summary["elastic"]`` is true.
    slacks
        :attr:`allocator.rotation.RotationResult.slacks` (``rule_id, scope, scope_id, year,
        amount`` in teachers); without it, one line per rule from ``summary["slack"]``.
    policy
        The rotation policy, for the shares the rules ask (10 %, 20 % ...).

    Returns
    -------
    list of str
        In the slacks' order (rule, scope, scope id, year).
    """
    if not summary.get("elastic"):
        return []
    if slacks is None:
        totals: Mapping[str, Any] = summary.get("slack") or {}
        return [f"{rule_id}: {_plural(float(n), 'teacher')} of elastic slack in all"
                for rule_id, n in sorted(totals.items()) if float(n) > 0]
    positive = slacks[slacks["amount"].astype(float) > 0]
    return [_rotation_line(row, policy) for row in positive.to_dict(orient="records")]


def rotation_intro(summary: Mapping[str, Any]) -> list[str]:
    """The sentence before :func:`explain_rotation`'s lines.

    Empty unless the run was re-solved elastic after a failed hard solve.
    """
    hard = summary.get("hard")
    if not summary.get("elastic") or not hard:
        return []
    status = str(hard.get("status", "without a solution"))
    if summary.get("status") not in ("optimal", "feasible"):
        return [f"The rotation model is {status}, and its elastic re-solve found no plan "
                f"either ({summary.get('status')})."]
    return [f"The rotation model is {status}: its staffing and rotation rules cannot all "
            "hold. An elastic re-solve (every hard rule with a named slack in teachers, "
            "rotation.weights.elastic per unit) relaxes:"]
