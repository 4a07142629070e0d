"""Objective terms of the plan model (see :mod:`allocator.plan` for the two modes).

Every term is an expression of the model's variables in its own unit; the weights of
:class:`~allocator.plan.data.PlanWeights` turn them into objective units.
"""

from __future__ import annotations

import pulp

from allocator.plan.constraints import expression
from allocator.plan.data import PlanInput, PlanWeights
from allocator.plan.validate import PlanTables
from allocator.plan.variables import PlanVariables

__all__ = [
    "capital_expression",
    "elastic_expression",
    "first_objective",
    "second_objective",
    "set_objective",
    "travel_expression",
    "unmet_expression",
]


def unmet_expression(v: PlanVariables) -> pulp.LpAffineExpression:
    """Reachable unmet children over zones, stages and years ``Σ u`` (child-periods)."""
    return expression((u, 1.0) for u in v.unmet.values())


def elastic_expression(v: PlanVariables, weights: PlanWeights) -> pulp.LpAffineExpression:
    """Priced elastic slack ``Σ_rows penalty[rule] · Σ slack`` (objective units)."""
    return expression(
        (slack, weights.elastic_penalty_of(row.rule_id)) for row in v.rows for slack in row.elastic
    )


def capital_expression(tables: PlanTables, v: PlanVariables) -> pulp.LpAffineExpression:
    """Capital cost net of closure values (CNY).

    ``Σ cost[c, k] · open[c, k, t] + Σ module_cost[s, g] · m[s, g, t]
    - Σ closure_value[s] · q[s, t]``
    """
    terms = [(y, tables.options[(c, k)].cost_cny) for (c, k, _), y in v.open.items()]
    terms += [(m, tables.existing[(s, g)].module_cost_cny) for (s, g, _), m in v.modules.items()]
    terms += [(q, -tables.schools[s].closure_value_cny) for (s, _), q in v.close.items()]
    return expression(terms)


def travel_expression(tables: PlanTables, v: PlanVariables) -> pulp.LpAffineExpression:
    """Travel ``Σ dist[z, s, g] · x[z, s, g, t]`` (child·metres, summed over years)."""
    return expression((x, tables.pairs[(z, s, g)]) for (z, s, g, _), x in v.assign.items())


def first_objective(v: PlanVariables, weights: PlanWeights) -> pulp.LpAffineExpression:
    """Phase 1 of the lexicographic mode: ``Σ u + Σ penalty · slack``.

    Unmet child-periods (weight 1) and elastic slack (``elastic_penalty`` per unit, e.g.
    1,000 per seat short of a target: a rule gives only where keeping it would leave more
    than that many child-periods unmet, which no target can do by itself).
    """
    return unmet_expression(v) + elastic_expression(v, weights)


def second_objective(tables: PlanTables, v: PlanVariables,
                     weights: PlanWeights) -> pulp.LpAffineExpression:
    """Cost, travel and equity (objective units): phase 2, and part of the weighted mode.

    ``cost_weight · capital + travel_weight · travel + equity_weight · v``; with a
    zone out of reach of every school the largest unmet share is 1 and enters as a
    constant.
    """
    out = (weights.cost_weight * capital_expression(tables, v)
           + weights.travel_weight * travel_expression(tables, v))
    if weights.equity_weight > 0:
        if v.share is not None:
            out += weights.equity_weight * v.share
        elif v.fixed_unmet:
            out += weights.equity_weight * 1.0
    return out


def set_objective(problem: pulp.LpProblem, tables: PlanTables, v: PlanVariables,
                  data: PlanInput) -> None:
    """Weighted objective, or the phase-1 objective in lexicographic mode.

    Weighted: ``unmet_penalty · (Σ u + Σ fixed_unmet) + cost_weight · capital
    + travel_weight · travel + equity_weight · v + Σ penalty · slack``.
    """
    w = data.weights
    if data.lexicographic:
        problem.setObjective(first_objective(v, w))
        return
    unmet = unmet_expression(v) + sum(v.fixed_unmet.values())
    problem.setObjective(
        w.unmet_penalty * unmet + second_objective(tables, v, w) + elastic_expression(v, w)
    )
