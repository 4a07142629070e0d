"""Radius (covering) formulation of the siting model for inputs whose capacities never bind.

When no school or site can be filled (every option's seats and every existing school's seats
are at least the whole demand that can reach it), the siting model is an uncapacitated
facility-location problem (with ``open_exactly``: a p-median problem) and every client is
best served wholly by its nearest open school. The radius formulation of García, Labbé and
Marín (2011, "Solving large p-median problems with a radius formulation", INFORMS Journal
on Computing 23(4), 546–556) then replaces the assignment variables ``x[z,s,g]``:

For a client ``j = (z, g)`` with demand ``d_j`` (persons), let ``D_j1 < D_j2 < ... < D_jG``
(metres) be the distinct distances of its pairs to candidate sites, cut at the nearest
existing school (always open) and, with ``open_exactly = p`` and one stage, at the
``(S − p + 1)``-th nearest of the ``S`` sites (at most ``S − p`` sites are closed, so one of
them is open; the LP relaxation implies this too). Variables::

    y[c,g,k] ∈ {0,1}   as in the assignment formulation
    z[j,k]   ∈ [0,1]   k = 2..G: 1 if client j travels D_jk or more (no open site closer)
    w[j]     ∈ [0,1]   unserved share of client j (unmet children u = d_j · w[j])

Rows (the sparse "chain" form; summed up they give the covering rows
``z[j,k] + Σ_{i: dist_ij < D_jk} y_i + w[j] >= 1`` of the paper, with the same LP bound)::

    radius[j,2]:  z[j,2] + Σ_{i: dist_ij = D_j1} y_i + w[j] >= 1
    radius[j,k]:  z[j,k] − z[j,k−1] + Σ_{i: dist_ij = D_j,k−1} y_i >= 0      k = 3..G
    served[j]:    w[j] + Σ_{i reachable} y_i >= 1       (only if j may be left without a school)

Travel of client ``j`` (child·metres): ``d_j · (D_j1 · (1 − w[j]) + Σ_k (D_jk − D_j,k−1) ·
z[j,k])``, which is ``d_j · (1 − w[j]) ·`` (distance to the nearest open school). Objective
terms, weighted and lexicographic modes and the opening rows (one option per site, budget,
open exactly p) are those of :mod:`allocator.siting`, with ``Σ u = Σ d_j · w[j]``.
Assignments are rebuilt afterwards: each client goes to its nearest open school (ties: the
first school id).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulp

from allocator.siting_data import OptionKey, Pair, SchoolStage, SitingTables, ZoneStage
from allocator.siting_frames import SitingFrames, empty_frames, solution_frames
from allocator.siting_open import (
    add_budget,
    add_constraint,
    add_one_option,
    add_open_exactly,
    add_open_variables,
    tokens_of,
)
from allocator.siting_phases import Solve, solve_lexicographic
from allocator.solvers import SolveInfo, SolverOptions
from allocator.solvers.names import model_name

if TYPE_CHECKING:
    from allocator.siting import SitingInput

__all__ = ["Client", "RadiusVariables", "build_radius_model", "solve_radius", "uncapacitated"]

logger = logging.getLogger(__name__)

_SEAT_TOL = 1e-9  # relative tolerance of the "capacity never binds" test


def uncapacitated(tables: SitingTables) -> bool:
    """Whether no capacity can bind (seats of every option and school >= demand reaching it).

    Parameters
    ----------
    tables
        Validated inputs.

    Returns
    -------
    bool
        True if for every candidate option ``seats >= Σ d[z,g]`` over the zones with a pair
        to its site and stage, and the same for every existing school (persons; relative
        tolerance 1e-9).
    """
    reach: dict[SchoolStage, float] = defaultdict(float)
    for z, s, g in tables.pairs:
        reach[(s, g)] += tables.demand[(z, g)]
    slack = _SEAT_TOL * max(sum(tables.demand.values()), 1.0)
    options_ok = all(
        opt.seats >= reach.get((c, g), 0.0) - slack for (c, g, _), opt in tables.options.items()
    )
    return options_ok and all(
        seats >= reach.get(key, 0.0) - slack for key, seats in tables.existing.items()
    )


@dataclass(frozen=True)
class Client:
    """One zone and stage with demand and at least one pair, prepared for the radius rows.

    Attributes
    ----------
    demand
        Children (persons).
    levels
        Distinct distances kept, ascending (metres); the last one is the farthest the
        client can have to travel when ``always_served``.
    sites_at
        Option keys of candidate sites at each level (same length as ``levels``).
    always_served
        Some school is always within the last level (an existing school, or the cut from
        ``open_exactly``); no ``served`` row is needed.
    """

    demand: float
    levels: tuple[float, ...]
    sites_at: tuple[tuple[OptionKey, ...], ...]
    always_served: bool


@dataclass(frozen=True, eq=False)
class RadiusVariables:
    """Handles on the radius model's variables, keyed by original ids.

    Attributes
    ----------
    open
        ``y[c,g,k]`` keyed ``(site_id, stage, classes)``.
    cover
        ``(zone_id, stage)`` -> ``z`` of the levels 2, 3, ... in the model, in order.
    unserved
        ``w[j]`` keyed ``(zone_id, stage)``; absent where serving is always cheaper than
        leaving the client unserved (weighted mode, ``always_served``).
    clients
        The prepared clients, keyed ``(zone_id, stage)``.
    fixed_unmet
        ``(zone_id, stage) -> children`` for rows with demand but no pair.
    tokens
        ASCII token of every id used in names.
    cover_costs
        Objective coefficient of every ``z`` in the model (objective units).
    """

    open: dict[OptionKey, pulp.LpVariable]
    cover: dict[ZoneStage, list[pulp.LpVariable]]
    unserved: dict[ZoneStage, pulp.LpVariable]
    clients: dict[ZoneStage, Client]
    fixed_unmet: dict[ZoneStage, float]
    tokens: dict[str, str]
    cover_costs: list[tuple[pulp.LpVariable, float]] = field(default_factory=list)


def _clients(
    tables: SitingTables, open_keys: list[OptionKey], open_exactly: int | None
) -> dict[ZoneStage, Client]:
    """Sorted distinct distances and the sites at each, per client (see the module docstring)."""
    options_of: dict[SchoolStage, list[OptionKey]] = defaultdict(list)
    for key in open_keys:
        options_of[(key[0], key[1])].append(key)
    services: dict[ZoneStage, list[tuple[float, str]]] = defaultdict(list)
    for (z, s, g), dist in tables.pairs.items():
        services[(z, g)].append((dist, s))
    sites = {c for c, _, _ in open_keys}
    one_stage = len({g for _, g, _ in open_keys}) <= 1
    cut_rank = len(sites) - open_exactly + 1 if open_exactly and one_stage else None
    clients: dict[ZoneStage, Client] = {}
    for (z, g), pairs in services.items():
        pairs.sort()
        existing = [dist for dist, s in pairs if (s, g) in tables.existing]
        top = existing[0] if existing else None
        candidates = [(dist, s) for dist, s in pairs if (s, g) in options_of]
        if cut_rank is not None and len(candidates) >= cut_rank:
            cut = candidates[cut_rank - 1][0]
            top = cut if top is None else min(top, cut)
        by_level: dict[float, list[OptionKey]] = defaultdict(list)
        for dist, s in candidates:
            if top is None or dist < top:
                by_level[dist].extend(options_of[(s, g)])
        if top is not None:
            by_level.setdefault(top, [])
        levels = tuple(sorted(by_level))
        clients[(z, g)] = Client(
            demand=tables.demand[(z, g)],
            levels=levels,
            sites_at=tuple(tuple(by_level[level]) for level in levels),
            always_served=top is not None,
        )
    return clients


def _needs_unserved(client: Client, data: SitingInput) -> bool:
    """Whether ``w[j]`` can matter: lexicographic mode, no sure school, or costly travel."""
    if data.lexicographic or not client.always_served:
        return True
    weights = data.weights
    return weights.travel_weight * client.levels[-1] > weights.unmet_penalty


def _add_client(
    problem: pulp.LpProblem, key: ZoneStage, v: RadiusVariables, data: SitingInput
) -> None:
    """``w[j]`` (where it can matter) and the ``served`` row of one client."""
    client = v.clients[key]
    z, g = v.tokens[key[0]], v.tokens[key[1]]
    w = None
    if _needs_unserved(client, data):
        w = problem.add_variable(model_name("unserved", z, g), 0, 1)
        v.unserved[key] = w
    v.cover[key] = []
    if not client.always_served:
        terms = [(v.open[o], 1.0) for group in client.sites_at for o in group]
        terms += [(w, 1.0)] if w is not None else []
        add_constraint(problem, terms, pulp.LpConstraintGE, 1.0, model_name("served", z, g))


def extend_levels(
    problem: pulp.LpProblem, key: ZoneStage, v: RadiusVariables, active: int, travel_weight: float
) -> list[tuple[pulp.LpVariable, float]]:
    """Bring a client's first ``active`` levels into the model (chain rows, see above).

    Parameters
    ----------
    problem
        The radius model.
    key
        Client ``(zone_id, stage)``.
    v
        Model variables; ``v.cover[key]`` grows to ``active - 1`` variables.
    active
        Levels to have in the model (1 .. ``len(levels)``); fewer than all levels make the
        client's travel ``min(true distance, levels[active - 1])``: a relaxation.
    travel_weight
        Objective units per child·metre.

    Returns
    -------
    list of tuple of pulp.LpVariable and float
        The new ``z`` variables with their objective coefficients (objective units).
    """
    client = v.clients[key]
    z, g = v.tokens[key[0]], v.tokens[key[1]]
    cover = v.cover[key]
    w = v.unserved.get(key)
    new: list[tuple[pulp.LpVariable, float]] = []
    for k in range(len(cover) + 1, active):
        zk = problem.add_variable(model_name("cover", z, g, str(k + 1)), 0, 1)
        terms = [(zk, 1.0), *((v.open[o], 1.0) for o in client.sites_at[k - 1])]
        if k == 1:
            terms += [(w, 1.0)] if w is not None else []
            rhs = 1.0
        else:
            terms.append((cover[-1], -1.0))
            rhs = 0.0
        name = model_name("radius", z, g, str(k + 1))
        add_constraint(problem, terms, pulp.LpConstraintGE, rhs, name)
        cover.append(zk)
        delta = client.levels[k] - client.levels[k - 1]
        new.append((zk, travel_weight * client.demand * delta))
    return new


def _unmet_expression(v: RadiusVariables) -> pulp.LpAffineExpression:
    """Reachable unmet children ``Σ d_j · w[j]`` (persons)."""
    return pulp.LpAffineExpression([(w, v.clients[key].demand) for key, w in v.unserved.items()])


def build_radius_model(
    data: SitingInput, tables: SitingTables, active: Mapping[ZoneStage, int] | None = None
) -> tuple[pulp.LpProblem, RadiusVariables]:
    """Build the radius formulation (see the module docstring).

    Parameters
    ----------
    data
        The run's input (weights, budget, mode, ``open_exactly``).
    tables
        Its validated tables; capacities must never bind (see :func:`uncapacitated`).
    active
        Levels to put in the model per client (``None``: all; clients missing from the
        mapping: 1); fewer give a relaxation (see :func:`extend_levels`).

    Returns
    -------
    tuple of pulp.LpProblem and RadiusVariables
        The model (minimisation) and handles on its variables. Weighted mode: the weighted
        objective (objective units). Lexicographic mode: the phase-1 objective ``Σ u``
        (persons).
    """
    tokens = tokens_of(tables)
    problem = pulp.LpProblem("siting_radius", pulp.LpMinimize)
    open_vars = add_open_variables(problem, tables, tokens, data.open_exactly is not None)
    clients = _clients(tables, list(open_vars), data.open_exactly)
    reachable = {(z, g) for z, _, g in tables.pairs}
    fixed = {key: d for key, d in tables.demand.items() if d > 0 and key not in reachable}
    v = RadiusVariables(open_vars, {}, {}, clients, fixed, tokens)
    tw = data.weights.travel_weight
    for key, client in clients.items():
        _add_client(problem, key, v, data)
        levels = len(client.levels) if active is None else active.get(key, 1)
        v.cover_costs.extend(extend_levels(problem, key, v, levels, tw))
    add_one_option(problem, open_vars, tokens)
    add_budget(problem, tables, open_vars, data.budget_cny)
    add_open_exactly(problem, open_vars, data.open_exactly)
    if data.lexicographic:
        problem.setObjective(_unmet_expression(v))
    else:
        penalty = data.weights.unmet_penalty
        objective = _cost_travel_expression(tables, v, data)
        objective += pulp.LpAffineExpression(
            [(w, penalty * v.clients[key].demand) for key, w in v.unserved.items()],
            constant=penalty * sum(fixed.values()),
        )
        problem.setObjective(objective)
    logger.info(
        "siting radius model: %d option, %d cover, %d unserved variables, %d constraints",
        len(open_vars),
        len(v.cover_costs),
        len(v.unserved),
        len(problem.constraints()),
    )
    return problem, v


def _cost_travel_expression(
    tables: SitingTables, v: RadiusVariables, data: SitingInput
) -> pulp.LpAffineExpression:
    """``cost_weight · Σ cost·y + travel_weight · Σ_j travel_j`` (objective units)."""
    tw, cw = data.weights.travel_weight, data.weights.cost_weight
    terms = [(y, cw * tables.options[key].cost_cny) for key, y in v.open.items()]
    constant = 0.0
    for key, client in v.clients.items():
        base = tw * client.demand * client.levels[0]
        constant += base
        if key in v.unserved and base != 0.0:
            terms.append((v.unserved[key], -base))
    return pulp.LpAffineExpression(terms + v.cover_costs, constant=constant)


def radius_frames(tables: SitingTables, v: RadiusVariables) -> SitingFrames:
    """Result tables: each client's served share to its nearest open school.

    Parameters
    ----------
    tables
        Validated inputs.
    v
        Variables holding a solution (``y > 0.5`` counts as open).

    Returns
    -------
    SitingFrames
        As :func:`allocator.siting_frames.solution_frames`.
    """
    opened = [key for key, y in v.open.items() if (y.value() or 0.0) > 0.5]
    open_sites = {(c, g) for c, g, _ in opened}
    nearest: dict[ZoneStage, tuple[float, str]] = {}
    for (z, s, g), dist in tables.pairs.items():
        if (s, g) in tables.existing or (s, g) in open_sites:
            best = nearest.get((z, g))
            if best is None or (dist, s) < best:
                nearest[(z, g)] = (dist, s)
    flows: dict[Pair, float | None] = {}
    unmet: dict[ZoneStage, float | None] = {}
    for key, client in v.clients.items():
        w = v.unserved.get(key)
        share = 1.0 - min(max((w.value() or 0.0) if w is not None else 0.0, 0.0), 1.0)
        if key in nearest and share > 0.0:
            flows[(key[0], nearest[key][1], key[1])] = client.demand * share
        else:
            share = 0.0
        unmet[key] = client.demand * (1.0 - share)
    return solution_frames(tables, opened, flows, unmet)


def solve_radius(
    data: SitingInput, tables: SitingTables, options: SolverOptions, solve: Solve
) -> tuple[SolveInfo, SitingFrames, tuple[SolveInfo, ...]]:
    """Build and solve the radius formulation, weighted or lexicographic.

    Parameters
    ----------
    data
        The run's input.
    tables
        Its validated tables (capacities never bind).
    options
        Solver backend and limits (lexicographic mode: as in :func:`allocator.siting.solve_siting`).
    solve
        Solver call.

    Returns
    -------
    tuple of SolveInfo, SitingFrames and tuple of SolveInfo
        The run's report, the result tables (empty without a solution) and every phase's
        report.
    """
    problem, v = build_radius_model(data, tables)
    if data.lexicographic:
        second = _cost_travel_expression(tables, v, data)
        info, phases = solve_lexicographic(
            problem, _unmet_expression(v), second, sum(v.fixed_unmet.values()), options, solve
        )
    else:
        info = solve(problem, options)
        phases = (info,)
    if not info.has_solution:
        logger.warning("siting (radius): no solution (%s)", info.message)
        return info, empty_frames(), phases
    return info, radius_frames(tables, v), phases
