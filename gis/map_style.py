"""Map text and colours shared by the PNG map (:mod:`gis.maps`) and the HTML map.

The HTML map is :mod:`gis.leaflet`.

Every label a planner reads on a map exists in Simplified Chinese (``zh``) and English
(``en``): :data:`LABELS` holds both, and a test checks that the two have the same keys.
Place names come from the data: :func:`place_name` shows the Chinese and the pinyin side by
side where both are known.

Colours are the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies); the demand ramp is ColorBrewer YlOrRd.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final, Literal

import pandas as pd

__all__ = [
    "DEMAND_RAMP",
    "LABELS",
    "REGION_COLOURS",
    "STAGE_COLOURS",
    "Lang",
    "check_lang",
    "fmt_number",
    "label",
    "nice_steps",
    "place_name",
    "region_colour",
    "region_label",
    "stage_colour",
    "stage_label",
]

Lang = Literal["zh", "en"]

LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "zh": {
        "counties": "县（市、区）",
        "zones": "规划片区（需求）",
        "schools": "现有学校",
        "new_sites": "新建学校",
        "rotations": "教师交流轮岗",
        "assignments": "就学分配",
        "legend": "图例",
        "stage": "学段",
        "seats": "学位",
        "children": "适龄儿童",
        "unmet": "未满足学位",
        "name": "名称",
        "id": "编号",
        "county": "所属县区",
        "region": "片区",
        "classes": "班级数",
        "enrolled": "在校生",
        "utilisation": "利用率",
        "cost": "投资（万元）",
        "year": "年份",
        "kind": "类型",
        "from": "派出学校",
        "to": "接收学校",
        "teachers": "教师人数",
        "distance_km": "距离（公里）",
        "scale": "比例尺",
        "north": "北",
        "seat_size": "圆点大小＝学位数",
        "demand_title": "需求（适龄儿童数）",
        "crs_note": "坐标系",
        "title_suffix": "学校布局规划图",
        "existing": "现有",
        "expanded": "扩建",
        "new": "新建",
        "rotation": "交流轮岗",
        "transfer": "调动",
        "hire": "招聘",
    },
    "en": {
        "counties": "Counties",
        "zones": "Planning zones (demand)",
        "schools": "Existing schools",
        "new_sites": "New schools",
        "rotations": "Teacher rotations",
        "assignments": "Assignments",
        "legend": "Legend",
        "stage": "Stage",
        "seats": "Seats",
        "children": "Children",
        "unmet": "Unmet seats",
        "name": "Name",
        "id": "ID",
        "county": "County",
        "region": "Region",
        "classes": "Classes",
        "enrolled": "Enrolled",
        "utilisation": "Utilisation",
        "cost": "Cost (10k CNY)",
        "year": "Year",
        "kind": "Kind",
        "from": "From school",
        "to": "To school",
        "teachers": "Teachers",
        "distance_km": "Distance (km)",
        "scale": "Scale",
        "north": "N",
        "seat_size": "Marker area = seats",
        "demand_title": "Demand (children)",
        "crs_note": "CRS",
        "title_suffix": "school plan",
        "existing": "existing",
        "expanded": "expanded",
        "new": "new",
        "rotation": "rotation",
        "transfer": "transfer",
        "hire": "hire",
    },
}

STAGE_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "zh": {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中", "senior": "高中",
           "nine_year": "九年一贯制", "twelve_year": "十二年一贯制"},
    "en": {"kindergarten": "Kindergarten", "primary": "Primary", "junior": "Junior secondary",
           "senior": "Senior secondary", "nine_year": "Nine-year", "twelve_year": "Twelve-year"},
}

REGION_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "zh": {"east": "东部", "west": "西部", "centre": "中心城区", "north": "北部", "south": "南部"},
    "en": {"east": "East", "west": "West", "centre": "Centre", "north": "North", "south": "South"},
}

STAGE_COLOURS: Final[Mapping[str, str]] = {
    "kindergarten": "#E69F00",
    "primary": "#0072B2",
    "junior": "#009E73",
    "senior": "#CC79A7",
    "nine_year": "#56B4E9",
    "twelve_year": "#D55E00",
}
_OTHER_COLOURS: Final = ("#F0E442", "#882255", "#44AA99", "#999933")
_FALLBACK_COLOUR: Final = "#999999"

REGION_COLOURS: Final[Mapping[str, str]] = {
    "east": "#D6E6F4",
    "west": "#FDE3C8",
    "centre": "#E5DAF0",
    "north": "#DDF0D8",
    "south": "#F6E0E6",
}
_REGION_OTHER: Final = "#EEEEEE"

#: Five classes, light to dark (ColorBrewer YlOrRd).
DEMAND_RAMP: Final = ("#FFFFB2", "#FECC5C", "#FD8D3C", "#F03B20", "#BD0026")


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if it is ``"zh"`` or ``"en"``; raise ``ValueError`` otherwise."""
    if lang == "zh":
        return "zh"
    if lang == "en":
        return "en"
    raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")


def label(key: str, lang: str) -> str:
    """The map label ``key`` in ``lang`` (``zh`` or ``en``)."""
    return LABELS[check_lang(lang)][key]


def stage_label(stage: str, lang: str) -> str:
    """Stage name in ``lang``; unknown stages are shown as they are spelled in the data."""
    return STAGE_LABELS[check_lang(lang)].get(stage, stage)


def region_label(region: str, lang: str) -> str:
    """Region name in ``lang``; unknown regions are shown as spelled in the data."""
    return REGION_LABELS[check_lang(lang)].get(region, region)


def stage_colour(stage: str, stages: list[str] | None = None) -> str:
    """Colour of a stage: fixed for the standard stages, else by position in ``stages``."""
    if stage in STAGE_COLOURS:
        return STAGE_COLOURS[stage]
    others = [s for s in (stages or []) if s not in STAGE_COLOURS]
    if stage in others:
        return _OTHER_COLOURS[others.index(stage) % len(_OTHER_COLOURS)]
    return _FALLBACK_COLOUR


def region_colour(region: str) -> str:
    """Fill colour of a region (light, so that points on top stay readable)."""
    return REGION_COLOURS.get(region, _REGION_OTHER)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value).strip()


def place_name(row: Mapping[str, object], lang: str) -> tuple[str, str]:
    """The name of a place as (main line, second line), from whatever name columns exist.

    Chinese first for ``zh`` (``name_zh``, then ``name``), pinyin or English first for ``en``
    (``name_pinyin``, ``name_en``, then ``name``); the other script goes on the second line
    when it is known and differs. Both empty when the data carries no name.
    """
    chinese = _text(row.get("name_zh")) or _text(row.get("name"))
    latin = _text(row.get("name_pinyin")) or _text(row.get("name_en"))
    if check_lang(lang) == "zh":
        first, second = chinese or latin, latin if chinese else ""
    else:
        first, second = latin or chinese, chinese if latin else ""
    return first, ("" if second == first else second)


def fmt_number(value: object, decimals: int = 0) -> str:
    """A number with thousands separators (``12,345``); empty for missing values."""
    if value is None:
        return ""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _text(value)
    if math.isnan(number):
        return ""
    return f"{number:,.{decimals}f}"


def nice_steps(limit: float) -> float:
    """The largest 1, 2 or 5 times a power of ten that is at most ``limit`` (``limit`` > 0)."""
    if not limit > 0 or not math.isfinite(limit):
        raise ValueError(f"limit must be positive and finite, not {limit!r}")
    power = 10.0 ** math.floor(math.log10(limit))
    for factor in (5.0, 2.0, 1.0):
        if factor * power <= limit * (1 + 1e-12):
            return factor * power
    return power  # pragma: no cover - factor 1 always fits
