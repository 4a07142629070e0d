"""Tidy result tables and map layers built from a solved multi-period plan.

Tables (plain DataFrames, written as CSV; children and seats are persons, money CNY,
distances metres, coordinates WGS-84 degrees):

``demand``
    The forecast: zone_id, stage, year, variant, children, migrant (of which migrant
    children), and assigned, unmet on the rows the model planned (period years of the
    chosen variant; empty elsewhere).
``schools``
    One row per school, stage and period year, existing and new: school_id, name, county,
    kind (``existing``; ``expanded`` from the period its first module is finished;
    ``closed`` from its closure on; ``new`` for an opened site from its opening year),
    ownership, stage, year, classes, class_cap, seats (classes x class_cap), enrolled,
    spare_seats, utilisation, cost_cny (capital spent on this school and stage in this
    period: the opening of a site, split between a nine-year school's stages in proportion
    to classes, or its expansion modules), lon, lat.
``assignments``
    zone_id, school_id, stage, year, children, distance_m.
``sites``
    Every candidate site and what became of it: site_id, name, county, stage (a stage or
    ``nine_year``), status (opened, not_opened, excluded, not_planned), reason, option_id,
    year (opened), classes (all stages), ``classes_<stage>`` per planned stage, seats (at
    the opening year's class caps), cost_cny, lon, lat.
``expansions``
    school_id, name, stage, year, modules, classes_added, seats_added (at that year's
    caps), cost_cny.
``spend``
    year, capital_cny, budget_cny (empty: no budget of its own), projects.
``plan_rules``
    One row per rule constraint of the model: rule_id, scope, year, stage, lhs, sense,
    rhs, slack (margin, >= 0), elastic (relaxation used; 0 when the rule holds).

Layers (GeoDataFrames in EPSG:4326 WGS-84): zones (children and unmet per stage and
period as ``children_<stage>_<year>``, ``unmet_<stage>_<year>``), schools, new_sites (one
point per opened site: option, year opened, classes by stage, seats, cost), assignments
(lines from zone to school), counties.
"""

from __future__ import annotations

from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from allocator.candidates import site_planned
from allocator.inputs import PlanInputs
from allocator.plan.data import PlanInput, PlanResult
from allocator.scenario import STAGES, Scenario

__all__ = ["TABLE_NAMES", "build_layers", "build_tables"]

#: Decimals kept for coordinates (degrees; 1e-6° is about 0.1 m).
COORD_DECIMALS = 6
#: Decimals kept for counts of children: the solver's tolerances (about 1e-6 child) are
#: noise, not plan.
CHILD_DECIMALS = 3
#: Decimals kept for money (CNY) and rule quantities.
MONEY_DECIMALS = 2
TABLE_NAMES = ("demand", "schools", "assignments", "sites", "expansions", "spend",
               "plan_rules")

SCHOOL_COLUMNS = ["school_id", "name", "county", "kind", "ownership", "stage", "year",
                  "classes", "class_cap", "seats", "enrolled", "spare_seats", "utilisation",
                  "cost_cny", "lon", "lat"]
EXPANSION_COLUMNS = ["school_id", "name", "stage", "year", "modules", "classes_added",
                     "seats_added", "cost_cny"]
SPEND_COLUMNS = ["year", "capital_cny", "budget_cny", "projects"]
RULE_COLUMNS = ["rule_id", "scope", "year", "stage", "lhs", "sense", "rhs", "slack",
                "elastic"]


def _lonlat(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    points = shapely.centroid(frame.geometry.to_numpy())
    return pd.DataFrame(
        {
            "lon": np.round(shapely.get_x(points), COORD_DECIMALS),
            "lat": np.round(shapely.get_y(points), COORD_DECIMALS),
        },
        index=frame.index,
    )


def _text(frame: pd.DataFrame, column: str, fallback: pd.Series) -> pd.Series:
    if column in frame.columns:
        return frame[column].fillna(fallback).astype(str)
    return fallback.astype(str)


def _places(inputs: PlanInputs) -> pd.DataFrame:
    """name, county, lon, lat of every existing school and candidate site, by id."""
    frames = []
    for layer, key in ((inputs.schools, "school_id"), (inputs.candidates, "site_id")):
        ids = layer[key].astype(str)
        frames.append(pd.DataFrame({
            "school_id": ids, "name": _text(layer, "name", ids),
            "county": _text(layer, "county", pd.Series("", index=layer.index)),
        }).join(_lonlat(layer)))
    return pd.concat(frames, ignore_index=True).set_index("school_id")


def _demand_table(config: Scenario, forecast: pd.DataFrame, result: PlanResult) -> pd.DataFrame:
    """The forecast, with assigned and unmet children on the rows the model planned."""
    table = forecast.copy()
    planned = (table["year"].isin(config.planning.plan_periods)
               & (table["variant"] == config.demand.variant))
    unmet = result.unmet.set_index(["zone_id", "stage", "year"])["unmet"]
    keys = pd.MultiIndex.from_frame(table.loc[planned, ["zone_id", "stage", "year"]])
    table["children"] = table["children"].round(CHILD_DECIMALS)
    table["migrant"] = table["migrant"].round(CHILD_DECIMALS)
    table["unmet"] = np.nan
    if result.info.has_solution:
        table.loc[planned, "unmet"] = unmet.reindex(keys).fillna(0.0).clip(lower=0).to_numpy()
    table["unmet"] = table["unmet"].round(CHILD_DECIMALS)
    table["assigned"] = (table["children"] - table["unmet"]).round(CHILD_DECIMALS)
    return table[["zone_id", "stage", "year", "variant", "children", "migrant", "assigned",
                  "unmet"]].reset_index(drop=True)


def _capacity(plan: PlanInput, result: PlanResult) -> pd.DataFrame:
    """``result.capacity``; without a solution, today's existing schools in every period."""
    if result.info.has_solution:
        return result.capacity.copy()
    rows = plan.existing.merge(plan.caps, on="stage")
    return pd.DataFrame({
        "school_id": rows["school_id"], "kind": "existing", "stage": rows["stage"],
        "year": rows["year"], "classes": rows["classes"], "cap": rows["cap"],
        "seats": rows["classes"] * rows["cap"], "enrolled": np.nan,
        "ownership": rows["ownership"]})


def _opening_cost(result: PlanResult) -> pd.DataFrame:
    """Capital of each opened site by stage: ``school_id, stage, year, cost_cny``.

    A nine-year option's cost is split between its stages in proportion to classes.
    """
    opened = result.opened
    if opened.empty:
        return pd.DataFrame(columns=["school_id", "stage", "year", "cost_cny"])
    total = opened.groupby("option_id")["classes"].transform("sum").astype(float)
    share = opened["classes"].astype(float) / total.where(total > 0, 1.0)
    return pd.DataFrame({"school_id": opened["site_id"].astype(str), "stage": opened["stage"],
                         "year": opened["year"].astype(int),
                         "cost_cny": opened["cost_cny"].astype(float) * share})


def _schools_table(inputs: PlanInputs, plan: PlanInput, result: PlanResult) -> pd.DataFrame:
    table = _capacity(plan, result)
    table["school_id"] = table["school_id"].astype(str)
    table["year"] = table["year"].astype(int)
    table["kind"] = table["kind"].astype(str)
    expansions = result.expansions
    first_growth = expansions.groupby("school_id")["year"].min()
    grown = table["school_id"].map(first_growth)
    table.loc[(table["kind"] == "existing") & (grown <= table["year"]), "kind"] = "expanded"
    closed = result.closures.groupby("school_id")["year"].min()
    shut = table["school_id"].map(closed)
    table.loc[(table["kind"] != "new") & (shut <= table["year"]), "kind"] = "closed"
    both = pd.concat([_opening_cost(result),
                      expansions.assign(school_id=expansions["school_id"].astype(str))[
                          ["school_id", "stage", "year", "cost_cny"]]], ignore_index=True)
    spent = both.groupby(["school_id", "stage", "year"])["cost_cny"].sum().rename("cost_cny")
    table = table.merge(spent.reset_index(), on=["school_id", "stage", "year"], how="left")
    table["cost_cny"] = table["cost_cny"].fillna(0.0).astype(float).round(MONEY_DECIMALS)
    table = table.join(_places(inputs), on="school_id")
    table["classes"] = table["classes"].round().astype(int)
    table["class_cap"] = table["cap"].astype(int)
    table["seats"] = table["classes"] * table["class_cap"]
    table["enrolled"] = table["enrolled"].astype(float).round(CHILD_DECIMALS)
    table["spare_seats"] = (table["seats"] - table["enrolled"]).round(CHILD_DECIMALS)
    table["utilisation"] = (table["enrolled"] / table["seats"].where(table["seats"] > 0)).round(4)
    table["ownership"] = table["ownership"].fillna("public").astype(str)
    return (table[SCHOOL_COLUMNS].sort_values(["year", "stage", "school_id"])
            .reset_index(drop=True))


def _option_summary(config: Scenario, result: PlanResult) -> pd.DataFrame:
    """Per opened site: option_id, year, classes by stage, seats and cost."""
    opened = result.opened
    stages = [s for s in STAGES if s in config.planning.stages]
    columns = ["site_id", "option_id", "year", "classes",
               *(f"classes_{s}" for s in stages), "seats", "cost_cny"]
    if opened.empty:
        return pd.DataFrame(columns=columns)
    caps = result.capacity.set_index(["school_id", "stage", "year"])["cap"]
    keys = pd.MultiIndex.from_arrays([opened["site_id"].astype(str), opened["stage"],
                                      opened["year"].astype(int)])
    seats = opened["classes"].astype(float) * caps.reindex(keys).to_numpy()
    rows = opened.assign(seats=seats.to_numpy())
    wide = rows.pivot_table(index="site_id", columns="stage", values="classes", aggfunc="sum")
    summary = rows.groupby("site_id").agg(option_id=("option_id", "first"), year=("year", "min"),
                                          classes=("classes", "sum"), seats=("seats", "sum"),
                                          cost_cny=("cost_cny", "first"))
    for stage in stages:
        summary[f"classes_{stage}"] = (wide[stage] if stage in wide.columns
                                       else pd.Series(np.nan, index=wide.index))
    summary = summary.reset_index()
    summary["year"] = summary["year"].astype(int)
    summary["classes"] = summary["classes"].astype(int)
    for stage in stages:
        summary[f"classes_{stage}"] = summary[f"classes_{stage}"].astype("Int64")
    summary["cost_cny"] = summary["cost_cny"].astype(float).round(MONEY_DECIMALS)
    return summary[columns]


def _sites_table(config: Scenario, inputs: PlanInputs, result: PlanResult,
                 options: pd.DataFrame, excluded: pd.DataFrame) -> pd.DataFrame:
    sites = inputs.candidates
    table = pd.DataFrame({
        "site_id": sites["site_id"].astype(str),
        "name": _text(sites, "name", sites["site_id"]),
        "county": _text(sites, "county", pd.Series("", index=sites.index)),
        "stage": sites["stage"].astype(str),
    }).join(_lonlat(sites))
    planned = table["stage"].map(lambda s: site_planned(s, config.planning.stages))
    reasons = (excluded.assign(text=excluded["rule_id"] + ": " + excluded["reason"])
               .groupby("site_id")["text"].agg("; ".join))
    is_excluded = table["site_id"].isin(reasons.index)
    table["status"] = np.where(~planned, "not_planned",
                               np.where(is_excluded, "excluded", "not_opened"))
    lookup = reasons.to_dict()
    table["reason"] = [lookup.get(site, "") if ok else "" for site, ok in
                       zip(table["site_id"], planned, strict=True)]
    table = table.merge(_option_summary(config, result), on="site_id", how="left")
    table.loc[table["option_id"].notna(), "status"] = "opened"
    table["year"] = table["year"].astype("Int64")
    table["classes"] = table["classes"].astype("Int64")
    offered = set(options["site_id"])
    stranded = (table["status"] == "not_opened") & ~table["site_id"].isin(offered)
    table.loc[stranded, "reason"] = "no standard size fits the site's land or size limit"
    stage_columns = [c for c in table.columns if c.startswith("classes_")]
    columns = ["site_id", "name", "county", "stage", "status", "reason", "option_id", "year",
               "classes", *stage_columns, "seats", "cost_cny", "lon", "lat"]
    return table[columns].sort_values("site_id").reset_index(drop=True)


def _expansions_table(inputs: PlanInputs, result: PlanResult) -> pd.DataFrame:
    frame = result.expansions.copy()
    if frame.empty:
        return pd.DataFrame(columns=EXPANSION_COLUMNS)
    frame["school_id"] = frame["school_id"].astype(str)
    caps = result.capacity.drop_duplicates(["stage", "year"]).set_index(["stage", "year"])["cap"]
    keys = pd.MultiIndex.from_frame(frame[["stage", "year"]])
    frame["seats_added"] = (frame["classes_added"].to_numpy()
                            * caps.reindex(keys).to_numpy()).round().astype(int)
    frame = frame.join(_places(inputs)["name"], on="school_id")
    frame["cost_cny"] = frame["cost_cny"].astype(float).round(MONEY_DECIMALS)
    return frame[EXPANSION_COLUMNS].sort_values(["year", "stage", "school_id"]).reset_index(
        drop=True)


def _rounded(frame: pd.DataFrame, columns: list[str], decimals: int) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = pd.to_numeric(out[column], errors="coerce").astype(float).round(decimals)
    return out


def build_tables(
    config: Scenario,
    inputs: PlanInputs,
    forecast: pd.DataFrame,
    plan: PlanInput,
    result: PlanResult,
    options: pd.DataFrame,
    excluded: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """The result tables of a run (see the module docstring for their columns).

    Parameters
    ----------
    config
        The scenario.
    inputs
        The data layers (names, counties and points of schools and sites).
    forecast
        ``zone_id, stage, year, variant, children, migrant`` for every forecast year.
    plan
        The model's input (existing schools and caps, used when there is no solution).
    result
        The solved plan, with zone ids of ``inputs.zones`` (disaggregated if zones were
        aggregated).
    options, excluded
        Size options of the candidate sites, and the excluded sites with reasons.
    """
    assignments = result.assignments.copy()
    assignments["children"] = assignments["children"].astype(float).round(CHILD_DECIMALS)
    assignments["distance_m"] = assignments["distance_m"].astype(float)
    assignments = assignments[assignments["children"] > 0]
    assignments = (assignments[["zone_id", "school_id", "stage", "year", "children",
                                "distance_m"]]
                   .sort_values(["year", "stage", "zone_id", "school_id"]).reset_index(drop=True))
    spend = _rounded(result.spend.reindex(columns=SPEND_COLUMNS), ["capital_cny", "budget_cny"],
                     MONEY_DECIMALS).sort_values("year").reset_index(drop=True)
    rules = _rounded(result.rule_report.reindex(columns=RULE_COLUMNS),
                     ["lhs", "rhs", "slack", "elastic"], CHILD_DECIMALS)
    return {
        "demand": _demand_table(config, forecast, result),
        "schools": _schools_table(inputs, plan, result),
        "assignments": assignments,
        "sites": _sites_table(config, inputs, result, options, excluded),
        "expansions": _expansions_table(inputs, result),
        "spend": spend,
        "plan_rules": rules.reset_index(drop=True),
    }


def build_layers(
    inputs: PlanInputs, tables: dict[str, pd.DataFrame]
) -> dict[str, gpd.GeoDataFrame]:
    """Map layers in EPSG:4326 (WGS-84 lon/lat) from the inputs and result tables."""
    crs = "EPSG:4326"
    planned = tables["demand"][tables["demand"]["unmet"].notna()]
    zone_columns = [c for c in ("zone_id", "name", "county", "zone_type", "population")
                    if c in inputs.zones.columns]
    zones = inputs.zones[[*zone_columns, "geometry"]]
    if not planned.empty:
        wide = planned.pivot_table(index="zone_id", columns=["stage", "year"],
                                   values=["children", "unmet"], sort=True)
        names = cast(list[tuple[str, str, int]], wide.columns.to_list())
        wide.columns = [f"{value}_{stage}_{year}" for value, stage, year in names]
        zones = zones.merge(wide.reset_index(), on="zone_id", how="left")
    zones = zones.sort_values("zone_id")
    schools_table = tables["schools"]
    schools = gpd.GeoDataFrame(
        schools_table,
        geometry=gpd.points_from_xy(schools_table["lon"], schools_table["lat"]),
        crs=crs,
    )
    opened = tables["sites"][tables["sites"]["status"] == "opened"].drop(
        columns=["status", "reason"])
    new_sites = gpd.GeoDataFrame(opened.reset_index(drop=True),
                                 geometry=gpd.points_from_xy(opened["lon"], opened["lat"]),
                                 crs=crs)
    start = _lonlat(inputs.zones).set_index(inputs.zones["zone_id"].astype(str))
    end = _places(inputs)[["lon", "lat"]]
    lines = tables["assignments"]
    coords = np.stack(
        [
            start.loc[lines["zone_id"], ["lon", "lat"]].to_numpy(),
            end.loc[lines["school_id"], ["lon", "lat"]].to_numpy(),
        ],
        axis=1,
    )
    assignments = gpd.GeoDataFrame(
        lines, geometry=list(shapely.linestrings(coords)) if len(lines) else [], crs=crs
    )
    layers = {
        "zones": gpd.GeoDataFrame(zones, geometry="geometry", crs=crs),
        "schools": schools,
        "new_sites": new_sites,
        "assignments": assignments,
    }
    if inputs.counties is not None:
        layers["counties"] = inputs.counties.to_crs(crs)
    return layers
