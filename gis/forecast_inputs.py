"""Inputs of the zone-level school-age forecast, checked and turned into arrays.

:mod:`gis.demand` runs the forecast; this module prepares what it runs on:

* the base-year count of every single age 0-17 in every zone (children = persons),
  resolved from single-age columns, stage counts or population times stage shares;
* each zone's share of its county's births, and the age-0 cohort entering each future
  year (before a variant's births factor);
* each zone's annual net child migration rate and migrant-child share;
* housing-pipeline pupils (persons) by zone, stage and year.

Zones are sorted by ``zone_id`` (as text) here, and every array follows that order.
No function here touches geometry, so no CRS is involved.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "MAX_AGE",
    "STAGE_AGES",
    "ZONE_TYPES",
    "Cohorts",
    "housing_pupils",
    "prepare_cohorts",
]

logger = logging.getLogger(__name__)

Floats = npt.NDArray[np.float64]

#: First and last single age (years, inclusive) of each stage.
STAGE_AGES: Final[Mapping[str, tuple[int, int]]] = MappingProxyType(
    {"kindergarten": (3, 5), "primary": (6, 11), "junior": (12, 14), "senior": (15, 17)}
)
#: Zone types the planner knows (as in :data:`gis.synth.ZONE_TYPES`); others are allowed.
ZONE_TYPES: Final = ("urban_core", "new_district", "town", "rural", "industrial")
#: Oldest single age tracked; cohorts older than this leave the forecast.
MAX_AGE: Final = 17
N_AGES: Final = MAX_AGE + 1
_TOLERANCE: Final = 1e-9


@dataclass(frozen=True)
class Cohorts:
    """Everything the cohort projection needs, one row per zone (sorted by ``zone_id``).

    Attributes
    ----------
    zone_ids
        Zone ids as text, sorted.
    base_ages
        Base-year children (persons) by zone and single age 0-17; NaN where no source
        gives the count.
    stage_totals
        Base-year children (persons) of each stage by zone, equal to the input counts
        (a stage count column, population times share, or the sum of single ages).
    entrants
        Age-0 children (persons) by zone and year offset 0..horizon, before a variant's
        births factor: column 0 is the base year's age 0.
    migration_rate
        Annual net child migration rate of each zone's type (fraction per year).
    migrant_share
        Fraction of each zone's children who are migrant children (随迁子女).
    """

    zone_ids: npt.NDArray[np.str_]
    base_ages: Floats
    stage_totals: Mapping[str, Floats]
    entrants: Floats
    migration_rate: Floats
    migrant_share: Floats


def _numbers(frame: pd.DataFrame, column: str, what: str) -> Floats:
    """A column as floats (NaN for missing), with a readable error for text."""
    try:
        return np.asarray(pd.to_numeric(frame[column]), dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} column {column!r} must be numeric") from error


def _optional(frame: pd.DataFrame, column: str, what: str) -> Floats:
    """A numeric column, or all NaN if the frame has no such column."""
    if column in frame.columns:
        return _numbers(frame, column, what)
    return np.full(len(frame), np.nan)


def _check_non_negative(values: Floats, ids: npt.NDArray[np.str_], column: str) -> None:
    bad = (values < 0) | np.isinf(values)
    if bad.any():
        shown = ", ".join(ids[bad][:5])
        raise ValueError(f"zones {shown}: {column!r} must be a finite count >= 0")


def _births_table(
    births: pd.DataFrame | None, counties: npt.NDArray[np.str_], years: range
) -> Floats:
    """Births (persons) by county (rows, in ``counties`` order) and year; NaN if absent."""
    table = np.full((len(counties), len(years)), np.nan)
    if births is None:
        return table
    missing = {"county", "year", "births"} - set(births.columns)
    if missing:
        raise ValueError(f"births needs columns county, year, births (missing {sorted(missing)})")
    county = births["county"].astype(str).to_numpy()
    year = _numbers(births, "year", "births")
    count = _numbers(births, "births", "births")
    if np.isnan(year).any() or (year != np.round(year)).any():
        raise ValueError("births: every year must be a whole number")
    if np.isnan(count).any() or (count < 0).any() or np.isinf(count).any():
        raise ValueError("births: every births value must be a finite count >= 0")
    keys = pd.DataFrame({"county": county, "year": year.astype(np.int64)})
    duplicated = keys.duplicated()
    if duplicated.any():
        first = keys[duplicated].iloc[0]
        raise ValueError(f"births: county {first['county']!r}, year {first['year']} repeats")
    row = pd.Index(counties).get_indexer(pd.Index(county))
    column = year.astype(np.int64) - years.start
    keep = (row >= 0) & (column >= 0) & (column < len(years))
    table[row[keep], column[keep]] = count[keep]
    return table


def _resolve_stages(
    zones: pd.DataFrame,
    given: Floats,
    population: Floats | None,
    stage_shares: Mapping[str, float],
    ids: npt.NDArray[np.str_],
) -> tuple[Floats, dict[str, tuple[Floats, npt.NDArray[np.bool_]]]]:
    """Fill missing single ages of each stage from its total; return ages and totals.

    A stage total is the stage count column, else population x share. Missing single
    ages of the stage share what the present single ages leave of the total, evenly.
    The second result maps each stage to (its total, where that total is the base
    year's exact stage count).
    """
    resolved = given.copy()
    totals: dict[str, tuple[Floats, npt.NDArray[np.bool_]]] = {}
    for stage, (low, high) in STAGE_AGES.items():
        block = given[:, low : high + 1]
        missing = np.isnan(block)
        n_missing = missing.sum(axis=1)
        present = np.where(missing, 0.0, block).sum(axis=1)
        total = np.full(len(zones), np.nan)
        if stage in zones.columns:
            total = _numbers(zones, stage, "zones")
            _check_non_negative(np.nan_to_num(total), ids, stage)
        differs = (n_missing == 0) & (np.abs(total - present) > _TOLERANCE * (1 + present))
        if differs.any():
            logger.warning(
                "zones %s: %s count differs from the sum of its single ages; the single "
                "ages are used",
                ", ".join(ids[differs][:5]),
                stage,
            )
        share = stage_shares.get(stage)
        if population is not None and share is not None:
            total = np.where(np.isnan(total), population * share, total)
        short = (n_missing > 0) & (total < present - _TOLERANCE)
        if short.any():
            logger.warning(
                "zones %s: %s count is below the sum of its given single ages; "
                "its other ages are set to 0",
                ", ".join(ids[short][:5]),
                stage,
            )
        residual = np.maximum(total - present, 0.0) / np.maximum(n_missing, 1)
        resolved[:, low : high + 1] = np.where(missing, residual[:, None], block)
        exact = (n_missing > 0) & ~np.isnan(total) & ~short
        totals[stage] = (total, exact)
    return resolved, totals


def _county_shares(
    resolved: Floats, population: Floats | None, county_index: npt.NDArray[np.intp]
) -> Floats:
    """Each zone's share of its county's births.

    The reference count is the youngest age known (from counts) in every zone of the
    county, else population, else an equal split.
    """
    n_counties = int(county_index.max()) + 1 if len(county_index) else 0
    zones_per_county = np.bincount(county_index, minlength=n_counties)
    known = np.zeros((n_counties, N_AGES))
    np.add.at(known, county_index, ~np.isnan(resolved))
    full = known == zones_per_county[:, None]
    has_age = full.any(axis=1)
    youngest = full.argmax(axis=1)
    reference = np.where(
        has_age[county_index],
        resolved[np.arange(len(county_index)), youngest[county_index]],
        population if population is not None else np.nan,
    )
    unknown = np.bincount(county_index, weights=np.isnan(reference), minlength=n_counties)
    reference = np.nan_to_num(reference)
    total = np.bincount(county_index, weights=reference, minlength=n_counties)
    equal = (unknown > 0) | (total <= 0)
    if equal.any():
        logger.warning(
            "%d county(ies) have no usable base-year reference count (the youngest age "
            "counted in every zone, or population; missing or zero): their births are "
            "split evenly over their zones",
            int(equal.sum()),
        )
    share = reference / np.where(total > 0, total, 1.0)[county_index]
    even = 1.0 / zones_per_county[county_index]
    return np.asarray(np.where(equal[county_index], even, share), dtype=np.float64)


def _fill_young_ages(resolved: Floats, past_births: Floats) -> Floats:
    """Fill ages no count gives: from past births, else copy the youngest known age.

    ``past_births[:, a]`` is the zone's share of its county's births in the base year
    minus ``a`` (NaN where the series has no value).
    """
    gap = np.isnan(resolved)
    from_births = gap & ~np.isnan(past_births)
    if from_births.any():
        ages = np.flatnonzero(from_births.any(axis=0))
        logger.info("base-year ages %s taken from births where no count gives them", ages)
    resolved = np.where(from_births, past_births, resolved)
    known = ~np.isnan(resolved)
    youngest = np.where(known.any(axis=1), known.argmax(axis=1), 0)
    below = np.arange(N_AGES)[None, :] < youngest[:, None]
    if below.any():
        level = logging.WARNING if below[:, 3:].any() else logging.INFO
        logger.log(
            level,
            "%d zone(s) have no count or births for ages below their youngest known age "
            "(up to age %d); those ages copy the youngest known age",
            int(below.any(axis=1).sum()),
            int(youngest.max()) - 1,
        )
    fill = resolved[np.arange(len(resolved)), youngest]
    return np.where(below, fill[:, None], resolved)


def _type_values(
    zone_type: npt.NDArray[np.str_], values: Mapping[str, float] | None, what: str
) -> Floats:
    """A per-type value for every zone (0 for types not in ``values``)."""
    values = dict(values or {})
    unknown = sorted(set(values) - set(ZONE_TYPES) - set(zone_type))
    if unknown:
        logger.warning("%s given for unknown zone types: %s", what, ", ".join(unknown))
    for key, value in values.items():
        if not math.isfinite(value):
            raise ValueError(f"{what} for zone type {key!r} must be finite")
    types, index = np.unique(zone_type, return_inverse=True)
    return np.array([float(values.get(str(t), 0.0)) for t in types], dtype=np.float64)[index]


def prepare_cohorts(
    zones: pd.DataFrame,
    *,
    base_year: int,
    horizon: int,
    stage_shares: Mapping[str, float] | None = None,
    births: pd.DataFrame | None = None,
    migration: Mapping[str, float] | None = None,
    migrant_shares: Mapping[str, float] | None = None,
) -> Cohorts:
    """Check the zone-level inputs and turn them into arrays (see :class:`Cohorts`).

    Base-year single ages come from, in order: an ``age_<a>`` column; the stage's count
    column or ``population`` x ``stage_shares[stage]`` (what the given single ages of the
    stage leave, split evenly); births of year ``base_year - a`` x the zone's births
    share; the youngest age found so far (for the ages below it).

    Parameters
    ----------
    zones, stage_shares, births, migration, migrant_shares
        As for :func:`gis.demand.forecast_demand`.
    base_year
        The year the zone counts are for.
    horizon
        Number of years after the base year to prepare entrants for.

    Returns
    -------
    Cohorts
        Arrays in ``zone_id`` order.

    Raises
    ------
    ValueError
        If a column is missing or malformed, a count is negative, a zone id repeats or
        a share is outside [0, 1].
    """
    missing = {"zone_id", "zone_type", "county"} - set(zones.columns)
    if missing:
        raise ValueError(f"zones need columns zone_id, zone_type, county (missing {missing})")
    zones = zones.assign(zone_id=zones["zone_id"].astype(str)).sort_values("zone_id", kind="stable")
    ids = zones["zone_id"].to_numpy(dtype=np.str_)
    repeated = pd.Index(ids).duplicated()
    if repeated.any():
        raise ValueError(f"zone ids repeat: {', '.join(sorted(set(ids[repeated]))[:5])}")
    given = np.full((len(zones), N_AGES), np.nan)
    for age in range(N_AGES):
        if f"age_{age}" in zones.columns:
            given[:, age] = _numbers(zones, f"age_{age}", "zones")
            _check_non_negative(np.nan_to_num(given[:, age]), ids, f"age_{age}")
    population = None
    if "population" in zones.columns:
        population = _numbers(zones, "population", "zones")
        _check_non_negative(np.nan_to_num(population), ids, "population")
    shares = dict(stage_shares or {})
    for stage, value in shares.items():
        if not 0 <= value <= 1:
            raise ValueError(f"stage share of {stage!r} must be in [0, 1] (got {value})")
    resolved, totals = _resolve_stages(zones, given, population, shares, ids)

    counties, county_index = np.unique(
        zones["county"].astype(str).to_numpy(dtype=np.str_), return_inverse=True
    )
    share = _county_shares(resolved, population, county_index)
    table = _births_table(births, counties, range(base_year - MAX_AGE, base_year + horizon + 1))
    past = table[county_index, :N_AGES][:, ::-1]  # column a: births of base_year - a
    resolved = _fill_young_ages(resolved, past * share[:, None])

    stage_totals = {}
    for stage, (low, high) in STAGE_AGES.items():
        total, exact = totals[stage]
        stage_totals[stage] = np.where(exact, total, resolved[:, low : high + 1].sum(axis=1))

    entrants = np.full((len(zones), horizon + 1), np.nan)
    entrants[:, 0] = resolved[:, 0]
    entrants[:, 1:] = table[county_index, N_AGES:] * share[:, None]
    _log_uncovered(births, counties, table[:, N_AGES:], base_year)
    filled = np.where(np.isnan(entrants), 0, np.arange(horizon + 1)[None, :])
    entrants = entrants[np.arange(len(zones))[:, None], np.maximum.accumulate(filled, axis=1)]

    zone_type = zones["zone_type"].astype(str).to_numpy(dtype=np.str_)
    migrant = _type_values(zone_type, migrant_shares, "migrant shares")
    if "migrant_share" in zones.columns:
        column = _numbers(zones, "migrant_share", "zones")
        migrant = np.where(np.isnan(column), migrant, column)
    outside = (migrant < 0) | (migrant > 1)
    if outside.any():
        raise ValueError(f"zones {', '.join(ids[outside][:5])}: migrant share must be in [0, 1]")
    return Cohorts(
        zone_ids=ids,
        base_ages=resolved,
        stage_totals=stage_totals,
        entrants=entrants,
        migration_rate=_type_values(zone_type, migration, "migration rates"),
        migrant_share=migrant,
    )


def _log_uncovered(
    births: pd.DataFrame | None, counties: npt.NDArray[np.str_], future: Floats, base_year: int
) -> None:
    """Log, once per county, the forecast years the births series does not cover."""
    if future.shape[1] == 0:
        return
    if births is None:
        logger.info("no births series: each zone's latest age-0 cohort is held constant")
        return
    for county, row in zip(counties, future, strict=True):
        years = base_year + 1 + np.flatnonzero(np.isnan(row))
        if len(years):
            logger.info(
                "births for county %s do not cover %s: the latest age-0 cohort is held constant",
                county,
                ", ".join(str(y) for y in years),
            )


def housing_pupils(
    housing: pd.DataFrame | None,
    *,
    zone_ids: npt.NDArray[np.str_],
    stages: Sequence[str],
    base_year: int,
    horizon: int,
) -> Floats:
    """Pupils (persons) living in pipeline housing, by zone, stage and year offset.

    A project's pupils are ``units / 100 x yield_<stage>``, times
    ``plot_ratio_new / plot_ratio_base`` where both are given (rule J-24). They count
    from the completion year on, at a constant level (a stock). Projects completed in or
    before the base year are taken to be in the base-year counts already and add nothing.

    Parameters
    ----------
    housing
        Columns ``project_id, zone_id, units, completion_year`` and ``yield_<stage>``
        (pupils per 100 homes); optional ``plot_ratio_base, plot_ratio_new``. A missing
        yield column or a blank yield counts as 0.
    zone_ids
        Zone ids in forecast order.
    stages
        Stages in output order.
    base_year, horizon
        The base year and the number of forecast years after it.

    Returns
    -------
    numpy.ndarray
        Shape (zones, stages, horizon + 1), pupils (persons), before a variant's housing
        factor.

    Raises
    ------
    ValueError
        Naming each project with an unknown zone, negative or blank units, a blank or
        fractional completion year, a negative yield or a plot ratio that is not
        positive (or only one of the two plot ratios).
    """
    pupils = np.zeros((len(zone_ids), horizon + 1, len(stages)))
    if housing is None or housing.empty:
        return pupils.transpose(0, 2, 1)
    missing = {"project_id", "zone_id", "units", "completion_year"} - set(housing.columns)
    if missing:
        raise ValueError(
            "housing needs columns project_id, zone_id, units, completion_year "
            f"(missing {sorted(missing)})"
        )
    project = housing["project_id"].astype(str).to_numpy()
    zone = pd.Index(zone_ids).get_indexer(pd.Index(housing["zone_id"].astype(str)))
    units = _numbers(housing, "units", "housing")
    year = _numbers(housing, "completion_year", "housing")
    old = _optional(housing, "plot_ratio_base", "housing")
    new = _optional(housing, "plot_ratio_new", "housing")
    both = ~np.isnan(old) & ~np.isnan(new)
    ratio = np.where(both, new / np.where(both & (old > 0), old, 1.0), 1.0)
    bad_ratio = (np.isnan(old) != np.isnan(new)) | (both & ((old <= 0) | (new <= 0)))
    yields = np.zeros((len(housing), len(stages)))
    for index, stage in enumerate(stages):
        if f"yield_{stage}" in housing.columns:
            yields[:, index] = np.nan_to_num(_numbers(housing, f"yield_{stage}", "housing"))
    problems = [
        (zone < 0, "zone_id is not a zone"),
        (np.isnan(units) | (units < 0) | np.isinf(units), "units must be a count >= 0"),
        (np.isnan(year) | (year != np.round(year)), "completion_year must be a whole year"),
        ((yields < 0).any(axis=1) | np.isinf(yields).any(axis=1), "yields must be >= 0"),
        (bad_ratio, "plot_ratio_base and plot_ratio_new must both be > 0 (or both blank)"),
    ]
    messages = [
        f"housing project {project[row]!r}: {message}"
        for mask, message in problems
        for row in np.flatnonzero(mask)
    ]
    if messages:
        raise ValueError("; ".join(messages))
    offset = year.astype(np.int64) - base_year
    built = offset <= 0
    if built.any():
        logger.info(
            "%d housing project(s) completed by %d are taken to be in the base-year counts",
            int(built.sum()),
            base_year,
        )
    within = ~built & (offset <= horizon)
    per_project = units[:, None] / 100.0 * yields * ratio[:, None]
    np.add.at(pupils, (zone[within], offset[within]), per_project[within])
    return np.cumsum(pupils, axis=1).transpose(0, 2, 1)
