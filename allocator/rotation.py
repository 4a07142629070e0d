"""Teacher staffing and urban–rural rotation under the documents' rules (OR-Tools CP-SAT).

Build recipe (:func:`build_rotation_model`), one function per family, catalogue order:

1. validate the frames, posts per school-year (J-27, Z-09, Z-11) and subject needs
   (:mod:`allocator.rotation_prep`);
2. the move network: rotation arcs toward rural and weak schools (N-16) within the distance
   limit or on pairing arcs (J-17), research bodies to their county's rural and weak
   schools, transfer arcs inside a county (J-29); banned arcs (J-10, G-12) get no
   variables unless a listed exception lifts the ban (:mod:`allocator.rotation_network`);
   pre-solve checks quote the conflicts visible before solving
   (:mod:`allocator.rotation_checks`);
3. integer flows by (arc, subject, backbone, year), their totals, and cohort moves where
   talent locks, exceptions or transfers need them, exactly linked
   (:mod:`allocator.rotation_model`);
4. hard rules: D-19 (rotation share, backbone share), J-08 (backbone floor), G-11 (talent
   lock), J-15 (researchers), J-18 (pairing exchanges), J-27 (sender floor), D-21 / Z-10
   (county posts with hires) (:mod:`allocator.rotation_rules`);
5. objective: subject shortfall weighted toward rural and weak schools (J-30, D-04, D-20),
   regional backbone-share gap (J-02, G-02), travel, disruption, hires.

Without transfers and hires the plan years are independent (rotations last a year and
every rule is per year), so :func:`solve_rotation` solves one model per year and adds up
objectives and bounds (exact; ``decompose=False`` builds one model).

Conflicting hard rules give status ``infeasible`` (never an exception). With
``elastic=True`` every hard rule gets a named, penalised slack per rule and scope and
moves on banned arcs are priced, so the result's ``slacks`` say which rule gives and by
how much. Named teachers are then assigned deterministically
(:mod:`allocator.rotation_frames`), and every rule is re-checked from the result tables
(:mod:`allocator.rotation_report`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
from ortools.sat.python import cp_model

from allocator.rotation_checks import precheck_findings, summary_lines
from allocator.rotation_frames import (
    ROTATION_COLUMNS,
    Solution,
    assign_teachers,
    placements,
    rotations_frame,
)
from allocator.rotation_input import (
    RotationException,
    RotationInput,
    RotationPolicy,
    RotationWeights,
)
from allocator.rotation_model import OBJECTIVE_SCALE, RotationModel
from allocator.rotation_network import Network, build_network
from allocator.rotation_prep import RotationTables, prepare, restrict
from allocator.rotation_report import cv_frame, rule_report, staffing_frame
from allocator.rotation_rules import add_rules
from allocator.solvers import SolveInfo, relative_gap
from allocator.solvers.cpsat import CpSatOptions, solve_cpsat

__all__ = [
    "RotationException",
    "RotationInput",
    "RotationPolicy",
    "RotationResult",
    "RotationWeights",
    "build_rotation_model",
    "solve_rotation",
]

logger = logging.getLogger(__name__)

SLACK_COLUMNS = ("rule_id", "scope", "scope_id", "year", "amount")
EXCEPTION_COLUMNS = ("exception", "rules", "teacher_id", "from_school", "to_school", "reason",
                     "moves")


@dataclass(frozen=True, eq=False)
class RotationResult:
    """Solution of a rotation run; frames are empty (same columns) without a solution.

    Attributes
    ----------
    info
        Solver report: status, objective (weighted objective units), bound, gap, seconds.
    rotations
        ``year, teacher_id, count, subject, backbone, from_school, from_county,
        from_region, to_school, to_county, to_region, kind, distance_km``: kind
        ``rotation`` (one school year, the teacher keeps the post), ``transfer``
        (permanent) or ``hire``; ``teacher_id`` blank when aggregated.
    staffing
        Per school and year: ``school, county, region, stage, year, pupils,
        posts_required, teachers_before, teachers_after, shortfall_<subject>...,
        shortfall_before, shortfall`` and the 优质均衡 indicators per 100 pupils
        ``<indicator>_before`` / ``_after`` (see
        :func:`allocator.rotation_report.staffing_frame`).
    cv
        Pupil-weighted CV of each indicator by county, stage and year, with threshold.
    rules
        Per-rule report: ``rule_id, scope, scope_id, year, sense, required, actual, slack,
        binding, violation, note``, recomputed from the tables.
    slacks
        Elastic mode: ``rule_id, scope, scope_id, year, amount`` of every positive named
        slack (teachers), including moves on banned arcs; empty otherwise.
    exceptions
        Every listed exception and how many moves used it.
    terms
        Achieved objective terms: ``shortage_teacher_years``, ``moves``,
        ``travel_teacher_km``, ``hires``, ``elastic_slack`` (teachers) and ``objective``.
    elastic
        Whether the run was elastic.
    warnings
        Pre-solve findings that quote numbers (:func:`allocator.rotation_checks.precheck`):
        rule conflicts visible before solving.
    """

    info: SolveInfo
    rotations: pd.DataFrame
    staffing: pd.DataFrame
    cv: pd.DataFrame
    rules: pd.DataFrame
    slacks: pd.DataFrame
    exceptions: pd.DataFrame
    terms: dict[str, float] = field(default_factory=dict)
    elastic: bool = False
    warnings: tuple[str, ...] = ()


def build_rotation_model(data: RotationInput, *, elastic: bool = False) -> RotationModel:
    """Build the CP-SAT model (see the module docstring for the recipe).

    Parameters
    ----------
    data
        Frames, policy and weights.
    elastic
        Slack per hard rule and scope, and priced moves on banned arcs.

    Returns
    -------
    RotationModel
        The model (``.model``, a ``cp_model.CpModel``, minimisation in
        ``OBJECTIVE_SCALE`` units per objective unit) and its variable handles.

    Raises
    ------
    InputError
        Every problem found in the input frames.
    """
    tables = prepare(data)
    network = build_network(tables, data.policy)
    return _build(tables, network, data, elastic=elastic)


def _build(tables: RotationTables, network: Network, data: RotationInput, *,
           elastic: bool) -> RotationModel:
    """Variables, rules and objective in build order."""
    ctx = RotationModel(tables, network, data.policy, data.weights, elastic=elastic)
    ctx.add_variables()
    add_rules(ctx)
    ctx.add_shortage()
    ctx.add_backbone_gap()
    ctx.set_objective()
    proto = ctx.model.proto
    logger.info("rotation model: %d variables, %d constraints (%d flows, %d cohort moves, "
                "%d slacks)", len(proto.variables), len(proto.constraints), len(ctx.flow),
                len(ctx.moves), len(ctx.slacks))
    return ctx


def _solution(ctx: RotationModel, solver: cp_model.CpSolver) -> Solution:
    """Positive values of the decision variables."""
    def positive(table: dict[tuple[object, ...], cp_model.IntVar]) -> dict[object, int]:
        values = {key: int(solver.value(var)) for key, var in table.items()}
        return {key: v for key, v in values.items() if v > 0}

    pooled = {key: var for key, var in ctx.out_total.items() if key in ctx.pooled_keys}
    return Solution(positive(ctx.flow), positive(ctx.xflow),  # type: ignore[arg-type]
                    positive(ctx.moves), positive(pooled),  # type: ignore[arg-type]
                    positive(ctx.hires))  # type: ignore[arg-type]


def _merge(parts: list[Solution]) -> Solution:
    """One solution from the solutions of disjoint year blocks."""
    return Solution(*({k: v for p in parts for k, v in getattr(p, f).items()}
                      for f in ("flows", "xflows", "moves", "pooled", "hires")))


def _slack_rows(ctx: RotationModel, solver: cp_model.CpSolver) -> list[tuple[object, ...]]:
    """Positive named slacks of a solved model."""
    values = [(s, int(solver.value(s.var))) for s in ctx.slacks]
    return [(s.rule_id, s.scope, s.scope_id, s.year, v) for s, v in values if v > 0]


def _slacks(rows: list[tuple[object, ...]], moves: pd.DataFrame, network: Network
            ) -> pd.DataFrame:
    """Named slacks plus moves on arcs banned in their year (elastic mode)."""
    banned: dict[tuple[str, str, int], int] = {}
    for t, a, y in zip(moves["teacher_id"], moves["arc"], moves["year"], strict=True):
        arc = network.arcs[int(a)]
        if int(y) in network.teacher_arcs.get((str(t), int(a)), ()):
            continue
        for ban in arc.banned(int(y)):
            key = (ban, f"{arc.source}->{arc.target}", int(y))
            banned[key] = banned.get(key, 0) + 1
    rows = rows + [(r, "arc", sid, y, n) for (r, sid, y), n in sorted(banned.items())]
    frame = pd.DataFrame(rows, columns=list(SLACK_COLUMNS))
    frame["year"] = frame["year"].astype("Int64")
    frame["amount"] = frame["amount"].astype("int64")
    return frame.sort_values(["rule_id", "scope", "scope_id", "year"],
                             kind="mergesort").reset_index(drop=True)


def _exceptions(policy: RotationPolicy, rules: pd.DataFrame, moves: pd.DataFrame,
                network: Network) -> pd.DataFrame:
    """Listed exceptions and the moves that used them."""
    rows = []
    for k, exc in enumerate(policy.exceptions):
        if exc.teacher_id is not None:
            mine = moves[moves["teacher_id"].eq(exc.teacher_id)]
            used = sum(
                bool(set(network.arcs[int(a)].bans) & set(exc.rules))
                or ("G-11" in exc.rules and network.arcs[int(a)].changes_kind
                    and int(y) in network.raw_locked.get(exc.teacher_id, frozenset()))
                for a, y in zip(mine["arc"], mine["year"], strict=True))
        else:
            arcs = {a.index for a in network.arcs if k in a.exceptions}
            used = int(moves["arc"].isin(arcs).sum())
        rows.append((k, ",".join(exc.rules), exc.teacher_id, exc.from_school, exc.to_school,
                     exc.reason, int(used)))
    return pd.DataFrame(rows, columns=list(EXCEPTION_COLUMNS))


def _terms(staffing: pd.DataFrame, rotations: pd.DataFrame, slacks: pd.DataFrame,
           info: SolveInfo) -> dict[str, float]:
    """Achieved objective terms in their own units."""
    moved = rotations[rotations["kind"].ne("hire")]
    km = (moved["distance_km"].fillna(0.0) * moved["count"]).sum()
    return {
        "shortage_teacher_years": float(staffing["shortfall"].sum()),
        "moves": float(moved["count"].sum()),
        "travel_teacher_km": float(km),
        "hires": float(rotations.loc[rotations["kind"].eq("hire"), "count"].sum()),
        "elastic_slack": float(slacks["amount"].sum()) if len(slacks) else 0.0,
        "objective": float(info.objective or 0.0),
    }


def _empty(info: SolveInfo, elastic: bool, warnings: tuple[str, ...]) -> RotationResult:
    """A result without a solution."""
    empty = pd.DataFrame(columns=list(ROTATION_COLUMNS))
    return RotationResult(info, empty, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                          pd.DataFrame(columns=list(SLACK_COLUMNS)),
                          pd.DataFrame(columns=list(EXCEPTION_COLUMNS)), {}, elastic, warnings)


def separable(tables: RotationTables, network: Network, policy: RotationPolicy) -> bool:
    """Whether the plan years are independent models (no transfers, no hires).

    Rotations last one year and draw on each year's eligible teachers, researchers rotate
    in their due year and every rule is per year; only permanent moves (transfers,
    hires) carry over to later years.
    """
    return len(tables.years) > 1 and not policy.allow_hires and not any(
        a.move == "transfer" for a in network.arcs)


def _block_options(options: CpSatOptions, spent: float, left: int) -> CpSatOptions:
    """Options for the next of ``left`` year blocks: an equal share of what remains."""
    time_limit = options.time_limit_s
    if time_limit is not None:
        time_limit = max((time_limit - spent) / left, 0.01)
    work = options.deterministic_time_limit
    if work is not None:
        work = work / left
    return dataclasses.replace(options, time_limit_s=time_limit, deterministic_time_limit=work)


def _combine(infos: list[SolveInfo], labels: list[str], blocks: int) -> SolveInfo:
    """One report for year blocks solved separately (sums of objectives and bounds)."""
    if len(infos) == 1 and blocks == 1:
        return infos[0]
    failed = [i for i in infos if not i.has_solution]
    status = failed[0].status if failed else (
        "optimal" if all(i.status == "optimal" for i in infos) else "feasible")
    objective = None if failed else sum(i.objective or 0.0 for i in infos)
    bounds = [i.bound for i in infos]
    bound = None if failed or any(b is None for b in bounds) else sum(
        b for b in bounds if b is not None)
    gap = relative_gap(objective, bound)
    per_year = "; ".join(f"{label}: {i.status}" for label, i in zip(labels, infos, strict=False))
    gap_text = "n/a" if gap is None else f"{gap:.4%}"
    return SolveInfo(
        status=status, objective=objective, bound=bound, gap=gap,
        seconds=sum(i.seconds for i in infos), solver=infos[0].solver,
        solver_version=infos[0].solver_version,
        message=f"{len(infos)} of {blocks} year models solved ({per_year}); objective "
                f"{objective if objective is not None else 'n/a'}, bound "
                f"{bound if bound is not None else 'n/a'}, gap {gap_text}")


@dataclass(frozen=True, eq=False)
class _Run:
    """What one solved year block leaves behind (the model itself can then be freed)."""

    info: SolveInfo
    solution: Solution | None
    slack_rows: list[tuple[object, ...]]


def _finish(ctx: RotationModel, info: SolveInfo, solver: cp_model.CpSolver) -> _Run:
    """Read the solution and slacks of a solved block, if it has a solution."""
    if not info.has_solution:
        return _Run(info, None, [])
    return _Run(info, _solution(ctx, solver), _slack_rows(ctx, solver))


def _solve_blocks(tables: RotationTables, network: Network, data: RotationInput,
                  options: CpSatOptions, *, elastic: bool, decompose: bool, year_workers: int
                  ) -> tuple[SolveInfo, Solution | None, list[tuple[object, ...]]]:
    """Solve the whole plan, or each year on its own when the years are independent."""
    blocks = ([(y,) for y in tables.years] if decompose and separable(
        tables, network, data.policy) else [tables.years])
    labels = [str(b[0]) if len(b) == 1 else f"{b[0]}-{b[-1]}" for b in blocks]
    runs: list[_Run] = []
    if year_workers > 1 and len(blocks) > 1:
        workers = min(year_workers, len(blocks))
        share = _block_options(options, 0.0, len(blocks))
        share = dataclasses.replace(share, time_limit_s=None if share.time_limit_s is None
                                    else share.time_limit_s * workers)

        def run(ctx: RotationModel) -> _Run:
            info, solver = solve_cpsat(ctx.model, share, objective_scale=OBJECTIVE_SCALE)
            return _finish(ctx, info, solver)

        # Each year model is handed to the pool as soon as it is built, so building the
        # next one (Python) overlaps the solves (CP-SAT releases the GIL while solving).
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(run, _build(restrict(tables, years), network, data,
                                               elastic=elastic)) for years in blocks]
            runs = [future.result() for future in futures]
    else:
        spent = 0.0
        for k, years in enumerate(blocks):
            sub = restrict(tables, years) if len(blocks) > 1 else tables
            ctx = _build(sub, network, data, elastic=elastic)
            info, solver = solve_cpsat(ctx.model, _block_options(options, spent,
                                                                 len(blocks) - k),
                                       objective_scale=OBJECTIVE_SCALE)
            spent += info.seconds
            runs.append(_finish(ctx, info, solver))
            del ctx, solver  # the next year model need not share memory with this one
            if not info.has_solution:
                break
    info = _combine([r.info for r in runs], labels, len(blocks))
    if not info.has_solution:
        return info, None, []
    parts = [r.solution for r in runs if r.solution is not None]
    slack_rows = [row for r in runs for row in r.slack_rows]
    return info, _merge(parts), slack_rows


def solve_rotation(data: RotationInput, *, options: CpSatOptions | None = None,
                   elastic: bool = False, decompose: bool = True,
                   year_workers: int = 1) -> RotationResult:
    """Build, solve and report a staffing and rotation plan.

    Parameters
    ----------
    data
        Frames, policy and weights.
    options
        CP-SAT options (default: 60 s, relative gap 1e-4, one worker, seed 0);
        ``linearization_level`` ``None`` becomes 2 (much faster on this model).
    elastic
        Turn every hard rule into a named, penalised slack (weight
        ``RotationWeights.elastic`` or ``elastic_by_rule``) and price moves on banned arcs.
    decompose
        When the years are independent (no transfers, no hires; see :func:`separable`),
        solve one model per year, in order, sharing the time limit; objectives and bounds
        add up, so the reported bound and gap remain valid for the whole plan. Exact,
        and much faster than one model.
    year_workers
        With ``decompose``, solve up to this many year models at the same time (threads;
        each model still uses ``options.num_workers``). The time limit then applies to the
        whole run, each year model getting ``time_limit_s · workers / years``; results
        stay reproducible where no wall-clock limit is hit.

    Returns
    -------
    RotationResult
        Status and tables; empty tables when the solver found no solution (infeasible,
        or a limit without a solution). Never raises on a solver outcome.

    Raises
    ------
    InputError
        Every problem found in the input frames.
    """
    options = options or CpSatOptions()
    if options.linearization_level is None:
        options = dataclasses.replace(options, linearization_level=2)
    started = time.perf_counter()
    tables = prepare(data)
    network = build_network(tables, data.policy)
    findings = precheck_findings(tables, network, data.policy)
    warnings = tuple(f.text for f in findings)  # every finding stays as data
    for line in summary_lines(findings):  # the log: one line per check and year
        logger.warning("rotation pre-check: %s", line)
    if year_workers < 1:
        raise ValueError(f"year_workers must be >= 1, got {year_workers}")
    info, solution, slack_rows = _solve_blocks(tables, network, data, options,
                                               elastic=elastic, decompose=decompose,
                                               year_workers=year_workers)
    logger.info("rotation: %.2f s in all, %s", time.perf_counter() - started, info.message)
    if solution is None:
        logger.warning("rotation: no solution (%s)%s", info.message,
                       "" if elastic else "; solve with elastic=True to see which rule gives")
        return _empty(info, elastic, warnings)
    moves = assign_teachers(tables, network, solution)
    rotations = rotations_frame(tables, moves, solution, named=tables.named and data.disaggregate)
    state = placements(tables, moves, solution)
    staffing = staffing_frame(tables, state, data.policy)
    slacks = _slacks(slack_rows, moves, network) if elastic else pd.DataFrame(
        columns=list(SLACK_COLUMNS))
    rules = rule_report(tables, network, state, moves, data.policy)
    return RotationResult(
        info=info, rotations=rotations, staffing=staffing, cv=cv_frame(staffing, data.policy),
        rules=rules, slacks=slacks, exceptions=_exceptions(data.policy, rules, moves, network),
        terms=_terms(staffing, rotations, slacks, info), elastic=elastic, warnings=warnings)
