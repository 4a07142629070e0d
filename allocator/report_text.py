"""Words of the HTML report and the run comparison, in Simplified Chinese and English.

All the fixed text of :mod:`allocator.report` and :mod:`allocator.compare` is in
:data:`TEXT`, one dict per language with the same keys (a test checks this). When the
message catalogue of :mod:`allocator.i18n` has a ``[report]`` section, its entries
(``report.<key>``) are used instead, so translators can work in the locale files. Map
words (layer names, stages) come from :mod:`gis.map_style`. Words from the data (county
codes, rule messages) are shown as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from gis.map_style import check_lang, stage_label

__all__ = ["TEXT", "kpi_label", "pick_language", "scope_label", "text"]

TEXT: Final[Mapping[str, Mapping[str, str]]] = {
    "zh": {
        # KPI sections
        "sec_plan": "求解", "sec_sites": "新建与扩建", "sec_access": "就学与学位",
        "sec_teachers": "教师", "sec_audit": "规则核查", "sec_diff": "与方案A相比的学校变化",
        # KPI names
        "status": "求解状态", "objective": "目标值", "gap": "最优性差距",
        "new_schools": "新建学校（所）", "new_seats": "新建学位",
        "new_schools_total": "新建学校合计（所）", "new_seats_total": "新建学位合计",
        "expansion_seats": "扩建学位", "capital_cost": "投资（百万元）",
        "travel_mean_km": "平均就学距离（公里，按儿童加权）",
        "travel_p95_km": "95%分位就学距离（公里）",
        "unmet": "未满足学位", "unmet_total": "未满足学位合计（儿童·期）",
        "over_cap_schools": "超班额的学校（校·学段·年）",
        "over_cap_classes": "超班额班级（需增设班级数）",
        "moves": "教师交流人次", "backbone_gap_pp": "东西部骨干教师比例差（百分点）",
        "cv_max": "优质均衡差异系数（最大值）",
        "audit_fail": "核查未通过", "failed_rules": "未通过的规则",
        "sites_added": "新增选址", "sites_removed": "取消选址", "sites_resized": "规模调整",
        "sites_moved": "建设时序调整",
        # scopes
        "all": "全部", "east_minus_west": "东部−西部", "max_minus_min": "最高−最低片区",
        "degree_per100": "学历达标教师/百生", "backbone_per100": "骨干教师/百生",
        "pe_art_per100": "体艺教师/百生", "rotation": "交流轮岗", "transfer": "调动",
        "hire": "招聘", "HARD": "硬约束", "TARGET": "目标",
        # diff
        "added": "新增", "removed": "取消", "resized": "规模调整", "moved": "时序调整",
        "moved+resized": "时序与规模调整", "site": "地块", "name": "名称", "stage": "学段",
        "change": "变化", "year": "开办年份", "option": "规模方案", "classes": "班级数",
        "seats": "学位", "cost": "投资（百万元）", "partner": "可能的迁址对应地块",
        "partner_km": "距离（公里）", "other_run": "方案",
        # report
        "report_title": "学校布局与教师交流规划报告", "compare_title": "方案比较",
        "summary": "概要", "maps": "地图", "kpis": "主要指标", "plan_table": "分年度分学段",
        "new_sites": "新建学校", "audit": "规则核查", "audit_rules": "按规则汇总",
        "audit_failures": "未通过的核查", "flows": "按县（市、区）统计的教师交流",
        "notes": "关于合成数据的说明", "run_notes": "运行说明", "runs": "方案",
        "site_diff": "选址差异", "png_map": "印刷版地图", "html_map": "交互地图（离线）",
        "side_by_side": "并排地图", "layers_map": "各方案新建学校（图层）",
        "scenario": "情景", "overrides": "覆盖设置", "path": "目录", "bound": "界",
        "periods": "规划年份", "solver": "求解器", "seconds": "秒",
        "rule_id": "规则", "kind": "类型", "clause": "条款", "status_col": "结果",
        "message": "说明", "checks": "核查数", "scope_col": "范围", "required": "要求",
        "actual": "实际", "from": "派出", "to": "接收", "total": "合计",
        "fail": "未通过", "pass": "通过", "not applicable": "不适用", "exception": "例外",
        "no_rotations": "本次运行没有教师交流结果（rotations.csv）。",
        "no_sites": "本次运行没有新建学校。",
        "no_failures": "没有未通过的核查。",
        "more_rows": "另有 {n} 行，见 audit.csv。",
        "synthetic_rows": "名称标注为“合成”或 “(synthetic)” 的学校与地块：{n} 个。",
        "no_readme": "未找到情景说明（README.md）；以下为情景描述与运行说明。",
        "na": "无", "yes": "是", "no": "否",
        "year_col": "年份", "children": "适龄儿童", "existing_seats": "现有学位",
        "expanded_seats": "扩建学位", "unmet_col": "未满足",
        "within_county": "县内交流", "between_counties": "跨县交流",
        "moved_def": "“时序调整”指同一地块在两个方案中开办年份不同；相距 {km} 公里以内、"
                     "同学段的一对“新增”与“取消”地块被标为可能的迁址。",
        "kpi_def": "就学距离按儿童人数加权，汇总全部规划年份；95%分位为使至少95%儿童的"
                   "就学距离不超过该值的最小距离。超班额班级 = Σ max(0, ⌈在校生/班额⌉ − 班级数)。",
    },
    "en": {
        "sec_plan": "Solve", "sec_sites": "New and expanded schools",
        "sec_access": "Access and seats", "sec_teachers": "Teachers", "sec_audit": "Audit",
        "sec_diff": "Site changes against run A",
        "status": "Solver status", "objective": "Objective", "gap": "Optimality gap",
        "new_schools": "New schools", "new_seats": "New seats",
        "new_schools_total": "New schools, total", "new_seats_total": "New seats, total",
        "expansion_seats": "Seats added by expansion", "capital_cost": "Capital (million CNY)",
        "travel_mean_km": "Mean travel (km, children-weighted)",
        "travel_p95_km": "95th-percentile travel (km)",
        "unmet": "Unmet seats", "unmet_total": "Unmet seats, total (child-periods)",
        "over_cap_schools": "Over class cap (school x stage x year)",
        "over_cap_classes": "Classes over cap (classes missing)",
        "moves": "Teacher moves", "backbone_gap_pp": "West-east backbone gap (points)",
        "cv_max": "优质均衡 CV (largest)",
        "audit_fail": "Audit failures", "failed_rules": "Failed rules",
        "sites_added": "Sites added", "sites_removed": "Sites removed",
        "sites_resized": "Sites resized", "sites_moved": "Sites moved (other year)",
        "all": "all", "east_minus_west": "east - west", "max_minus_min": "max - min region",
        "degree_per100": "degree per 100 pupils", "backbone_per100": "backbone per 100 pupils",
        "pe_art_per100": "PE/arts per 100 pupils", "rotation": "rotation",
        "transfer": "transfer", "hire": "hire", "HARD": "HARD", "TARGET": "TARGET",
        "added": "added", "removed": "removed", "resized": "resized", "moved": "moved",
        "moved+resized": "moved and resized", "site": "Site", "name": "Name",
        "stage": "Stage", "change": "Change", "year": "Opening year", "option": "Option",
        "classes": "Classes", "seats": "Seats", "cost": "Cost (million CNY)",
        "partner": "Possible relocation of", "partner_km": "km", "other_run": "Run",
        "report_title": "School siting and teacher rotation report",
        "compare_title": "Comparison of runs",
        "summary": "Summary", "maps": "Maps", "kpis": "Key figures",
        "plan_table": "By year and stage", "new_sites": "New schools", "audit": "Audit",
        "audit_rules": "By rule", "audit_failures": "Failed checks",
        "flows": "Teacher moves by county pair", "notes": "Notes on synthetic data",
        "run_notes": "Run notes", "runs": "Runs", "site_diff": "Site differences",
        "png_map": "Printable map", "html_map": "Interactive map (offline)",
        "side_by_side": "Maps side by side", "layers_map": "New schools of each run (layers)",
        "scenario": "Scenario", "overrides": "Overrides", "path": "Directory",
        "bound": "Bound", "periods": "Period years", "solver": "Solver", "seconds": "s",
        "rule_id": "Rule", "kind": "Kind", "clause": "Clause", "status_col": "Status",
        "message": "Message", "checks": "Checks", "scope_col": "Scope",
        "required": "Required", "actual": "Actual", "from": "From", "to": "To",
        "total": "Total", "fail": "fail", "pass": "pass", "not applicable": "not applicable",
        "exception": "exception",
        "no_rotations": "This run has no teacher moves (rotations.csv).",
        "no_sites": "This run opens no new school.",
        "no_failures": "No check failed.",
        "more_rows": "{n} more rows in audit.csv.",
        "synthetic_rows": "Schools and sites named as synthetic (合成 / (synthetic)): {n}.",
        "no_readme": "No scenario README.md found; the scenario description and run notes "
                     "follow.",
        "na": "n/a", "yes": "yes", "no": "no",
        "year_col": "Year", "children": "Children", "existing_seats": "Existing seats",
        "expanded_seats": "Expanded seats", "unmet_col": "Unmet",
        "within_county": "within a county", "between_counties": "between counties",
        "moved_def": "\"Moved\" means the same site opens in a different period year in the "
                     "two runs; an added and a removed site of the same stage within {km} km "
                     "of each other are marked as a possible relocation.",
        "kpi_def": "Travel is weighted by children over all period years; the 95th percentile "
                   "is the shortest distance within which at least 95% of children travel. "
                   "Classes over cap = sum of max(0, ceil(enrolled / class cap) - classes).",
    },
}


def _catalogue(key: str, lang: str) -> str | None:
    """``report.<key>`` from the :mod:`allocator.i18n` locale files, if they have it."""
    try:
        from allocator.i18n import messages

        return messages().get(f"report.{key}", lang)
    except (ImportError, OSError, ValueError, TypeError):
        return None


def text(key: str, lang: str) -> str:
    """The word for ``key`` in ``lang`` (``zh`` or ``en``); the key itself when unknown."""
    lang = check_lang(lang)
    found = _catalogue(key, lang)
    return found if found is not None else TEXT[lang].get(key, key)


def pick_language(lang: str | None, scenario: str | None) -> str:
    """The language of a page: ``zh`` or ``en``.

    ``lang`` when given; else the ``--lang`` override of :mod:`allocator.i18n`, else the
    scenario's ``meta.language``, else that module's default (English).
    """
    if lang:
        return check_lang(lang)
    try:
        from allocator.i18n import choose_language
    except ImportError:
        return check_lang(scenario or "zh")
    return choose_language(scenario)


def scope_label(scope: str, lang: str) -> str:
    """A KPI scope: a stage, a move kind, ``stage/indicator``, or a fixed word."""
    if not scope:
        return ""
    if "/" in scope:
        return " ".join(scope_label(part, lang) for part in scope.split("/"))
    known = TEXT[check_lang(lang)]
    return known[scope] if scope in known else stage_label(scope, lang)


def kpi_label(kpi: str, scope: str, year: object, lang: str) -> str:
    """The display name of one KPI row, e.g. ``新建学位 · 小学 · 2025``."""
    parts = [text(kpi, lang), scope_label(scope, lang)]
    if year is not None and str(year) not in ("", "<NA>", "nan"):
        parts.append(str(year))
    return " · ".join(p for p in parts if p)
