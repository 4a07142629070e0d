"""End to end on the tiny fixture, whose optimum is computed by hand.

Layout (all on latitude 33°N; 0.001° of longitude ≈ 93.3 m there):

    S1 (119.997)  A (120.000)  C1 (120.0035)  B (120.008)  C2 (120.011)   ...   C (120.200)

Demand (primary): A 900, B 300, C 100 children. Class cap 45; urban limit 500 m, rural
3,000 m; circuity 1. S1 has 10 classes = 450 seats. Candidate sizes 12 or 18 classes =
540 or 810 seats at 1,000 CNY per seat.

Reach: A-S1 ≈ 280 m, A-C1 ≈ 327 m, B-C1 ≈ 420 m, B-C2 ≈ 280 m are within 500 m; S1-B
≈ 1,026 m and A-C2 ≈ 1,026 m are not; C (rural, 3 km) reaches nothing.

Optimum: C's 100 children have no seat whatever we build. A and B need 1,200 seats and
S1 gives 450 to A, leaving 750: C1 at 18 classes (810 seats, 810,000 CNY) serves A's other
450 and all of B; the alternative C1 at 12 + C2 at 12 costs 1,080,000. Unmet = 100.

With a budget of 600,000 CNY only one 12-class site fits. C1 at 12 (540 seats) serves A's
remaining 450 (A-C1 is shorter than B-C1) and 90 of B: unmet = 210 (B) + 100 (C) = 310.
C2 at 12 would reach only B (300) and leave 450 of A unmet: unmet 550, worse.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from allocator.layering import load_scenario
from allocator.pipeline import run


def by_pair(frame: pd.DataFrame) -> dict[tuple[str, str], float]:
    return {(r.zone_id, r.school_id): r.children for r in frame.itertuples()}


@pytest.mark.parametrize("backend", ["highs", "cbc"])
def test_hand_computed_optimum(tiny_scenario: Path, backend: str) -> None:
    results = run(load_scenario(tiny_scenario, sets=[f"solver.backend={backend}"]))
    assert results.info.status == "optimal" and results.info.gap == pytest.approx(0, abs=1e-6)
    new = results.tables["schools"].query("kind == 'new'")
    assert new[["school_id", "classes", "seats", "cost_cny"]].values.tolist() == [
        ["C1", 18, 810, 810_000.0]
    ]
    assert by_pair(results.tables["assignments"]) == {
        ("A", "S1"): 450,
        ("A", "C1"): 450,
        ("B", "C1"): 300,
    }
    unmet = results.tables["demand"].set_index("zone_id")["unmet"].to_dict()
    assert unmet == {"A": 0, "B": 0, "C": 100}
    travel = (
        results.tables["assignments"]["children"] * results.tables["assignments"]["distance_m"]
    ).sum()
    # lexicographic (default): the reported objective is phase 2's, cost + travel
    assert results.info.objective == pytest.approx(0.81 + 1e-6 * travel, rel=1e-9)
    assert results.terms["unmet_children"] == pytest.approx(100)
    assert results.terms["capital_cost_cny"] == pytest.approx(810_000)
    assert len(results.phases) == 2
    sites = results.tables["sites"].set_index("site_id")["status"].to_dict()
    assert sites == {"C1": "opened", "C2": "not_opened"}
    assert any(
        "1 zone(s) have no school or site within the travel limit (C)" in n for n in results.notes
    )


def test_weighted_mode_gives_the_same_plan(tiny_scenario: Path) -> None:
    results = run(load_scenario(tiny_scenario, sets=["objective.mode=weighted"]))
    travel = (results.tables["assignments"]["children"]
              * results.tables["assignments"]["distance_m"]).sum()
    assert results.info.objective == pytest.approx(100 * 1e6 + 0.81 + 1e-6 * travel, rel=1e-9)
    assert by_pair(results.tables["assignments"]) == {
        ("A", "S1"): 450, ("A", "C1"): 450, ("B", "C1"): 300}
    assert len(results.phases) == 1


def test_budget_binds(tiny_scenario: Path) -> None:
    results = run(load_scenario(tiny_scenario, scenario="tight_budget"))
    new = results.tables["schools"].query("kind == 'new'")
    assert new[["school_id", "classes"]].values.tolist() == [["C1", 12]]
    assert by_pair(results.tables["assignments"]) == {
        ("A", "S1"): 450,
        ("A", "C1"): 450,
        ("B", "C1"): 90,
    }
    assert results.tables["demand"]["unmet"].sum() == 310


def test_hazard_site_is_excluded(tiny_dir: Path) -> None:
    path = tiny_dir / "candidates.csv"
    path.write_text(
        path.read_text().replace(
            "C1,Site 1,primary,urban,0,false", "C1,Site 1,primary,urban,0,true"
        )
    )
    results = run(load_scenario(tiny_dir / "scenario.yaml"))
    sites = results.tables["sites"].set_index("site_id")
    assert sites.loc["C1", "status"] == "excluded" and sites.loc["C1", "reason"].startswith("D-09")
    # without C1, A can only use S1: C2 at 12 serves B; 450 of A and 100 of C are unmet
    assert results.tables["demand"]["unmet"].sum() == 550


def test_zone_aggregation_solves_on_cells_and_splits_back(tiny_scenario: Path) -> None:
    # 3,000 m cells of UTM 51N: A (x ≈ 219,700 m) and B (x ≈ 220,448 m) share cell 73, C
    # (x ≈ 238,393 m) is alone in cell 79. The AB cell's point is the children-weighted
    # centroid, a quarter of the way from A to B (900 : 300), about 120.002°E: S1 is
    # ≈ 468 m away and C1 ≈ 140 m (both within 500 m), C2 ≈ 840 m (out). AB needs 1,200
    # seats: S1's 450 + C1 at 18 classes (810) is the only plan; travel puts 810 in C1
    # and 390 in S1. Split back 3 : 1 (A 900, B 300 of the cell's 1,200).
    results = run(load_scenario(tiny_scenario, sets=["travel.aggregate_zones_m=3000"]))
    assert results.info.status == "optimal"
    new = results.tables["schools"].query("kind == 'new'")
    assert new[["school_id", "classes", "cost_cny"]].values.tolist() == [["C1", 18, 810_000.0]]
    assert by_pair(results.tables["assignments"]) == {
        ("A", "C1"): 607.5, ("A", "S1"): 292.5, ("B", "C1"): 202.5, ("B", "S1"): 97.5}
    demand = results.tables["demand"].set_index("zone_id")
    assert demand["assigned"].to_dict() == {"A": 900, "B": 300, "C": 0}
    assert demand["unmet"].to_dict() == {"A": 0, "B": 0, "C": 100}
    distances = results.tables["assignments"].groupby("school_id")["distance_m"].unique()
    assert [len(d) for d in distances] == [1, 1]  # one distance per school: the cell's
    assert 130 < distances["C1"][0] < 150 and 460 < distances["S1"][0] < 475
    assert results.notes[0].startswith("zones aggregated: 3 zones into 2 cells of 3,000 m")
    assert "distances are from the cells' points" in results.notes[0]
