"""Budget, project and target rows of the plan model: the rows elastic mode relaxes.

These rules state numbers a bureau sets per period (a budget, a count of projects, a seat,
school or public-share target); together they are what can make the model infeasible (the
all-zero plan meets every other row: unmet demand is always allowed). In elastic mode
(:attr:`~allocator.plan.data.PlanRules.elastic`) each row gets named slack variables
``elastic__<rule>__<scope>`` (``>= 0``, in the row's own units: CNY, projects, seats,
schools or children) that absorb its violation; the objective prices them (see
:mod:`allocator.plan.objective`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pulp

from allocator.plan.constraints import expression
from allocator.plan.data import PlanRules, Sense, ShareTarget
from allocator.plan.validate import PlanTables
from allocator.plan.variables import PlanVariables, RowSense, RuleRow
from allocator.rules import Kind, rule
from allocator.solvers.names import ascii_token, model_name

__all__ = [
    "add_budget",
    "add_count_targets",
    "add_projects",
    "add_seat_targets",
    "add_share_targets",
    "counted_sites",
    "projects_expression",
    "rule_token",
    "share_percent",
    "spend_expression",
]

ROW_SENSE: dict[Sense, RowSense] = {"exact": "=", "at_least": ">=", "at_most": "<="}
_PULP_SENSE: dict[RowSense, int] = {
    "<=": pulp.LpConstraintLE, ">=": pulp.LpConstraintGE, "=": pulp.LpConstraintEQ
}


def rule_token(rule_id: str) -> str:
    """ASCII name token of a rule ID (``J-04`` -> ``J_04``)."""
    return ascii_token(rule_id.replace("-", "_"))


def _add_rule_row(problem: pulp.LpProblem, v: PlanVariables, elastic: bool, rule_id: str,
                  scope: str, names: tuple[str, Sequence[str]], year: int | None, stage: str,
                  lhs: pulp.LpAffineExpression, sense: RowSense, rhs: float) -> None:
    """Add ``lhs (sense) rhs`` named ``names[0]``; in elastic mode with slack.

    Slack: ``lhs - over <= rhs``, ``lhs + under >= rhs``, ``lhs + under - over = rhs``;
    variables ``elastic__<rule>__<names[1]...>`` (``__under`` / ``__over`` for ``=``).
    """
    name, scope_key = names
    slacks: list[pulp.LpVariable] = []
    row = lhs
    if elastic:
        base = model_name("elastic", rule_token(rule_id), *scope_key)
        if sense in (">=", "="):
            under = problem.add_variable(base + ("__under" if sense == "=" else ""), 0, None)
            slacks.append(under)
            row = row + under
        if sense in ("<=", "="):
            over = problem.add_variable(base + ("__over" if sense == "=" else ""), 0, None)
            slacks.append(over)
            row = row - over
        for var in slacks:
            v.elastic[var.name] = var
    problem.addConstraint(pulp.LpConstraint(row, _PULP_SENSE[sense], name, rhs))
    v.rows.append(RuleRow(rule_id, scope, year, stage, lhs, sense, rhs, tuple(slacks), name))


def spend_expression(tables: PlanTables, v: PlanVariables,
                     years: Iterable[int]) -> pulp.LpAffineExpression:
    """Capital spent in ``years`` (CNY): options opened and modules added.

    ``Σ_{t ∈ years} (Σ_{c, k} cost[c, k] · open[c, k, t]
    + Σ_{s, g} module_cost[s, g] · m[s, g, t])``
    """
    wanted = set(years)
    terms = [(y, tables.options[(c, k)].cost_cny) for (c, k, t), y in v.open.items()
             if t in wanted]
    terms += [(m, tables.existing[(s, g)].module_cost_cny) for (s, g, t), m in v.modules.items()
              if t in wanted]
    return expression(terms)


@rule("N-01", kind=Kind.HARD, family="budget",
      params=("rules.budget_by_period", "rules.budget_total", "rules.carry_over"))
def add_budget(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables,
               rules: PlanRules) -> None:
    """Capital budget per period, cumulative with carry-over, and over the horizon (N-01).

    Per period: ``spend[t] <= budget[t]``; with carry-over
    ``Σ_{t' <= t} spend[t'] <= Σ_{t' <= t} budget[t']`` (sums over the periods that have a
    budget; a period without one is not capped); horizon:
    ``Σ_t spend[t] <= budget_total``   (CNY)
    """
    listed = sorted(rules.budget_by_period)
    for i, t in enumerate(listed):
        if rules.carry_over:
            years = listed[: i + 1]
            rhs = float(sum(rules.budget_by_period[y] for y in years))
            scope = f"{years[0]}-{t} cumulative" if len(years) > 1 else str(t)
            name = model_name("budget_cum", str(t))
        else:
            years, rhs, scope = [t], float(rules.budget_by_period[t]), str(t)
            name = model_name("budget", str(t))
        _add_rule_row(problem, v, rules.elastic, "N-01", scope, (name, (str(t),)), t, "",
                      spend_expression(tables, v, years), "<=", rhs)
    if rules.budget_total is not None:
        _add_rule_row(problem, v, rules.elastic, "N-01", "horizon",
                      ("budget_total", ("total",)), None, "",
                      spend_expression(tables, v, tables.periods), "<=",
                      float(rules.budget_total))


def projects_expression(v: PlanVariables, t: int) -> pulp.LpAffineExpression:
    """Projects of period ``t``: ``Σ_{c, k} open[c, k, t] + Σ_s e[s, t]`` (count)."""
    terms = [(y, 1.0) for (_, _, t0), y in v.open.items() if t0 == t]
    terms += [(e, 1.0) for (_, t0), e in v.expand.items() if t0 == t]
    return expression(terms)


@rule("N-02", kind=Kind.TARGET, family="budget",
      params=("rules.projects_by_period", "rules.projects_sense"))
def add_projects(problem: pulp.LpProblem, v: PlanVariables, rules: PlanRules) -> None:
    """Projects per period (N-02): new schools plus expanded schools, by ``projects_sense``.

    ``Σ_{c, k} open[c, k, t] + Σ_s e[s, t]  (= | >= | <=)  projects[t]``   (count; an
    expanded school counts once per period in which it adds modules)
    """
    sense = ROW_SENSE[rules.projects_sense]
    for t in sorted(rules.projects_by_period):
        _add_rule_row(problem, v, rules.elastic, "N-02", f"projects {t}",
                      (model_name("projects", str(t)), (str(t),)), t, "",
                      projects_expression(v, t), sense, float(rules.projects_by_period[t]))


def _unique(seen: dict[str, int], key: list[str], rule: str) -> list[str]:
    """``key``, with ``__2``, ``__3`` ... appended when the rule already has a row under it."""
    base = model_name(rule, *key)
    seen[base] = seen.get(base, 0) + 1
    return key if seen[base] == 1 else [*key, str(seen[base])]


def _stage_label(stages: Iterable[str]) -> str:
    """``primary+junior`` style label of a set of stages."""
    return "+".join(stages)


@rule("J-04", kind=Kind.TARGET, family="seats", params=("rules.seat_targets",))
@rule("G-03", kind=Kind.TARGET, family="seats", params=("rules.seat_targets",))
@rule("N-03", kind=Kind.TARGET, family="seats", params=("rules.seat_targets",))
def add_seat_targets(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables,
                     rules: PlanRules) -> None:
    """Cumulative new public seats of one or several stages by a year (J-04, G-03, N-03).

    ``Σ_{g ∈ G} cap[g, Y] · (Σ_{public k ∋ g} Σ_{t <= Y} classes[k, g] · open[c, k, t]
    + Σ_{public s} Σ_{t <= Y} module_classes[s, g] · m[s, g, t]) >= min_seats``
    (seats: new classes of sites opened and of modules added up to year ``Y``, at the
    class cap of ``Y``)
    """
    seen: dict[str, int] = {}
    for target in rules.seat_targets:
        stages = tuple(dict.fromkeys(target.stages))
        y_ = target.year
        terms: list[tuple[pulp.LpVariable, float]] = []
        for (c, k, t), y in v.open.items():
            option = tables.options[(c, k)]
            if t <= y_ and option.ownership == "public":
                terms += [(y, tables.caps[(g, y_)] * option.classes[g])
                          for g in stages if g in option.classes]
        for (s, g, t), m in v.modules.items():
            if t <= y_ and g in stages and tables.schools[s].ownership == "public":
                step = tables.existing[(s, g)].module_classes or 0
                terms.append((m, tables.caps[(g, y_)] * step))
        label = _stage_label(stages)
        key = _unique(seen, [str(y_), "_".join(v.tokens.get(g, ascii_token(g)) for g in stages)],
                      rule_token(target.rule_id))
        _add_rule_row(problem, v, rules.elastic, target.rule_id,
                      f"{label} new public seats by {y_}",
                      (model_name("seat_target", rule_token(target.rule_id), *key), key), y_,
                      label, expression(terms), ">=", float(target.min_seats))


@rule("D-06", kind=Kind.TARGET, family="sites", params=("rules.count_targets",))
def add_count_targets(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables,
                      rules: PlanRules) -> None:
    """New schools serving a stage opened by a year (D-06).

    ``Σ_{c, k ∋ g} Σ_{t <= Y} open[c, k, t]  (= | >= | <=)  count``   (schools; a
    nine-year option counts for both its stages)
    """
    seen: dict[str, int] = {}
    for target in rules.count_targets:
        g, y_ = target.stage, target.year
        terms = [(y, 1.0) for (c, k, t), y in v.open.items()
                 if t <= y_ and g in tables.options[(c, k)].classes]
        key = _unique(seen, [v.tokens.get(g, ascii_token(g)), str(y_)],
                      rule_token(target.rule_id))
        _add_rule_row(problem, v, rules.elastic, target.rule_id, f"new {g} schools by {y_}",
                      (model_name("count_target", rule_token(target.rule_id), *key), key), y_,
                      g, expression(terms), ROW_SENSE[target.sense], float(target.count))


def share_percent(share: float) -> str:
    """A share as the rule report's scope writes it: ``0.55`` -> ``55 %``."""
    return f"{share * 100:.10g} %"


def counted_sites(tables: PlanTables, target: ShareTarget) -> set[str]:
    """Sites whose every option serving the target's stage has the target's ownership."""
    owners: dict[str, set[str]] = {}
    for option in tables.options.values():
        if target.stage in option.classes:
            owners.setdefault(option.site_id, set()).add(option.ownership)
    return {c for c, found in owners.items() if found == {target.ownership}}


@rule("N-12", kind=Kind.TARGET, family="seats", params=("rules.share_targets",))
def add_share_targets(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables,
                      rules: PlanRules) -> None:
    """Least public share of a stage's children in a year (N-12, 公办率).

    ``Σ_{z, s public} x[z, s, g, Y] >= min_share · Σ_{z reaching g} d[z, g, Y]``
    (children: assigned to public schools and public sites in ``Y`` against the share of
    all children of stage ``g`` in ``Y`` whose zone reaches a school or site of ``g``,
    seated or not, i.e. ``Σ x + Σ u``; with every child seated it is ``Σ public x / Σ x
    >= min_share``, and the share is never reached by leaving children unseated). A site
    is public when every option of it serving ``g`` is public. Elastic slack: children.
    Only the clause's public share is modelled: its 普惠 coverage (90 %), demonstration
    share (45 %) and rural-site standards need kindergarten types the data do not have.
    """
    seen: dict[str, int] = {}
    for target in rules.share_targets:
        g, y_ = target.stage, target.year
        counted = {s for s, school in tables.schools.items()
                   if school.ownership == target.ownership} | counted_sites(tables, target)
        terms = [(x, 1.0) for (_, s, g0, t), x in v.assign.items()
                 if g0 == g and t == y_ and s in counted]
        children = sum(tables.demand[key] for key in v.unmet if key[1] == g and key[2] == y_)
        key = _unique(seen, [v.tokens.get(g, ascii_token(g)), str(y_)],
                      rule_token(target.rule_id))
        _add_rule_row(problem, v, rules.elastic, target.rule_id,
                      f"{target.ownership} {g} share {y_} >= {share_percent(target.min_share)}",
                      (model_name("share_target", rule_token(target.rule_id), *key), key), y_,
                      g, expression(terms), ">=", float(target.min_share * children))
