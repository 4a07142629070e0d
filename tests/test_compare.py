"""``allocator compare``: KPIs and the site diff, checked by hand on tiny results directories.

:func:`make_run` writes a results directory by hand (no solve): two existing schools, three
new ones, four assignments, staffing of three schools in two regions, five audit rows. The
expected numbers are worked out in the comments next to each assertion.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
import yaml
from typer.testing import CliRunner

from allocator.compare import (
    Comparison,
    backbone_gap,
    compare_runs,
    haversine_km,
    over_cap,
    site_diff,
    weighted_quantile,
)
from allocator.compare_cli import compare_command
from allocator.report_compare import write_comparison

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = "<img src=x onerror=alert(1)>"

SCHOOLS = [  # school_id, name, kind, stage, year, classes, class_cap, enrolled, cost_cny
    ("S1", "Existing primary", "existing", "primary", 2025, 10, 45, 460.0, 0.0),
    ("S1", "Existing primary", "existing", "primary", 2030, 10, 45, 450.0, 0.0),
    ("S2", HOSTILE, "existing", "junior", 2025, 4, 50, 301.0, 0.0),
    ("S2", HOSTILE, "existing", "junior", 2030, 4, 50, 150.0, 0.0),
    ("N1", "New primary", "new", "primary", 2025, 12, 45, 500.0, 1e8),
    ("N1", "New primary", "new", "primary", 2030, 12, 45, 520.0, 0.0),
    ("N2", "New junior", "new", "junior", 2030, 6, 50, 280.0, 3e7),
    ("N3", "New nine-year", "new", "primary", 2030, 6, 45, 200.0, 1.5e7),
    ("N3", "New nine-year", "new", "junior", 2030, 3, 50, 100.0, 5.5e6),
]
LONLAT = {"S1": (120.01, 33.01), "S2": (120.02, 33.02), "N1": (120.03, 33.0),
          "N2": (120.04, 33.03), "N3": (120.0, 33.0)}
ASSIGNMENTS = [  # zone, school, stage, year, children, distance_m
    ("Z1", "S1", "primary", 2025, 50.0, 1000.0),
    ("Z2", "S1", "primary", 2025, 40.0, 2000.0),
    ("Z3", "N1", "primary", 2030, 10.0, 3000.0),
    ("Z1", "S2", "junior", 2025, 100.0, 500.0),
    ("Z2", "S2", "junior", 2030, 0.0, 9000.0),  # no children: no weight
]
SITES_A = [  # site_id, stage, option_id, year, classes, primary, junior, lon, lat
    ("N1", "primary", "N1_c12", 2025, 12, 12, None, 120.03, 33.0),
    ("N2", "junior", "N2_c6", 2030, 6, None, 6, 120.04, 33.03),
    ("N3", "nine_year", "N3_c9", 2030, 9, 6, 3, 120.0, 33.0),
    ("N8", "junior", "N8_c6", 2025, 6, None, 6, 120.05, 33.05),
]
SITES_B = [
    ("N1", "primary", "N1_c18", 2025, 18, 18, None, 120.03, 33.0),  # resized
    ("N2", "junior", "N2_c6", 2025, 6, None, 6, 120.04, 33.03),  # moved 2030 -> 2025
    ("N5", "nine_year", "N5_c9", 2030, 9, 6, 3, 120.0, 33.009),  # added, 1.0 km from N3
    ("N7", "primary", "N7_c12", 2030, 12, 12, None, 121.0, 33.0),  # added, far away
    ("N8", "junior", "N8_c12", 2030, 12, None, 12, 120.05, 33.05),  # moved and resized
    ("N9", "junior", "N9_c6", 2030, 6, None, 6, 120.0, 33.005),  # added, other stage
]


def _sites(rows: list[tuple[Any, ...]], not_opened: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["site_id", "stage", "option_id", "year", "classes",
                                        "classes_primary", "classes_junior", "lon", "lat"])
    frame["name"] = [HOSTILE if s == "N1" else f"Site {s}" for s in frame["site_id"]]
    frame["county"] = "C1"
    frame["status"] = "opened"
    frame["reason"] = ""
    frame["seats"] = frame["classes"] * 45
    frame["cost_cny"] = frame["classes"] * 1e7
    extra = pd.DataFrame({"site_id": list(not_opened), "name": "unused", "county": "C1",
                          "stage": "primary", "status": "not_opened", "reason": "",
                          "lon": 120.5, "lat": 33.5})
    frame = pd.concat([frame, extra], ignore_index=True) if not_opened else frame
    return frame[["site_id", "name", "county", "stage", "status", "reason", "option_id",
                  "year", "classes", "classes_primary", "classes_junior", "seats", "cost_cny",
                  "lon", "lat"]]


def make_run(folder: Path, *, sites: list[tuple[Any, ...]] | None = None, lang: str = "en",
             readme: str | None = None) -> Path:
    """A hand-made results directory (tables only; no plan.gpkg)."""
    folder.mkdir(parents=True)
    schools = pd.DataFrame(SCHOOLS, columns=["school_id", "name", "kind", "stage", "year",
                                             "classes", "class_cap", "enrolled", "cost_cny"])
    schools["county"] = "C1"
    schools["ownership"] = "public"
    schools["seats"] = schools["classes"] * schools["class_cap"]
    schools["spare_seats"] = schools["seats"] - schools["enrolled"]
    schools["utilisation"] = (schools["enrolled"] / schools["seats"]).round(4)
    schools["lon"] = schools["school_id"].map(lambda s: LONLAT[s][0])
    schools["lat"] = schools["school_id"].map(lambda s: LONLAT[s][1])
    schools.to_csv(folder / "schools.csv", index=False)
    pd.DataFrame(ASSIGNMENTS, columns=["zone_id", "school_id", "stage", "year", "children",
                                       "distance_m"]).to_csv(folder / "assignments.csv",
                                                             index=False)
    pd.DataFrame({"zone_id": ["Z1", "Z2", "Z1", "Z1"],
                  "stage": ["primary", "primary", "junior", "primary"],
                  "year": [2025, 2025, 2025, 2026], "variant": "central",
                  "children": [55.5, 44.5, 100.0, 60.0], "migrant": 0.0,
                  "assigned": [50.0, 40.0, 100.0, None],
                  "unmet": [5.5, 4.5, 0.0, None]}).to_csv(folder / "demand.csv", index=False)
    pd.DataFrame({"year": [2025, 2030], "capital_cny": [1e8, 5.05e7], "budget_cny": None,
                  "projects": [2, 1]}).to_csv(folder / "spend.csv", index=False)
    pd.DataFrame({"school_id": ["S1", "S2"], "name": ["a", "b"], "stage": ["primary", "junior"],
                  "year": [2025, 2030], "modules": 1, "classes_added": [2, 1],
                  "seats_added": [90, 50], "cost_cny": 1e6}).to_csv(folder / "expansions.csv",
                                                                    index=False)
    _sites(sites if sites is not None else SITES_A, ("N6",)).to_csv(folder / "sites.csv",
                                                                    index=False)
    pd.DataFrame({"year": [2025, 2025, 2026], "teacher_id": ["T1", "T2", "T3"],
                  "count": [2, 3, 1], "from_school": ["S1", "S1", "S2"],
                  "from_county": ["C1", "C1", "C2"], "to_school": ["S1", "S2", "S1"],
                  "to_county": ["C1", "C2", "C1"],
                  "kind": ["rotation", "rotation", "transfer"]}).to_csv(
        folder / "rotations.csv", index=False)
    pd.DataFrame({  # 2026 is the last year: east 8 of 80 backbone (10 %), west 2 of 40 (5 %)
        "school": ["E1", "E2", "W1", "E1", "E2", "W1"],
        "year": [2025, 2025, 2025, 2026, 2026, 2026],
        "teachers_after": [50, 30, 40, 50, 30, 40],
        "backbone_per100_after": [0.5, 0.5, 1.0, 0.5, 0.6, 0.25],
        "pupils": [1000, 500, 800, 1000, 500, 800],
        "county": ["C1", "C1", "C2", "C1", "C1", "C2"], "stage": "primary",
        "region": ["east", "east", "west", "east", "east", "west"]}).to_csv(
        folder / "staffing.csv", index=False)
    pd.DataFrame({"rule_id": ["D-13", "D-06", "J-10", "J-10", "N-01"],
                  "kind": ["HARD", "TARGET", "HARD", "HARD", "TARGET"],
                  "document": "doc", "clause": ["三(一)1", "三(一)1", "二(二)6", "二(二)6", "x"],
                  "scope": "", "sense": "", "required": "", "actual": "",
                  "status": ["pass", "fail", "fail", "pass", "not applicable"],
                  "message": ["ok", "1 new primary school < 2", f"{HOSTILE} moved west to east",
                              "ok", "not set"]}).to_csv(folder / "audit.csv", index=False)
    manifest = {"tool": "allocator",
                "scenario": {"name": "toy", "overrides": ["tight"], "set": []},
                "status": "optimal", "objective": 123.5, "bound": 123.0, "gap": 0.004,
                "periods": [2025, 2030], "notes": ["a note with <b>tags</b>"],
                "solver": {"backend": "highs", "version": "1.12.0", "seconds": 0.5},
                "summary": [{"year": 2025, "stage": "primary", "children": 100.0,
                             "existing_seats": 450, "expanded_seats": 90, "new_sites": 1,
                             "new_seats": 540, "cost_cny": 1e8, "unmet": 10.0}]}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    resolved = {"meta": {"name": "toy", "language": lang, "description": "A toy plan."}}
    (folder / "scenario.resolved.yaml").write_text(yaml.safe_dump(resolved), encoding="utf-8")
    if readme is not None:
        (folder / "README.md").write_text(readme, encoding="utf-8")
    return folder


@pytest.fixture
def pair(tmp_path: Path) -> Comparison:
    return compare_runs([make_run(tmp_path / "a"), make_run(tmp_path / "b", sites=SITES_B)])


def _kpi(cmp: Comparison, kpi: str, scope: str = "", year: int | None = None,
         run: str = "a") -> Any:
    rows = cmp.kpis[(cmp.kpis["kpi"] == kpi) & (cmp.kpis["scope"] == scope)]
    rows = rows[rows["year"].isna()] if year is None else rows[rows["year"] == year]
    assert len(rows) == 1, (kpi, scope, year)
    return rows[run].iloc[0]


def test_weighted_quantile_by_hand() -> None:
    assert weighted_quantile([1, 2, 3], [50, 40, 10], 0.9) == 2  # 50 + 40 = 90 % by 2
    assert weighted_quantile([1, 2, 3], [50, 40, 10], 0.95) == 3
    assert weighted_quantile([3, 1, 2], [10, 50, 40], 0.5) == 1  # 50 % already at 1
    assert weighted_quantile([5, 7], [0, 1], 0.1) == 7  # zero weight ignored
    assert math.isnan(weighted_quantile([1.0], [0.0], 0.5))


def test_travel_mean_and_p95(pair: Comparison) -> None:
    # All: 50·1000 + 40·2000 + 10·3000 + 100·500 = 210,000 child-m over 200 children.
    assert _kpi(pair, "travel_mean_km", "all") == pytest.approx(1.05)
    # Sorted 500 (100), 1000 (50), 2000 (40), 3000 (10): 190 of 200 = 95 % reached at 2000.
    assert _kpi(pair, "travel_p95_km", "all") == pytest.approx(2.0)
    assert _kpi(pair, "travel_mean_km", "primary") == pytest.approx(1.6)  # 160,000 / 100
    assert _kpi(pair, "travel_p95_km", "primary") == pytest.approx(3.0)  # 90 < 95 <= 100
    assert _kpi(pair, "travel_mean_km", "junior") == pytest.approx(0.5)  # 9 km row: 0 kids


def test_classes_over_cap(pair: Comparison) -> None:
    # S1 2025: 460 > 10 x 45 -> ceil(460/45) = 11 classes, 1 missing; S1 2030 has 450 = cap.
    # S2 2025: 301 > 4 x 50 -> ceil(301/50) = 7 classes, 3 missing.
    assert _kpi(pair, "over_cap_schools") == 2
    assert _kpi(pair, "over_cap_classes") == 4
    frame = pd.DataFrame({"enrolled": [450.0004, 451.0, None], "class_cap": [45, 45, 45],
                          "classes": [10, 10, 10]})
    assert over_cap(frame) == (1, 1)  # solver noise below 1e-3 child is not over


def test_new_schools_seats_cost_unmet(pair: Comparison) -> None:
    # N1 opens 2025 (its 2030 row is the same school); N3 is nine-year: once per stage.
    assert _kpi(pair, "new_schools", "primary", 2025) == 1
    assert _kpi(pair, "new_schools", "primary", 2030) == 1
    assert _kpi(pair, "new_schools", "junior", 2030) == 2
    assert _kpi(pair, "new_seats", "primary", 2025) == 540
    assert _kpi(pair, "new_seats", "primary", 2030) == 270
    assert _kpi(pair, "new_seats", "junior", 2030) == 450  # 300 + 150
    assert _kpi(pair, "new_schools_total") == 3
    assert _kpi(pair, "new_seats_total") == 1260
    assert _kpi(pair, "expansion_seats") == 140
    assert _kpi(pair, "capital_cost") == pytest.approx(150.5)  # (1e8 + 5.05e7) / 1e6
    assert _kpi(pair, "unmet", "primary", 2025) == pytest.approx(10.0)  # 5.5 + 4.5
    assert _kpi(pair, "unmet", "junior", 2025) == 0
    assert _kpi(pair, "unmet_total") == pytest.approx(10.0)  # 2026 row is not planned


def test_teacher_kpis(pair: Comparison) -> None:
    assert _kpi(pair, "moves", "rotation") == 5
    assert _kpi(pair, "moves", "transfer") == 1
    # 2026: east (5 + 3) / 80 = 10 %, west 2 / 40 = 5 % -> 5 points.
    assert _kpi(pair, "backbone_gap_pp", "east_minus_west") == pytest.approx(5.0)
    # C1 2026: 0.5 (1000 pupils), 0.6 (500): mean 8/15, CV = sqrt(1/450) / (8/15) = 0.0884;
    # C1 2025 has CV 0; C2 has one school (no CV).
    assert _kpi(pair, "cv_max", "primary/backbone_per100") == pytest.approx(0.0884)


def test_backbone_gap_needs_two_regions() -> None:
    one = pd.DataFrame({"region": ["320904", "320904"], "year": 2025, "pupils": 100,
                        "teachers_after": 10, "backbone_per100_after": 1.0})
    assert math.isnan(backbone_gap(one)[2])
    three = pd.DataFrame({"region": ["a", "b", "c"], "year": 2025, "pupils": 100,
                          "teachers_after": 10, "backbone_per100_after": [1.0, 2.0, 4.0]})
    scope, year, gap = backbone_gap(three)
    assert (scope, year) == ("max_minus_min", 2025)
    assert gap == pytest.approx(30.0)  # 40 % - 10 %


def test_audit_failures(pair: Comparison) -> None:
    assert _kpi(pair, "audit_fail", "all") == 2
    assert _kpi(pair, "audit_fail", "HARD") == 1
    assert _kpi(pair, "audit_fail", "TARGET") == 1
    assert _kpi(pair, "failed_rules") == "D-06, J-10"


def test_site_diff_categories(pair: Comparison) -> None:
    diff = pair.site_diff.set_index("site_id")
    assert dict(diff["change"]) == {"N5": "added", "N7": "added", "N9": "added",
                                    "N3": "removed", "N2": "moved", "N1": "resized",
                                    "N8": "moved+resized"}
    assert list(pair.site_diff["site_id"]) == ["N5", "N7", "N9", "N3", "N2", "N1", "N8"]
    assert (diff.at["N2", "year_a"], diff.at["N2", "year_b"]) == (2030, 2025)
    assert (diff.at["N1", "option_a"], diff.at["N1", "option_b"]) == ("N1_c12", "N1_c18")
    # N5 (nine-year) is 0.009° of latitude north of N3: 0.009 · π/180 · 6371.0088 = 1.001 km.
    assert diff.at["N5", "partner"] == "N3" and diff.at["N3", "partner"] == "N5"
    assert diff.at["N5", "partner_km"] == pytest.approx(1.001, abs=1e-3)
    assert diff.at["N9", "partner"] == ""  # closer (0.56 km) but another stage
    assert diff.at["N7", "partner"] == ""
    assert _kpi(pair, "sites_added", run="b") == 3
    assert _kpi(pair, "sites_removed", run="b") == 1
    assert _kpi(pair, "sites_resized", run="b") == 2  # N1, N8
    assert _kpi(pair, "sites_moved", run="b") == 2  # N2, N8
    assert math.isnan(_kpi(pair, "sites_added", run="a"))


def test_site_diff_radius_and_identity() -> None:
    a, b = _sites(SITES_A), _sites(SITES_B)
    assert site_diff(a, a).empty
    near = site_diff(a, b, move_km=0.5).set_index("site_id")
    assert near.at["N5", "partner"] == ""  # 1.0 km > 0.5 km
    assert haversine_km(120.0, 33.0, 120.0, 33.009) == pytest.approx(1.0008, abs=1e-4)


def test_labels_status_and_missing_tables(tmp_path: Path) -> None:
    run = make_run(tmp_path / "x" / "same")
    other = make_run(tmp_path / "y" / "same")
    (other / "staffing.csv").unlink()
    (other / "audit.csv").unlink()
    cmp = compare_runs([run, other])
    assert cmp.runs == ("A: same", "B: same")
    assert _kpi(cmp, "status", run="A: same") == "optimal"
    assert math.isnan(_kpi(cmp, "backbone_gap_pp", "east_minus_west", run="B: same"))
    assert math.isnan(_kpi(cmp, "audit_fail", "all", run="B: same"))
    assert cmp.site_diff.empty
    with pytest.raises(FileNotFoundError, match=r"no manifest\.json"):
        compare_runs([run, tmp_path])


def test_outputs_csv_html_and_cli(tmp_path: Path, pair: Comparison) -> None:
    written = write_comparison(pair, tmp_path / "out", lang="en", maps=False)
    kpis = pd.read_csv(written["kpis"])
    assert list(kpis.columns) == ["section", "kpi", "scope", "year", "unit", "a", "b"]
    assert len(kpis) == len(pair.kpis)
    diff = pd.read_csv(written["site_diff"], keep_default_na=False)
    assert list(diff["change"]) == ["added"] * 3 + ["removed", "moved", "resized",
                                                    "moved+resized"]
    page = written["html"].read_text(encoding="utf-8")
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'id="site-diff"' in page and 'id="kpi-table"' in page
    again = write_comparison(pair, tmp_path / "out2", lang="en", maps=False)
    assert again["html"].read_bytes() == page.encode("utf-8")

    app = typer.Typer(add_completion=False)
    app.command("compare")(compare_command)
    app.callback()(lambda: None)
    runner = CliRunner()
    done = runner.invoke(app, ["compare", str(pair.paths[0]), str(pair.paths[1]),
                               "--out", str(tmp_path / "cli"), "--no-maps", "--lang", "en"],
                         env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "Classes over cap" in done.output and "moved and resized" in done.output
    assert (tmp_path / "cli" / "compare.html").is_file()
    bad = runner.invoke(app, ["compare", str(tmp_path)])
    assert bad.exit_code == 2


@pytest.mark.slow
def test_real_run_agrees_with_manifest(tmp_path: Path) -> None:
    """On a real Dafeng run the KPIs agree with the manifest's own summary numbers."""
    out = tmp_path / "dafeng"
    command = [str(Path(sys.executable).parent / "allocator"), "--quiet", "run",
               str(ROOT / "scenarios" / "dafeng" / "scenario.yaml"), "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    cmp = compare_runs([out])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    terms = manifest["objective_terms"]
    label = cmp.runs[0]
    assert _kpi(cmp, "capital_cost", run=label) == pytest.approx(
        terms["capital_cost_cny"] / 1e6, abs=1e-3)
    assert _kpi(cmp, "unmet_total", run=label) == pytest.approx(terms["unmet_children"],
                                                                abs=0.01)
    children = pd.read_csv(out / "assignments.csv")["children"].sum()
    assert _kpi(cmp, "travel_mean_km", "all", run=label) * 1000 * children == pytest.approx(
        terms["travel_child_m"], rel=1e-3)
    for row in manifest["summary"]:  # new sites opened by that year, cumulated
        opened = cmp.kpis[(cmp.kpis["kpi"] == "new_schools") &
                          (cmp.kpis["scope"] == row["stage"]) & (cmp.kpis["year"] <= row["year"])]
        assert opened[label].sum() == row["new_sites"]
    for cv in manifest["rotation"]["cv"]:
        assert _kpi(cmp, "cv_max", f"{cv['stage']}/{cv['indicator']}", run=label) == \
            pytest.approx(cv["max_cv_after"], abs=2e-4)


def test_maps_side_by_side_and_layers(tmp_path: Path, pair: Comparison) -> None:
    written = write_comparison(pair, tmp_path / "maps", lang="zh")
    for key in ("png_1", "png_2"):
        assert written[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = written["html"].read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 2
    assert 'id="compare-map-frame"' in page and "<img src=x" not in page
    text = written["map_html"].read_text(encoding="utf-8")
    data = json.loads(text.split('id="plan-data">', 1)[1].split("</script>", 1)[0])
    layers = {layer["id"]: layer for layer in data["layers"]}
    # No plan.gpkg: new schools come from schools.csv, one point per school and stage
    # (N1 primary, N2 junior, N3 primary and junior), in each run.
    assert [layers[f"new_sites_{i}"]["count"] for i in (0, 1)] == [4, 4]
    assert layers["new_sites_0"]["name"] == "新建学校 – a"
    edges = {f["s"]["color"] for f in layers["new_sites_1"]["features"]}
    assert edges == {"#D55E00"}
    assert all(f["p"]["rows"][0] == ["方案", "b"] for f in layers["new_sites_1"]["features"])
