"""Road-network travel: hand-drawn networks with distances worked out on paper."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from gis.network import network_from_lines, read_network
from gis.travel import network_pairs, snap_points, straight_line_pairs, unreachable

CRS = "EPSG:32651"  # UTM 51N, metres
X0, Y0 = 500_000.0, 3_400_000.0


def _lines(
    segments: list[tuple[tuple[float, float], ...]], **columns: list[object]
) -> gpd.GeoDataFrame:
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in seg]) for seg in segments]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=CRS)


def _points(column: str, items: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {column: list(items)},
        geometry=[Point(X0 + x, Y0 + y) for x, y in items.values()],
        crs=CRS,
    )


def _grid() -> gpd.GeoDataFrame:
    """3 x 3 grid of 100 m blocks (12 edges) plus one separate road 1 km east."""
    segments: list[tuple[tuple[float, float], ...]] = []
    for i in range(3):
        for j in range(2):
            segments.append(((100 * j, 100 * i), (100 * (j + 1), 100 * i)))  # east-west
            segments.append(((100 * i, 100 * j), (100 * i, 100 * (j + 1))))  # north-south
    segments.append(((1000, 0), (1100, 0)))  # its own component
    return _lines(segments)


# A is 10 m south of the bottom road, 30 m along it; B is next to the separate road;
# C is 5 km away from every road.
ORIGINS = {"A": (30, -10), "B": (1050, 10), "C": (5000, 5000)}
# S1 is 10 m north of the top-right corner, S2 is 5 m north of the bottom road at x=150,
# S3 is 3 m north of the bottom road at x=80 (same edge as A), S4 is on the separate road.
DESTINATIONS = {"S1": (200, 210), "S2": (150, 5), "S3": (80, 3), "S4": (1050, 0)}
EXPECTED = {
    ("A", "S1"): 10 + 70 + 100 + 200 + 10,  # snap, to corner (100,0), east, north, snap
    ("A", "S2"): 10 + 70 + 50 + 5,
    ("A", "S3"): 10 + 50 + 3,  # straight along the shared edge
    ("B", "S4"): 10 + 0 + 0,
}


def _pairs(limit: pd.Series | float = 1_000.0, **kwargs: float) -> pd.DataFrame:
    return network_pairs(
        _points("zone_id", ORIGINS),
        _points("school_id", DESTINATIONS),
        network_from_lines(_grid()),
        origin_id="zone_id",
        destination_id="school_id",
        limit_m=limit,
        **kwargs,
    )


def _as_dict(pairs: pd.DataFrame, column: str = "distance_m") -> dict[tuple[str, str], float]:
    return {
        (o, d): v for o, d, v in pairs[["zone_id", "school_id", column]].itertuples(index=False)
    }


def test_grid_distances_match_hand_computation() -> None:
    pairs = _pairs(speed_kmh=6.0)  # 100 m per minute
    assert list(pairs.columns) == ["zone_id", "school_id", "distance_m", "minutes"]
    assert _as_dict(pairs) == pytest.approx(EXPECTED)
    assert _as_dict(pairs, "minutes") == pytest.approx({k: v / 100 for k, v in EXPECTED.items()})
    assert list(pairs["zone_id"]) == ["A", "A", "A", "B"]  # sorted by origin, destination


def test_network_has_nodes_at_endpoints() -> None:
    network = network_from_lines(_grid())
    assert network.n_edges == 13
    assert network.n_nodes == 9 + 2


def test_limit_prunes_pairs() -> None:
    assert set(_as_dict(_pairs(200.0))) == {("A", "S2"), ("A", "S3"), ("B", "S4")}
    per_origin = pd.Series([100.0, 5.0, 1e6])  # A, B, C
    assert set(_as_dict(_pairs(per_origin))) == {("A", "S3")}


def test_snap_distance_is_included() -> None:
    pairs = _as_dict(_pairs())
    assert pairs[("A", "S3")] == pytest.approx(63.0)  # 10 + 50 + 3, not 50
    snaps = snap_points(
        _points("zone_id", ORIGINS), network_from_lines(_grid()), id_column="zone_id"
    )
    assert list(snaps["snap_m"][:2]) == [10.0, 10.0]
    assert list(snaps["on_network"]) == [True, True, False]


def test_far_and_disconnected_origins_are_unreachable() -> None:
    pairs = _pairs()
    assert ("A", "S4") not in _as_dict(pairs)  # S4 is on another component
    origins = _points("zone_id", {**ORIGINS, "D": (1500, 0)})  # near nothing reachable...
    report = unreachable(origins, pairs, origin_id="zone_id")
    assert list(report["zone_id"]) == ["C", "D"]
    snaps = snap_points(origins, network_from_lines(_grid()), id_column="zone_id")
    report = unreachable(origins, pairs, origin_id="zone_id", snaps=snaps)
    reasons = dict(report.itertuples(index=False))
    assert "from the nearest road" in reasons["C"]
    assert "within the travel limit" in reasons["D"]


def test_same_result_searching_from_either_side() -> None:
    network = network_from_lines(_grid())
    schools = _points("school_id", DESTINATIONS)
    few = _points("zone_id", {"A": ORIGINS["A"]})  # 1 origin < 4 schools: from origins
    many = _points("zone_id", {"A": ORIGINS["A"], **{f"X{i}": (3000, i) for i in range(5)}})
    a = network_pairs(
        few, schools, network, origin_id="zone_id", destination_id="school_id", limit_m=1e3
    )
    b = network_pairs(
        many, schools, network, origin_id="zone_id", destination_id="school_id", limit_m=1e3
    )
    pd.testing.assert_frame_equal(a, b)


def _triangle(**columns: list[object]) -> gpd.GeoDataFrame:
    # P(0,0) -> Q(100,0) is one-way; P-R and R-Q (R at (50,300)) are two-way.
    return _lines([((0, 0), (100, 0)), ((0, 0), (50, 300)), ((50, 300), (100, 0))], **columns)


def test_oneway_is_respected() -> None:
    lines = _triangle(oneway=["yes", None, "no"], speed_kmh=[60.0, 30.0, 30.0])
    west, east = {"W": (10, -1)}, {"E": (90, -1)}
    detour = 1 + 10 + 2 * np.hypot(50, 300) + 10 + 1

    def distance(
        network_kwargs: dict[str, bool],
        start: dict[str, tuple[float, float]],
        end: dict[str, tuple[float, float]],
    ) -> pd.DataFrame:
        return network_pairs(
            _points("o", start),
            _points("d", end),
            network_from_lines(lines, **network_kwargs),
            origin_id="o",
            destination_id="d",
            limit_m=1e4,
            speed_kmh=6.0,
        )

    ahead = distance({}, west, east)
    assert ahead["distance_m"].item() == pytest.approx(82.0)
    # 2 m of snap legs at 100 m/min, 80 m at 60 km/h = 1000 m/min
    assert ahead["minutes"].item() == pytest.approx(0.02 + 0.08)
    back = distance({}, east, west)
    assert back["distance_m"].item() == pytest.approx(detour, abs=1e-3)
    # snap legs walked; 10 m + 10 m of the one-way edge at 1000 m/min; the detour at 500
    assert back["minutes"].item() == pytest.approx(
        0.02 + 0.02 + 2 * np.hypot(50, 300) / 500, abs=1e-3
    )
    walking = distance({"respect_oneway": False}, east, west)
    assert walking["distance_m"].item() == pytest.approx(82.0)


def test_endpoints_within_tolerance_are_merged() -> None:
    near = _lines([((0, 0), (100, 0)), ((100.3, 0), (200, 0))])
    far = _lines([((0, 0), (100, 0)), ((102, 0), (200, 0))])
    assert network_from_lines(near).n_nodes == 3
    assert network_from_lines(far).n_nodes == 4


def test_geographic_crs_is_refused() -> None:
    lines = gpd.GeoDataFrame(geometry=[LineString([(120, 33), (120.01, 33)])], crs="EPSG:4326")
    with pytest.raises(ValueError, match="projected CRS in metres"):
        network_from_lines(lines)
    origins = _points("zone_id", ORIGINS).to_crs("EPSG:4326")
    with pytest.raises(ValueError, match="network's CRS"):
        network_pairs(
            origins,
            origins,
            network_from_lines(_grid()),
            origin_id="zone_id",
            destination_id="zone_id",
            limit_m=100.0,
        )


def test_read_network_from_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "roads.gpkg"
    _triangle(oneway=[True, False, False], speed_kmh=[60.0, 30.0, 30.0]).to_file(
        path, layer="roads"
    )
    network = read_network(path, layer="roads")
    assert network.n_edges == 3
    assert list(network.forward) == [True, True, True]
    assert list(network.backward) == [False, True, True]
    assert network.minutes_forward[0] == pytest.approx(0.1)  # 100 m at 60 km/h


GRAPHML = """<?xml version="1.0" encoding="utf-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="d0" for="graph" attr.name="crs" attr.type="string"/>
  <key id="d1" for="node" attr.name="x" attr.type="double"/>
  <key id="d2" for="node" attr.name="y" attr.type="double"/>
  <key id="d3" for="edge" attr.name="length" attr.type="double"/>
  <key id="d4" for="edge" attr.name="travel_time" attr.type="double"/>
  <key id="d5" for="edge" attr.name="speed_kph" attr.type="double"/>
  <graph edgedefault="directed">
    <data key="d0">{crs}</data>
    <node id="n1"><data key="d1">{x0}</data><data key="d2">{y0}</data></node>
    <node id="n2"><data key="d1">{x1}</data><data key="d2">{y0}</data></node>
    <node id="n3"><data key="d1">{x1}</data><data key="d2">{y1}</data></node>
    <edge source="n1" target="n2"><data key="d3">120</data><data key="d4">12</data></edge>
    <edge source="n2" target="n1"><data key="d3">120</data><data key="d4">24</data></edge>
    <edge source="n2" target="n3"><data key="d3">100</data><data key="d5">36</data></edge>
    <edge source="n3" target="n2"><data key="d3">100</data><data key="d5">36</data></edge>
  </graph>
</graphml>
"""


def _graphml(tmp_path: Path, crs: str = "epsg:32651") -> Path:
    path = tmp_path / "roads.graphml"
    text = GRAPHML.format(crs=crs, x0=X0, y0=Y0, x1=X0 + 100, y1=Y0 + 100)
    path.write_text(text, encoding="utf-8")
    return path


def test_graphml_round_trip(tmp_path: Path) -> None:
    network = read_network(_graphml(tmp_path))
    assert (network.n_nodes, network.n_edges) == (3, 2)  # opposite arcs merged
    assert network.forward.all() and network.backward.all()
    home, school = _points("o", {"H": (0, -5)}), _points("d", {"K": (105, 100)})
    kwargs = {"limit_m": 1e3, "speed_kmh": 6.0}
    there = network_pairs(home, school, network, origin_id="o", destination_id="d", **kwargs)
    assert there["distance_m"].item() == pytest.approx(5 + 120 + 100 + 5)  # `length`, not xy
    # 10 m of snap legs at 100 m/min, 12 s on n1->n2, 100 m at 36 km/h = 10 s
    assert there["minutes"].item() == pytest.approx(0.1 + 22 / 60, abs=1e-3)
    home, school = _points("o", {"H": (105, 100)}), _points("d", {"K": (0, -5)})
    back = network_pairs(home, school, network, origin_id="o", destination_id="d", **kwargs)
    assert back["minutes"].item() == pytest.approx(0.1 + 34 / 60, abs=1e-3)  # 24 s on n2->n1


def test_graphml_in_degrees_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="projected CRS in metres"):
        read_network(_graphml(tmp_path, crs="epsg:4326"))


def test_straight_line_never_exceeds_network_distance() -> None:
    rng = np.random.default_rng(7)
    origins = _points("zone_id", {f"Z{i}": tuple(rng.uniform(-20, 220, 2)) for i in range(30)})
    schools = _points("school_id", {f"S{i}": tuple(rng.uniform(-20, 220, 2)) for i in range(12)})
    kwargs = {"origin_id": "zone_id", "destination_id": "school_id", "limit_m": 1e4}
    road = network_pairs(origins, schools, network_from_lines(_grid()), **kwargs)
    line = straight_line_pairs(origins, schools, **kwargs)
    both = line.merge(road, on=["zone_id", "school_id"], suffixes=("_line", "_road"))
    assert len(both) == len(line) == 30 * 12  # one connected grid: every pair reached
    assert (both["distance_m_line"] <= both["distance_m_road"] + 1e-6).all()


def test_empty_inputs_give_empty_pairs() -> None:
    none = _points("zone_id", {})
    pairs = network_pairs(
        none,
        _points("school_id", DESTINATIONS),
        network_from_lines(_grid()),
        origin_id="zone_id",
        destination_id="school_id",
        limit_m=100.0,
    )
    assert list(pairs.columns) == ["zone_id", "school_id", "distance_m", "minutes"]
    assert pairs.empty
