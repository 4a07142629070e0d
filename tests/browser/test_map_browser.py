"""The offline HTML map in a real browser (Debian's chromium driven by playwright).

A session fixture runs ``allocator run`` on the Dafeng scenario, copies the results, renames
one school ``<img src=x onerror=alert(1)>``, adds a rotations table and writes ``map.html``
with :func:`allocator.map_cli.map_command`. The tests load it from ``file://`` and check:
no console errors, no request other than ``file:`` and ``data:``, layers toggle from the
layer control, the hostile name shows as text in its popup with no dialog, Chinese text.
Screenshots are kept under the pytest tmp dir and copied to ``test-artifacts/``.

Skipped when ``/usr/bin/chromium`` or the playwright package is missing (``.ci/run``
installs chromium with apt-get; never ``playwright install``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest

from allocator.map_cli import map_command
from tests.browser._chromium import HOSTILE, MARKS, Loaded, layer_counts, rename_school

pytestmark = MARKS


def _site_ids(sites: gpd.GeoDataFrame) -> pd.Series[str]:
    column = "school_id" if "school_id" in sites.columns else "site_id"
    ids: pd.Series[str] = sites[column].astype(str)
    return ids


def _existing(schools: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return schools[schools["kind"].astype(str) != "new"] if "kind" in schools else schools


def _isolated(schools: gpd.GeoDataFrame, others: list[gpd.GeoDataFrame]) -> str:
    """The existing school farthest from every other mapped point (school_id)."""
    crs = schools.estimate_utm_crs()
    ids = schools["school_id"].astype(str)
    points = pd.concat([layer.to_crs(crs).geometry for layer in others])
    best, gap = "", -1.0
    for school_id in sorted(set(ids)):
        mine = schools[ids == school_id].to_crs(crs).geometry.iloc[0]
        rest = schools[ids != school_id].to_crs(crs).geometry
        nearest = float(min(rest.distance(mine).min(), points.distance(mine).min()))
        if nearest > gap:
            best, gap = school_id, nearest
    return best


@pytest.fixture(scope="session")
def hostile_map(dafeng_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the run with one school renamed HOSTILE and two rotations to and from it
    added to its rotations table; its map.html and the feature counts expected on the map.
    """
    folder = tmp_path_factory.mktemp("hostile") / "dafeng"
    shutil.copytree(dafeng_run, folder)
    read = {n: gpd.read_file(folder / "plan.gpkg", layer=n) for n in ("schools", "new_sites",
                                                                       "zones")}
    school_id = _isolated(_existing(read["schools"]), [read["new_sites"], read["zones"]])
    layers = rename_school(folder, school_id, HOSTILE)
    schools, sites = layers["schools"], layers["new_sites"]
    existing = _existing(schools)
    target = str(_site_ids(sites).iloc[0])
    path = folder / "rotations.csv"
    old = pd.read_csv(path, dtype={"from_school": str, "to_school": str}) if path.exists() \
        else pd.DataFrame(columns=["year", "from_school", "to_school", "count", "kind"])
    added = pd.DataFrame({"year": [2025, 2025], "from_school": [school_id, target],
                          "to_school": [target, school_id], "count": [3, 1],
                          "kind": ["rotation", "rotation"]})
    rotations = pd.concat([old, added], ignore_index=True)
    rotations.to_csv(path, index=False)
    html = map_command(folder, "html")
    # Expected features, counted from the tables: one per (school, stage) and per site, one
    # line per (from, to, kind) whose two schools are on the map.
    mapped = set(existing["school_id"].astype(str)) | set(_site_ids(sites))
    ends = rotations["from_school"].isin(mapped) & rotations["to_school"].isin(mapped)
    point = existing[existing["school_id"].astype(str) == school_id].geometry.iloc[0]
    years = sorted(set(schools["year"])) if "year" in schools else []
    title = "dafeng 学校布局规划图" + (f" ({years[-1]})" if len(years) > 1 else "")
    return {"html": html, "school_id": school_id, "lat": point.y, "lon": point.x,
            "title": title,
            "counts": {"counties": len(layers["counties"]), "zones": len(layers["zones"]),
                       "schools": len(existing.drop_duplicates(["school_id", "stage"])),
                       "new_sites": len(sites),
                       "rotations": len(rotations[ends].drop_duplicates(
                           ["from_school", "to_school", "kind"]))}}


class Page(Loaded):
    """The map page (``map.html``), loaded once the map is drawn."""

    def __init__(self, browser: Any, html: Path) -> None:
        super().__init__(browser, html, height=900)
        self.page.wait_for_selector("html[data-map-ready='1']", timeout=20_000)


def _payload_counts(html: Path) -> dict[str, int]:
    return layer_counts(html.read_text(encoding="utf-8"))


def test_loads_offline_without_errors(browser: Any, hostile_map: dict[str, Any],
                                      tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = Page(browser, hostile_map["html"])
    counts = _payload_counts(hostile_map["html"])
    assert counts == hostile_map["counts"]
    assert counts["counties"] == 1 and counts["zones"] == 26  # Dafeng: 1 boundary, 26 zones
    assert counts["rotations"] >= 2
    # One SVG path per feature: boundary, zones, schools, sites, rotation lines.
    assert page.paths() == sum(counts.values())
    shot = page.shot(tmp_path, "map_overview.png", capsys)
    assert shot.stat().st_size > 50_000
    assert page.errors == []
    assert page.dialogs == []
    assert page.requests and all(u.startswith(("file://", "data:")) for u in page.requests)
    assert page.external() == []
    assert page.page.evaluate("document.characterSet") == "UTF-8"
    assert page.page.locator("#plan-title").inner_text() == hostile_map["title"]
    labels = page.page.locator(".leaflet-control-layers-overlays").inner_text()
    assert f"现有学校 ({counts['schools']})" in labels
    assert f"新建学校 ({counts['new_sites']})" in labels
    page.page.close()


def test_layer_control_toggles_layers(browser: Any, hostile_map: dict[str, Any]) -> None:
    page = Page(browser, hostile_map["html"])
    before = page.paths()
    sites = _payload_counts(hostile_map["html"])["new_sites"]
    page.toggle("new_sites")
    assert page.paths() == before - sites
    page.toggle("schools")
    assert page.paths() == before - sites - hostile_map["counts"]["schools"]
    page.toggle("rotations")
    assert page.paths() == before - sites - hostile_map["counts"]["schools"] - \
        hostile_map["counts"]["rotations"]
    page.toggle("rotations")
    page.toggle("new_sites")
    page.toggle("schools")
    assert page.paths() == before
    assert page.errors == []
    page.page.close()


def test_hostile_name_shows_as_text(browser: Any, hostile_map: dict[str, Any], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    page = Page(browser, hostile_map["html"])
    page.shows_hostile_name(hostile_map["lat"], hostile_map["lon"], hostile_map["school_id"])
    page.shot(tmp_path, "map_popup_hostile.png", capsys)
    # Only the rotation lines remain after switching schools off and rotations on.
    page.toggle("schools")
    page.toggle("rotations")
    assert page.paths() == hostile_map["counts"]["rotations"]
    assert page.dialogs == []
    assert page.errors == []
    page.page.close()
