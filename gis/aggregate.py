"""Zone aggregation on a square grid, and the exact split of results back to the zones.

Large regions have thousands of demand zones; the siting model has one assignment variable
per feasible zone-school pair, so merging nearby zones into grid cells is an explicit
option (``travel.aggregate_zones_m`` in the scenario). :func:`aggregate_zones` merges the
zone points that fall into the same ``cell_m`` x ``cell_m`` metre cell of a projected CRS;
:func:`disaggregate` splits per-cell results (assigned or unmet children, ...) back to the
member zones in proportion to their weights, preserving every sum exactly.

Exactness of the split. A value ``v`` is cut into parts that are whole multiples of
``q = spacing(|v|)`` (the distance from ``|v|`` to the next float), by largest remainders.
All parts have the sign of ``v`` and every partial sum is a multiple of ``q`` no larger
than ``|v| < 2**53 q``, so it is a float: adding the parts in *any* order (Python ``sum``,
numpy's pairwise sum, pandas' compensated sum) gives exactly ``v``. Each part differs from
the proportional share ``v * w`` by at most about ``2 q`` (a relative 4e-16 of ``v``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj

from gis.crs import WGS84

__all__ = [
    "AGE_COLUMNS",
    "COUNT_COLUMNS",
    "STAGE_COLUMNS",
    "aggregate_zones",
    "disaggregate",
]

logger = logging.getLogger(__name__)

STAGE_COLUMNS: Final = ("kindergarten", "primary", "junior", "senior")
"""Zone columns holding children by school stage (persons)."""

AGE_COLUMNS: Final = tuple(f"age_{age}" for age in range(18))
"""Zone columns holding children by single year of age (persons)."""

COUNT_COLUMNS: Final = ("population", *STAGE_COLUMNS, *AGE_COLUMNS)
"""Zone columns that are counts of persons: an aggregate holds the sum of its members."""

_SHARE_COLUMNS: Final = ("migrant_share",)  # population-weighted mean in an aggregate
_DOMINANT_COLUMNS: Final = ("zone_type",)  # value of the member with the largest weight
_ID: Final = "zone_id"
_AGG: Final = "agg_id"
_WEIGHT: Final = "weight"


# --------------------------------------------------------------------------- aggregate


def aggregate_zones(
    zones: gpd.GeoDataFrame,
    *,
    cell_m: float,
    crs: Any,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Merge zone points into square grid cells of ``cell_m`` metres.

    A zone belongs to the cell ``(floor(x / cell_m), floor(y / cell_m))`` of its point in
    the projected CRS ``crs`` (the cell's id is ``"agg_<ix>_<iy>"``, e.g. ``agg_41_366``;
    indices may be negative). Polygon zones are represented by their centroid in ``crs``.

    Each cell becomes one aggregate zone:

    * ``zone_id``: the cell id; geometry: the weighted centroid of the members' points
      (computed in ``crs``, returned in WGS-84 ``EPSG:4326``), weighted by the members'
      children (sum of the stage columns ``kindergarten, primary, junior, senior`` present),
      else by children by age (``age_0 ... age_17``), else by ``population``, else
      unweighted; a cell whose weights are all 0 gets the plain mean;
    * count columns (:data:`COUNT_COLUMNS`: ``population``, stages, ages; persons): summed;
    * ``migrant_share``: mean weighted by ``population`` (else as the centroid);
    * ``zone_type``: that of the member with the largest centroid weight (first in
      ``zone_id`` order on ties), so a cell of mostly urban children keeps urban standards;
    * every other column (``county``, ``name``, ...): the value of the first member in
      ``zone_id`` order.

    Parameters
    ----------
    zones
        Demand zones: a ``zone_id`` column (unique), point (or polygon) geometry with a CRS
        (normally WGS-84), optional count columns as above (persons, >= 0).
    cell_m
        Cell side in metres (> 0).
    crs
        Projected CRS with metre units in which the grid is laid (anything
        ``pyproj.CRS.from_user_input`` takes, e.g. ``"EPSG:32651"`` or the run's metric
        CRS).

    Returns
    -------
    tuple of geopandas.GeoDataFrame and pandas.DataFrame
        The aggregated zones: the input's columns (same order), one row per non-empty cell
        sorted by ``zone_id``, geometry points in ``EPSG:4326``. The membership: columns
        ``zone_id, agg_id, stage, weight`` with one row per zone and stage column present,
        ``weight`` being the zone's share of the cell's children of that stage (equal
        shares if the cell has none); without stage columns ``zone_id, agg_id, weight``
        with the zone's share of the cell's population (equal shares without a
        ``population`` column or when the cell's population is 0). Weights sum to 1 per
        cell (and stage). Rows sorted by ``agg_id``, ``zone_id`` (and stage order).

    Raises
    ------
    ValueError
        ``cell_m`` not a positive finite number, ``crs`` not projected in metres, zones
        without CRS, ``zone_id`` missing or repeated, empty geometry, or a count column
        with missing or negative values (the message names the zones).
    """
    _check_cell(cell_m)
    metric = _metric_crs(crs)
    _check_zones(zones)
    stages = [c for c in STAGE_COLUMNS if c in zones.columns]
    if zones.empty:
        return zones.copy(), _empty_membership(bool(stages))
    x, y = _metric_xy(zones, metric)
    ix = np.floor(x / cell_m).astype(np.int64)
    iy = np.floor(y / cell_m).astype(np.int64)
    table = pd.DataFrame(zones.drop(columns=zones.geometry.name)).reset_index(drop=True)
    table[_AGG] = [f"agg_{i}_{j}" for i, j in zip(ix.tolist(), iy.tolist(), strict=True)]
    table["_x"], table["_y"] = x, y
    table["_w"] = _centroid_weights(table)
    table = table.sort_values([_AGG, _ID], kind="stable").reset_index(drop=True)
    cells = _cells(table, zones, metric)
    membership = _membership(table, stages)
    logger.info(
        "aggregated %d zones into %d cells of %.0f m", len(table), len(cells), cell_m
    )
    return cells, membership


def _check_cell(cell_m: float) -> None:
    """Reject a cell size that is not a positive finite number of metres."""
    if isinstance(cell_m, bool) or not isinstance(cell_m, int | float):
        raise ValueError(f"cell_m must be a number of metres, got {cell_m!r}")
    if not (math.isfinite(cell_m) and cell_m > 0):
        raise ValueError(f"cell_m must be a positive finite number of metres, got {cell_m!r}")


def _metric_crs(crs: Any) -> pyproj.CRS:
    """``crs`` as a pyproj CRS, checked to be projected with metre axes."""
    metric = pyproj.CRS.from_user_input(crs)
    units = {axis.unit_name for axis in metric.axis_info}
    if not metric.is_projected or not units <= {"metre", "meter"}:
        raise ValueError(
            f"crs must be a projected CRS in metres, got {metric.name!r} "
            f"(units: {', '.join(sorted(units)) or 'none'})"
        )
    return metric


def _shorten(values: Sequence[object], limit: int = 5) -> str:
    """At most ``limit`` values, then how many more."""
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _check_zones(zones: gpd.GeoDataFrame) -> None:
    """Zones need a CRS, unique ids, geometry, and counts that are numbers >= 0."""
    if _ID not in zones.columns:
        raise ValueError(f"zones need a {_ID!r} column")
    if zones.crs is None:
        raise ValueError("zones have no CRS; set it (normally EPSG:4326) before aggregating")
    ids = zones[_ID].astype(str)
    repeated = sorted(set(ids[ids.duplicated()]))
    if repeated:
        raise ValueError(f"zones repeat zone_id {_shorten(repeated)}")
    empty = zones.geometry.isna() | zones.geometry.is_empty
    if empty.any():
        raise ValueError(f"zones without geometry: zone_id {_shorten(list(ids[empty]))}")
    for column in COUNT_COLUMNS:
        if column not in zones.columns:
            continue
        values = pd.to_numeric(zones[column], errors="coerce")
        bad = values.isna() | (values < 0) | ~np.isfinite(values.fillna(0.0))
        if bad.any():
            raise ValueError(
                f"zones column {column!r} must hold counts >= 0; bad values at zone_id "
                f"{_shorten(list(ids[bad]))}"
            )


def _metric_xy(
    zones: gpd.GeoDataFrame, metric: pyproj.CRS
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Point coordinates (metres) in ``metric``; polygons by their centroid there."""
    projected = zones.geometry.to_crs(metric)
    points = projected.where(projected.geom_type == "Point", projected.centroid)
    x = np.asarray(points.x, dtype=np.float64)
    y = np.asarray(points.y, dtype=np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        bad = list(zones[_ID].astype(str)[~(np.isfinite(x) & np.isfinite(y))])
        raise ValueError(f"zones cannot be projected to {metric.name}: zone_id {_shorten(bad)}")
    return x, y


def _centroid_weights(table: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Children by stage, else by age, else population, else 1 (persons per zone)."""
    for columns in (
        [c for c in STAGE_COLUMNS if c in table.columns],
        [c for c in AGE_COLUMNS if c in table.columns],
        ["population"] if "population" in table.columns else [],
    ):
        if columns:
            return np.asarray(table[columns].astype(float).sum(axis=1), dtype=np.float64)
    return np.ones(len(table), dtype=np.float64)


def _weighted_mean(values: pd.Series, weights: pd.Series, groups: pd.Series) -> pd.Series:
    """Per group ``Σ w v / Σ w``; the plain mean where a group's weights sum to 0."""
    total = weights.groupby(groups, sort=True).sum()
    weighted = (values * weights).groupby(groups, sort=True).sum() / total.where(total > 0)
    plain = values.groupby(groups, sort=True).mean()
    return weighted.where(total > 0, plain)


def _cells(table: pd.DataFrame, zones: gpd.GeoDataFrame, metric: pyproj.CRS) -> gpd.GeoDataFrame:
    """One row per cell with the input's columns (see :func:`aggregate_zones`)."""
    groups = table[_AGG]
    first = table.drop_duplicates(_AGG, keep="first").set_index(_AGG)  # sorted by zone_id
    out = pd.DataFrame(index=first.index)
    for column in zones.columns:
        if column == zones.geometry.name:
            continue
        if column == _ID:
            out[column] = first.index
        elif column in COUNT_COLUMNS:
            out[column] = table.groupby(_AGG, sort=True)[column].sum()
        elif column in _SHARE_COLUMNS:
            weights = table["population"] if "population" in table.columns else table["_w"]
            out[column] = _weighted_mean(table[column].astype(float), weights, groups)
        elif column in _DOMINANT_COLUMNS:
            top = table.sort_values([_AGG, "_w", _ID], ascending=[True, False, True])
            out[column] = top.drop_duplicates(_AGG, keep="first").set_index(_AGG)[column]
        else:
            out[column] = first[column]
    cx = _weighted_mean(table["_x"], table["_w"], groups)
    cy = _weighted_mean(table["_y"], table["_w"], groups)
    geometry = gpd.points_from_xy(cx.to_numpy(), cy.to_numpy(), crs=metric)
    cells = gpd.GeoDataFrame(
        out.reset_index(drop=True), geometry=geometry, crs=metric
    ).to_crs(WGS84)
    if zones.geometry.name != "geometry":
        cells = cells.rename_geometry(zones.geometry.name)
    return cells[list(zones.columns)]


def _shares(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Each value's share of its group's total; equal shares where the total is 0."""
    total = values.groupby(groups).transform("sum")
    count = values.groupby(groups).transform("size")
    return (values / total.where(total > 0)).where(total > 0, 1.0 / count)


def _membership(table: pd.DataFrame, stages: list[str]) -> pd.DataFrame:
    """``zone_id, agg_id[, stage], weight`` (see :func:`aggregate_zones`)."""
    base = table[[_ID, _AGG]].astype(str)
    if not stages:
        if "population" in table.columns:
            weight = _shares(table["population"].astype(float), table[_AGG])
        else:
            weight = 1.0 / table.groupby(_AGG)[_ID].transform("size")
        return base.assign(**{_WEIGHT: weight.astype(float)}).reset_index(drop=True)
    frames = []
    for order, stage in enumerate(stages):
        weight = _shares(table[stage].astype(float), table[_AGG])
        frames.append(base.assign(stage=stage, _order=order, **{_WEIGHT: weight.astype(float)}))
    long = pd.concat(frames, ignore_index=True)
    long = long.sort_values([_AGG, _ID, "_order"], kind="stable")
    return long.drop(columns="_order").reset_index(drop=True)


def _empty_membership(with_stage: bool) -> pd.DataFrame:
    """Membership of no zones."""
    columns = [_ID, _AGG, "stage", _WEIGHT] if with_stage else [_ID, _AGG, _WEIGHT]
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    empty[_WEIGHT] = empty[_WEIGHT].astype(float)
    return empty


# --------------------------------------------------------------------------- split back


def disaggregate(
    frame: pd.DataFrame,
    membership: pd.DataFrame,
    *,
    value_columns: Sequence[str],
    stage_column: str | None = None,
) -> pd.DataFrame:
    """Split rows of aggregate zones back to their member zones, preserving sums exactly.

    Every row of ``frame`` (an ``agg_id`` and values) becomes one row per member zone of
    that aggregate, in ``zone_id`` order; each value column is cut in proportion to the
    members' weights so that the parts of every value add up to exactly that value, in
    any order of addition (see the module docstring). Other columns are copied.

    Which weights apply: the membership rows of the row's ``agg_id`` and, for every further
    membership column (other than ``zone_id`` and ``weight``; e.g. ``stage``, ``year``),
    the row's value of that column. ``stage`` is matched against ``frame[stage_column]``;
    a membership without ``stage`` applies the same weights to every stage. Weights are
    normalised to sum to 1 per aggregate (equal shares if they sum to 0).

    Parameters
    ----------
    frame
        Per-aggregate results: an ``agg_id`` column, the ``value_columns`` (finite numbers,
        any unit, e.g. children) and any other columns.
    membership
        ``zone_id, agg_id, weight`` (weights >= 0) plus optional key columns, e.g. the
        membership returned by :func:`aggregate_zones`.
    value_columns
        Columns of ``frame`` to split.
    stage_column
        Column of ``frame`` holding the stage, matched with the membership's ``stage``
        column; required when the membership has one.

    Returns
    -------
    pandas.DataFrame
        ``frame``'s columns with ``agg_id`` replaced by ``zone_id`` (same position), one
        row per (input row, member zone), ordered by input row then ``zone_id``; a fresh
        0-based index.

    Raises
    ------
    ValueError
        Missing columns, a value that is not finite, negative or missing weights, a zone
        listed twice for the same key, or an aggregate (and key) without members (the
        message names them).
    """
    keys = _split_keys(frame, membership, value_columns, stage_column)
    weights = _normalised(membership, [m for m, _ in keys])
    left = frame.reset_index(drop=True).assign(_row=np.arange(len(frame)))
    right = weights.rename(columns={m: f for m, f in keys if m != f})
    on = [f for _, f in keys]
    parts = left.merge(right, how="left", on=on, sort=False, validate="many_to_many")
    orphan = parts[_ID].isna()
    if orphan.any():
        missing = parts.loc[orphan, on].drop_duplicates().astype(str).agg(" / ".join, axis=1)
        raise ValueError(
            f"no members in the membership for {' / '.join(on)} = {_shorten(list(missing))}"
        )
    parts = parts.sort_values(["_row", _ID], kind="stable").reset_index(drop=True)
    row = parts["_row"].to_numpy(dtype=np.int64)
    share = parts[_WEIGHT].to_numpy(dtype=np.float64)
    for column in value_columns:
        values = frame[column].to_numpy(dtype=np.float64)
        parts[column] = _split_exact(values, row, share)
    columns = [_ID if c == _AGG else c for c in frame.columns]
    return parts[columns].reset_index(drop=True)


def _split_keys(
    frame: pd.DataFrame,
    membership: pd.DataFrame,
    value_columns: Sequence[str],
    stage_column: str | None,
) -> list[tuple[str, str]]:
    """(membership column, frame column) pairs to match on; checks the columns."""
    for column in (_ID, _AGG, _WEIGHT):
        if column not in membership.columns:
            raise ValueError(f"membership needs a {column!r} column")
    needed = [_AGG, *value_columns] + ([stage_column] if stage_column is not None else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks column(s) {', '.join(missing)}")
    if _ID in frame.columns:
        raise ValueError("frame already has a 'zone_id' column; name the aggregates 'agg_id'")
    keys = [(_AGG, _AGG)]
    for column in membership.columns:
        if column in (_ID, _AGG, _WEIGHT):
            continue
        if column == "stage":
            if stage_column is None:
                raise ValueError(
                    "membership gives weights per stage; pass stage_column= (the frame's "
                    "stage column)"
                )
            keys.append(("stage", stage_column))
        elif column in frame.columns:
            keys.append((column, column))
        else:
            raise ValueError(f"membership has key column {column!r}, which frame lacks")
    for column in value_columns:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            rows = [str(i) for i in np.flatnonzero(bad)]
            raise ValueError(f"frame column {column!r} is not a finite number at rows "
                             f"{_shorten(rows)}")
    return keys


def _normalised(membership: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Membership with weights normalised to sum to 1 per key group (equal if 0)."""
    table = membership.copy()
    table[_ID] = table[_ID].astype(str)
    weight = pd.to_numeric(table[_WEIGHT], errors="coerce")
    bad = weight.isna() | (weight < 0) | ~np.isfinite(weight.fillna(0.0))
    if bad.any():
        raise ValueError(f"membership weights must be numbers >= 0; bad for zone_id "
                         f"{_shorten(list(table.loc[bad, _ID]))}")
    repeated = table.duplicated([*keys, _ID])
    if repeated.any():
        raise ValueError(f"membership lists zone_id {_shorten(list(table.loc[repeated, _ID]))} "
                         f"twice for the same {' / '.join(keys)}")
    groups = [table[k] for k in keys]
    total = weight.groupby(groups).transform("sum")
    count = weight.groupby(groups).transform("size")
    table[_WEIGHT] = (weight / total.where(total > 0)).where(total > 0, 1.0 / count)
    return table[[*keys, _ID, _WEIGHT]]


def _split_exact(
    values: npt.NDArray[np.float64],
    row: npt.NDArray[np.int64],
    share: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Parts of ``values[row]`` proportional to ``share``, summing exactly per row.

    ``row`` is sorted and lists, for each part, the index of the value it belongs to; the
    shares of one row sum to 1 (up to rounding). Parts are whole multiples of
    ``q = spacing(|v|)`` allocated by largest remainders (ties to the earlier part).
    """
    value = values[row]
    magnitude = np.abs(value)
    quantum = np.spacing(magnitude)  # power of two; magnitude / quantum is a whole number
    units = np.rint(magnitude / quantum).astype(np.int64)  # < 2**53
    raw = units.astype(np.float64) * share
    base = np.floor(raw).astype(np.int64)
    fraction = raw - base
    position = np.arange(len(row))
    starts = np.r_[0, np.flatnonzero(np.diff(row)) + 1]  # first part of every row
    lengths = np.diff(np.r_[starts, len(row)])
    for _ in range(8):  # the first pass settles every row; the loop is a safeguard
        remainder = units[starts] - np.add.reduceat(base, starts)
        if not remainder.any():
            break
        needed = np.repeat(remainder, lengths)
        order = np.lexsort((position, -fraction, row))
        base += ((needed > 0) & (_rank_within(row, order) < needed)).astype(np.int64)
        down = (needed < 0) & (base > 0)
        order = np.lexsort((position, fraction, ~down, row))
        base -= (down & (_rank_within(row, order) < -needed)).astype(np.int64)
    else:  # pragma: no cover
        raise ArithmeticError("exact split did not settle")
    return np.sign(value) * (base.astype(np.float64) * quantum) + 0.0


def _rank_within(row: npt.NDArray[np.int64], order: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0-based rank of every part within its row, for parts sorted by ``order``."""
    sorted_rows = row[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_rows)) + 1]
    lengths = np.diff(np.r_[starts, len(order)])
    ranks_sorted = np.arange(len(order)) - np.repeat(starts, lengths)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = ranks_sorted
    return rank
