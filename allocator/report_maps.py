"""Maps for the report and the comparison, as bytes and page text to embed.

The PNG is :func:`gis.maps.plan_map_png` drawn into a temporary directory and read back;
the HTML map is the page of :func:`gis.leaflet.render_html` (Leaflet inlined, offline).
Both show the last plan year, read with :func:`allocator.map_cli.read_plan_layers`. The
comparison map has run A's counties, zones and existing schools and one layer of new
sites per run, each run with its own marker edge colour.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from allocator.map_cli import PlanLayers
from allocator.report_text import text
from gis.leaflet import build_payload, render_html
from gis.leaflet_js import PAGE_JS
from gis.map_style import label

__all__ = ["RUN_EDGES", "compare_map_page", "framed", "map_heading", "map_page",
           "png_map_bytes"]

#: Marker edge colour of each run's new sites on the comparison map (Okabe-Ito).
RUN_EDGES: Final = ("#000000", "#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00")


def framed(page_html: str) -> str:
    """The map page, changed to start its script only once its window has a size.

    Inside an ``<iframe srcdoc>`` the page script may run before the map element is laid
    out (Chromium defers the layout of off-screen cross-origin frames); Leaflet then fits
    the bounds into a 0 x 0 box and fails (``Invalid LatLng object: (NaN, NaN)``). The
    script is wrapped to run once the ``#map`` element has a size: at once, else on a
    ``resize`` event or a retry every 100 ms.
    """
    original = f"<script>{PAGE_JS}</script>"
    if original not in page_html:
        raise ValueError("the map page does not hold gis.leaflet_js.PAGE_JS as expected")
    wrapped = ("<script>(function () {\n  var started = false;\n  function start() {\n"
               "    var box = document.getElementById(\"map\");\n"
               "    if (started) { return; }\n"
               "    if (!(box && box.clientWidth > 0 && box.clientHeight > 0)) "
               "{ window.setTimeout(start, 100); return; }\n    started = true;\n"
               f"{PAGE_JS}\n  }}\n  window.addEventListener(\"resize\", start);\n"
               "  start();\n})();</script>")
    return page_html.replace(original, wrapped)


def map_heading(plan: PlanLayers, lang: str) -> str:
    """The map title: scenario name, "school plan" and the year mapped."""
    heading = f"{plan.name} {label('title_suffix', lang)}"
    return heading + (f" ({plan.year})" if plan.year is not None else "")


def png_map_bytes(plan: PlanLayers, lang: str, *, dpi: int = 110) -> bytes:
    """The printable A4 map of a plan as PNG bytes (identical for the same input)."""
    from gis.maps import plan_map_png

    layers = plan.layers
    with tempfile.TemporaryDirectory(prefix="allocator-map-") as folder:
        path = Path(folder) / "map.png"
        plan_map_png(counties=layers.get("counties"), zones=layers.get("zones"),
                     schools=layers.get("schools"), new_sites=layers.get("new_sites"),
                     title=map_heading(plan, lang), out_path=path, lang=lang, dpi=dpi)
        return path.read_bytes()


def map_payload(plan: PlanLayers, lang: str, *, title: str | None = None) -> dict[str, Any]:
    """The Leaflet payload of one plan (see :func:`gis.leaflet.build_payload`)."""
    layers = plan.layers
    return build_payload(counties=layers.get("counties"), zones=layers.get("zones"),
                         schools=layers.get("schools"), new_sites=layers.get("new_sites"),
                         rotations=plan.rotations, title=title or map_heading(plan, lang),
                         lang=lang)


def map_page(plan: PlanLayers, lang: str) -> str:
    """The offline HTML map page of one plan, ready for an ``<iframe srcdoc>``."""
    return framed(render_html(map_payload(plan, lang)))


def compare_map_page(plans: Sequence[PlanLayers], runs: Sequence[str], lang: str,
                     title: str) -> str:
    """One offline map with run A's context layers and a new-sites layer per run.

    Layer ids are ``new_sites_0``, ``new_sites_1``, ... in run order, named
    "<new schools> – <run>"; the sites of run ``i`` have edge colour ``RUN_EDGES[i]`` and a
    radius larger by ``2 (n - 1 - i)`` pixels so that a site opened by several runs shows
    every ring.
    """
    first = plans[0].layers
    payload = build_payload(counties=first.get("counties"), zones=first.get("zones"),
                            schools=first.get("schools"), title=title, lang=lang)
    items = payload["legend"]["items"]
    bounds = payload["bounds"]
    for i, (plan, run) in enumerate(zip(plans, runs, strict=True)):
        sites = plan.layers.get("new_sites")
        if sites is None or len(sites) == 0:
            features: list[dict[str, Any]] = []
        else:
            part = build_payload(new_sites=sites, title=title, lang=lang)
            features = copy.deepcopy(part["layers"][0]["features"])
            bounds = [[min(bounds[0][0], part["bounds"][0][0]),
                       min(bounds[0][1], part["bounds"][0][1])],
                      [max(bounds[1][0], part["bounds"][1][0]),
                       max(bounds[1][1], part["bounds"][1][1])]]
        edge = RUN_EDGES[i % len(RUN_EDGES)]
        for feature in features:
            feature["s"]["color"] = edge
            feature["s"]["radius"] = round(feature["s"]["radius"] + 2 * (len(plans) - 1 - i), 2)
            feature["p"]["rows"].insert(0, [text("other_run", lang), run])
            feature["tip"] = f"{feature['tip']} [{run}]"
        name = f"{label('new_sites', lang)} – {run}"
        payload["layers"].append({"id": f"new_sites_{i}", "name": name, "visible": True,
                                  "count": len(features), "features": features})
        items.append({"k": "circle", "fill": "#FFFFFF", "edge": edge, "text": name})
    payload["bounds"] = bounds
    return framed(render_html(payload))
