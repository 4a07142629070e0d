"""Dynamic level reduction of the radius formulation for p-median inputs.

Most clients of a p-median solution travel to one of their few nearest sites, yet the full
radius model (:mod:`allocator.siting_radius`) carries a row for every distinct distance up
to the ``(S − p + 1)``-th nearest site. Following the reduction idea of García, Labbé and
Marín (2011), the model is solved with only each client's first levels and grown where
needed:

1. A greedy + interchange heuristic (Teitz–Bart swaps, vectorised) finds a good set of
   ``p`` sites; each client starts with the levels up to its second-nearest site of that
   set (nearest only: many more rounds; third-nearest: larger models, no fewer rounds).
2. With only its first ``m`` levels a client's travel is ``min(distance, D_jm)`` — a
   relaxation, so the model's bound is a valid lower bound of the full problem.
3. The LP relaxation is solved first. If its bound reaches the heuristic's objective, the
   heuristic plan is optimal and no MIP is solved (pmed1 and pmed5). Otherwise every site
   whose reduced cost shows that opening it cannot beat the heuristic is closed for good
   (reduced-cost fixing; on pmed3 it closes 31 of 100 sites and cuts the MIP time by 60 %).
4. After each MIP solve, every client whose nearest open site lies beyond its last level gets
   the levels up to that site, and the model is solved again. When no client is beyond its
   levels, the relaxed objective equals the true one: the solution is optimal for the full
   model (within ``mip_gap``) and the bound holds. Before growing, the round's sites are
   polished by the interchange heuristic; if the best plan known costs no more than the
   relaxed optimum, it is optimal and is taken at once.

Used for weighted (not lexicographic) runs with ``open_exactly = p >= 1``, one stage, one
option per site and no budget; elsewhere the full model is solved.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pulp

from allocator.siting_data import OptionKey, SitingTables, ZoneStage
from allocator.siting_frames import SitingFrames, empty_frames
from allocator.siting_phases import Solve
from allocator.siting_radius import (
    RadiusVariables,
    build_radius_model,
    extend_levels,
    radius_frames,
)
from allocator.solvers import SolveInfo, SolverOptions, SolveStatus, relative_gap

if TYPE_CHECKING:
    from allocator.siting import SitingInput

__all__ = ["dynamic_applies", "pmedian_heuristic", "solve_radius_dynamic"]

logger = logging.getLogger(__name__)

MAX_SWAP_PASSES = 100  # interchange passes of the heuristic (each applies the best swap)
START_RANK = 2  # each client starts with the levels up to its 2nd-nearest heuristic site


def dynamic_applies(data: SitingInput, tables: SitingTables) -> bool:
    """Whether the dynamic reduction applies (see the module docstring).

    Parameters
    ----------
    data
        The run's input.
    tables
        Its validated tables.

    Returns
    -------
    bool
        True for a weighted run with ``open_exactly >= 1``, positive travel weight, no
        budget, one stage and one option per site.
    """
    sites = Counter(c for c, _, _ in tables.options)
    return (
        not data.lexicographic
        and data.open_exactly is not None
        and data.open_exactly >= 1
        and data.budget_cny is None
        and data.weights.travel_weight > 0
        and len({g for _, g, _ in tables.options}) == 1
        and all(count == 1 for count in sites.values())
    )


def _greedy(
    dist: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    fixed: npt.NDArray[np.float64],
    p: int,
) -> list[int]:
    """Open ``p`` columns one at a time, each the cheapest addition."""
    chosen: list[int] = []
    best = dist.max(axis=1)
    for _ in range(p):
        totals = weight @ np.minimum(best[:, None], dist) + fixed
        totals[chosen] = np.inf
        i = int(np.argmin(totals))
        chosen.append(i)
        best = np.minimum(best, dist[:, i])
    return chosen


def pmedian_heuristic(
    dist: npt.NDArray[np.float64],
    weight: npt.NDArray[np.float64],
    fixed: npt.NDArray[np.float64],
    p: int,
    initial: Sequence[int] | None = None,
) -> list[int]:
    """Greedy construction (or a given start) and best-improvement interchange.

    Minimises ``Σ_{i open} fixed[i] + Σ_j weight[j] · min_{i open} dist[j, i]`` over sets
    of ``p`` columns; each pass applies the best single swap (Teitz–Bart), until none
    improves or after ``MAX_SWAP_PASSES`` passes.

    Parameters
    ----------
    dist
        ``clients × sites`` cost per unit of weight, finite (capped by the caller).
    weight
        Weight of each client (>= 0).
    fixed
        Fixed cost of each site (objective units).
    p
        Sites to open (1 <= p <= number of sites).
    initial
        ``p`` distinct column indices to start from instead of the greedy construction.

    Returns
    -------
    list of int
        Column indices of the ``p`` open sites, sorted.
    """
    chosen = list(initial) if initial is not None else _greedy(dist, weight, fixed, p)
    if p >= dist.shape[1]:
        return sorted(chosen)
    rows = np.arange(dist.shape[0])
    for _ in range(MAX_SWAP_PASSES):
        sub = dist[:, chosen]
        order = np.argsort(sub, axis=1, kind="stable")
        first = sub[rows, order[:, 0]]
        second = sub[rows, order[:, 1]] if p > 1 else dist.max(axis=1)
        fixed_open = float(fixed[chosen].sum())
        current = float(weight @ first) + fixed_open
        move: tuple[float, int, int] | None = None
        for r in range(p):
            without = np.where(order[:, 0] == r, second, first)
            totals = weight @ np.minimum(without[:, None], dist) + fixed
            totals += fixed_open - fixed[chosen[r]]
            totals[chosen] = np.inf
            i = int(np.argmin(totals))
            improves = totals[i] < current - 1e-9 * max(abs(current), 1.0)
            if improves and (move is None or totals[i] < move[0]):
                move = (float(totals[i]), r, i)
        if move is None:
            break
        chosen[move[1]] = move[2]
    return sorted(chosen)


@dataclass(frozen=True, eq=False)
class _Costs:
    """The clients × options cost matrix the heuristic works on.

    Attributes
    ----------
    options
        Option keys, one per column.
    dist
        Distance of each client (row, in ``RadiusVariables.clients`` order) to each option
        (metres; ``inf`` without a pair).
    top
        Last level of always-served clients (metres), ``inf`` for the others.
    capped
        ``min(dist, top, unmet_penalty / travel_weight)``: the travel a client can cost.
    weight
        ``travel_weight · demand`` per client (objective units per metre).
    fixed
        ``cost_weight · cost_cny`` per option (objective units).
    constant
        Penalty of the out-of-reach children (objective units).
    """

    options: list[OptionKey]
    dist: npt.NDArray[np.float64]
    top: npt.NDArray[np.float64]
    capped: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]
    fixed: npt.NDArray[np.float64]
    constant: float

    def objective(self, chosen: Sequence[int]) -> float:
        """Weighted objective of opening ``chosen`` (objective units)."""
        travel = float(self.weight @ self.capped[:, list(chosen)].min(axis=1))
        return float(self.fixed[list(chosen)].sum()) + travel + self.constant


def _costs(data: SitingInput, tables: SitingTables, v: RadiusVariables) -> _Costs:
    """Build the cost matrix of the clients and options of the model."""
    keys = list(v.clients)
    options: list[OptionKey] = list(v.open)
    column = {(c, g): i for i, (c, g, _) in enumerate(options)}
    weights = data.weights
    to_unmet = weights.unmet_penalty / weights.travel_weight  # metres worth an unmet child
    top = np.array(
        [v.clients[key].levels[-1] if v.clients[key].always_served else np.inf for key in keys]
    )
    dist = np.full((len(keys), len(options)), np.inf)
    row = {key: j for j, key in enumerate(keys)}
    for (z, s, g), d in tables.pairs.items():
        i = column.get((s, g))
        if i is not None:
            dist[row[(z, g)], i] = d
    return _Costs(
        options=options,
        dist=dist,
        top=top,
        capped=np.minimum(np.minimum(dist, top[:, None]), to_unmet),
        weight=np.array([weights.travel_weight * v.clients[key].demand for key in keys]),
        fixed=np.array([weights.cost_weight * tables.options[key].cost_cny for key in options]),
        constant=weights.unmet_penalty * sum(v.fixed_unmet.values()),
    )


def _start_levels(costs: _Costs, v: RadiusVariables, chosen: Sequence[int]) -> dict[ZoneStage, int]:
    """Levels per client up to its ``START_RANK``-th nearest site of ``chosen``."""
    rank = min(START_RANK, len(chosen)) - 1
    ranked = np.sort(costs.capped[:, list(chosen)], axis=1)[:, rank]
    result: dict[ZoneStage, int] = {}
    for j, (key, client) in enumerate(v.clients.items()):
        level = bisect.bisect_left(client.levels, float(ranked[j])) + 1
        result[key] = min(level, len(client.levels))
    return result


def _adopt(v: RadiusVariables, costs: _Costs, chosen: Sequence[int], data: SitingInput) -> None:
    """Put a heuristic solution into the variables (``y``, and ``w`` where present)."""
    keys = {costs.options[i] for i in chosen}
    for option, y in v.open.items():
        y.varValue = 1.0 if option in keys else 0.0
    served = np.minimum(costs.dist[:, list(chosen)].min(axis=1), costs.top)
    weights = data.weights
    row = {key: j for j, key in enumerate(v.clients)}
    for client, w in v.unserved.items():
        costly = weights.travel_weight * served[row[client]] > weights.unmet_penalty
        w.varValue = 1.0 if costly else 0.0


def _beyond(v: RadiusVariables) -> dict[ZoneStage, int]:
    """Clients whose nearest open site lies beyond their levels -> levels needed."""
    opened = {key for key, y in v.open.items() if (y.value() or 0.0) > 0.5}
    needed: dict[ZoneStage, int] = {}
    for key, client in v.clients.items():
        active = len(v.cover[key]) + 1
        w = v.unserved.get(key)
        if w is not None and (w.value() or 0.0) >= 1.0 - 1e-9:
            continue  # left unserved: its travel is 0 whatever its levels
        for k, group in enumerate(client.sites_at):
            if any(o in opened for o in group):
                if k + 1 > active:
                    needed[key] = k + 1
                break
        else:
            if client.always_served and len(client.levels) > active:
                needed[key] = len(client.levels)
    return needed


def _true_excess(v: RadiusVariables, needed: dict[ZoneStage, int], tw: float) -> float:
    """Travel missing from the relaxed objective of clients beyond their levels (obj. units)."""
    excess = 0.0
    for key, levels in needed.items():
        client = v.clients[key]
        w = v.unserved.get(key)
        share = 1.0 - min(max(w.value() or 0.0, 0.0), 1.0) if w is not None else 1.0
        top = client.levels[len(v.cover[key])]
        excess += tw * client.demand * share * (client.levels[levels - 1] - top)
    return excess


def _final_info(
    rounds: list[SolveInfo], objective: float | None, status: SolveStatus, note: str
) -> SolveInfo:
    """Report of the whole dynamic run (see :func:`solve_radius_dynamic`)."""
    last = rounds[-1]
    bounds = [r.bound for r in rounds if r.bound is not None and math.isfinite(r.bound)]
    bound = max(bounds) if bounds else None
    if objective is not None and bound is not None:
        bound = min(bound, objective)
    return SolveInfo(
        status=status,
        objective=objective,
        bound=bound,
        gap=relative_gap(objective, bound),
        seconds=sum(r.seconds for r in rounds),
        solver=last.solver,
        solver_version=last.solver_version,
        message=f"radius formulation, {len(rounds)} round(s) of level growth{note}; "
        f"last round: {last.message}",
    )


def _grow(
    problem: pulp.LpProblem, v: RadiusVariables, needed: Mapping[ZoneStage, int], tw: float
) -> None:
    """Bring the clients' levels up to ``needed`` (objective terms included)."""
    for key, levels in needed.items():
        for var, coef in extend_levels(problem, key, v, levels, tw):
            problem.objective.addterm(var, coef)


def _reaches(relaxed: float | None, upper: float) -> bool:
    """Whether a proven lower bound (or relaxed optimum) reaches ``upper`` (1e-9 relative)."""
    return relaxed is not None and upper <= relaxed + 1e-9 * max(abs(relaxed), 1.0)


def _root_lp(
    problem: pulp.LpProblem,
    v: RadiusVariables,
    options: SolverOptions,
    solve: Solve,
    upper: float,
) -> SolveInfo:
    """Solve the LP relaxation; fix by reduced cost every ``y`` that cannot beat ``upper``.

    With LP optimum ``L`` and reduced cost ``dj`` of a site at 0 in the LP, every plan that
    opens the site costs at least ``L + dj`` (LP duality; the relaxed model's travel never
    exceeds the true one). If that exceeds the heuristic's objective ``upper``, the site is
    closed for good (``upBound = 0``); sites at 1 with ``L − dj > upper`` stay open. The
    heuristic plan itself is never cut off, so the restricted model keeps the optimum and its
    bounds stay valid for the whole problem.
    """
    ys = list(v.open.values())
    categories = [y.cat for y in ys]
    for y in ys:
        y.cat = pulp.LpContinuous
    info = solve(problem, options)
    for y, category in zip(ys, categories, strict=True):
        y.cat = category
    if info.status != "optimal" or info.objective is None:
        return info
    lower = info.objective
    threshold = upper + 1e-9 * max(abs(upper), 1.0)
    closed = opened = 0
    for y in ys:
        value, dj = y.value(), y.dj
        if value is None or dj is None:
            continue
        if value <= 1e-9 and lower + dj > threshold:
            y.upBound, closed = 0, closed + 1
        elif value >= 1.0 - 1e-9 and lower - dj > threshold:
            y.lowBound, opened = 1, opened + 1
    logger.info(
        "radius root LP: bound %.10g, heuristic %.10g; %d sites closed, %d opened by reduced cost",
        lower,
        upper,
        closed,
        opened,
    )
    return info


def solve_radius_dynamic(
    data: SitingInput, tables: SitingTables, options: SolverOptions, solve: Solve
) -> tuple[SolveInfo, SitingFrames, tuple[SolveInfo, ...]]:
    """Solve the radius formulation with dynamic level growth (see the module docstring).

    A root LP or a round whose relaxed optimum reaches the heuristic's objective proves the
    heuristic solution optimal; it is then adopted without further rounds.

    Parameters
    ----------
    data
        The run's input (:func:`dynamic_applies` must hold).
    tables
        Its validated tables (capacities never bind).
    options
        Solver backend and limits; the time limit covers all rounds.
    solve
        Solver call.

    Returns
    -------
    tuple of SolveInfo, SitingFrames and tuple of SolveInfo
        The run's report, the result tables, and every round's report (relaxed
        objectives). Status ``optimal`` only if the last round is optimal and no client
        lies beyond its levels (or the heuristic solution reached the relaxed optimum);
        otherwise ``feasible`` with the better of the last round's plan and the heuristic
        solution (the heuristic's when the solver stopped without a solution), or the
        last round's ``infeasible`` / ``unbounded`` / ``error``. Objective: the true
        objective of the plan returned; bound: the best round bound (a relaxation's bound,
        hence valid).
    """
    start_s = time.perf_counter()

    def left(base: SolverOptions) -> SolverOptions:
        """``base`` with what is left of the time limit (at least 1 % of it)."""
        limit = base.time_limit_s
        if limit is None:
            return base
        remaining = max(limit - (time.perf_counter() - start_s), 0.01 * limit)
        return dataclasses.replace(base, time_limit_s=remaining)

    problem, v = build_radius_model(data, tables, active={})
    costs = _costs(data, tables, v)
    p = data.open_exactly or 1
    best = pmedian_heuristic(costs.capped, costs.weight, costs.fixed, p)
    best_objective = costs.objective(best)
    column = {key: i for i, key in enumerate(costs.options)}
    tw = data.weights.travel_weight
    needed = _start_levels(costs, v, best)
    _grow(problem, v, needed, tw)
    root = _root_lp(problem, v, left(options), solve, best_objective)
    rounds: list[SolveInfo] = [root]
    adopted = _reaches(root.objective if root.status == "optimal" else None, best_objective)
    if adopted:
        _adopt(v, costs, best, data)
    needed = {}
    while not adopted:
        _grow(problem, v, needed, tw)
        info = solve(problem, left(options))
        rounds.append(info)
        if not info.has_solution:
            break
        needed = _beyond(v)
        logger.info(
            "radius round %d: %s, %d cover rows, %d clients beyond their levels",
            len(rounds) - 1,
            info.status,
            sum(len(c) for c in v.cover.values()),
            len(needed),
        )
        if needed:  # polish the round's sites; stop if that reaches the relaxed optimum
            found = [column[key] for key, y in v.open.items() if (y.value() or 0.0) > 0.5]
            if len(found) == p:
                polished = pmedian_heuristic(costs.capped, costs.weight, costs.fixed, p, found)
                if costs.objective(polished) < best_objective:
                    best, best_objective = polished, costs.objective(polished)
            if _reaches(info.objective, best_objective):
                _adopt(v, costs, best, data)
                adopted, needed = True, {}
        limit = options.time_limit_s
        out_of_time = limit is not None and time.perf_counter() - start_s >= limit
        if not needed or info.status != "optimal" or out_of_time:
            break
    last = rounds[-1]
    if last.status in ("infeasible", "unbounded", "error"):
        return _final_info(rounds, None, last.status, ""), empty_frames(), tuple(rounds)
    note = ""
    if adopted:
        objective = best_objective
        note = "; heuristic solution proven optimal"
    elif last.has_solution:
        objective = (last.objective or 0.0) + _true_excess(v, needed, tw)
        if needed and best_objective < objective:
            _adopt(v, costs, best, data)
            objective = best_objective
            note = "; stopped early, kept the heuristic solution"
        elif needed:
            note = "; stopped early with clients beyond their levels"
    else:
        _adopt(v, costs, best, data)
        objective = best_objective
        note = "; no solution from the solver, kept the heuristic solution"
    optimal = last.status == "optimal" and (adopted or not needed)
    info = _final_info(rounds, objective, "optimal" if optimal else "feasible", note)
    return info, radius_frames(tables, v), tuple(rounds)
