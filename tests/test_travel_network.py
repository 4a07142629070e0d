"""Road-network travel in a scenario changes who can reach which school (rule D-07)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from allocator.errors import InputError
from allocator.layering import load_scenario
from allocator.pipeline import run

# Roads through the tiny fixture (lon/lat, WGS-84). S1-A-C1 lie on one straight road, and
# B-C2 on another; between C1 and B the road detours 0.002° (≈222 m) north and back, so
# B-C1 is ≈222 + 420 + 222 = 864 m by road (420 m as the crow flies): beyond the 500 m
# urban limit. B can then only use C2.
ROADS = [
    [[119.997, 33.0], [120.0035, 33.0]],
    [[120.0035, 33.0], [120.0035, 33.002], [120.008, 33.002], [120.008, 33.0]],
    [[120.008, 33.0], [120.011, 33.0]],
]


def write_roads(folder: Path) -> None:
    features = [{"type": "Feature", "properties": {"road": i},
                 "geometry": {"type": "LineString", "coordinates": line}}
                for i, line in enumerate(ROADS)]
    (folder / "roads.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")


def test_network_detour_changes_the_plan(tiny_dir: Path) -> None:
    write_roads(tiny_dir)
    sets = ["travel.method=network", "travel.network={path: roads.geojson}"]
    results = run(load_scenario(tiny_dir / "scenario.yaml", sets=sets))
    pairs = results.tables["assignments"].set_index(["zone_id", "school_id"])["distance_m"]
    assert ("B", "C1") not in pairs.index
    assert pairs[("A", "S1")] == pytest.approx(280, abs=2)
    # A: 450 at S1 and 450 at C1 (12 classes, 540 seats); B: 300 at C2 (12 classes).
    # Cost 540,000 + 540,000; C1 at 18 alone would leave B's 300 children unmet.
    new = results.tables["schools"].query("kind == 'new'")
    assert new[["school_id", "classes"]].values.tolist() == [["C1", 12], ["C2", 12]]
    assert results.terms["unmet_children"] == pytest.approx(100)  # C has no road
    straight = run(load_scenario(tiny_dir / "scenario.yaml"))
    assert straight.tables["schools"].query("kind == 'new'")["school_id"].tolist() == ["C1"]


def test_network_method_needs_a_network(tiny_dir: Path) -> None:
    with pytest.raises(InputError, match=r"travel\.network"):
        run(load_scenario(tiny_dir / "scenario.yaml", sets=["travel.method=network"]))


def test_missing_network_file_is_named(tiny_dir: Path) -> None:
    sets = ["travel.method=network", "travel.network={path: nowhere.gpkg}"]
    with pytest.raises(InputError, match=r"nowhere\.gpkg"):
        run(load_scenario(tiny_dir / "scenario.yaml", sets=sets))
