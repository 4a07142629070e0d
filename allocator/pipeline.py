"""One planning run: scenario in, :class:`~allocator.results.Results` out (no files written).

The steps, each timed:

1. ``inputs``: read and validate the data layers (:mod:`allocator.inputs`);
2. ``demand``: the forecast by zone, stage, year and variant (:mod:`gis.demand`), and
   the demand of every period year of the chosen variant (:mod:`allocator.plan_inputs`);
3. ``travel``: optional zone aggregation (``travel.aggregate_zones_m``,
   :mod:`gis.aggregate`), zone-school pairs within the stage's travel limit in a metric
   CRS (:mod:`allocator.travel`), the candidate sites' size options after the exclusions
   (:mod:`allocator.candidates`), the model input and the pre-solve notes;
4. ``siting``: the multi-period, multi-stage siting model (:mod:`allocator.plan`);
5. ``explain`` (only when the siting model is infeasible and the scenario is not elastic):
   the same model re-solved with ``rules.elastic`` on, and the relaxations it needs in the
   rules' own words (:mod:`allocator.explain`), in the run's language (``--lang``, else
   ``meta.language``, else English: :func:`allocator.i18n.choose_language`, as the CLI
   summary and the audit);
6. ``tables``: results split back to the zones if they were aggregated, tidy tables and
   map layers (:mod:`allocator.tables`), and the ``exceptions`` table
   (:mod:`allocator.exceptions_report`);
7. ``rotation`` (with a ``rotation:`` section): staffing and rotation
   (:mod:`allocator.rotation_pipeline`); its elastic re-solve is explained too.

The scenario's ``rules:`` switches reach the models through
:mod:`allocator.plan_inputs` and :meth:`allocator.rotation_config.RotationConfig.policy`;
a scenario that switches off D-13 or Z-18 is refused (:class:`InputError`).

An infeasible run keeps status ``infeasible`` (exit code 3): its tables hold no plan,
except ``plan_rules``, which is the elastic re-solve's rule report (column ``elastic``: the
relaxation of each row), and :attr:`Results.explanation` says what must give.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pandas as pd
import pyproj
from geopandas import GeoDataFrame

from allocator.candidates import excluded_sites, site_options, with_expanded_sites
from allocator.errors import InputError, Problem
from allocator.exceptions_report import exceptions_table
from allocator.explain import (
    explain_plan,
    explain_rotation,
    plan_closing,
    plan_intro,
    rotation_intro,
)
from allocator.i18n import DEFAULT_LANGUAGE, choose_language
from allocator.inputs import PlanInputs, load_inputs
from allocator.plan import solve_plan
from allocator.plan.data import PlanInput, PlanResult
from allocator.plan_inputs import (
    build_plan_input,
    catchment_pairs,
    plan_demand,
    refused_switches,
    siting_config,
    switch_notes,
)
from allocator.results import Results
from allocator.rotation_pipeline import RotationOutcome, plan_rotation
from allocator.scenario import STAGES, ResolvedScenario, Scenario
from allocator.solvers import SolveInfo, SolverOptions
from allocator.tables import CHILD_DECIMALS, RULE_COLUMNS, build_layers, build_tables
from allocator.travel import load_network, travel_pairs
from gis.crs import metric_crs
from gis.demand import Variant, forecast_demand

__all__ = ["Prepared", "county_notes", "demand_forecast", "prepare", "presolve_notes", "run",
           "split_to_zones"]

log = logging.getLogger(__name__)

StepCallback = Callable[[str], None]


class _Timer:
    def __init__(self, on_step: StepCallback | None) -> None:
        self.seconds: dict[str, float] = {}
        self.on_step = on_step

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self.on_step is not None:
            self.on_step(name)
        log.debug("step %s", name)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 4)


def demand_forecast(config: Scenario, inputs: PlanInputs) -> pd.DataFrame:
    """Children by zone, stage, forecast year and variant (see :mod:`gis.demand`).

    Returns ``zone_id, stage, year, variant, children, migrant`` (persons).
    """
    shares: dict[str, float] = {stage: share for stage in STAGES
              if (share := config.standards.school_age_shares.get(stage)) is not None}
    variants = {name: Variant(births_factor=v.births_factor, migration_shift=v.migration_shift,
                              housing_factor=v.housing_factor)
                for name, v in config.demand.variants.items()}
    zones = pd.DataFrame(inputs.zones.drop(columns="geometry"))
    if "county" not in zones.columns:
        zones["county"] = ""
    return forecast_demand(
        zones, base_year=config.planning.base_year, years=config.planning.forecast_years,
        stages=config.planning.stages, stage_shares=shares, births=inputs.births,
        migration={str(k): v for k, v in config.demand.migration.items()},
        migrant_shares={str(k): v for k, v in config.demand.migrant_shares.items()},
        housing=inputs.housing, variants=variants)


def choose_metric_crs(resolved: ResolvedScenario, zones: GeoDataFrame) -> pyproj.CRS:
    """The projected CRS used for every distance.

    ``auto``: the WGS 84 UTM zone of the zones' centre; ``auto_gk3``: the CGCS2000
    3-degree Gauss-Kruger zone (EPSG:4534-4554); otherwise the CRS the scenario names.
    """
    wanted = resolved.config.travel.metric_crs
    if wanted == "auto":
        return metric_crs(zones, kind="utm")
    if wanted == "auto_gk3":
        return metric_crs(zones, kind="cgcs2000_gk3")
    try:
        crs = pyproj.CRS.from_user_input(wanted)
    except pyproj.exceptions.CRSError:
        crs = None
    if crs is None or not crs.is_projected:
        raise InputError(
            [
                Problem(
                    resolved.source.name,
                    "key travel.metric_crs",
                    "expected 'auto', 'auto_gk3' or a projected CRS in metres, such as EPSG:4549",
                    repr(wanted),
                )
            ]
        )
    return crs


@dataclass(frozen=True)
class _Room:
    """Seats of a stage in a period year (persons, at that year's class cap)."""

    stage: str
    year: int
    need: float
    seats: float
    room: float
    largest: float


def _room_by_period(plan: PlanInput) -> list[_Room]:
    """Per period and stage: demand, existing seats, expansion room, sites' largest options."""
    caps = {(str(g), int(t)): float(c) for g, t, c in
            plan.caps[["stage", "year", "cap"]].itertuples(index=False, name=None)}
    existing = plan.existing
    room = (existing["max_classes"] - existing["classes"]).clip(lower=0).fillna(0)
    need = plan.demand.groupby(["stage", "year"])["children"].sum()
    rows = []
    for key, children in need.items():
        stage, year = str(key[0]), int(key[1])  # type: ignore[index]
        cap = caps.get((stage, year), 0.0)
        mine = existing["stage"] == stage
        largest = plan.options[plan.options["stage"] == stage].groupby("site_id")["classes"].max()
        rows.append(_Room(stage, year, float(children),
                          float(existing.loc[mine, "classes"].sum()) * cap,
                          float(room[mine].sum()) * cap, float(largest.sum()) * cap))
    return sorted(rows, key=lambda r: (r.year, r.stage))


def presolve_notes(plan: PlanInput) -> list[str]:
    """Quick checks that quote numbers before solving (they never stop the run).

    Per period and stage: demand above existing seats + expansion room + every candidate
    site's largest option (children certain to have no seat); zones with children and no
    school or site within the travel limit; D-06 counts above the sites on offer; seat
    targets above what every site and expansion together could add.
    """
    notes = []
    table = _room_by_period(plan)
    for row in table:
        most = row.seats + row.room + row.largest
        if row.need > most + 0.5:
            room = f" + expansion room {row.room:,.0f}" if row.room else ""
            notes.append(
                f"{row.year} {row.stage}: demand {row.need:,.0f} > existing seats "
                f"{row.seats:,.0f}{room} + every candidate's largest option "
                f"{row.largest:,.0f}: at least {row.need - most:,.0f} children will have no seat")
    demand = plan.demand.groupby(["zone_id", "stage"])["children"].sum().reset_index()
    for stage, group in demand.groupby("stage", sort=True):
        reached = set(plan.pairs.loc[plan.pairs["stage"] == stage, "zone_id"])
        stranded = group[(group["children"] > 0) & ~group["zone_id"].isin(reached)]
        if not stranded.empty:
            ids = ", ".join(stranded["zone_id"].head(5))
            more = f" and {len(stranded) - 5} more" if len(stranded) > 5 else ""
            notes.append(
                f"{stage}: {len(stranded)} zone(s) have no school or site within the "
                f"travel limit ({ids}{more}); their children will have no seat in any period")
    for target in plan.rules.count_targets:
        offered = plan.options.loc[plan.options["stage"] == target.stage, "site_id"].nunique()
        if target.sense != "at_most" and target.count > offered:
            notes.append(
                f"{target.rule_id} {target.stage} {target.year}: {target.count} new schools "
                f"asked ({target.sense}) but only {offered} candidate site(s) offer a "
                f"{target.stage} option")
    for seat in plan.rules.seat_targets:
        most = sum(r.room + r.largest for r in table
                   if r.stage in seat.stages and r.year == seat.year)
        if seat.min_seats > most + 0.5:
            notes.append(
                f"{seat.rule_id} {seat.year} ({', '.join(seat.stages)}): {seat.min_seats:,.0f} "
                f"new seats asked, but every candidate site at its largest option and every "
                f"expansion together add at most {most:,.0f} "
                f"({seat.min_seats - most:,.0f} short)")
    return notes


def _most_classes(plan: PlanInput) -> pd.DataFrame:
    """``school_id, stage, most``: the most classes a school or site could ever give a stage.

    Existing schools: today's classes plus the school's whole room ``max_classes - Σ_g
    classes`` (none when ``max_classes`` is NaN), at most the N-05 limit of the stage (or
    today's classes if above it). Sites: their largest option of the stage that J-20 and
    N-05 let open. Sums of these bound the seats any plan can give (closures ignored).
    """
    existing = plan.existing
    limits = plan.rules.max_classes_by_stage
    total = existing.groupby("school_id")["classes"].transform("sum")
    room = (existing["max_classes"] - total).clip(lower=0).fillna(0.0)
    most = existing["classes"] + room
    limit = existing["stage"].map(lambda g: limits.get(str(g), float("inf"))).astype(float)
    most = most.where(most <= limit, limit.where(limit >= existing["classes"],
                                                 existing["classes"]))
    schools = pd.DataFrame({"school_id": existing["school_id"].astype(str),
                            "stage": existing["stage"].astype(str), "most": most.astype(float)})
    options = plan.options.copy()
    if "ownership" not in options.columns:
        options["ownership"] = "public"
    allowed = set(getattr(plan.rules, "private_allowed", {}))
    banned = ((options["ownership"] == "private")
              & options["stage"].isin(plan.rules.public_only_stages)
              & ~options["site_id"].astype(str).isin(allowed))
    over = options["classes"] > options["stage"].map(
        lambda g: limits.get(str(g), float("inf"))).astype(float)
    keys = options.loc[banned | over, ["site_id", "option_id"]].drop_duplicates()
    usable = options.merge(keys, how="left", indicator=True)
    usable = usable[usable["_merge"] == "left_only"]
    sites = (usable.groupby(["site_id", "stage"])["classes"].max().reset_index()
             .rename(columns={"site_id": "school_id", "classes": "most"}))
    sites["school_id"] = sites["school_id"].astype(str)
    return pd.concat([schools, sites.astype({"most": float})], ignore_index=True)


def county_notes(plan: PlanInput, zone_county: pd.Series) -> list[str]:
    """Per county, period and stage: demand above the seats its zones could ever reach.

    Reachable seats of county ``c``, stage ``g``, year ``t``: ``Σ most[s, g] x cap[g, t]``
    over the schools and sites ``s`` that some zone of ``c`` reaches within the travel
    limit (the model's pairs), with ``most`` from :func:`_most_classes` (every school
    expanded fully, every site open at its largest option). Seats a school gives another
    county are counted for both, so this is an upper bound: a county whose demand exceeds
    it leaves at least the difference without a seat whatever is built.

    Parameters
    ----------
    plan
        The model input.
    zone_county
        County of each zone, indexed by ``zone_id`` (as strings).
    """
    caps = plan.caps.assign(stage=plan.caps["stage"].astype(str))
    county = zone_county.astype(str).rename("county")
    demand = plan.demand.assign(zone_id=plan.demand["zone_id"].astype(str))
    demand = demand.join(county, on="zone_id")
    demand["county"] = demand["county"].fillna("(no county)")
    need = demand.groupby(["county", "stage", "year"], as_index=False)["children"].sum()
    pairs = plan.pairs.assign(zone_id=plan.pairs["zone_id"].astype(str),
                              school_id=plan.pairs["school_id"].astype(str))
    reach = (pairs.join(county, on="zone_id")[["county", "school_id", "stage"]]
             .dropna().drop_duplicates())
    classes = (reach.merge(_most_classes(plan), on=["school_id", "stage"])
               .groupby(["county", "stage"], as_index=False)["most"].sum())
    table = (need.merge(classes, on=["county", "stage"], how="left")
             .merge(caps, on=["stage", "year"], how="left"))
    table["seats"] = table["most"].fillna(0.0) * table["cap"].fillna(0.0)
    notes = []
    for row in table.sort_values(["year", "county", "stage"]).itertuples(index=False):
        if row.children > row.seats + 0.5:
            notes.append(
                f"{row.county} {row.year}: {row.stage} demand {row.children:,.0f} > seats "
                f"reachable within the travel limits {row.seats:,.0f} even if every candidate "
                f"opens at its largest option and every school expands fully: at least "
                f"{row.children - row.seats:,.0f} children will have no seat")
    return notes


@dataclass(frozen=True, eq=False)
class Prepared:
    """Everything a run needs before the solver: data, model input and notes.

    Attributes
    ----------
    inputs
        The data layers (original zones).
    forecast
        The forecast of every zone, stage, year and variant.
    crs
        The metric CRS of every distance.
    options, excluded
        Size options of the candidate sites; excluded sites with their reasons.
    plan
        The model input (on aggregated zones when ``travel.aggregate_zones_m`` is set).
    membership
        ``zone_id, agg_id, weight`` when zones were aggregated, else ``None``.
    notes
        Pre-solve findings and set-up remarks.
    """

    inputs: PlanInputs
    forecast: pd.DataFrame
    crs: pyproj.CRS
    options: pd.DataFrame
    excluded: pd.DataFrame
    plan: PlanInput
    membership: pd.DataFrame | None
    notes: tuple[str, ...]


def _aggregate(config: Scenario, inputs: PlanInputs, crs: pyproj.CRS,
               demand: pd.DataFrame) -> tuple[PlanInputs, pd.DataFrame, pd.DataFrame, str]:
    """Zones merged into cells (``travel.aggregate_zones_m``) and their summed demand."""
    from gis.aggregate import aggregate_zones

    cell_m = config.travel.aggregate_zones_m
    assert cell_m is not None
    cells, membership = aggregate_zones(inputs.zones, cell_m=cell_m, crs=crs)
    members = membership[["zone_id", "agg_id"]].astype(str).drop_duplicates("zone_id")
    summed = (demand.merge(members, on="zone_id")
              .groupby(["agg_id", "stage", "year"], as_index=False)[["children", "migrant"]]
              .sum().rename(columns={"agg_id": "zone_id"}))
    summed = summed.sort_values(["year", "stage", "zone_id"]).reset_index(drop=True)
    note = (f"zones aggregated: {inputs.zones['zone_id'].nunique()} zones into {len(cells)} "
            f"cells of {cell_m:,.0f} m (travel.aggregate_zones_m); travel distances are from "
            "the cells' points, and assignments and unmet children are split back to the "
            "zones in proportion to their demand")
    return replace(inputs, zones=cells), summed, membership, note


def prepare(resolved: ResolvedScenario, timer: _Timer | None = None) -> Prepared:
    """Steps ``inputs``, ``demand`` and ``travel`` of a run: everything up to the solver.

    Raises
    ------
    InputError
        If the data layers or the scenario's standards are unusable.
    """
    config = resolved.config
    refused = refused_switches(config)
    if refused:
        raise InputError([Problem(resolved.source.name, f"key {key}", message, "false")
                          for key, message in refused])
    timer = timer or _Timer(None)
    with timer.step("inputs"):
        inputs = load_inputs(resolved)
    with timer.step("demand"):
        forecast = demand_forecast(config, inputs)
        demand = plan_demand(config, forecast)
    with timer.step("travel"):
        crs = choose_metric_crs(resolved, inputs.zones)
        notes: list[str] = []
        membership = None
        solve_on = inputs
        if config.travel.aggregate_zones_m is not None:
            solve_on, demand, membership, note = _aggregate(config, inputs, crs, demand)
            notes.append(note)
        network = load_network(resolved, crs)
        pairs = travel_pairs(config, with_expanded_sites(solve_on), crs, demand,
                             network=network)
        excluded = excluded_sites(config, inputs, crs)
        options = site_options(siting_config(config), inputs.candidates, excluded)
        catchment = catchment_pairs(config, inputs, crs, options)
        plan = build_plan_input(config, inputs, demand=demand, pairs=pairs, options=options,
                                catchment=catchment)
        notes += switch_notes(config, options)
        findings = presolve_notes(plan)
        if membership is None and "county" in inputs.zones.columns:
            zones = inputs.zones
            findings += county_notes(plan, pd.Series(zones["county"].to_numpy(),
                                                     index=zones["zone_id"].astype(str)))
        for note in findings:
            log.warning("%s", note)
        notes += findings
    return Prepared(inputs, forecast, crs, options, excluded, plan, membership, tuple(notes))


def split_to_zones(result: PlanResult, membership: pd.DataFrame,
                   demand: pd.DataFrame) -> PlanResult:
    """A result on aggregated zones with assignments and unmet split back to the zones.

    A cell's assigned and unmet children of a stage and year are shared among its member
    zones in proportion to the members' demand of that stage and year (so each zone keeps
    its own children: ``assigned + unmet = children``); distances stay the cell's.
    """
    from gis.aggregate import disaggregate

    shares = _member_shares(membership, demand)
    flows = disaggregate(result.assignments.rename(columns={"zone_id": "agg_id"}), shares,
                         value_columns=["children"], stage_column="stage")
    unmet = disaggregate(result.unmet.rename(columns={"zone_id": "agg_id"}), shares,
                         value_columns=["children", "unmet"], stage_column="stage")
    return replace(result, assignments=flows, unmet=unmet)


def _member_shares(membership: pd.DataFrame, demand: pd.DataFrame) -> pd.DataFrame:
    """``zone_id, agg_id, stage, year, weight``: each member's share of its cell's demand."""
    members = membership[["zone_id", "agg_id"]].astype(str).drop_duplicates("zone_id")
    rows = demand.merge(members, on="zone_id")
    total = rows.groupby(["agg_id", "stage", "year"])["children"].transform("sum")
    count = rows.groupby(["agg_id", "stage", "year"])["children"].transform("size")
    rows["weight"] = (rows["children"] / total).where(total > 0, 1.0 / count)
    return rows[["zone_id", "agg_id", "stage", "year", "weight"]]


def run(resolved: ResolvedScenario, *, on_step: StepCallback | None = None) -> Results:
    """Run one scenario end to end and return its results (nothing is written).

    Parameters
    ----------
    resolved
        The validated scenario (see :func:`allocator.layering.load_scenario`).
    on_step
        Called with each step's name as it starts (for progress display).

    Returns
    -------
    Results
        Status, tables, map layers and timings. A solver that stops without an optimal
        solution is reported in ``results.info``, never raised.

    Raises
    ------
    InputError
        If the data layers or the scenario's standards are unusable.
    """
    config = resolved.config
    timer = _Timer(on_step)
    ready = prepare(resolved, timer)
    options = SolverOptions(
        backend=config.solver.backend,
        time_limit_s=config.solver.time_limit_s,
        mip_gap=config.solver.mip_gap,
        threads=config.solver.threads,
        seed=config.meta.seed,
    )
    with timer.step("siting"):
        plan = replace(ready.plan, warm_start=config.solver.warm_start)
        result = solve_plan(plan, options)
    relaxed: PlanResult | None = None
    explanation: list[str] = []
    lang = choose_language(config.meta.language)
    if result.info.status == "infeasible" and not plan.rules.elastic:
        with timer.step("explain"):
            relaxed, explanation = explain_infeasible(plan, result.info, options, lang=lang)
    with timer.step("tables"):
        if ready.membership is not None:
            result = split_to_zones(result, ready.membership,
                                    plan_demand(config, ready.forecast))
        tables = build_tables(config, ready.inputs, ready.forecast, ready.plan, result,
                              ready.options, ready.excluded)
        if relaxed is not None and relaxed.info.has_solution:
            tables["plan_rules"] = _rule_table(relaxed.rule_report)
        layers = build_layers(ready.inputs, tables)
    rotation = None
    if config.rotation is not None:
        with timer.step("rotation"):
            enrolment = result.capacity.loc[:, ["school_id", "stage", "year", "enrolled",
                                                "classes"]]
            rotation = plan_rotation(resolved, ready.inputs.schools, enrolment, crs=ready.crs)
            tables = {**tables, **rotation.tables}
            explanation += explain_rotation_outcome(rotation, lang=lang)
    private = set(ready.options.loc[ready.options["ownership"] == "private", "site_id"]
                  .astype(str))
    tables["exceptions"] = exceptions_table(resolved, result, rotation, private=private)
    if explanation:  # the head once as a warning; every line stays in Results.explanation
        log.warning("%s (%d line(s) in explanation.md)", explanation[0], len(explanation))
        for line in explanation[1:]:
            log.info("%s", line)
    return Results(
        scenario=resolved,
        info=result.info,
        phases=result.phases,
        terms=dict(result.terms),
        tables=tables,
        layers=layers,
        metric_crs=ready.crs.to_string(),
        timings=timer.seconds,
        inputs={**ready.inputs.files, **(rotation.files if rotation else {})},
        notes=(*ready.notes, *(rotation.notes if rotation else ())),
        periods=ready.plan.periods,
        rotation=rotation.summary if rotation else None,
        explanation=tuple(explanation),
    )


def explain_infeasible(plan: PlanInput, hard: SolveInfo, options: SolverOptions, *,
                       lang: str = DEFAULT_LANGUAGE) -> tuple[PlanResult, list[str]]:
    """Re-solve an infeasible plan with every budget, count and target elastic; say why.

    The same input with ``rules.elastic`` on (named slacks per rule and scope, priced by
    ``objective.elastic_penalty`` / ``elastic_penalty_by_rule``) and the same solver
    options. The relaxation is the one of least weighted slack, not the fewest rules.
    The sentences are in ``lang`` (``en`` or ``zh``).

    Returns
    -------
    tuple
        The elastic result, and the explanation: :func:`allocator.explain.plan_intro`, one
        line per relaxed row (:func:`allocator.explain.explain_plan`) and a line on where
        the elastic rule report is written.
    """
    relaxed = solve_plan(replace(plan, rules=replace(plan.rules, elastic=True)), options)
    lines = explain_plan(relaxed.rule_report, lang) if relaxed.info.has_solution else []
    present = tuple(dict.fromkeys(relaxed.rule_report["rule_id"].astype(str)))
    out = plan_intro(hard, relaxed.info, plan.weights, len(lines), present, lang) + lines
    if lines:
        out.append(plan_closing(lang))
    return relaxed, out


def explain_rotation_outcome(rotation: RotationOutcome, *,
                             lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """Why the rotation model needed its elastic re-solve (empty if it did not), in ``lang``."""
    if rotation.hard_info is None:
        return []
    summary = rotation.summary
    return rotation_intro(summary, lang) + explain_rotation(
        summary, rotation.result.slacks, rotation.data.policy, lang)


def _rule_table(rule_report: pd.DataFrame) -> pd.DataFrame:
    """The ``plan_rules`` table of a rule report (quantities rounded as in the tables)."""
    rules = rule_report.reindex(columns=RULE_COLUMNS).copy()
    for column in ("lhs", "rhs", "slack", "elastic"):
        rules[column] = pd.to_numeric(rules[column], errors="coerce").astype(float).round(
            CHILD_DECIMALS)
    return rules.reset_index(drop=True)
