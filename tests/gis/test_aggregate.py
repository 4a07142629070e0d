"""Zone aggregation on a metric grid and the exact split of results back to the zones."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from gis.aggregate import aggregate_zones, disaggregate

UTM51 = "EPSG:32651"  # WGS 84 / UTM 51N, metres (eastern China)
CELL = 1000.0


def zones_in_metres(rows: list[dict[str, object]], crs: str = UTM51) -> gpd.GeoDataFrame:
    """Zones given with x, y in ``crs`` (metres), returned in WGS-84 like a read layer."""
    table = pd.DataFrame(rows)
    points = gpd.points_from_xy(table.pop("x"), table.pop("y"), crs=crs)
    return gpd.GeoDataFrame(table, geometry=points, crs=crs).to_crs("EPSG:4326")


def metric_xy(frame: gpd.GeoDataFrame, crs: str = UTM51) -> list[tuple[float, float]]:
    projected = frame.geometry.to_crs(crs)
    return [(float(p.x), float(p.y)) for p in projected]


def three_cells() -> gpd.GeoDataFrame:
    """Z1, Z2 in cell (500, 3700); Z3 in (501, 3700); Z4 in (499, 3701) of a 1 km grid."""
    return zones_in_metres(
        [
            {"zone_id": "Z2", "zone_type": "town", "name": "two", "county": "B",
             "population": 3000, "migrant_share": 0.3, "primary": 300, "junior": 10,
             "x": 500_900.0, "y": 3_700_700.0},
            {"zone_id": "Z1", "zone_type": "urban_core", "name": "one", "county": "A",
             "population": 1000, "migrant_share": 0.1, "primary": 100, "junior": 30,
             "x": 500_100.0, "y": 3_700_100.0},
            {"zone_id": "Z3", "zone_type": "rural", "name": "three", "county": "A",
             "population": 500, "migrant_share": 0.0, "primary": 40, "junior": 0,
             "x": 501_500.0, "y": 3_700_500.0},
            {"zone_id": "Z4", "zone_type": "rural", "name": "four", "county": "C",
             "population": 0, "migrant_share": 0.5, "primary": 0, "junior": 0,
             "x": 499_500.0, "y": 3_701_500.0},
        ]
    )


# --------------------------------------------------------------------------- aggregate


def test_hand_checked_cells() -> None:
    zones = three_cells()
    cells, _ = aggregate_zones(zones, cell_m=CELL, crs=UTM51)
    assert list(cells.columns) == list(zones.columns)
    assert cells.crs == "EPSG:4326"
    assert list(cells["zone_id"]) == ["agg_499_3701", "agg_500_3700", "agg_501_3700"]
    both = cells.set_index("zone_id").loc["agg_500_3700"]
    # Counts are summed: primary 100 + 300, junior 30 + 10, population 1000 + 3000.
    assert (both["primary"], both["junior"], both["population"]) == (400, 40, 4000)
    # migrant_share by population: (0.1 * 1000 + 0.3 * 3000) / 4000 = 0.25.
    assert both["migrant_share"] == pytest.approx(0.25)
    # zone_type of the member with more children (Z2: 310 against Z1: 130); county and
    # name of the first member in zone_id order (Z1).
    assert (both["zone_type"], both["county"], both["name"]) == ("town", "A", "one")
    # Centroid weighted by children (primary + junior): Z1 130, Z2 310.
    # x = (130 * 500100 + 310 * 500900) / 440 = 220292000 / 440 = 500663.6363...
    # y = (130 * 3700100 + 310 * 3700700) / 440 = 1628230000 / 440 = 3700522.7272...
    x, y = metric_xy(cells[cells["zone_id"] == "agg_500_3700"])[0]
    assert x == pytest.approx(220_292_000 / 440, abs=1e-3)
    assert y == pytest.approx(1_628_230_000 / 440, abs=1e-3)
    # A cell of one zone keeps that zone's point and values.
    single = metric_xy(cells[cells["zone_id"] == "agg_501_3700"])[0]
    assert single == pytest.approx((501_500.0, 3_700_500.0), abs=1e-3)
    # A cell whose weights are all 0 (Z4: no children) still gets its point (plain mean).
    empty = metric_xy(cells[cells["zone_id"] == "agg_499_3701"])[0]
    assert empty == pytest.approx((499_500.0, 3_701_500.0), abs=1e-3)


def test_hand_checked_membership() -> None:
    _, membership = aggregate_zones(three_cells(), cell_m=CELL, crs=UTM51)
    assert list(membership.columns) == ["zone_id", "agg_id", "stage", "weight"]
    rows = [tuple(r) for r in membership.itertuples(index=False)]
    assert rows == [
        ("Z4", "agg_499_3701", "primary", 1.0),
        ("Z4", "agg_499_3701", "junior", 1.0),
        ("Z1", "agg_500_3700", "primary", 0.25),  # 100 / 400
        ("Z1", "agg_500_3700", "junior", 0.75),  # 30 / 40
        ("Z2", "agg_500_3700", "primary", 0.75),
        ("Z2", "agg_500_3700", "junior", 0.25),
        ("Z3", "agg_501_3700", "primary", 1.0),
        ("Z3", "agg_501_3700", "junior", 1.0),  # no junior children: equal shares
    ]


def test_population_weights_without_stage_columns() -> None:
    zones = three_cells().drop(columns=["primary", "junior"])
    cells, membership = aggregate_zones(zones, cell_m=CELL, crs=UTM51)
    assert list(membership.columns) == ["zone_id", "agg_id", "weight"]
    weights = dict(zip(membership["zone_id"], membership["weight"], strict=True))
    assert weights == {"Z1": 0.25, "Z2": 0.75, "Z3": 1.0, "Z4": 1.0}  # 1000 / 4000 ...
    # Centroid by population: x = (1000 * 500100 + 3000 * 500900) / 4000 = 500700.
    x, y = metric_xy(cells[cells["zone_id"] == "agg_500_3700"])[0]
    assert (x, y) == pytest.approx((500_700.0, 3_700_550.0), abs=1e-3)


def test_plain_mean_without_counts() -> None:
    zones = three_cells()[["zone_id", "zone_type", "geometry"]]
    cells, membership = aggregate_zones(zones, cell_m=CELL, crs=UTM51)
    x, y = metric_xy(cells[cells["zone_id"] == "agg_500_3700"])[0]
    assert (x, y) == pytest.approx((500_500.0, 3_700_400.0), abs=1e-3)
    assert membership.set_index("zone_id").loc["Z1", "weight"] == 0.5
    # With no weights, zone_type falls to the first member in zone_id order (Z1).
    assert cells.set_index("zone_id").loc["agg_500_3700", "zone_type"] == "urban_core"


def test_negative_cell_indices_and_other_crs() -> None:
    # Web Mercator: x < 0 west of Greenwich, so floor(-111 m / 1000 m) = -1.
    zones = zones_in_metres([{"zone_id": "W", "x": -111.0, "y": 5.0}], crs="EPSG:3857")
    cells, _ = aggregate_zones(zones, cell_m=CELL, crs="EPSG:3857")
    assert list(cells["zone_id"]) == ["agg_-1_0"]


def test_polygons_use_their_metric_centroid() -> None:
    squares = gpd.GeoDataFrame(
        {"zone_id": ["P"], "population": [10]},
        geometry=[box(500_000, 3_700_000, 500_400, 3_700_200)],
        crs=UTM51,
    ).to_crs("EPSG:4326")
    cells, _ = aggregate_zones(squares, cell_m=CELL, crs=UTM51)
    assert cells.geometry.iloc[0].geom_type == "Point"
    assert metric_xy(cells)[0] == pytest.approx((500_200.0, 3_700_100.0), abs=0.5)


def test_input_order_does_not_matter() -> None:
    zones = three_cells()
    first = aggregate_zones(zones, cell_m=CELL, crs=UTM51)
    second = aggregate_zones(zones.iloc[::-1], cell_m=CELL, crs=UTM51)
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])


def test_empty_zones() -> None:
    zones = three_cells().iloc[0:0]
    cells, membership = aggregate_zones(zones, cell_m=CELL, crs=UTM51)
    assert cells.empty and membership.empty
    assert list(membership.columns) == ["zone_id", "agg_id", "stage", "weight"]


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (None, {"cell_m": 0.0}, "positive finite number of metres"),
        (None, {"cell_m": math.inf}, "positive finite"),
        (None, {"crs": "EPSG:4326"}, "projected CRS in metres"),
        ("duplicate", {}, "repeat zone_id Z1"),
        ("negative", {}, "'primary' must hold counts >= 0; bad values at zone_id Z3"),
        ("no_crs", {}, "no CRS"),
    ],
)
def test_bad_input_is_named(change: str | None, kwargs: dict[str, object], match: str) -> None:
    zones = three_cells()
    if change == "duplicate":
        zones.loc[zones["zone_id"] == "Z2", "zone_id"] = "Z1"
    elif change == "negative":
        zones.loc[zones["zone_id"] == "Z3", "primary"] = -1
    elif change == "no_crs":
        zones = zones.set_crs(None, allow_override=True)
    options: dict[str, object] = {"cell_m": CELL, "crs": UTM51, **kwargs}
    with pytest.raises(ValueError, match=match):
        aggregate_zones(zones, **options)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(400_000, 600_000), st.floats(3_600_000, 3_800_000),
            st.integers(0, 500), st.integers(0, 500),
        ),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from([250.0, 1000.0, 7500.0]),
)
def test_every_zone_in_its_own_cell_and_counts_kept(
    points: list[tuple[float, float, int, int]], cell_m: float
) -> None:
    zones = zones_in_metres([
        {"zone_id": f"z{k:02d}", "primary": p, "junior": j, "x": x, "y": y}
        for k, (x, y, p, j) in enumerate(points)
    ])
    cells, membership = aggregate_zones(zones, cell_m=cell_m, crs=UTM51)
    assert cells["primary"].sum() == zones["primary"].sum()
    assert cells["junior"].sum() == zones["junior"].sum()
    assert sorted(set(membership["zone_id"])) == sorted(zones["zone_id"])
    sums = membership.groupby(["agg_id", "stage"])["weight"].sum()
    assert np.allclose(sums, 1.0, atol=1e-12)
    # Each zone's metric point lies in the square its cell id names.
    agg_of = membership.drop_duplicates("zone_id").set_index("zone_id")["agg_id"]
    for zone_id, (x, y) in zip(zones["zone_id"], metric_xy(zones), strict=True):
        _, ix, iy = agg_of[zone_id].split("_")
        assert int(ix) * cell_m <= x + 1e-6 and x - 1e-6 < (int(ix) + 1) * cell_m
        assert int(iy) * cell_m <= y + 1e-6 and y - 1e-6 < (int(iy) + 1) * cell_m


# --------------------------------------------------------------------------- disaggregate


def test_hand_checked_split() -> None:
    _, membership = aggregate_zones(three_cells(), cell_m=CELL, crs=UTM51)
    frame = pd.DataFrame({
        "agg_id": ["agg_500_3700", "agg_500_3700", "agg_501_3700"],
        "school_id": ["S1", "S1", "S2"],
        "stage": ["primary", "junior", "primary"],
        "children": [200.0, 20.0, 7.0],
    })
    split = disaggregate(frame, membership, value_columns=["children"], stage_column="stage")
    assert list(split.columns) == ["zone_id", "school_id", "stage", "children"]
    assert split.values.tolist() == [
        ["Z1", "S1", "primary", 50.0],  # 200 * 0.25
        ["Z2", "S1", "primary", 150.0],  # 200 * 0.75
        ["Z1", "S1", "junior", 15.0],  # 20 * 0.75
        ["Z2", "S1", "junior", 5.0],  # 20 * 0.25
        ["Z3", "S2", "primary", 7.0],
    ]


def test_split_with_a_year_key() -> None:
    # Weights by zone, stage and year (as the pipeline derives them from the forecast).
    membership = pd.DataFrame({
        "zone_id": ["a", "b", "a", "b"],
        "agg_id": ["g", "g", "g", "g"],
        "stage": ["primary"] * 4,
        "year": [2025, 2025, 2030, 2030],
        "weight": [1.0, 3.0, 1.0, 1.0],  # not normalised: 1/4, 3/4 and 1/2, 1/2
    })
    frame = pd.DataFrame({"agg_id": ["g", "g"], "stage": ["primary"] * 2,
                          "year": [2025, 2030], "unmet": [8.0, 8.0]})
    split = disaggregate(frame, membership, value_columns=["unmet"], stage_column="stage")
    assert split[["zone_id", "year", "unmet"]].values.tolist() == [
        ["a", 2025, 2.0], ["b", 2025, 6.0], ["a", 2030, 4.0], ["b", 2030, 4.0],
    ]


def test_split_errors_name_the_problem() -> None:
    _, membership = aggregate_zones(three_cells(), cell_m=CELL, crs=UTM51)
    frame = pd.DataFrame({"agg_id": ["agg_9_9"], "stage": ["primary"], "children": [1.0]})
    with pytest.raises(ValueError, match=r"no members .* agg_9_9 / primary"):
        disaggregate(frame, membership, value_columns=["children"], stage_column="stage")
    with pytest.raises(ValueError, match="pass stage_column"):
        disaggregate(frame, membership, value_columns=["children"])
    bad = frame.assign(agg_id="agg_501_3700", children=math.nan)
    with pytest.raises(ValueError, match="'children' is not a finite number at rows 0"):
        disaggregate(bad, membership, value_columns=["children"], stage_column="stage")


@st.composite
def splits(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    groups = draw(st.integers(1, 6))
    members, values = [], []
    for g in range(groups):
        weights = draw(st.lists(st.floats(0, 1e6), min_size=1, max_size=7))
        members += [(f"g{g}z{k}", f"g{g}", w) for k, w in enumerate(weights)]
        value = draw(st.one_of(
            st.floats(0, 1e12), st.floats(-1e6, 1e6), st.floats(0, 1e-300),
            st.integers(0, 10_000).map(float),
        ))
        values.append((f"g{g}", value))
    membership = pd.DataFrame(members, columns=["zone_id", "agg_id", "weight"])
    frame = pd.DataFrame(values, columns=["agg_id", "children"])
    return frame, membership


@settings(max_examples=150, deadline=None)
@given(splits())
def test_split_preserves_sums_exactly(case: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    frame, membership = case
    split = disaggregate(frame, membership, value_columns=["children"])
    # Members come back in zone_id order, as in the membership built by splits().
    assert split["zone_id"].tolist() == membership["zone_id"].tolist()
    parts_of = split["children"].groupby(membership["agg_id"].to_numpy(), sort=False)
    weights_of = membership.groupby("agg_id", sort=False)["weight"]
    for (agg_id, value), (_, parts), (_, weights) in zip(
        frame.itertuples(index=False), parts_of, weights_of, strict=True
    ):
        values = parts.to_numpy()
        # Exact in every order of addition: left to right, reversed, numpy, fsum, pandas.
        assert sum(values.tolist()) == value, agg_id
        assert sum(reversed(values.tolist())) == value
        assert float(np.sum(values)) == value
        assert math.fsum(values) == value
        assert float(parts.sum()) == value
        assert all(np.sign(values) * np.sign(value) >= 0)
        # Proportional up to a few units in the last place of the value.
        w = weights.to_numpy()
        share = w / w.sum() if w.sum() > 0 else np.full(len(w), 1 / len(w))
        slack = 4 * np.spacing(abs(value)) + 4 * np.finfo(float).eps * abs(value)
        assert np.all(np.abs(values - value * share) <= slack)
