"""Candidate-site exclusions (D-09 areas, land too small) and size options that fit the land."""

from __future__ import annotations

import json
from pathlib import Path

from allocator.candidates import excluded_sites, site_options
from allocator.inputs import load_inputs
from allocator.layering import load_scenario
from allocator.pipeline import choose_metric_crs, run


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


def test_nine_year_land_need_counts_both_stages(tiny_dir: Path) -> None:
    # An 18-class nine-year school = 12 primary + 6 junior classes and needs
    # 12 x 45 x 20 + 6 x 50 x 25 = 10,800 + 7,500 = 18,300 m²; 27 classes need 27,450 m².
    zones = tiny_dir / "zones.csv"
    lines = zones.read_text().splitlines()
    zones.write_text("\n".join([lines[0] + ",junior"] + [f"{line},50" for line in lines[1:]])
                     + "\n")
    path = tiny_dir / "candidates.csv"
    path.write_text(path.read_text() + "C8,Site 8,nine_year,urban,0,false,120.005,33.000\n"
                    "C9,Site 9,nine_year,urban,0,false,120.006,33.000\n")
    set_land(tiny_dir, {"C1": 20_000, "C2": 20_000, "C8": 18_000, "C9": 20_000})
    resolved = load_scenario(tiny_dir / "scenario.yaml", sets=[
        "planning.stages=[primary, junior]", "standards.class_caps.junior=50",
        "standards.cost_per_seat_cny.junior=1000", "standards.land_m2_per_pupil.primary=20",
        "standards.land_m2_per_pupil.junior=25",
        "standards.travel_limits_m.junior={urban: 1000, rural: 3000}",
        "standards.nine_year_sizes={urban: [18, 27], rural: [18]}"])
    inputs = load_inputs(resolved)
    crs = choose_metric_crs(resolved, inputs.zones)
    excluded = excluded_sites(resolved.config, inputs, crs).set_index("site_id")
    assert list(excluded.index) == ["C8"] and excluded.loc["C8", "rule_id"] == "LAND"
    assert "18,300" in str(excluded.loc["C8", "reason"])
    options = site_options(resolved.config, inputs.candidates, excluded.reset_index())
    assert options.loc[options["site_id"] == "C9", "option_id"].tolist() == ["C9_c18",
                                                                             "C9_c18"]
