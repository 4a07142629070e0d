"""The results directory: contract, atomic writing, overwrite protection, determinism."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from allocator.cli import app
from allocator.errors import OutputExistsError
from allocator.layering import load_scenario
from allocator.pipeline import run
from allocator.results import Results, read_results_dir

runner = CliRunner()


@pytest.fixture
def tiny_results(tiny_scenario: Path) -> Results:
    return run(load_scenario(tiny_scenario))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_contract(tiny_results: Results, tmp_path: Path) -> None:
    folder = tiny_results.to_dir(tmp_path / "out")
    names = {p.name for p in folder.iterdir()}
    assert names == {
        "manifest.json",
        "scenario.resolved.yaml",
        "demand.csv",
        "schools.csv",
        "assignments.csv",
        "sites.csv",
        "expansions.csv",
        "spend.csv",
        "plan_rules.csv",
        "audit.csv",
        "exceptions.csv",
        "plan.gpkg",
        "plan.xlsx",
        "report.html",
    }
    audit = pd.read_csv(folder / "audit.csv")
    assert {"rule_id", "kind", "scope", "required", "actual", "status"} <= set(audit.columns)
    assert "fail" not in set(audit["status"]) and "pass" in set(audit["status"])
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in ("status", "objective", "bound", "gap", "seed", "timings_s", "versions"):
        assert key in manifest
    assert manifest["status"] == "optimal" and manifest["seed"] == 1
    assert len(manifest["scenario"]["scenario_sha256"]) == 64
    assert set(manifest["timings_s"]) == {"inputs", "demand", "travel", "siting", "tables"}
    assert {"pulp", "highspy", "ortools", "python"} <= set(manifest["versions"])
    assert manifest["crs"]["output"] == "EPSG:4326"
    assert manifest["crs"]["metric"] == "EPSG:32651"
    assert manifest["periods"] == [2024]
    assert set(manifest["files"]) == names
    assert manifest["summary"] == [{
        "year": 2024, "stage": "primary", "children": 1300.0, "existing_seats": 450,
        "expanded_seats": 0, "new_sites": 1, "new_seats": 810, "cost_cny": 810000.0,
        "unmet": 100.0}]
    back = read_results_dir(folder)
    assert set(back.tables) == {"demand", "schools", "assignments", "sites", "expansions",
                                "spend", "plan_rules", "exceptions"}
    assert back.tables["assignments"].shape == (3, 6)
    assert list(back.tables["demand"].columns) == [
        "zone_id", "stage", "year", "variant", "children", "migrant", "assigned", "unmet"]
    # one period: spend in 2024 is C1 at 18 classes, one project, no budget of its own
    assert back.tables["spend"].values.tolist()[0][:2] == [2024, 810000.0]
    assert back.tables["expansions"].empty  # S1 gives no max_classes: it cannot grow
    assert back.tables["sites"].set_index("site_id").loc["C1", "option_id"] == "C1_c18"


def test_older_results_directory_without_new_tables(tiny_results: Results,
                                                    tmp_path: Path) -> None:
    folder = tiny_results.to_dir(tmp_path / "out", report=False)
    for name in ("expansions", "spend", "plan_rules", "exceptions"):
        (folder / f"{name}.csv").unlink()
    back = read_results_dir(folder)
    assert set(back.tables) == {"demand", "schools", "assignments", "sites"}


def test_geopackage_layers_and_crs(tiny_results: Results, tmp_path: Path) -> None:
    folder = tiny_results.to_dir(tmp_path / "out", report=False)
    import pyogrio

    layers = {name for name, _ in pyogrio.list_layers(folder / "plan.gpkg")}
    assert layers == {"zones", "schools", "new_sites", "assignments"}  # no boundary in tiny
    for layer in layers:
        frame = gpd.read_file(folder / "plan.gpkg", layer=layer)
        assert frame.crs is not None and frame.crs.to_epsg() == 4326
    lines = gpd.read_file(folder / "plan.gpkg", layer="assignments")
    assert set(lines.geom_type) == {"LineString"} and len(lines) == 3
    new = gpd.read_file(folder / "plan.gpkg", layer="new_sites")
    assert new[["site_id", "option_id", "year", "classes_primary", "cost_cny"]].values.tolist() \
        == [["C1", "C1_c18", 2024, 18, 810_000.0]]


def test_existing_directory_is_not_overwritten(tiny_results: Results, tmp_path: Path) -> None:
    target = tmp_path / "results" / "out"
    target.mkdir(parents=True)
    (target / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError):
        tiny_results.to_dir(target)
    assert (target / "keep.txt").read_text() == "mine"
    tiny_results.to_dir(target, overwrite=True, report=False)
    assert not (target / "keep.txt").exists() and (target / "manifest.json").exists()
    assert [p.name for p in target.parent.iterdir()] == ["out"]


def test_cli_refuses_existing_directory(tiny_scenario: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    result = runner.invoke(app, ["run", str(tiny_scenario), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "--overwrite" in result.output


def test_interrupted_write_leaves_nothing(
    tiny_results: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", interrupt)
    with pytest.raises(KeyboardInterrupt):
        tiny_results.to_dir(tmp_path / "results" / "out")
    assert list((tmp_path / "results").iterdir()) == []


KILL_MIDWAY = """
import os, signal, sys
import geopandas as gpd
original = gpd.GeoDataFrame.to_file
def write_then_die(self, *args, **kwargs):
    original(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
gpd.GeoDataFrame.to_file = write_then_die
from allocator.cli import main
sys.argv = ["allocator", "--quiet", "run", sys.argv[1], "--out", sys.argv[2]]
main()
"""


def test_killed_run_leaves_no_results_directory(tiny_scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "results" / "tiny"
    done = subprocess.run(
        [sys.executable, "-c", KILL_MIDWAY, str(tiny_scenario), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert not out.exists()
    partial = list((tmp_path / "results").iterdir())
    assert len(partial) == 1 and partial[0].name.startswith(".tiny.partial-")
    assert (partial[0] / "demand.csv").exists()  # it really was killed midway


def test_same_scenario_same_files(tiny_scenario: Path, tmp_path: Path) -> None:
    first = run(load_scenario(tiny_scenario)).to_dir(tmp_path / "a", report=False)
    second = run(load_scenario(tiny_scenario)).to_dir(tmp_path / "b", report=False)
    for name in (
        "demand.csv",
        "schools.csv",
        "assignments.csv",
        "sites.csv",
        "expansions.csv",
        "spend.csv",
        "plan_rules.csv",
        "scenario.resolved.yaml",
        "plan.gpkg",
    ):
        assert digest(first / name) == digest(second / name), name
    one, two = (json.loads((p / "manifest.json").read_text()) for p in (first, second))
    assert one["scenario"] == two["scenario"] and one["objective"] == two["objective"]
