"""Tidy result tables and map layers built from a solved siting model.

Tables (plain DataFrames, written as CSV):

``demand``
    The forecast: zone_id, stage, year, variant, children, migrant (of which migrant
    children), and assigned, unmet on the rows the siting model planned (design year,
    chosen variant; empty elsewhere). Children are persons.
``schools``
    One row per school and stage, existing and new: school_id, name, kind (existing or
    new), stage, year, classes, class_cap, seats, enrolled, spare_seats, utilisation,
    cost_cny (new sites only), lon, lat (WGS-84).
``assignments``
    zone_id, school_id, stage, year, children, distance_m (travel distance, metres).
``sites``
    Every candidate site and what became of it: site_id, name, stage, status (opened,
    not_opened, excluded, not_planned), reason, classes, seats, cost_cny, lon, lat.

Layers (GeoDataFrames in EPSG:4326 WGS-84): zones, schools, new_sites, assignments
(lines from zone to school), counties.
"""

from __future__ import annotations

from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from allocator.inputs import PlanInputs
from allocator.scenario import Scenario
from allocator.siting import SitingResult

__all__ = ["build_layers", "build_tables"]

#: Decimals kept for coordinates (degrees; 1e-6° is about 0.1 m).
COORD_DECIMALS = 6
#: Decimals kept for counts of children: the solver's tolerances (about 1e-6 child) are
#: noise, not plan.
CHILD_DECIMALS = 3


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


def _demand_table(config: Scenario, forecast: pd.DataFrame, siting: SitingResult) -> pd.DataFrame:
    """The forecast, with assigned and unmet children on the rows the siting model planned.

    ``assigned`` and ``unmet`` are filled for the design year of the chosen variant and
    left empty on the other rows.
    """
    table = forecast.copy()
    planned = ((table["year"] == config.planning.siting_year)
               & (table["variant"] == config.demand.variant))
    unmet = siting.unmet.set_index(["zone_id", "stage"])["unmet"]
    keys = pd.MultiIndex.from_frame(table.loc[planned, ["zone_id", "stage"]])
    table["children"] = table["children"].round(CHILD_DECIMALS)
    table["migrant"] = table["migrant"].round(CHILD_DECIMALS)
    table["unmet"] = np.nan
    table.loc[planned, "unmet"] = unmet.reindex(keys).fillna(0.0).to_numpy()
    table["unmet"] = table["unmet"].round(CHILD_DECIMALS)
    table["assigned"] = (table["children"] - table["unmet"]).round(CHILD_DECIMALS)
    return table[["zone_id", "stage", "year", "variant", "children", "migrant", "assigned",
                  "unmet"]].reset_index(drop=True)


def _schools_table(
    config: Scenario, inputs: PlanInputs, siting: SitingResult, year: int
) -> pd.DataFrame:
    caps = {s: config.standards.class_caps.get(s) for s in config.planning.stages}
    existing = inputs.schools[inputs.schools["stage"].isin(config.planning.stages)]
    old = pd.DataFrame(
        {
            "school_id": existing["school_id"].astype(str),
            "name": _text(existing, "name", existing["school_id"]),
            "kind": "existing",
            "stage": existing["stage"].astype(str),
            "classes": existing["classes"].astype(int),
            "cost_cny": 0.0,
        }
    ).join(_lonlat(existing))
    sites = inputs.candidates.set_index("site_id", drop=False)
    opened = siting.opened
    chosen = sites.loc[opened["site_id"]] if not opened.empty else sites.iloc[0:0]
    new = pd.DataFrame(
        {
            "school_id": opened["site_id"].astype(str).to_numpy(),
            "name": _text(chosen, "name", chosen["site_id"]).to_numpy(),
            "kind": "new",
            "stage": opened["stage"].astype(str).to_numpy(),
            "classes": opened["classes"].astype(int).to_numpy(),
            "cost_cny": opened["cost_cny"].astype(float).round(2).to_numpy(),
            "lon": _lonlat(chosen)["lon"].to_numpy(),
            "lat": _lonlat(chosen)["lat"].to_numpy(),
        }
    )
    table = pd.concat([old, new], ignore_index=True)
    table["year"] = year
    table["class_cap"] = table["stage"].map(caps).astype(int)
    table["seats"] = table["classes"] * table["class_cap"]
    load = siting.school_load[["school_id", "stage", "enrolled"]]
    table = table.merge(load, on=["school_id", "stage"], how="left")
    table["enrolled"] = table["enrolled"].fillna(0.0).round(CHILD_DECIMALS)
    table["spare_seats"] = (table["seats"] - table["enrolled"]).round(CHILD_DECIMALS)
    table["utilisation"] = (table["enrolled"] / table["seats"].where(table["seats"] > 0)).round(4)
    columns = [
        "school_id",
        "name",
        "kind",
        "stage",
        "year",
        "classes",
        "class_cap",
        "seats",
        "enrolled",
        "spare_seats",
        "utilisation",
        "cost_cny",
        "lon",
        "lat",
    ]
    return table[columns].sort_values(["stage", "kind", "school_id"]).reset_index(drop=True)


def _sites_table(
    config: Scenario,
    inputs: PlanInputs,
    siting: SitingResult,
    options: pd.DataFrame,
    excluded: pd.DataFrame,
) -> pd.DataFrame:
    sites = inputs.candidates
    table = pd.DataFrame(
        {
            "site_id": sites["site_id"].astype(str),
            "name": _text(sites, "name", sites["site_id"]),
            "stage": sites["stage"].astype(str),
        }
    ).join(_lonlat(sites))
    planned = table["stage"].isin(config.planning.stages)
    reasons = (excluded.assign(text=excluded["rule_id"] + ": " + excluded["reason"])
               .groupby("site_id")["text"].agg("; ".join))
    is_excluded = table["site_id"].isin(reasons.index)
    table["status"] = np.where(~planned, "not_planned",
                               np.where(is_excluded, "excluded", "not_opened"))
    lookup = reasons.to_dict()
    table["reason"] = [lookup.get(site, "") if ok else "" for site, ok in
                       zip(table["site_id"], planned, strict=True)]
    table = table.merge(
        siting.opened[["site_id", "classes", "seats", "cost_cny"]], on="site_id", how="left"
    )
    table.loc[table["classes"].notna(), "status"] = "opened"
    table["classes"] = table["classes"].astype("Int64")
    offered = set(options["site_id"])
    stranded = (table["status"] == "not_opened") & ~table["site_id"].isin(offered)
    table.loc[stranded, "reason"] = "no standard size fits the site's land"
    columns = [
        "site_id",
        "name",
        "stage",
        "status",
        "reason",
        "classes",
        "seats",
        "cost_cny",
        "lon",
        "lat",
    ]
    return table[columns].sort_values("site_id").reset_index(drop=True)


def build_tables(
    config: Scenario,
    inputs: PlanInputs,
    forecast: pd.DataFrame,
    siting: SitingResult,
    options: pd.DataFrame,
    excluded: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """The result tables of a run (see the module docstring for their columns)."""
    year = config.planning.siting_year
    assignments = siting.assignments.assign(year=year)
    assignments["children"] = assignments["children"].round(CHILD_DECIMALS)
    assignments = assignments[["zone_id", "school_id", "stage", "year", "children", "distance_m"]]
    return {
        "demand": _demand_table(config, forecast, siting),
        "schools": _schools_table(config, inputs, siting, year),
        "assignments": assignments.reset_index(drop=True),
        "sites": _sites_table(config, inputs, siting, options, excluded),
    }


def build_layers(
    inputs: PlanInputs, tables: dict[str, pd.DataFrame]
) -> dict[str, gpd.GeoDataFrame]:
    """Map layers in EPSG:4326 (WGS-84 lon/lat) from the inputs and result tables."""
    crs = "EPSG:4326"
    planned = tables["demand"][tables["demand"]["unmet"].notna()]
    demand = planned.pivot_table(
        index="zone_id", columns="stage", values=["children", "unmet"], sort=True
    )
    pairs = cast(list[tuple[str, str]], demand.columns.to_list())
    demand.columns = [f"{value}_{stage}" for value, stage in pairs]
    zone_columns = [
        c
        for c in ("zone_id", "name", "county", "zone_type", "population")
        if c in inputs.zones.columns
    ]
    zones = (
        inputs.zones[[*zone_columns, "geometry"]]
        .merge(demand.reset_index(), on="zone_id", how="left")
        .sort_values("zone_id")
    )
    schools_table = tables["schools"]
    schools = gpd.GeoDataFrame(
        schools_table,
        geometry=gpd.points_from_xy(schools_table["lon"], schools_table["lat"]),
        crs=crs,
    )
    new_sites = schools[schools["kind"] == "new"].reset_index(drop=True)
    start = _lonlat(inputs.zones).set_index(inputs.zones["zone_id"].astype(str))
    end = schools_table.drop_duplicates("school_id").set_index("school_id")[["lon", "lat"]]
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
