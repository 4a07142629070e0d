"""Candidate school sites: a grid over the planning area, exclusion rules and J-22 land.

* :func:`grid_sites` puts candidate points on a regular grid inside the planning area.
* :func:`filter_sites` drops sites that a rule excludes and says which rule and why:
  exclusion polygons (e.g. hazard or pollution parcels, rule D-09), a ``hazard`` flag
  (D-09), or too little land (rule id ``LAND``).
* :func:`reserved_school_land` turns the school land that housing projects reserve
  (rule J-22) into candidate sites, and reports the projects that reserve none.
* :func:`min_land_area_m2` is the land a school of a given size needs.

Sites and exclusion layers are GeoDataFrames; areas are square metres and distances
metres, so the grid is laid out in a projected CRS in metres.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final, overload

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

__all__ = [
    "LAND_M2_PER_PUPIL",
    "filter_sites",
    "grid_sites",
    "min_land_area_m2",
    "reserved_school_land",
]

log = logging.getLogger(__name__)

LAND_M2_PER_PUPIL: Final[Mapping[str, float]] = MappingProxyType(
    {"kindergarten": 15.0, "primary": 20.0, "junior": 25.0, "senior": 28.0}
)
"""Default school land per pupil (m²) by stage, from domain-standards §5.

**Unverified**: sources disagree (provincial rules range about 18-26 m² for primary and
23-31 m² for junior schools); these are the suggested defaults, the kindergarten value is
from a secondary source. Use the province's own standard where known.
"""

_TRUE = frozenset({"true", "yes", "y", "t", "1", "是"})
_EXCLUDED_COLUMNS = ("rule_id", "reason")


@overload
def min_land_area_m2(classes: float, class_cap: float, m2_per_pupil: float) -> float: ...
@overload
def min_land_area_m2(classes: pd.Series, class_cap: float, m2_per_pupil: float) -> pd.Series: ...
def min_land_area_m2(
    classes: float | pd.Series, class_cap: float, m2_per_pupil: float
) -> float | pd.Series:
    """Land a school of a given size needs, in square metres.

    Parameters
    ----------
    classes
        Number of classes (one number, or a Series of size options).
    class_cap
        Pupils per class (e.g. 45 primary, 50 junior, rule D-13).
    m2_per_pupil
        Land per pupil in m², e.g. ``LAND_M2_PER_PUPIL["primary"]`` (20 m², unverified:
        see :data:`LAND_M2_PER_PUPIL`).

    Returns
    -------
    float or pandas.Series
        ``classes x class_cap x m2_per_pupil`` (m²).

    Raises
    ------
    ValueError
        If an argument is negative.
    """
    if class_cap < 0 or m2_per_pupil < 0 or bool(np.any(np.asarray(classes) < 0)):
        raise ValueError("classes, class_cap and m2_per_pupil must not be negative")
    return classes * class_cap * m2_per_pupil


def _metric(crs: object, what: str) -> pyproj.CRS:
    if crs is None:
        raise ValueError(f"{what} has no CRS")
    metric: pyproj.CRS = pyproj.CRS.from_user_input(crs)
    units = {axis.unit_name for axis in metric.axis_info}
    if not metric.is_projected or not units <= {"metre", "meter"}:
        raise ValueError(f"{what} must be a projected CRS in metres, got {metric.name!r}")
    return metric


def grid_sites(
    boundary: gpd.GeoDataFrame,
    *,
    spacing_m: float,
    crs: pyproj.CRS | str,
    id_prefix: str = "grid",
) -> gpd.GeoDataFrame:
    """Candidate points on a regular square grid inside the planning area.

    Grid points lie on whole multiples of ``spacing_m`` in ``crs`` (so a point keeps its
    id whatever the boundary), and are kept where the area covers them (inside or on
    the edge).

    Parameters
    ----------
    boundary
        The planning area (polygons, any CRS; all its rows together).
    spacing_m
        Distance between neighbouring grid points, metres.
    crs
        Projected CRS in metres to lay the grid out in; the output is in it.
    id_prefix
        Start of every site id.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``site_id`` (``<prefix>_<i>_<j>`` with ``x = i * spacing_m`` and
        ``y = j * spacing_m`` in ``crs``), ``source`` (``"grid"``) and point
        ``geometry``, sorted south to north then west to east. Add ``stage`` and the
        other candidate columns before planning.

    Raises
    ------
    ValueError
        If ``crs`` is not projected in metres, the boundary has no CRS, or the spacing
        is not positive.
    """
    metric = _metric(crs, "crs")
    if boundary.crs is None:
        raise ValueError("boundary has no CRS")
    if not spacing_m > 0:
        raise ValueError("spacing_m must be positive")
    area = shapely.union_all(boundary.to_crs(metric).geometry.to_numpy())
    columns = {"site_id": pd.Series(dtype=str), "source": pd.Series(dtype=str)}
    if area.is_empty:
        return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs=metric), crs=metric)
    minx, miny, maxx, maxy = area.bounds
    i = np.arange(np.ceil(minx / spacing_m), np.floor(maxx / spacing_m) + 1).astype(np.int64)
    j = np.arange(np.ceil(miny / spacing_m), np.floor(maxy / spacing_m) + 1).astype(np.int64)
    jj, ii = (a.ravel() for a in np.meshgrid(j, i, indexing="ij"))
    points = shapely.points(ii * spacing_m, jj * spacing_m)
    shapely.prepare(area)
    inside = shapely.covers(area, points)
    log.info("grid_sites: %d points every %g m", int(inside.sum()), spacing_m)
    return gpd.GeoDataFrame(
        {
            "site_id": [
                f"{id_prefix}_{a}_{b}" for a, b in zip(ii[inside], jj[inside], strict=True)
            ],
            "source": "grid",
        },
        geometry=points[inside],
        crs=metric,
    )


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return False
    return bool(value)


def _exclusion_rows(sites: gpd.GeoDataFrame, rule_id: str, layer: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per site that touches a polygon of ``layer``, naming the polygons."""
    if layer.crs is None or sites.crs is None:
        raise ValueError(f"sites and exclusion layer {rule_id!r} both need a CRS")
    layer = layer.to_crs(sites.crs)
    tree = shapely.STRtree(layer.geometry.to_numpy())
    site, hit = tree.query(sites.geometry.to_numpy(), predicate="intersects")
    label_column = next((c for c in ("name", "reason") if c in layer.columns), None)
    labels = layer[label_column] if label_column else pd.Series(layer.index, index=layer.index)
    hits = pd.DataFrame({"site": site, "label": labels.astype(str).to_numpy()[hit]})
    found = hits.groupby("site", sort=True)["label"].agg(lambda s: ", ".join(s.iloc[:3]))
    return pd.DataFrame(
        {
            "site": found.index.to_numpy(),
            "rule_id": rule_id,
            "reason": [f"in an excluded area of layer {rule_id} ({label})" for label in found],
        }
    )


def filter_sites(
    sites: gpd.GeoDataFrame,
    *,
    exclusions: Mapping[str, gpd.GeoDataFrame] = MappingProxyType({}),
    min_land_area_m2: float | pd.Series | None = None,
    land_area_column: str = "land_area_m2",
    hazard_column: str = "hazard",
    site_id: str = "site_id",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Drop candidate sites that a rule excludes, and say which rule and why.

    A site is excluded when it touches or lies inside a polygon of an exclusion layer,
    when its ``hazard_column`` is true (polluted or hazard-prone parcel, rule D-09), or
    when its land is below the minimum (rule id ``LAND``). Sites with no land area are
    kept (a warning is logged).

    Parameters
    ----------
    sites
        Candidate sites (points or parcels) with ``site_id``.
    exclusions
        Polygon layers keyed by the rule id that excludes them, e.g.
        ``{"D-09": hazard_parcels}``; reprojected to the sites' CRS. A ``name`` (or
        ``reason``) column, if present, is quoted in the reason.
    min_land_area_m2
        Least land a site needs, m²: one number, or a Series aligned with ``sites``
        (e.g. from :func:`min_land_area_m2` for each site's stage and size).
    land_area_column
        Column of each site's land area (m²).
    hazard_column
        Column flagging hazard or pollution (true/yes/1); ignored if absent.
    site_id
        Id column.

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        The kept sites (rows and columns as given), and the ``excluded`` table with
        columns ``site_id, rule_id, reason``: one row per site and rule that excludes
        it, in site order and then the order rules are listed above.

    Raises
    ------
    ValueError
        If an exclusion layer or the sites lack a CRS.
    """
    rows = [_exclusion_rows(sites, rule, layer) for rule, layer in exclusions.items()]
    position = pd.Series(np.arange(len(sites)))
    if hazard_column in sites.columns:
        flagged = position[sites[hazard_column].map(_truthy).to_numpy(dtype=bool)]
        reason = f"parcel flagged as polluted or hazard-prone (column {hazard_column})"
        rows.append(pd.DataFrame({"site": flagged.to_numpy(), "rule_id": "D-09", "reason": reason}))
    if min_land_area_m2 is not None:
        rows.append(_land_rows(sites, min_land_area_m2, land_area_column, site_id))
    found = pd.concat([r for r in rows if not r.empty] or [_rows_empty()], ignore_index=True)
    found = found.sort_values("site", kind="stable")
    ids = sites[site_id].astype(str).to_numpy()
    excluded = pd.DataFrame(
        {
            site_id: ids[found["site"].to_numpy(dtype=np.int64)],
            "rule_id": found["rule_id"].astype(str).to_numpy(),
            "reason": found["reason"].astype(str).to_numpy(),
        }
    )
    keep = ~position.isin(set(found["site"])).to_numpy()
    if len(excluded):
        log.info("filter_sites: %d of %d sites excluded", int((~keep).sum()), len(sites))
    return sites[keep], excluded


def _rows_empty() -> pd.DataFrame:
    """An empty internal exclusion table (site position, rule id, reason)."""
    return pd.DataFrame(
        {"site": pd.Series(dtype=np.int64), "rule_id": pd.Series(dtype=str),
         "reason": pd.Series(dtype=str)}
    )  # fmt: skip


def _land_rows(
    sites: gpd.GeoDataFrame, minimum: float | pd.Series, column: str, site_id: str
) -> pd.DataFrame:
    if column not in sites.columns:
        raise KeyError(f"sites have no {column!r} column to compare with the minimum land area")
    area = pd.to_numeric(sites[column], errors="coerce").to_numpy(dtype=float)
    need = (
        minimum.to_numpy(dtype=float)
        if isinstance(minimum, pd.Series)
        else np.full(len(sites), float(minimum))
    )
    unknown = np.isnan(area)
    if unknown.any():
        some = ", ".join(sites[site_id].astype(str).to_numpy()[unknown][:5])
        log.warning("%d site(s) have no %s and were kept: %s", int(unknown.sum()), column, some)
    short = np.flatnonzero(area < need)
    return pd.DataFrame(
        {
            "site": short,
            "rule_id": "LAND",
            "reason": [
                f"land {area[k]:,.0f} m² is below the minimum {need[k]:,.0f} m²" for k in short
            ],
        }
    )


def reserved_school_land(
    projects: gpd.GeoDataFrame,
    *,
    project_id: str = "project_id",
    land_column: str = "reserved_school_land_m2",
    required_column: str = "required_school_land_m2",
    parcel_column: str | None = None,
    carry: Sequence[str] = ("name", "county", "stage", "setting", "hazard"),
    id_prefix: str = "J22-",
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """School land reserved by housing projects (rule J-22) as candidate sites.

    J-22: new residential projects must reserve the full school land the standard asks
    for, or get no planning or construction permit. A project that reserves land
    (``land_column`` > 0) and has a location becomes a candidate site; every project
    that reserves none, gives no location, or reserves less than ``required_column``
    (when that column exists) is reported so that the planner can act.

    Parameters
    ----------
    projects
        Housing projects, one row each, with ``project_id`` and ``land_column`` (m²).
        The geometry is the project or its reserved parcel.
    project_id
        Id column.
    land_column
        School land reserved by the project, m²; blank or 0 means none.
    required_column
        Optional column of the school land the standard requires, m².
    parcel_column
        Optional geometry column of the reserved parcel (same CRS); used instead of the
        project geometry where it is set.
    carry
        Columns copied to the sites when present (e.g. ``stage`` and ``hazard``, so that
        :func:`filter_sites` can apply D-09 next).
    id_prefix
        Prefix of the site ids (``<prefix><project_id>``).

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, pandas.DataFrame)
        Sites with columns ``site_id, project_id, land_area_m2, source`` (``"J-22
        reserved land"``), the ``carry`` columns present, and a point ``geometry`` (a
        point inside the parcel, same CRS); and the report with columns ``project_id,
        rule_id`` (``"J-22"``) ``, reason``, in project order.
    """
    ids = projects[project_id].astype(str).to_numpy()
    land = pd.to_numeric(projects[land_column], errors="coerce").to_numpy(dtype=float)
    geoms = projects.geometry.to_numpy()
    if parcel_column is not None:
        parcels = gpd.GeoSeries(projects[parcel_column]).to_numpy()
        geoms = np.where(pd.isna(parcels), geoms, parcels)
    located = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    usable = (land > 0) & located
    keep = [c for c in carry if c in projects.columns]
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"{id_prefix}{i}" for i in ids[usable]],
            "project_id": ids[usable],
            "land_area_m2": land[usable],
            "source": "J-22 reserved land",
            **{c: projects[c].to_numpy()[usable] for c in keep},
        },
        geometry=shapely.point_on_surface(geoms[usable]),
        crs=projects.crs,
    )
    required = (
        pd.to_numeric(projects[required_column], errors="coerce").to_numpy(dtype=float)
        if required_column in projects.columns
        else np.full(len(projects), np.nan)
    )
    report = [
        (ids[k], "J-22", reason)
        for k in range(len(projects))
        for reason in _j22_reasons(land[k], required[k], bool(located[k]), land_column)
    ]
    return sites, pd.DataFrame(report, columns=[project_id, *_EXCLUDED_COLUMNS])


def _j22_reasons(land: float, required: float, located: bool, column: str) -> list[str]:
    if np.isnan(land) or land <= 0:
        value = "blank" if np.isnan(land) else f"{land:g}"
        return [
            f"reserves no school land ({column} is {value}): under J-22 it should get no "
            "planning or construction permit until it does"
        ]
    reasons = []
    if not located:
        reasons.append(f"reserves {land:,.0f} m² of school land but gives no location for it")
    if land < required:
        reasons.append(
            f"reserves {land:,.0f} m² of school land, less than the {required:,.0f} m² "
            "the standard requires (J-22 asks for the full amount)"
        )
    return reasons
