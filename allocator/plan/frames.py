"""Result tables of a plan run (see :class:`allocator.plan.data.PlanResult`).

:func:`solution_frames` reads the solver's values from the model variables into tidy,
sorted DataFrames with fixed columns and dtypes; :func:`empty_frames` gives the same
columns without rows. Persons are rounded to 1e-6, flows below 1e-6 persons dropped,
binaries read as ``value > 0.5`` and modules rounded to whole numbers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import pulp

from allocator.plan.data import PlanRules
from allocator.plan.validate import PlanTables
from allocator.plan.variables import PlanVariables, RuleRow

__all__ = [
    "SCHEMAS",
    "PlanFrames",
    "empty_frames",
    "objective_terms",
    "side_value",
    "solution_frames",
]

ASSIGN_TOL = 1e-6  # persons; flows below this are dropped
_ROUND = 6

SCHEMAS: dict[str, dict[str, str]] = {
    "opened": {"site_id": "str", "option_id": "str", "year": "int64", "stage": "str",
               "classes": "int64", "ownership": "str", "cost_cny": "float64"},
    "expansions": {"school_id": "str", "stage": "str", "year": "int64", "modules": "int64",
                   "classes_added": "int64", "cost_cny": "float64"},
    "closures": {"school_id": "str", "year": "int64"},
    "capacity": {"school_id": "str", "kind": "str", "stage": "str", "year": "int64",
                 "classes": "int64", "cap": "float64", "seats": "float64",
                 "enrolled": "float64", "ownership": "str"},
    "assignments": {"zone_id": "str", "school_id": "str", "stage": "str", "year": "int64",
                    "children": "float64", "distance_m": "float64"},
    "unmet": {"zone_id": "str", "stage": "str", "year": "int64", "children": "float64",
              "unmet": "float64"},
    "spend": {"year": "int64", "capital_cny": "float64", "budget_cny": "float64",
              "projects": "int64"},
    "rule_report": {"rule_id": "str", "scope": "str", "year": "Int64", "stage": "str",
                    "lhs": "float64", "sense": "str", "rhs": "float64", "slack": "float64",
                    "elastic": "float64"},
}
_SORT: dict[str, list[str]] = {
    "opened": ["site_id", "year", "stage"],
    "expansions": ["school_id", "stage", "year"],
    "closures": ["school_id", "year"],
    "capacity": ["school_id", "stage", "year"],
    "assignments": ["zone_id", "school_id", "stage", "year"],
    "unmet": ["zone_id", "stage", "year"],
    "spend": ["year"],
    "rule_report": [],  # build order: rule families in recipe order, rows in key order
}


@dataclass(frozen=True, eq=False)
class PlanFrames:
    """The result tables (columns as in :class:`allocator.plan.data.PlanResult`)."""

    opened: pd.DataFrame
    expansions: pd.DataFrame
    closures: pd.DataFrame
    capacity: pd.DataFrame
    assignments: pd.DataFrame
    unmet: pd.DataFrame
    spend: pd.DataFrame
    rule_report: pd.DataFrame


def _frame(name: str, records: Sequence[tuple[object, ...]]) -> pd.DataFrame:
    """DataFrame with the table's columns and dtypes, sorted by its id columns."""
    schema = SCHEMAS[name]
    frame = pd.DataFrame.from_records(records, columns=list(schema)).astype(dict(schema))
    if _SORT[name]:
        frame = frame.sort_values(_SORT[name], kind="mergesort")
    return frame.reset_index(drop=True)


def _value(var: pulp.LpVariable) -> float:
    """Solver value of a variable (0 when unset)."""
    value = var.value()
    return 0.0 if value is None else float(value)


def _number(value: float) -> float:
    """Round to 1e-6 and drop negative zero."""
    return round(value, _ROUND) + 0.0


def side_value(side: pulp.LpAffineExpression | float) -> float:
    """Value of one side of a rule row from the variables' values (unset counts as 0)."""
    if isinstance(side, pulp.LpAffineExpression):
        total = side.constant + sum(c * _value(var) for var, c in side.items())
        return float(total)
    return float(side)


def _rule_report(rows: list[RuleRow]) -> pd.DataFrame:
    """One row per rule constraint: sides, margin and elastic relaxation."""
    records: list[tuple[object, ...]] = []
    for row in rows:
        lhs, rhs = side_value(row.lhs), side_value(row.rhs)
        margin = {"<=": rhs - lhs, ">=": lhs - rhs, "=": -abs(lhs - rhs)}[row.sense]
        elastic = sum(_value(s) for s in row.elastic)
        records.append((row.rule_id, row.scope, row.year, row.stage, _number(lhs), row.sense,
                        _number(rhs), _number(max(margin, 0.0)), _number(elastic)))
    return _frame("rule_report", records)


def _opened(tables: PlanTables, v: PlanVariables) -> list[tuple[str, str, int]]:
    """Opened ``(site_id, option_id, year)``."""
    return [key for key, y in v.open.items() if _value(y) > 0.5]


def _modules(v: PlanVariables) -> dict[tuple[str, str, int], int]:
    """Modules built by ``(school_id, stage, year)`` (positive only)."""
    out = {key: round(_value(m)) for key, m in v.modules.items()}
    return {key: n for key, n in out.items() if n > 0}


def _closures(v: PlanVariables) -> dict[str, int]:
    """Closure year of every closed school."""
    return {s: t for (s, t), q in v.close.items() if _value(q) > 0.5}


def _capacity(tables: PlanTables, opened: list[tuple[str, str, int]],
              modules: Mapping[tuple[str, str, int], int], closed: Mapping[str, int],
              enrolled: Mapping[tuple[str, str, int], float]) -> list[tuple[object, ...]]:
    """Classes, seats and enrolment of every school and opened site by stage and year."""
    records: list[tuple[object, ...]] = []
    built: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for (s, g, t), n in modules.items():
        built[(s, g)].append((t, n))
    for (s, g), row in tables.existing.items():
        school = tables.schools[s]
        for t in tables.periods:
            if (g, t) not in tables.caps:
                continue
            added = sum(n for t2, n in built.get((s, g), []) if t2 <= t)
            classes = row.classes + added * (row.module_classes or 0)
            if s in closed and closed[s] <= t:
                classes = 0
            cap = tables.caps[(g, t)]
            records.append((s, "existing", g, t, classes, cap, classes * cap,
                            _number(enrolled.get((s, g, t), 0.0)), school.ownership))
    for c, k, t0 in opened:
        option = tables.options[(c, k)]
        for g, n in option.classes.items():
            for t in tables.periods:
                if t >= t0 and (g, t) in tables.caps:
                    cap = tables.caps[(g, t)]
                    records.append((c, "new", g, t, n, cap, n * cap,
                                    _number(enrolled.get((c, g, t), 0.0)), option.ownership))
    return records


def _spend(tables: PlanTables, rules: PlanRules, opened: list[tuple[str, str, int]],
           modules: Mapping[tuple[str, str, int], int]) -> list[tuple[object, ...]]:
    """Capital, budget and projects per period."""
    capital: dict[int, float] = defaultdict(float)
    projects: dict[int, int] = defaultdict(int)
    for c, k, t in opened:
        capital[t] += tables.options[(c, k)].cost_cny
        projects[t] += 1
    expanded = set()
    for (s, g, t), n in modules.items():
        capital[t] += n * tables.existing[(s, g)].module_cost_cny
        expanded.add((s, t))
    for _, t in expanded:
        projects[t] += 1
    return [(t, capital[t], float(rules.budget_by_period.get(t, math.nan)), projects[t])
            for t in tables.periods]


def solution_frames(tables: PlanTables, v: PlanVariables, rules: PlanRules) -> PlanFrames:
    """Tabulate the solution held by the model variables.

    Parameters
    ----------
    tables
        Validated inputs of the run.
    v
        Model variables holding a solution.
    rules
        Rules of the run (for the budget column).

    Returns
    -------
    PlanFrames
        The sorted tables. ``opened.cost_cny`` is the whole option's cost, repeated on
        each stage row as in the input.
    """
    opened = _opened(tables, v)
    modules = _modules(v)
    closed = _closures(v)
    flows: list[tuple[object, ...]] = []
    enrolled: dict[tuple[str, str, int], float] = defaultdict(float)
    for (z, s, g, t), x in v.assign.items():
        children = _number(min(max(_value(x), 0.0), tables.demand[(z, g, t)]))
        if children > ASSIGN_TOL:
            flows.append((z, s, g, t, children, tables.pairs[(z, s, g)]))
            enrolled[(s, g, t)] += children
    unmet: list[tuple[object, ...]] = []
    for key, d in tables.demand.items():
        var = v.unmet.get(key)
        left = d if var is None else _number(min(max(_value(var), 0.0), d))
        unmet.append((*key, d, left if d > 0 else 0.0))
    opened_rows = [(c, k, t, g, n, o.ownership, o.cost_cny)
                   for c, k, t in opened
                   for o in [tables.options[(c, k)]] for g, n in o.classes.items()]
    expansions = [(s, g, t, n, n * (tables.existing[(s, g)].module_classes or 0),
                   n * tables.existing[(s, g)].module_cost_cny)
                  for (s, g, t), n in modules.items()]
    return PlanFrames(
        opened=_frame("opened", opened_rows),
        expansions=_frame("expansions", expansions),
        closures=_frame("closures", sorted(closed.items())),
        capacity=_frame("capacity", _capacity(tables, opened, modules, closed, enrolled)),
        assignments=_frame("assignments", flows),
        unmet=_frame("unmet", unmet),
        spend=_frame("spend", _spend(tables, rules, opened, modules)),
        rule_report=_rule_report(v.rows),
    )


def empty_frames() -> PlanFrames:
    """The tables without rows (same columns and dtypes), for a run without a solution."""
    return PlanFrames(**{name: _frame(name, []) for name in SCHEMAS})


def objective_terms(frames: PlanFrames, tables: PlanTables) -> dict[str, float]:
    """Achieved objective terms, summed from the tables.

    Returns
    -------
    dict of str to float
        ``unmet_children`` (child-periods, out-of-reach ones included),
        ``capital_cost_cny`` (options opened and modules added, CNY), ``travel_child_m``
        (Σ children · distance over years, child·metres), ``max_unmet_share`` (largest
        ``unmet / children`` over demand rows with children), ``elastic_slack`` (Σ of the
        rule report's ``elastic``, in each rule's own unit) and ``closure_value_cny``
        (value of the closures, CNY).
    """
    unmet = frames.unmet
    positive = unmet[unmet["children"] > 0]
    share = float((positive["unmet"] / positive["children"]).max()) if len(positive) else 0.0
    opened_cost = frames.opened.drop_duplicates(["site_id", "option_id"])["cost_cny"].sum()
    capital = float(opened_cost) + float(frames.expansions["cost_cny"].sum())
    travel = float((frames.assignments["children"] * frames.assignments["distance_m"]).sum())
    closure = sum(tables.schools[s].closure_value_cny for s in frames.closures["school_id"])
    return {
        "unmet_children": _number(float(unmet["unmet"].sum())),
        "capital_cost_cny": _number(capital),
        "travel_child_m": _number(travel),
        "max_unmet_share": _number(share),
        "elastic_slack": _number(float(frames.rule_report["elastic"].sum())),
        "closure_value_cny": _number(float(closure)),
    }
