"""Self-contained, offline HTML map of a plan (Leaflet 1.9.3 inlined, no tile server).

:func:`plan_map_html` writes one HTML file that opens from disk without any network: the
Leaflet script and stylesheet come from the PyPI package ``xstatic-leaflet==1.9.3.0``
(BSD-2-Clause, notice in ``gis/LICENSE-leaflet.txt``) and are inlined, with the
stylesheet's images as ``data:`` URIs; there are no base tiles, so county boundaries give
the context. Layers: counties, zones (demand choropleth), existing schools, new sites and
teacher rotations (lines between school points), with a layer control, popups, a legend
and a metric scale.

Why not folium: its page loads Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, its
element ids are random (the same plan would give a different file each time) and its
popups are HTML strings. Here the page is about 80 lines of our own script (see
:mod:`gis.leaflet_js`), the file is identical for the same input, and data reaches the
page only as JSON (``JSON.parse``) and through ``textContent``: a school named
``<img src=x onerror=alert(1)>`` is shown as those characters.

All inputs are GeoDataFrames in any CRS (normally EPSG:4326); output coordinates are
WGS-84 lon/lat degrees rounded to 1e-5 (about 1 m) for boundaries and 1e-6 for points.
"""

from __future__ import annotations

import base64
import html
import importlib
import json
import logging
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gis.crs import WGS84, metric_crs
from gis.leaflet_js import PAGE_CSS, PAGE_JS
from gis.map_style import (
    DEMAND_RAMP,
    check_lang,
    fmt_number,
    label,
    place_name,
    region_colour,
    region_label,
    stage_colour,
    stage_label,
)

__all__ = [
    "LEAFLET_VERSION",
    "build_payload",
    "demand_breaks",
    "leaflet_assets",
    "leaflet_licence",
    "plan_map_html",
    "render_html",
    "safe_json",
]

logger = logging.getLogger(__name__)

LEAFLET_VERSION: Final = "1.9.3"
_POINT_DECIMALS: Final = 6
_SHAPE_DECIMALS: Final = 5
_STAGE_ORDER: Final = ("kindergarten", "primary", "nine_year", "junior", "senior", "twelve_year")
_KINDS: Final = ("existing", "expanded", "new")
_ROTATION_COLOURS: Final = {"rotation": "#D55E00", "transfer": "#6A3D9A", "hire": "#117733"}

Json = dict[str, Any]


def safe_json(value: object) -> str:
    r"""JSON text that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\u003c``, ``\u003e``, ``\u0026`` (so no
    ``</script>`` or ``<!--`` can end or alter the element) and U+2028/U+2029 as escapes
    (they end a line in older JavaScript). ``JSON.parse`` gives back the same values.
    NaN and infinity are rejected.
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def leaflet_assets() -> tuple[str, str]:
    """Leaflet's script and stylesheet from ``xstatic-leaflet``, ready to inline.

    The source-map comment is dropped and the stylesheet's ``url(images/*.png)`` become
    ``data:image/png;base64`` URIs.

    Raises
    ------
    RuntimeError
        If the installed ``xstatic-leaflet`` is not Leaflet 1.9.3.
    """
    xleaflet: Any = importlib.import_module("xstatic.pkg.leaflet")
    if not str(xleaflet.VERSION).startswith(LEAFLET_VERSION):
        raise RuntimeError(f"xstatic-leaflet has Leaflet {xleaflet.VERSION}; "
                           f"{LEAFLET_VERSION} is required (pip install xstatic-leaflet==1.9.3.0)")
    folder = Path(xleaflet.BASE_DIR)
    script = (folder / "leaflet.js").read_text(encoding="utf-8")
    script = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", script)
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        data = (folder / "images" / match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", inline, css)
    return script, css


def leaflet_licence() -> str:
    """Leaflet's BSD-2-Clause notice (from ``gis/LICENSE-leaflet.txt``), to ship with it."""
    text = (resources.files("gis") / "LICENSE-leaflet.txt").read_text(encoding="utf-8")
    return text[text.index("BSD 2-Clause License"):].strip()


def _present(layer: gpd.GeoDataFrame | None) -> bool:
    return layer is not None and len(layer) > 0


def _wgs84(layer: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if not _present(layer):
        return None
    assert layer is not None
    frame = layer[~(layer.geometry.isna() | layer.geometry.is_empty)]
    if frame.crs is None:
        return frame.set_crs(WGS84)
    return frame.to_crs(WGS84)


def _geometry(geom: Any, decimals: int) -> Any:
    rounded = shapely.transform(geom, lambda xy: np.round(xy, decimals))
    return json.loads(shapely.to_geojson(rounded))


def _latlon(point: Any) -> list[float]:
    return [round(float(point.y), _POINT_DECIMALS), round(float(point.x), _POINT_DECIMALS)]


def _cell(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _counties(counties: gpd.GeoDataFrame, lang: str, simplify_m: float) -> list[Json]:
    shapes = counties.geometry
    if simplify_m > 0:
        crs = metric_crs(counties)
        shapes = shapes.to_crs(crs).simplify(simplify_m, preserve_topology=True).to_crs(WGS84)
    points = counties.geometry.representative_point()
    features = []
    for (_, row), shape, point in zip(counties.iterrows(), shapes, points, strict=True):
        data = row.to_dict()
        first, second = place_name(data, lang)
        region = _cell(data, "region")
        rows = [[label("id", lang), _cell(data, "adcode")]] if "adcode" in data else []
        if region:
            rows.append([label("region", lang), region_label(region, lang)])
        feature: Json = {"t": "geo", "g": _geometry(shape, _SHAPE_DECIMALS),
                         "s": {"color": "#4D4D4D", "weight": 1.2, "fillOpacity": 0.55,
                               "fillColor": region_colour(region) if region else "#EEEEEE"}}
        if first:
            feature["p"] = {"h": " ".join(x for x in (first, second) if x), "rows": rows}
            feature["l"] = [first, second]
            feature["lp"] = _latlon(point)
        features.append(feature)
    return features


def _demand(zones: gpd.GeoDataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Children per zone: the ``children`` column, or the sum of ``children_<stage>``."""
    columns = ["children"] if "children" in zones.columns else [
        c for c in zones.columns if str(c).startswith("children_")]
    if not columns:
        return np.zeros(len(zones))
    values = zones[columns].apply(pd.to_numeric, errors="coerce").fillna(0.0)
    return np.asarray(values.sum(axis=1).to_numpy(dtype=float), dtype=float)


def demand_breaks(values: npt.ArrayLike) -> list[float]:
    """Upper bounds of the demand classes: quintiles, rounded to whole children, distinct."""
    array = np.asarray(values, dtype=float)
    if array.size == 0:
        return []
    quantiles = np.quantile(array, [0.2, 0.4, 0.6, 0.8, 1.0])
    return sorted({float(np.ceil(q)) for q in quantiles})


def _zones(zones: gpd.GeoDataFrame, lang: str) -> tuple[list[Json], list[Json]]:
    demand = _demand(zones)
    breaks = demand_breaks(demand)
    ramp = DEMAND_RAMP[-len(breaks):] if breaks else DEMAND_RAMP
    unmet = [c for c in zones.columns if str(c).startswith("unmet_")]
    features = []
    for (_, row), value in zip(zones.iterrows(), demand, strict=True):
        data = row.to_dict()
        k = next((i for i, b in enumerate(breaks) if value <= b), len(breaks) - 1)
        colour = ramp[max(k, 0)]
        rows = [[label("id", lang), _cell(data, "zone_id")],
                [label("children", lang), fmt_number(value)]]
        for column in sorted(c for c in data if str(c).startswith("children_")):
            rows.append([stage_label(column[len("children_"):], lang), fmt_number(data[column])])
        if unmet:
            total = pd.to_numeric(pd.Series([data[c] for c in unmet]), errors="coerce").sum()
            rows.append([label("unmet", lang), fmt_number(total)])
        popup = {"h": _cell(data, "name") or _cell(data, "zone_id"), "rows": rows}
        geom = row.geometry
        if geom.geom_type == "Point":
            features.append({"t": "pt", "c": _latlon(geom), "p": popup, "s": {
                "radius": 6, "color": "#555555", "weight": 0.8, "fillColor": colour,
                "fillOpacity": 0.9}})
        else:
            features.append({"t": "geo", "g": _geometry(geom, _SHAPE_DECIMALS), "p": popup,
                             "s": {"color": "#777777", "weight": 0.6, "fillColor": colour,
                                   "fillOpacity": 0.7}})
    lower = [0.0, *breaks[:-1]]
    legend = [{"k": "box", "fill": c, "edge": "#777777",
               "text": f"{fmt_number(lo)} – {fmt_number(hi)}"}
              for c, lo, hi in zip(ramp, lower, breaks, strict=False)]
    return features, legend


def _stages(*layers: gpd.GeoDataFrame | None) -> list[str]:
    found: set[str] = set()
    for layer in layers:
        if layer is not None and "stage" in layer.columns:
            found.update(str(s) for s in layer["stage"].dropna().unique())
    known = [s for s in _STAGE_ORDER if s in found]
    return known + sorted(found - set(known))


def _schools(layer: gpd.GeoDataFrame, lang: str, *, new: bool, stages: list[str],
             seat_max: float) -> list[Json]:
    features = []
    for _, row in layer.iterrows():
        data = row.to_dict()
        stage = _cell(data, "stage")
        seats = pd.to_numeric(pd.Series([data.get("seats")]), errors="coerce").fillna(0).iloc[0]
        rows = [[label("id", lang), _cell(data, "school_id")],
                [label("stage", lang), stage_label(stage, lang)],
                *([[label("kind", lang), label(kind, lang) if kind in _KINDS else kind]]
                  if (kind := _cell(data, "kind")) else []),
                [label("seats", lang), fmt_number(data.get("seats"))],
                [label("classes", lang), fmt_number(data.get("classes"))]]
        if "enrolled" in data:
            rows.append([label("enrolled", lang), fmt_number(data.get("enrolled"))])
        if "utilisation" in data:
            share = pd.to_numeric(pd.Series([data.get("utilisation")]), errors="coerce").iloc[0]
            rows.append([label("utilisation", lang),
                         "" if pd.isna(share) else f"{100 * share:.0f}%"])
        if new and "cost_cny" in data:
            cost = pd.to_numeric(pd.Series([data.get("cost_cny")]), errors="coerce").iloc[0]
            rows.append([label("cost", lang), fmt_number(cost / 1e4)])
        if "year" in data:
            rows.append([label("year", lang), _cell(data, "year").removesuffix(".0")])
        name = _cell(data, "name") or _cell(data, "school_id")
        radius = 3.0 + 9.0 * float(np.sqrt(max(float(seats), 0.0) / seat_max))
        features.append({"t": "pt", "c": _latlon(row.geometry.centroid), "tip": name,
                         "p": {"h": name, "rows": rows},
                         "s": {"radius": round(radius, 2), "fillColor": stage_colour(stage, stages),
                               "fillOpacity": 0.85 if new else 0.65,
                               "color": "#000000" if new else "#FFFFFF",
                               "weight": 2.5 if new else 0.8}})
    return features


def _school_points(*layers: gpd.GeoDataFrame | None) -> dict[str, tuple[list[float], str]]:
    points: dict[str, tuple[list[float], str]] = {}
    for layer in layers:
        if layer is None or "school_id" not in layer.columns:
            continue
        for _, row in layer.iterrows():
            key = str(row["school_id"])
            if key not in points:
                points[key] = (_latlon(row.geometry.centroid),
                               _cell(row.to_dict(), "name") or key)
    return points


def _rotations(rotations: pd.DataFrame, points: Mapping[str, tuple[list[float], str]],
               lang: str) -> list[Json]:
    """One line per (from_school, to_school, kind): teachers summed over years."""
    frame = rotations.copy()
    if "count" not in frame.columns:
        frame["count"] = 1
    if "kind" not in frame.columns:
        frame["kind"] = "rotation"
    if "year" not in frame.columns:
        frame["year"] = ""
    frame = frame.dropna(subset=["from_school", "to_school"])
    frame["from_school"] = frame["from_school"].astype(str)
    frame["to_school"] = frame["to_school"].astype(str)
    frame["count"] = pd.to_numeric(frame["count"], errors="coerce").fillna(0.0)
    known = frame["from_school"].isin(points) & frame["to_school"].isin(points)
    if (~known).any():
        logger.warning("rotations: %d of %d rows name a school with no map point; not drawn",
                       int((~known).sum()), len(frame))
    groups = frame[known].groupby(["from_school", "to_school", "kind"], sort=True)
    totals = groups["count"].sum()
    peak = float(totals.max()) if len(totals) else 1.0
    features = []
    for key, total in totals.items():
        source, target, kind = (str(part) for part in key)  # type: ignore[attr-defined]
        count = float(total)
        years = sorted({str(y).removesuffix(".0") for y in
                        groups.get_group((source, target, kind))["year"] if str(y) != "nan"})
        rows = [[label("from", lang), f"{points[source][1]} ({source})"],
                [label("to", lang), f"{points[target][1]} ({target})"],
                [label("teachers", lang), fmt_number(count)],
                [label("kind", lang), label(kind, lang) if kind in _ROTATION_COLOURS else kind]]
        if years:
            rows.append([label("year", lang), ", ".join(years)])
        features.append({"t": "ln", "c": [points[source][0], points[target][0]],
                         "p": {"h": f"{points[source][1]} → {points[target][1]}", "rows": rows},
                         "s": {"color": _ROTATION_COLOURS.get(str(kind), "#555555"),
                               "opacity": 0.8,
                               "weight": round(1.5 + 4.5 * float(np.sqrt(count / peak)), 2)}})
    return features


def _bounds(layers: list[gpd.GeoDataFrame | None]) -> list[list[float]]:
    boxes = np.array([layer.total_bounds for layer in layers if layer is not None])
    if len(boxes) == 0:
        return [[-1.0, -1.0], [1.0, 1.0]]
    return [[round(float(boxes[:, 1].min()), 6), round(float(boxes[:, 0].min()), 6)],
            [round(float(boxes[:, 3].max()), 6), round(float(boxes[:, 2].max()), 6)]]


def build_payload(
    *,
    counties: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    schools: gpd.GeoDataFrame | None = None,
    new_sites: gpd.GeoDataFrame | None = None,
    rotations: pd.DataFrame | None = None,
    title: str,
    lang: str = "zh",
    simplify_m: float = 20.0,
) -> Json:
    """The map data embedded in the page: layers, features, popups, legend and bounds.

    Parameters are those of :func:`plan_map_html`. Popup and label texts are plain strings
    (the page shows them with ``textContent``); coordinates are [lat, lon] degrees.
    """
    lang = check_lang(lang)
    county_w, zone_w, school_w, site_w = (_wgs84(x) for x in (counties, zones, schools,
                                                                new_sites))
    stages = _stages(school_w, site_w)
    seat_max = max([float(pd.to_numeric(x["seats"], errors="coerce").max())
                    for x in (school_w, site_w) if x is not None and "seats" in x.columns]
                   + [1.0])
    layers: list[Json] = []
    items: list[Json] = []

    def add(key: str, features: list[Json], visible: bool = True) -> None:
        layers.append({"id": key, "name": label(key, lang), "visible": visible,
                       "count": len(features), "features": features})

    if county_w is not None:
        add("counties", _counties(county_w, lang, simplify_m))
        regions = county_w["region"].dropna().astype(str).unique() if (
            "region" in county_w.columns) else []
        items += [{"k": "box", "fill": region_colour(r), "edge": "#4D4D4D",
                   "text": region_label(r, lang)} for r in regions]
    if zone_w is not None:
        features, ramp = _zones(zone_w, lang)
        add("zones", features)
        items += [{"k": "head", "text": label("demand_title", lang)}, *ramp]
    for key, layer, new in (("schools", school_w, False), ("new_sites", site_w, True)):
        if layer is not None:
            add(key, _schools(layer, lang, new=new, stages=stages, seat_max=seat_max))
            items.append({"k": "circle", "fill": "#BBBBBB", "edge": "#000000" if new else
                          "#FFFFFF", "text": label(key, lang)})
    if stages:
        items.append({"k": "head", "text": label("stage", lang)})
        items += [{"k": "circle", "fill": stage_colour(s, stages), "edge": "#555555",
                   "text": stage_label(s, lang)} for s in stages]
    if rotations is not None and len(rotations) > 0:
        features = _rotations(rotations, _school_points(school_w, site_w), lang)
        add("rotations", features)
        kinds = sorted({str(r.get("kind", "rotation")) for r in rotations.to_dict("records")})
        items.append({"k": "head", "text": label("rotations", lang)})
        items += [{"k": "line", "fill": "", "edge": _ROTATION_COLOURS.get(k, "#555555"),
                   "text": label(k, lang) if k in _ROTATION_COLOURS else k} for k in kinds]
    return {"title": title, "lang": lang, "layers": layers,
            "legend": {"title": label("legend", lang), "items": items},
            "bounds": _bounds([county_w, zone_w, school_w, site_w])}


def render_html(payload: Json) -> str:
    """The whole page for a payload from :func:`build_payload`."""
    script, css = leaflet_assets()
    title = html.escape(str(payload["title"]))
    lang = "zh-CN" if payload.get("lang") == "zh" else "en"
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>\n{css}\n</style>",
        f"<style>{PAGE_CSS}</style>",
        "</head>",
        "<body>",
        f'<div id="plan-header"><h1 id="plan-title">{title}</h1></div>',
        '<div id="map"></div>',
        f'<script type="application/json" id="plan-data">{safe_json(payload)}</script>',
        f"<script>\n/* Leaflet {LEAFLET_VERSION}\n{leaflet_licence()}\n*/\n{script}\n</script>",
        f"<script>{PAGE_JS}</script>",
        "</body>",
        "</html>",
        "",
    ])


def plan_map_html(
    *,
    counties: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    schools: gpd.GeoDataFrame | None = None,
    new_sites: gpd.GeoDataFrame | None = None,
    rotations: pd.DataFrame | None = None,
    title: str,
    out_path: str | Path,
    lang: str = "zh",
    simplify_m: float = 20.0,
) -> Path:
    """Write the plan as one self-contained HTML map that works offline.

    Parameters
    ----------
    counties
        County polygons; ``name_zh`` / ``name_pinyin`` / ``name`` label them, ``region``
        shades them, ``adcode`` shows in the popup.
    zones
        Planning zones (points or polygons) coloured by demand in five quantile classes:
        the ``children`` column or the sum of the ``children_<stage>`` columns (children).
    schools, new_sites
        School points: ``school_id``, ``name``, ``stage`` (colour), ``seats`` (circle
        area), ``classes``, ``enrolled``, ``utilisation``, ``cost_cny``, ``year`` as present.
    rotations
        Table ``from_school, to_school`` and optionally ``count`` (teachers), ``kind``,
        ``year``: drawn as lines between the school points (matched on ``school_id`` of
        ``schools`` then ``new_sites``), one per school pair and kind, teachers summed.
    title
        Page title and heading.
    out_path
        HTML file to write (UTF-8; parent directories are created).
    lang
        ``"zh"`` or ``"en"`` for layer names, popups and legend.
    simplify_m
        Tolerance in metres (in the layer's UTM zone) for simplifying county boundaries;
        0 keeps every vertex.

    Returns
    -------
    pathlib.Path
        The file written. The same input always gives the same bytes.
    """
    payload = build_payload(counties=counties, zones=zones, schools=schools,
                            new_sites=new_sites, rotations=rotations, title=title, lang=lang,
                            simplify_m=simplify_m)
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(payload), encoding="utf-8", newline="\n")
    logger.info("HTML map written to %s (%d layers)", path, len(payload["layers"]))
    return path
