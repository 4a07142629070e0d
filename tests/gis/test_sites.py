"""Candidate sites: grid, exclusion rules (D-09, LAND) and J-22 reserved land, by hand."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from gis.sites import (
    LAND_M2_PER_PUPIL,
    filter_sites,
    grid_sites,
    min_land_area_m2,
    reserved_school_land,
)

CRS = "EPSG:32651"
X0, Y0 = 500_000.0, 3_400_000.0


def _area(*polygons: Polygon, crs: str = CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=list(polygons), crs=crs)


def test_min_land_area() -> None:
    # 24 classes x 45 pupils x 20 m² = 21,600 m²
    assert min_land_area_m2(24, 45, LAND_M2_PER_PUPIL["primary"]) == 21_600
    sizes = pd.Series([12, 18])
    assert list(min_land_area_m2(sizes, 50, LAND_M2_PER_PUPIL["junior"])) == [15_000, 22_500]
    assert LAND_M2_PER_PUPIL["senior"] == 28
    with pytest.raises(ValueError):
        min_land_area_m2(-1, 45, 20)


def test_grid_points_inside_the_area_with_stable_ids() -> None:
    # 1,000 m x 600 m rectangle starting on the grid: 500 m spacing gives 3 x 2 points
    sites = grid_sites(_area(box(X0, Y0, X0 + 1_000, Y0 + 600)), spacing_m=500, crs=CRS)
    assert list(sites["site_id"]) == [
        "grid_1000_6800", "grid_1001_6800", "grid_1002_6800",
        "grid_1000_6801", "grid_1001_6801", "grid_1002_6801",
    ]  # fmt: skip
    assert sites.crs == CRS
    assert set(sites["source"]) == {"grid"}
    assert sites.geometry.iloc[4].equals(Point(X0 + 500, Y0 + 500))
    # a triangle keeps only the points it covers; ids do not depend on the area
    triangle = Polygon([(X0, Y0), (X0 + 1_000, Y0), (X0, Y0 + 1_000)])
    inside = grid_sites(_area(triangle), spacing_m=500, crs=CRS)
    assert set(inside["site_id"]) == {
        "grid_1000_6800", "grid_1001_6800", "grid_1002_6800", "grid_1000_6801",
        "grid_1001_6801", "grid_1000_6802",
    }  # fmt: skip


def test_grid_reprojects_the_boundary_and_refuses_degrees() -> None:
    square = _area(box(X0, Y0, X0 + 1_000, Y0 + 1_000)).to_crs("EPSG:4326")
    assert len(grid_sites(square, spacing_m=250, crs=CRS)) > 0
    with pytest.raises(ValueError, match="projected CRS in metres"):
        grid_sites(square, spacing_m=250, crs="EPSG:4326")
    with pytest.raises(ValueError, match="spacing_m"):
        grid_sites(square, spacing_m=0, crs=CRS)


def _sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "site_id": ["A", "B", "C", "D", "E"],
            "land_area_m2": [30_000.0, 10_000.0, 25_000.0, np.nan, 5_000.0],
            "hazard": [False, True, "no", None, "yes"],
        },
        geometry=[Point(X0 + 100 * k, Y0) for k in range(5)],
        crs=CRS,
    )


def test_filter_sites_names_every_rule(caplog: pytest.LogCaptureFixture) -> None:
    # the polluted parcel covers A and C (x = 0 and 200); B (x = 100) lies in its hole
    polluted = Polygon(
        [(X0 - 50, Y0 - 50), (X0 + 250, Y0 - 50), (X0 + 250, Y0 + 50), (X0 - 50, Y0 + 50)],
        holes=[[(X0 + 50, Y0 - 20), (X0 + 150, Y0 - 20), (X0 + 150, Y0 + 20), (X0 + 50, Y0 + 20)]],
    )
    parcels = gpd.GeoDataFrame({"name": ["old tannery"]}, geometry=[polluted], crs=CRS)
    with caplog.at_level(logging.WARNING, logger="gis.sites"):
        kept, excluded = filter_sites(
            _sites(), exclusions={"D-09": parcels.to_crs("EPSG:4326")}, min_land_area_m2=20_000
        )
    assert list(kept["site_id"]) == ["D"]  # no land area: kept, with a warning
    assert "D" in caplog.text
    assert list(excluded.columns) == ["site_id", "rule_id", "reason"]
    rows = list(excluded[["site_id", "rule_id"]].itertuples(index=False, name=None))
    assert rows == [
        ("A", "D-09"),
        ("B", "D-09"),
        ("B", "LAND"),
        ("C", "D-09"),
        ("E", "D-09"),
        ("E", "LAND"),
    ]
    reasons = dict(zip(excluded["site_id"] + excluded["rule_id"], excluded["reason"], strict=True))
    assert "old tannery" in reasons["AD-09"]
    assert "hazard" in reasons["ED-09"]
    assert reasons["BLAND"] == "land 10,000 m² is below the minimum 20,000 m²"


def test_filter_sites_per_site_minimum_and_nothing_to_do() -> None:
    need = pd.Series([40_000.0, 0.0, 0.0, 0.0, 0.0])
    kept, excluded = filter_sites(_sites().drop(columns="hazard"), min_land_area_m2=need)
    assert list(excluded["site_id"]) == ["A"]
    assert len(kept) == 4
    kept, excluded = filter_sites(_sites().drop(columns="hazard"))
    assert len(kept) == 5
    assert excluded.empty
    assert list(excluded.columns) == ["site_id", "rule_id", "reason"]


def _projects() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "project_id": ["P1", "P2", "P3", "P4", "P5"],
            "reserved_school_land_m2": [20_000.0, 0.0, np.nan, 15_000.0, 12_000.0],
            "required_school_land_m2": [18_000.0, 18_000.0, 9_000.0, 20_000.0, 10_000.0],
            "stage": ["primary"] * 5,
        },
        geometry=[
            box(X0, Y0, X0 + 200, Y0 + 100),
            box(X0 + 500, Y0, X0 + 700, Y0 + 100),
            None,
            box(X0 + 900, Y0, X0 + 1_000, Y0 + 150),
            None,
        ],
        crs=CRS,
    )


def test_reserved_school_land_becomes_sites_and_gaps_are_reported() -> None:
    sites, report = reserved_school_land(_projects())
    assert list(sites["site_id"]) == ["J22-P1", "J22-P4"]
    assert list(sites["source"]) == ["J-22 reserved land"] * 2
    assert list(sites["land_area_m2"]) == [20_000.0, 15_000.0]
    assert list(sites["stage"]) == ["primary", "primary"]
    assert sites.crs == CRS
    assert sites.geometry.iloc[0].within(box(X0, Y0, X0 + 200, Y0 + 100))
    assert list(report.columns) == ["project_id", "rule_id", "reason"]
    assert list(report["project_id"]) == ["P2", "P3", "P4", "P5"]
    assert set(report["rule_id"]) == {"J-22"}
    reasons = dict(zip(report["project_id"], report["reason"], strict=True))
    assert "reserves no school land (reserved_school_land_m2 is 0)" in reasons["P2"]
    assert "is blank" in reasons["P3"]
    assert "less than the 20,000 m²" in reasons["P4"]
    assert "no location" in reasons["P5"]


def test_reserved_parcel_geometry_is_used_when_given() -> None:
    projects = _projects()
    parcel = box(X0 + 5_000, Y0, X0 + 5_100, Y0 + 100)
    projects["parcel"] = gpd.GeoSeries([None, None, None, None, parcel], crs=CRS)
    sites, report = reserved_school_land(projects, parcel_column="parcel")
    assert list(sites["site_id"]) == ["J22-P1", "J22-P4", "J22-P5"]
    assert sites.geometry.iloc[2].within(parcel)
    assert "P5" not in set(report["project_id"])
