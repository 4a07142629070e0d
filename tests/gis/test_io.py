from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from gis.crs import WGS84, gcj02_to_wgs84
from gis.errors import InputError, Problem
from gis.io import ColumnSpec, read_layer

REPO = Path(__file__).resolve().parents[2]
DAFENG_BOUNDARY = REPO / "scenarios" / "dafeng" / "data" / "320904.geojson"

SCHOOL_COLUMNS = (
    ColumnSpec("school_id", "id"),
    ColumnSpec("name", "text"),
    ColumnSpec("classes", "count", integer=True),
    ColumnSpec("capacity", "count"),
    ColumnSpec("area_m2", "number", required=False),
    ColumnSpec("boarding", "flag"),
    ColumnSpec("level", "choice", choices=("primary", "middle")),
)

GOOD_CSV = """school_id,name,lon,lat,classes,capacity,boarding,level
007,大中小学,120.47,33.20,12,540,是,primary
S2,Second,120.60,33.30,6,270.5,no,Middle
"""


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def _problems(path: Path, **kwargs: object) -> list[Problem]:
    kwargs.setdefault("label", f"data/{path.name}")
    with pytest.raises(InputError) as caught:
        read_layer(path, **kwargs)  # type: ignore[arg-type]
    return list(caught.value.problems)


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def _schools_csv(tmp_path: Path, rows: str, header: str = "") -> Path:
    header = header or "school_id,name,lon,lat,classes,capacity,boarding,level"
    return _write(tmp_path, "schools.csv", f"{header}\n{rows}")


def _geo_file(tmp_path: Path, frame: gpd.GeoDataFrame, name: str, **kwargs: object) -> Path:
    path = tmp_path / name
    frame.to_file(path, engine="pyogrio", **kwargs)
    return path


# ----------------------------------------------------------------------------- good files


def test_good_csv_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, "schools.csv", "\ufeff" + GOOD_CSV)  # Excel's BOM
    layer = read_layer(path, label="schools.csv", columns=SCHOOL_COLUMNS, id_column="school_id")
    assert layer.crs == pyproj.CRS.from_user_input(WGS84)
    assert list(layer.index) == [0, 1]
    assert list(layer["school_id"]) == ["007", "S2"]
    assert list(layer["name"]) == ["大中小学", "Second"]
    assert layer["classes"].dtype == np.int64
    assert list(layer["classes"]) == [12, 6]
    assert layer["capacity"].dtype == np.float64
    assert list(layer["capacity"]) == [540.0, 270.5]
    assert layer["boarding"].dtype == bool
    assert list(layer["boarding"]) == [True, False]
    assert list(layer["level"]) == ["primary", "middle"]
    assert "area_m2" not in layer.columns  # optional and absent: not added
    assert "lon" not in layer.columns
    assert "lat" not in layer.columns
    assert layer.geometry.iloc[0].equals(shapely.Point(120.47, 33.20))
    assert pd.api.types.is_string_dtype(layer["school_id"])


def test_csv_custom_coordinate_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "v.csv", "id,经度,纬度\nA,120.5,33.1\n")
    layer = read_layer(path, label="v.csv", lon_column="经度", lat_column="纬度")
    assert layer.geometry.iloc[0].equals(shapely.Point(120.5, 33.1))


def test_good_geojson_loads(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"school_id": [1, 2], "classes": [3.0, 4.0], "boarding": [True, False]},
        geometry=[shapely.Point(120.5, 33.2), shapely.Point(120.6, 33.3)],
        crs=WGS84,
    )
    path = _geo_file(tmp_path, frame, "schools.geojson")
    layer = read_layer(
        path,
        label="schools.geojson",
        geometry_types=("Point",),
        columns=(
            ColumnSpec("classes", "count", integer=True),
            ColumnSpec("boarding", "flag"),
        ),
        id_column="school_id",
    )
    assert layer.crs == pyproj.CRS.from_user_input(WGS84)
    assert list(layer["school_id"]) == ["1", "2"]
    assert list(layer["classes"]) == [3, 4]
    assert list(layer["boarding"]) == [True, False]


def test_good_projected_gpkg_comes_back_in_wgs84(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"village": ["a"]}, geometry=[shapely.box(120.5, 33.2, 120.51, 33.21)], crs=WGS84
    ).to_crs("EPSG:4549")
    path = _geo_file(tmp_path, frame, "villages.gpkg")
    layer = read_layer(path, label="villages.gpkg", datum="cgcs2000", id_column="village")
    assert layer.crs == pyproj.CRS.from_user_input(WGS84)
    minx, _, _, maxy = layer.total_bounds
    assert minx == pytest.approx(120.5, abs=1e-7)
    assert maxy == pytest.approx(33.21, abs=1e-7)


def test_gcj02_datum_shifts_points(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat\nA,120.56,33.24\n")
    plain = read_layer(path, label="s.csv")
    shifted = read_layer(path, label="s.csv", datum="gcj02")
    expected = gcj02_to_wgs84(120.56, 33.24)
    point = shifted.geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx(expected, abs=1e-12)
    assert plain.geometry.iloc[0].distance(point) > 0.003  # several hundred metres


def test_shipped_bare_geometry_boundary_loads() -> None:
    layer = read_layer(
        DAFENG_BOUNDARY,
        label="data/320904.geojson",
        geometry_types=("Polygon", "MultiPolygon"),
    )
    assert len(layer) == 1
    assert layer.crs == pyproj.CRS.from_user_input(WGS84)
    assert layer.geometry.iloc[0].geom_type == "MultiPolygon"
    minx, miny, maxx, maxy = layer.total_bounds
    assert 120.0 < minx < maxx < 121.5
    assert 32.8 < miny < maxy < 33.8


def test_bare_polygon_geojson_loads(tmp_path: Path) -> None:
    geometry = {"type": "Polygon", "coordinates": [[[120, 33], [121, 33], [121, 34], [120, 33]]]}
    path = _write(tmp_path, "b.geojson", json.dumps(geometry))
    layer = read_layer(path, label="b.geojson", geometry_types=("Polygon",))
    assert layer.geometry.iloc[0].equals(shapely.geometry.shape(geometry))


def test_gpkg_layer_choice(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(120.5, 33.2)], crs=WGS84)
    path = _geo_file(tmp_path, frame, "multi.gpkg", layer="schools")
    frame.to_file(path, layer="villages", engine="pyogrio")
    problem = _only(_problems(path))
    assert problem.source == "data/multi.gpkg"
    assert "'schools'" in problem.message
    assert "'villages'" in problem.message
    assert len(read_layer(path, label="x", layer="villages")) == 1
    problem = _only(_problems(path, layer="roads"))
    assert "no layer 'roads'" in problem.message
    assert "'villages'" in problem.message


def test_parquet(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(120.5, 33.2)], crs=WGS84)
    path = tmp_path / "s.parquet"
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        path.write_bytes(b"PAR1 not really parquet")
        problem = _only(_problems(path))
        assert "pyarrow" in problem.message
        return
    frame.to_parquet(path)
    layer = read_layer(path, label="s.parquet", id_column="id")
    assert layer.crs == pyproj.CRS.from_user_input(WGS84)
    assert list(layer["id"]) == ["a"]


# ----------------------------------------------------------------------------- the file


def test_missing_file_suggests_similar_names(tmp_path: Path) -> None:
    _write(tmp_path, "schools.csv", GOOD_CSV)
    problem = _only(_problems(tmp_path / "school.csv", label="data/school.csv"))
    assert problem.source == "data/school.csv"
    assert "not found" in problem.message
    assert "'schools.csv'" in problem.message


def test_missing_file_without_neighbours(tmp_path: Path) -> None:
    problem = _only(_problems(tmp_path / "nothing" / "x.csv", label="nothing/x.csv"))
    assert "not found" in problem.message
    assert "nothing" in problem.message


def test_unknown_extension_lists_supported(tmp_path: Path) -> None:
    path = _write(tmp_path, "schools.xls", "x")
    problem = _only(_problems(path))
    assert problem.source == "data/schools.xls"
    assert "'.xls'" in problem.message
    for suffix in (".csv", ".geojson", ".json", ".gpkg", ".parquet", ".xlsx"):
        assert suffix in problem.message
    assert "CSV UTF-8" in problem.message


@pytest.mark.parametrize("name", ["s.csv", "s.geojson", "s.gpkg"])
def test_zero_byte_file_is_empty(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, name, "")
    problem = _only(_problems(path))
    assert problem.source == f"data/{name}"
    assert "empty" in problem.message


def test_header_only_csv(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat\n,,\n")
    assert "no data rows" in _only(_problems(path)).message


def test_geojson_without_features(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.geojson", '{"type": "FeatureCollection", "features": []}')
    assert "no features" in _only(_problems(path)).message


def test_malformed_geojson(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.geojson", '{"type": "FeatureCollection", "features": [')
    problem = _only(_problems(path))
    assert problem.source == "data/s.geojson"
    assert "cannot be read as GeoJSON" in problem.message
    assert "\n" not in str(problem)
    assert str(tmp_path) not in problem.message


def test_malformed_csv(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", 'id,lon,lat\nA,120,33\nB,"120,33\n')
    problem = _only(_problems(path))
    assert "cannot be read as CSV" in problem.message
    assert "\n" not in str(problem)


def test_non_utf8_csv(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,name,lon,lat\nA,大丰中学,120,33\n", encoding="gbk")
    problem = _only(_problems(path))
    assert problem.source == "data/s.csv"
    assert "UTF-8" in problem.message
    assert "GBK" in problem.message
    assert "line 2" in problem.message


def test_gpkg_without_crs(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(120.5, 33.2)])
    with pytest.warns(UserWarning, match="crs"):
        path = _geo_file(tmp_path, frame, "s.gpkg")
    problem = _only(_problems(path))
    assert problem.source == "data/s.gpkg"
    assert "no coordinate reference system" in problem.message


def test_engineering_crs_cannot_be_used(tmp_path: Path) -> None:
    local = pyproj.CRS.from_wkt(
        'LOCAL_CS["site grid",LOCAL_DATUM["x",32767],UNIT["metre",1],'
        'AXIS["X",EAST],AXIS["Y",NORTH]]'
    )
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(100.0, 200.0)], crs=local)
    path = _geo_file(tmp_path, frame, "s.gpkg")
    problem = _only(_problems(path))
    assert "CRS that cannot be used" in problem.message
    assert "site grid" in problem.message


def test_projected_gpkg_with_gcj02_datum(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(120.5, 33.2)], crs=WGS84)
    path = _geo_file(tmp_path, frame.to_crs("EPSG:4549"), "s.gpkg")
    problem = _only(_problems(path, datum="gcj02"))
    assert "gcj02" in problem.message
    assert "projected" in problem.message


def test_metres_labelled_as_degrees(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        geometry=[shapely.Point(120.5, 33.2), shapely.Point(512345.0, 3678901.0)], crs=WGS84
    )
    path = _geo_file(tmp_path, frame, "s.geojson")
    problem = _only(_problems(path))
    assert problem.where == "feature 2"
    assert "projected" in problem.message
    assert "512345" in (problem.value or "")


def test_csv_coordinates_look_projected(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat\nA,512345,3678901\nB,120,33\n")
    problem = _only(_problems(path))
    assert problem.where == "row 2"
    assert "projected" in problem.message


def test_csv_coordinates_swapped(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat\nA,33.2,120.5\n")
    assert "swapped" in _only(_problems(path)).message


# ----------------------------------------------------------------------------- CSV coordinates


def test_csv_missing_coordinate_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lng,latitude\nA,120,33\n")
    problems = _problems(path)
    assert len(problems) == 2
    lon, lat = problems
    assert lon.source == lat.source == "data/s.csv"
    assert lon.where == "column lon"
    assert "longitude column is missing" in lon.message
    assert lat.where == "column lat"
    assert "'latitude'" in lat.message


def test_csv_bad_coordinate_values(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "s.csv", "id,lon,lat\nA,120.5,33\nB,,33\nC,东经120度,33\nD,120.1,abc\n"
    )
    problems = _problems(path)
    assert len(problems) == 3
    empty, bad_lon, bad_lat = problems
    assert empty.where == "row 3, column lon"
    assert "empty" in empty.message
    assert bad_lon.where == "row 4, column lon"
    assert bad_lon.value == "'东经120度'"
    assert "not a number" in bad_lon.message
    assert bad_lat.where == "row 5, column lat"
    assert bad_lat.value == "'abc'"
    assert "data/s.csv: row 5, column lat" in str(bad_lat)


def test_csv_blank_lines_keep_spreadsheet_row_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat\nA,120,33\n\n,,\nB,x,33\n")
    problem = _only(_problems(path))
    assert problem.where == "row 5, column lon"
    layer = read_layer(_write(tmp_path, "t.csv", "id,lon,lat\nA,120,33\n\nB,121,33\n"), label="t")
    assert list(layer["id"]) == ["A", "B"]


def test_csv_duplicate_header(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat,classes,classes\nA,120,33,1,2\n")
    problem = _only(_problems(path))
    assert problem.where == "row 1"
    assert problem.value == "'classes'"


# ----------------------------------------------------------------------------- geometries


def _polygons(tmp_path: Path, geometries: list[shapely.Geometry | None]) -> Path:
    frame = gpd.GeoDataFrame({"n": list(range(len(geometries)))}, geometry=geometries, crs=WGS84)
    return _geo_file(tmp_path, frame, "areas.geojson")


def test_null_geometry(tmp_path: Path) -> None:
    path = _polygons(tmp_path, [shapely.box(120, 33, 121, 34), None])
    problem = _only(_problems(path, geometry_types=("Polygon",)))
    assert problem.source == "data/areas.geojson"
    assert problem.where == "feature 2"
    assert "no geometry" in problem.message


def test_invalid_geometry(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(120, 33), (121, 34), (121, 33), (120, 34), (120, 33)])
    path = _polygons(tmp_path, [shapely.box(120, 33, 121, 34), bowtie])
    problem = _only(_problems(path))
    assert problem.where == "feature 2"
    assert "invalid" in problem.message
    assert "Self-intersection" in (problem.value or "")


def test_wrong_geometry_type(tmp_path: Path) -> None:
    path = _polygons(tmp_path, [shapely.box(120, 33, 121, 34), shapely.Point(120.5, 33.5)])
    problem = _only(_problems(path, geometry_types=("Polygon", "MultiPolygon")))
    assert problem.where == "feature 2"
    assert "Polygon or MultiPolygon" in problem.message
    assert problem.value == "'Point'"


# ----------------------------------------------------------------------------- columns


def test_missing_required_column_did_you_mean(tmp_path: Path) -> None:
    path = _schools_csv(
        tmp_path,
        "S1,A,120,33,12,540,yes,primary\n",
        header="school_id,name,lon,lat,clases,capacity,boarding,level",
    )
    problem = _only(_problems(path, columns=SCHOOL_COLUMNS))
    assert problem.source == "data/schools.csv"
    assert problem.where == "column classes"
    assert "missing" in problem.message
    assert "did you mean 'clases'?" in problem.message


def test_missing_required_column_lists_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat\nA,120,33\n")
    problem = _only(_problems(path, columns=(ColumnSpec("teachers", "count"),)))
    assert problem.where == "column teachers"
    assert "'id'" in problem.message


def test_empty_and_duplicate_ids(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "s.csv", "id,lon,lat\nA,120,33\n,120,33\nA,120,33\nB,120,33\nB,120,33\n"
    )
    empty, duplicate = _problems(path, id_column="id")
    assert empty.where == "row 3, column id"
    assert "empty" in empty.message
    assert duplicate.where == "rows 2, 4, 5, 6, column id"
    assert "duplicate" in duplicate.message
    assert duplicate.value == "'A' in rows 2, 4; 'B' in rows 5, 6"


def test_count_problems(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat,classes\nA,120,33,12\nB,120,33,twelve\n"
                  "C,120,33,-3\nD,120,33,2.5\nE,120,33,\n")
    problems = _problems(path, columns=(ColumnSpec("classes", "count", integer=True),))
    by_row = {p.where: p for p in problems}
    assert set(by_row) == {
        "row 3, column classes", "row 4, column classes", "row 5, column classes",
        "row 6, column classes",
    }
    assert "not a number" in by_row["row 3, column classes"].message
    assert by_row["row 3, column classes"].value == "'twelve'"
    assert "negative" in by_row["row 4, column classes"].message
    assert by_row["row 4, column classes"].value == "'-3'"
    assert "whole number" in by_row["row 5, column classes"].message
    assert by_row["row 5, column classes"].value == "'2.5'"
    assert "empty" in by_row["row 6, column classes"].message


def test_fractional_count_allowed_without_integer(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat,students\nA,120,33,2.5\n")
    layer = read_layer(path, label="s", columns=(ColumnSpec("students", "count"),))
    assert list(layer["students"]) == [2.5]


def test_number_problems(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", 'id,lon,lat,area\nA,120,33,-1.5\nB,120,33,"1,234"\n')
    problem = _only(_problems(path, columns=(ColumnSpec("area", "number"),)))
    assert problem.where == "row 3, column area"
    assert problem.value == "'1,234'"
    assert "thousands separators" in problem.message


def test_flag_problems(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat,b\nA,120,33,YES\nB,120,33,否\nC,120,33,maybe\n")
    problem = _only(_problems(path, columns=(ColumnSpec("b", "flag"),)))
    assert problem.where == "row 4, column b"
    assert problem.value == "'maybe'"
    assert "是/否" in problem.message


def test_choice_problems(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat,level\nA,120,33,primary\nB,120,33,high\n")
    spec = ColumnSpec("level", "choice", choices=("primary", "middle"))
    problem = _only(_problems(path, columns=(spec,)))
    assert problem.where == "row 3, column level"
    assert problem.value == "'high'"
    assert "'primary', 'middle'" in problem.message


def test_optional_column_present_with_blank(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat,area\nA,120,33,\n")
    problem = _only(_problems(path, columns=(ColumnSpec("area", "number", required=False),)))
    assert problem.where == "row 2, column area"
    assert "delete the whole column" in problem.message


def test_geo_file_columns_name_features(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"classes": [1.0, -2.0, None]},
        geometry=[shapely.Point(120.5, 33.2)] * 3,
        crs=WGS84,
    )
    path = _geo_file(tmp_path, frame, "s.gpkg")
    negative, empty = sorted(
        _problems(path, columns=(ColumnSpec("classes", "count"),)), key=lambda p: p.where
    )
    assert negative.where == "feature 2, column classes"
    assert negative.value == "'-2'"
    assert empty.where == "feature 3, column classes"


def test_long_lists_are_shortened(tmp_path: Path) -> None:
    rows = "".join(f"S{i},120,33,x{i}\n" for i in range(8))
    path = _write(tmp_path, "s.csv", f"id,lon,lat,classes\n{rows}")
    problem = _only(_problems(path, columns=(ColumnSpec("classes", "count"),)))
    assert problem.where == "rows 2, 3, 4, 5, 6 … and 3 more, column classes"
    assert problem.value == "'x0', 'x1', 'x2', 'x3', 'x4' … and 3 more"


def test_all_problems_reported_together(tmp_path: Path) -> None:
    path = _schools_csv(
        tmp_path,
        "S1,A,120,33,12,540,yes,primary\n"
        "S1,B,abc,33,-1,540,perhaps,primary\n"
        ",C,120,33,3,lots,no,college\n",
    )
    with pytest.raises(InputError) as caught:
        read_layer(path, label="data/schools.csv", columns=SCHOOL_COLUMNS, id_column="school_id")
    text = str(caught.value)
    problems = caught.value.problems
    wheres = [p.where for p in problems]
    assert "row 3, column lon" in wheres
    assert "row 4, column school_id" in wheres
    assert "row 3, column classes" in wheres
    assert "row 4, column capacity" in wheres
    assert "row 3, column boarding" in wheres
    assert "row 4, column level" in wheres
    assert "rows 2, 3, column school_id" in wheres
    assert len(problems) == 7
    assert all(p.source == "data/schools.csv" for p in problems)
    assert text.count("data/schools.csv") == 7


# ----------------------------------------------------------------------------- arguments


def test_bad_arguments_are_value_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", "id,lon,lat\nA,120,33\n")
    with pytest.raises(ValueError, match="datum"):
        read_layer(path, label="s", datum="bd09")
    with pytest.raises(ValueError, match="more than once"):
        read_layer(path, label="s", columns=(ColumnSpec("a", "text"), ColumnSpec("a", "id")))
    with pytest.raises(ValueError, match="choices"):
        ColumnSpec("level", "choice")
    with pytest.raises(ValueError, match="integer"):
        ColumnSpec("x", "number", integer=True)


def test_no_warnings_escape(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.csv", GOOD_CSV)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_layer(path, label="s", columns=SCHOOL_COLUMNS)
