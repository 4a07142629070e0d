"""What the browser tests share: paths, the Dafeng run, a loaded page and its records.

The tests drive Debian's ``/usr/bin/chromium`` with playwright (never ``playwright
install``; ``.ci/run`` installs chromium with apt-get). Fixtures are in ``conftest.py``:
``dafeng_run`` (one real ``allocator run`` of the Dafeng scenario per session) and
``browser`` (chromium launched once per session).
"""

from __future__ import annotations

import html as htmllib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest

__all__ = ["ARTIFACTS", "CHROMIUM", "DAFENG", "HOSTILE", "MARKS", "NO_PLAYWRIGHT", "Loaded",
           "launch", "layer_counts", "rename_school", "run_dafeng"]

ROOT = Path(__file__).resolve().parents[2]
DAFENG = ROOT / "scenarios" / "dafeng"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
HOSTILE = "<img src=x onerror=alert(1)>"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        "--disable-dev-shm-usage"]
NO_PLAYWRIGHT = "playwright not installed: pip install -e '.[dev]'"
#: ``pytestmark`` of every browser test module: skipped without chromium or playwright.
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="/usr/bin/chromium missing: apt-get install chromium (.ci/run does)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason=NO_PLAYWRIGHT),
]
_EXTERNAL = ("Array.from(document.querySelectorAll('[src],[href]'))"
             ".map(e => e.getAttribute('src') || e.getAttribute('href'))"
             ".filter(u => /^(https?:)?\\/\\//.test(u))")


def run_dafeng(out: Path) -> Path:
    """``allocator --quiet run`` of the shipped Dafeng scenario into ``out``."""
    command = [str(Path(sys.executable).parent / "allocator"), "--quiet", "run",
               str(DAFENG / "scenario.yaml"), "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def launch(playwright: Any) -> Any:
    """Debian's chromium, headless, without network side channels."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)


def rename_school(folder: Path, school_id: str, name: str) -> dict[str, gpd.GeoDataFrame]:
    """Rename one school in ``plan.gpkg`` and ``schools.csv`` of a results directory.

    Returns the GeoPackage layers as rewritten (EPSG:4326).
    """
    gpkg = folder / "plan.gpkg"
    layers = {str(n): gpd.read_file(gpkg, layer=str(n)) for n, _ in pyogrio.list_layers(gpkg)}
    schools = layers["schools"]
    schools.loc[schools["school_id"].astype(str) == school_id, "name"] = name
    gpkg.unlink()
    for layer_name, layer in layers.items():
        layer.to_file(gpkg, layer=layer_name, driver="GPKG")
    table = pd.read_csv(folder / "schools.csv", dtype={"school_id": str})
    table.loc[table["school_id"] == school_id, "name"] = name
    table.to_csv(folder / "schools.csv", index=False)
    return layers


def layer_counts(page_html: str) -> dict[str, int]:
    """Features per layer in the map payload (``<script id="plan-data">``) of a page.

    A report embeds the map page in ``<iframe srcdoc="...">``; its payload is read from
    there.
    """
    framed = re.search(r'srcdoc="([^"]*)"', page_html)
    inner = htmllib.unescape(framed.group(1)) if framed else page_html
    data = re.search(r'id="plan-data">(.*?)</script>', inner, re.DOTALL)
    assert data is not None
    return {layer["id"]: layer["count"] for layer in json.loads(data.group(1))["layers"]}


class Loaded:
    """A page loaded from ``file://`` and everything it did: console errors, requests,
    dialogs (dismissed). The map lives in ``root`` (the page, or a frame locator) and its
    script runs in ``js`` (the page, or that frame).
    """

    def __init__(self, browser: Any, html: Path, *, height: int) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": height})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", self._dialog)
        self.page.goto(html.as_uri())
        self.root: Any = self.page
        self.js: Any = self.page

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def paths(self) -> int:
        """SVG paths on the map (one per feature drawn)."""
        return int(self.root.locator("#map svg path").count())

    def toggle(self, layer: str) -> None:
        """Click a layer's box in the Leaflet layer control."""
        self.root.locator(f".leaflet-control-layers-overlays label:has("
                          f"span[data-layer='{layer}']) input").click()

    def popup_at(self, lat: float, lon: float) -> Any:
        """Centre the map on (lat, lon) at zoom 15, click there; the popup once shown."""
        point = self.js.evaluate(
            f"(() => {{ planMap.setView([{lat}, {lon}], 15, {{animate: false}});"
            f"  const p = planMap.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()")
        box = self.root.locator("#map").bounding_box()
        self.page.mouse.click(box["x"] + point[0], box["y"] + point[1])
        popup = self.root.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5_000)
        self.js.wait_for_function(  # the popup fades in (CSS transition, 0.2 s)
            "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
        return popup

    def shows_hostile_name(self, lat: float, lon: float, school_id: str) -> None:
        """Only the existing schools on the map; the popup of the school at (lat, lon)
        shows :data:`HOSTILE` as text (no ``<img>``) and ``school_id`` in its first cell.
        """
        for layer in ("counties", "zones", "new_sites", "rotations"):
            self.toggle(layer)
        popup = self.popup_at(lat, lon)
        assert self.root.locator(".plan-popup-title").inner_text() == HOSTILE
        assert popup.locator("img").count() == 0
        assert self.root.locator("img[src='x']").count() == 0
        assert popup.locator("td").all_inner_texts()[0] == school_id

    def external(self, where: Any = None) -> list[str]:
        """``src`` / ``href`` values of a page or frame that point to another host."""
        found: list[str] = (where or self.page).evaluate(_EXTERNAL)
        return found

    def shot(self, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> Path:
        """Screenshot into ``tmp_path``, copied to ``test-artifacts/``."""
        kept = tmp_path / name
        self.page.screenshot(path=str(kept))
        ARTIFACTS.mkdir(exist_ok=True)
        copy = ARTIFACTS / name
        shutil.copyfile(kept, copy)
        with capsys.disabled():
            print(f"\n[browser artifact] {kept}\n[browser artifact] {copy}")
        return kept
