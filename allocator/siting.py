"""Capacitated school siting for one period.

Which candidate sites to open at which size, and how many children of each zone and stage
go to which school.

Sets and data (all from plain DataFrames, see :class:`SitingInput`)::

    z ∈ Z  demand zones          g ∈ G  school stages (primary, junior, ...)
    s ∈ S  existing schools      c ∈ C  candidate sites, k ∈ K(c, g) size options of c for g
    P      feasible (z, s, g) pairs, s ∈ S ∪ C (only pairs within the travel limit)
    d[z,g] children (persons)    seats[s,g], seats[k] (seats)     cost[k] (CNY)
    dist[z,s,g] (metres)         B budget (CNY, optional)

Variables (sparse: only pairs in P get an assignment variable)::

    y[c,g,k] ∈ {0,1}         open site c with size option k (of stage g)
    x[z,s,g] ∈ [0, d[z,g]]   children of zone z, stage g assigned to school s (persons)
    u[z,g]   ∈ [0, d[z,g]]   unmet demand (persons), a named slack

Objective, weighted mode (objective units; with the default cost weight 1 unit = 1 million
CNY)::

    min  unmet_penalty · Σ u  +  cost_weight · Σ cost[k]·y  +  travel_weight · Σ dist·x

Lexicographic mode (``SitingInput.lexicographic``) solves the same model twice: phase 1
minimises ``Σ u`` (persons); phase 2 adds ``Σ u <= U1 + tol`` (``U1`` the phase-1 incumbent,
``tol = max(1e-6, 1e-9·U1)`` persons) and minimises ``cost_weight · Σ cost[k]·y +
travel_weight · Σ dist·x``. The relative gap of phase 2 is then measured on capital and
travel alone; in weighted mode a large penalty on capacity-bound unmet demand swamps them,
and a run can stop "within the gap" with millions of CNY of avoidable capital.

A zone and stage with demand but no feasible pair cannot be served: its ``u = d`` is entered
as a constant of the objective rather than as a variable, so the solver's relative gap is
measured on what the model can still decide (a large fixed penalty would otherwise swamp the
capital and travel terms under the default ``mip_gap``); phase 1 leaves it out. Constraint
families, one builder each, in build order: demand, existing capacity, site capacity, one
option per site, assignment-opening link, budget, open exactly p (and ``lex_unmet`` in
phase 2).

Open exactly ``p`` (``SitingInput.open_exactly``) adds ``Σ_{c,g,k} y[c,g,k] = p`` (sites, at
most one option each; every option then gets a ``y``, reachable or not). With it, and with
capacities that never bind, the model is a p-median problem and :func:`solve_siting` uses
the radius formulation of García, Labbé and Marín (2011) instead of the assignment
variables (:mod:`allocator.siting_radius`: same optimum, same LP bound, far fewer
nonzeros; for weighted one-stage runs with one option per site and no budget, solved with
dynamically grown levels, :mod:`allocator.siting_dynamic`); ``SitingInput.formulation``
chooses explicitly.

Input validation lives in :mod:`allocator.siting_data`, the opening rows shared by both
formulations in :mod:`allocator.siting_open`, result tables in :mod:`allocator.siting_frames`,
the two-phase solve in :mod:`allocator.siting_phases`.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral

import pandas as pd
import pulp

from allocator.siting_data import (
    FORMULATIONS,
    Formulation,
    OptionKey,
    Pair,
    SchoolStage,
    SitingTables,
    ZoneStage,
    prepare_tables,
)
from allocator.siting_dynamic import dynamic_applies, solve_radius_dynamic
from allocator.siting_frames import SitingFrames, empty_frames, objective_terms, solution_frames
from allocator.siting_open import (
    add_budget,
    add_constraint,
    add_one_option,
    add_open_exactly,
    add_open_variables,
    tokens_of,
)
from allocator.siting_phases import solve_lexicographic
from allocator.siting_radius import solve_radius, uncapacitated
from allocator.solvers import SolveInfo, SolverOptions, solve_pulp
from allocator.solvers.names import model_name

__all__ = [
    "Formulation",
    "SitingInput",
    "SitingResult",
    "SitingVariables",
    "SitingWeights",
    "build_siting_model",
    "choose_formulation",
    "solve_siting",
]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class SitingWeights:
    """Objective weights; together they set the exchange rate between the three terms.

    Attributes
    ----------
    unmet_penalty
        Objective units per unserved child (default 1e6: far above any school's cost, so
        demand is left unmet only where no reachable seat can be built). Not used in
        lexicographic mode, where unmet demand comes first by construction.
    cost_weight
        Objective units per CNY of capital cost (default 1e-6: 1 unit = 1 million CNY).
    travel_weight
        Objective units per child·metre of home-school distance (default 1e-5: with the
        default cost weight a child travelling 1 km weighs like 10,000 CNY of capital;
        1e-3 would make it 1 million CNY, so travel savings would readily pay for schools).
    """

    unmet_penalty: float = 1e6
    cost_weight: float = 1e-6
    travel_weight: float = 1e-5

    def __post_init__(self) -> None:
        """Reject negative or non-finite weights."""
        for name in ("unmet_penalty", "cost_weight", "travel_weight"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"SitingWeights.{name} must be finite and >= 0, got {value}")


@dataclass(frozen=True, eq=False)
class SitingInput:
    """Data of one siting run (one period). Ids are compared as strings.

    Attributes
    ----------
    demand
        ``zone_id, stage, children``: children to place (persons, >= 0), one row per zone
        and stage.
    existing
        ``school_id, stage, seats``: seats of existing schools (classes × class-size cap,
        computed by the caller), one row per school and stage served.
    options
        ``site_id, stage, classes, seats, cost_cny``: one row per size option of a
        candidate site (classes: integer count; seats; capital cost in CNY). A site opens
        with at most one option over all its stages.
    pairs
        ``zone_id, school_id, stage, distance_m``: only the feasible zone–school pairs
        (within the travel limit of the stage); ``school_id`` is an existing school or a
        candidate site serving that stage; distance in metres.
    weights
        Objective weights.
    budget_cny
        Cap on total capital cost of opened options (CNY), or ``None``.
    lexicographic
        Solve in two phases (unmet children first, then ``cost_weight`` · capital +
        ``travel_weight`` · travel) instead of one weighted objective; see the module
        docstring. ``weights.unmet_penalty`` is then not used.
    open_exactly
        Open exactly this many candidate sites (``Σ y = p``), or ``None`` (any number).
    formulation
        ``"assignment"`` (assignment variables ``x[z,s,g]``), ``"radius"`` (the radius
        formulation of :mod:`allocator.siting_radius`; needs capacities that never bind), or
        ``"auto"`` (default): radius when ``open_exactly`` is set and no capacity can bind,
        else assignment. Both give the same optimum; the radius formulation of a weighted
        one-stage run with one option per site, ``open_exactly >= 1`` and no budget grows
        its levels dynamically (:mod:`allocator.siting_dynamic`).
    """

    demand: pd.DataFrame
    existing: pd.DataFrame
    options: pd.DataFrame
    pairs: pd.DataFrame
    weights: SitingWeights
    budget_cny: float | None = None
    lexicographic: bool = False
    open_exactly: int | None = None
    formulation: Formulation = "auto"


@dataclass(frozen=True, eq=False)
class SitingResult:
    """Solution of a siting run; frames are sorted by their id columns.

    Without a solution (``info.has_solution`` false) all frames are empty with the same
    columns and ``terms`` is empty.

    Attributes
    ----------
    info
        Solver report (status, objective, bound, gap, time). Weighted mode: the one solve,
        in weighted objective units. Lexicographic mode: objective, bound and gap of the
        phase-2 objective (``cost_weight`` · CNY + ``travel_weight`` · child·m), status
        ``optimal`` only if both phases are, seconds of both phases, a message naming both.
    opened
        ``site_id, stage, classes, seats, cost_cny`` of the opened options.
    assignments
        ``zone_id, school_id, stage, children, distance_m``: positive flows only (children
        rounded to 1e-6 persons; flows below 1e-6 dropped).
    unmet
        ``zone_id, stage, unmet``: unserved children (persons) for every demand row.
    school_load
        ``school_id, stage, enrolled, seats``: enrolment and seats of every existing school
        and every opened site, per stage.
    phases
        Report of every solver run: one in weighted mode; in lexicographic mode phase 1
        (objective: reachable unmet children, persons, out-of-reach ones excluded) and,
        if phase 1 found a solution, phase 2 (objective: cost + travel, objective units).
        When the radius formulation grows its levels (:mod:`allocator.siting_dynamic`):
        one per round, with the objectives of relaxed models.
    terms
        Achieved objective terms: ``unmet_children`` (persons, out-of-reach included),
        ``capital_cost_cny`` (CNY), ``travel_child_m`` (child·metres); empty without a
        solution.
    """

    info: SolveInfo
    opened: pd.DataFrame
    assignments: pd.DataFrame
    unmet: pd.DataFrame
    school_load: pd.DataFrame
    phases: tuple[SolveInfo, ...] = ()
    terms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class SitingVariables:
    """Handles on the model's variables, keyed by original ids.

    Attributes
    ----------
    open
        ``y[c,g,k]`` keyed ``(site_id, stage, classes)``; only options of sites that some
        zone with demand can reach (every option with ``open_exactly``).
    assign
        ``x[z,s,g]`` keyed ``(zone_id, school_id, stage)``; only pairs with demand.
    unmet
        ``u[z,g]`` keyed ``(zone_id, stage)`` for rows with demand and at least one pair.
    fixed_unmet
        ``(zone_id, stage) -> children`` for rows with demand but no pair: unmet is the
        whole demand, entered as an objective constant.
    tokens
        ASCII token of every id used in names (original id -> token).
    """

    open: dict[OptionKey, pulp.LpVariable]
    assign: dict[Pair, pulp.LpVariable]
    unmet: dict[ZoneStage, pulp.LpVariable]
    fixed_unmet: dict[ZoneStage, float]
    tokens: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- model


def _add_variables(
    problem: pulp.LpProblem, tables: SitingTables, tokens: Mapping[str, str], every_option: bool
) -> SitingVariables:
    """Create ``y`` (binary), ``x`` and ``u`` (continuous, ``0 <= x, u <= d[z,g]``)."""
    open_vars = add_open_variables(problem, tables, tokens, every_option)
    assign = {
        (z, s, g): problem.add_variable(
            model_name("assign", tokens[z], tokens[s], tokens[g]), 0, tables.demand[(z, g)]
        )
        for z, s, g in tables.pairs
    }
    reachable = {(z, g) for z, _, g in tables.pairs}
    unmet = {
        (z, g): problem.add_variable(model_name("unmet", tokens[z], tokens[g]), 0, d)
        for (z, g), d in tables.demand.items()
        if (z, g) in reachable
    }
    fixed = {key: d for key, d in tables.demand.items() if d > 0 and key not in reachable}
    return SitingVariables(open_vars, assign, unmet, fixed, dict(tokens))


def _add_demand(
    problem: pulp.LpProblem, tables: SitingTables, v: SitingVariables, tokens: Mapping[str, str]
) -> None:
    """Demand balance, one row per zone and stage with a feasible pair.

    ``Σ_s x[z,s,g] + u[z,g] = d[z,g]``   (persons)
    """
    rows: dict[ZoneStage, list[tuple[pulp.LpVariable, float]]] = defaultdict(list)
    for (z, _, g), var in v.assign.items():
        rows[(z, g)].append((var, 1.0))
    for (z, g), u in v.unmet.items():
        terms = [*rows[(z, g)], (u, 1.0)]
        name = model_name("demand", tokens[z], tokens[g])
        add_constraint(problem, terms, pulp.LpConstraintEQ, tables.demand[(z, g)], name)


def _flows_by_school(v: SitingVariables) -> dict[SchoolStage, list[pulp.LpVariable]]:
    """Group assignment variables by (school or site, stage), in key order."""
    flows: dict[SchoolStage, list[pulp.LpVariable]] = defaultdict(list)
    for (_, s, g), var in v.assign.items():
        flows[(s, g)].append(var)
    return flows


def _add_existing_capacity(
    problem: pulp.LpProblem, tables: SitingTables, v: SitingVariables, tokens: Mapping[str, str]
) -> None:
    """Seats of existing schools, one row per school and stage with a feasible pair.

    ``Σ_z x[z,s,g] <= seats[s,g]``   (seats)
    """
    for (s, g), flows in sorted(_flows_by_school(v).items()):
        if (s, g) in tables.existing:
            terms = [(var, 1.0) for var in flows]
            name = model_name("cap_existing", tokens[s], tokens[g])
            add_constraint(problem, terms, pulp.LpConstraintLE, tables.existing[(s, g)], name)


def _opens_by_site_stage(v: SitingVariables) -> dict[SchoolStage, list[OptionKey]]:
    """Group option keys by (site, stage), in key order."""
    opens: dict[SchoolStage, list[OptionKey]] = defaultdict(list)
    for c, g, k in v.open:
        opens[(c, g)].append((c, g, k))
    return opens


def _add_site_capacity(
    problem: pulp.LpProblem, tables: SitingTables, v: SitingVariables, tokens: Mapping[str, str]
) -> None:
    """Seats of candidate sites, one row per site and stage with a feasible pair.

    ``Σ_z x[z,c,g] - Σ_{k ∈ K(c,g)} seats[k]·y[c,g,k] <= 0``   (seats)
    """
    opens = _opens_by_site_stage(v)
    for (c, g), flows in sorted(_flows_by_school(v).items()):
        if (c, g) in tables.existing:
            continue
        terms = [(var, 1.0) for var in flows]
        terms += [(v.open[key], -tables.options[key].seats) for key in opens[(c, g)]]
        name = model_name("cap_site", tokens[c], tokens[g])
        add_constraint(problem, terms, pulp.LpConstraintLE, 0.0, name)


def _add_link(
    problem: pulp.LpProblem, tables: SitingTables, v: SitingVariables, tokens: Mapping[str, str]
) -> None:
    """Link assignments to a candidate site to its opening (strong form, one row per pair).

    ``x[z,c,g] - d[z,g] · Σ_{k ∈ K(c,g)} y[c,g,k] <= 0``   (persons)
    """
    opens = _opens_by_site_stage(v)
    for (z, c, g), x in v.assign.items():
        if (c, g) in tables.existing:
            continue
        d = tables.demand[(z, g)]
        terms = [(x, 1.0), *((v.open[key], -d) for key in opens[(c, g)])]
        name = model_name("link", tokens[z], tokens[c], tokens[g])
        add_constraint(problem, terms, pulp.LpConstraintLE, 0.0, name)


def _unmet_expression(v: SitingVariables) -> pulp.LpAffineExpression:
    """Reachable unmet children ``Σ u`` (persons), the phase-1 objective."""
    return pulp.LpAffineExpression([(u, 1.0) for u in v.unmet.values()])


def _cost_travel_expression(
    tables: SitingTables, v: SitingVariables, weights: SitingWeights
) -> pulp.LpAffineExpression:
    """``cost_weight · Σ cost[k]·y + travel_weight · Σ dist·x`` (objective units)."""
    terms = [(y, weights.cost_weight * tables.options[key].cost_cny) for key, y in v.open.items()]
    terms += [(x, weights.travel_weight * tables.pairs[key]) for key, x in v.assign.items()]
    return pulp.LpAffineExpression(terms)


def _set_objective(
    problem: pulp.LpProblem, tables: SitingTables, v: SitingVariables, data: SitingInput
) -> None:
    """Weighted objective, or the phase-1 objective ``Σ u`` in lexicographic mode.

    ``unmet_penalty · (Σ u + Σ fixed_unmet) + cost_weight · Σ cost[k]·y
    + travel_weight · Σ dist[z,s,g]·x``   (persons, CNY, child·metres -> objective units)
    """
    if data.lexicographic:
        problem.setObjective(_unmet_expression(v))
        return
    penalty = data.weights.unmet_penalty
    terms = [(u, penalty) for u in v.unmet.values()]
    terms += list(_cost_travel_expression(tables, v, data.weights).items())
    constant = penalty * sum(v.fixed_unmet.values())
    problem.setObjective(pulp.LpAffineExpression(terms, constant=constant))


def build_siting_model(data: SitingInput) -> tuple[pulp.LpProblem, SitingVariables]:
    """Build the single-period capacitated siting MIP (see the module docstring).

    Names are ASCII and deterministic: ``open__<site>__<stage>__c<classes>``,
    ``assign__<zone>__<school>__<stage>``, ``unmet__<zone>__<stage>``; constraints
    ``demand__<zone>__<stage>``, ``cap_existing__<school>__<stage>``,
    ``cap_site__<site>__<stage>``, ``one_option__<site>``, ``link__<zone>__<site>__<stage>``,
    ``budget`` and ``open_exactly``, with ids replaced by
    :func:`allocator.solvers.names.ascii_token`.

    This is always the assignment formulation, whatever ``data.formulation`` says.

    Parameters
    ----------
    data
        Demand, existing seats, site options, feasible pairs, weights, budget and mode.

    Returns
    -------
    tuple of pulp.LpProblem and SitingVariables
        The model (minimisation) and handles on its variables. Weighted mode: the weighted
        objective (objective units). Lexicographic mode: the phase-1 objective ``Σ u``
        (persons); :func:`solve_siting` adds the phase-2 row and objective itself.

    Raises
    ------
    ValueError
        If an input frame is malformed or references unknown ids, or ``open_exactly`` is
        not a whole number between 0 and the number of candidate sites.
    """
    return _build(_prepare(data), data)


def _prepare(data: SitingInput) -> SitingTables:
    """Validate the input (see :func:`allocator.siting_data.prepare_tables`)."""
    tables = prepare_tables(data.demand, data.existing, data.options, data.pairs, data.budget_cny)
    if data.formulation not in FORMULATIONS:
        raise ValueError(f"formulation must be one of {FORMULATIONS}, got {data.formulation!r}")
    p = data.open_exactly
    if p is not None:
        sites = len({c for c, _, _ in tables.options})
        if isinstance(p, bool) or not isinstance(p, Integral) or not 0 <= p <= sites:
            raise ValueError(
                f"open_exactly must be a whole number in [0, {sites}] (the number of "
                f"candidate sites) or None, got {p!r}"
            )
    return tables


def _build(tables: SitingTables, data: SitingInput) -> tuple[pulp.LpProblem, SitingVariables]:
    """Build the model from validated tables, in the constraint families' catalogue order."""
    tokens = tokens_of(tables)
    problem = pulp.LpProblem("siting", pulp.LpMinimize)
    v = _add_variables(problem, tables, tokens, data.open_exactly is not None)
    _add_demand(problem, tables, v, tokens)
    _add_existing_capacity(problem, tables, v, tokens)
    _add_site_capacity(problem, tables, v, tokens)
    add_one_option(problem, v.open, tokens)
    _add_link(problem, tables, v, tokens)
    add_budget(problem, tables, v.open, data.budget_cny)
    add_open_exactly(problem, v.open, data.open_exactly)
    _set_objective(problem, tables, v, data)
    _log_size(tables, v, problem)
    return problem, v


def _log_size(tables: SitingTables, v: SitingVariables, problem: pulp.LpProblem) -> None:
    """Log model size and the seat balance the solver starts from."""
    logger.info(
        "siting model: %d option, %d assignment, %d unmet variables, %d constraints; "
        "demand %.0f children (%.0f out of reach), existing seats %.0f",
        len(v.open),
        len(v.assign),
        len(v.unmet),
        len(problem.constraints()),
        sum(tables.demand.values()),
        sum(v.fixed_unmet.values()),
        sum(tables.existing.values()),
    )


# --------------------------------------------------------------------------- solve


def _frames(tables: SitingTables, v: SitingVariables) -> SitingFrames:
    """Result tables of the solution held by the variables (``y > 0.5`` counts as open)."""
    opened = [key for key, y in v.open.items() if (y.value() or 0.0) > 0.5]
    flows = {key: x.value() for key, x in v.assign.items()}
    unmet = {key: u.value() for key, u in v.unmet.items()}
    return solution_frames(tables, opened, flows, unmet)


def _result(info: SolveInfo, frames: SitingFrames, phases: tuple[SolveInfo, ...]) -> SitingResult:
    """Assemble a result; ``terms`` only when there is a solution."""
    terms = objective_terms(frames) if info.has_solution else {}
    return SitingResult(
        info=info,
        opened=frames.opened,
        assignments=frames.assignments,
        unmet=frames.unmet,
        school_load=frames.school_load,
        phases=phases,
        terms=terms,
    )


def choose_formulation(data: SitingInput, tables: SitingTables) -> Formulation:
    """The formulation a run uses: ``"assignment"`` or ``"radius"``.

    Parameters
    ----------
    data
        The run's input; ``data.formulation`` is ``"auto"``, ``"assignment"`` or
        ``"radius"``.
    tables
        Its validated tables.

    Returns
    -------
    Formulation
        ``"radius"`` if asked for, or for ``"auto"`` when ``open_exactly`` is set and no
        capacity can bind (:func:`allocator.siting_radius.uncapacitated`); else
        ``"assignment"``.

    Raises
    ------
    ValueError
        If ``"radius"`` is asked for but some capacity could bind (the radius formulation
        has no capacity rows).
    """
    if data.formulation == "assignment":
        return "assignment"
    free = uncapacitated(tables)
    if data.formulation == "radius":
        if not free:
            raise ValueError(
                "formulation 'radius' needs capacities that never bind (every option's and "
                "existing school's seats >= the demand that can reach it); use 'assignment'"
            )
        return "radius"
    return "radius" if free and data.open_exactly is not None else "assignment"


def solve_siting(data: SitingInput, options: SolverOptions) -> SitingResult:
    """Build and solve the siting MIP and return tidy result tables.

    Parameters
    ----------
    data
        Demand, existing seats, site options, feasible pairs, weights, budget, mode,
        ``open_exactly`` and formulation (see :func:`choose_formulation`).
    options
        Solver backend and limits. In lexicographic mode ``mip_gap`` and ``node_limit``
        apply to each phase and the time limit is shared between them (see
        :func:`allocator.siting_phases.phase2_options`).

    Returns
    -------
    SitingResult
        The solver report and the result tables; a run stopped by a limit with an
        incumbent returns the incumbent's tables (``info.status == "feasible"``), a run
        without a solution returns empty tables.

    Raises
    ------
    ValueError
        If an input frame is malformed or references unknown ids, ``open_exactly`` is out
        of range, or ``"radius"`` is asked for with capacities that could bind.
    """
    tables = _prepare(data)
    if choose_formulation(data, tables) == "radius":
        run = solve_radius_dynamic if dynamic_applies(data, tables) else solve_radius
        info, frames, phases = run(data, tables, options, solve_pulp)
        return _result(info, frames, phases)
    problem, v = _build(tables, data)
    if data.lexicographic:
        second = _cost_travel_expression(tables, v, data.weights)
        fixed = sum(v.fixed_unmet.values())
        info, phases = solve_lexicographic(
            problem, _unmet_expression(v), second, fixed, options, solve_pulp
        )
    else:
        info = solve_pulp(problem, options)
        phases = (info,)
    if not info.has_solution:
        logger.warning("siting: no solution (%s)", info.message)
        return _result(info, empty_frames(), phases)
    return _result(info, _frames(tables, v), phases)
