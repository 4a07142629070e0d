"""Seat, assignment and school-size constraint families of the plan model.

One function per family, each stating its formula; :func:`allocator.plan.solve.build_plan_model`
calls them in the recipe order of :mod:`allocator.plan`. Budget, project and target rows
(the rows that can be relaxed in elastic mode) live in :mod:`allocator.plan.targets`.
Notation as in the package docstring: ``z`` zone, ``s`` existing school, ``c`` candidate
site, ``k`` option, ``g`` stage, ``t`` period year, ``t' <= t`` periods up to ``t``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import pulp

from allocator.plan.validate import PlanTables
from allocator.plan.variables import PlanVariables, RowSense, RuleRow
from allocator.rules import Kind, rule
from allocator.solvers.names import model_name

__all__ = [
    "add_closed_flows",
    "add_demand",
    "add_equity",
    "add_existing_capacity",
    "add_expansion_projects",
    "add_link",
    "add_migrant_public",
    "add_no_close_while_opening",
    "add_one_closure",
    "add_one_option",
    "add_row",
    "add_school_size",
    "add_site_capacity",
    "add_stage_size",
    "cumulative_modules",
    "cumulative_opens",
    "expression",
]

Terms = Iterable[tuple[pulp.LpVariable, float]]
_SENSE: dict[RowSense, int] = {
    "<=": pulp.LpConstraintLE, ">=": pulp.LpConstraintGE, "=": pulp.LpConstraintEQ
}


def expression(terms: Terms, constant: float = 0.0) -> pulp.LpAffineExpression:
    """Linear expression ``Σ coef·var + constant``, coefficients of repeated variables summed."""
    coefs: dict[pulp.LpVariable, float] = {}
    for var, coef in terms:
        coefs[var] = coefs.get(var, 0.0) + coef
    return pulp.LpAffineExpression(list(coefs.items()), constant=constant)


def add_row(problem: pulp.LpProblem, terms: Terms, sense: RowSense, rhs: float,
            name: str) -> None:
    """Add ``Σ coef·var (sense) rhs`` under ``name``."""
    row = pulp.LpConstraint(expression(terms), sense=_SENSE[sense], rhs=rhs, name=name)
    problem.addConstraint(row)


def cumulative_opens(
    tables: PlanTables, v: PlanVariables
) -> dict[tuple[str, str, int], list[tuple[pulp.LpVariable, int]]]:
    """``(site, stage, t) -> [(open[c, k, t'], classes[k, g]) for k ∋ g, t' <= t]``."""
    out: dict[tuple[str, str, int], list[tuple[pulp.LpVariable, int]]] = defaultdict(list)
    for (c, k, t0), y in v.open.items():
        for g, n in tables.options[(c, k)].classes.items():
            for t in tables.periods:
                if t0 <= t:
                    out[(c, g, t)].append((y, n))
    return out


def cumulative_modules(
    tables: PlanTables, v: PlanVariables
) -> dict[tuple[str, str, int], list[pulp.LpVariable]]:
    """``(school, stage, t) -> [m[s, g, t'] for t' <= t]``."""
    out: dict[tuple[str, str, int], list[pulp.LpVariable]] = defaultdict(list)
    for (s, g, t0), m in v.modules.items():
        for t in tables.periods:
            if t0 <= t:
                out[(s, g, t)].append(m)
    return out


def _flows_by_school(v: PlanVariables) -> dict[tuple[str, str, int], list[pulp.LpVariable]]:
    """Assignment variables grouped by (school or site, stage, year), in key order."""
    flows: dict[tuple[str, str, int], list[pulp.LpVariable]] = defaultdict(list)
    for (_, s, g, t), x in v.assign.items():
        flows[(s, g, t)].append(x)
    return dict(sorted(flows.items()))


def add_demand(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables) -> None:
    """Demand balance, one row per zone, stage and year with a feasible pair.

    ``Σ_s x[z, s, g, t] + u[z, g, t] = d[z, g, t]``   (persons)
    """
    rows: dict[tuple[str, str, int], list[tuple[pulp.LpVariable, float]]] = defaultdict(list)
    for (z, _, g, t), x in v.assign.items():
        rows[(z, g, t)].append((x, 1.0))
    tok = v.tokens
    for (z, g, t), u in v.unmet.items():
        name = model_name("demand", tok[z], tok[g], str(t))
        add_row(problem, [*rows[(z, g, t)], (u, 1.0)], "=", tables.demand[(z, g, t)], name)


def add_one_option(problem: pulp.LpProblem, v: PlanVariables) -> None:
    """A site opens at most once, with one option, in one period.

    ``Σ_{k, t} open[c, k, t] <= 1``
    """
    by_site: dict[str, list[pulp.LpVariable]] = defaultdict(list)
    for (c, _, _), y in v.open.items():
        by_site[c].append(y)
    for c, ys in sorted(by_site.items()):
        if len(ys) > 1:
            add_row(problem, ((y, 1.0) for y in ys), "<=", 1.0,
                    model_name("one_option", v.tokens[c]))


@rule("D-13", kind=Kind.HARD, family="seats", params=("standards.class_caps",))
def add_site_capacity(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables) -> None:
    """Seats of a candidate site by stage and year at that year's class cap (D-13, Z-18).

    ``Σ_z x[z, c, g, t] <= cap[g, t] · Σ_{k ∋ g} Σ_{t' <= t} classes[k, g] · open[c, k, t']``
    (seats; opening is irreversible, so seats opened at ``t'`` count in every later year,
    at the cap of that year).
    """
    opens = cumulative_opens(tables, v)
    tok = v.tokens
    for (c, g, t), flows in _flows_by_school(v).items():
        if (c, g) in tables.existing:
            continue
        cap = tables.caps[(g, t)]
        lhs = expression((x, 1.0) for x in flows)
        seats = expression((y, cap * n) for y, n in opens[(c, g, t)])
        name = model_name("cap_site", tok[c], tok[g], str(t))
        problem.addConstraint(pulp.LpConstraint(lhs - seats, pulp.LpConstraintLE, name, 0.0))
        v.rows.append(RuleRow("D-13", f"site {c} {g} {t}", t, g, lhs, "<=", seats, (), name))


def add_link(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables) -> None:
    """Assignments to a site only once it is open (strong form, one row per pair and year).

    ``x[z, c, g, t] <= d[z, g, t] · Σ_{k ∋ g} Σ_{t' <= t} open[c, k, t']``   (persons)
    """
    opens = cumulative_opens(tables, v)
    tok = v.tokens
    for (z, c, g, t), x in v.assign.items():
        if (c, g) in tables.existing:
            continue
        d = tables.demand[(z, g, t)]
        terms = [(x, 1.0), *((y, -d) for y, _ in opens[(c, g, t)])]
        add_row(problem, terms, "<=", 0.0, model_name("link", tok[z], tok[c], tok[g], str(t)))


@rule("D-13", kind=Kind.HARD, family="seats", params=("standards.class_caps",))
def add_existing_capacity(problem: pulp.LpProblem, tables: PlanTables,
                          v: PlanVariables) -> None:
    """Seats of an existing school by stage and year at that year's class cap (D-13, Z-18).

    ``Σ_z x[z, s, g, t] <= cap[g, t] · (classes[s, g]
    + module_classes[s, g] · Σ_{t' <= t} m[s, g, t'])``   (seats)
    """
    modules = cumulative_modules(tables, v)
    tok = v.tokens
    for (s, g, t), flows in _flows_by_school(v).items():
        row = tables.existing.get((s, g))
        if row is None:
            continue
        cap = tables.caps[(g, t)]
        lhs = expression((x, 1.0) for x in flows)
        step = cap * (row.module_classes or 0)
        seats = expression(((m, step) for m in modules.get((s, g, t), [])), cap * row.classes)
        name = model_name("cap_existing", tok[s], tok[g], str(t))
        problem.addConstraint(pulp.LpConstraint(lhs - seats, pulp.LpConstraintLE, name, 0.0))
        v.rows.append(RuleRow("D-13", f"school {s} {g} {t}", t, g, lhs, "<=", seats, (), name))


def add_closed_flows(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables) -> None:
    """No children in a school from the period it closes.

    ``Σ_z x[z, s, g, t] <= M[s, g, t] · (1 - Σ_{t' <= t} q[s, t'])`` with ``M`` the smaller
    of the school's largest seats (all modules built) and the demand that can reach it
    (persons).
    """
    closes: dict[str, list[tuple[int, pulp.LpVariable]]] = defaultdict(list)
    for (s, t0), q in v.close.items():
        closes[s].append((t0, q))
    reach: dict[tuple[str, str, int], float] = defaultdict(float)
    for z, s, g, t in v.assign:
        reach[(s, g, t)] += tables.demand[(z, g, t)]
    tok = v.tokens
    for (s, g, t), flows in _flows_by_school(v).items():
        qs = [q for t0, q in closes.get(s, []) if t0 <= t]
        row = tables.existing.get((s, g))
        if not qs or row is None:
            continue
        most = row.classes + (row.module_classes or 0) * v.module_ub.get((s, g), 0)
        big = min(tables.caps[(g, t)] * most, reach[(s, g, t)])
        terms = [*((x, 1.0) for x in flows), *((q, big) for q in qs)]
        add_row(problem, terms, "<=", big, model_name("closed", tok[s], tok[g], str(t)))


def _modules_by_school(v: PlanVariables) -> dict[str, list[tuple[str, pulp.LpVariable]]]:
    """``school -> [(stage, m[s, g, t])]`` over all stages and years, in key order."""
    out: dict[str, list[tuple[str, pulp.LpVariable]]] = defaultdict(list)
    for (s, g, _), m in v.modules.items():
        out[s].append((g, m))
    return dict(sorted(out.items()))


def _classes_after(tables: PlanTables, s: str, stages: Iterable[str],
                   modules: Iterable[tuple[str, pulp.LpVariable]]) -> pulp.LpAffineExpression:
    """Classes of school ``s`` in ``stages`` after all expansions (constant + modules)."""
    wanted = set(stages)
    now = sum(tables.existing[(s, g)].classes for g in wanted)
    terms = [
        (m, float(tables.existing[(s, g)].module_classes or 0))
        for g, m in modules
        if g in wanted
    ]
    return expression(terms, float(now))


@rule("D-14", kind=Kind.HARD, family="seats", params=("existing.max_classes",))
def add_school_size(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables) -> None:
    """A school grows only within its land and size limit (D-14), over all its stages.

    ``Σ_g (classes[s, g] + module_classes[s, g] · Σ_t m[s, g, t])
    <= max(max_classes[s], Σ_g classes[s, g])``   (classes; a school already above its
    limit is not expanded, never forced to shrink)
    """
    stages_of: dict[str, list[str]] = defaultdict(list)
    for s, g in tables.existing:
        stages_of[s].append(g)
    tok = v.tokens
    for s, modules in _modules_by_school(v).items():
        lhs = _classes_after(tables, s, stages_of[s], modules)
        limit = tables.schools[s].max_classes
        assert limit is not None  # modules exist only with a finite max_classes
        rhs = max(float(limit), lhs.constant)
        name = model_name("school_size", tok[s])
        problem.addConstraint(pulp.LpConstraint(lhs, pulp.LpConstraintLE, name, rhs))
        v.rows.append(RuleRow("D-14", f"school {s} classes", None, "", lhs, "<=", rhs, (), name))


@rule("N-05", kind=Kind.HARD, family="seats", params=("rules.max_classes_by_stage",))
def add_stage_size(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables,
                   limits: Mapping[str, int]) -> None:
    """A school's classes of a stage stay within the stage's size limit (N-05).

    ``classes[s, g] + module_classes[s, g] · Σ_t m[s, g, t]
    <= max(max_classes_by_stage[g], classes[s, g])``   (classes)
    """
    by_school = _modules_by_school(v)
    keys = sorted({(s, g) for s, g, _ in v.modules if g in limits})
    tok = v.tokens
    for s, g in keys:
        lhs = _classes_after(tables, s, [g], by_school[s])
        rhs = max(float(limits[g]), lhs.constant)
        name = model_name("stage_size", tok[s], tok[g])
        problem.addConstraint(pulp.LpConstraint(lhs, pulp.LpConstraintLE, name, rhs))
        v.rows.append(RuleRow("N-05", f"school {s} {g} classes", None, g, lhs, "<=", rhs, (),
                              name))


def add_expansion_projects(problem: pulp.LpProblem, v: PlanVariables) -> None:
    """``e[s, t] = 1`` exactly when school ``s`` adds modules in period ``t`` (for N-02).

    ``m[s, g, t] <= ub[s, g] · e[s, t]`` for every stage, and ``e[s, t] <= Σ_g m[s, g, t]``.
    """
    by_key: dict[tuple[str, int], list[tuple[str, pulp.LpVariable]]] = defaultdict(list)
    for (s, g, t), m in v.modules.items():
        by_key[(s, t)].append((g, m))
    tok = v.tokens
    for (s, t), e in v.expand.items():
        for g, m in by_key[(s, t)]:
            add_row(problem, [(m, 1.0), (e, -float(v.module_ub[(s, g)]))], "<=", 0.0,
                    model_name("expand_on", tok[s], tok[g], str(t)))
        terms = [(e, 1.0), *((m, -1.0) for _, m in by_key[(s, t)])]
        add_row(problem, terms, "<=", 0.0, model_name("expand_off", tok[s], str(t)))


def add_one_closure(problem: pulp.LpProblem, v: PlanVariables) -> None:
    """A school closes at most once: ``Σ_t q[s, t] <= 1``."""
    by_school: dict[str, list[pulp.LpVariable]] = defaultdict(list)
    for (s, _), q in v.close.items():
        by_school[s].append(q)
    for s, qs in sorted(by_school.items()):
        if len(qs) > 1:
            add_row(problem, ((q, 1.0) for q in qs), "<=", 1.0,
                    model_name("one_closure", v.tokens[s]))


@rule("D-10", kind=Kind.HARD, family="sites", params=("catchment", "rules.allow_closures"))
def add_no_close_while_opening(problem: pulp.LpProblem, tables: PlanTables,
                               v: PlanVariables) -> None:
    """No closure in a catchment in a period in which a school opens there (D-10).

    ``q[s, t] + Σ_k open[c, k, t] <= 1`` for every catchment pair ``(s, c)`` and year ``t``
    (schools that may close, sites that may open).
    """
    opens: dict[tuple[str, int], list[pulp.LpVariable]] = defaultdict(list)
    for (c, _, t), y in v.open.items():
        opens[(c, t)].append(y)
    tok = v.tokens
    for s, c in tables.catchment:
        for t in tables.periods:
            q = v.close.get((s, t))
            ys = opens.get((c, t), [])
            if q is None or not ys:
                continue
            lhs = expression([(q, 1.0), *((y, 1.0) for y in ys)])
            name = model_name("no_close_open", tok[s], tok[c], str(t))
            problem.addConstraint(pulp.LpConstraint(lhs, pulp.LpConstraintLE, name, 1.0))
            v.rows.append(RuleRow("D-10", f"close school {s} / open site {c} in {t}", t, "",
                                  lhs, "<=", 1.0, (), name))


@rule("D-23", kind=Kind.HARD, family="seats",
      params=("demand.migrant", "rules.migrant_public", "rules.public_only_stages"))
def add_migrant_public(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables,
                       public_only: Iterable[str]) -> None:
    """Migrant children of public-only stages go to public schools (D-23).

    ``Σ_{s private} x[z, s, g, t] <= d[z, g, t] - migrant[z, g, t]``   (persons; for
    ``g`` in ``public_only_stages``, rows with migrants and a private school in reach)
    """
    stages = set(public_only)
    private = {s for s, school in tables.schools.items() if school.ownership == "private"}
    private |= {o.site_id for o in tables.options.values() if o.ownership == "private"}
    flows: dict[tuple[str, str, int], list[pulp.LpVariable]] = defaultdict(list)
    for (z, s, g, t), x in v.assign.items():
        if s in private and g in stages and (z, g, t) in tables.migrant:
            flows[(z, g, t)].append(x)
    tok = v.tokens
    for (z, g, t), xs in sorted(flows.items()):
        rhs = tables.demand[(z, g, t)] - tables.migrant[(z, g, t)]
        lhs = expression((x, 1.0) for x in xs)
        name = model_name("migrant_public", tok[z], tok[g], str(t))
        problem.addConstraint(pulp.LpConstraint(lhs, pulp.LpConstraintLE, name, rhs))
        v.rows.append(RuleRow("D-23", f"zone {z} {g} {t} in private schools", t, g, lhs, "<=",
                              rhs, (), name))


def add_equity(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables) -> None:
    """The largest unmet share bounds every zone's, stage's and year's share.

    ``u[z, g, t] <= d[z, g, t] · v``   (persons; ``v`` dimensionless)
    """
    share = v.share
    if share is None:
        return
    tok = v.tokens
    for (z, g, t), u in v.unmet.items():
        add_row(problem, [(u, 1.0), (share, -tables.demand[(z, g, t)])], "<=", 0.0,
                model_name("equity", tok[z], tok[g], str(t)))
