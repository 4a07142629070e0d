"""Read a planner's data layer and check it, reporting every problem at once.

:func:`read_layer` reads a CSV table of points or a GIS layer (GeoJSON, GeoPackage,
GeoParquet), checks the file, its CRS, its geometries and the columns the caller
declares with :class:`ColumnSpec`, and returns a GeoDataFrame in WGS-84 longitude/
latitude (``EPSG:4326``). Anything wrong is collected as :class:`~gis.errors.Problem`
records naming the file, the row or feature, the column and the offending values, and
raised together as one :class:`~gis.errors.InputError`.

Row numbers follow what a spreadsheet shows for CSV files (the header is row 1, the
first data row is row 2); features in GIS files are numbered from 1.
"""

from __future__ import annotations

import csv
import difflib
import io
import logging
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from gis.crs import DATUMS, WGS84, to_wgs84
from gis.errors import InputError, Problem

__all__ = [
    "FALSE_WORDS",
    "SUPPORTED_SUFFIXES",
    "TRUE_WORDS",
    "ColumnKind",
    "ColumnSpec",
    "read_layer",
]

logger = logging.getLogger(__name__)

ColumnKind = Literal["id", "text", "count", "number", "flag", "choice"]

SUPPORTED_SUFFIXES: Final = {
    ".csv": "CSV",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".parquet": "GeoParquet",
}
"""File name extensions :func:`read_layer` understands, and the format each means."""

TRUE_WORDS: Final = frozenset({"true", "1", "yes", "y", "是"})
FALSE_WORDS: Final = frozenset({"false", "0", "no", "n", "否"})
_FLAG_HELP: Final = "true/false, 1/0, yes/no, y/n or 是/否"

_MAX_SHOWN: Final = 5
_CSV_HEADER_ROWS: Final = 1
_SUFFIX_HINTS: Final = {
    ".xlsx": "save the sheet as 'CSV UTF-8 (Comma delimited)' from Excel",
    ".xls": "save the sheet as 'CSV UTF-8 (Comma delimited)' from Excel",
    ".shp": "convert the shapefile to GeoPackage (.gpkg), e.g. in QGIS with 'Export'",
    ".kml": "convert it to GeoJSON or GeoPackage, e.g. in QGIS with 'Export'",
    ".txt": "if it is a comma-separated table, rename it to .csv",
}


@dataclass(frozen=True)
class ColumnSpec:
    """A column that a layer must (or may) have, and what its cells must hold.

    Parameters
    ----------
    name
        Column name as it appears in the file header.
    kind
        ``"id"``: a non-empty identifier, kept as text (``"007"`` stays ``"007"``).
        ``"text"``: free text, empty allowed. ``"count"``: a number that is 0 or more.
        ``"number"``: any finite number. ``"flag"``: yes/no (true/false, 1/0, yes/no,
        y/n, 是/否; any case). ``"choice"``: one of ``choices``.
    required
        If ``True`` the column must be present. An optional column may be left out
        (it is then not added; the caller applies its default), but if it is present
        every cell must be filled in, except for ``"text"`` columns.
    choices
        The allowed values of a ``"choice"`` column (matched ignoring case and
        surrounding spaces; returned in the spelling given here).
    integer
        For ``"count"`` columns: the values must be whole numbers.
    """

    name: str
    kind: ColumnKind
    required: bool = True
    choices: tuple[str, ...] = ()
    integer: bool = False

    def __post_init__(self) -> None:
        """Reject specs that make no sense (a programming error, not bad input)."""
        if self.kind not in get_args(ColumnKind):
            raise ValueError(f"column {self.name!r}: unknown kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"column {self.name!r}: a 'choice' column needs choices")
        if self.kind != "choice" and self.choices:
            raise ValueError(f"column {self.name!r}: only 'choice' columns take choices")
        if self.integer and self.kind != "count":
            raise ValueError(f"column {self.name!r}: integer=True only applies to 'count'")


@dataclass(frozen=True)
class _Context:
    """How to name places in one file: ``row 17`` for CSV, ``feature 3`` otherwise."""

    label: str
    unit: str
    offset: int

    def number(self, index: int) -> int:
        return index + self.offset

    def where(self, indices: Sequence[int], column: str | None = None) -> str:
        numbers = [self.number(i) for i in indices]
        noun = self.unit if len(numbers) == 1 else f"{self.unit}s"
        place = f"{noun} {_shorten([str(n) for n in numbers])}"
        return f"{place}, column {column}" if column is not None else place

    def problem(
        self,
        message: str,
        *,
        indices: Sequence[int] = (),
        column: str | None = None,
        values: Sequence[str] | None = None,
        quote: bool = True,
    ) -> Problem:
        if indices:
            where = self.where(indices, column)
        else:
            where = f"column {column}" if column is not None else ""
        shown = None if values is None else [repr(v) if quote else v for v in values]
        value = None if shown is None else _shorten(shown)
        return Problem(self.label, where, message, value)


class _UnreadableError(Exception):
    """Internal: the file cannot be read at all; carries the one problem to report."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def _shorten(items: Sequence[str]) -> str:
    """Join at most five items, then say how many more there are."""
    shown = ", ".join(items[:_MAX_SHOWN])
    if len(items) > _MAX_SHOWN:
        shown += f" … and {len(items) - _MAX_SHOWN} more"
    return shown


def _one_line(exc: BaseException, path: Path, label: str) -> str:
    """Return the first line of an exception message, with the path replaced by the label."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.replace(str(path), label)


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
) -> gpd.GeoDataFrame:
    """Read one data layer, check it and return it in WGS-84 longitude/latitude.

    Parameters
    ----------
    path
        The file. Its extension picks the format: ``.csv`` (a table of points with
        longitude/latitude columns in degrees, UTF-8 with or without Excel's BOM),
        ``.geojson``/``.json`` (a FeatureCollection, a single Feature or a bare
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
        CSV columns holding longitude and latitude in degrees.
    geometry_types
        Allowed geometry types, e.g. ``("Point",)`` or ``("Polygon", "MultiPolygon")``;
        ``None`` allows any.
    columns
        Columns to check and convert (see :class:`ColumnSpec`). Other columns are kept
        unchanged.
    id_column
        Column whose values must be present and unique. If it is not listed in
        ``columns`` it is checked as a required ``"id"`` column.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in ``EPSG:4326`` (WGS-84 longitude/latitude, degrees), index 0..n-1,
        in file order. Declared columns are converted: ``id``, ``text`` and ``choice``
        to ``str``; ``count`` and ``number`` to float64 (int64 for ``integer`` counts);
        ``flag`` to bool. Optional columns absent from the file are not added. For CSV
        files the longitude/latitude columns are replaced by the point geometry.

    Raises
    ------
    gis.errors.InputError
        With every problem found (only one if the file cannot be read at all).
    ValueError
        For invalid arguments (unknown datum, duplicate column specs).
    """
    specs = _all_specs(columns, id_column)
    if datum not in DATUMS:
        raise ValueError(f"unknown datum {datum!r}; expected one of {', '.join(DATUMS)}")
    try:
        suffix = _check_file(path, label)
        if suffix == ".csv":
            ctx = _Context(label, "row", _CSV_HEADER_ROWS + 1)
            frame, problems = _read_csv(path, ctx, lon_column, lat_column)
            check_null = False
        else:
            ctx = _Context(label, "feature", 1)
            frame = _read_geo(path, ctx, suffix, layer)
            problems = []
            check_null = True
    except _UnreadableError as unreadable:
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
    coerced: dict[str, pd.Series[Any]] = {}
    for spec in specs:
        column_problems, values = _check_column(frame, spec, ctx)
        problems += column_problems
        if values is not None:
            coerced[spec.name] = values
    if id_column is not None and id_column in coerced:
        problems += _duplicate_problems(coerced[id_column], id_column, ctx)
    if problems:
        raise InputError(problems)

    result = converted.copy()
    for name, values in coerced.items():
        result[name] = values
    result = result.reset_index(drop=True)
    logger.info("read %d %ss from %s (%s, datum %s)", len(result), ctx.unit, label, suffix, datum)
    return result


def _all_specs(columns: Sequence[ColumnSpec], id_column: str | None) -> list[ColumnSpec]:
    specs = list(columns)
    names = [spec.name for spec in specs]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"columns declared more than once: {', '.join(duplicated)}")
    if id_column is not None and id_column not in names:
        specs.insert(0, ColumnSpec(id_column, "id"))
    return specs


# ----------------------------------------------------------------------------- the file


def _check_file(path: Path, label: str) -> str:
    """Check that the file exists, has a known extension and is not empty."""
    if not path.exists():
        raise _UnreadableError(Problem(label, "", _missing_file_message(path)))
    if path.is_dir():
        raise _UnreadableError(Problem(label, "", "is a folder, not a file"))
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(f"{s} ({fmt})" for s, fmt in SUPPORTED_SUFFIXES.items())
        message = f"unsupported file type {suffix or '(no extension)'!r}; use one of {supported}"
        if suffix in _SUFFIX_HINTS:
            message += f"; {_SUFFIX_HINTS[suffix]}"
        raise _UnreadableError(Problem(label, "", message))
    if path.stat().st_size == 0:
        raise _UnreadableError(Problem(label, "", "the file is empty (0 bytes)"))
    return suffix


def _missing_file_message(path: Path) -> str:
    folder = path.parent
    if not folder.is_dir():
        return f"file not found: the folder {folder.name or str(folder)!r} does not exist either"
    siblings = sorted(p.name for p in folder.iterdir() if p.is_file())
    close = difflib.get_close_matches(path.name, siblings, n=3, cutoff=0.6)
    if not close:
        lower = {name.lower(): name for name in siblings}
        close = [lower[path.name.lower()]] if path.name.lower() in lower else []
    if close:
        names = ", ".join(repr(name) for name in close)
        return f"file not found; similarly named files in the same folder: {names}"
    return "file not found"


# ----------------------------------------------------------------------------- CSV


def _read_csv(
    path: Path, ctx: _Context, lon_column: str, lat_column: str
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Read a CSV of points; problems with the coordinates are returned, not raised."""
    text = _decode_csv(path, ctx.label)
    try:
        table = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError:
        raise _UnreadableError(ctx.problem("the file is empty (no header row)")) from None
    except (pd.errors.ParserError, ValueError) as exc:
        message = f"cannot be read as CSV: {_one_line(exc, path, ctx.label)}"
        raise _UnreadableError(ctx.problem(message)) from None
    table.columns = pd.Index([str(c).strip() for c in table.columns])
    blank_rows = (table.apply(lambda col: col.str.strip()) == "").all(axis=1)
    table = table.loc[~blank_rows]
    if table.empty:
        raise _UnreadableError(ctx.problem("the file has a header row but no data rows"))

    problems = _duplicate_header_problems(text, ctx)
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


def _decode_csv(path: Path, label: str) -> str:
    """Decode a CSV as UTF-8 (an Excel BOM is fine); anything else is a problem."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            guess = ""
        else:
            guess = " (it looks like GBK/GB18030, the Chinese Windows default)"
        message = (
            f"the file is not UTF-8 text{guess}; first bad byte on line {line}. "
            "Save it as UTF-8: in Excel 'Save As' > 'CSV UTF-8 (Comma delimited)', "
            "in WPS or a text editor choose the UTF-8 encoding"
        )
        raise _UnreadableError(Problem(label, "", message)) from None


def _duplicate_header_problems(text: str, ctx: _Context) -> list[Problem]:
    header = next(csv.reader(io.StringIO(text)), [])
    names = [name.strip() for name in header]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    return [
        Problem(
            ctx.label,
            "row 1",
            "column names appear more than once in the header; rename or delete the extra "
            "copies (the later copies were read as 'name.1', 'name.2', …)",
            _shorten([repr(name) for name in repeated]),
        )
    ] if repeated else []


def _coordinate_column(
    table: pd.DataFrame, column: str, what: str, ctx: _Context
) -> tuple[pd.Series[float] | None, list[Problem]]:
    """Parse a longitude or latitude column; bad cells become NaN and problems."""
    if column not in table.columns:
        message = f"the {what} column is missing; expected decimal degrees"
        return None, [ctx.problem(_with_suggestion(message, column, table.columns),
                                  column=column)]
    texts = [_cell_text(v) for v in table[column].tolist()]
    parsed = [_parse_float(t) for t in texts]
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


def _read_geo(path: Path, ctx: _Context, suffix: str, layer: str | None) -> gpd.GeoDataFrame:
    """Read a GeoJSON, GeoPackage or GeoParquet file, or raise :class:`_UnreadableError`."""
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
                message = f"cannot be read as {fmt}: {_one_line(exc, path, ctx.label)}"
                raise _UnreadableError(ctx.problem(message)) from None
        for warning in caught:
            logger.warning("%s: %s", ctx.label, str(warning.message).replace(str(path), ctx.label))
    if not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name not in frame:
        raise _UnreadableError(ctx.problem(f"the {fmt} file has no geometry column"))
    if len(frame) == 0:
        raise _UnreadableError(ctx.problem(f"the {fmt} file has no features"))
    return frame.reset_index(drop=True)


def _read_parquet(path: Path, ctx: _Context) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(path)
    except ImportError:
        message = (
            "reading GeoParquet needs the 'pyarrow' package, which is not installed; "
            "install it (pip install pyarrow) or save the layer as GeoPackage (.gpkg)"
        )
    except Exception as exc:  # any parser failure is reported, never a traceback
        message = f"cannot be read as GeoParquet: {_one_line(exc, path, ctx.label)}"
    raise _UnreadableError(ctx.problem(message))


def _choose_layer(path: Path, ctx: _Context, layer: str | None) -> str | None:
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # any parser failure is reported, never a traceback
        message = f"cannot be read as GeoPackage: {_one_line(exc, path, ctx.label)}"
        raise _UnreadableError(ctx.problem(message)) from None
    listed = _shorten([repr(name) for name in names])
    if layer is not None:
        if layer not in names:
            raise _UnreadableError(ctx.problem(
                f"the GeoPackage has no layer {layer!r}; its layers are: {listed}"))
        return layer
    if len(names) > 1:
        raise _UnreadableError(ctx.problem(
            f"the GeoPackage has {len(names)} layers; say which one to use (layer: ...). "
            f"Its layers are: {listed}"))
    return names[0] if names else None


def _crs_problems(frame: gpd.GeoDataFrame, ctx: _Context, suffix: str, datum: str) -> list[Problem]:
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
    ctx: _Context,
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


def _range_problems(frame: gpd.GeoDataFrame, ctx: _Context, suffix: str) -> list[Problem]:
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


# ----------------------------------------------------------------------------- columns


def _with_suggestion(message: str, name: str, present: Iterable[str]) -> str:
    """Add "did you mean 'X'?" when a present column name is close to ``name``."""
    candidates = [str(c) for c in present if str(c) != "geometry"]
    by_lower = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
    if close:
        return f"{message}; did you mean {by_lower[close[0]]!r}? (rename that column to {name!r})"
    if candidates:
        return f"{message}; the file has columns: {_shorten([repr(c) for c in candidates])}"
    return message


def _cell_text(value: object) -> str:
    """Render one cell as stripped text; missing values become ``""``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return ""
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    return str(value).strip()


def _parse_float(text: str) -> float | None:
    """Parse a finite number, or return ``None``."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


_Parser = Callable[[str, ColumnSpec], tuple[Any, str | None]]


def _check_column(
    frame: gpd.GeoDataFrame, spec: ColumnSpec, ctx: _Context
) -> tuple[list[Problem], pd.Series[Any] | None]:
    """Check one declared column; return its problems and its converted values."""
    if spec.name not in frame.columns:
        if not spec.required:
            return [], None
        message = _with_suggestion("required column is missing", spec.name, frame.columns)
        return [ctx.problem(message, column=spec.name)], None
    texts = [_cell_text(v) for v in frame[spec.name].tolist()]
    indices = list(frame.index)
    problems: list[Problem] = []
    if spec.kind != "text":
        blank = [i for i, t in zip(indices, texts, strict=True) if t == ""]
        if blank:
            hint = "" if spec.required else ", or delete the whole column to use the default"
            problems.append(ctx.problem(f"the cell is empty; fill it in{hint}",
                                        indices=blank, column=spec.name))
    converted: list[Any] = []
    failures: dict[str, list[tuple[int, str]]] = {}
    for index, text in zip(indices, texts, strict=True):
        value, failure = _PARSERS[spec.kind](text, spec) if text or spec.kind == "text" else (
            _PLACEHOLDER[spec.kind], None)
        converted.append(value)
        if failure is not None:
            failures.setdefault(failure, []).append((index, text))
    for message, cells in failures.items():
        problems.append(ctx.problem(message, indices=[i for i, _ in cells], column=spec.name,
                                    values=[t for _, t in cells]))
    return problems, pd.Series(converted, index=frame.index, dtype=_dtype(spec))


def _dtype(spec: ColumnSpec) -> str:
    if spec.kind in ("count", "number"):
        return "int64" if spec.integer else "float64"
    if spec.kind == "flag":
        return "bool"
    return "str"


def _parse_text(text: str, spec: ColumnSpec) -> tuple[Any, str | None]:
    return text, None


def _parse_number(text: str, spec: ColumnSpec) -> tuple[Any, str | None]:
    number = _parse_float(text)
    if number is None:
        return math.nan, (
            "not a number; write plain digits such as 1234 or 12.5, without units, spaces "
            "or thousands separators")
    return number, None


def _parse_count(text: str, spec: ColumnSpec) -> tuple[Any, str | None]:
    number, failure = _parse_number(text, spec)
    placeholder = 0 if spec.integer else math.nan
    if failure is not None:
        return placeholder, failure
    if number < 0:
        return placeholder, "negative; a count must be 0 or more"
    if spec.integer:
        if not float(number).is_integer():
            return placeholder, "not a whole number; this count must be a whole number"
        return int(number), None
    return number, None


def _parse_flag(text: str, spec: ColumnSpec) -> tuple[Any, str | None]:
    word = text.lower()
    if word in TRUE_WORDS:
        return True, None
    if word in FALSE_WORDS:
        return False, None
    return False, f"not a yes/no value; use {_FLAG_HELP}"


def _parse_choice(text: str, spec: ColumnSpec) -> tuple[Any, str | None]:
    by_lower = {choice.lower(): choice for choice in spec.choices}
    if text.lower() in by_lower:
        return by_lower[text.lower()], None
    allowed = ", ".join(repr(choice) for choice in spec.choices)
    return text, f"not an allowed value; use one of {allowed}"


_PARSERS: Final[dict[str, _Parser]] = {
    "id": _parse_text,
    "text": _parse_text,
    "count": _parse_count,
    "number": _parse_number,
    "flag": _parse_flag,
    "choice": _parse_choice,
}
_PLACEHOLDER: Final[dict[str, Any]] = {
    "id": "",
    "text": "",
    "count": 0,
    "number": math.nan,
    "flag": False,
    "choice": "",
}


def _duplicate_problems(ids: pd.Series[Any], column: str, ctx: _Context) -> list[Problem]:
    """Name every id used more than once, with the rows it appears in."""
    filled = ids[ids != ""]
    repeated = filled[filled.duplicated(keep=False)]
    if repeated.empty:
        return []
    groups = repeated.groupby(repeated, sort=False).groups
    described = [
        f"{value!r} in {ctx.where(list(rows))}" for value, rows in groups.items()
    ]
    shown = "; ".join(described[:_MAX_SHOWN])
    if len(described) > _MAX_SHOWN:
        shown += f" … and {len(described) - _MAX_SHOWN} more"
    return [Problem(
        ctx.label,
        ctx.where(list(repeated.index), column),
        "duplicate ids; every row must have its own id",
        shown,
    )]
