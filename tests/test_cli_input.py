"""Bad input reaches the planner as exit code 2 with messages that name the place."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from typer.testing import CliRunner

from allocator.cli import app

runner = CliRunner()


def validate(scenario: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["validate", str(scenario), *args])
    return result.exit_code, result.output


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def geojson_zones(folder: Path, geometry: dict[str, object] | None) -> None:
    features = [
        {
            "type": "Feature",
            "geometry": geometry,
            "properties": {"zone_id": "A", "zone_type": "urban_core", "primary": 10},
        }
    ]
    (folder / "zones.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )


def use_zone_layer(folder: Path, name: str) -> None:
    edit(folder / "scenario.yaml", "zones: {path: zones.csv}", f"zones: {{path: {name}}}")


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[120, 33], [120.01, 33.01], [120.01, 33], [120, 33.01], [120, 33]]],
}

Case = Callable[[Path], None]
CASES: dict[str, tuple[Case, list[str]]] = {
    "malformed yaml": (
        lambda d: edit(d / "scenario.yaml", "meta:\n  name: tiny", "meta:\n  name: [tiny"),
        ["scenario.yaml", "malformed YAML"],
    ),
    "unknown key": (
        lambda d: edit(d / "scenario.yaml", "circuity: 1.0", "circuitty: 1.0"),
        ["scenario.yaml line", "travel.circuitty", "did you mean 'circuity'"],
    ),
    "wrong type": (
        lambda d: edit(d / "scenario.yaml", "base_year: 2024", "base_year: next"),
        ["scenario.yaml line", "planning.base_year", "'next'"],
    ),
    "missing data file": (lambda d: (d / "schools.csv").unlink(), ["schools.csv", "not found"]),
    "missing column": (
        lambda d: edit(d / "schools.csv", "classes", "clases"),
        ["schools.csv", "classes", "did you mean 'clases'"],
    ),
    "negative count": (
        lambda d: edit(d / "schools.csv", "primary,10,", "primary,-10,"),
        ["schools.csv", "row 2", "classes", "-10"],
    ),
    "non-numeric count": (
        lambda d: edit(d / "zones.csv", "12000,900", "12000,lots"),
        ["zones.csv", "row 2", "primary", "lots"],
    ),
    "duplicate ids": (
        lambda d: edit(d / "zones.csv", "B,Zone B", "A,Zone B"),
        ["zones.csv", "zone_id", "'A'", "rows 2, 3"],
    ),
    "empty file": (
        lambda d: (d / "candidates.csv").write_text("", encoding="utf-8"),
        ["candidates.csv", "empty"],
    ),
    "invalid geometry": (
        lambda d: (geojson_zones(d, BOWTIE), use_zone_layer(d, "zones.geojson")),
        ["zones.geojson", "feature 1", "Self-intersection"],
    ),
    "empty geometry": (
        lambda d: (geojson_zones(d, None), use_zone_layer(d, "zones.geojson")),
        ["zones.geojson", "feature 1", "geometry"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exits_2_naming_the_place(tiny_dir: Path, case: str) -> None:
    breaker, expected = CASES[case]
    breaker(tiny_dir)
    code, output = validate(tiny_dir / "scenario.yaml")
    assert code == 2, output
    assert "Traceback" not in output
    for fragment in expected:
        assert fragment in output, f"{fragment!r} missing from:\n{output}"


def test_unusable_crs_exits_2(tiny_dir: Path) -> None:
    engineering = (
        'ENGCRS["site grid",EDATUM["local"],CS[Cartesian,2],'
        'AXIS["x",east,LENGTHUNIT["metre",1]],AXIS["y",north,LENGTHUNIT["metre",1]]]'
    )
    frame = gpd.GeoDataFrame(
        {"zone_id": ["A"], "zone_type": ["urban_core"], "primary": [10]},
        geometry=[shapely.Point(100, 200)],
        crs=engineering,
    )
    frame.to_file(tiny_dir / "zones.gpkg", driver="GPKG")
    use_zone_layer(tiny_dir, "zones.gpkg")
    code, output = validate(tiny_dir / "scenario.yaml")
    assert code == 2 and "zones.gpkg" in output and "CRS" in output, output


def test_problems_in_several_files_reported_together(tiny_dir: Path) -> None:
    edit(tiny_dir / "schools.csv", "primary,10,", "primary,-10,")
    edit(tiny_dir / "zones.csv", "B,Zone B", "A,Zone B")
    code, output = validate(tiny_dir / "scenario.yaml")
    assert code == 2 and "schools.csv" in output and "zones.csv" in output


def test_planned_stage_without_standards_is_named(tiny_dir: Path) -> None:
    code, output = validate(tiny_dir / "scenario.yaml", "--set", "planning.stages=[primary,junior]")
    assert code == 2
    assert "standards.class_caps.junior" in output and "standards.travel_limits_m.junior" in output
    assert "zones.csv" in output and "junior" in output


def test_good_input_validates(tiny_scenario: Path) -> None:
    code, output = validate(tiny_scenario)
    assert code == 0 and "3 zones" in output


def test_no_traceback_from_the_real_command(tiny_dir: Path) -> None:
    (tiny_dir / "zones.csv").unlink()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "allocator",
            "run",
            str(tiny_dir / "scenario.yaml"),
            "--out",
            str(tiny_dir / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    assert "zones.csv" in done.stderr
    assert not (tiny_dir / "out").exists()


def test_version_and_schema(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("allocator ")
    result = runner.invoke(app, ["schema", "--output", str(tmp_path / "s.json")])
    assert result.exit_code == 0
    assert "planning" in json.loads((tmp_path / "s.json").read_text())["properties"]
