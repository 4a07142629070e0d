"""Travel distances between demand points and schools, sparse: only pairs within reach.

Distances are computed in a metric CRS (never in degrees): inputs must already be
projected (see :func:`gis.crs.metric_crs`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from geopandas import GeoDataFrame

__all__ = ["straight_line_pairs"]


def straight_line_pairs(
    origins: GeoDataFrame,
    destinations: GeoDataFrame,
    *,
    origin_id: str,
    destination_id: str,
    limit_m: pd.Series | float,
    circuity: float = 1.0,
) -> pd.DataFrame:
    """Pairs of origins and destinations whose travel distance is within a limit.

    Travel distance is the straight-line distance between representative points (the
    centroid of a polygon) times ``circuity``.

    Parameters
    ----------
    origins, destinations
        Layers in the same projected CRS with units of metres.
    origin_id, destination_id
        Id columns.
    limit_m
        Longest travel distance in metres: one number, or a Series aligned with
        ``origins`` (a limit per origin).
    circuity
        Road distance / straight-line distance, at least 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``origin_id, destination_id, distance_m`` (named after the id columns),
        sorted by origin then destination; ``distance_m`` is travel distance in metres.

    Raises
    ------
    ValueError
        If a layer is in a geographic CRS or the two CRSs differ.
    """
    for layer in (origins, destinations):
        if layer.crs is None or not layer.crs.is_projected:
            raise ValueError("travel distances need a projected CRS in metres")
    if origins.crs != destinations.crs:
        raise ValueError("origins and destinations must share one CRS")
    columns = [origin_id, destination_id, "distance_m"]
    if origins.empty or destinations.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=float if c == "distance_m" else str) for c in columns}
        )
    if isinstance(limit_m, pd.Series):
        limits = limit_m.to_numpy(dtype=float)
    else:
        limits = np.full(len(origins), float(limit_m))
    origin_points = shapely.centroid(origins.geometry.to_numpy())
    destination_points = shapely.centroid(destinations.geometry.to_numpy())
    tree = shapely.STRtree(destination_points)
    reach = float(limits.max()) / circuity
    left, right = tree.query(origin_points, predicate="dwithin", distance=reach)
    distance = shapely.distance(origin_points[left], destination_points[right]) * circuity
    keep = distance <= limits[left] + 1e-9
    pairs = pd.DataFrame(
        {
            origin_id: origins[origin_id].astype(str).to_numpy()[left[keep]],
            destination_id: destinations[destination_id].astype(str).to_numpy()[right[keep]],
            "distance_m": np.round(distance[keep], 3),
        }
    )
    return pairs.sort_values([origin_id, destination_id], kind="stable").reset_index(drop=True)
