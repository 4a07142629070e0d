"""From a scenario and its loaded data to the multi-period model's :class:`PlanInput`.

Each function fills one frame or record of :mod:`allocator.plan.data` from the scenario
(the keys it reads are named in its docstring); :func:`build_plan_input` joins them. Units:
children and seats in persons, distances in metres, money in CNY, years as calendar years.

The scenario's ``rules:`` switches reach the model here (see
:data:`allocator.rules.config.SITING_SWITCHES`): a rule switched off drops its rows
(:func:`plan_rules`, :func:`siting_config`, :func:`catchment_pairs`), J-20 exceptions name
candidate sites that may open as private (:func:`private_sites`), and
:func:`switch_notes` says in words what changed. D-13 and Z-18 cannot be switched off
(:func:`refused_switches`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyproj

from allocator.candidates import expand_nine_year
from allocator.errors import InputError, Problem
from allocator.inputs import PlanInputs
from allocator.plan.data import (
    CountTarget,
    PlanInput,
    PlanRules,
    PlanWeights,
    SeatTarget,
    ShareTarget,
)
from allocator.rules import Kind, rule
from allocator.rules.config import (
    FIXED_RULES,
    SITING_SWITCHES,
    rule_exceptions,
    switched_off,
)
from allocator.scenario import PerStage, Scenario

__all__ = [
    "EXISTING_COLUMNS",
    "build_plan_input",
    "caps_table",
    "catchment_pairs",
    "existing_frame",
    "plan_demand",
    "plan_rules",
    "plan_weights",
    "private_sites",
    "refused_switches",
    "siting_config",
    "switch_notes",
    "with_private_sites",
]

log = logging.getLogger(__name__)

EXISTING_COLUMNS = ["school_id", "stage", "classes", "max_classes", "module_classes",
                    "module_cost_cny", "ownership", "closable"]
#: Optional columns of ``schools`` passed to the model when present (see :func:`existing_frame`).
CLOSURE_COLUMNS = ["closure_year", "closure_value_cny"]
DEMAND_COLUMNS = ["zone_id", "stage", "year", "children", "migrant"]


def siting_config(config: Scenario) -> Scenario:
    """The scenario with the parameter effects of its ``rules:`` switches.

    N-05 off: ``standards.max_school_classes`` is emptied, so no size option is dropped
    and no existing school is held below it (:func:`allocator.candidates.site_options`
    and :func:`existing_frame` read it). Every other key is unchanged; the result is for
    the siting model's input only (the resolved scenario and the audit keep the file's
    values).
    """
    if not switched_off(config, "N-05"):
        return config
    standards = config.standards.model_copy(update={"max_school_classes": PerStage()})
    return config.model_copy(update={"standards": standards})


def refused_switches(config: Scenario) -> list[tuple[str, str]]:
    """``(key, message)`` for each rule switched off that cannot be (D-13, Z-18).

    D-13's class cap turns classes into seats, so the model has no capacity without it;
    Z-18's lowered caps are D-13's caps in those years. Both stay on; a scenario that
    switches them off is refused with what to change instead.
    """
    return [(f"rules.{rule_id}.active",
             f"{rule_id} cannot be switched off: {why}")
            for rule_id, why in FIXED_RULES.items() if switched_off(config, rule_id)]


def private_sites(config: Scenario, options: pd.DataFrame) -> dict[str, tuple[int, ...]]:
    """Candidate sites that J-20 exceptions let open as private, with their years.

    An exception of ``rules.J-20.exceptions`` whose ``who`` is the ``site_id`` of a
    candidate site with a private option lets that site open as private in its ``years``
    (period years; empty: any period). Several exceptions for one site join their years
    (one without years: any period). Exceptions naming anything else are recorded only
    (:func:`switch_notes` says so).

    Returns
    -------
    dict
        ``site_id -> years`` (empty tuple: every period), sorted by site.
    """
    if switched_off(config, "J-20"):
        return {}
    private = set(options.loc[options["ownership"] == "private", "site_id"].astype(str))
    found: dict[str, set[int] | None] = {}
    for exception in rule_exceptions(config, "J-20"):
        who = exception.who.strip()
        if who not in private:
            continue
        years = found.get(who, set())
        found[who] = None if years is None or not exception.years else (
            years | set(exception.years))
    return {site: () if years is None else tuple(sorted(years))
            for site, years in sorted(found.items())}


def switch_notes(config: Scenario, options: pd.DataFrame) -> list[str]:
    """What the ``rules:`` switches change in the siting model, in words.

    One note per siting rule switched off (:data:`~allocator.rules.config.SITING_SWITCHES`),
    one when J-20 is off while D-23 is on (the model applies D-23 to J-20's public-only
    stages, so migrants are not held to public seats either), and one per J-20 exception
    that names no candidate site with a private option.
    """
    notes = [f"rules: {rule_id} is off: {effect}"
             for rule_id, effect in SITING_SWITCHES.items() if switched_off(config, rule_id)]
    if switched_off(config, "J-20") and not switched_off(config, "D-23"):
        notes.append("rules: J-20 is off, so D-23 is not enforced either: the siting model "
                     "holds migrant children to public seats only in J-20's public-only "
                     "stages, which are now none")
    allowed = private_sites(config, options)
    for exception in () if switched_off(config, "J-20") else rule_exceptions(config, "J-20"):
        if exception.who.strip() not in allowed:
            notes.append(f"rules: J-20 exception for {exception.who!r} is recorded only: it "
                         "names no candidate site with a private option (who must be a "
                         "site_id of the candidates layer)")
    return notes


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

    ``closure_year`` (a closure decided outside the model: the school closes in that
    period year) and ``closure_value_cny`` (CNY the closure is worth; blank: 0) are passed
    on when ``schools`` has them (:mod:`allocator.plan.data` describes what the model
    does with them); a blank ``closure_year`` means no decided closure.

    Returns
    -------
    pandas.DataFrame
        ``school_id, stage, classes, max_classes, module_classes, module_cost_cny,
        ownership, closable``, then those of ``closure_year, closure_value_cny`` that
        ``schools`` has.
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
    closure = [c for c in CLOSURE_COLUMNS if c in planned.columns]
    for column in closure:
        frame[column] = _closure_column(config, planned, column)
    return (frame[EXISTING_COLUMNS + closure].sort_values(["school_id", "stage"])
            .reset_index(drop=True))


def _closure_column(config: Scenario, planned: pd.DataFrame, column: str) -> pd.Series:
    """``closure_year`` (blank: NaN) or ``closure_value_cny`` (blank: 0) of ``schools``.

    Raises
    ------
    InputError
        Naming the schools file, the column and the schools whose value is not a number
        (either column), not a period year (``closure_year``) or negative.
    """
    raw = planned[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    blank = raw.isna() | raw.astype(str).str.strip().eq("")
    periods = config.planning.plan_periods
    if column == "closure_year":
        bad = ~blank & ~values.isin([float(y) for y in periods])
        need = f"a period year {list(periods)} or blank"
    else:
        bad = ~blank & ~(values >= 0)
        need = "a number of CNY >= 0 or blank"
    if bool(bad.any()):
        shown = ", ".join(f"{s}: {v}" for s, v in zip(planned.loc[bad, "school_id"][:3],
                                                      raw[bad][:3], strict=True))
        raise InputError([Problem(config.data.schools.path, f"column {column}",
                                  f"must be {need} (school_id: value)", shown)])
    return values.fillna(0.0) if column == "closure_value_cny" else values


@rule("D-10", kind=Kind.HARD, family="sites",
      params=("standards.travel_limits_m", "travel.circuity", "planning.allow_closures"))
def catchment_pairs(config: Scenario, inputs: PlanInputs, crs: pyproj.CRS,
                    options: pd.DataFrame) -> pd.DataFrame:
    """Existing schools and candidate sites that share a catchment (D-10).

    A school of stage ``g`` and a site with an option serving ``g`` share a catchment when
    ``straight distance x travel.circuity <= travel_limits_m[g][setting of the site]``:
    the model may not close the school in a period in which the site opens
    (避免出现"边新建、边撤并"). No pairs when the scenario switches D-10 off.

    Returns
    -------
    pandas.DataFrame
        ``school_id, site_id``, unique, sorted.
    """
    columns = ["school_id", "site_id"]
    if options.empty or not config.planning.allow_closures or switched_off(config, "D-10"):
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
    """The rules in force, from ``planning.*``, ``standards``, ``objective.elastic``, ``rules``.

    Budgets, projects, seat, count and public-share targets and closures come from
    ``planning``; N-05 from ``standards.max_school_classes``; J-20 and D-23 keep the
    contract's default (on for primary and junior). A rule the scenario switches off
    (``rules: {N-01: {active: false}}``) is dropped: N-01 no budgets, N-02 no project
    counts, J-04 / G-03 / N-03 their seat targets, D-06 its counts, N-12 its share
    targets, N-05 no size limit, J-20 no public-only stages, D-23 no migrant rows.
    """
    planning = config.planning

    def off(rule_id: str) -> bool:
        return switched_off(config, rule_id)

    default = PlanRules()
    return PlanRules(
        budget_by_period={} if off("N-01") else {
            int(y): float(v) for y, v in sorted(planning.budget_by_year.items())},
        budget_total=None if off("N-01") else planning.budget_cny,
        carry_over=planning.budget_carry_over,
        projects_by_period={} if off("N-02") else {
            int(y): int(v) for y, v in sorted(planning.projects_per_year.items())},
        projects_sense=planning.projects_sense,
        seat_targets=tuple(SeatTarget(t.rule, tuple(t.stages), t.year, t.min_seats)
                           for t in planning.seat_targets if not off(t.rule)),
        count_targets=tuple(CountTarget(t.rule, t.stage, t.year, t.count, t.sense)
                            for t in planning.new_school_counts if not off(t.rule)),
        share_targets=tuple(ShareTarget(t.rule, t.stage, t.year, t.min_share)
                            for t in planning.public_share_targets if not off(t.rule)),
        allow_closures=planning.allow_closures,
        public_only_stages=() if off("J-20") else default.public_only_stages,
        migrant_public=not off("D-23"),
        max_classes_by_stage={} if off("N-05") else {
            s: v for s in planning.stages
            if (v := config.standards.max_school_classes.get(s)) is not None},
        elastic=config.objective.elastic,
    )


def with_private_sites(rules: PlanRules, allowed: Mapping[str, tuple[int, ...]]) -> PlanRules:
    """``rules`` with the J-20 exceptions of :func:`private_sites` (``site_id -> years``)."""
    return dataclasses.replace(rules, private_allowed=dict(allowed)) if allowed else rules


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
        Size options of the candidate sites (:func:`allocator.candidates.site_options`, on
        :func:`siting_config`).
    catchment
        From :func:`catchment_pairs`, or ``None``.
    """
    existing = existing_frame(siting_config(config), inputs.schools)
    return PlanInput(
        periods=tuple(config.planning.plan_periods),
        demand=demand,
        caps=caps_table(config),
        existing=existing,
        options=options[["site_id", "option_id", "stage", "classes", "cost_cny", "ownership"]]
        .reset_index(drop=True),
        pairs=usable_pairs(pairs, existing, options),
        catchment=catchment,
        rules=with_private_sites(plan_rules(config), private_sites(config, options)),
        weights=plan_weights(config),
        lexicographic=config.objective.mode == "lexicographic",
    )
