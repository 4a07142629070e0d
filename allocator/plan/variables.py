"""Decision variables of the multi-period siting model (see :mod:`allocator.plan`).

Names are ASCII and deterministic (ids through :func:`allocator.solvers.names.ascii_token`,
years as digits): ``open__<site>__<option>__<year>``, ``module__<school>__<stage>__<year>``,
``expand__<school>__<year>``, ``close__<school>__<year>``,
``assign__<zone>__<school>__<stage>__<year>``, ``unmet__<zone>__<stage>__<year>``,
``max_unmet_share`` and ``elastic__<rule>__<scope>``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulp

from allocator.plan.data import PlanRules
from allocator.plan.validate import Option, PlanTables
from allocator.solvers.names import model_name, token_map

__all__ = [
    "Assign",
    "PlanVariables",
    "RowSense",
    "RuleRow",
    "add_variables",
    "expandable",
    "forcing",
    "private_period_ok",
    "tokens_of",
]

Assign = tuple[str, str, str, int]  # (zone_id, school_id, stage, year)
RowSense = Literal["<=", ">=", "="]


@dataclass(frozen=True, eq=False)
class RuleRow:
    """One rule constraint, kept for the rule report.

    ``lhs (sense) rhs`` is the rule in its own units, without the elastic slack; the model
    row may add slack variables (``elastic``) to it.

    Attributes
    ----------
    rule_id
        Catalogue ID.
    scope
        What the row is about, in the rule's words (``"2025"``, ``"primary 2025"``,
        ``"school E1 primary"``).
    year
        Period year, or ``None`` for a row over the whole horizon.
    stage
        Stage(s) (``"primary+junior"``), or ``""``.
    lhs, rhs
        Sides of the rule (expressions or numbers; units of the rule).
    sense
        ``"<="``, ``">="`` or ``"="``.
    elastic
        Slack variables relaxing the row (elastic mode), each adding to the violation.
    name
        Name of the model row.
    """

    rule_id: str
    scope: str
    year: int | None
    stage: str
    lhs: pulp.LpAffineExpression
    sense: RowSense
    rhs: pulp.LpAffineExpression | float
    elastic: tuple[pulp.LpVariable, ...]
    name: str


@dataclass(eq=False)
class PlanVariables:
    """Handles on the model's variables, keyed by original ids and years.

    Attributes
    ----------
    open
        ``open[c, k, t]`` binary, keyed ``(site_id, option_id, year)``.
    modules
        ``m[s, g, t]`` integer expansion modules, keyed ``(school_id, stage, year)``.
    module_ub
        Largest number of modules of ``(school_id, stage)`` over the horizon.
    expand
        ``e[s, t]`` binary "school ``s`` expands in period ``t``" (only for N-02 periods).
    close
        ``q[s, t]`` binary closure, keyed ``(school_id, year)``.
    assign
        ``x[z, s, g, t]`` children (persons), keyed ``(zone_id, school_id, stage, year)``.
    unmet
        ``u[z, g, t]`` unmet children (persons) of rows with demand and a pair.
    fixed_unmet
        ``(zone_id, stage, year) -> children`` of rows with demand but no pair.
    share
        ``v``, the largest unmet share, when the equity term is on.
    elastic
        Slack variables by name (elastic mode).
    rows
        Rule rows for the report, in build order.
    tokens
        Name token of every id.
    """

    open: dict[tuple[str, str, int], pulp.LpVariable]
    modules: dict[tuple[str, str, int], pulp.LpVariable]
    module_ub: dict[tuple[str, str], int]
    expand: dict[tuple[str, int], pulp.LpVariable]
    close: dict[tuple[str, int], pulp.LpVariable]
    assign: dict[Assign, pulp.LpVariable]
    unmet: dict[tuple[str, str, int], pulp.LpVariable]
    fixed_unmet: dict[tuple[str, str, int], float]
    share: pulp.LpVariable | None = None
    elastic: dict[str, pulp.LpVariable] = field(default_factory=dict)
    rows: list[RuleRow] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)


def tokens_of(tables: PlanTables) -> dict[str, str]:
    """Name token of every id of the tables."""
    ids: list[str] = list(tables.stages) + [g for g, _ in tables.caps]
    ids += [i for z, g, _ in tables.demand for i in (z, g)]
    ids += [i for s, g in tables.existing for i in (s, g)]
    ids += [i for o in tables.options.values() for i in (o.site_id, o.option_id, *o.classes)]
    return token_map(ids)


def forcing(rules: PlanRules) -> bool:
    """Whether some rule can force decisions (seat targets, lower counts or project counts).

    Without one, options and expansions nobody with demand can reach are left out.
    """
    lower_count = any(c.sense != "at_most" and c.count > 0 for c in rules.count_targets)
    lower_projects = rules.projects_sense != "at_most" and any(
        n > 0 for n in rules.projects_by_period.values()
    )
    return bool(rules.seat_targets) or lower_count or lower_projects


def expandable(tables: PlanTables, rules: PlanRules) -> dict[tuple[str, str], int]:
    """Largest number of modules of every expandable ``(school_id, stage)``.

    A stage can be expanded when the school has a finite ``max_classes``, the stage has
    ``module_classes`` and a class cap, and it is not a public-only stage of a private
    school (J-20). Its modules are bounded by the school's room (D-14) and the stage's size
    limit (N-05)::

        ub = floor(min(max_classes - Σ_g classes[s, g],
                       max_classes_by_stage[g] - classes[s, g]) / module_classes[s, g])

    Returns
    -------
    dict
        ``(school_id, stage) -> ub`` for ``ub >= 1``, sorted.
    """
    total: dict[str, int] = {}
    for (s, _), row in tables.existing.items():
        total[s] = total.get(s, 0) + row.classes
    stages_with_caps = {g for g, _ in tables.caps}
    public_only = set(rules.public_only_stages)
    out: dict[tuple[str, str], int] = {}
    for (s, g), row in tables.existing.items():
        school = tables.schools[s]
        if row.module_classes is None or school.max_classes is None:
            continue
        if g not in stages_with_caps or (school.ownership == "private" and g in public_only):
            continue
        room = school.max_classes - total[s]
        if g in rules.max_classes_by_stage:
            room = min(room, rules.max_classes_by_stage[g] - row.classes)
        ub = math.floor(room / row.module_classes)
        if ub >= 1:
            out[(s, g)] = int(ub)
    return out


def private_period_ok(option: Option, t: int, rules: PlanRules) -> bool:
    """Whether J-20 lets ``option`` open in period ``t``.

    False only for a private option serving a public-only stage whose site is a J-20
    exception (``private_allowed``) with years that do not include ``t``.
    """
    years = rules.private_allowed.get(option.site_id)
    if not years or option.ownership != "private":
        return True
    return not set(option.classes) & set(rules.public_only_stages) or t in years


def _open_vars(problem: pulp.LpProblem, tables: PlanTables, rules: PlanRules,
               tok: Mapping[str, str]) -> dict[tuple[str, str, int], pulp.LpVariable]:
    """Binary ``open[c, k, t]`` for every option some zone reaches (all, if a rule forces)."""
    reached = {(s, g) for _, s, g in tables.pairs}
    keep_all = forcing(rules)
    return {
        (c, k, t): problem.add_variable(
            model_name("open", tok[c], tok[k], str(t)), 0, 1, pulp.LpBinary
        )
        for (c, k), o in tables.options.items()
        if keep_all or any((c, g) in reached for g in o.classes)
        for t in tables.periods
        if private_period_ok(o, t, rules)
    }


def _module_vars(problem: pulp.LpProblem, tables: PlanTables, rules: PlanRules,
                 tok: Mapping[str, str]) -> tuple[
    dict[tuple[str, str, int], pulp.LpVariable], dict[tuple[str, str], int]
]:
    """Integer ``m[s, g, t]`` in ``[0, ub]`` for every expandable stage (see :func:`expandable`)."""
    reached = {(s, g) for _, s, g in tables.pairs}
    keep_all = forcing(rules)
    ub = {key: n for key, n in expandable(tables, rules).items() if keep_all or key in reached}
    modules = {
        (s, g, t): problem.add_variable(
            model_name("module", tok[s], tok[g], str(t)), 0, n, pulp.LpInteger
        )
        for (s, g), n in ub.items()
        for t in tables.periods
    }
    return modules, ub


def _expand_vars(problem: pulp.LpProblem, tables: PlanTables, rules: PlanRules,
                 modules: Mapping[tuple[str, str, int], pulp.LpVariable],
                 tok: Mapping[str, str]) -> dict[tuple[str, int], pulp.LpVariable]:
    """Binary ``e[s, t]`` for schools with modules, in periods with a project count (N-02)."""
    counted = set(rules.projects_by_period)
    keys = sorted({(s, t) for s, _, t in modules if t in counted})
    return {
        (s, t): problem.add_variable(model_name("expand", tok[s], str(t)), 0, 1, pulp.LpBinary)
        for s, t in keys
    }


def _close_vars(problem: pulp.LpProblem, tables: PlanTables, rules: PlanRules,
                tok: Mapping[str, str]) -> dict[tuple[str, int], pulp.LpVariable]:
    """Binary ``q[s, t]``: decided closures fixed to 1 in their year; closable schools free."""
    out: dict[tuple[str, int], pulp.LpVariable] = {}
    for s, school in tables.schools.items():
        if school.closure_year is not None:
            t = school.closure_year
            out[(s, t)] = problem.add_variable(  # integer: PuLP resets a binary's bounds
                model_name("close", tok[s], str(t)), 1, 1, pulp.LpInteger
            )
        elif rules.allow_closures and school.closable:
            for t in tables.periods:
                out[(s, t)] = problem.add_variable(
                    model_name("close", tok[s], str(t)), 0, 1, pulp.LpBinary
                )
    return out


def _assign_vars(problem: pulp.LpProblem, tables: PlanTables,
                 tok: Mapping[str, str]) -> dict[Assign, pulp.LpVariable]:
    """Continuous ``x[z, s, g, t]`` in ``[0, d[z, g, t]]`` for pairs with demand."""
    out: dict[Assign, pulp.LpVariable] = {}
    demand = tables.demand
    for t in tables.periods:
        suffix = str(t)
        for z, s, g in tables.pairs:
            d = demand.get((z, g, t), 0.0)
            if d > 0:
                out[(z, s, g, t)] = problem.add_variable(
                    model_name("assign", tok[z], tok[s], tok[g], suffix), 0, d
                )
    return dict(sorted(out.items()))


def add_variables(problem: pulp.LpProblem, tables: PlanTables, rules: PlanRules,
                  equity: bool) -> PlanVariables:
    """Create every decision variable except the elastic slacks (made with their rows).

    Parameters
    ----------
    problem
        The model.
    tables
        Validated inputs.
    rules
        Rules in force.
    equity
        Create the largest-unmet-share variable ``v`` (equity weight > 0).

    Returns
    -------
    PlanVariables
        The variables.
    """
    tok = tokens_of(tables)
    open_vars = _open_vars(problem, tables, rules, tok)
    modules, ub = _module_vars(problem, tables, rules, tok)
    expand = _expand_vars(problem, tables, rules, modules, tok)
    close = _close_vars(problem, tables, rules, tok)
    assign = _assign_vars(problem, tables, tok)
    reachable = {(z, g, t) for z, _, g, t in assign}
    unmet = {
        (z, g, t): problem.add_variable(model_name("unmet", tok[z], tok[g], str(t)), 0, d)
        for (z, g, t), d in tables.demand.items()
        if (z, g, t) in reachable
    }
    fixed = {k: d for k, d in tables.demand.items() if d > 0 and k not in reachable}
    share = None
    if equity and unmet and not fixed:
        share = problem.add_variable("max_unmet_share", 0, 1)
    return PlanVariables(open_vars, modules, ub, expand, close, assign, unmet, fixed, share,
                         tokens=tok)
