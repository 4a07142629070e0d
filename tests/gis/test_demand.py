from __future__ import annotations

import logging
import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gis.demand import STAGE_AGES, Variant, base_year_demand, forecast_ages, forecast_demand

AGES = [f"age_{a}" for a in range(18)]
TYPES = ["urban_core", "new_district", "town", "rural", "industrial"]


def value(out: pd.DataFrame, zone: str, stage: str, year: int, column: str = "children") -> float:
    row = out[(out["zone_id"] == zone) & (out["stage"] == stage) & (out["year"] == year)]
    assert len(row) == 1
    return float(row[column].iloc[0])


# ---------------------------------------------------------------- hand-computed example


def hand_zones() -> pd.DataFrame:
    # Z1: ages 0..11 are 100, 110, ..., 210. Z2: 300 children at every age 0..11.
    zones = pd.DataFrame(
        {
            "zone_id": ["Z2", "Z1"],  # out of order on purpose: the output is sorted
            "zone_type": ["rural", "new_district"],
            "county": ["C", "C"],
            "migrant_share": [0.5, np.nan],  # Z1 falls back to its type's share
        }
    )
    for age in range(12):
        zones[f"age_{age}"] = [300.0, 100.0 + 10 * age]
    return zones


def test_hand_computed_cohort_example() -> None:
    births = pd.DataFrame({"county": ["C", "C"], "year": [2025, 2026], "births": [400, 800]})
    housing = pd.DataFrame(
        {
            "project_id": ["P1"],
            "zone_id": ["Z1"],
            "units": [200],
            "completion_year": [2026],
            "yield_kindergarten": [5.0],
            "yield_primary": [10.0],
            "plot_ratio_base": [2.0],
            "plot_ratio_new": [2.5],
        }
    )
    out = forecast_demand(
        hand_zones(),
        base_year=2024,
        years=[2024, 2025, 2026],
        stages=["kindergarten", "primary"],
        births=births,
        migration={"new_district": 0.10},  # rural not named: 0
        migrant_shares={"new_district": 0.2},
        housing=housing,
    )
    assert list(out.columns) == ["zone_id", "stage", "year", "variant", "children", "migrant"]
    assert list(out["zone_id"].iloc[[0, -1]]) == ["Z1", "Z2"]
    assert list(out["stage"].iloc[:4]) == ["kindergarten"] * 3 + ["primary"]
    assert set(out["variant"]) == {"central"}
    # Base year 2024, Z1: kindergarten 130 + 140 + 150 = 420; primary 160 + ... + 210 = 1110.
    assert value(out, "Z1", "kindergarten", 2024) == 420
    assert value(out, "Z1", "primary", 2024) == 1110
    # Z1's births share = its age 0 / the county's age 0 = 100 / (100 + 300) = 0.25.
    # 2025, Z1, factor 1 + 0.10 = 1.1: age 3..5 = (120, 130, 140) x 1.1 = 132, 143, 154
    # -> kindergarten 429; age 6..11 = (150..200) x 1.1 = 165, 176, ..., 220 -> 1155.
    # (age 0 = 400 births x 0.25 = 100 enters; the housing project is not finished yet.)
    assert value(out, "Z1", "kindergarten", 2025) == pytest.approx(429)
    assert value(out, "Z1", "primary", 2025) == pytest.approx(1155)
    # 2026, Z1: age 1 = 100 x 1.1 = 110, age 2 = 121, age 3 = 121 x 1.1 = 133.1,
    # age 4 = 132 x 1.1 = 145.2, age 5 = 143 x 1.1 = 157.3 -> kindergarten 435.6;
    # ages 6..11 = (154, 165, ..., 209) x 1.1 = 169.4 + 181.5 + 193.6 + 205.7 + 217.8
    # + 229.9 = 1197.9.
    # Housing P1 (J-24): 200 homes / 100 x yield x 2.5 / 2.0 -> kindergarten 2 x 5 x 1.25
    # = 12.5 and primary 2 x 10 x 1.25 = 25 from 2026 on.
    assert value(out, "Z1", "kindergarten", 2026) == pytest.approx(435.6 + 12.5)
    assert value(out, "Z1", "primary", 2026) == pytest.approx(1197.9 + 25)
    # Migrant children: Z1 uses its type's share 0.2 (children and pipeline pupils alike).
    assert value(out, "Z1", "primary", 2026, "migrant") == pytest.approx(0.2 * 1222.9)
    # Z2, no migration, share 0.75: 2026 entrants 800 x 0.75 = 600, everyone else 300.
    # kindergarten 2026 = base ages 1..3 = 900; primary = base ages 4..9 = 1800.
    assert value(out, "Z2", "kindergarten", 2026) == pytest.approx(900)
    assert value(out, "Z2", "primary", 2026) == pytest.approx(1800)
    assert value(out, "Z2", "primary", 2026, "migrant") == pytest.approx(900)


def test_single_ages_are_reported_and_entrants_follow_births() -> None:
    births = pd.DataFrame({"county": ["C", "C"], "year": [2025, 2026], "births": [400, 800]})
    ages = forecast_ages(
        hand_zones(),
        base_year=2024,
        years=[2026],
        ages=[0, 1, 2],
        births=births,
        migration={"new_district": 0.10},
    )
    z1 = ages[ages["zone_id"] == "Z1"]
    # age 0 in 2026 = 800 x 0.25; age 1 = (400 x 0.25) x 1.1; age 2 = 100 x 1.1 x 1.1.
    assert z1["children"].tolist() == pytest.approx([200, 110, 121])
    assert z1["age"].tolist() == [0, 1, 2]


# ---------------------------------------------------------------- other input paths


def test_stage_shares_path_splits_population_evenly() -> None:
    zones = pd.DataFrame(
        {"zone_id": ["A"], "zone_type": ["rural"], "county": ["C"], "population": [1000]}
    )
    shares = {"kindergarten": 0.03, "primary": 0.06}
    out = forecast_demand(
        zones,
        base_year=2024,
        years=[2024, 2025],
        stages=["kindergarten", "primary"],
        stage_shares=shares,
        migration={"rural": -0.1},
    )
    # Base: kindergarten 1000 x 0.03 = 30 (10 per age 3..5); primary 60 (10 per age 6..11).
    assert value(out, "A", "kindergarten", 2024) == pytest.approx(30)
    assert value(out, "A", "primary", 2024) == pytest.approx(60)
    # Ages 0..2 copy the youngest known age (10 each). 2025: every cohort x (1 - 0.1):
    # kindergarten = 3 x 10 x 0.9 = 27; primary = 6 x 10 x 0.9 = 54.
    assert value(out, "A", "kindergarten", 2025) == pytest.approx(27)
    assert value(out, "A", "primary", 2025) == pytest.approx(54)


def test_stage_count_path_splits_each_stage_evenly() -> None:
    zones = pd.DataFrame(
        {
            "zone_id": ["A"],
            "zone_type": ["town"],
            "county": ["C"],
            "kindergarten": [90],
            "primary": [120],
            "junior": [60],
        }
    )
    out = forecast_demand(
        zones,
        base_year=2024,
        years=[2025, 2024, 2025],
        stages=["kindergarten", "primary", "junior"],
    )
    assert out["year"].tolist() == [2024, 2025] * 3
    assert out[out["year"] == 2024]["children"].tolist() == [90, 120, 60]
    # Ages 3..5 = 30 each, 6..11 = 20 each, 12..14 = 20 each; ages 0..2 copy age 3 (30).
    # 2025, no migration: kindergarten = ages 2..4 of 2024 = 90; primary = age 5 (30) +
    # ages 6..10 (5 x 20) = 130; junior = ages 11..13 = 60.
    assert out[out["year"] == 2025]["children"].tolist() == pytest.approx([90, 130, 60])


def test_stage_count_fills_only_the_ages_not_given() -> None:
    zones = pd.DataFrame(
        {"zone_id": ["A"], "zone_type": ["town"], "county": ["C"], "primary": [120], "age_6": [50]}
    )
    ages = forecast_ages(zones, base_year=2024, years=[2024], ages=range(6, 12))
    # (120 - 50) / 5 = 14 for each of ages 7..11.
    assert ages["children"].tolist() == pytest.approx([50, 14, 14, 14, 14, 14])
    out = forecast_demand(zones, base_year=2024, years=[2024], stages=["primary"])
    assert out["children"].tolist() == [120]


def test_ages_below_the_counts_come_from_past_births() -> None:
    zones = pd.DataFrame(
        {"zone_id": ["A", "B"], "zone_type": ["town"] * 2, "county": ["C"] * 2}
        | {f"age_{a}": [30.0, 10.0] for a in range(3, 18)}
    )
    births = pd.DataFrame(
        {"county": ["C"] * 3, "year": [2022, 2023, 2024], "births": [40, 80, 120]}
    )
    ages = forecast_ages(zones, base_year=2024, years=[2024], ages=[0, 1, 2, 3], births=births)
    # The youngest age counted in every zone is 3: A's share = 30 / (30 + 10) = 0.75.
    # Age a in 2024 = births of 2024 - a x 0.75 -> 90, 60, 30; age 3 is counted (30).
    assert ages["children"].tolist()[:4] == pytest.approx([90, 60, 30, 30])
    assert ages["children"].tolist()[4:] == pytest.approx([30, 20, 10, 10])


def test_base_year_agrees_with_base_year_demand() -> None:
    zones = pd.DataFrame(
        {
            "zone_id": ["B", "A"],
            "zone_type": ["town", "rural"],
            "county": ["C", "C"],
            "population": [2000, 1000],
            "primary": [150, np.nan],
        }
    )
    shares = {"primary": 0.075, "junior": 0.036}
    old = base_year_demand(zones, stages=["primary", "junior"], shares=shares, year=2024)
    new = forecast_demand(
        zones, base_year=2024, years=[2024], stages=["primary", "junior"], stage_shares=shares
    )
    assert new["children"].tolist() == old["children"].tolist()
    assert new["zone_id"].tolist() == old["zone_id"].tolist()


def test_births_gaps_hold_the_latest_cohort_and_log_once_per_county(
    caplog: pytest.LogCaptureFixture,
) -> None:
    zones = pd.DataFrame(
        {"zone_id": ["A", "B"], "zone_type": ["town"] * 2, "county": ["C", "D"]}
        | {name: [10.0, 10.0] for name in AGES}
    )
    births = pd.DataFrame({"county": ["C"], "year": [2025], "births": [40.0]})
    with caplog.at_level(logging.INFO, logger="gis.forecast_inputs"):
        ages = forecast_ages(
            zones, base_year=2024, years=[2025, 2026, 2027], ages=[0], births=births
        )
    # C: 40 in 2025, then held at 40; D (no births at all): base age 0 (10) held.
    assert ages["children"].tolist() == pytest.approx([40, 40, 40, 10, 10, 10])
    messages = [r.getMessage() for r in caplog.records if "do not cover" in r.getMessage()]
    assert len(messages) == 2
    assert "county C do not cover 2026, 2027" in messages[0]


def test_pipeline_completed_by_base_year_is_already_counted() -> None:
    zones = hand_zones()
    housing = pd.DataFrame(
        {"project_id": ["old"], "zone_id": ["Z1"], "units": [1000], "completion_year": [2020]}
        | {"yield_primary": [10.0]}
    )
    out = forecast_demand(
        zones, base_year=2024, years=[2024, 2025], stages=["primary"], housing=housing
    )
    plain = forecast_demand(zones, base_year=2024, years=[2024, 2025], stages=["primary"])
    assert out["children"].tolist() == plain["children"].tolist()


def test_migration_never_drives_a_cohort_negative() -> None:
    zones = hand_zones()
    out = forecast_demand(
        zones, base_year=2024, years=[2025], stages=["primary"], migration={"rural": -1.5}
    )
    assert value(out, "Z2", "primary", 2025) == 0.0


# ---------------------------------------------------------------- errors


def project(**overrides: object) -> pd.DataFrame:
    row = {"project_id": "P7", "zone_id": "Z1", "units": 100, "completion_year": 2026}
    row |= {"yield_primary": 8.0} | overrides
    return pd.DataFrame({key: [v] for key, v in row.items()})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"zone_id": "nowhere"}, "'P7': zone_id is not a zone"),
        ({"units": -5}, "'P7': units must be a count >= 0"),
        ({"completion_year": 2026.5}, "'P7': completion_year"),
        ({"yield_primary": -1.0}, "'P7': yields"),
        ({"plot_ratio_new": 3.0}, "'P7': plot_ratio"),
        ({"plot_ratio_base": 0.0, "plot_ratio_new": 3.0}, "'P7': plot_ratio"),
    ],
)
def test_bad_housing_project_is_named(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        forecast_demand(hand_zones(), base_year=2024, years=[2026], housing=project(**overrides))


def test_bad_call_arguments() -> None:
    zones = hand_zones()
    with pytest.raises(ValueError, match="base year"):
        forecast_demand(zones, base_year=2024, years=[2023])
    with pytest.raises(ValueError, match="stages"):
        forecast_demand(zones, base_year=2024, years=[2024], stages=["college"])
    with pytest.raises(ValueError, match="births_factor"):
        Variant(births_factor=-1.0)
    with pytest.raises(ValueError, match="repeat"):
        forecast_demand(pd.concat([zones, zones]), base_year=2024, years=[2024])
    with pytest.raises(ValueError, match="migrant share"):
        forecast_demand(zones.assign(migrant_share=1.5), base_year=2024, years=[2024])
    # Senior ages 15..17 have no source at all.
    with pytest.raises(KeyError, match="age"):
        forecast_demand(zones, base_year=2024, years=[2025], stages=["senior"])


# ---------------------------------------------------------------- properties

counts = st.floats(min_value=0, max_value=1e4, allow_nan=False)
rates = st.floats(min_value=-0.5, max_value=0.5, allow_nan=False)


@st.composite
def age_zones(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=5))
    ages = draw(arrays(np.float64, (n, 18), elements=counts))
    return pd.DataFrame(
        {
            "zone_id": [f"Z{i}" for i in range(n)],
            "zone_type": draw(st.lists(st.sampled_from(TYPES), min_size=n, max_size=n)),
            "county": draw(st.lists(st.sampled_from(["C", "D"]), min_size=n, max_size=n)),
        }
        | dict(zip(AGES, ages.T, strict=True))
    )


def county_births(zones: pd.DataFrame, years: range, scale: float = 1.0) -> pd.DataFrame:
    per_county = zones.groupby("county")["age_0"].sum()
    return pd.DataFrame(
        [(c, y, total * scale) for c, total in per_county.items() for y in years],
        columns=["county", "year", "births"],
    )


@settings(max_examples=60, deadline=None)
@given(
    zones=age_zones(),
    migration=st.fixed_dictionaries({t: rates for t in TYPES}),
    shift=rates,
    scale=st.floats(min_value=0, max_value=3),
    shares=st.fixed_dictionaries({t: st.floats(0, 1) for t in TYPES}),
    horizon=st.integers(min_value=0, max_value=20),
)
def test_forecast_is_non_negative_and_migrants_are_a_part(
    zones: pd.DataFrame,
    migration: dict[str, float],
    shift: float,
    scale: float,
    shares: dict[str, float],
    horizon: int,
) -> None:
    years = range(2024, 2025 + horizon)
    out = forecast_demand(
        zones,
        base_year=2024,
        years=years,
        births=county_births(zones, years, scale),
        migration=migration,
        migrant_shares=shares,
        variants={"v": Variant(migration_shift=shift)},
    )
    assert len(out) == len(zones) * 4 * len(years)
    assert (out["children"] >= 0).all()
    assert (out["migrant"] >= 0).all()
    assert (out["migrant"] <= out["children"] * (1 + 1e-12)).all()


@settings(max_examples=60, deadline=None)
@given(zones=age_zones(), horizon=st.integers(min_value=1, max_value=25))
def test_cohorts_are_conserved_without_migration(zones: pd.DataFrame, horizon: int) -> None:
    years = range(2024, 2025 + horizon)
    births = county_births(zones, years)
    ages = forecast_ages(zones, base_year=2024, years=years, births=births)
    # Rows are sorted zone, age, year: reshape to (zone, age, year); zone ids Z0..Z4 sort
    # in input order.
    got = ages["children"].to_numpy().reshape(len(zones), 18, horizon + 1)
    base = zones[AGES].to_numpy()
    for step in range(horizon + 1):
        # A cohort keeps its size as it ages; entrants equal the base age-0 cohort.
        expected = np.concatenate(
            [np.repeat(base[:, :1], min(step, 18), axis=1), base[:, : max(18 - step, 0)]],
            axis=1,
        )
        assert np.allclose(got[:, :, step], expected, rtol=1e-12, atol=1e-6)
        # So the 0-17 total is the base total minus the aged-out, plus the entrants
        # (constant when every base age is equal: see the next test).
        kept = base[:, : max(18 - step, 0)].sum(axis=1) + min(step, 18) * base[:, 0]
        assert np.allclose(got[:, :, step].sum(axis=1), kept, rtol=1e-9, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(zones=age_zones(), level=counts)
def test_total_is_constant_for_a_stationary_population(zones: pd.DataFrame, level: float) -> None:
    zones[AGES] = level
    years = range(2024, 2036)
    ages = forecast_ages(zones, base_year=2024, years=years, births=county_births(zones, years))
    totals = ages.groupby(["zone_id", "year"])["children"].sum()
    assert np.allclose(totals.to_numpy(), 18 * level, rtol=1e-9, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(zones=age_zones(), migration=st.fixed_dictionaries({t: rates for t in TYPES}))
def test_base_year_equals_input(zones: pd.DataFrame, migration: dict[str, float]) -> None:
    out = forecast_demand(zones, base_year=2024, years=[2024], migration=migration)
    base = zones[AGES].to_numpy()
    stages = STAGE_AGES.values()
    expected = [base[z, low : high + 1].sum() for z in range(len(zones)) for low, high in stages]
    assert out["children"].tolist() == expected


@settings(max_examples=40, deadline=None)
@given(
    zones=age_zones(),
    migration=st.fixed_dictionaries({t: rates for t in TYPES}),
    units=st.floats(min_value=0, max_value=5000),
)
def test_variants_are_ordered(
    zones: pd.DataFrame, migration: dict[str, float], units: float
) -> None:
    years = range(2024, 2037)
    housing = pd.DataFrame(
        {
            "project_id": ["P"],
            "zone_id": [zones["zone_id"].iloc[0]],
            "units": [units],
            "completion_year": [2027],
        }
        | {f"yield_{s}": [5.0] for s in STAGE_AGES}
    )
    variants = {
        "low": Variant(births_factor=0.9, migration_shift=-0.01, housing_factor=0.9),
        "central": Variant(),
        "high": Variant(births_factor=1.1, migration_shift=0.01, housing_factor=1.1),
    }
    out = forecast_demand(
        zones,
        base_year=2024,
        years=years,
        births=county_births(zones, years),
        migration=migration,
        housing=housing,
        variants=variants,
    )
    assert out["variant"].tolist()[:3] == ["low", "central", "high"]
    wide = out.pivot_table(index=["zone_id", "stage", "year"], columns="variant", values="children")
    assert (wide["low"] <= wide["central"] * (1 + 1e-12)).all()
    assert (wide["central"] <= wide["high"] * (1 + 1e-12)).all()


# ---------------------------------------------------------------- speed


def test_five_thousand_zones_twelve_years_three_variants_is_fast() -> None:
    rng = np.random.default_rng(7)
    n = 5000
    zones = pd.DataFrame(
        {
            "zone_id": [f"Z{i:05d}" for i in range(n)],
            "zone_type": rng.choice(TYPES, n),
            "county": rng.choice([f"C{i}" for i in range(12)], n),
            "migrant_share": rng.uniform(0, 0.4, n),
        }
        | {name: rng.uniform(0, 200, n) for name in AGES}
    )
    years = range(2024, 2036)
    births = pd.DataFrame(
        [(f"C{i}", y, 3000.0) for i in range(12) for y in years],
        columns=["county", "year", "births"],
    )
    housing = pd.DataFrame(
        {
            "project_id": [f"P{i}" for i in range(500)],
            "zone_id": rng.choice(zones["zone_id"], 500),
            "units": rng.integers(100, 3000, 500),
            "completion_year": rng.integers(2025, 2036, 500),
            "yield_primary": 10.0,
            "yield_junior": 5.0,
        }
    )
    variants = {
        "low": Variant(0.9, -0.01),
        "central": Variant(),
        "high": Variant(1.1, 0.01),
    }
    start = time.perf_counter()
    out = forecast_demand(
        zones,
        base_year=2024,
        years=years,
        births=births,
        migration={"new_district": 0.03, "rural": -0.02},
        housing=housing,
        variants=variants,
    )
    elapsed = time.perf_counter() - start
    assert len(out) == n * 4 * 12 * 3
    assert math.isfinite(out["children"].sum())
    assert elapsed < 5.0, elapsed
