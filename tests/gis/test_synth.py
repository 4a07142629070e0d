"""Synthetic layers: exact population, inside the boundary, deterministic, committed CSVs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from gis.synth import (
    CANDIDATE_COLUMNS,
    SCHOOL_COLUMNS,
    ZONE_COLUMNS,
    ZONE_TYPES,
    synth_candidate_sites,
    synth_schools,
    synth_town_centres,
    synth_zones,
)

ROOT = Path(__file__).resolve().parents[2]
DAFENG = ROOT / "scenarios" / "dafeng"
CENSUS_2020 = 645_603
CAPS = {"primary": 45, "junior": 50}


def _load_generate() -> ModuleType:
    name = "dafeng_generate_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, DAFENG / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generate() -> ModuleType:
    return _load_generate()


@pytest.fixture(scope="module")
def boundary() -> BaseGeometry:
    with (DAFENG / "data" / "320904.geojson").open(encoding="utf-8") as f:
        return shape(json.load(f))


@pytest.fixture(scope="module")
def layers(generate: ModuleType) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    zones, schools, sites = generate.build_layers()
    return zones, schools, sites


def test_population_sums_exactly_to_census(layers: tuple[pd.DataFrame, ...]) -> None:
    zones = layers[0]
    assert zones["population"].sum() == CENSUS_2020
    assert (zones["population"] > 0).all()
    assert set(zones["zone_type"]) <= set(ZONE_TYPES)
    assert {"urban_core", "new_district", "town", "rural"} <= set(zones["zone_type"])
    assert 24 <= len(zones) <= 30


def test_school_age_counts_follow_census_shares(layers: tuple[pd.DataFrame, ...]) -> None:
    zones = layers[0]
    for stage, share in (("primary", 0.075), ("junior", 0.036)):
        ratio = zones[stage] / zones["population"]
        assert ratio.between(share * 0.85, share * 1.15).all()
        assert abs(zones[stage].sum() / CENSUS_2020 - share) < 0.003


def test_all_points_inside_boundary(
    layers: tuple[pd.DataFrame, ...], boundary: BaseGeometry
) -> None:
    for frame in layers:
        inside = shapely.contains_xy(boundary, frame["lon"].to_numpy(), frame["lat"].to_numpy())
        assert inside.all()


def test_ids_unique_sorted_and_columns(layers: tuple[pd.DataFrame, ...]) -> None:
    zones, schools, sites = layers
    for frame, id_col, columns in (
        (zones, "zone_id", ZONE_COLUMNS),
        (schools, "school_id", SCHOOL_COLUMNS),
        (sites, "site_id", CANDIDATE_COLUMNS),
    ):
        assert list(frame.columns[: len(columns)]) == list(columns)
        assert frame[id_col].is_unique
        assert list(frame[id_col]) == sorted(frame[id_col])
        assert frame["synthetic"].all()
        assert frame["name"].str.endswith("(synthetic)").all()
        assert (frame["county"] == "320904").all()


def test_schools_standard_sizes(layers: tuple[pd.DataFrame, ...]) -> None:
    schools = layers[1]
    assert (schools["classes"] % 6 == 0).all()
    assert schools["classes"].between(6, 36).all()
    assert (schools["max_classes"] >= schools["classes"]).all()
    assert (schools["ownership"] == "public").all()
    assert set(schools["stage"]) == {"primary", "junior"}


def test_existing_seats_short_of_demand(layers: tuple[pd.DataFrame, ...]) -> None:
    zones, schools, _ = layers
    for stage, cap in CAPS.items():
        seats = int((schools.loc[schools["stage"] == stage, "classes"] * cap).sum())
        demand = int(zones[stage].sum())
        assert seats < demand
        assert 0.80 <= seats / demand <= 0.95


def test_nearest_school_distances_sensible(layers: tuple[pd.DataFrame, ...]) -> None:
    zones, schools, _ = layers
    to_m = Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)
    zx, zy = to_m.transform(zones["lon"].to_numpy(), zones["lat"].to_numpy())
    for stage in CAPS:
        mine = schools[schools["stage"] == stage]
        sx, sy = to_m.transform(mine["lon"].to_numpy(), mine["lat"].to_numpy())
        nearest = np.hypot(zx[:, None] - sx[None, :], zy[:, None] - sy[None, :]).min(axis=1)
        assert nearest.max() <= 4_000
        assert nearest.min() >= 250


def test_candidate_sites(layers: tuple[pd.DataFrame, ...]) -> None:
    sites = layers[2]
    assert 12 <= len(sites) <= 16
    assert set(sites["stage"]) == {"primary", "junior"}
    assert set(sites["setting"]) <= {"urban", "rural"}
    assert sites["land_area_m2"].between(15_000, 60_000).all()
    assert sites["hazard"].sum() == 2
    urban = sites[sites["setting"] == "urban"]
    rural = sites[sites["setting"] == "rural"]
    assert (urban["land_cost_cny"] / urban["land_area_m2"]).min() > (
        rural["land_cost_cny"] / rural["land_area_m2"]
    ).max()


def test_deterministic(generate: ModuleType, boundary: BaseGeometry) -> None:
    first = generate.build_layers()
    second = generate.build_layers()
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a, b)
    zones_a = synth_zones(boundary, population=1000, n_zones=10, seed=7, county="X")
    zones_b = synth_zones(boundary, population=1000, n_zones=10, seed=7, county="X")
    pd.testing.assert_frame_equal(zones_a, zones_b)
    zones_c = synth_zones(boundary, population=1000, n_zones=10, seed=8, county="X")
    assert not zones_a[["lon", "lat"]].equals(zones_c[["lon", "lat"]])


def test_committed_csvs_match_regeneration(generate: ModuleType, tmp_path: Path) -> None:
    written = generate.write_layers(tmp_path)
    assert [p.name for p in written] == ["zones.csv", "schools.csv", "candidates.csv"]
    for path in written:
        committed = DAFENG / "data" / path.name
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} is stale: run `python scenarios/dafeng/generate.py`"
        )
        assert b"\r" not in path.read_bytes()


def test_generic_boundary_without_centres() -> None:
    # About 19 km x 20 km of open country, no centres given: derived from the boundary.
    square = box(120.0, 33.0, 120.2, 33.18)
    zones = synth_zones(square, population=54_321, n_zones=12, seed=1, county="000000")
    assert zones["population"].sum() == 54_321
    assert shapely.contains_xy(square, zones["lon"].to_numpy(), zones["lat"].to_numpy()).all()
    schools = synth_schools(zones, boundary=square, seed=2, coverage=0.9)
    sites = synth_candidate_sites(zones, boundary=square, seed=3, n_per_stage=3)
    for frame in (schools, sites):
        assert shapely.contains_xy(square, frame["lon"].to_numpy(), frame["lat"].to_numpy()).all()
    for stage, cap in CAPS.items():
        seats = (schools.loc[schools["stage"] == stage, "classes"] * cap).sum()
        assert seats < zones[stage].sum()


def test_town_centres(boundary: BaseGeometry) -> None:
    centres = synth_town_centres(boundary, seed=5, n_towns=4, main=(120.47, 33.20))
    assert len(centres) == 5
    assert centres[0][:2] == (120.47, 33.2)
    lon = np.array([c[0] for c in centres])
    lat = np.array([c[1] for c in centres])
    assert shapely.contains_xy(boundary, lon, lat).all()


def test_bad_arguments(boundary: BaseGeometry) -> None:
    with pytest.raises(ValueError, match="n_zones"):
        synth_zones(boundary, population=100, n_zones=1, seed=0, county="X")
    with pytest.raises(ValueError, match="population"):
        synth_zones(boundary, population=3, n_zones=5, seed=0, county="X")
    with pytest.raises(ValueError, match="outside"):
        synth_zones(
            boundary, population=100, n_zones=5, seed=0, county="X", centres=[(0.0, 0.0, 1.0)]
        )
