"""PNG plan map: page size, legend, scale bar length, Chinese text without missing glyphs."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pytest
from PIL import Image
from pyproj import Geod
from shapely.geometry import Point, box

from gis import fonts
from gis.map_style import LABELS, REGION_LABELS, STAGE_LABELS, nice_steps, place_name
from gis.maps import PngMap, plan_map_png, scale_bar_length

WGS84 = "EPSG:4326"


def layers(width_deg: float = 0.5) -> dict[str, gpd.GeoDataFrame]:
    """Two counties side by side (west, east): lon 120..120+w, lat 33..33+0.6w (w degrees)."""
    d = width_deg
    mid, top = 120 + d / 2, 33 + 0.6 * d

    def at(x: float, y: float) -> Point:
        return Point(120 + x * d, 33 + y * 0.6 * d)

    counties = gpd.GeoDataFrame(
        {"adcode": ["440785", "440703"], "name_zh": ["恩平市", "蓬江区"],
         "name_pinyin": ["Enping Shi", "Pengjiang Qu"], "region": ["west", "east"]},
        geometry=[box(120.0, 33.0, mid, top), box(mid, 33.0, 120 + d, top)], crs=WGS84)
    schools = gpd.GeoDataFrame(
        {"school_id": ["S1", "S2", "S3"], "name": ["第一小学", "第二初中", "第三小学"],
         "stage": ["primary", "junior", "primary"], "seats": [900, 1350, 450]},
        geometry=[at(0.2, 0.67), at(0.7, 0.5), at(0.8, 0.83)], crs=WGS84)
    new_sites = gpd.GeoDataFrame(
        {"school_id": ["C1"], "name": ["新建初中"], "stage": ["junior"], "seats": [600]},
        geometry=[at(0.4, 0.73)], crs=WGS84)
    zones = gpd.GeoDataFrame(
        {"zone_id": ["Z1", "Z2"], "children_primary": [800.0, 500.0]},
        geometry=[at(0.3, 0.67), at(0.6, 0.33)], crs=WGS84)
    return {"counties": counties, "schools": schools, "new_sites": new_sites, "zones": zones}


def draw(tmp_path: Path, name: str = "map.png", width_deg: float = 0.5,
         **options: Any) -> PngMap:
    parts = layers(width_deg)
    kwargs: dict[str, Any] = {"counties": parts["counties"], "zones": parts["zones"],
              "schools": parts["schools"], "new_sites": parts["new_sites"],
              "title": "测试 学校布局规划图", "out_path": tmp_path / name}
    kwargs.update(options)
    return plan_map_png(**kwargs)


def test_png_is_a4_landscape_at_200_dpi(tmp_path: Path) -> None:
    result = draw(tmp_path)
    assert result.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # 297 mm x 210 mm at 200 dpi: 11.69 in x 8.27 in -> 2338 x 1653 pixels (truncated).
    assert (result.width_px, result.height_px) == (2338, 1653)
    with Image.open(result.path) as image:
        assert image.size == (2338, 1653)
        assert [round(v) for v in image.info["dpi"]] == [200, 200]
    assert result.crs == "EPSG:32651"  # lon 120.25 E lies in UTM zone 51 (120..126 E)


def test_legend_labels_in_chinese_and_english(tmp_path: Path) -> None:
    # Largest school 1,350 seats -> size legend 1,000 / 5 and / 2: 200, 500, 1,000 seats.
    zh = draw(tmp_path, "zh.png", dpi=50)
    assert zh.legend_labels == ("西部", "东部", "规划片区（需求）", "现有学校", "新建学校",
                                "小学", "初中", "200 学位", "500 学位", "1,000 学位")
    en = draw(tmp_path, "en.png", lang="en", dpi=50)
    assert en.legend_labels == ("West", "East", "Planning zones (demand)", "Existing schools",
                                "New schools", "Primary", "Junior secondary", "200 Seats",
                                "500 Seats", "1,000 Seats")


def test_regions_from_a_mapping(tmp_path: Path) -> None:
    result = draw(tmp_path, regions={"440785": "east", "440703": "east"}, dpi=50)
    assert result.legend_labels[:2] == ("东部", "规划片区（需求）")


def test_scale_bar_length_rule() -> None:
    assert scale_bar_length(46_726.6) == 10_000  # quarter 11.7 km -> 10 km
    assert scale_bar_length(4_672.7) == 1_000  # quarter 1.17 km -> 1 km
    assert scale_bar_length(100_000) == 20_000  # quarter 25 km -> 20 km
    assert scale_bar_length(30_000) == 5_000  # quarter 7.5 km -> 5 km
    assert nice_steps(5.0) == 5.0
    assert nice_steps(0.99) == 0.5


@pytest.mark.parametrize(("width_deg", "geodesic_m", "bar_m"),
                         [(0.5, 46_726.6, 10_000), (0.05, 4_672.7, 1_000)])
def test_scale_bar_for_a_known_extent(tmp_path: Path, width_deg: float, geodesic_m: float,
                                      bar_m: float) -> None:
    geod_m = Geod(ellps="WGS84").inv(120, 33, 120 + width_deg, 33)[2]
    assert geod_m == pytest.approx(geodesic_m, abs=0.1)
    result = draw(tmp_path, width_deg=width_deg)
    # Plot units are metres: the southern edge of the box measures its geodesic length in
    # the map's UTM zone (scale factor 1.0006 at 3 degrees from the central meridian).
    edge = gpd.GeoSeries([Point(120, 33), Point(120 + width_deg, 33)], crs=WGS84)
    a, b = edge.to_crs(result.crs)
    assert a.distance(b) == pytest.approx(geod_m, rel=1.5e-3)
    # The map is the drawn width plus 3 % padding on each side (wider than tall here).
    xmin, xmax, _, _ = result.extent_m
    bounds = layers(width_deg)["counties"].to_crs(result.crs).total_bounds
    assert xmax - xmin == pytest.approx(1.06 * (bounds[2] - bounds[0]), rel=1e-9)
    assert result.scale_bar_m == bar_m
    assert result.scale_bar_m == scale_bar_length(xmax - xmin)
    # Measure the drawn bar: its first (black) half spans bar/2 metres of the map width.
    image = mpimg.imread(result.path)
    height, width = image.shape[:2]
    axes_w = 0.70 * width
    px_per_m = axes_w / (xmax - xmin)
    row = round(height - height * (0.06 + 0.86 * (0.045 + 0.006)))
    start = round(0.02 * width + 0.04 * axes_w)
    dark = image[row, :, :3].max(axis=1) < 0.25
    first = start - 3 + int(np.argmax(dark[start - 3:]))
    run = int(np.argmin(dark[first:]))
    expected = bar_m / 2 * px_per_m  # 165 px for 5 km over 49.5 km of 1,637 px
    assert run == pytest.approx(expected, abs=4)


def test_chinese_title_and_names_have_no_missing_glyphs(tmp_path: Path) -> None:
    fonts.reset_cache()
    if fonts.cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk; .ci/run does)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = draw(tmp_path, title="江门市学校布局规划图（测试）：蓬江区、恩平市", dpi=72)
    glyphs = [str(w.message) for w in caught if "Glyph" in str(w.message)]
    assert glyphs == []
    assert result.font in fonts.CJK_FAMILIES


def test_jiangmen_county_names_in_chinese(tmp_path: Path) -> None:
    fonts.reset_cache()
    if fonts.cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk; .ci/run does)")
    root = Path(__file__).resolve().parents[2]
    counties = gpd.read_file(root / "scenarios" / "jiangmen" / "data" / "counties.geojson")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = plan_map_png(counties=counties, zones=None, schools=None, new_sites=None,
                              title="江门市 学校布局规划图", out_path=tmp_path / "jm.png", dpi=72)
    assert [str(w.message) for w in caught if "Glyph" in str(w.message)] == []
    assert result.place_labels == ("蓬江区", "江海区", "新会区", "台山市", "开平市", "鹤山市",
                                   "恩平市")
    assert result.legend_labels == ("东部", "西部")
    assert result.crs == "EPSG:32649"  # Jiangmen, about 112.7 E: UTM zone 49 (108..114 E)


def test_without_cjk_font_one_warning_and_still_a_map(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    fonts.reset_cache()
    monkeypatch.setattr(fonts, "_find", lambda: None)
    try:
        with caplog.at_level(logging.WARNING, logger="gis.fonts"):
            first = draw(tmp_path, "a.png", title="江门市学校布局规划图", dpi=50)
            second = draw(tmp_path, "b.png", title="恩平市", dpi=50)
        messages = [r.getMessage() for r in caplog.records if r.name == "gis.fonts"]
        assert len(messages) == 1
        assert "fonts-noto-cjk" in messages[0]
        assert first.font is None and second.font is None
        assert (first.width_px, first.height_px) == (584, 413)  # A4 at 50 dpi
        assert first.path.stat().st_size > 5_000 and second.path.stat().st_size > 5_000
    finally:
        monkeypatch.undo()
        fonts.reset_cache()


def test_labels_exist_in_both_languages() -> None:
    for table in (LABELS, STAGE_LABELS, REGION_LABELS):
        assert set(table["zh"]) == set(table["en"])


def test_place_name_keeps_chinese_and_pinyin() -> None:
    row = {"name_zh": "蓬江区", "name_pinyin": "Pengjiang Qu"}
    assert place_name(row, "zh") == ("蓬江区", "Pengjiang Qu")
    assert place_name(row, "en") == ("Pengjiang Qu", "蓬江区")
    assert place_name({"name": "大丰区"}, "en") == ("大丰区", "")
    assert place_name({}, "zh") == ("", "")


def test_bad_language_and_empty_layers_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lang must be"):
        draw(tmp_path, lang="fr")
    with pytest.raises(ValueError, match="nothing to map"):
        plan_map_png(counties=None, zones=None, schools=None, new_sites=None, title="x",
                     out_path=tmp_path / "x.png")
