"""Offline HTML map: no external references, hostile names escaped, same input same bytes."""

from __future__ import annotations

import json
import logging
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from gis.leaflet import build_payload, demand_breaks, leaflet_assets, plan_map_html, safe_json

WGS84 = "EPSG:4326"
HOSTILE = "<img src=x onerror=alert(1)>"
NASTY = "</script><script>alert(2)</script><!-- \u2028\u2029 & \"'"


def layers() -> dict[str, gpd.GeoDataFrame]:
    counties = gpd.GeoDataFrame(
        {"adcode": ["440785", "440703"], "name_zh": ["恩平市", "蓬江区"],
         "name_pinyin": ["Enping Shi", "Pengjiang Qu"], "region": ["west", "east"]},
        geometry=[box(112.0, 22.0, 112.2, 22.2), box(112.2, 22.0, 112.4, 22.2)], crs=WGS84)
    schools = gpd.GeoDataFrame(
        {"school_id": ["S1", "S2", "S3"], "name": [HOSTILE, NASTY, "第三小学"],
         "stage": ["primary", "junior", "primary"], "seats": [900, 1600, 400],
         "classes": [20, 32, 9], "utilisation": [0.95, 1.0, 0.5], "year": [2025, 2025, 2025]},
        geometry=[Point(112.05, 22.1), Point(112.25, 22.05), Point(112.3, 22.15)], crs=WGS84)
    new_sites = gpd.GeoDataFrame(
        {"school_id": ["C1"], "name": ["新建初中"], "stage": ["junior"], "seats": [600],
         "classes": [12], "cost_cny": [70_240_000.0]},
        geometry=[Point(112.15, 22.12)], crs=WGS84)
    zones = gpd.GeoDataFrame(
        {"zone_id": [f"Z{i}" for i in range(1, 6)], "name": [f"片区{i}" for i in range(1, 6)],
         "children_primary": [10.0, 15.0, 20.0, 25.0, 30.0],
         "children_junior": [0.0, 5.0, 10.0, 15.0, 20.0], "unmet_primary": [0, 0, 0, 2.5, 0]},
        geometry=[Point(112.02 + 0.07 * i, 22.08) for i in range(5)], crs=WGS84)
    return {"counties": counties, "schools": schools, "new_sites": new_sites, "zones": zones}


def rotations() -> pd.DataFrame:
    return pd.DataFrame({"from_school": ["S1", "S1", "S1"], "to_school": ["S3", "S3", "X9"],
                         "count": [2, 3, 1], "year": [2024, 2025, 2025],
                         "kind": ["rotation", "rotation", "rotation"]})


def write(path: Path, **options: Any) -> str:
    plan_map_html(**layers(), rotations=rotations(), title="测试 <b>规划</b>", out_path=path,
                  **options)
    return path.read_text(encoding="utf-8")


class References(HTMLParser):
    """Every src/href attribute, tag names, and the text of <style> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.refs += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "poster")]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def payload_of(page: str) -> str:
    match = re.search(r'<script type="application/json" id="plan-data">(.*?)</script>', page,
                      re.DOTALL)
    assert match is not None
    return match.group(1)


def test_page_is_self_contained(tmp_path: Path) -> None:
    page = write(tmp_path / "map.html")
    parser = References()
    parser.feed(page)
    assert parser.refs == []  # no src/href at all: nothing is loaded from anywhere
    assert "link" not in parser.tags and "iframe" not in parser.tags
    assert parser.tags.count("script") == 3  # data (JSON), Leaflet, page script
    urls = [u for css in parser.styles for u in re.findall(r"url\(([^)]*)\)", css)]
    assert len(urls) == 4  # Leaflet's layers.png, layers-2x.png, marker-icon.png, VML behaviour
    assert all(u.startswith("data:image/png;base64,") or u == "#default#VML" for u in urls)
    assert "@import" not in page and "sourceMappingURL" not in page
    assert re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page.split("/* Leaflet")[0]) is None
    assert '<meta charset="utf-8">' in page and '<html lang="zh-CN">' in page


def test_leaflet_is_the_pinned_release_with_its_licence() -> None:
    script, css = leaflet_assets()
    assert "Leaflet 1.9.3" in script[:200]
    assert ".leaflet-control-layers-toggle" in css
    notice = (resources.files("gis") / "LICENSE-leaflet.txt").read_text(encoding="utf-8")
    assert "BSD 2-Clause License" in notice and "Vladimir Agafonkin" in notice


def test_hostile_names_are_data_not_markup(tmp_path: Path) -> None:
    page = write(tmp_path / "map.html")
    assert HOSTILE not in page and "<img" not in page
    assert "alert(2)</script>" not in page and "\u2028" not in page and "\u2029" not in page
    assert "<title>测试 &lt;b&gt;规划&lt;/b&gt;</title>" in page
    text = payload_of(page)
    assert "<" not in text and ">" not in text and "&" not in text
    data = json.loads(text)
    schools = next(layer for layer in data["layers"] if layer["id"] == "schools")
    assert [f["p"]["h"] for f in schools["features"]] == [HOSTILE, NASTY, "第三小学"]
    assert schools["features"][0]["tip"] == HOSTILE
    # The page script builds popups with textContent, never innerHTML.
    assert "textContent" in page.split("/* Leaflet")[1].split("</script>")[-2]


def test_safe_json_round_trip() -> None:
    text = safe_json({"a": NASTY})
    assert text == ('{"a":"\\u003c/script\\u003e\\u003cscript\\u003ealert(2)\\u003c/script\\u003e'
                    '\\u003c!-- \\u2028\\u2029 \\u0026 \\"\'"}')
    assert json.loads(text) == {"a": NASTY}
    with pytest.raises(ValueError):
        safe_json({"a": float("nan")})


def test_same_input_same_bytes(tmp_path: Path) -> None:
    first = write(tmp_path / "a.html")
    second = write(tmp_path / "b.html")
    assert first == second


def test_payload_layers_popups_and_legend(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gis.leaflet"):
        data = build_payload(**layers(), rotations=rotations(), title="t", lang="zh")
    by_id = {layer["id"]: layer for layer in data["layers"]}
    assert list(by_id) == ["counties", "zones", "schools", "new_sites", "rotations"]
    assert [by_id[k]["count"] for k in by_id] == [2, 5, 3, 1, 1]
    assert [f["l"] for f in by_id["counties"]["features"]] == [["恩平市", "Enping Shi"],
                                                              ["蓬江区", "Pengjiang Qu"]]
    # Circle radius 3 + 9 * sqrt(seats / 1,600): 1,600 seats -> 12 px, 400 -> 7.5 px.
    assert [f["s"]["radius"] for f in by_id["schools"]["features"]] == [9.75, 12.0, 7.5]
    s1 = dict(by_id["schools"]["features"][0]["p"]["rows"])
    assert s1 == {"编号": "S1", "学段": "小学", "学位": "900", "班级数": "20",
                  "利用率": "95%", "年份": "2025"}
    c1 = dict(by_id["new_sites"]["features"][0]["p"]["rows"])
    assert c1["投资（万元）"] == "7,024"  # 70,240,000 CNY
    # Zone demand = primary + junior children: 10, 20, 30, 40, 50 -> quintile classes.
    z4 = dict(by_id["zones"]["features"][3]["p"]["rows"])
    assert z4["适龄儿童"] == "40" and z4["未满足学位"] == "2"  # 2.5 shown without decimals
    (line,) = by_id["rotations"]["features"]
    rows = dict(line["p"]["rows"])
    assert rows["教师人数"] == "5" and rows["年份"] == "2024, 2025"
    assert rows["派出学校"] == f"{HOSTILE} (S1)"
    assert line["c"] == [[22.1, 112.05], [22.15, 112.3]]  # [lat, lon] of S1 and S3
    assert "1 of 3 rows name a school with no map point" in caplog.text
    texts = [i["text"] for i in data["legend"]["items"]]
    assert texts[:3] == ["西部", "东部", "需求（适龄儿童数）"]
    assert "18 – 26" in texts  # second demand class (quintiles of 10..50)
    assert data["bounds"] == [[22.0, 112.0], [22.2, 112.4]]


def test_demand_breaks_are_quintiles() -> None:
    # numpy linear quantiles of 10, 20, 30, 40, 50 at 0.2 .. 1.0: 18, 26, 34, 42, 50.
    assert demand_breaks([10.0, 20, 30, 40, 50]) == [18, 26, 34, 42, 50]
    assert demand_breaks([5.0, 5, 5]) == [5]
    assert demand_breaks([]) == []


def test_english_labels(tmp_path: Path) -> None:
    data = build_payload(**layers(), title="t", lang="en")
    assert [layer["name"] for layer in data["layers"]] == [
        "Counties", "Planning zones (demand)", "Existing schools", "New schools"]
    assert data["layers"][0]["features"][0]["l"] == ["Enping Shi", "恩平市"]
