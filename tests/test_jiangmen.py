"""Jiangmen: real county boundaries and populations, forecast, travel pairs, the J-04 plan."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from allocator.audit import audit_tables
from allocator.audit_io import scenario_tables
from allocator.inputs import PlanInputs, load_inputs
from allocator.layering import load_scenario
from allocator.pipeline import choose_metric_crs, demand_forecast, run
from allocator.results import Results
from allocator.scenario import ResolvedScenario
from allocator.travel import travel_pairs

JIANGMEN = Path(__file__).resolve().parent.parent / "scenarios" / "jiangmen" / "scenario.yaml"
CENSUS = {"440703": 853_000, "440704": 364_700, "440705": 909_300, "440781": 907_744,
          "440783": 748_777, "440784": 530_684, "440785": 483_907}
EAST = {"440703", "440704", "440705", "440784"}


@pytest.fixture(scope="module")
def loaded() -> tuple[ResolvedScenario, PlanInputs]:
    resolved = load_scenario(JIANGMEN)
    return resolved, load_inputs(resolved)


def test_counties_are_real_and_split_east_west(loaded: tuple[ResolvedScenario, PlanInputs]) -> None:
    _, inputs = loaded
    assert inputs.counties is not None and len(inputs.counties) == 7
    population = inputs.zones.groupby("county")["population"].sum().to_dict()
    assert population == CENSUS
    regions = inputs.zones.groupby("county")["region"].first().to_dict()
    assert {c for c, r in regions.items() if r == "east"} == EAST


def test_forecast_covers_2025_to_2035(loaded: tuple[ResolvedScenario, PlanInputs]) -> None:
    resolved, inputs = loaded
    forecast = demand_forecast(resolved.config, inputs)
    assert set(forecast["year"]) == {2020, 2025, 2030, 2035}
    assert set(forecast["variant"]) == {"low", "central", "high"}
    assert (forecast["children"] >= 0).all() and (forecast["migrant"] <= forecast["children"]).all()
    central = forecast[forecast["variant"] == "central"]
    totals = central.groupby(["stage", "year"])["children"].sum()
    # the births decline after 2017 reaches primary school by 2030
    assert totals[("primary", 2030)] < totals[("primary", 2020)]
    base = central[central["year"] == 2020]
    assert base["children"].sum() == pytest.approx(
        inputs.zones[["kindergarten", "primary", "junior"]].to_numpy().sum())


def test_travel_pairs_are_sparse_and_within_limits(
        loaded: tuple[ResolvedScenario, PlanInputs]) -> None:
    resolved, inputs = loaded
    forecast = demand_forecast(resolved.config, inputs)
    crs = choose_metric_crs(resolved, inputs.zones)
    assert crs.to_epsg() == 32649  # UTM 49N for 112-113°E
    pairs = travel_pairs(resolved.config, inputs, crs, forecast[forecast["year"] == 2025])
    assert set(pairs["stage"]) == {"kindergarten", "primary", "junior"}
    assert pairs["distance_m"].max() <= 8000
    full = len(inputs.zones) * (len(inputs.schools) + len(inputs.candidates))
    assert 0 < len(pairs) < full / 10
    reached = pairs.groupby("stage")["zone_id"].nunique()
    assert isinstance(reached, pd.Series) and (reached >= 0.9 * len(inputs.zones)).all()


def test_gauss_kruger_zone_on_request(loaded: tuple[ResolvedScenario, PlanInputs]) -> None:
    _, inputs = loaded
    gk = load_scenario(JIANGMEN, sets=["travel.metric_crs=auto_gk3"])
    crs = choose_metric_crs(gk, inputs.zones)
    assert "CGCS2000" in crs.name and "Gauss-Kruger" in crs.name
    named = load_scenario(JIANGMEN, sets=["travel.metric_crs=EPSG:4547"])
    assert choose_metric_crs(named, inputs.zones).to_epsg() == 4547


def new_public_seats(results: Results, year: int, stages: set[str]) -> float:
    """New seats by ``year`` recomputed from the tables: opened sites + expansion modules."""
    schools = results.tables["schools"]
    at_year = schools[(schools["year"] == year) & schools["stage"].isin(stages)]
    new = at_year.loc[(at_year["kind"] == "new") & (at_year["ownership"] == "public"), "seats"]
    grown = results.tables["expansions"]
    grown = grown[(grown["year"] <= year) & grown["stage"].isin(stages)]
    caps = at_year.drop_duplicates("stage").set_index("stage")["class_cap"]
    added = (grown["classes_added"] * grown["stage"].map(caps)).sum()
    return float(new.sum() + added)


@pytest.mark.slow
def test_j04_seat_target_is_met_by_2025() -> None:
    # about a minute: 3 periods, 149 zones, 982 schools, 151 usable sites
    results = run(load_scenario(JIANGMEN))
    assert results.info.status == "optimal"
    assert results.periods == (2025, 2030, 2035)
    (j04,) = results.tables["plan_rules"].query("rule_id == 'J-04'").to_dict("records")
    assert j04["sense"] == ">=" and j04["rhs"] == 110_000 and j04["elastic"] == 0
    seats = new_public_seats(results, 2025, {"kindergarten", "primary", "junior"})
    assert seats == pytest.approx(j04["lhs"], abs=1e-6)
    assert seats >= 110_000
    # the document's targets, re-checked from the tables by the audit (not the model)
    resolved = load_scenario(JIANGMEN)
    audit = audit_tables({**scenario_tables(resolved), **results.tables}, resolved,
                         language="en")
    (j04_audit,) = audit[audit["rule_id"] == "J-04"].to_dict("records")
    assert j04_audit["status"] == "pass" and float(j04_audit["actual"]) == seats
    for rule in ("J-10", "J-08", "J-18"):  # no west->east move, backbone 10 %, pairings
        rows = audit[audit["rule_id"] == rule]
        assert len(rows) > 0 and set(rows["status"]) == {"pass"}, rule
    assert len(audit[audit["rule_id"] == "J-10"]) == 5  # one row per rotation year


def test_named_overrides_low_births_tight_budget_and_a_j10_exception() -> None:
    base = load_scenario(JIANGMEN).config
    assert base.planning.budget_by_year == {} and base.demand.variant == "central"
    assert load_scenario(JIANGMEN, scenario="low_births").config.demand.variant == "low"
    tight = load_scenario(JIANGMEN, scenario="tight_budget").config
    assert tight.planning.budget_by_year == {2025: 5.5e9}
    excepted = load_scenario(JIANGMEN, scenario="j10_exception")
    (exception,) = excepted.config.rules.root["J-10"].exceptions
    assert (exception.who, exception.where, exception.years) == (
        "440783-S105", "440784-S071", (2025, 2026))
    schools = pd.read_csv(JIANGMEN.parent / "data" / "schools.csv", dtype=str)
    regions = schools.set_index("school_id")["region"]
    assert (regions["440783-S105"], regions["440784-S071"]) == ("west", "east")
    assert excepted.config.rotation is not None
    policy = excepted.config.rotation.policy(
        years=(2025, 2026, 2027), staffing_ratios={}, rules=excepted.config.rules,
        schools=set(schools["school_id"]))
    assert policy.banned_region_pairs == (("west", "east"),)
    assert [(e.rules, e.from_school, e.to_school, e.years) for e in policy.exceptions] == [
        (("J-10",), "440783-S105", "440784-S071", (2025, 2026))]
