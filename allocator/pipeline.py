"""One planning run: scenario in, :class:`~allocator.results.Results` out (no files written).

The steps, each timed:

1. ``inputs``: read and validate the data layers (:mod:`allocator.inputs`);
2. ``demand``: the forecast by zone, stage, year and variant (:mod:`gis.demand`), and
   the design year's demand the siting model plans for;
3. ``travel``: zone-school pairs within the stage's travel limit, in a metric CRS
   (:mod:`allocator.travel`), existing seats, and the candidate sites' size options
   after the exclusions (:mod:`allocator.candidates`);
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

from allocator.candidates import excluded_sites, site_options
from allocator.errors import InputError, Problem
from allocator.inputs import PlanInputs, load_inputs
from allocator.results import Results
from allocator.rules import Kind, rule
from allocator.scenario import STAGES, ResolvedScenario, Scenario
from allocator.siting import SitingInput, SitingWeights, solve_siting
from allocator.solvers import SolverOptions
from allocator.tables import build_layers, build_tables
from allocator.travel import load_network, travel_pairs
from gis.crs import metric_crs
from gis.demand import Variant, forecast_demand

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
        network = load_network(resolved, crs)
        pairs = travel_pairs(config, inputs, crs, demand, network=network)
        existing = existing_seats(config, inputs.schools)
        excluded = excluded_sites(config, inputs, crs)
        options = site_options(config, inputs.candidates, excluded)
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
        tables = build_tables(config, inputs, forecast, siting, options, excluded)
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
