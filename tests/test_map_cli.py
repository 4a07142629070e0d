"""``allocator.map_cli``: maps of a results directory, read defensively (multi-year tables)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from allocator.map_cli import map_command, read_plan_layers

WGS84 = "EPSG:4326"


def results_dir(folder: Path, *, gpkg: bool = True) -> Path:
    """A hand-made results directory: two plan years (2022, 2025), language en."""
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"scenario": {"name": "demo"}}),
                                          encoding="utf-8")
    (folder / "scenario.resolved.yaml").write_text("meta:\n  name: demo\n  language: en\n",
                                                   encoding="utf-8")
    schools = gpd.GeoDataFrame(
        {"school_id": ["S1", "S1", "S2"], "name": ["一小", "一小", "二中"],
         "kind": ["existing"] * 3, "stage": ["primary", "primary", "junior"],
         "year": [2022, 2025, 2022], "seats": [900, 1350, 1000]},
        geometry=[Point(113.0, 22.5), Point(113.0, 22.5), Point(113.1, 22.6)], crs=WGS84)
    new_sites = gpd.GeoDataFrame(
        {"school_id": ["C1", "C2"], "name": ["新一", "新二"], "kind": ["new", "new"],
         "stage": ["primary", "junior"], "year": [2022, 2025], "seats": [540, 600]},
        geometry=[Point(113.05, 22.55), Point(113.08, 22.52)], crs=WGS84)
    assignments = gpd.GeoDataFrame(
        {"zone_id": ["Z1", "Z1"], "school_id": ["S1", "S1"], "stage": ["primary"] * 2,
         "year": [2022, 2025], "children": [800.0, 1200.0]},
        geometry=[LineString([(113.02, 22.52), (113.0, 22.5)])] * 2, crs=WGS84)
    zones = gpd.GeoDataFrame({"zone_id": ["Z1"], "children_primary": [1200.0]},
                             geometry=[Point(113.02, 22.52)], crs=WGS84)
    counties = gpd.GeoDataFrame({"name_zh": ["蓬江区"]}, geometry=[box(112.9, 22.4, 113.2, 22.7)],
                                crs=WGS84)
    if gpkg:
        for name, layer in (("zones", zones), ("schools", schools), ("new_sites", new_sites),
                            ("assignments", assignments), ("counties", counties)):
            layer.to_file(folder / "plan.gpkg", layer=name, driver="GPKG")
    table = pd.concat([schools, new_sites]).drop(columns="geometry")
    table["lon"] = [113.0, 113.0, 113.1, 113.05, 113.08]
    table["lat"] = [22.5, 22.5, 22.6, 22.55, 22.52]
    table.to_csv(folder / "schools.csv", index=False)
    return folder


def test_last_year_is_mapped(tmp_path: Path) -> None:
    plan = read_plan_layers(results_dir(tmp_path / "run"))
    assert (plan.name, plan.language, plan.year) == ("demo", "en", 2025)
    schools = plan.layers["schools"]
    # S1 has a 2025 row (1,350 seats); S2 keeps its latest row (2022) as the 2025 state.
    assert sorted(zip(schools["school_id"], schools["seats"], strict=True)) == [
        ("S1", 1350), ("S2", 1000)]
    assert sorted(plan.layers["new_sites"]["school_id"]) == ["C1", "C2"]  # both built by 2025
    assert plan.layers["assignments"]["children"].tolist() == [1200.0]
    assert plan.rotations is None


def test_png_html_gpkg_into_the_results_dir(tmp_path: Path) -> None:
    folder = results_dir(tmp_path / "run")
    png = map_command(folder, "png")
    html = map_command(folder, "html")
    gpkg = map_command(folder, "gpkg")
    assert png == folder / "map.png" and png.read_bytes()[:4] == b"\x89PNG"
    assert html == folder / "map.html"
    assert "<title>demo school plan (2025)</title>" in html.read_text(encoding="utf-8")
    assert gpkg == folder / "plan.gpkg"


def test_out_file_and_out_dir(tmp_path: Path) -> None:
    folder = results_dir(tmp_path / "run")
    exports = tmp_path / "exports"
    exports.mkdir()
    assert map_command(folder, "html", out=exports, lang="zh") == exports / "map.html"
    text = (exports / "map.html").read_text(encoding="utf-8")
    assert "<title>demo 学校布局规划图 (2025)</title>" in text
    copy = map_command(folder, "gpkg", out=tmp_path / "deep" / "copy.gpkg")
    assert copy.read_bytes() == (folder / "plan.gpkg").read_bytes()
    assert not (folder / "map.html").exists()


def test_without_gpkg_schools_come_from_the_csv(tmp_path: Path) -> None:
    folder = results_dir(tmp_path / "run", gpkg=False)
    plan = read_plan_layers(folder)
    assert set(plan.layers) == {"schools", "new_sites"}
    assert sorted(plan.layers["schools"]["school_id"]) == ["S1", "S2"]
    assert map_command(folder, "html").is_file()
    with pytest.raises(FileNotFoundError, match="no plan GeoPackage"):
        map_command(folder, "gpkg")


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        map_command(tmp_path / "nothing", "png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no manifest\.json"):
        map_command(tmp_path / "empty", "html")
    with pytest.raises(ValueError, match="format must be"):
        map_command(tmp_path / "empty", "pdf")
    with pytest.raises(ValueError, match="lang must be"):
        map_command(results_dir(tmp_path / "run"), "html", lang="fr")
