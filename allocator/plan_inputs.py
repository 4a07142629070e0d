"""From a scenario and its loaded data to the multi-period model's :class:`PlanInput`.

Each function fills one frame or record of :mod:`allocator.plan.data` from the scenario
(the keys it reads are named in its docstring); :func:`build_plan_input` joins them. Units:
children and seats in persons, distances in metres, money in CNY, years as calendar years.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyproj

from allocator.candidates import expand_nine_year
from allocator.inputs import PlanInputs
from allocator.plan.data import CountTarget, PlanInput, PlanRules, PlanWeights, SeatTarget
from allocator.rules import Kind, rule
from allocator.scenario import Scenario

__all__ = [
    "EXISTING_COLUMNS",
    "build_plan_input",
    "caps_table",
    "catchment_pairs",
    "existing_frame",
    "plan_demand",
    "plan_rules",
    "plan_weights",
]

log = logging.getLogger(__name__)

EXISTING_COLUMNS = ["school_id", "stage", "classes", "max_classes", "module_classes",
                    "module_cost_cny", "ownership", "closable"]
DEMAND_COLUMNS = ["zone_id", "stage", "year", "children", "migrant"]


def plan_demand(config: Scenario, forecast: pd.DataFrame) -> pd.DataFrame:
    """Demand of every period year of the chosen forecast variant.

    Reads ``planning.periods`` (default ``[design_year]``) and ``demand.variant``.

    Returns
    -------
    pandas.DataFrame
        ``zone_id, stage, year, children, migrant`` (persons), sorted.
    """
    periods = config.planning.plan_periods
    chosen = forecast[forecast["year"].isin(periods)
                      & (forecast["variant"] == config.demand.variant)
                      & forecast["stage"].isin(config.planning.stages)]
    frame = chosen.reindex(columns=DEMAND_COLUMNS).copy()
    frame["migrant"] = frame["migrant"].fillna(0.0).astype(float)
    frame["children"] = frame["children"].astype(float)
    frame["year"] = frame["year"].astype(int)
    return frame.sort_values(["year", "stage", "zone_id"]).reset_index(drop=True)


@rule("Z-18", kind=Kind.PARAM, family="seats",
      params=("standards.class_caps", "standards.class_caps_by_year"))
def caps_table(config: Scenario) -> pd.DataFrame:
    """Pupils per class of each planned stage in each period year.

    ``cap[g, t]`` = the latest ``standards.class_caps_by_year[g]`` entry at or before
    ``t``, else ``standards.class_caps[g]`` (D-13). The schema refuses caps that rise over
    time, so ``cap[g, t]`` is non-increasing in ``t`` (Z-18: 逐步降低班额标准).

    Returns
    -------
    pandas.DataFrame
        ``stage, year, cap`` (pupils per class).
    """
    rows = []
    for stage in config.planning.stages:
        for year in config.planning.plan_periods:
            cap = config.standards.cap_in(stage, year)
            assert cap is not None, f"standards.class_caps.{stage} is checked by load_inputs"
            rows.append({"stage": stage, "year": year, "cap": int(cap)})
    return pd.DataFrame(rows, columns=["stage", "year", "cap"])


@rule("N-05", kind=Kind.HARD, family="seats",
      params=("schools.max_classes", "standards.max_school_classes", "standards.expansion"))
def existing_frame(config: Scenario, schools: pd.DataFrame) -> pd.DataFrame:
    """Existing schools of the planned stages and how they may grow.

    ``max_classes = min(schools.max_classes, standards.max_school_classes[stage])`` (land
    limit and N-05 size limit) but never below today's classes; a school without
    ``max_classes`` is not expanded (NaN). One module adds
    ``standards.expansion.module_classes`` classes and costs ``cost_per_seat_cny[stage] x
    expansion.cost_per_seat_factor x module_classes x class_caps[stage]`` CNY.

    Returns
    -------
    pandas.DataFrame
        ``school_id, stage, classes, max_classes, module_classes, module_cost_cny,
        ownership, closable``.
    """
    standards = config.standards
    planned = schools[schools["stage"].isin(config.planning.stages)]
    stage = planned["stage"].astype(str)
    classes = planned["classes"].astype(int)
    if "max_classes" in planned.columns:
        land = pd.to_numeric(planned["max_classes"], errors="coerce").astype(float)
    else:
        land = pd.Series(np.nan, index=planned.index)
    limit = stage.map(lambda s: standards.max_school_classes.get(s)).astype(float)
    most = land.where(land.isna() | limit.isna() | (land <= limit), limit)
    most = most.where(most.isna() | (most >= classes), classes.astype(float))
    module = standards.expansion.module_classes
    factor = standards.expansion.cost_per_seat_factor

    def module_cost(name: str) -> float:
        per_seat = standards.cost_per_seat_cny.get(name)  # type: ignore[arg-type]
        cap = standards.class_caps.get(name)  # type: ignore[arg-type]
        if per_seat is None or cap is None:
            return float("nan")
        return float(per_seat * factor * module * cap)

    cost = stage.map(module_cost).astype(float)
    most = most.where(cost.notna() | most.isna(), np.nan)  # unpriced: no expansion
    ownership = (planned["ownership"].fillna("public").astype(str)
                 if "ownership" in planned.columns else pd.Series("public", index=planned.index))
    closable = (planned["closable"].fillna(True).astype(bool)
                if "closable" in planned.columns else pd.Series(True, index=planned.index))
    frame = pd.DataFrame({
        "school_id": planned["school_id"].astype(str), "stage": stage, "classes": classes,
        "max_classes": most, "module_classes": module, "module_cost_cny": cost,
        "ownership": ownership, "closable": closable,
    })
    return frame[EXISTING_COLUMNS].sort_values(["school_id", "stage"]).reset_index(drop=True)


@rule("D-10", kind=Kind.HARD, family="sites",
      params=("standards.travel_limits_m", "travel.circuity", "planning.allow_closures"))
def catchment_pairs(config: Scenario, inputs: PlanInputs, crs: pyproj.CRS,
                    options: pd.DataFrame) -> pd.DataFrame:
    """Existing schools and candidate sites that share a catchment (D-10).

    A school of stage ``g`` and a site with an option serving ``g`` share a catchment when
    ``straight distance x travel.circuity <= travel_limits_m[g][setting of the site]``:
    the model may not close the school in a period in which the site opens
    (避免出现"边新建、边撤并").

    Returns
    -------
    pandas.DataFrame
        ``school_id, site_id``, unique, sorted.
    """
    columns = ["school_id", "site_id"]
    if options.empty or not config.planning.allow_closures:
        return pd.DataFrame(columns=columns)
    schools = inputs.schools.to_crs(crs)
    sites = expand_nine_year(inputs.candidates).to_crs(crs)
    served = options[["site_id", "stage"]].drop_duplicates()
    sites = sites.merge(served, on=["site_id", "stage"])
    frames = []
    for stage, group in sites.groupby("stage", sort=True):
        limits = config.standards.travel_limits_m.get(str(stage))  # type: ignore[arg-type]
        olds = schools[schools["stage"] == stage]
        if limits is None or olds.empty:
            continue
        setting = group["setting"] if "setting" in group.columns else pd.Series("urban",
                                                                                index=group.index)
        reach = setting.fillna("urban").map({"urban": limits.urban, "rural": limits.rural})
        far = olds.geometry.to_numpy()
        for site_id, point, limit in zip(group["site_id"], group.geometry, reach, strict=True):
            distance = np.asarray(point.distance(far), dtype=float) * config.travel.circuity
            near = olds["school_id"].to_numpy()[distance <= float(limit)]
            frames.append(pd.DataFrame({"school_id": near.astype(str), "site_id": str(site_id)}))
    if not frames:
        return pd.DataFrame(columns=columns)
    return (pd.concat(frames, ignore_index=True).drop_duplicates()
            .sort_values(columns).reset_index(drop=True))


def plan_rules(config: Scenario) -> PlanRules:
    """The rules in force, from ``planning.*``, ``standards``, ``objective.elastic``.

    Budgets, projects, seat and count targets and closures come from ``planning``;
    N-05 from ``standards.max_school_classes``; J-20 and D-23 keep the contract's default
    (on for primary and junior).
    """
    planning = config.planning
    return PlanRules(
        budget_by_period={int(y): float(v) for y, v in sorted(planning.budget_by_year.items())},
        budget_total=planning.budget_cny,
        carry_over=planning.budget_carry_over,
        projects_by_period={int(y): int(v) for y, v in sorted(planning.projects_per_year.items())},
        projects_sense=planning.projects_sense,
        seat_targets=tuple(SeatTarget(t.rule, tuple(t.stages), t.year, t.min_seats)
                           for t in planning.seat_targets),
        count_targets=tuple(CountTarget(t.rule, t.stage, t.year, t.count, t.sense)
                            for t in planning.new_school_counts),
        allow_closures=planning.allow_closures,
        max_classes_by_stage={s: v for s in planning.stages
                              if (v := config.standards.max_school_classes.get(s)) is not None},
        elastic=config.objective.elastic,
    )


def plan_weights(config: Scenario) -> PlanWeights:
    """Objective weights from ``objective.*``."""
    objective = config.objective
    return PlanWeights(unmet_penalty=objective.unmet_penalty, cost_weight=objective.cost_weight,
                       travel_weight=objective.travel_weight,
                       equity_weight=objective.equity_weight,
                       elastic_penalty=objective.elastic_penalty,
                       elastic_penalty_by_rule=dict(objective.elastic_penalty_by_rule))


def usable_pairs(pairs: pd.DataFrame, existing: pd.DataFrame,
                 options: pd.DataFrame) -> pd.DataFrame:
    """Pairs whose school is an existing school or an offered site of the pair's stage.

    Returns ``zone_id, school_id, stage, distance_m``, sorted.
    """
    keys = pd.concat([existing[["school_id", "stage"]],
                      options[["site_id", "stage"]].rename(columns={"site_id": "school_id"})],
                     ignore_index=True).drop_duplicates()
    kept = pairs.merge(keys, on=["school_id", "stage"])
    return (kept[["zone_id", "school_id", "stage", "distance_m"]]
            .sort_values(["stage", "zone_id", "school_id"]).reset_index(drop=True))


def build_plan_input(config: Scenario, inputs: PlanInputs, *, demand: pd.DataFrame,
                     pairs: pd.DataFrame, options: pd.DataFrame,
                     catchment: pd.DataFrame | None = None) -> PlanInput:
    """The model's input for a scenario.

    Parameters
    ----------
    config
        The scenario.
    inputs
        The loaded data layers (existing schools from ``inputs.schools``).
    demand
        From :func:`plan_demand` (``zone_id, stage, year, children, migrant``).
    pairs
        Zone-school travel pairs within the travel limits (metres).
    options
        Size options of the candidate sites (:func:`allocator.candidates.site_options`).
    catchment
        From :func:`catchment_pairs`, or ``None``.
    """
    existing = existing_frame(config, inputs.schools)
    return PlanInput(
        periods=tuple(config.planning.plan_periods),
        demand=demand,
        caps=caps_table(config),
        existing=existing,
        options=options[["site_id", "option_id", "stage", "classes", "cost_cny", "ownership"]]
        .reset_index(drop=True),
        pairs=usable_pairs(pairs, existing, options),
        catchment=catchment,
        rules=plan_rules(config),
        weights=plan_weights(config),
        lexicographic=config.objective.mode == "lexicographic",
    )
