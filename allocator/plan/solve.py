"""Build and solve the multi-period siting model (see :mod:`allocator.plan`)."""

from __future__ import annotations

import dataclasses
import logging
import time

import pulp

from allocator.plan.constraints import (
    add_closed_flows,
    add_demand,
    add_equity,
    add_existing_capacity,
    add_expansion_projects,
    add_link,
    add_migrant_public,
    add_no_close_while_opening,
    add_one_closure,
    add_one_option,
    add_school_size,
    add_site_capacity,
    add_stage_size,
)
from allocator.plan.data import PlanInput, PlanResult
from allocator.plan.frames import empty_frames, objective_terms, solution_frames
from allocator.plan.greedy import apply_plan, greedy_plan
from allocator.plan.objective import (
    first_objective,
    second_objective,
    set_objective,
    unmet_expression,
)
from allocator.plan.phases import solve_two_phase
from allocator.plan.targets import (
    add_budget,
    add_count_targets,
    add_projects,
    add_seat_targets,
    add_share_targets,
)
from allocator.plan.validate import PlanTables, validate
from allocator.plan.variables import PlanVariables, add_variables
from allocator.solvers import SolveInfo, SolverOptions, solve_pulp

__all__ = ["build_plan_model", "solve_plan"]

logger = logging.getLogger(__name__)


def _build(tables: PlanTables, data: PlanInput) -> tuple[pulp.LpProblem, PlanVariables]:
    """The build recipe: variables, then one family after the other, then the objective."""
    start = time.perf_counter()
    rules = data.rules
    problem = pulp.LpProblem("plan", pulp.LpMinimize)
    v = add_variables(problem, tables, rules, equity=data.weights.equity_weight > 0)
    add_demand(problem, tables, v)                     # Σ x + u = d
    add_one_option(problem, v)                         # Σ_{k,t} open <= 1
    add_site_capacity(problem, tables, v)              # D-13 sites
    add_link(problem, tables, v)                       # x <= d · opened
    add_existing_capacity(problem, tables, v)          # D-13 existing schools
    add_closed_flows(problem, tables, v)               # no pupils once closed
    add_school_size(problem, tables, v)                # D-14 land and size
    add_stage_size(problem, tables, v, rules.max_classes_by_stage)  # N-05
    add_expansion_projects(problem, v)                 # e[s,t] for N-02
    add_one_closure(problem, v)                        # Σ_t q <= 1
    add_no_close_while_opening(problem, tables, v)     # D-10
    if rules.migrant_public:
        add_migrant_public(problem, tables, v, rules.public_only_stages)  # D-23
    add_budget(problem, tables, v, rules)              # N-01
    add_projects(problem, v, rules)                    # N-02
    add_seat_targets(problem, tables, v, rules)        # J-04, G-03, N-03
    add_share_targets(problem, tables, v, rules)       # N-12 public share
    add_count_targets(problem, tables, v, rules)       # D-06
    add_equity(problem, tables, v)                     # u <= d · v
    set_objective(problem, tables, v, data)
    logger.info(
        "plan model: %d periods, %d open, %d module, %d closure, %d assignment, %d unmet, "
        "%d elastic variables, %d constraints; built in %.2f s",
        len(tables.periods), len(v.open), len(v.modules), len(v.close), len(v.assign),
        len(v.unmet), len(v.elastic), problem.numConstraints(), time.perf_counter() - start,
    )
    return problem, v


def build_plan_model(data: PlanInput) -> tuple[pulp.LpProblem, PlanVariables]:
    """Build the multi-period siting MIP (see :mod:`allocator.plan`).

    Parameters
    ----------
    data
        Frames, rules, weights and mode.

    Returns
    -------
    tuple of pulp.LpProblem and PlanVariables
        The model (minimisation) and handles on its variables and rule rows. Weighted
        mode: the weighted objective. Lexicographic mode: the phase-1 objective
        (``Σ u + Σ penalty · slack``); :func:`solve_plan` adds the phase-2 row itself.

    Raises
    ------
    ValueError
        If an input frame or rule parameter is malformed (see
        :func:`allocator.plan.validate.validate`).
    """
    return _build(validate(data), data)


def _lex_message(info: SolveInfo, first_status: str, terms: dict[str, float],
                 elastic: bool) -> str:
    """Message of a lexicographic run that names what phase 1 minimised and achieved."""
    tail = info.message.split("; phase 2 ", 1)
    rest = f"; phase 2 {tail[1]}" if len(tail) == 2 else ""
    first = "unmet+elastic" if elastic else "unmet"
    text = (f"phase 1 ({first}) {first_status}: {terms['unmet_children']:,.10g} "
            "child-periods unmet")
    if elastic:
        text += f", elastic slack {terms['elastic_slack']:,.10g}"
    return text + rest


def solve_plan(data: PlanInput, options: SolverOptions) -> PlanResult:
    """Build and solve the multi-period siting MIP and return the result tables.

    Parameters
    ----------
    data
        Frames, rules, weights, mode (``lexicographic``) and ``warm_start``.
    options
        Solver backend and limits. In lexicographic mode ``mip_gap`` and ``node_limit``
        apply to each phase and the time limit is shared (see
        :func:`allocator.siting_phases.phase2_options`). With ``data.warm_start`` the
        greedy plan (:mod:`allocator.plan.greedy`) is passed with ``warm_start=True``.

    Returns
    -------
    PlanResult
        Status, bound and gap, every phase's report and the tables; a run stopped by a limit
        keeps its incumbent (status ``feasible``); infeasible rules give status
        ``infeasible`` and empty tables (never an exception).

    Raises
    ------
    ValueError
        If an input frame or rule parameter is malformed.
    """
    tables = validate(data)
    problem, v = _build(tables, data)
    if data.warm_start:
        apply_plan(greedy_plan(tables, data, v), tables, v)
        options = dataclasses.replace(options, warm_start=True)
    if data.lexicographic:
        first = first_objective(v, data.weights)
        second = second_objective(tables, v, data.weights)
        info, phases = solve_two_phase(problem, unmet_expression(v), first, second,
                                       sum(v.fixed_unmet.values()), options, solve_pulp)
    else:
        info = solve_pulp(problem, options)
        phases = (info,)
    if not info.has_solution:
        logger.warning("plan: no solution (%s)", info.message)
        frames = empty_frames()
        terms: dict[str, float] = {}
    else:
        frames = solution_frames(tables, v, data.rules)
        terms = objective_terms(frames, tables)
        if data.lexicographic and len(phases) == 2:
            message = _lex_message(info, phases[0].status, terms, bool(v.elastic))
            info = dataclasses.replace(info, message=message)
    return PlanResult(
        info=info,
        phases=phases,
        opened=frames.opened,
        expansions=frames.expansions,
        closures=frames.closures,
        capacity=frames.capacity,
        assignments=frames.assignments,
        unmet=frames.unmet,
        spend=frames.spend,
        rule_report=frames.rule_report,
        terms=terms,
    )
