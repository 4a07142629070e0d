"""``allocator map RESULTS_DIR --format png|html|gpkg``: maps of a results directory.

Reads what a run wrote (:func:`allocator.results.read_results_dir`, the ``plan.gpkg`` layers
``zones``, ``schools``, ``new_sites``, ``assignments``, ``counties`` and, when present,
``rotations.csv``) and writes ``map.png``, ``map.html`` or ``plan.gpkg``: into the results
directory by default, or to ``out`` (a file, or an existing directory to write into).

Reading is defensive, because the tables grow over time:

- a missing layer is left out; a missing ``plan.gpkg`` falls back to the lon/lat columns
  of ``schools.csv``;
- rows of ``schools`` whose ``kind`` is ``new`` are shown from ``new_sites`` only (taken
  from ``schools`` when there is no ``new_sites`` layer); ``new_sites.site_id`` serves as
  ``school_id``;
- with several plan years (``year`` columns, or zone columns ``children_<stage>_<year>``)
  the map shows the last year: for each school and stage its row of the latest year up to
  that one (a site opened earlier is still on the map), the assignments of that year, and
  the zones' ``children_<stage>`` / ``unmet_<stage>`` of that year.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import pyogrio
import yaml

from allocator.results import GPKG, MANIFEST, RESOLVED, read_results_dir
from gis.crs import WGS84
from gis.map_style import check_lang, label

__all__ = ["DEFAULT_NAMES", "MapFormat", "PlanLayers", "map_command", "read_plan_layers"]

log = logging.getLogger(__name__)

MapFormat = Literal["png", "html", "gpkg"]
DEFAULT_NAMES: dict[str, str] = {"png": "map.png", "html": "map.html", "gpkg": GPKG}
LAYERS = ("zones", "schools", "new_sites", "assignments", "counties")
ROTATIONS = "rotations.csv"


@dataclass(frozen=True)
class PlanLayers:
    """The layers of one results directory, ready to map (EPSG:4326, last year only).

    Attributes
    ----------
    name
        Scenario name from the manifest (or the directory name).
    language
        ``meta.language`` of the resolved scenario, ``None`` when unknown.
    year
        The year mapped when the tables carry several years, else ``None``.
    layers
        Layer name to GeoDataFrame; absent layers are missing from the mapping.
    rotations
        The rotations table when the directory has one.
    """

    name: str
    language: str | None
    year: int | None
    layers: dict[str, gpd.GeoDataFrame]
    rotations: pd.DataFrame | None


def _manifest(folder: Path) -> dict[str, Any]:
    try:
        return read_results_dir(folder).manifest
    except (OSError, ValueError, KeyError) as exc:
        log.debug("read_results_dir(%s) failed (%s); reading the manifest alone", folder, exc)
    path = folder / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{folder} is not a results directory: no {MANIFEST}")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def _language(folder: Path) -> str | None:
    path = folder / RESOLVED
    if not path.is_file():
        return None
    try:
        resolved = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return None
    value = (resolved.get("meta") or {}).get("language") if isinstance(resolved, dict) else None
    return value if value in ("zh", "en") else None


def _read_layers(folder: Path) -> dict[str, gpd.GeoDataFrame]:
    path = folder / GPKG
    layers: dict[str, gpd.GeoDataFrame] = {}
    if path.is_file():
        present = {str(name) for name, _ in pyogrio.list_layers(path)}
        for name in LAYERS:
            if name in present:
                layers[name] = gpd.read_file(path, layer=name)
            else:
                log.info("%s has no layer %r; left off the map", path, name)
        return layers
    log.warning("%s not found; mapping the schools from schools.csv", path)
    table = folder / "schools.csv"
    if table.is_file():
        schools = pd.read_csv(table, dtype={"school_id": str})
        if {"lon", "lat"} <= set(schools.columns):
            points = gpd.GeoDataFrame(
                schools, geometry=gpd.points_from_xy(schools["lon"], schools["lat"]), crs=WGS84)
            layers["schools"] = points  # new schools are split off by _split_new
    return layers


_YEAR_COLUMN = re.compile(r"^(children|unmet)_(.+)_(\d{4})$")


def _years(layers: dict[str, gpd.GeoDataFrame]) -> list[int]:
    found: set[int] = set()
    for layer in layers.values():
        if "year" in layer.columns:
            found.update(int(y) for y in pd.to_numeric(layer["year"], errors="coerce").dropna())
    if "zones" in layers:
        found.update(int(m.group(3)) for c in layers["zones"].columns
                     if (m := _YEAR_COLUMN.match(str(c))))
    return sorted(found)


def _zones_of_year(zones: gpd.GeoDataFrame, year: int | None) -> gpd.GeoDataFrame:
    """Zone columns ``children_<stage>_<year>`` of one year as ``children_<stage>``."""
    matches = {str(c): m for c in zones.columns if (m := _YEAR_COLUMN.match(str(c)))}
    if not matches:
        return zones
    years = sorted({int(m.group(3)) for m in matches.values()})
    chosen = year if year in years else years[-1]
    renamed = {c: f"{m.group(1)}_{m.group(2)}" for c, m in matches.items()
               if int(m.group(3)) == chosen}
    return zones.drop(columns=[c for c in matches if c not in renamed]).rename(columns=renamed)


def _split_new(layers: dict[str, gpd.GeoDataFrame]) -> None:
    """New schools appear once, from ``new_sites``; ``site_id`` doubles as ``school_id``."""
    schools = layers.get("schools")
    if schools is not None and "kind" in schools.columns:
        new = schools["kind"].astype(str) == "new"
        if "new_sites" not in layers and new.any():
            layers["new_sites"] = schools[new]
        layers["schools"] = schools[~new]
    sites = layers.get("new_sites")
    if sites is not None and "school_id" not in sites.columns and "site_id" in sites.columns:
        layers["new_sites"] = sites.rename(columns={"site_id": "school_id"})


def _latest(layer: gpd.GeoDataFrame, year: int, keys: list[str]) -> gpd.GeoDataFrame:
    """Each key's row of the latest year up to ``year`` (all rows without a year column)."""
    if "year" not in layer.columns:
        return layer
    years = pd.to_numeric(layer["year"], errors="coerce")
    keep = layer[years.isna() | (years <= year)]
    keys = [k for k in keys if k in keep.columns]
    if not keys:
        return keep[pd.to_numeric(keep["year"], errors="coerce") == year]
    order = keep.assign(_year=pd.to_numeric(keep["year"], errors="coerce")).sort_values(
        [*keys, "_year"], kind="stable")
    return order.drop_duplicates(keys, keep="last").drop(columns="_year").sort_index()


def read_plan_layers(results_dir: str | Path) -> PlanLayers:
    """Read a results directory's map layers (see the module docstring for the rules).

    Raises
    ------
    FileNotFoundError
        If the directory or its ``manifest.json`` is missing.
    """
    folder = Path(results_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"results directory {folder} does not exist")
    manifest = _manifest(folder)
    name = str((manifest.get("scenario") or {}).get("name") or folder.name)
    layers = _read_layers(folder)
    _split_new(layers)
    years = _years(layers)
    year = years[-1] if len(years) > 1 else None
    if year is not None:
        log.info("tables hold years %s; mapping %d", years, year)
        for key in ("schools", "new_sites"):
            if key in layers:
                layers[key] = _latest(layers[key], year, ["school_id", "stage"])
        for key in ("zones", "assignments"):
            if key in layers and "year" in layers[key].columns:
                layers[key] = _latest(layers[key], year, [])
    if "zones" in layers:
        layers["zones"] = _zones_of_year(layers["zones"], year)
    rotations = None
    if (folder / ROTATIONS).is_file():
        rotations = pd.read_csv(folder / ROTATIONS, dtype={"from_school": str,
                                                          "to_school": str})
    return PlanLayers(name=name, language=_language(folder), year=year, layers=layers,
                      rotations=rotations)


def _target(folder: Path, fmt: str, out: Path | None) -> Path:
    if out is None:
        return folder / DEFAULT_NAMES[fmt]
    if out.is_dir():
        return out / DEFAULT_NAMES[fmt]
    return out


def map_command(
    results_dir: str | Path,
    format: MapFormat | str,
    out: str | Path | None = None,
    lang: str | None = None,
) -> Path:
    """Write a PNG map, an offline HTML map or the plan GeoPackage of a results directory.

    Parameters
    ----------
    results_dir
        A directory written by ``allocator run``.
    format
        ``png`` (printable A4 map, :func:`gis.maps.plan_map_png`), ``html`` (offline
        Leaflet map, :func:`gis.leaflet.plan_map_html`) or ``gpkg`` (a copy of
        ``plan.gpkg``, EPSG:4326).
    out
        File to write, or an existing directory to write ``map.png`` / ``map.html`` /
        ``plan.gpkg`` into. Default: the results directory.
    lang
        ``zh`` or ``en``; default the scenario's ``meta.language``, else ``zh``.

    Returns
    -------
    pathlib.Path
        The file written (for ``gpkg`` without ``out``: the results directory's own
        ``plan.gpkg``, which already is the plan's GeoPackage).

    Raises
    ------
    FileNotFoundError
        No such results directory, no manifest, or (``gpkg``) no ``plan.gpkg``.
    ValueError
        Unknown format or language, or nothing to map.
    """
    folder = Path(results_dir)
    if format not in DEFAULT_NAMES:
        raise ValueError(f"format must be one of png, html, gpkg, not {format!r}")
    target = _target(folder, format, Path(out) if out is not None else None)
    if format == "gpkg":
        source = folder / GPKG
        if not source.is_file():
            raise FileNotFoundError(f"{source} not found: {folder} has no plan GeoPackage")
        if target.resolve() != source.resolve():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        log.info("GeoPackage: %s", target)
        return target
    plan = read_plan_layers(folder)
    language = check_lang(lang or plan.language or "zh")
    heading = f"{plan.name} {label('title_suffix', language)}"
    if plan.year is not None:
        heading += f" ({plan.year})"
    layers = plan.layers
    if format == "png":
        from gis.maps import plan_map_png

        plan_map_png(counties=layers.get("counties"), zones=layers.get("zones"),
                     schools=layers.get("schools"), new_sites=layers.get("new_sites"),
                     assignments=layers.get("assignments"), title=heading, out_path=target,
                     lang=language)
    else:
        from gis.leaflet import plan_map_html

        plan_map_html(counties=layers.get("counties"), zones=layers.get("zones"),
                      schools=layers.get("schools"), new_sites=layers.get("new_sites"),
                      rotations=plan.rotations, title=heading, out_path=target,
                      lang=language)
    return target
