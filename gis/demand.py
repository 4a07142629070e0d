"""School-age demand by zone and stage: base-year counts and a cohort forecast.

:func:`base_year_demand` reports the counts the zones carry (or population times a
school-age share) for one year. :func:`forecast_demand` projects them over a horizon with
a zone-level cohort-component model (grade progression / cohort survival):

* **Base year.** Children (persons) of each single age 0-17 in each zone, from
  ``age_<a>`` columns, stage count columns (split evenly over the stage's single ages) or
  ``population`` (residents, 常住人口, rule D-05) x a stage share. The base year is
  reported exactly as given.
* **Ageing.** Children of age ``a`` in year ``t`` are age ``a + 1`` in year ``t + 1``,
  times ``1 + r`` where ``r`` is the annual net child migration rate of the zone's type
  (plus a variant's shift), floored at 0 so that migration never makes a cohort
  negative. Mortality between ages 0 and 17 is negligible (well under 1% over the whole
  span in China today) and is left out. Children older than 17 leave the forecast.
* **Entrants.** The age-0 cohort of year ``t`` in zone ``z`` is the county's births
  (persons) in ``t`` x the zone's share of the county's base-year age-0 children (or of
  the youngest age counted in every zone of the county, or of population); births and
  net migration are the inputs rule Z-17 names. Where the births series has no value for
  a year, the zone's latest age-0 cohort is held constant (logged once per county).
* **Housing pipeline.** Pupils (persons) of a project are ``units / 100 x yield`` (yield
  in pupils per 100 homes), scaled by ``plot_ratio_new / plot_ratio_base`` (rule J-24),
  and are added to the zone's stage demand in every year from completion on: a stock of
  households with a mature pupil yield, not a flow that ages. Projects completed in or
  before the base year are taken to be in the base-year counts already.
* **Migrant children** (随迁子女, rule D-23) are a share of the children, counted "of
  which", never in addition.

Nothing here uses geometry, so no CRS is involved. See :mod:`gis.forecast_inputs` for
how the inputs are checked and resolved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from gis.forecast_inputs import (
    MAX_AGE,
    STAGE_AGES,
    Cohorts,
    housing_pupils,
    prepare_cohorts,
)

__all__ = ["STAGE_AGES", "Variant", "base_year_demand", "forecast_ages", "forecast_demand"]

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Variant:
    """One forecast variant: multipliers and shifts applied to the central inputs.

    Parameters
    ----------
    births_factor
        Multiplies every births value (and every held-constant age-0 cohort) of the
        years after the base year; at least 0.
    migration_shift
        Added to every zone type's annual net child migration rate (fraction per year).
    housing_factor
        Multiplies the housing pipeline's pupil yields; at least 0.
    """

    births_factor: float = 1.0
    migration_shift: float = 0.0
    housing_factor: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.births_factor) and self.births_factor >= 0):
            raise ValueError(f"births_factor must be finite and >= 0 (got {self.births_factor})")
        if not (math.isfinite(self.housing_factor) and self.housing_factor >= 0):
            raise ValueError(f"housing_factor must be finite and >= 0 (got {self.housing_factor})")
        if not math.isfinite(self.migration_shift):
            raise ValueError(f"migration_shift must be finite (got {self.migration_shift})")


def _wanted_years(years: Sequence[int], base_year: int) -> list[int]:
    wanted = sorted({int(year) for year in years})
    if not wanted:
        raise ValueError("years must name at least one year")
    if wanted[0] < base_year:
        raise ValueError(f"forecast years must be >= the base year {base_year} (got {wanted[0]})")
    return wanted


def _variants(variants: Mapping[str, Variant] | None) -> dict[str, Variant]:
    chosen = dict(variants) if variants is not None else {"central": Variant()}
    if not chosen:
        raise ValueError("variants must name at least one variant")
    return chosen


def _project(cohorts: Cohorts, variant: Variant, horizon: int) -> Floats:
    """Children (persons) by year offset 0..horizon, zone and single age 0-17."""
    factor = np.maximum(0.0, 1.0 + cohorts.migration_rate + variant.migration_shift)
    ages = np.empty((horizon + 1, *cohorts.base_ages.shape))
    ages[0] = cohorts.base_ages
    for step in range(1, horizon + 1):
        ages[step, :, 1:] = ages[step - 1, :, :-1] * factor[:, None]
        ages[step, :, 0] = cohorts.entrants[:, step] * variant.births_factor
    return ages


def _check_complete(
    children: Floats, cohorts: Cohorts, keys: Sequence[tuple[int, int]], offsets: Sequence[int]
) -> None:
    """Raise if a requested value depends on a base-year age no input gives."""
    holes = np.argwhere(np.isnan(children))
    if not len(holes):
        return
    zone, key, year = (int(i) for i in holes[0][:3])
    low, high = keys[key]
    # Cohorts born after the base year come from the base-year age 0 if births are missing.
    ages = range(max(low - offsets[year], 0), max(high - offsets[year], 0) + 1)
    unknown = [a for a in ages if np.isnan(cohorts.base_ages[zone, a])] or list(ages)
    raise KeyError(
        f"zone {cohorts.zone_ids[zone]}: no base-year count of age(s) "
        f"{', '.join(map(str, unknown))}; give age_<a> columns, the stage's count column, "
        "population with a stage share, or births for those years"
    )


def _tidy(
    cohorts: Cohorts,
    key_name: str,
    keys: pd.Index,
    years: Sequence[int],
    names: Sequence[str],
    children: Floats,
) -> pd.DataFrame:
    """Long table from an array shaped (zone, key, year, variant), already in order."""
    migrant = children * cohorts.migrant_share[:, None, None, None]
    zone, key, year, variant = np.unravel_index(np.arange(children.size), children.shape)
    # Columns are taken from their few distinct values: much faster than building one
    # Python string per row.
    return pd.DataFrame(
        {
            "zone_id": pd.Index(cohorts.zone_ids.tolist()).take(zone),
            key_name: keys.take(key),
            "year": np.asarray(years, dtype=np.int64)[year],
            "variant": pd.Index(list(names)).take(variant),
            "children": children.ravel(),
            "migrant": migrant.ravel(),
        }
    )


def forecast_demand(
    zones: pd.DataFrame,
    *,
    base_year: int,
    years: Sequence[int],
    stages: Sequence[str] = tuple(STAGE_AGES),
    stage_shares: Mapping[str, float] | None = None,
    births: pd.DataFrame | None = None,
    migration: Mapping[str, float] | None = None,
    migrant_shares: Mapping[str, float] | None = None,
    housing: pd.DataFrame | None = None,
    variants: Mapping[str, Variant] | None = None,
) -> pd.DataFrame:
    """School-age children by zone, stage, year and variant (cohort-component forecast).

    Parameters
    ----------
    zones
        One row per zone: ``zone_id``, ``zone_type`` (urban_core, new_district, town,
        rural, industrial), ``county``, and base-year children (persons) as any of
        ``age_0`` ... ``age_17`` (children of that single age), stage count columns
        (``kindergarten``, ``primary``, ``junior``, ``senior``: children of the stage's
        ages) or ``population`` (residents). A single age is taken from its own column,
        else what the given ages of its stage leave of the stage count (or of population
        x share), split evenly; ages 0-2, which no stage covers, come from births of year
        ``base_year - a`` or else equal the youngest age known. Optional
        ``migrant_share`` (fraction of the zone's children who are migrant children)
        overrides ``migrant_shares``.
    base_year
        The year the zone counts are for.
    years
        Years to report, each >= ``base_year``; the base year reproduces the input.
    stages
        Stages to report, in output order; keys of :data:`STAGE_AGES`.
    stage_shares
        Fraction of residents of each stage's ages, used with ``population`` where a
        stage has no count.
    births
        Columns ``county``, ``year``, ``births`` (persons born in the county that year).
        Without it (or for years it misses) each zone's latest age-0 cohort is held
        constant.
    migration
        Annual net child migration rate (fraction per year) by zone type, e.g.
        ``{"new_district": 0.03, "rural": -0.02}``; types not named get 0.
    migrant_shares
        Migrant-child share by zone type; types not named (and zones without a
        ``migrant_share``) get 0.
    housing
        Pipeline projects: ``project_id``, ``zone_id``, ``units`` (homes, at the base
        plot ratio), ``completion_year``, ``yield_<stage>`` (pupils per 100 homes; a
        missing column or blank counts as 0), optional ``plot_ratio_base`` and
        ``plot_ratio_new`` (容积率). Pupils count from the completion year on.
    variants
        Named variants; default ``{"central": Variant()}``.

    Returns
    -------
    pandas.DataFrame
        Columns ``zone_id, stage, year, variant, children, migrant``: children and the
        migrant children among them (persons, float, >= 0), sorted by zone id, stage
        (in ``stages`` order), year and variant (in ``variants`` order).

    Raises
    ------
    ValueError
        For malformed input: an unknown stage, a year before the base year, a repeated
        zone id, a negative count, a share outside [0, 1], or a housing project with an
        unknown zone, negative units or a bad plot ratio (the message names it).
    KeyError
        If a requested stage and year need a base-year age that no input gives.
    """
    unknown = [stage for stage in stages if stage not in STAGE_AGES]
    if unknown or not stages:
        raise ValueError(f"stages must be some of {list(STAGE_AGES)} (got {list(stages)})")
    wanted = _wanted_years(years, base_year)
    chosen = _variants(variants)
    horizon = wanted[-1] - base_year
    cohorts = prepare_cohorts(
        zones,
        base_year=base_year,
        horizon=horizon,
        stage_shares=stage_shares,
        births=births,
        migration=migration,
        migrant_shares=migrant_shares,
    )
    pupils = housing_pupils(
        housing, zone_ids=cohorts.zone_ids, stages=stages, base_year=base_year, horizon=horizon
    )
    offsets = [year - base_year for year in wanted]
    children = np.empty((len(cohorts.zone_ids), len(stages), len(wanted), len(chosen)))
    for v, variant in enumerate(chosen.values()):
        ages = _project(cohorts, variant, horizon)
        for s, stage in enumerate(stages):
            low, high = STAGE_AGES[stage]
            total = ages[:, :, low : high + 1].sum(axis=2)
            total[0] = cohorts.stage_totals[stage]
            total += pupils[:, s, :].T * variant.housing_factor
            children[:, s, :, v] = total[offsets].T
    _check_complete(children, cohorts, [STAGE_AGES[s] for s in stages], offsets)
    return _tidy(cohorts, "stage", pd.Index(list(stages)), wanted, list(chosen), children)


def forecast_ages(
    zones: pd.DataFrame,
    *,
    base_year: int,
    years: Sequence[int],
    ages: Sequence[int] = tuple(range(MAX_AGE + 1)),
    stage_shares: Mapping[str, float] | None = None,
    births: pd.DataFrame | None = None,
    migration: Mapping[str, float] | None = None,
    migrant_shares: Mapping[str, float] | None = None,
    variants: Mapping[str, Variant] | None = None,
) -> pd.DataFrame:
    """Children by zone, single age, year and variant, without the housing pipeline.

    The same cohort projection as :func:`forecast_demand`, reported by single age
    (housing-pipeline pupils come by stage only, so they are not included).

    Parameters
    ----------
    zones, base_year, years, stage_shares, births, migration, migrant_shares, variants
        As for :func:`forecast_demand`.
    ages
        Single ages (years, 0-17) to report, in output order.

    Returns
    -------
    pandas.DataFrame
        Columns ``zone_id, age, year, variant, children, migrant`` (persons, float),
        sorted like :func:`forecast_demand`.

    Raises
    ------
    ValueError, KeyError
        As for :func:`forecast_demand`; ValueError also for an age outside 0-17.
    """
    if not ages or any(not 0 <= age <= MAX_AGE for age in ages):
        raise ValueError(f"ages must be within 0-{MAX_AGE} (got {list(ages)})")
    wanted = _wanted_years(years, base_year)
    chosen = _variants(variants)
    horizon = wanted[-1] - base_year
    cohorts = prepare_cohorts(
        zones,
        base_year=base_year,
        horizon=horizon,
        stage_shares=stage_shares,
        births=births,
        migration=migration,
        migrant_shares=migrant_shares,
    )
    offsets = [year - base_year for year in wanted]
    picked = np.asarray(ages, dtype=np.intp)
    children = np.stack(
        [_project(cohorts, v, horizon)[offsets][:, :, picked] for v in chosen.values()], axis=-1
    ).transpose(1, 2, 0, 3)
    _check_complete(children, cohorts, [(int(a), int(a)) for a in picked], offsets)
    return _tidy(cohorts, "age", pd.Index(picked, dtype=np.int64), wanted, list(chosen), children)


def base_year_demand(
    zones: pd.DataFrame,
    *,
    stages: Sequence[str],
    shares: Mapping[str, float | None],
    year: int,
    zone_id: str = "zone_id",
) -> pd.DataFrame:
    """Children of each stage's age living in each zone in the base year.

    Parameters
    ----------
    zones
        One row per zone with ``zone_id`` and either a count column per stage (children)
        or a ``population`` column (residents).
    stages
        Stages to report, e.g. ``["primary", "junior"]``.
    shares
        Share of residents of each stage's age, used where the stage's count is missing.
    year
        The year the counts are for; copied into the output.
    zone_id
        Name of the id column.

    Returns
    -------
    pandas.DataFrame
        Tidy columns ``zone_id, stage, year, children`` (children, float), sorted by zone
        and stage order.

    Raises
    ------
    KeyError
        If a stage has neither counts nor (population and share).
    """
    rows = []
    for stage in stages:
        counts = zones[stage] if stage in zones.columns else None
        share = shares.get(stage)
        estimate = (
            zones["population"] * share
            if "population" in zones.columns and share is not None
            else None
        )
        if counts is None and estimate is None:
            raise KeyError(f"no counts and no population share for stage {stage!r}")
        if counts is None:
            children = estimate
        elif estimate is None:
            children = counts
        else:
            children = counts.fillna(estimate)
        assert children is not None
        rows.append(
            pd.DataFrame(
                {
                    "zone_id": zones[zone_id].astype(str).to_numpy(),
                    "stage": stage,
                    "year": year,
                    "children": children.astype(float).fillna(0.0).to_numpy(),
                }
            )
        )
    demand = pd.concat(rows, ignore_index=True)
    order = {stage: index for index, stage in enumerate(stages)}
    demand["stage_order"] = demand["stage"].map(order)
    demand = demand.sort_values(["zone_id", "stage_order"], kind="stable")
    return demand.drop(columns="stage_order").reset_index(drop=True)
