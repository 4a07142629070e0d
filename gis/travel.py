"""Travel distances between demand points and schools, sparse: only pairs within reach.

Distances are computed in a metric CRS (never in degrees): inputs must already be
projected (see :func:`gis.crs.metric_crs`).

* :func:`straight_line_pairs`: straight-line distance times a circuity factor.
* :func:`network_pairs`: along a :class:`gis.network.RoadNetwork`. Each point is snapped
  to the **nearest point on the nearest edge**; road distance is snap leg + shortest path
  + snap leg (metres), and ``minutes`` is the travel time along that same path.
* :func:`unreachable` and :func:`snap_points`: origins with no destination in reach, and
  why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from geopandas import GeoDataFrame

if TYPE_CHECKING:  # scipy is imported only when network travel is used
    from scipy import sparse

    from gis.network import RoadNetwork

__all__ = ["network_pairs", "snap_points", "straight_line_pairs", "unreachable"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_CHUNK_BYTES = 96 * 2**20  # memory for one block of Dijkstra output (distances + predecessors)


def straight_line_pairs(
    origins: GeoDataFrame,
    destinations: GeoDataFrame,
    *,
    origin_id: str,
    destination_id: str,
    limit_m: pd.Series | float,
    circuity: float = 1.0,
    speed_kmh: float | None = None,
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
    speed_kmh
        If given, a travel speed in km/h, and the result gets a ``minutes`` column.

    Returns
    -------
    pandas.DataFrame
        Columns ``origin_id, destination_id, distance_m`` (named after the id columns),
        sorted by origin then destination; ``distance_m`` is travel distance in metres.
        With ``speed_kmh``, a last column ``minutes``: travel time in minutes (3 decimals).

    Raises
    ------
    ValueError
        If a layer is in a geographic CRS or the two CRSs differ, or the speed is not
        positive.
    """
    if speed_kmh is not None and speed_kmh <= 0:
        raise ValueError("speed_kmh must be positive")
    for layer in (origins, destinations):
        if layer.crs is None or not layer.crs.is_projected:
            raise ValueError("travel distances need a projected CRS in metres")
    if origins.crs != destinations.crs:
        raise ValueError("origins and destinations must share one CRS")
    columns = [origin_id, destination_id, "distance_m"]
    if speed_kmh is not None:
        columns.append("minutes")
    if origins.empty or destinations.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=float if c in ("distance_m", "minutes") else str) for c in columns}
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
    if speed_kmh is not None:
        pairs["minutes"] = np.round(distance[keep] * 60.0 / (speed_kmh * 1000.0), 3)
    return pairs.sort_values([origin_id, destination_id], kind="stable").reset_index(drop=True)


def unreachable(
    origins: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    origin_id: str,
    snaps: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Origins that have no destination in ``pairs`` (e.g. zones with no school in reach).

    Parameters
    ----------
    origins
        The origins that were searched from (any frame with ``origin_id``).
    pairs
        Output of :func:`straight_line_pairs` or :func:`network_pairs`.
    origin_id
        Id column (the same name in both frames).
    snaps
        Optional output of :func:`snap_points` for the origins, to tell origins too far
        from every road apart from those with no destination within the limit.

    Returns
    -------
    pandas.DataFrame
        Columns ``origin_id`` (str) and ``reason``, in the order of ``origins``.
    """
    ids = origins[origin_id].astype(str)
    missing = ids[~ids.isin(set(pairs[origin_id].astype(str)))].to_numpy()
    reasons = ["no destination within the travel limit"] * len(missing)
    if snaps is not None:
        info = snaps.assign(**{origin_id: snaps[origin_id].astype(str)}).set_index(origin_id)
        far = info.reindex(missing)
        off = ~far["on_network"].fillna(True).astype(bool).to_numpy()
        for i, metres in zip(np.flatnonzero(off), far["snap_m"].to_numpy()[off], strict=True):
            reasons[i] = f"{metres:,.0f} m from the nearest road (beyond the snap limit)"
    return pd.DataFrame({origin_id: missing, "reason": reasons})


# ----------------------------------------------------------------------------- snapping


@dataclass(frozen=True)
class _Snap:
    """Where points meet the network: edge (-1: too far), fraction from u, snap metres."""

    edge: IntArray
    t: FloatArray
    dist: FloatArray


def _points(layer: GeoDataFrame) -> npt.NDArray[np.object_]:
    return np.asarray(shapely.centroid(layer.geometry.to_numpy()), dtype=object)


def _snap(network: RoadNetwork, points: npt.NDArray[np.object_], max_m: float | None) -> _Snap:
    n = len(points)
    edge, t, dist = np.full(n, -1, dtype=np.int64), np.zeros(n), np.full(n, np.inf)
    if n == 0 or network.n_edges == 0:
        return _Snap(edge, t, dist)
    (which, nearest), found = network.tree.query_nearest(
        points, max_distance=max_m, return_distance=True, all_matches=False
    )
    edge[which] = nearest
    dist[which] = found
    t[which] = shapely.line_locate_point(network.geometry[nearest], points[which], normalized=True)
    return _Snap(edge, np.nan_to_num(t), dist)


def snap_points(
    points: GeoDataFrame, network: RoadNetwork, *, id_column: str, snap_max_m: float = 500.0
) -> pd.DataFrame:
    """How far each point (the centroid of a polygon) is from the nearest road.

    Parameters
    ----------
    points
        Layer in the network's CRS (projected, metres), with ``id_column``.
    network
        The road network.
    id_column
        Id column.
    snap_max_m
        Longest snap leg in metres, as in :func:`network_pairs`.

    Returns
    -------
    pandas.DataFrame
        Columns ``id_column`` (str), ``snap_m`` (metres to the nearest road) and
        ``on_network`` (``snap_m <= snap_max_m``), in the order of ``points``; for
        :func:`unreachable`.
    """
    _check_crs(network, points)
    snap = _snap(network, _points(points), None)
    return pd.DataFrame(
        {
            id_column: points[id_column].astype(str).to_numpy(),
            "snap_m": np.round(snap.dist, 3),
            "on_network": snap.dist <= snap_max_m,
        }
    )


def _check_crs(network: RoadNetwork, *layers: GeoDataFrame) -> None:
    for layer in layers:
        if layer.crs is None or pyproj.CRS.from_user_input(layer.crs) != network.crs:
            raise ValueError(
                f"layers must be in the road network's CRS ({network.crs.name}); "
                f"got {getattr(layer.crs, 'name', None)!r}"
            )


# ----------------------------------------------------------------------------- graph


@dataclass(frozen=True)
class _Graph:
    """Road nodes, then one node per origin, then one per destination, in travel direction.

    ``keys`` (row * size + column) are sorted as the CSR matrix stores its arcs, so
    ``minutes[searchsorted(keys, key)]`` is the travel time of an arc.
    """

    matrix: sparse.csr_array
    keys: IntArray
    minutes: FloatArray
    n_roads: int
    n_origins: int

    size: int


def _travel_graph(
    network: RoadNetwork, origins: _Snap, destinations: _Snap, *, per_m: float, reverse: bool
) -> _Graph:
    """Arcs of roads, snap legs and same-edge shortcuts; ``reverse`` flips every arc."""
    from scipy import sparse

    n, n_o = network.n_nodes, len(origins.edge)
    u, v, length = network.edge_u, network.edge_v, network.length_m
    fwd_min, bwd_min = (
        np.where(np.isnan(m), length * per_m, m)
        for m in (network.minutes_forward, network.minutes_backward)
    )
    fw, bw = network.forward, network.backward
    parts = [(u[fw], v[fw], length[fw], fwd_min[fw]), (v[bw], u[bw], length[bw], bwd_min[bw])]
    for snap, offset, leaving in ((origins, n, True), (destinations, n + n_o, False)):
        ok = np.flatnonzero(snap.edge >= 0)
        e, t, s = snap.edge[ok], snap.t[ok], snap.dist[ok]
        point = ok + offset
        for allowed, near, far, frac, minutes in (
            (fw[e], u[e], v[e], t, fwd_min[e]),  # along u -> v: the point lies t from u
            (bw[e], v[e], u[e], 1.0 - t, bwd_min[e]),  # along v -> u: it lies 1 - t from v
        ):
            # leaving: point -> far end; arriving: near end -> point
            share = 1.0 - frac if leaving else frac
            cost = s + share * length[e]
            time = s * per_m + share * minutes
            node = far if leaving else near
            rows, cols = (point, node) if leaving else (node, point)
            parts.append((rows[allowed], cols[allowed], cost[allowed], time[allowed]))
    parts.extend(_same_edge_arcs(network, origins, destinations, fwd_min, bwd_min, per_m))
    rows, cols, cost, time = (np.concatenate(p) for p in zip(*parts, strict=True))
    if reverse:
        rows, cols = cols, rows
    size = n + n_o + len(destinations.edge)
    keys = rows.astype(np.int64) * size + cols
    order = np.lexsort((cost, keys))
    keys, cost, time = keys[order], cost[order], time[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]  # parallel arcs: keep the shortest
    keys, cost, time = keys[first], cost[first], time[first]
    matrix = sparse.csr_array((cost, (keys // size, keys % size)), shape=(size, size))
    return _Graph(matrix, keys, time, n, n_o, size)


def _same_edge_arcs(
    network: RoadNetwork,
    origins: _Snap,
    destinations: _Snap,
    fwd_min: FloatArray,
    bwd_min: FloatArray,
    per_m: float,
) -> list[tuple[IntArray, IntArray, FloatArray, FloatArray]]:
    """Direct arcs origin -> destination when both snap onto the same edge."""
    o, d = (
        pd.DataFrame({"edge": p.edge, "t": p.t, "s": p.dist, "i": np.arange(len(p.edge))})
        for p in (origins, destinations)
    )
    both = o[o["edge"] >= 0].merge(d[d["edge"] >= 0], on="edge", suffixes=("_o", "_d"))
    e, t_o, t_d = (both[c].to_numpy() for c in ("edge", "t_o", "t_d"))
    legs = both["s_o"].to_numpy() + both["s_d"].to_numpy()
    rows = both["i_o"].to_numpy() + network.n_nodes
    cols = both["i_d"].to_numpy() + network.n_nodes + len(origins.edge)
    along = np.abs(t_d - t_o)
    ahead = t_d >= t_o
    allowed = np.where(ahead, network.forward[e], network.backward[e])
    cost = legs + along * network.length_m[e]
    time = legs * per_m + along * np.where(ahead, fwd_min[e], bwd_min[e])
    return [(rows[allowed], cols[allowed], cost[allowed], time[allowed])]


# ----------------------------------------------------------------------------- pairs


def network_pairs(
    origins: GeoDataFrame,
    destinations: GeoDataFrame,
    network: RoadNetwork,
    *,
    origin_id: str,
    destination_id: str,
    limit_m: pd.Series | float,
    speed_kmh: float = 4.0,
    snap_max_m: float = 500.0,
) -> pd.DataFrame:
    """Pairs of origins and destinations whose road distance is within a limit.

    Each point (the centroid of a polygon) is snapped to the nearest point on the
    nearest road edge. Road distance = snap leg at the origin + shortest path along the
    roads (from origin to destination, respecting one-way edges; directly along the edge
    if both snap onto the same one) + snap leg at the destination, in metres: never
    less than the straight line if no edge is shorter than its span. Points over
    ``snap_max_m`` from every road get no pairs (see :func:`unreachable`).
    Dijkstra, limited to the reach, runs from each point of the smaller set, in blocks
    that bound memory.

    Parameters
    ----------
    origins, destinations
        Layers in the road network's projected CRS (metres).
    network
        The road network, e.g. from :func:`gis.network.read_network`.
    origin_id, destination_id
        Id columns.
    limit_m
        Longest road distance in metres (e.g. the service radius of rule D-07): one
        number, or a Series aligned with ``origins`` (a limit per origin).
    speed_kmh
        Speed in km/h on snap legs and on edges without their own speed or travel time.
        The default, 4 km/h, is walking.
    snap_max_m
        Longest snap leg in metres.

    Returns
    -------
    pandas.DataFrame
        Columns ``origin_id, destination_id, distance_m, minutes`` (named after the id
        columns), sorted by origin then destination: road distance in metres and travel
        time in minutes along the shortest-distance path (rounded to 3 decimals).

    Raises
    ------
    ValueError
        If a layer is not in the network's CRS, or the speed is not positive.
    """
    _check_crs(network, origins, destinations)
    if speed_kmh <= 0:
        raise ValueError("speed_kmh must be positive")
    if isinstance(limit_m, pd.Series):
        limits = limit_m.to_numpy(dtype=float)
    else:
        limits = np.full(len(origins), float(limit_m))
    per_m = 60.0 / (speed_kmh * 1000.0)
    o_snap, d_snap = (_snap(network, _points(x), snap_max_m) for x in (origins, destinations))
    for snap, what in ((o_snap, "origins"), (d_snap, "destinations")):
        if off := int(np.sum(snap.edge < 0)):
            log.warning("%d %s are over %g m from every road: no pairs", off, what, snap_max_m)
    from_origins = len(origins) <= len(destinations)
    graph = _travel_graph(network, o_snap, d_snap, per_m=per_m, reverse=not from_origins)
    uniform = bool(np.all(np.isnan(network.minutes_forward) | ~network.forward)) and bool(
        np.all(np.isnan(network.minutes_backward) | ~network.backward)
    )
    o_idx, d_idx, dist, minutes = _search(
        graph, limits, from_origins=from_origins, trace=not uniform
    )
    if uniform:
        minutes = dist * per_m
    pairs = pd.DataFrame(
        {
            origin_id: origins[origin_id].astype(str).to_numpy()[o_idx],
            destination_id: destinations[destination_id].astype(str).to_numpy()[d_idx],
            "distance_m": np.round(dist, 3),
            "minutes": np.round(minutes, 3),
        }
    )
    return pairs.sort_values([origin_id, destination_id], kind="stable").reset_index(drop=True)


def _search(
    graph: _Graph, limits: FloatArray, *, from_origins: bool, trace: bool
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Origin index, destination index, metres and minutes (if traced) of pairs in reach."""
    from scipy.sparse import csgraph

    n_o = graph.n_origins
    n_d = graph.size - graph.n_roads - n_o
    first_target = graph.n_roads + (n_o if from_origins else 0)
    n_targets = n_d if from_origins else n_o
    sources = np.arange(n_o) if from_origins else np.arange(n_d)
    if from_origins:
        sources = sources[np.argsort(limits, kind="stable")]  # similar limits share a block
    block = max(1, _CHUNK_BYTES // (12 * max(graph.size, 1)))
    found: list[tuple[IntArray, IntArray, FloatArray, FloatArray]] = []
    for start in range(0, len(sources), block):
        chunk = sources[start : start + block]
        reach = limits[chunk] if from_origins else limits
        cap = float(reach.max()) if len(reach) else 0.0
        offset = graph.n_roads + (0 if from_origins else n_o)
        pred: npt.NDArray[np.int32] | None = None
        if trace:
            dist, pred = csgraph.dijkstra(
                graph.matrix, indices=chunk + offset, limit=cap, return_predecessors=True
            )
        else:
            dist = csgraph.dijkstra(graph.matrix, indices=chunk + offset, limit=cap)
        near = dist[:, first_target : first_target + n_targets]
        bound = reach[:, None] if from_origins else reach[None, :]
        rows, cols = np.nonzero(near <= bound + 1e-9)
        metres = near[rows, cols]
        minutes = _trace(graph, pred, rows, cols + first_target) if pred is not None else metres * 0
        src = chunk[rows]
        o_idx, d_idx = (src, cols) if from_origins else (cols, src)
        found.append((o_idx.astype(np.int64), d_idx.astype(np.int64), metres, minutes))
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0), np.zeros(0)
    o_all, d_all, m_all, t_all = (np.concatenate(x) for x in zip(*found, strict=True))
    return o_all, d_all, m_all, t_all


def _trace(
    graph: _Graph, pred: npt.NDArray[np.int32], rows: IntArray, targets: IntArray
) -> FloatArray:
    """Sum arc minutes back along the predecessor tree from each target to its source."""
    total = np.zeros(len(rows))
    current = targets.astype(np.int64)
    active = np.arange(len(rows))
    while len(active):
        before = pred[rows[active], current[active]].astype(np.int64)
        moving = before >= 0
        active, before = active[moving], before[moving]
        at = np.searchsorted(graph.keys, before * graph.size + current[active])
        total[active] += graph.minutes[at]
        current[active] = before
    return total
