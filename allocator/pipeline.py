"""One planning run: scenario in, :class:`~allocator.results.Results` out (no files written).

The steps, each timed:

1. ``inputs``: read and validate the data layers (:mod:`allocator.inputs`);
2. ``demand``: children by zone and stage (:mod:`gis.demand`);
3. ``travel``: zone-school pairs within the stage's travel limit, in a metric CRS;
4. ``siting``: the capacitated siting MIP (:mod:`allocator.siting`);
5. ``tables``: tidy tables and map layers (:mod:`allocator.tables`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pandas as pd
import pyproj
from geopandas import GeoDataFrame

from allocator.errors import InputError, Problem
from allocator.inputs import PlanInputs, load_inputs, zone_setting
from allocator.results import Results
from allocator.rules import Kind, rule
from allocator.scenario import STAGES, ResolvedScenario, Scenario
from allocator.siting import SitingInput, SitingWeights, solve_siting
from allocator.solvers import SolverOptions
from allocator.tables import build_layers, build_tables
from gis.crs import metric_crs
from gis.demand import Variant, forecast_demand
from gis.travel import straight_line_pairs

__all__ = ["run"]

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


def design_demand(config: Scenario, forecast: pd.DataFrame) -> pd.DataFrame:
    """The demand the siting model plans for: the design year of the chosen variant.

    Returns ``zone_id, stage, year, children`` (persons).
    """
    chosen = forecast[(forecast["year"] == config.planning.siting_year)
                      & (forecast["variant"] == config.demand.variant)]
    return chosen[["zone_id", "stage", "year", "children"]].reset_index(drop=True)


def choose_metric_crs(resolved: ResolvedScenario, zones: GeoDataFrame) -> pyproj.CRS:
    """The projected CRS used for every distance: the scenario's, or the data's UTM zone."""
    wanted = resolved.config.travel.metric_crs
    if wanted == "auto":
        return metric_crs(zones, kind="utm")
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
                    "expected 'auto' or a projected CRS in metres, such as EPSG:4549",
                    repr(wanted),
                )
            ]
        )
    return crs


@rule("D-09", kind=Kind.FILTER, family="sites", params=("candidates.hazard",))
@rule("D-13", kind=Kind.HARD, family="seats", params=("standards.class_caps",))
def site_options(config: Scenario, candidates: pd.DataFrame) -> pd.DataFrame:
    """One row per (candidate site, standard size): classes, seats and cost.

    ``seats = classes x class cap``; ``cost_cny = seats x cost per seat + land cost``.
    Sites on hazard parcels (rule D-09) and sites of stages not planned get no options.
    """
    rows = []
    standards = config.standards
    for site in candidates.itertuples(index=False):
        stage = str(site.stage)
        if stage not in config.planning.stages or bool(getattr(site, "hazard", False)):
            continue
        setting = str(getattr(site, "setting", None) or "urban")
        menu = standards.school_sizes.get(stage)
        cap = standards.class_caps.get(stage)
        per_seat = standards.cost_per_seat_cny.get(stage)
        assert menu is not None and cap is not None and per_seat is not None
        land = float(getattr(site, "land_cost_cny", 0.0) or 0.0)
        for classes in getattr(menu, setting):
            seats = float(classes * cap)
            rows.append(
                {
                    "site_id": str(site.site_id),
                    "stage": stage,
                    "classes": int(classes),
                    "seats": seats,
                    "cost_cny": seats * per_seat + land,
                }
            )
    columns = ["site_id", "stage", "classes", "seats", "cost_cny"]
    return pd.DataFrame(rows, columns=columns)


@rule("D-13", kind=Kind.HARD, family="seats", params=("standards.class_caps",))
def existing_seats(config: Scenario, schools: pd.DataFrame) -> pd.DataFrame:
    """Seats of existing schools of the planned stages: ``seats = classes x class cap``.

    Returns ``school_id, stage, seats``.
    """
    planned = schools[schools["stage"].isin(config.planning.stages)]
    caps = {s: config.standards.class_caps.get(s) for s in config.planning.stages}
    return pd.DataFrame({
        "school_id": planned["school_id"].astype(str),
        "stage": planned["stage"].astype(str),
        "seats": planned["classes"].astype(float) * planned["stage"].map(caps).astype(float),
    }).reset_index(drop=True)


@rule("D-07", kind=Kind.HARD, family="sites", params=("standards.travel_limits_m",
                                                      "travel.circuity"))
def travel_pairs(
    config: Scenario, inputs: PlanInputs, crs: pyproj.CRS, demand: pd.DataFrame
) -> pd.DataFrame:
    """Zone-school pairs within each stage's travel limit (rule D-07), metres.

    The limit of a zone is ``standards.travel_limits_m[stage][setting]`` where the setting
    is urban for urban core, new district and industrial zones, rural otherwise.
    """
    zones = inputs.zones.to_crs(crs)
    schools = inputs.schools.to_crs(crs)
    sites = inputs.candidates.to_crs(crs)
    settings = zones["zone_type"].map(zone_setting)
    frames = []
    for stage in config.planning.stages:
        limits = config.standards.travel_limits_m.get(stage)
        assert limits is not None
        served = set(demand.loc[(demand["stage"] == stage) & (demand["children"] > 0), "zone_id"])
        mask = zones["zone_id"].isin(served)
        reach = settings[mask].map({"urban": limits.urban, "rural": limits.rural})
        places = pd.concat(
            [
                schools.loc[schools["stage"] == stage, ["school_id", "geometry"]],
                sites.loc[sites["stage"] == stage, ["site_id", "geometry"]].rename(
                    columns={"site_id": "school_id"}
                ),
            ],
            ignore_index=True,
        )
        pairs = straight_line_pairs(
            zones[mask],
            GeoDataFrame(places, crs=crs),
            origin_id="zone_id",
            destination_id="school_id",
            limit_m=reach.reset_index(drop=True),
            circuity=config.travel.circuity,
        )
        frames.append(pairs.assign(stage=stage))
    columns = ["zone_id", "school_id", "stage", "distance_m"]
    return pd.concat(frames, ignore_index=True)[columns]


def presolve_notes(
    demand: pd.DataFrame, existing: pd.DataFrame, options: pd.DataFrame, pairs: pd.DataFrame
) -> list[str]:
    """Quick checks that quote numbers before solving (they never stop the run)."""
    notes = []
    for stage, group in demand.groupby("stage", sort=False):
        need = group["children"].sum()
        seats = existing.loc[existing["stage"] == stage, "seats"].sum()
        largest = options[options["stage"] == stage].groupby("site_id")["seats"].max().sum()
        if need > seats + largest:
            notes.append(
                f"{stage}: demand {need:,.0f} > existing seats {seats:,.0f} + "
                f"largest size of every candidate site {largest:,.0f}: "
                f"at least {need - seats - largest:,.0f} children will have no seat"
            )
        reached = set(pairs.loc[pairs["stage"] == stage, "zone_id"])
        stranded = group[(group["children"] > 0) & ~group["zone_id"].isin(reached)]
        if not stranded.empty:
            ids = ", ".join(stranded["zone_id"].head(5))
            more = f" and {len(stranded) - 5} more" if len(stranded) > 5 else ""
            notes.append(
                f"{stage}: {len(stranded)} zone(s) have no school or site within the "
                f"travel limit ({ids}{more}); their "
                f"{stranded['children'].sum():,.0f} children will have no seat"
            )
    return notes


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
    with timer.step("inputs"):
        inputs = load_inputs(resolved)
    with timer.step("demand"):
        forecast = demand_forecast(config, inputs)
        demand = design_demand(config, forecast)
    with timer.step("travel"):
        crs = choose_metric_crs(resolved, inputs.zones)
        pairs = travel_pairs(config, inputs, crs, demand)
        existing = existing_seats(config, inputs.schools)
        options = site_options(config, inputs.candidates)
        usable = set(existing["school_id"]) | set(options["site_id"])
        pairs = pairs[pairs["school_id"].isin(usable)].reset_index(drop=True)
        notes = presolve_notes(demand, existing, options, pairs)
        for note in notes:
            log.warning("%s", note)
    with timer.step("siting"):
        weights = SitingWeights(
            unmet_penalty=config.objective.unmet_penalty,
            cost_weight=config.objective.cost_weight,
            travel_weight=config.objective.travel_weight,
        )
        siting = solve_siting(
            SitingInput(
                demand=demand[["zone_id", "stage", "children"]],
                existing=existing,
                options=options,
                pairs=pairs,
                weights=weights,
                budget_cny=config.planning.budget_cny,
                lexicographic=config.objective.mode == "lexicographic",
            ),
            SolverOptions(
                backend=config.solver.backend,
                time_limit_s=config.solver.time_limit_s,
                mip_gap=config.solver.mip_gap,
                threads=config.solver.threads,
                seed=config.meta.seed,
            ),
        )
    with timer.step("tables"):
        tables = build_tables(config, inputs, forecast, siting, options)
        layers = build_layers(inputs, tables)
    return Results(
        scenario=resolved,
        info=siting.info,
        phases=siting.phases,
        terms=dict(siting.terms),
        tables=tables,
        layers=layers,
        metric_crs=crs.to_string(),
        timings=timer.seconds,
        inputs=inputs.files,
        notes=tuple(notes),
    )
