"""Road networks: road lines or an OSMnx GraphML file read into nodes and edges.

A :class:`RoadNetwork` holds road edges between nodes in a projected CRS in metres, with
lengths (metres), travel times (minutes) where the data give them, and one-way flags.
:func:`gis.travel.network_pairs` finds the pairs within reach along it.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import KDTree

__all__ = ["RoadNetwork", "network_from_lines", "read_network"]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_ONEWAY_FORWARD = frozenset({"true", "yes", "1", "t", "y"})
_ONEWAY_BACKWARD = frozenset({"-1", "reverse"})


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """Road edges between nodes, in a projected CRS in metres.

    Parameters
    ----------
    crs
        Projected CRS of the coordinates (units: metres).
    node_xy
        Node coordinates, shape ``(n_nodes, 2)``, metres.
    edge_u, edge_v
        End nodes of each edge (indices into ``node_xy``); the geometry runs from u to v.
    length_m
        Edge length in metres.
    minutes_forward, minutes_backward
        Travel time along the edge from u to v (and from v to u) in minutes; NaN where
        the data gives none (then :func:`gis.travel.network_pairs` uses its ``speed_kmh``).
    forward, backward
        Whether the edge may be travelled from u to v (and from v to u).
    geometry
        The edges as shapely LineStrings, in ``crs``, each starting at node u.
    """

    crs: pyproj.CRS
    node_xy: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    length_m: FloatArray
    minutes_forward: FloatArray
    minutes_backward: FloatArray
    forward: BoolArray
    backward: BoolArray
    geometry: npt.NDArray[np.object_]

    def __post_init__(self) -> None:
        _require_metric(self.crs)
        if np.any(self.length_m < 0):
            raise ValueError("edge lengths must not be negative")

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        """Number of edges (a two-way road counts once)."""
        return len(self.edge_u)

    @cached_property
    def tree(self) -> shapely.STRtree:
        """Spatial index of the edge geometries."""
        return shapely.STRtree(self.geometry)


# ----------------------------------------------------------------------------- reading


def read_network(
    path: Path,
    *,
    layer: str | None = None,
    crs: pyproj.CRS | str | None = None,
    tolerance_m: float = 0.5,
    respect_oneway: bool = True,
) -> RoadNetwork:
    """Read a road network from a line layer (GeoPackage, GeoJSON, ...) or a GraphML file.

    Parameters
    ----------
    path
        A ``.graphml`` file as OSMnx writes it (nodes with ``x``/``y``; edges with
        ``length`` in metres, optional ``travel_time`` in seconds or ``speed_kph``, and
        optional WKT ``geometry``; directed arcs of one road in both directions become
        one two-way edge), or a vector file of lines (columns: :func:`network_from_lines`).
    layer
        Layer to read from a multi-layer file.
    crs
        CRS to assume when the file declares none.
    tolerance_m
        Line endpoints closer than this many metres become one node (line layers only).
    respect_oneway
        Honour one-way information (``oneway`` columns, directed GraphML edges); False
        for walking.

    Returns
    -------
    RoadNetwork

    Raises
    ------
    ValueError
        If the data are not in a projected CRS in metres (project first: ``to_crs`` and
        :func:`network_from_lines`, or ``ox.project_graph``), or are unusable.
    """
    if path.suffix.lower() == ".graphml":
        return _read_graphml(path, crs=crs, respect_oneway=respect_oneway)
    lines = gpd.read_file(path, layer=layer)
    if lines.crs is None and crs is not None:
        lines = lines.set_crs(crs)
    return network_from_lines(lines, tolerance_m=tolerance_m, respect_oneway=respect_oneway)


def network_from_lines(
    lines: gpd.GeoDataFrame, *, tolerance_m: float = 0.5, respect_oneway: bool = True
) -> RoadNetwork:
    """Build a road network from road lines: one edge per line part, nodes at endpoints.

    Lines are not split where they cross: roads meet only at shared endpoints (an
    overpass stays an overpass), so split lines at junctions beforehand if needed.

    Parameters
    ----------
    lines
        LineStrings or MultiLineStrings (each part becomes an edge) in a projected CRS in
        metres. Optional columns: ``minutes`` (travel time of the whole line in minutes)
        or ``speed_kmh`` (km/h); ``oneway`` (true/yes/1: only in the line's drawing
        direction; -1/reverse: only against it).
    tolerance_m
        Endpoints closer than this many metres become one node.
    respect_oneway
        Honour the ``oneway`` column.

    Returns
    -------
    RoadNetwork

    Raises
    ------
    ValueError
        If the CRS is not projected in metres, a geometry is not a line, or a speed or
        travel time is not positive.
    """
    crs = _require_metric(lines.crs)
    lines = lines[lines.geometry.notna() & ~lines.geometry.is_empty]
    kinds = set(lines.geometry.geom_type)
    if not kinds <= {"LineString", "MultiLineString"}:
        raise ValueError(f"road layer must hold lines only, found {sorted(kinds)}")
    parts = lines.explode(index_parts=False).reset_index(drop=True)
    parts = parts[shapely.length(parts.geometry.to_numpy()) > 0]
    geoms = parts.geometry.to_numpy()
    ends = [shapely.get_coordinates(shapely.get_point(geoms, i)) for i in (0, -1)]
    labels, node_xy = _merge_points(np.vstack(ends).astype(float), tolerance_m)
    length = shapely.length(geoms)
    minutes, speed = _numeric(parts, "minutes"), _numeric(parts, "speed_kmh")
    if np.any(minutes < 0) or np.any(speed <= 0):
        raise ValueError("road minutes must be >= 0 and speed_kmh > 0 (blank if unknown)")
    minutes = np.where(np.isnan(minutes), length / (speed * 1000.0 / 60.0), minutes)
    oneway = (
        parts["oneway"].astype(str).str.strip().str.lower().str.removesuffix(".0").to_numpy()
        if respect_oneway and "oneway" in parts.columns
        else np.full(len(parts), "")
    )
    edges = {
        "u": labels[: len(geoms)], "v": labels[len(geoms) :], "line": geoms, "length": length,
        "fwd_min": minutes, "bwd_min": minutes, "fwd": ~np.isin(oneway, list(_ONEWAY_BACKWARD)),
        "bwd": ~np.isin(oneway, list(_ONEWAY_FORWARD)),
    }  # fmt: skip
    return _network(crs, node_xy, pd.DataFrame(edges))


def _numeric(frame: pd.DataFrame, column: str) -> FloatArray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _network(crs: pyproj.CRS, node_xy: FloatArray, edges: pd.DataFrame) -> RoadNetwork:
    """A network from an edge table: u, v, line, length, fwd_min, bwd_min, fwd, bwd."""
    network = RoadNetwork(
        crs=crs,
        node_xy=node_xy,
        edge_u=edges["u"].to_numpy(dtype=np.int64),
        edge_v=edges["v"].to_numpy(dtype=np.int64),
        length_m=edges["length"].to_numpy(dtype=float),
        minutes_forward=edges["fwd_min"].to_numpy(dtype=float),
        minutes_backward=edges["bwd_min"].to_numpy(dtype=float),
        forward=edges["fwd"].to_numpy(dtype=bool),
        backward=edges["bwd"].to_numpy(dtype=bool),
        geometry=edges["line"].to_numpy(dtype=object),
    )
    log.info("road network: %d nodes, %d edges", network.n_nodes, network.n_edges)
    return network


def _require_metric(crs: Any) -> pyproj.CRS:
    if crs is None:
        raise ValueError("road network has no CRS: give a projected CRS in metres")
    metric: pyproj.CRS = pyproj.CRS.from_user_input(crs)
    units = {axis.unit_name for axis in metric.axis_info}
    if not metric.is_projected or not units <= {"metre", "meter"}:
        raise ValueError(
            f"road network must be in a projected CRS in metres, got {metric.name!r}; "
            "project it first (GeoDataFrame.to_crs, ox.project_graph)"
        )
    return metric


def _merge_points(points: FloatArray, tolerance_m: float) -> tuple[IntArray, FloatArray]:
    """Cluster points closer than the tolerance; return each point's node and node xy."""
    pairs = KDTree(points).query_pairs(tolerance_m, output_type="ndarray")
    n = len(points)
    links = sparse.coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = csgraph.connected_components(links, directed=False)
    first = np.unique(labels, return_index=True)[1]
    return labels.astype(np.int64), points[first]


# ----------------------------------------------------------------------------- GraphML


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read_graphml(path: Path, *, crs: pyproj.CRS | str | None, respect_oneway: bool) -> RoadNetwork:
    root = ET.parse(path).getroot()
    names = {
        (k.get("for", "all"), k.get("id", "")): k.get("attr.name", k.get("id", ""))
        for k in root
        if _local(k.tag) == "key"
    }
    graph = next((g for g in root if _local(g.tag) == "graph"), None)
    if graph is None:
        raise ValueError(f"{path}: no <graph> element")

    def data(element: ET.Element, kind: str) -> dict[str, str]:
        found = ((d.get("key", ""), d.text or "") for d in element if _local(d.tag) == "data")
        return {names.get((kind, k), names.get(("all", k), k)): t.strip() for k, t in found}

    attrs = data(graph, "graph")
    network_crs = _require_metric(attrs.get("crs") or crs)
    default_directed = graph.get("edgedefault", "undirected") == "directed"
    index: dict[str, int] = {}
    xy: list[tuple[float, float]] = []
    for node in (e for e in graph if _local(e.tag) == "node"):
        values = data(node, "node")
        try:
            xy.append((float(values["x"]), float(values["y"])))
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path}: node {node.get('id')!r} needs numeric x and y") from exc
        index[node.get("id", "")] = len(index)
    rows = []
    for edge in (e for e in graph if _local(e.tag) == "edge"):
        directed = edge.get("directed", str(default_directed).lower()) == "true"
        try:
            u, v = index[edge.get("source", "")], index[edge.get("target", "")]
        except KeyError as exc:
            raise ValueError(f"{path}: edge refers to unknown node {exc}") from exc
        rows.append((u, v, directed and respect_oneway, data(edge, "edge")))
    return _network_from_arcs(network_crs, np.array(xy, dtype=float).reshape(-1, 2), rows)


def _graphml_edge(
    u: int, v: int, values: dict[str, str], node_xy: FloatArray
) -> tuple[shapely.LineString, float, float]:
    """Geometry (from u to v), length in metres and minutes (NaN if unknown) of an edge."""
    line = shapely.from_wkt(values["geometry"]) if values.get("geometry") else None
    if line is None or line.is_empty:
        line = shapely.LineString([node_xy[u], node_xy[v]])
    else:
        start, end = shapely.get_coordinates(line)[[0, -1]]
        if np.hypot(*(start - node_xy[u])) > np.hypot(*(end - node_xy[u])):
            line = shapely.reverse(line)
    length = float(values["length"]) if values.get("length") else float(line.length)
    if values.get("travel_time"):
        minutes = float(values["travel_time"]) / 60.0
    elif values.get("minutes"):
        minutes = float(values["minutes"])
    elif values.get("speed_kph") or values.get("speed_kmh"):
        speed = float(values.get("speed_kph") or values["speed_kmh"])
        minutes = length / (speed * 1000.0 / 60.0) if speed > 0 else float("nan")
    else:
        minutes = float("nan")
    if length < 0 or minutes < 0:
        raise ValueError(f"edge {u}-{v}: length and travel time must not be negative")
    return line, length, minutes


def _network_from_arcs(
    crs: pyproj.CRS, node_xy: FloatArray, rows: list[tuple[int, int, bool, dict[str, str]]]
) -> RoadNetwork:
    """Edges from GraphML arcs; opposite one-way arcs of one road merge into one edge."""
    edges: list[list[Any]] = []  # u, v, line, length, fwd_min, bwd_min, fwd, bwd
    unpaired: dict[tuple[int, int, float], list[int]] = {}
    for u, v, one_way, values in rows:
        line, length, minutes = _graphml_edge(u, v, values, node_xy)
        twins = unpaired.get((v, u, round(length, 1)))
        if one_way and twins:
            twin = edges[twins.pop()]
            twin[5], twin[7] = minutes, True  # bwd_min, bwd
            continue
        edges.append([u, v, line, length, minutes, minutes, True, not one_way])
        if one_way:
            unpaired.setdefault((u, v, round(length, 1)), []).append(len(edges) - 1)
    columns = ["u", "v", "line", "length", "fwd_min", "bwd_min", "fwd", "bwd"]
    return _network(crs, node_xy, pd.DataFrame(edges, columns=columns))
