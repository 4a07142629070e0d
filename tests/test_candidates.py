"""Candidate-site exclusions (D-09 areas, land too small) and size options that fit the land."""

from __future__ import annotations

import json
from pathlib import Path

from allocator.layering import load_scenario
from allocator.pipeline import run


def set_land(folder: Path, areas: dict[str, float]) -> None:
    path = folder / "candidates.csv"
    lines = path.read_text().splitlines()
    out = [lines[0] + ",land_area_m2"]
    out += [f"{line},{areas[line.split(',')[0]]}" for line in lines[1:]]
    path.write_text("\n".join(out) + "\n")


def test_land_limits_the_size_options(tiny_dir: Path) -> None:
    # 20 m² per pupil: 12 classes x 45 x 20 = 10,800 m², 18 classes = 16,200 m².
    # C1 has 12,000 m², so only its 12-class option fits (540 seats): A takes 450 of it,
    # B 90, and C2 (12 classes) serves B's other 210. The hand-computed plan without a
    # land standard is C1 at 18 classes alone.
    set_land(tiny_dir, {"C1": 12_000, "C2": 20_000})
    results = run(load_scenario(tiny_dir / "scenario.yaml",
                                sets=["standards.land_m2_per_pupil.primary=20"]))
    new = results.tables["schools"].query("kind == 'new'")
    assert new[["school_id", "classes"]].values.tolist() == [["C1", 12], ["C2", 12]]


def test_site_too_small_for_any_size_is_excluded(tiny_dir: Path) -> None:
    set_land(tiny_dir, {"C1": 12_000, "C2": 5_000})
    results = run(load_scenario(tiny_dir / "scenario.yaml",
                                sets=["standards.land_m2_per_pupil.primary=20"]))
    sites = results.tables["sites"].set_index("site_id")
    assert sites.loc["C2", "status"] == "excluded"
    assert sites.loc["C2", "reason"].startswith("LAND: land 5,000 m²")
    assert "10,800" in sites.loc["C2", "reason"]


def test_hazard_area_excludes_the_site_inside(tiny_dir: Path) -> None:
    square = [[120.003, 32.999], [120.004, 32.999], [120.004, 33.001], [120.003, 33.001],
              [120.003, 32.999]]
    area = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "landslide zone"},
        "geometry": {"type": "Polygon", "coordinates": [square]}}]}
    (tiny_dir / "hazard.geojson").write_text(json.dumps(area), encoding="utf-8")
    results = run(load_scenario(tiny_dir / "scenario.yaml",
                                sets=["data.hazard_areas={path: hazard.geojson}"]))
    sites = results.tables["sites"].set_index("site_id")
    assert sites.loc["C1", "status"] == "excluded"
    assert sites.loc["C1", "reason"].startswith("D-09") and "landslide zone" in sites.loc[
        "C1", "reason"]
    assert sites.loc["C2", "status"] == "opened"
    assert results.tables["demand"]["unmet"].sum() == 550  # A's 450 beyond S1, and C's 100
