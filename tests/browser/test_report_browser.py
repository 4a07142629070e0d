"""``report.html`` in a real browser (Debian's chromium driven by playwright).

A module fixture copies the session's ``allocator run`` of the Dafeng scenario (which
wrote its own ``report.html``), renames one existing school ``<img src=x onerror=alert(1)>``
in its tables and map layers, and writes ``report.html`` again with
:func:`allocator.report.write_report`. The tests load it from ``file://`` and check: no
console error (page or embedded map), no request other than ``file:``, ``data:`` and the
map's ``about:srcdoc`` frame, the map's layers toggle, the hostile name shows as text in a
map popup and in the report's tables, and no dialog opens. Screenshots are kept under the
pytest tmp dir and copied to ``test-artifacts/``.

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

from allocator.report import write_report
from tests.browser._chromium import (
    ARTIFACTS,
    DAFENG,
    HOSTILE,
    MARKS,
    Loaded,
    layer_counts,
    rename_school,
)

pytestmark = MARKS


@pytest.fixture(scope="module")
def hostile_report(dafeng_run: Path, tmp_path_factory: pytest.TempPathFactory
                   ) -> dict[str, Any]:
    """A copy of the Dafeng run with one existing school renamed HOSTILE, and its report."""
    assert "report.html" in {p.name for p in dafeng_run.iterdir()}  # written by the run
    folder = tmp_path_factory.mktemp("report_browser") / "dafeng"
    shutil.copytree(dafeng_run, folder)
    layers = {n: gpd.read_file(folder / "plan.gpkg", layer=n) for n in ("schools", "new_sites")}
    existing = layers["schools"][layers["schools"]["kind"].astype(str) != "new"]
    # The school farthest from the new sites, so that its marker is easy to click alone.
    crs = existing.estimate_utm_crs()
    sites = layers["new_sites"].to_crs(crs).geometry
    first = existing.drop_duplicates("school_id").to_crs(crs)
    school_id = str(first.loc[first.geometry.apply(lambda p: sites.distance(p).min())
                              .idxmax(), "school_id"])
    rename_school(folder, school_id, HOSTILE)
    table = pd.read_csv(folder / "sites.csv", dtype={"site_id": str})
    site_id = str(table.loc[table["status"] == "opened", "site_id"].iloc[0])
    table.loc[table["site_id"] == site_id, "name"] = HOSTILE  # shown in the new-sites table
    table.to_csv(folder / "sites.csv", index=False)
    report = write_report(folder, scenario_dir=DAFENG)
    point = existing[existing["school_id"].astype(str) == school_id].geometry.iloc[0]
    return {"html": report, "school_id": school_id, "site_id": site_id, "lat": point.y,
            "lon": point.x, "sites": len(layers["new_sites"])}


class Report(Loaded):
    """The report, loaded once its embedded map (``about:srcdoc`` frame) is drawn."""

    def __init__(self, browser: Any, html: Path) -> None:
        super().__init__(browser, html, height=950)
        self.page.locator("#plan-map-frame").scroll_into_view_if_needed()
        self.frame = self.root = self.page.frame_locator("#plan-map-frame")
        self.frame.locator("html[data-map-ready='1']").wait_for(state="attached",
                                                               timeout=20_000)
        self.map = self.js = next(f for f in self.page.frames if f.url == "about:srcdoc")


def _layer_counts(html: Path) -> dict[str, int]:
    return layer_counts(html.read_text(encoding="utf-8"))


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
    assert report.external() == []
    assert report.external(report.map) == []
    report.page.close()


def test_report_written_by_the_run_loads_offline(browser: Any, dafeng_run: Path) -> None:
    """The run's own report.html (Results.to_dir, before the rename) with its maps inlined."""
    html = dafeng_run / "report.html"
    report = Report(browser, html)
    counts = _layer_counts(html)
    assert counts["counties"] == 1 and counts["zones"] == 26
    assert report.paths() == sum(counts.values())
    assert report.page.locator("#png-map").evaluate("img => img.naturalWidth") > 1000
    assert report.errors == [] and report.dialogs == []
    assert all(u.startswith(("file://", "data:", "about:srcdoc")) for u in report.requests)
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
    report.shows_hostile_name(hostile_report["lat"], hostile_report["lon"],
                              hostile_report["school_id"])
    report.shot(tmp_path, "report_popup_hostile.png", capsys)
    row = report.page.locator("#sites-table tr", has_text=hostile_report["site_id"])
    assert row.locator("td").nth(1).inner_text() == HOSTILE
    assert report.page.locator("img[src='x']").count() == 0
    assert report.dialogs == []
    assert report.errors == []
    report.page.close()
