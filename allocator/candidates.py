"""Candidate sites: which are excluded, and which standard size options each may take.

A site is excluded when it lies in a polluted or geohazard area or is flagged ``hazard``
(rule D-09), or when its land cannot hold even the smallest standard size (``LAND``).
Each remaining site offers the standard sizes of its stage and setting whose land need,
``Σ_stage classes x class cap x standards.land_m2_per_pupil``, fits its ``land_area_m2``
and whose classes of each stage stay within ``standards.max_school_classes`` (N-05).

A site of stage ``nine_year`` (九年一贯制) serves primary and junior pupils: its sizes are
``standards.nine_year_sizes`` (18, 27, 36, 45 classes), two thirds primary and one third
junior classes, so a 27-class option has 18 primary and 9 junior classes. Such a site is
planned when both primary and junior are planned stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import geopandas as gpd
import pandas as pd
import pyproj

from allocator.inputs import PlanInputs
from allocator.rules import Kind, rule
from allocator.scenario import Scenario
from gis.sites import filter_sites

__all__ = [
    "NINE_YEAR",
    "OPTION_COLUMNS",
    "excluded_sites",
    "expand_nine_year",
    "option_id",
    "site_options",
    "site_planned",
    "site_stages",
    "stage_classes",
    "with_expanded_sites",
]

NINE_YEAR = "nine_year"
EXCLUDED_COLUMNS = ["site_id", "rule_id", "reason"]
OPTION_COLUMNS = ["site_id", "option_id", "stage", "classes", "seats", "cost_cny", "ownership"]


def site_stages(stage: str) -> tuple[str, ...]:
    """The school stages a candidate site of ``stage`` serves (nine-year: primary, junior)."""
    return ("primary", "junior") if stage == NINE_YEAR else (stage,)


def site_planned(stage: str, planned: Sequence[str]) -> bool:
    """Whether every stage a site of ``stage`` serves is planned."""
    return all(s in planned for s in site_stages(stage))


def stage_classes(stage: str, classes: int) -> dict[str, int]:
    """Classes per school stage of a size option (nine-year: 2/3 primary, 1/3 junior)."""
    if stage == NINE_YEAR:
        return {"primary": classes * 2 // 3, "junior": classes // 3}
    return {stage: classes}


def option_id(site_id: str, classes: int) -> str:
    """Id of a size option: ``<site>_c<classes>`` (total classes), e.g. ``C01_c18``."""
    return f"{site_id}_c{classes}"


def _menu(config: Scenario, stage: str, setting: str) -> list[int] | None:
    if stage == NINE_YEAR:
        sizes = config.standards.nine_year_sizes
    else:
        sizes = config.standards.school_sizes.get(stage)  # type: ignore[arg-type]
    return None if sizes is None else list(getattr(sizes, setting))


def _land_need(config: Scenario, stage: str, classes: int) -> float | None:
    """Land (m²) a school of ``classes`` classes of ``stage`` needs, if a standard is set."""
    need = 0.0
    for part, count in stage_classes(stage, classes).items():
        per_pupil = config.standards.land_m2_per_pupil.get(part)  # type: ignore[arg-type]
        cap = config.standards.class_caps.get(part)  # type: ignore[arg-type]
        if per_pupil is None or cap is None:
            return None
        need += count * cap * per_pupil
    return need


def expand_nine_year(candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Candidate sites with one row per stage served: a nine-year site becomes two rows.

    Travel pairs are computed per stage; this gives a nine-year site a ``primary`` and a
    ``junior`` row under its ``site_id`` (same point).
    """
    nine = candidates["stage"] == NINE_YEAR
    if not nine.any():
        return candidates
    parts = [candidates[~nine]]
    parts += [candidates[nine].assign(stage=stage) for stage in site_stages(NINE_YEAR)]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=candidates.crs)


def with_expanded_sites(inputs: PlanInputs) -> PlanInputs:
    """``inputs`` whose candidates are expanded by :func:`expand_nine_year`."""
    return replace(inputs, candidates=expand_nine_year(inputs.candidates))


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
    planned = [site_planned(str(s), config.planning.stages) for s in sites["stage"]]
    sites = sites[planned]
    if sites.empty:
        return pd.DataFrame(columns=EXCLUDED_COLUMNS)
    minimum = sites.apply(lambda site: _smallest_need(config, site), axis=1)
    exclusions = {} if inputs.hazard_areas is None else {"D-09": inputs.hazard_areas.to_crs(crs)}
    _, excluded = filter_sites(sites, exclusions=exclusions,
                               min_land_area_m2=minimum if minimum.notna().any() else None)
    return excluded[EXCLUDED_COLUMNS].sort_values(["site_id", "rule_id"]).reset_index(drop=True)


def _smallest_need(config: Scenario, site: pd.Series) -> float:
    setting = str(site.get("setting", None) or "urban")
    menu = _menu(config, str(site["stage"]), setting)
    if not menu:
        return float("nan")
    need = _land_need(config, str(site["stage"]), min(menu))
    return float("nan") if need is None else need


@rule("D-13", kind=Kind.HARD, family="seats", params=("standards.class_caps",))
def site_options(config: Scenario, candidates: pd.DataFrame,
                 excluded: pd.DataFrame) -> pd.DataFrame:
    """One row per (candidate site, standard size, stage served): classes, seats and cost.

    ``seats = classes x class cap`` (the base caps of D-13); an option's ``cost_cny =
    Σ_stage seats x cost per seat + land cost``, repeated on each of its stage rows.
    Excluded sites, sites of stages not planned, sizes whose land need exceeds the site's
    ``land_area_m2`` and sizes with more classes of a stage than
    ``standards.max_school_classes`` (N-05) get no option.

    Returns
    -------
    pandas.DataFrame
        ``site_id, option_id, stage, classes, seats, cost_cny, ownership`` (ownership from
        the candidates' ``ownership`` column, default ``public``).
    """
    rows = []
    standards = config.standards
    banned = set(excluded["site_id"])
    for site in candidates.itertuples(index=False):
        stage = str(site.stage)
        if not site_planned(stage, config.planning.stages) or str(site.site_id) in banned:
            continue
        setting = str(getattr(site, "setting", None) or "urban")
        ownership = getattr(site, "ownership", None)
        ownership = str(ownership) if isinstance(ownership, str) and ownership else "public"
        land_cost = float(getattr(site, "land_cost_cny", 0.0) or 0.0)
        area = getattr(site, "land_area_m2", None)
        for classes in _menu(config, stage, setting) or []:
            need = _land_need(config, stage, classes)
            if need is not None and area is not None and pd.notna(area) and need > area:
                continue
            parts = stage_classes(stage, classes)
            if any((limit := standards.max_school_classes.get(part)) is not None  # type: ignore[arg-type]
                   and count > limit for part, count in parts.items()):
                continue
            seats = {part: float(count * _cap(config, part)) for part, count in parts.items()}
            cost = land_cost + sum(seats[part] * _per_seat(config, part) for part in parts)
            rows += [{"site_id": str(site.site_id), "option_id": option_id(str(site.site_id),
                                                                           classes),
                      "stage": part, "classes": int(count), "seats": seats[part],
                      "cost_cny": cost, "ownership": ownership}
                     for part, count in parts.items()]
    return pd.DataFrame(rows, columns=OPTION_COLUMNS)


def _cap(config: Scenario, stage: str) -> int:
    cap = config.standards.class_caps.get(stage)  # type: ignore[arg-type]
    assert cap is not None, f"standards.class_caps.{stage} is checked by load_inputs"
    return cap


def _per_seat(config: Scenario, stage: str) -> float:
    per_seat = config.standards.cost_per_seat_cny.get(stage)  # type: ignore[arg-type]
    assert per_seat is not None, f"standards.cost_per_seat_cny.{stage} is checked by load_inputs"
    return per_seat
