"""Read a planner's data layer and check it, reporting every problem at once.

:func:`read_layer` reads a CSV table of points or a GIS layer (GeoJSON, GeoPackage,
GeoParquet), checks the file, its CRS, its geometries and the columns the caller
declares with :class:`ColumnSpec`, and returns a GeoDataFrame in WGS-84 longitude/
latitude (``EPSG:4326``). Anything wrong is collected as :class:`~gis.errors.Problem`
records naming the file, the row or feature, the column and the offending values, and
raised together as one :class:`~gis.errors.InputError`.

Row numbers follow what a spreadsheet shows for CSV files and Excel sheets (the header is
row 1, the first data row is row 2); features in GIS files are numbered from 1. Points can
also come from one sheet of an Excel workbook (``.xlsx``) with longitude/latitude columns,
and headers may be written in Chinese or English (经度/lon; see :mod:`gis.headers`);
problems then name the workbook, the sheet and the column as written.

Tables without locations are read by :func:`~gis.tables.read_table`, and the column
declarations and checks live in :mod:`gis.columns`; both are re-exported here, so
``from gis.io import ColumnSpec, read_layer, read_table`` is the one import callers need.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from gis.columns import (
    FALSE_WORDS,
    TRUE_WORDS,
    ColumnKind,
    ColumnSpec,
    Context,
    all_specs,
    cell_text,
    duplicate_problems,
    parse_float,
    shorten,
    with_suggestion,
)
from gis.crs import DATUMS, WGS84, to_wgs84
from gis.errors import InputError, Problem
from gis.headers import WrittenContext
from gis.tables import (
    TABLE_SUFFIXES,
    XLS_HINT,
    Cells,
    UnreadableError,
    check_file,
    check_specs,
    named_columns,
    one_line,
    read_cells,
    read_table,
)

__all__ = [
    "FALSE_WORDS",
    "SUPPORTED_SUFFIXES",
    "TABLE_SUFFIXES",
    "TRUE_WORDS",
    "ColumnKind",
    "ColumnSpec",
    "read_layer",
    "read_table",
]

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES: Final = {
    ".csv": "CSV",
    ".xlsx": "Excel workbook",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".parquet": "GeoParquet",
}
"""File name extensions :func:`read_layer` understands, and the format each means."""

_SUFFIX_HINTS: Final = {
    ".xls": XLS_HINT,
    ".xlsm": XLS_HINT,
    ".et": XLS_HINT,
    ".shp": "convert the shapefile to GeoPackage (.gpkg), e.g. in QGIS with 'Export'",
    ".kml": "convert it to GeoJSON or GeoPackage, e.g. in QGIS with 'Export'",
    ".txt": "if it is a comma-separated table, rename it to .csv",
}


# ----------------------------------------------------------------------------- entry point


def read_layer(
    path: Path,
    *,
    label: str,
    datum: str = "wgs84",
    layer: str | None = None,
    lon_column: str = "lon",
    lat_column: str = "lat",
    geometry_types: tuple[str, ...] | None = None,
    columns: Sequence[ColumnSpec] = (),
    id_column: str | None = None,
    sheet: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one data layer, check it and return it in WGS-84 longitude/latitude.

    Parameters
    ----------
    path
        The file. Its extension picks the format: ``.csv`` (a table of points with
        longitude/latitude columns in degrees, UTF-8 with or without Excel's BOM),
        ``.xlsx`` (one sheet of an Excel workbook, laid out like the CSV; the header is
        row 1), ``.geojson``/``.json`` (a FeatureCollection, a single Feature or a bare
        geometry; longitude/latitude by the GeoJSON standard), ``.gpkg`` (GeoPackage,
        any CRS PROJ can transform to WGS-84) or ``.parquet`` (GeoParquet; needs the
        ``pyarrow`` package).
    label
        The file name as the user wrote it (e.g. in the scenario file); used in every
        problem message.
    datum
        What the coordinates really are: ``"wgs84"``, ``"cgcs2000"`` (treated as WGS-84)
        or ``"gcj02"`` (points taken from Amap/Tencent maps; converted to WGS-84, and the
        file must then be in longitude/latitude).
    layer
        GeoPackage layer to read. Needed when the GeoPackage has several layers;
        ignored for other formats.
    lon_column, lat_column
        CSV or sheet columns holding longitude and latitude in degrees (a header 经度 or
        纬度 is read as ``lon`` or ``lat``).
    geometry_types
        Allowed geometry types, e.g. ``("Point",)`` or ``("Polygon", "MultiPolygon")``;
        ``None`` allows any.
    columns
        Columns to check and convert (see :class:`ColumnSpec`). Other columns are kept
        unchanged. Headers may be written as in :mod:`gis.headers` (学校编号 for
        ``school_id``); they are renamed to the declared names.
    id_column
        Column whose values must be present and unique. If it is not listed in
        ``columns`` it is checked as a required ``"id"`` column.
    sheet
        The sheet of an Excel workbook; may be left out when the workbook has one sheet.
        Naming a sheet for another format is a problem.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in ``EPSG:4326`` (WGS-84 longitude/latitude, degrees), index 0..n-1,
        in file order. Declared columns are converted: ``id``, ``text`` and ``choice``
        to ``str``; ``count`` and ``number`` to float64 (int64 for ``integer`` counts);
        ``flag`` to bool. Optional columns absent from the file are not added. For CSV
        files and sheets the longitude/latitude columns are replaced by the point
        geometry.

    Raises
    ------
    gis.errors.InputError
        With every problem found (only one if the file cannot be read at all).
    ValueError
        For invalid arguments (unknown datum, duplicate column specs).
    """
    specs = all_specs(columns, id_column)
    if datum not in DATUMS:
        raise ValueError(f"unknown datum {datum!r}; expected one of {', '.join(DATUMS)}")
    keep = [spec.name for spec in specs] + [lon_column, lat_column]
    try:
        suffix = check_file(path, label, SUPPORTED_SUFFIXES, _SUFFIX_HINTS)
        if suffix in TABLE_SUFFIXES:
            cells = read_cells(path, label, suffix, sheet)
            table, ctx, problems = named_columns(cells, keep)
            frame, point_problems = _points(table, ctx, lon_column, lat_column)
            problems += point_problems
            check_null = False
        else:
            if sheet is not None:
                raise UnreadableError(Problem(label, "", f"a sheet ({sheet!r}) is named, but "
                                              f"the file is {SUPPORTED_SUFFIXES[suffix]}, not "
                                              "an Excel workbook (.xlsx); remove the sheet"))
            geo = _read_geo(path, Context(label, "feature", 1), suffix, layer)
            renamed, ctx, problems = named_columns(Cells(geo, [], label), keep,
                                                   unit="feature", offset=1)
            frame = gpd.GeoDataFrame(renamed, geometry=geo.geometry.name, crs=geo.crs)
            check_null = True
    except UnreadableError as unreadable:
        raise InputError([unreadable.problem]) from None

    crs_problems = _crs_problems(frame, ctx, suffix, datum)
    problems += crs_problems
    problems += _geometry_problems(frame, ctx, geometry_types, check_null=check_null)
    converted = frame.iloc[:0]
    if not crs_problems:
        try:
            converted = to_wgs84(frame, datum=datum)
        except ValueError as exc:
            problems.append(ctx.problem(f"the data is in a CRS that cannot be used: {exc}"))
        else:
            problems += _range_problems(converted, ctx, suffix)
    coerced, checked_problems, _ = check_specs(frame, specs, ctx)
    problems += checked_problems
    if id_column is not None and id_column in coerced:
        problems += duplicate_problems(coerced[id_column], id_column, ctx)
    if problems:
        raise InputError(problems)

    result = converted.copy()
    for name, values in coerced.items():
        result[name] = values
    result = result.reset_index(drop=True)
    logger.info("read %d %ss from %s (%s, datum %s)", len(result), ctx.unit, ctx.label, suffix,
                datum)
    return result


# ----------------------------------------------------------------------------- CSV and sheets


def _points(
    table: pd.DataFrame, ctx: WrittenContext, lon_column: str, lat_column: str
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Turn a table's lon/lat cells into points; coordinate problems are returned."""
    problems: list[Problem] = []
    lon, lon_problems = _coordinate_column(table, lon_column, "longitude", ctx)
    lat, lat_problems = _coordinate_column(table, lat_column, "latitude", ctx)
    problems += lon_problems + lat_problems
    geometry: list[shapely.Point | None] = [None] * len(table)
    if lon is not None and lat is not None:
        ok = lon.notna() & lat.notna()
        points = shapely.points(lon[ok].to_numpy(), lat[ok].to_numpy())
        for position, point in zip(np.flatnonzero(ok.to_numpy()), points, strict=True):
            geometry[int(position)] = point
    attributes = table.drop(columns=[c for c in (lon_column, lat_column) if c in table])
    frame = gpd.GeoDataFrame(attributes, geometry=gpd.GeoSeries(geometry, index=table.index))
    return frame.set_crs(WGS84), problems


def _coordinate_column(
    table: pd.DataFrame, column: str, what: str, ctx: Context
) -> tuple[pd.Series[float] | None, list[Problem]]:
    """Parse a longitude or latitude column; bad cells become NaN and problems."""
    if column not in table.columns:
        message = f"the {what} column is missing; expected decimal degrees"
        return None, [ctx.problem(with_suggestion(message, column, table.columns),
                                  column=column)]
    texts = [cell_text(v) for v in table[column].tolist()]
    parsed = [parse_float(t) for t in texts]
    indices = list(table.index)
    problems: list[Problem] = []
    blank = [i for i, t in zip(indices, texts, strict=True) if t == ""]
    if blank:
        problems.append(ctx.problem(f"the {what} is empty; every row needs a location",
                                    indices=blank, column=column))
    bad = [(i, t) for i, t, v in zip(indices, texts, parsed, strict=True) if t and v is None]
    if bad:
        problems.append(ctx.problem(
            f"the {what} is not a number; expected decimal degrees such as 120.56",
            indices=[i for i, _ in bad], column=column, values=[t for _, t in bad]))
    values = pd.Series([math.nan if v is None else v for v in parsed], index=table.index,
                       dtype="float64")
    return values, problems


# ----------------------------------------------------------------------------- GIS files


def _read_geo(path: Path, ctx: Context, suffix: str, layer: str | None) -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage or GeoParquet file, or raise :class:`UnreadableError`."""
    fmt = SUPPORTED_SUFFIXES[suffix]
    if suffix == ".parquet":
        frame = _read_parquet(path, ctx)
    else:
        layer_name = _choose_layer(path, ctx, layer) if suffix == ".gpkg" else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                frame = gpd.read_file(path, layer=layer_name, engine="pyogrio")
            except Exception as exc:  # any parser failure is reported, never a traceback
                message = f"cannot be read as {fmt}: {one_line(exc, path, ctx.label)}"
                raise UnreadableError(ctx.problem(message)) from None
        for warning in caught:
            logger.warning("%s: %s", ctx.label, str(warning.message).replace(str(path), ctx.label))
    if not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name not in frame:
        raise UnreadableError(ctx.problem(f"the {fmt} file has no geometry column"))
    if len(frame) == 0:
        raise UnreadableError(ctx.problem(f"the {fmt} file has no features"))
    return frame.reset_index(drop=True)


def _read_parquet(path: Path, ctx: Context) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(path)
    except ImportError:
        message = (
            "reading GeoParquet needs the 'pyarrow' package, which is not installed; "
            "install it (pip install pyarrow) or save the layer as GeoPackage (.gpkg)"
        )
    except Exception as exc:  # any parser failure is reported, never a traceback
        message = f"cannot be read as GeoParquet: {one_line(exc, path, ctx.label)}"
    raise UnreadableError(ctx.problem(message))


def _choose_layer(path: Path, ctx: Context, layer: str | None) -> str | None:
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # any parser failure is reported, never a traceback
        message = f"cannot be read as GeoPackage: {one_line(exc, path, ctx.label)}"
        raise UnreadableError(ctx.problem(message)) from None
    listed = shorten([repr(name) for name in names])
    if layer is not None:
        if layer not in names:
            raise UnreadableError(ctx.problem(
                f"the GeoPackage has no layer {layer!r}; its layers are: {listed}"))
        return layer
    if len(names) > 1:
        raise UnreadableError(ctx.problem(
            f"the GeoPackage has {len(names)} layers; say which one to use (layer: ...). "
            f"Its layers are: {listed}"))
    return names[0] if names else None


def _crs_problems(frame: gpd.GeoDataFrame, ctx: Context, suffix: str, datum: str) -> list[Problem]:
    """Problems with the layer's CRS: missing, unusable, or projected GCJ-02."""
    if frame.crs is None:
        if SUPPORTED_SUFFIXES[suffix] == "GeoJSON":
            frame.set_crs(WGS84, inplace=True)  # longitude/latitude by RFC 7946
            return []
        return [ctx.problem(
            "the layer has no coordinate reference system (CRS), so its coordinates "
            "cannot be placed on the map; export it again with its CRS set (e.g. "
            "EPSG:4326 for longitude/latitude, EPSG:4549 for CGCS2000 GK zone CM 120E)")]
    crs = pyproj.CRS.from_user_input(frame.crs)
    try:
        pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
    except (pyproj.exceptions.ProjError, pyproj.exceptions.CRSError):
        usable = False
    else:
        usable = crs.is_geographic or crs.is_projected
    if not usable:
        return [ctx.problem(
            f"the data is in a CRS that cannot be used: {crs.name!r} ({crs.type_name}) "
            "cannot be transformed to WGS-84 longitude/latitude; export the layer in "
            "EPSG:4326 or another standard CRS",
            values=None)]
    if datum == "gcj02" and not crs.is_geographic:
        return [ctx.problem(
            f"datum gcj02 was declared, but the layer is in the projected CRS "
            f"{crs.name!r}; GCJ-02 data must be longitude/latitude in degrees "
            "(normally labelled EPSG:4326)")]
    return []


# ----------------------------------------------------------------------------- geometries


def _geometry_problems(
    frame: gpd.GeoDataFrame,
    ctx: Context,
    geometry_types: tuple[str, ...] | None,
    *,
    check_null: bool,
) -> list[Problem]:
    geoms = np.asarray(frame.geometry.array, dtype=object)
    indices = np.asarray(frame.index)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    present = ~missing
    problems: list[Problem] = []
    if check_null and missing.any():
        expected = " or ".join(geometry_types) if geometry_types else "a"
        problems.append(ctx.problem(
            f"the feature has no geometry (null or empty); every feature needs {expected} "
            "geometry",
            indices=list(indices[missing])))
    invalid = present & ~shapely.is_valid(geoms)
    if invalid.any():
        reasons = [str(r) for r in shapely.is_valid_reason(geoms[invalid])]
        problems.append(ctx.problem(
            "the geometry is invalid (e.g. a polygon that crosses itself); repair it, for "
            "example with QGIS 'Fix geometries'",
            indices=list(indices[invalid]), values=reasons, quote=False))
    if geometry_types is not None:
        types = np.asarray(frame.geometry.geom_type, dtype=object)
        wrong = present & ~np.isin(types, list(geometry_types))
        if wrong.any():
            problems.append(ctx.problem(
                f"wrong geometry type; this layer needs {' or '.join(geometry_types)}",
                indices=list(indices[wrong]), values=[str(t) for t in types[wrong]]))
    return problems


def _range_problems(frame: gpd.GeoDataFrame, ctx: Context, suffix: str) -> list[Problem]:
    """Coordinates outside longitude -180..180 / latitude -90..90 (after conversion)."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    bounds = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(bounds).all(axis=1)
        outside = (
            (bounds[:, 0] < -180.0) | (bounds[:, 2] > 180.0)
            | (bounds[:, 1] < -90.0) | (bounds[:, 3] > 90.0)
        )
    bad = present & (~finite | outside)
    if not bad.any():
        return []
    indices = np.asarray(frame.index)[bad]
    values = [f"({b[0]:.10g}, {b[1]:.10g})" for b in bounds[bad]]
    if suffix == ".csv":
        swapped = bool(((bounds[bad, 1] > 90.0) & (np.abs(bounds[bad, 0]) <= 90.0)).all())
        hint = ("; are the longitude and latitude columns swapped?" if swapped else
                "; they look like projected coordinates (metres), not degrees — convert "
                "them to longitude/latitude")
    else:
        hint = ("; they look like projected coordinates (metres) labelled as longitude/"
                "latitude — export the layer again with its real CRS")
    return [ctx.problem(
        "coordinates are outside longitude -180..180 / latitude -90..90" + hint,
        indices=list(indices), values=values, quote=False)]
