"""Opening variables and the rows on them alone, shared by both siting formulations.

The assignment formulation (:mod:`allocator.siting`) and the radius formulation
(:mod:`allocator.siting_radius`) differ only in how clients are served; the opening
decisions ``y[c,g,k] ∈ {0,1}`` and the rows that involve nothing else are the same:

* one option per site: ``Σ_{g,k} y[c,g,k] <= 1`` (sites with >= 2 options);
* budget: ``Σ cost[k]·y <= B`` (CNY);
* open exactly ``p``: ``Σ y = p`` (count of opened options, i.e. of opened sites).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import pulp

from allocator.siting_data import OptionKey, SiteOption, SitingTables
from allocator.solvers.names import model_name, token_map

__all__ = [
    "OPEN_EXACTLY_ROW",
    "add_budget",
    "add_constraint",
    "add_one_option",
    "add_open_exactly",
    "add_open_variables",
    "openable_options",
    "tokens_of",
]

OPEN_EXACTLY_ROW = "open_exactly"


def add_constraint(
    problem: pulp.LpProblem,
    terms: list[tuple[pulp.LpVariable, float]],
    sense: int,
    rhs: float,
    name: str,
) -> None:
    """Add ``Σ coef·var (sense) rhs`` under ``name``."""
    expression = pulp.LpAffineExpression(terms)
    problem.addConstraint(pulp.LpConstraint(expression, sense=sense, rhs=rhs, name=name))


def tokens_of(tables: SitingTables) -> dict[str, str]:
    """Name token of every id of the tables (see :func:`allocator.solvers.names.token_map`)."""
    ids: list[str] = [i for key in (*tables.demand, *tables.existing) for i in key]
    ids += [i for c, g, _ in tables.options for i in (c, g)]
    return token_map(ids)


def openable_options(tables: SitingTables, every_option: bool) -> dict[OptionKey, SiteOption]:
    """Options that get an opening variable.

    Parameters
    ----------
    tables
        Validated inputs.
    every_option
        Keep every option (needed with ``open_exactly``: a site nobody reaches still counts
        towards ``p``); otherwise only options of (site, stage) combinations some zone with
        demand can reach.

    Returns
    -------
    dict of OptionKey to SiteOption
        The options, in key order.
    """
    if every_option:
        return dict(tables.options)
    reached = {(s, g) for _, s, g in tables.pairs}
    return {key: opt for key, opt in tables.options.items() if (key[0], key[1]) in reached}


def add_open_variables(
    problem: pulp.LpProblem,
    tables: SitingTables,
    tokens: Mapping[str, str],
    every_option: bool,
) -> dict[OptionKey, pulp.LpVariable]:
    """Binary ``y[c,g,k]``, ``open__<site>__<stage>__c<classes>`` (see :func:`openable_options`)."""
    return {
        (c, g, k): problem.add_variable(
            model_name("open", tokens[c], tokens[g], f"c{k}"), 0, 1, pulp.LpBinary
        )
        for c, g, k in openable_options(tables, every_option)
    }


def add_one_option(
    problem: pulp.LpProblem,
    open_vars: Mapping[OptionKey, pulp.LpVariable],
    tokens: Mapping[str, str],
) -> None:
    """At most one size option per site over all its stages (sites with >= 2 options).

    ``Σ_{g,k} y[c,g,k] <= 1``
    """
    by_site: dict[str, list[pulp.LpVariable]] = defaultdict(list)
    for (c, _, _), y in open_vars.items():
        by_site[c].append(y)
    for c, ys in sorted(by_site.items()):
        if len(ys) > 1:
            terms = [(y, 1.0) for y in ys]
            add_constraint(
                problem, terms, pulp.LpConstraintLE, 1.0, model_name("one_option", tokens[c])
            )


def add_budget(
    problem: pulp.LpProblem,
    tables: SitingTables,
    open_vars: Mapping[OptionKey, pulp.LpVariable],
    budget_cny: float | None,
) -> None:
    """Capital budget, if given and some option can open.

    ``Σ_{c,g,k} cost[k]·y[c,g,k] <= B``   (CNY)
    """
    if budget_cny is None or not open_vars:
        return
    terms = [(y, tables.options[key].cost_cny) for key, y in open_vars.items()]
    add_constraint(problem, terms, pulp.LpConstraintLE, budget_cny, "budget")


def add_open_exactly(
    problem: pulp.LpProblem,
    open_vars: Mapping[OptionKey, pulp.LpVariable],
    open_exactly: int | None,
) -> None:
    """Open exactly ``p`` options (sites, with at most one option each), if ``p`` is given.

    ``Σ_{c,g,k} y[c,g,k] = p``
    """
    if open_exactly is None:
        return
    terms = [(y, 1.0) for y in open_vars.values()]
    add_constraint(problem, terms, pulp.LpConstraintEQ, float(open_exactly), OPEN_EXACTLY_ROW)
