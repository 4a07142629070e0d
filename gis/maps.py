"""Printable PNG map of a plan (matplotlib, Agg backend, no display needed).

:func:`plan_map_png` draws county boundaries (shaded by region where one is given), planning
zones, existing schools and new sites (marker area proportional to seats, colour by stage),
optional zone-to-school assignment lines, a legend, a scale bar in metres, a north arrow
and a title, on an A4 landscape page (297 x 210 mm at 200 dpi by default).

Every layer is projected to the metric CRS chosen by :func:`gis.crs.metric_crs` (UTM zone
of the map centre) before drawing, so plot coordinates are metres: the scale bar is drawn
in data units and is exact up to the UTM scale factor (0.9996 on the central meridian,
at most about 1.001 at the zone edge). The north arrow points to true north (it is turned
by the grid convergence at the map centre).

Chinese text uses a CJK font found by :func:`gis.fonts.cjk_font`; without one the map is
still drawn and one warning is logged.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib as mpl
import numpy as np
import pyproj
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.patheffects import withStroke

from gis.crs import WGS84, metric_crs
from gis.fonts import cjk_font
from gis.map_style import (
    check_lang,
    fmt_number,
    label,
    nice_steps,
    place_name,
    region_colour,
    region_label,
    stage_colour,
    stage_label,
)

__all__ = ["A4_LANDSCAPE_MM", "PngMap", "plan_map_png", "scale_bar_length"]

logger = logging.getLogger(__name__)

#: Page size (width, height) in millimetres.
A4_LANDSCAPE_MM = (297.0, 210.0)
#: Map axes on the page (left, bottom, width, height as fractions); the legend is on the right.
_MAP_BOX = (0.02, 0.06, 0.70, 0.86)
#: Share of the map width the scale bar may take at most.
_SCALE_SHARE = 0.25
#: Marker area (points squared) of the largest school.
_MAX_MARKER_PT2 = 360.0
_MIN_MARKER_PT2 = 6.0
_STAGE_ORDER = ("kindergarten", "primary", "nine_year", "junior", "senior", "twelve_year")
_HALO = [withStroke(linewidth=3, foreground="white")]


@dataclass(frozen=True)
class PngMap:
    """What :func:`plan_map_png` wrote.

    Attributes
    ----------
    path
        The PNG file.
    crs
        The metric CRS the map is drawn in (``EPSG:326xx``, UTM).
    extent_m
        Map extent in that CRS: (xmin, xmax, ymin, ymax), metres.
    scale_bar_m
        Length of the scale bar, metres.
    legend_labels
        Legend entries, top to bottom.
    place_labels
        County names written on the map (main line; the second line is the other script).
    width_px, height_px, dpi
        Image size in pixels and its resolution (dots per inch).
    font
        The CJK font family used, or ``None`` when none was found.
    """

    path: Path
    crs: str
    extent_m: tuple[float, float, float, float]
    scale_bar_m: float
    legend_labels: tuple[str, ...]
    place_labels: tuple[str, ...]
    width_px: int
    height_px: int
    dpi: int
    font: str | None


def scale_bar_length(map_width_m: float) -> float:
    """Scale bar length for a map ``map_width_m`` metres wide.

    The largest 1, 2 or 5 times a power of ten metres that is at most a quarter of the
    map width: 46.7 km wide gives 10 km, 4.67 km gives 1 km.
    """
    return nice_steps(_SCALE_SHARE * map_width_m)


def _present(layer: gpd.GeoDataFrame | None) -> bool:
    return layer is not None and len(layer) > 0


def _metric(layer: gpd.GeoDataFrame | None, crs: pyproj.CRS) -> gpd.GeoDataFrame | None:
    """The layer without empty geometries, in ``crs``; ``None`` when nothing is left."""
    if not _present(layer):
        return None
    assert layer is not None
    frame = layer[~(layer.geometry.isna() | layer.geometry.is_empty)]
    if frame.crs is None:
        frame = frame.set_crs(WGS84)
    return frame.to_crs(crs) if len(frame) else None


def _stages(*layers: gpd.GeoDataFrame | None) -> list[str]:
    found: set[str] = set()
    for layer in layers:
        if layer is not None and "stage" in layer.columns:
            found.update(str(s) for s in layer["stage"].dropna().unique())
    known = [s for s in _STAGE_ORDER if s in found]
    return known + sorted(found - set(known))


def _seats(layer: gpd.GeoDataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    if "seats" not in layer.columns:
        return np.zeros(len(layer))
    values = np.asarray(layer["seats"].to_numpy(dtype=float, na_value=0.0), dtype=float)
    return np.where(np.isfinite(values), np.maximum(values, 0.0), 0.0)


def _marker_area(seats: np.ndarray[Any, np.dtype[np.float64]], ref: float) -> Any:
    return np.maximum(_MAX_MARKER_PT2 * seats / ref, _MIN_MARKER_PT2)


def _region_of(counties: gpd.GeoDataFrame, regions: str | Mapping[str, str] | None) -> list[str]:
    """Region per county row, empty strings when there is none.

    From a column name, a mapping adcode/name -> region, or the ``region`` column.
    """
    if isinstance(regions, Mapping):
        key = next((c for c in ("adcode", "county", "name_zh", "name") if c in counties.columns),
                   None)
        keys = counties[key].astype(str) if key else counties.index.astype(str)
        return [str(regions.get(k, "")) for k in keys]
    column = regions or "region"
    if column not in counties.columns:
        if regions is not None:
            logger.warning("counties have no %r column; regions are not shaded", column)
        return [""] * len(counties)
    return ["" if v is None or v != v else str(v) for v in counties[column]]


def _draw_counties(ax: Any, counties: gpd.GeoDataFrame, regions: list[str], lang: str,
                   handles: list[tuple[Any, str]]) -> list[str]:
    shaded = any(regions)
    colours = [region_colour(r) if shaded else "#F4F4F4" for r in regions]
    counties.plot(ax=ax, color=colours, edgecolor="#4D4D4D", linewidth=0.9, zorder=1)
    for region in dict.fromkeys(r for r in regions if r):
        handles.append((Patch(facecolor=region_colour(region), edgecolor="#4D4D4D"),
                        region_label(region, lang)))
    points = counties.geometry.representative_point()
    names = []
    for (_, row), point in zip(counties.iterrows(), points, strict=True):
        first, second = place_name(row.to_dict(), lang)
        if not first:
            continue
        names.append(first)
        ax.annotate(first, (point.x, point.y), ha="center", va="bottom", fontsize=11,
                    fontweight="bold", color="#222222", zorder=6, path_effects=_HALO)
        if second:
            ax.annotate(second, (point.x, point.y), ha="center", va="top", fontsize=7.5,
                        color="#333333", zorder=6, path_effects=_HALO,
                        xytext=(0, -1), textcoords="offset points")
    return names


def _draw_schools(ax: Any, layer: gpd.GeoDataFrame, *, new: bool, stages: list[str],
                  ref: float) -> None:
    x = shapely.get_x(shapely.centroid(layer.geometry.to_numpy()))
    y = shapely.get_y(shapely.centroid(layer.geometry.to_numpy()))
    seats = _seats(layer)
    stage_values = (layer["stage"].astype(str).to_numpy() if "stage" in layer.columns
                    else np.array([""] * len(layer)))
    for stage in stages or [""]:
        mask = stage_values == stage
        if not mask.any():
            continue
        ax.scatter(x[mask], y[mask], s=_marker_area(seats[mask], ref),
                   c=stage_colour(stage, stages), marker="^" if new else "o",
                   alpha=0.9 if new else 0.7, edgecolors="black" if new else "white",
                   linewidths=1.1 if new else 0.4, zorder=5 if new else 4)


def _size_legend(ref: float) -> list[float]:
    """Two or three round seat numbers spanning the markers drawn."""
    top = nice_steps(ref)
    values = [top / 5.0, top / 2.0, top] if top >= 10 else [top]
    return [v for v in values if v >= 1]


def _scale_bar(ax: Any, extent: tuple[float, float, float, float], lang: str) -> float:
    xmin, xmax, ymin, ymax = extent
    width, height = xmax - xmin, ymax - ymin
    length = scale_bar_length(width)
    x0, y0, bar_h = xmin + 0.04 * width, ymin + 0.045 * height, 0.012 * height
    for i, fill in enumerate(("black", "white")):
        ax.add_patch(Rectangle((x0 + i * length / 2, y0), length / 2, bar_h, facecolor=fill,
                               edgecolor="black", linewidth=0.8, zorder=7))
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    for x, words in ((x0, "0"), (x0 + length, text)):
        ax.text(x, y0 + bar_h * 1.6, words, ha="center", va="bottom", fontsize=8, zorder=7,
                path_effects=_HALO)
    ax.text(x0, y0 - bar_h * 0.8, label("scale", lang), ha="left", va="top", fontsize=7,
            zorder=7, path_effects=_HALO)
    return length


def _north_arrow(ax: Any, extent: tuple[float, float, float, float], crs: pyproj.CRS,
                 lang: str) -> float:
    """Draw the arrow toward true north; return its angle from grid north (degrees, east +)."""
    xmin, xmax, ymin, ymax = extent
    to_lonlat = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
    to_metric = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    lon, lat = to_lonlat.transform((xmin + xmax) / 2, (ymin + ymax) / 2)
    x1, y1 = to_metric.transform(lon, lat)
    x2, y2 = to_metric.transform(lon, lat + 0.01)
    angle = math.atan2(x2 - x1, y2 - y1)
    size = 0.07 * (ymax - ymin)
    tip = (xmin + 0.95 * (xmax - xmin), ymin + 0.9 * (ymax - ymin))
    tail = (tip[0] - size * math.sin(angle), tip[1] - size * math.cos(angle))
    ax.annotate("", xy=tip, xytext=tail, zorder=8,
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 2.0,
                            "mutation_scale": 18})
    ax.text(tip[0], tip[1] + 0.012 * (ymax - ymin), label("north", lang), ha="center",
            va="bottom", fontsize=11, fontweight="bold", zorder=8, path_effects=_HALO)
    return math.degrees(angle)


def _extent(layers: Sequence[gpd.GeoDataFrame | None]) -> tuple[float, float, float, float]:
    bounds = np.array([layer.total_bounds for layer in layers if layer is not None])
    xmin, ymin = bounds[:, 0].min(), bounds[:, 1].min()
    xmax, ymax = bounds[:, 2].max(), bounds[:, 3].max()
    pad = 0.03 * max(xmax - xmin, ymax - ymin, 1000.0)
    return (float(xmin - pad), float(xmax + pad), float(ymin - pad), float(ymax + pad))


def _fit(extent: tuple[float, float, float, float], ratio: float
         ) -> tuple[float, float, float, float]:
    """Grow the extent about its centre to the width/height ``ratio`` of the map box."""
    xmin, xmax, ymin, ymax = extent
    width, height = xmax - xmin, ymax - ymin
    if width / height < ratio:
        grow = (height * ratio - width) / 2
        return (xmin - grow, xmax + grow, ymin, ymax)
    grow = (width / ratio - height) / 2
    return (xmin, xmax, ymin - grow, ymax + grow)


def plan_map_png(
    *,
    counties: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
    schools: gpd.GeoDataFrame | None,
    new_sites: gpd.GeoDataFrame | None,
    assignments: gpd.GeoDataFrame | None = None,
    regions: str | Mapping[str, str] | None = None,
    title: str,
    out_path: str | Path,
    lang: str = "zh",
    dpi: int = 200,
    size_mm: tuple[float, float] = A4_LANDSCAPE_MM,
) -> PngMap:
    """Draw the plan on one printable page and write it as PNG.

    Parameters
    ----------
    counties
        County polygons (any CRS; EPSG:4326 normally). Name columns ``name_zh``,
        ``name_pinyin`` or ``name`` label them; a ``region`` column shades them.
    zones
        Planning zones (points or polygons), drawn small and grey.
    schools, new_sites
        Existing schools and new sites (points): columns ``stage`` (colour) and ``seats``
        (marker area proportional to seats). New sites are triangles with a black edge.
    assignments
        Zone-to-school lines, drawn thin and grey when given.
    regions
        Region per county: a column name of ``counties``, or a mapping from ``adcode`` (or
        name) to region. Default: the ``region`` column when there is one.
    title
        Title at the top of the page.
    out_path
        PNG file to write (parent directories are created).
    lang
        ``"zh"`` or ``"en"``: language of the legend, scale and north labels.
    dpi
        Resolution, dots per inch.
    size_mm
        Page (width, height) in millimetres; A4 landscape by default.

    Returns
    -------
    PngMap
        Path, CRS, extent (metres), scale bar (metres), legend labels, size in pixels.

    Raises
    ------
    ValueError
        If every layer is empty, or ``lang`` is not ``zh`` or ``en``.
    """
    lang = check_lang(lang)
    given = [counties, zones, schools, new_sites, assignments]
    base = next((layer for layer in given if _present(layer)), None)
    if base is None:
        raise ValueError("nothing to map: every layer is empty")
    crs = metric_crs(base if base.crs is not None else base.set_crs(WGS84))
    county_m, zone_m, school_m, site_m, line_m = (_metric(layer, crs) for layer in given)
    font = cjk_font()
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with warnings.catch_warnings(), mpl.rc_context({"font.family": families}):
        if font is None:  # already said once by cjk_font(); boxes instead of an error
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        fig = Figure(figsize=(size_mm[0] / 25.4, size_mm[1] / 25.4), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_axes(_MAP_BOX)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_facecolor("#FBFBF8")
        handles: list[tuple[Any, str]] = []
        names: list[str] = []
        if county_m is not None:
            names = _draw_counties(ax, county_m, _region_of(county_m, regions), lang, handles)
        stages = _stages(school_m, site_m)
        if zone_m is not None:
            zone_m.plot(ax=ax, color="#8C8C8C", markersize=5, facecolor="none"
                        if zone_m.geom_type.iloc[0].endswith("Polygon") else "#8C8C8C",
                        edgecolor="#8C8C8C", linewidth=0.4, zorder=2)
            handles.append((Line2D([], [], marker="s", linestyle="", color="#8C8C8C",
                                   markersize=4), label("zones", lang)))
        if line_m is not None:
            segments = [np.asarray(g.coords) for g in line_m.geometry if g.geom_type ==
                        "LineString"]
            ax.add_collection(LineCollection(segments, colors="#7A7A7A", linewidths=0.4,
                                             alpha=0.45, zorder=3))
            handles.append((Line2D([], [], color="#7A7A7A", linewidth=0.8),
                            label("assignments", lang)))
        seat_max = max([float(_seats(x).max()) for x in (school_m, site_m) if x is not None]
                       + [1.0])
        for layer, new in ((school_m, False), (site_m, True)):
            if layer is not None:
                _draw_schools(ax, layer, new=new, stages=stages, ref=seat_max)
                handles.append((Line2D([], [], marker="^" if new else "o", linestyle="",
                                       markerfacecolor="#BBBBBB", markersize=8,
                                       markeredgecolor="black" if new else "white"),
                                label("new_sites" if new else "schools", lang)))
        for stage in stages:
            handles.append((Line2D([], [], marker="o", linestyle="", markersize=8,
                                   color=stage_colour(stage, stages)), stage_label(stage, lang)))
        if school_m is not None or site_m is not None:
            for seats in _size_legend(seat_max):
                area = float(_marker_area(np.array([seats]), seat_max)[0])
                handles.append((Line2D([], [], marker="o", linestyle="", markersize=math.sqrt(
                    area), markerfacecolor="none", markeredgecolor="#555555"),
                    f"{fmt_number(seats)} {label('seats', lang)}"))
        box_ratio = (_MAP_BOX[2] * size_mm[0]) / (_MAP_BOX[3] * size_mm[1])
        final = _fit(_extent([county_m, zone_m, school_m, site_m, line_m]), box_ratio)
        ax.set_xlim(final[0], final[1])
        ax.set_ylim(final[2], final[3])
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("")
        ax.set_ylabel("")
        bar = _scale_bar(ax, final, lang)
        _north_arrow(ax, final, crs, lang)
        legend = ax.legend([h for h, _ in handles], [t for _, t in handles],
                           loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False,
                           fontsize=9, title=label("legend", lang), title_fontsize=11,
                           borderaxespad=0.0, labelspacing=0.9)
        legend.get_title().set_fontweight("bold")
        fig.text(_MAP_BOX[0], 0.955, title, fontsize=16, fontweight="bold", ha="left",
                 va="center")
        crs_name = f"EPSG:{crs.to_epsg()} ({crs.name})" if crs.to_epsg() else crs.name
        fig.text(_MAP_BOX[0], 0.025, f"{label('crs_note', lang)}: {crs_name}", fontsize=7,
                 color="#555555", ha="left", va="center")
        path = Path(out_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, format="png", metadata={"Software": None})
        width_px, height_px = fig.canvas.get_width_height()
    logger.info("map written to %s (%d x %d px, %s)", path, width_px, height_px, crs_name)
    return PngMap(path=path, crs=f"EPSG:{crs.to_epsg()}", extent_m=final, scale_bar_m=bar,
                  legend_labels=tuple(t for _, t in handles), place_labels=tuple(names),
                  width_px=width_px,
                  height_px=height_px, dpi=dpi, font=font)
