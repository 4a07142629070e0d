"""``report.html`` in a real browser (Debian's chromium driven by playwright).

A module fixture runs ``allocator run`` on the Dafeng scenario, renames one existing school
``<img src=x onerror=alert(1)>`` in its tables and map layers, and writes ``report.html``
with :func:`allocator.report.write_report`. The tests load it from ``file://`` and check: no
console error (page or embedded map), no request other than ``file:``, ``data:`` and the
map's ``about:srcdoc`` frame, the map's layers toggle, the hostile name shows as text in a
map popup and in the report's tables, and no dialog opens. Screenshots are kept under the
pytest tmp dir and copied to ``test-artifacts/``.

Skipped when ``/usr/bin/chromium`` or the playwright package is missing (``.ci/run``
installs chromium with apt-get; never ``playwright install``).
"""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

from allocator.report import write_report

ROOT = Path(__file__).resolve().parents[2]
DAFENG = ROOT / "scenarios" / "dafeng"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
HOSTILE = "<img src=x onerror=alert(1)>"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        "--disable-dev-shm-usage"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="/usr/bin/chromium missing: apt-get install chromium (.ci/run does)"),
]
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright not installed: pip install -e '.[dev]'")


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A Dafeng run with one existing school renamed HOSTILE, and its report.html."""
    folder = tmp_path_factory.mktemp("report_browser") / "dafeng"
    command = [str(Path(sys.executable).parent / "allocator"), "--quiet", "run",
               str(DAFENG / "scenario.yaml"), "--out", str(folder)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    gpkg = folder / "plan.gpkg"
    layers = {str(n): gpd.read_file(gpkg, layer=str(n)) for n, _ in pyogrio.list_layers(gpkg)}
    schools = layers["schools"]
    existing = schools[schools["kind"].astype(str) != "new"]
    # The school farthest from the new sites, so that its marker is easy to click alone.
    crs = existing.estimate_utm_crs()
    sites = layers["new_sites"].to_crs(crs).geometry
    first = existing.drop_duplicates("school_id").to_crs(crs)
    school_id = str(first.loc[first.geometry.apply(lambda p: sites.distance(p).min())
                              .idxmax(), "school_id"])
    schools.loc[schools["school_id"].astype(str) == school_id, "name"] = HOSTILE
    gpkg.unlink()
    for name, layer in layers.items():
        layer.to_file(gpkg, layer=name, driver="GPKG")
    table = pd.read_csv(folder / "schools.csv", dtype={"school_id": str})
    table.loc[table["school_id"] == school_id, "name"] = HOSTILE
    table.to_csv(folder / "schools.csv", index=False)
    sites = pd.read_csv(folder / "sites.csv", dtype={"site_id": str})
    site_id = str(sites.loc[sites["status"] == "opened", "site_id"].iloc[0])
    sites.loc[sites["site_id"] == site_id, "name"] = HOSTILE  # shown in the new-sites table
    sites.to_csv(folder / "sites.csv", index=False)
    report = write_report(folder, scenario_dir=DAFENG)
    point = existing[existing["school_id"].astype(str) == school_id].geometry.iloc[0]
    return {"html": report, "school_id": school_id, "site_id": site_id, "lat": point.y,
            "lon": point.x, "sites": len(layers["new_sites"])}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


class Report:
    """A loaded report and everything it did: console errors, requests, dialogs."""

    def __init__(self, browser: Any, html: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 950})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", self._dialog)
        self.page.goto(html.as_uri())
        self.page.locator("#plan-map-frame").scroll_into_view_if_needed()
        self.frame = self.page.frame_locator("#plan-map-frame")
        self.frame.locator("html[data-map-ready='1']").wait_for(state="attached",
                                                               timeout=20_000)
        self.map = next(f for f in self.page.frames if f.url == "about:srcdoc")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def paths(self) -> int:
        return int(self.frame.locator("#map svg path").count())

    def toggle(self, layer: str) -> None:
        self.frame.locator(f".leaflet-control-layers-overlays label:has("
                           f"span[data-layer='{layer}']) input").click()

    def shot(self, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> Path:
        kept = tmp_path / name
        self.page.screenshot(path=str(kept))
        ARTIFACTS.mkdir(exist_ok=True)
        copy = ARTIFACTS / name
        shutil.copyfile(kept, copy)
        with capsys.disabled():
            print(f"\n[browser artifact] {kept}\n[browser artifact] {copy}")
        return kept


def _layer_counts(html: Path) -> dict[str, int]:
    page = html.read_text(encoding="utf-8")
    inner = htmllib.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    data = re.search(r'id="plan-data">(.*?)</script>', inner, re.DOTALL)
    assert data is not None
    return {layer["id"]: layer["count"] for layer in json.loads(data.group(1))["layers"]}


def test_report_loads_offline_without_errors(browser: Any, hostile_report: dict[str, Any],
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    report = Report(browser, hostile_report["html"])
    counts = _layer_counts(hostile_report["html"])
    assert counts["counties"] == 1 and counts["zones"] == 26  # Dafeng: 1 boundary, 26 zones
    assert counts["new_sites"] == hostile_report["sites"]
    assert report.paths() == sum(counts.values())  # one SVG path per feature
    assert report.page.locator("#title").inner_text().startswith("dafeng — ")
    assert report.page.evaluate("document.characterSet") == "UTF-8"
    for ident in ("summary", "maps", "kpis", "audit", "flows", "notes"):
        assert report.page.locator(f"#{ident}").is_visible()
    png = report.page.locator("#png-map")
    assert png.evaluate("img => img.complete && img.naturalWidth") > 1000
    assert report.page.locator("#flows-chart rect.bar").count() >= 1
    assert "SYNTHETIC" in report.page.locator("#readme-notes").inner_text()
    report.shot(tmp_path, "report_map.png", capsys)
    report.page.screenshot(path=str(tmp_path / "report_full.png"), full_page=True)
    shutil.copyfile(tmp_path / "report_full.png", ARTIFACTS / "report_full.png")
    assert report.errors == []
    assert report.dialogs == []
    assert report.requests
    assert all(u.startswith(("file://", "data:", "about:srcdoc")) for u in report.requests), \
        report.requests
    external = report.page.evaluate(
        "Array.from(document.querySelectorAll('[src],[href]'))"
        ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
        ".filter(u => /^(https?:)?\\/\\//.test(u))")
    assert external == []
    assert report.map.evaluate(
        "Array.from(document.querySelectorAll('[src],[href]'))"
        ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
        ".filter(u => /^(https?:)?\\/\\//.test(u)).length") == 0
    report.page.close()


def test_map_layers_toggle(browser: Any, hostile_report: dict[str, Any]) -> None:
    report = Report(browser, hostile_report["html"])
    counts = _layer_counts(hostile_report["html"])
    before = report.paths()
    report.toggle("new_sites")
    assert report.paths() == before - counts["new_sites"]
    report.toggle("zones")
    assert report.paths() == before - counts["new_sites"] - counts["zones"]
    report.toggle("zones")
    report.toggle("new_sites")
    assert report.paths() == before
    assert report.errors == []
    report.page.close()


def test_hostile_name_shows_as_text(browser: Any, hostile_report: dict[str, Any],
                                    tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = Report(browser, hostile_report["html"])
    for layer in ("counties", "zones", "new_sites", "rotations"):
        report.toggle(layer)  # only the existing schools stay on the map
    lat, lon = hostile_report["lat"], hostile_report["lon"]
    point = report.map.evaluate(
        f"(() => {{ planMap.setView([{lat}, {lon}], 15, {{animate: false}});"
        f"  const p = planMap.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
    box = report.frame.locator("#map").bounding_box()
    report.page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    popup = report.frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    report.map.wait_for_function(  # the popup fades in (CSS transition, 0.2 s)
        "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    assert report.frame.locator(".plan-popup-title").inner_text() == HOSTILE
    assert popup.locator("img").count() == 0
    assert report.frame.locator("img[src='x']").count() == 0
    assert popup.locator("td").all_inner_texts()[0] == hostile_report["school_id"]
    report.shot(tmp_path, "report_popup_hostile.png", capsys)
    row = report.page.locator("#sites-table tr", has_text=hostile_report["site_id"])
    assert row.locator("td").nth(1).inner_text() == HOSTILE
    assert report.page.locator("img[src='x']").count() == 0
    assert report.dialogs == []
    assert report.errors == []
    report.page.close()
