"""Result tables from a hand-made PlanResult (no solver): every number is checked by hand.

Setting: the tiny fixture with primary and junior, periods 2024 and 2025, and a nine-year
candidate C9. The "solution": S1 (10 primary classes) adds one 6-class module in 2025;
C1 opens with 12 primary classes in 2025 (540,000 CNY); C9 opens as a 27-class nine-year
school in 2025 (18 primary + 9 junior classes, 1,350,000 CNY).
"""

from __future__ import annotations

import math
import shutil

import pandas as pd
import pytest

from allocator.inputs import PlanInputs, load_inputs
from allocator.layering import load_scenario
from allocator.pipeline import demand_forecast, prepare
from allocator.plan.data import PlanResult
from allocator.results import Results
from allocator.scenario import ResolvedScenario
from allocator.solvers import SolveInfo
from allocator.tables import build_layers, build_tables
from tests.conftest import TINY

SETS = [
    "planning.stages=[primary, junior]",
    "planning.years=[2024, 2025]",
    "planning.periods=[2024, 2025]",
    "standards.class_caps.junior=50",
    "standards.cost_per_seat_cny.junior=1000",
    "standards.travel_limits_m.junior={urban: 1000, rural: 3000}",
    "standards.school_sizes.junior={urban: [12], rural: [12]}",
    "standards.nine_year_sizes={urban: [27], rural: [27]}",
]
INFO = SolveInfo(status="optimal", objective=2.0, bound=2.0, gap=0.0, seconds=0.1,
                 solver="highs", solver_version="test", message="hand-made")


def missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def frame(columns: list[str], rows: list[list[object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def hand_result() -> PlanResult:
    opened = frame(["site_id", "option_id", "year", "stage", "classes", "ownership", "cost_cny"],
                   [["C1", "C1_c12", 2025, "primary", 12, "public", 540_000.0],
                    ["C9", "C9_c27", 2025, "junior", 9, "public", 1_350_000.0],
                    ["C9", "C9_c27", 2025, "primary", 18, "public", 1_350_000.0]])
    expansions = frame(["school_id", "stage", "year", "modules", "classes_added", "cost_cny"],
                       [["S1", "primary", 2025, 1, 6, 216_000.0]])
    capacity = frame(
        ["school_id", "kind", "stage", "year", "classes", "cap", "seats", "enrolled",
         "ownership"],
        [["S1", "existing", "primary", 2024, 10, 45, 450, 450.0, "public"],
         ["S1", "existing", "primary", 2025, 16, 45, 720, 700.0, "public"],
         ["C1", "new", "primary", 2025, 12, 45, 540, 500.0, "public"],
         ["C9", "new", "junior", 2025, 9, 50, 450, 420.0, "public"],
         ["C9", "new", "primary", 2025, 18, 45, 810, 0.0, "public"]])
    assignments = frame(["zone_id", "school_id", "stage", "year", "children", "distance_m"],
                        [["A", "S1", "primary", 2024, 450.0, 279.9],
                         ["A", "S1", "primary", 2025, 700.0000004, 279.9],
                         ["B", "C1", "primary", 2025, 300.0, 420.0],
                         ["A", "C1", "primary", 2025, 200.0, 326.6],
                         ["A", "C9", "junior", 2025, 420.0, 466.6]])
    unmet = frame(["zone_id", "stage", "year", "children", "unmet"],
                  [["A", "primary", 2024, 900.0, 450.0], ["B", "primary", 2024, 300.0, 300.0],
                   ["C", "primary", 2024, 100.0, 100.0], ["A", "primary", 2025, 900.0, 0.0],
                   ["B", "primary", 2025, 300.0, 0.0], ["C", "primary", 2025, 100.0, 100.0]])
    spend = frame(["year", "capital_cny", "budget_cny", "projects"],
                  [[2024, 0.0, math.nan, 0], [2025, 2_106_000.0, math.nan, 3]])
    rules = frame(["rule_id", "scope", "year", "stage", "lhs", "sense", "rhs", "slack",
                   "elastic"],
                  [["D-06", "primary", 2025, "primary", 2.0, "exact", 2.0, 0.0, 0.0]])
    empty_closures = frame(["school_id", "year"], [])
    return PlanResult(info=INFO, phases=(INFO,), opened=opened, expansions=expansions,
                      closures=empty_closures, capacity=capacity, assignments=assignments,
                      unmet=unmet, spend=spend, rule_report=rules,
                      terms={"unmet_children": 650.0})


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[ResolvedScenario, PlanInputs, dict[str, pd.DataFrame]]:
    tiny_dir = tmp_path_factory.mktemp("tables") / "tiny"
    shutil.copytree(TINY, tiny_dir)
    zones = tiny_dir / "zones.csv"
    lines = zones.read_text().splitlines()
    junior = {"A": 420, "B": 0, "C": 0}
    zones.write_text("\n".join([lines[0] + ",junior"] + [
        f"{line},{junior[line.split(',')[0]]}" for line in lines[1:]]) + "\n")
    candidates = tiny_dir / "candidates.csv"
    candidates.write_text(candidates.read_text()
                          + "C9,Site 9,nine_year,urban,0,false,120.005,33.000\n")
    resolved = load_scenario(tiny_dir / "scenario.yaml", sets=SETS)
    ready = prepare(resolved)
    inputs = load_inputs(resolved)
    forecast = demand_forecast(resolved.config, inputs)
    tables = build_tables(resolved.config, inputs, forecast, ready.plan, hand_result(),
                          ready.options, ready.excluded)
    return resolved, inputs, tables


def test_schools_table_by_period_with_kinds_and_costs(
        setting: tuple[ResolvedScenario, PlanInputs, dict[str, pd.DataFrame]]) -> None:
    _, _, tables = setting
    schools = tables["schools"]
    rows = schools[["school_id", "kind", "stage", "year", "classes", "class_cap", "seats",
                    "enrolled", "spare_seats", "cost_cny"]].values.tolist()
    assert rows == [
        ["S1", "existing", "primary", 2024, 10, 45, 450, 450.0, 0.0, 0.0],
        ["C9", "new", "junior", 2025, 9, 50, 450, 420.0, 30.0, 450_000.0],
        ["C1", "new", "primary", 2025, 12, 45, 540, 500.0, 40.0, 540_000.0],
        ["C9", "new", "primary", 2025, 18, 45, 810, 0.0, 810.0, 900_000.0],
        ["S1", "expanded", "primary", 2025, 16, 45, 720, 700.0, 20.0, 216_000.0],
    ]
    # C9's 1,350,000 CNY is split 18:9 between primary and junior; the total is kept
    assert schools["cost_cny"].sum() == 540_000 + 1_350_000 + 216_000
    s1 = schools[schools["school_id"] == "S1"].iloc[0]
    assert (s1["name"], s1["lon"], s1["lat"], s1["ownership"]) == (
        "School 1", 119.997, 33.0, "public")
    assert schools.loc[schools["school_id"] == "C1", "utilisation"].item() == round(500 / 540, 4)


def test_sites_table_lists_every_candidate(
        setting: tuple[ResolvedScenario, PlanInputs, dict[str, pd.DataFrame]]) -> None:
    _, _, tables = setting
    sites = tables["sites"].set_index("site_id")
    assert list(sites.columns) == ["name", "county", "stage", "status", "reason", "option_id",
                                   "year", "classes", "classes_primary", "classes_junior",
                                   "seats", "cost_cny", "lon", "lat"]
    assert sites["status"].to_dict() == {"C1": "opened", "C2": "not_opened", "C9": "opened"}
    rows = sites.to_dict("index")
    c9 = rows["C9"]
    assert (c9["stage"], c9["option_id"], c9["year"], c9["classes"], c9["classes_primary"],
            c9["classes_junior"], c9["seats"], c9["cost_cny"]) == (
        "nine_year", "C9_c27", 2025, 27, 18, 9, 18 * 45 + 9 * 50, 1_350_000)
    assert missing(rows["C1"]["classes_junior"]) and rows["C1"]["seats"] == 540
    assert missing(rows["C2"]["year"]) and rows["C2"]["reason"] == ""


def test_demand_expansions_spend_rules_and_assignments(
        setting: tuple[ResolvedScenario, PlanInputs, dict[str, pd.DataFrame]]) -> None:
    _, _, tables = setting
    demand = {(r["zone_id"], r["stage"], r["year"]): (r["assigned"], r["unmet"])
              for r in tables["demand"].to_dict("records")}
    assert demand[("A", "primary", 2024)] == (450, 450)
    assert demand[("A", "primary", 2025)] == (900, 0)
    assert demand[("C", "primary", 2025)] == (0, 100)
    expansions = tables["expansions"]
    assert expansions.values.tolist() == [
        ["S1", "School 1", "primary", 2025, 1, 6, 270, 216_000.0]]  # 6 classes x 45
    assert tables["spend"]["capital_cny"].tolist() == [0, 2_106_000]
    assert tables["spend"]["budget_cny"].isna().all()
    assert tables["plan_rules"]["rule_id"].tolist() == ["D-06"]
    flows = tables["assignments"]
    assert flows["year"].tolist() == [2024, 2025, 2025, 2025, 2025]
    key = (flows["zone_id"] == "A") & (flows["school_id"] == "S1") & (flows["year"] == 2025)
    assert flows.loc[key, "children"].item() == 700.0  # solver noise rounded to 0.001 child


def test_layers_and_summary_by_period(
        setting: tuple[ResolvedScenario, PlanInputs, dict[str, pd.DataFrame]]) -> None:
    resolved, inputs, tables = setting
    layers = build_layers(inputs, tables)
    new = layers["new_sites"]
    picked = new[["site_id", "option_id", "year", "classes_primary", "classes_junior"]]
    first, second = picked.to_dict("records")
    assert missing(first.pop("classes_junior"))
    assert first == {"site_id": "C1", "option_id": "C1_c12", "year": 2025, "classes_primary": 12}
    assert second == {"site_id": "C9", "option_id": "C9_c27", "year": 2025,
                      "classes_primary": 18, "classes_junior": 9}
    zones = layers["zones"].set_index("zone_id")
    assert zones.loc["A", "unmet_primary_2024"] == 450 and zones.loc["A", "unmet_primary_2025"] == 0
    results = Results(scenario=resolved, info=INFO, tables=tables, layers=layers,
                      metric_crs="EPSG:32651", timings={}, periods=(2024, 2025))
    summary = {(r["year"], r["stage"]): r for r in results.summary().to_dict("records")}
    assert summary[(2025, "primary")] == {
        "year": 2025, "stage": "primary", "children": 1300, "existing_seats": 720,
        "expanded_seats": 270, "new_sites": 2, "new_seats": 540 + 810,
        "cost_cny": 540_000 + 900_000 + 216_000, "unmet": 100}
    assert summary[(2024, "primary")] == {
        "year": 2024, "stage": "primary", "children": 1300, "existing_seats": 450,
        "expanded_seats": 0, "new_sites": 0, "new_seats": 0, "cost_cny": 0,
        "unmet": 450 + 300 + 100}
    assert summary[(2025, "junior")]["new_sites"] == 1
