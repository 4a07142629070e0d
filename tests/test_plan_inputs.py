"""Scenario + loaded data -> PlanInput: demand, caps, existing schools, options, rules.

Built on a copy of the tiny fixture (tests/fixtures/tiny): one primary school S1 with 10
classes, candidate sites C1 and C2 (urban primary, 12 or 18 classes), zones A, B, C; class
cap 45, cost 1,000 CNY per primary seat.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from allocator.candidates import excluded_sites, site_options
from allocator.errors import InputError
from allocator.inputs import load_inputs
from allocator.layering import load_scenario
from allocator.pipeline import choose_metric_crs, demand_forecast, prepare
from allocator.plan.validate import validate
from allocator.plan_inputs import (
    caps_table,
    catchment_pairs,
    existing_frame,
    plan_demand,
    plan_rules,
    plan_weights,
)

TWO_STAGES = [
    "planning.stages=[primary, junior]",
    "standards.class_caps.junior=50",
    "standards.cost_per_seat_cny.junior=1200",
    "standards.travel_limits_m.junior={urban: 1000, rural: 3000}",
    "standards.school_sizes.junior={urban: [12], rural: [12]}",
]


def add_column(path: Path, name: str, values: dict[str, str]) -> None:
    lines = path.read_text().splitlines()
    out = [f"{lines[0]},{name}"]
    out += [f"{line},{values.get(line.split(',')[0], '')}" for line in lines[1:]]
    path.write_text("\n".join(out) + "\n")


def add_junior_counts(tiny_dir: Path) -> None:
    add_column(tiny_dir / "zones.csv", "junior", {"A": "400", "B": "150", "C": "50"})


def test_caps_fall_from_the_year_the_scenario_says(tiny_scenario: Path) -> None:
    config = load_scenario(tiny_scenario, sets=[
        "planning.years=[2024, 2025, 2027, 2030]", "planning.periods=[2025, 2027, 2030]",
        "standards.class_caps_by_year.primary={2027: 40}"]).config
    caps = caps_table(config)
    assert caps.values.tolist() == [["primary", 2025, 45], ["primary", 2027, 40],
                                    ["primary", 2030, 40]]


def test_demand_has_every_period_of_the_chosen_variant(tiny_scenario: Path) -> None:
    resolved = load_scenario(tiny_scenario, sets=[
        "planning.years=[2024, 2025, 2027]", "planning.periods=[2024, 2027]",
        "demand.variants={central: {}, high: {births_factor: 1.1}}",
        "demand.migrant_shares={urban_core: 0.1}"])
    inputs = load_inputs(resolved)
    forecast = demand_forecast(resolved.config, inputs)
    demand = plan_demand(resolved.config, forecast)
    assert list(demand.columns) == ["zone_id", "stage", "year", "children", "migrant"]
    assert sorted(set(demand["year"])) == [2024, 2027] and len(demand) == 6
    base = demand[demand["year"] == 2024].set_index("zone_id")
    assert base["children"].to_dict() == {"A": 900, "B": 300, "C": 100}
    # 10 % of zone A (urban core) are migrant children; B and C have no share set
    assert base["migrant"].to_dict() == {"A": 90, "B": 0, "C": 0}


def test_existing_schools_grow_to_land_and_size_limits(tiny_dir: Path) -> None:
    schools = tiny_dir / "schools.csv"
    schools.write_text(schools.read_text() + "S2,School 2,primary,36,120.300,33.000\n"
                       "S3,School 3,primary,12,120.400,33.000\n")
    plain = load_scenario(tiny_dir / "scenario.yaml")
    no_column = existing_frame(plain.config, load_inputs(plain).schools)
    assert no_column["max_classes"].isna().all()  # no max_classes column: no expansion
    add_column(schools, "max_classes", {"S1": "40", "S2": "40", "S3": "12"})
    resolved = load_scenario(tiny_dir / "scenario.yaml", sets=[
        "standards.max_school_classes.primary=30",
        "standards.expansion.cost_per_seat_factor=0.5"])
    frame = existing_frame(resolved.config, load_inputs(resolved).schools).set_index("school_id")
    # S1: land allows 40, N-05 caps it at 30; S2 is already above 30: it keeps its 36 and
    # cannot grow; S3's land is full
    assert frame["max_classes"].to_dict() == {"S1": 30, "S2": 36, "S3": 12}
    # one module = 6 classes x 45 pupils x 1,000 CNY x 0.5 = 135,000 CNY
    assert frame.loc["S1", "module_classes"] == 6
    assert frame.loc["S1", "module_cost_cny"] == 135_000
    assert set(frame["ownership"]) == {"public"} and frame["closable"].all()


def test_nine_year_site_gives_primary_and_junior_rows(tiny_dir: Path) -> None:
    add_junior_counts(tiny_dir)
    candidates = tiny_dir / "candidates.csv"
    candidates.write_text(candidates.read_text()
                          + "C9,Site 9,nine_year,urban,100000,false,120.005,33.000\n")
    resolved = load_scenario(tiny_dir / "scenario.yaml", sets=[
        *TWO_STAGES, "standards.nine_year_sizes={urban: [18, 27], rural: [18]}"])
    inputs = load_inputs(resolved)
    crs = choose_metric_crs(resolved, inputs.zones)
    excluded = excluded_sites(resolved.config, inputs, crs)
    options = site_options(resolved.config, inputs.candidates, excluded)
    nine = options[options["site_id"] == "C9"]
    # 18 classes = 12 primary (x45 x1,000) + 6 junior (x50 x1,200) + 100,000 land
    #            = 540,000 + 360,000 + 100,000 = 1,000,000 CNY; 27 = 18 + 9 classes
    assert nine[["option_id", "stage", "classes", "cost_cny"]].values.tolist() == [
        ["C9_c18", "primary", 12, 1_000_000.0], ["C9_c18", "junior", 6, 1_000_000.0],
        ["C9_c27", "primary", 18, 1_450_000.0], ["C9_c27", "junior", 9, 1_450_000.0]]
    ready = prepare(resolved)
    pairs = ready.plan.pairs
    # C9 (120.005) is about 467 m from A and 280 m from B: within 500 m (primary) and
    # 1,000 m (junior) of both
    assert sorted(pairs.loc[pairs["school_id"] == "C9", ["zone_id", "stage"]]
                  .itertuples(index=False, name=None)) == [
        ("A", "junior"), ("A", "primary"), ("B", "junior"), ("B", "primary")]
    tables = validate(ready.plan)
    assert tables.options[("C9", "C9_c27")].classes == {"junior": 9, "primary": 18}


def test_nine_year_site_needs_both_stages(tiny_dir: Path) -> None:
    candidates = tiny_dir / "candidates.csv"
    candidates.write_text(candidates.read_text()
                          + "C9,Site 9,nine_year,urban,0,false,120.005,33.000\n")
    resolved = load_scenario(tiny_dir / "scenario.yaml",
                             sets=["standards.nine_year_sizes={urban: [18], rural: [18]}"])
    inputs = load_inputs(resolved)
    options = site_options(resolved.config, inputs.candidates,
                           pd.DataFrame(columns=["site_id", "rule_id", "reason"]))
    assert "C9" not in set(options["site_id"])  # only primary is planned


def test_catchment_pairs_within_the_travel_limit(tiny_dir: Path) -> None:
    resolved = load_scenario(tiny_dir / "scenario.yaml", sets=["planning.allow_closures=true"])
    inputs = load_inputs(resolved)
    crs = choose_metric_crs(resolved, inputs.zones)
    options = site_options(resolved.config, inputs.candidates,
                           pd.DataFrame(columns=["site_id", "rule_id", "reason"]))
    pairs = catchment_pairs(resolved.config, inputs, crs, options)
    # S1 (119.997) - C1 (120.0035): 6.5e-3° ≈ 607 m > 500 m urban limit; C2 is farther
    assert pairs.empty
    wide = load_scenario(tiny_dir / "scenario.yaml", sets=[
        "planning.allow_closures=true", "standards.travel_limits_m.primary.urban=700"])
    pairs = catchment_pairs(wide.config, inputs, crs, options)
    assert pairs.values.tolist() == [["S1", "C1"]]
    off = catchment_pairs(load_scenario(tiny_dir / "scenario.yaml",
                                        sets=["standards.travel_limits_m.primary.urban=700"]
                                        ).config, inputs, crs, options)
    assert off.empty  # without closures there is nothing for D-10 to guard


def test_rules_and_weights_come_from_the_scenario(tiny_dir: Path) -> None:
    add_junior_counts(tiny_dir)
    config = load_scenario(tiny_dir / "scenario.yaml", sets=[
        *TWO_STAGES,
        "planning.years=[2024, 2025, 2027]", "planning.periods=[2025, 2027]",
        "planning.budget_cny=9000000", "planning.budget_by_year={2025: 2000000}",
        "planning.budget_carry_over=true", "planning.projects_per_year={2025: 1, 2027: 2}",
        "planning.projects_sense=exact",
        "planning.seat_targets=[{rule: G-03, stages: [primary, junior], year: 2027, "
        "min_seats: 500}]",
        "planning.new_school_counts=[{rule: D-06, stage: junior, year: 2025, count: 1}]",
        "standards.max_school_classes.primary=30",
        "objective.equity_weight=2", "objective.elastic=true",
        "objective.elastic_penalty_by_rule={N-01: 0.000001}"]).config
    rules = plan_rules(config)
    assert rules.budget_by_period == {2025: 2_000_000} and rules.budget_total == 9_000_000
    assert rules.carry_over and rules.projects_by_period == {2025: 1, 2027: 2}
    assert rules.projects_sense == "exact"
    (seat,) = rules.seat_targets
    assert (seat.rule_id, seat.stages, seat.year, seat.min_seats) == (
        "G-03", ("primary", "junior"), 2027, 500)
    (count,) = rules.count_targets
    assert (count.rule_id, count.stage, count.year, count.count, count.sense) == (
        "D-06", "junior", 2025, 1, "exact")
    assert rules.max_classes_by_stage == {"primary": 30} and rules.elastic
    weights = plan_weights(config)
    assert weights.equity_weight == 2 and weights.unmet_penalty == 1e6
    assert weights.elastic_penalty_of("N-01") == 1e-6 and weights.elastic_penalty_of("D-06") == 1e3


def test_prepared_tiny_input_passes_the_model_checks(tiny_scenario: Path) -> None:
    ready = prepare(load_scenario(tiny_scenario))
    plan = ready.plan
    assert plan.periods == (2024,)
    assert plan.options["option_id"].tolist() == ["C1_c12", "C1_c18", "C2_c12", "C2_c18"]
    # A-S1, A-C1, B-C1, B-C2 are within 500 m (see test_pipeline_tiny); C reaches nothing
    assert sorted(plan.pairs[["zone_id", "school_id"]].itertuples(index=False, name=None)) == [
        ("A", "C1"), ("A", "S1"), ("B", "C1"), ("B", "C2")]
    tables = validate(plan)
    assert tables.demand == {("A", "primary", 2024): 900, ("B", "primary", 2024): 300,
                             ("C", "primary", 2024): 100}
    assert ready.notes == ("primary: 1 zone(s) have no school or site within the travel "
                           "limit (C); their children will have no seat in any period",)


def test_nine_year_site_without_nine_year_sizes_is_bad_input(tiny_dir: Path) -> None:
    add_junior_counts(tiny_dir)
    candidates = tiny_dir / "candidates.csv"
    candidates.write_text(candidates.read_text()
                          + "C9,Site 9,nine_year,urban,0,false,120.005,33.000\n")
    resolved = load_scenario(tiny_dir / "scenario.yaml", sets=TWO_STAGES)
    with pytest.raises(InputError) as caught:
        load_inputs(resolved)
    (problem,) = caught.value.problems
    assert problem.where == "key standards.nine_year_sizes" and "nine_year" in problem.message
