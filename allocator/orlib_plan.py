"""OR-Library instances as one-period inputs of the multi-period siting model.

:mod:`allocator.orlib` reads the OR-Library ``pmed*`` and ``cap*`` files and maps them onto
the single-period siting model (:mod:`allocator.siting`). This module maps the same
instances onto :class:`allocator.plan.PlanInput`, so that the published optima also prove
the code path of ``allocator run``, the multi-period model :mod:`allocator.plan`
(validation, variables, constraint families, objective, solve and result tables).

Both mappings use one period (year :data:`PERIOD`), one stage (:data:`STAGE`), no existing
schools, and candidate sites with a single public option ``o1``. Lengths and costs of the
files are entered unchanged: a p-median length goes into ``distance_m`` and an OR-Library
cost unit into ``cost_cny`` (no unit conversion), so objective and bound are in the
file's units.

p-median (``pmedK``)
    Every vertex ``k`` is a zone ``v<k>`` with demand 1 and a candidate site ``s<k>``; the
    pairs are all ``n × n`` (zone, site) pairs at their shortest-path length. One class of
    cap ``n`` per site: ``classes × cap = n`` seats, the total demand, so capacity never
    binds (uncapacitated). Cost 0. A count target of exactly ``p`` new schools by the
    period, stated as :class:`~allocator.plan.CountTarget` with rule id ``D-06``: this is a
    structural reuse of D-06's count row (``Σ open = count``), not Dafeng's policy. Weighted
    mode (``lexicographic=False``) with ``travel_weight = 1``, ``cost_weight = 0`` and an
    unmet penalty above the longest distance, so every client is served in an optimum and
    the objective is ``Σ_z dist(z, nearest open site)``, the p-median objective.
capacitated warehouse location, split demand (``capXY``)
    Warehouse ``i`` is a candidate site ``w<i>`` whose option has ``cost_cny`` = fixed cost
    and ``capacity_i`` seats, written as ``classes_i × cap`` with ``cap`` the greatest
    common divisor of the capacities (cap71–74: one class of 58,268). Customer ``j`` is a
    zone ``c<j>`` with its demand. The file's allocation cost ``a_ij`` is the cost of
    serving **all** of ``j``'s demand from ``i`` (see ``tests/data/orlib/README.md``), so
    the pair's "distance" is the cost per unit of demand, ``distance_m = a_ij / d_j``, and
    the travel term ``Σ distance · x_ij`` equals ``Σ a_ij · (fraction of j served by i)``;
    flows are continuous (split demand). Lexicographic mode with
    ``cost_weight = travel_weight = 1``: phase 1 serves all the demand the capacities
    allow, phase 2 minimises fixed plus allocation cost, the published objective.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from allocator.orlib import STAGE, CapInstance, PMedianInstance, vertex_ids
from allocator.plan import CountTarget, PlanInput, PlanRules, PlanWeights

__all__ = [
    "COUNT_RULE",
    "OPTION",
    "PERIOD",
    "cap_plan_input",
    "orlib_plan_input",
    "pmedian_plan_input",
]

logger = logging.getLogger(__name__)

PERIOD = 1
"""The one period year of an OR-Library instance in the plan model (a label, not a date)."""

OPTION = "o1"
"""Option id of the single size option of every candidate site."""

COUNT_RULE = "D-06"
"""Rule id under which the p-median's "open exactly p" row is stated (structural reuse)."""


def _no_existing() -> pd.DataFrame:
    """An ``existing`` frame with its columns and no rows."""
    return pd.DataFrame({
        "school_id": pd.Series([], dtype=str),
        "stage": pd.Series([], dtype=str),
        "classes": pd.Series([], dtype="int64"),
    })


def _rules(count_targets: tuple[CountTarget, ...] = ()) -> PlanRules:
    """Rules of an OR-Library instance: no budget, projects or seat targets, no J-20/D-23.

    The one stage is not a compulsory stage, so the public-only rules have nothing to act
    on; they are switched off explicitly.
    """
    return PlanRules(count_targets=count_targets, public_only_stages=(), migrant_public=False)


def pmedian_plan_input(instance: PMedianInstance) -> PlanInput:
    """The p-median as a one-period plan input (see the module docstring).

    Zones ``v001`` ... and sites ``s001`` ... are the vertices; demand 1 per zone; every
    (zone, site) pair at its shortest-path length (file length units, entered as
    ``distance_m``); one option per site with 1 class of cap ``n`` (never binding) and
    cost 0; exactly ``p`` sites open (:class:`~allocator.plan.CountTarget` under rule id
    ``D-06``, a structural reuse of its count row). Weighted mode: ``travel_weight = 1``,
    ``cost_weight = 0``, ``unmet_penalty = max distance + 1``.

    Parameters
    ----------
    instance
        The p-median instance.

    Returns
    -------
    PlanInput
        Input whose optimal objective is the p-median optimum (length units).
    """
    n = instance.n
    zones = vertex_ids(n, "v")
    sites = vertex_ids(n, "s")
    dist = instance.distances
    return PlanInput(
        periods=(PERIOD,),
        demand=pd.DataFrame({"zone_id": zones, "stage": STAGE, "year": PERIOD,
                             "children": 1.0}),
        caps=pd.DataFrame({"stage": [STAGE], "year": [PERIOD], "cap": [float(n)]}),
        existing=_no_existing(),
        options=pd.DataFrame({"site_id": sites, "option_id": OPTION, "stage": STAGE,
                              "classes": 1, "cost_cny": 0.0}),
        pairs=pd.DataFrame({
            "zone_id": np.repeat(zones, n),
            "school_id": np.tile(sites, n),
            "stage": STAGE,
            "distance_m": dist.reshape(-1).astype(np.float64),
        }),
        rules=_rules((CountTarget(COUNT_RULE, STAGE, PERIOD, instance.p, "exact"),)),
        weights=PlanWeights(unmet_penalty=float(dist.max()) + 1.0, cost_weight=0.0,
                            travel_weight=1.0),
        lexicographic=False,
    )


def _capacity_classes(instance: CapInstance) -> tuple[int, list[int]]:
    """``cap`` and classes per warehouse with ``classes_i × cap = capacity_i``.

    ``cap`` is the greatest common divisor of the positive capacities; a warehouse of
    capacity 0 gets 0 classes (it can serve nobody and is left out of the input).

    Raises
    ------
    ValueError
        If a capacity is not a whole number (seats are whole classes times a cap per
        stage) or every capacity is 0; the message names the instance and warehouse.
    """
    whole = []
    for i, capacity in enumerate(instance.capacities, start=1):
        if capacity != math.floor(capacity):
            raise ValueError(
                f"{instance.name}: capacity {capacity:g} of warehouse {i} is not a whole number; "
                "the plan model states seats as whole classes times one class cap per stage"
            )
        whole.append(int(capacity))
    positive = [c for c in whole if c > 0]
    if not positive:
        raise ValueError(f"{instance.name}: every warehouse has capacity 0")
    cap = math.gcd(*positive)
    return cap, [c // cap for c in whole]


def cap_plan_input(instance: CapInstance) -> PlanInput:
    """The capacitated warehouse-location problem (split demand) as a one-period plan input.

    Warehouses ``w001`` ... are candidate sites, one option each: ``classes_i × cap`` seats
    = capacity (``cap`` the gcd of the capacities), ``cost_cny`` = fixed cost (file cost
    units). Customers ``c001`` ... are zones with their demand; every (customer, warehouse)
    pair has ``distance_m = a_ij / d_j``, the allocation cost per unit of demand (the file
    gives ``a_ij`` for all of ``j``'s demand; 0 for a customer of demand 0, which gets no
    flow). No existing schools. Lexicographic mode with ``cost_weight = travel_weight = 1``.
    A warehouse of capacity 0 is left out (it can serve nobody).

    Parameters
    ----------
    instance
        The warehouse-location instance.

    Returns
    -------
    PlanInput
        Input whose optimal (phase-2) objective is the published optimum (cost units).

    Raises
    ------
    ValueError
        If a capacity is not a whole number, or all are 0.
    """
    cap, classes = _capacity_classes(instance)
    warehouses = vertex_ids(instance.m, "w")
    keep = [i for i, k in enumerate(classes) if k > 0]
    if len(keep) < instance.m:
        logger.info("%s: %d warehouse(s) of capacity 0 left out", instance.name,
                    instance.m - len(keep))
    customers = vertex_ids(instance.n, "c")
    demand = instance.demands
    per_unit = np.divide(
        instance.allocation_costs,
        demand[None, :],
        out=np.zeros_like(instance.allocation_costs),
        where=demand[None, :] > 0,
    )[keep]  # kept warehouses × customers
    sites = [warehouses[i] for i in keep]
    return PlanInput(
        periods=(PERIOD,),
        demand=pd.DataFrame({"zone_id": customers, "stage": STAGE, "year": PERIOD,
                             "children": demand}),
        caps=pd.DataFrame({"stage": [STAGE], "year": [PERIOD], "cap": [float(cap)]}),
        existing=_no_existing(),
        options=pd.DataFrame({
            "site_id": sites,
            "option_id": OPTION,
            "stage": STAGE,
            "classes": [classes[i] for i in keep],
            "cost_cny": instance.fixed_costs[keep],
        }),
        pairs=pd.DataFrame({
            "zone_id": np.repeat(customers, len(sites)),
            "school_id": np.tile(sites, instance.n),
            "stage": STAGE,
            "distance_m": per_unit.T.reshape(-1),
        }),
        rules=_rules(),
        weights=PlanWeights(cost_weight=1.0, travel_weight=1.0),
        lexicographic=True,
    )


def orlib_plan_input(instance: PMedianInstance | CapInstance) -> PlanInput:
    """:func:`pmedian_plan_input` or :func:`cap_plan_input`, by instance type.

    Parameters
    ----------
    instance
        A p-median or warehouse-location instance.

    Returns
    -------
    PlanInput
        The one-period plan input of the instance.
    """
    if isinstance(instance, PMedianInstance):
        return pmedian_plan_input(instance)
    return cap_plan_input(instance)
