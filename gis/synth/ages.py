"""Single-year ages of the children in synthetic zones, consistent with the stage counts.

The age profile (share of residents at each single year of age 0-17) is built from:

- the national 7th-census (2020-11-01) five-year groups 0-4 5.52 %, 5-9 6.39 %,
  10-14 6.04 % (``reference/domain-standards.md`` §7; the split is marked "unverified
  (recalled)" there, but sums exactly to the confirmed 0-14 total of 17.95 %);
- ages 15-17: 3.4 % of residents, an ASSUMPTION (no sourced figure);
- the shape inside the 0-4 group: national births 2016-2020 (10,000s: 1,786, 1,723,
  1,523, 1,465, 1,202; NBS, confirmed in the same section), a child aged ``a`` at the
  census being counted as born in ``2020 - a``; so the younger cohorts are smaller. The
  other groups are flat (even single-year cohorts), for lack of sourced data;
- finally each school stage's ages are rescaled to the standard stage shares
  (kindergarten 3-5: 3.5 %, primary 6-11: 7.5 %, junior 12-14: 3.6 %, senior 15-17:
  3.4 %), so that stage counts derived from single ages match the shares used elsewhere
  (``scenarios/common/standards.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

import geopandas as gpd
import numpy as np

__all__ = [
    "AGE_COLUMNS",
    "AGE_PROFILE_2020",
    "CENSUS_2020_AGE_GROUPS",
    "NATIONAL_BIRTHS_10K",
    "STAGE_AGES",
    "STAGE_SHARES",
    "age_profile",
    "synth_single_ages",
]

#: Ages (inclusive range, years) of each school stage.
STAGE_AGES: Final[Mapping[str, tuple[int, int]]] = MappingProxyType(
    {"kindergarten": (3, 5), "primary": (6, 11), "junior": (12, 14), "senior": (15, 17)}
)
#: Highest single age with a column (``age_0`` ... ``age_17``).
MAX_AGE: Final = 17
AGE_COLUMNS: Final = tuple(f"age_{a}" for a in range(MAX_AGE + 1))
#: Share of residents by age group (inclusive ranges). 0-14: national 2020 census
#: (domain-standards.md §7). 15-17: ASSUMPTION, not sourced.
CENSUS_2020_AGE_GROUPS: Final[Mapping[tuple[int, int], float]] = MappingProxyType(
    {(0, 4): 0.0552, (5, 9): 0.0639, (10, 14): 0.0604, (15, 17): 0.034}
)
#: National births by calendar year, 10,000s (NBS; confirmed in domain-standards.md §7).
NATIONAL_BIRTHS_10K: Final[Mapping[int, float]] = MappingProxyType(
    {2016: 1786.0, 2017: 1723.0, 2018: 1523.0, 2019: 1465.0, 2020: 1202.0}
)
#: Share of residents of each stage's ages (2020 structure, derived; standards.yaml).
#: Senior (15-17) is the 3.4 % assumption above.
STAGE_SHARES: Final[Mapping[str, float]] = MappingProxyType(
    {"kindergarten": 0.035, "primary": 0.075, "junior": 0.036, "senior": 0.034}
)


def age_profile(
    *,
    groups: Mapping[tuple[int, int], float] = CENSUS_2020_AGE_GROUPS,
    births: Mapping[int, float] = NATIONAL_BIRTHS_10K,
    census_year: int = 2020,
    stage_ages: Mapping[str, tuple[int, int]] = STAGE_AGES,
    stage_shares: Mapping[str, float] = STAGE_SHARES,
) -> tuple[float, ...]:
    """Share of residents at each single year of age, 0 to 17.

    Each age group's share is spread over its single years in proportion to the births
    of the matching years (``census_year - age``) when all of them are known, else
    evenly; then the ages of every stage in ``stage_shares`` are scaled so that they sum
    to the stage's share.

    Parameters
    ----------
    groups
        Share of residents (dimensionless) per inclusive age range; the ranges must
        cover 0-17 exactly once.
    births
        Births per calendar year (any unit; only ratios are used).
    census_year
        Year of the census the shares describe.
    stage_ages
        Inclusive age range of each stage.
    stage_shares
        Target share of residents per stage (dimensionless).

    Returns
    -------
    tuple of float
        18 shares, index = age in years.

    Raises
    ------
    ValueError
        If the groups do not cover ages 0-17 exactly once, or a share is not positive.
    """
    profile = np.zeros(MAX_AGE + 1)
    covered = np.zeros(MAX_AGE + 1, dtype=int)
    for (low, high), share in groups.items():
        if share <= 0 or not 0 <= low <= high <= MAX_AGE:
            raise ValueError(f"bad age group {(low, high)}: {share}")
        ages = np.arange(low, high + 1)
        years = [census_year - int(a) for a in ages]
        if all(y in births for y in years):
            weights = np.array([births[y] for y in years], dtype=float)
        else:
            weights = np.ones(len(ages))
        profile[ages] = share * weights / weights.sum()
        covered[ages] += 1
    if not (covered == 1).all():
        raise ValueError(f"age groups must cover ages 0-{MAX_AGE} exactly once")
    for stage, share in stage_shares.items():
        if share <= 0:
            raise ValueError(f"stage share for {stage} must be positive, got {share}")
        low, high = stage_ages[stage]
        profile[low : high + 1] *= share / profile[low : high + 1].sum()
    return tuple(float(p) for p in profile)


#: The default profile: see the module docstring. Ages 0-2 about 0.86-1.09 % each, 3-5
#: 3.5 % together, 6-11 7.5 %, 12-14 3.6 %, 15-17 3.4 %.
AGE_PROFILE_2020: Final = age_profile()


def synth_single_ages(
    zones: gpd.GeoDataFrame,
    *,
    seed: int,
    profile: Sequence[float] = AGE_PROFILE_2020,
    stage_ages: Mapping[str, tuple[int, int]] = STAGE_AGES,
    child_factor: float = 1.0,
    stage_noise_sd: float = 0.04,
    age_noise_sd: float = 0.02,
) -> gpd.GeoDataFrame:
    """Children of each single year of age per zone, and stage counts as their sums.

    ``age_a = round(population x profile[a] x child_factor x (1 + e_stage) x (1 + e_age))``
    with ``e_stage`` drawn once per zone and stage (ages 0-2, in no stage, share one
    draw) and ``e_age`` once per zone and age, both normal with mean 0. Every stage
    column is then the sum of its ages, so the two always agree exactly.

    Parameters
    ----------
    zones
        Zones with a ``population`` column (persons), e.g. from
        :func:`gis.synth.synth_zones`.
    seed
        Seed for ``numpy.random.default_rng``.
    profile
        Share of residents at each age 0-17 (dimensionless), e.g.
        :data:`AGE_PROFILE_2020` or :func:`age_profile`.
    stage_ages
        Inclusive age range of each stage column to write.
    child_factor
        Multiplier on all child shares (dimensionless), for places with fewer or more
        children than the national profile.
    stage_noise_sd, age_noise_sd
        Standard deviations of the relative noise per zone and stage, and per zone and
        age (dimensionless).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``zones`` with integer columns ``age_0`` ... ``age_17`` (persons) and
        one integer column per stage of ``stage_ages`` (replaced if present).

    Raises
    ------
    ValueError
        If ``profile`` does not have 18 non-negative entries, ``child_factor`` is not
        positive or a stage range lies outside 0-17.
    """
    shares = np.asarray(profile, dtype=float)
    if shares.shape != (MAX_AGE + 1,) or (shares < 0).any():
        raise ValueError(f"profile must have {MAX_AGE + 1} non-negative shares")
    if child_factor <= 0:
        raise ValueError(f"child_factor must be positive, got {child_factor}")
    band = np.full(MAX_AGE + 1, -1)
    for number, (low, high) in enumerate(stage_ages.values()):
        if not 0 <= low <= high <= MAX_AGE:
            raise ValueError(f"stage ages {(low, high)} outside 0-{MAX_AGE}")
        band[low : high + 1] = number
    band[band < 0] = len(stage_ages)
    rng = np.random.default_rng(seed)
    n = len(zones)
    stage_noise = 1.0 + rng.normal(0.0, stage_noise_sd, size=(n, len(stage_ages) + 1))
    age_noise = 1.0 + rng.normal(0.0, age_noise_sd, size=(n, MAX_AGE + 1))
    population = zones["population"].to_numpy(float)[:, None]
    expected = population * shares[None, :] * child_factor * stage_noise[:, band] * age_noise
    counts = np.rint(np.clip(expected, 0.0, None)).astype(np.int64)
    out = zones.copy()
    for age, column in enumerate(AGE_COLUMNS):
        out[column] = counts[:, age]
    for stage, (low, high) in stage_ages.items():
        out[stage] = counts[:, low : high + 1].sum(axis=1)
    return out
