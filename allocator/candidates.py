"""Candidate sites: which are excluded, and which standard sizes each may take.

A site is excluded when it lies in a polluted or geohazard area or is flagged ``hazard``
(rule D-09), or when its land cannot hold even the smallest standard size (``LAND``).
Each remaining site offers the standard sizes of its stage and setting whose land need,
``classes x class cap x standards.land_m2_per_pupil``, fits its ``land_area_m2``.
"""

from __future__ import annotations

import pandas as pd
import pyproj

from allocator.inputs import PlanInputs
from allocator.rules import Kind, rule
from allocator.scenario import Scenario
from gis.sites import filter_sites

__all__ = ["excluded_sites", "site_options"]

EXCLUDED_COLUMNS = ["site_id", "rule_id", "reason"]


def _land_need(config: Scenario, stage: str, classes: int) -> float | None:
    """Land (m²) a school of ``classes`` classes of ``stage`` needs, if a standard is set."""
    per_pupil = config.standards.land_m2_per_pupil.get(stage)  # type: ignore[arg-type]
    cap = config.standards.class_caps.get(stage)  # type: ignore[arg-type]
    if per_pupil is None or cap is None:
        return None
    return classes * cap * per_pupil


@rule("D-09", kind=Kind.FILTER, family="sites",
      params=("data.hazard_areas", "candidates.hazard", "standards.land_m2_per_pupil"))
def excluded_sites(config: Scenario, inputs: PlanInputs, crs: pyproj.CRS) -> pd.DataFrame:
    """Sites no school may be built on, with the rule and the reason.

    Excluded: sites inside a ``data.hazard_areas`` polygon or with ``hazard`` true (D-09:
    不得将受…污染和地质灾害易发地块作为教育用地), and sites whose ``land_area_m2`` is below the
    land need of the smallest standard size of their stage (``LAND``).

    Returns
    -------
    pandas.DataFrame
        ``site_id, rule_id, reason``, one row per site and rule.
    """
    sites = inputs.candidates.to_crs(crs)
    sites = sites[sites["stage"].isin(config.planning.stages)]
    if sites.empty:
        return pd.DataFrame(columns=EXCLUDED_COLUMNS)
    minimum = sites.apply(lambda site: _smallest_need(config, site), axis=1)
    exclusions = {} if inputs.hazard_areas is None else {"D-09": inputs.hazard_areas.to_crs(crs)}
    _, excluded = filter_sites(sites, exclusions=exclusions,
                               min_land_area_m2=minimum if minimum.notna().any() else None)
    return excluded[EXCLUDED_COLUMNS].sort_values(["site_id", "rule_id"]).reset_index(drop=True)


def _smallest_need(config: Scenario, site: pd.Series) -> float:
    setting = str(site.get("setting", None) or "urban")
    menu = config.standards.school_sizes.get(str(site["stage"]))  # type: ignore[arg-type]
    if menu is None:
        return float("nan")
    need = _land_need(config, str(site["stage"]), min(getattr(menu, setting)))
    return float("nan") if need is None else need


@rule("D-13", kind=Kind.HARD, family="seats", params=("standards.class_caps",))
def site_options(config: Scenario, candidates: pd.DataFrame,
                 excluded: pd.DataFrame) -> pd.DataFrame:
    """One row per (candidate site, standard size): classes, seats and cost.

    ``seats = classes x class cap``; ``cost_cny = seats x cost per seat + land cost``.
    Excluded sites, sites of stages not planned, and sizes whose land need exceeds the
    site's ``land_area_m2`` get no option.

    Returns
    -------
    pandas.DataFrame
        ``site_id, stage, classes, seats, cost_cny``.
    """
    rows = []
    standards = config.standards
    banned = set(excluded["site_id"])
    for site in candidates.itertuples(index=False):
        stage = str(site.stage)
        if stage not in config.planning.stages or str(site.site_id) in banned:
            continue
        setting = str(getattr(site, "setting", None) or "urban")
        menu = standards.school_sizes.get(stage)
        cap = standards.class_caps.get(stage)
        per_seat = standards.cost_per_seat_cny.get(stage)
        assert menu is not None and cap is not None and per_seat is not None
        land_cost = float(getattr(site, "land_cost_cny", 0.0) or 0.0)
        area = getattr(site, "land_area_m2", None)
        for classes in getattr(menu, setting):
            need = _land_need(config, stage, classes)
            if need is not None and area is not None and pd.notna(area) and need > area:
                continue
            seats = float(classes * cap)
            rows.append({"site_id": str(site.site_id), "stage": stage, "classes": int(classes),
                         "seats": seats, "cost_cny": seats * per_seat + land_cost})
    return pd.DataFrame(rows, columns=["site_id", "stage", "classes", "seats", "cost_cny"])
