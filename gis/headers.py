"""Column headers in Chinese and English: the one table behind reading and writing spreadsheets.

Planners keep their lists in Excel with Chinese headers (学校编号, 班级数, 学段 ...). The
readers (:func:`gis.tables.read_table`, :func:`gis.io.read_layer`) accept every header of
:data:`HEADERS` written in Chinese, in English words, or as the code name the program uses
(``school_id``, ``classes``, ``stage``), and cells of coded columns in Chinese
(小学 → ``primary``, 公办 → ``public``; :data:`VALUES`). The plan workbook
(:mod:`allocator.excel_out`) takes its Chinese and English headers from the same table, so
a header is spelt the same on the way in and on the way out. ``docs/excel.md`` lists the
table for planners.

Messages about a renamed column keep naming the header as the planner wrote it
(:class:`WrittenContext`): ``data/jiangmen.xlsx, sheet 学校: row 17, column 班级数: ...``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from gis.columns import Context, shorten
from gis.errors import Problem

__all__ = [
    "HEADERS",
    "INPUT_HEADERS",
    "VALUES",
    "Header",
    "HeaderMatch",
    "WrittenContext",
    "header_label",
    "match_headers",
    "value_label",
]


@dataclass(frozen=True)
class Header:
    """One column: its code name, its Chinese and English headers, and other spellings.

    Parameters
    ----------
    name
        The code name the program uses (``classes``).
    zh, en
        The header written in Chinese (``班级数``) and in English (``Classes``); both are
        accepted on input and used on output (the plan workbook's language picks one).
    aliases
        Other accepted spellings (``年级班数``); input only.
    divisor
        Output only: values are divided by it before they are written under this header
        (10,000 turns CNY into 万元 for a header that says 万元).
    """

    name: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    divisor: float = 1.0


_STAGE_ZH: Final = {"kindergarten": "幼儿园", "primary": "小学", "junior": "初中",
                    "senior": "高中", "nine_year": "九年一贯制"}
_STAGE_EN: Final = {"kindergarten": "Kindergarten", "primary": "Primary", "junior": "Junior",
                    "senior": "Senior", "nine_year": "Nine-year"}
_SUBJECT_ZH: Final = {"chinese": "语文", "math": "数学", "english": "英语", "science": "科学",
                      "humanities": "人文", "pe": "体育", "music": "音乐", "art": "美术"}

_ROWS: Final[tuple[Header, ...]] = (
    # --- ids and places (every layer)
    Header("zone_id", "片区编号", "Zone ID", ("片区代码",)),
    Header("school_id", "学校编号", "School ID", ("学校代码", "学校标识码")),
    Header("site_id", "地块编号", "Site ID", ("地块代码", "备选地块编号")),
    Header("teacher_id", "教师编号", "Teacher ID", ("教师工号",)),
    Header("project_id", "项目编号", "Project ID", ("楼盘编号",)),
    Header("pairing_id", "结对编号", "Pairing ID"),
    Header("name", "名称", "Name", ("学校名称", "片区名称", "地块名称", "机构名称", "校名")),
    Header("county", "区县", "County", ("县区", "区县代码", "所属区县")),
    Header("adcode", "行政区划代码", "Admin code", ("区划代码",)),
    Header("region", "区域", "Region", ("所属区域",)),
    Header("lon", "经度", "Longitude"),
    Header("lat", "纬度", "Latitude"),
    Header("synthetic", "合成数据", "Synthetic"),
    # --- zones
    Header("zone_type", "片区类型", "Zone type"),
    Header("population", "人口", "Population", ("常住人口",)),
    Header("migrant_share", "随迁子女比例", "Migrant share"),
    *(Header(stage, f"{_STAGE_ZH[stage]}适龄儿童", f"{_STAGE_EN[stage]} children")
      for stage in ("kindergarten", "primary", "junior", "senior")),
    *(Header(f"age_{age}", f"{age}岁", f"Age {age}") for age in range(18)),
    # --- schools and candidate sites
    Header("stage", "学段", "Stage"),
    Header("classes", "班级数", "Classes", ("班数",)),
    Header("max_classes", "最大班级数", "Max classes", ("最大班数",)),
    Header("ownership", "办学性质", "Ownership"),
    Header("closable", "可撤并", "Closable"),
    Header("closure_year", "撤并年份", "Closure year"),
    Header("closure_value_cny", "撤并残值(元)", "Closure value (CNY)", ("撤并残值",)),
    Header("setting", "城乡类型", "Setting"),
    Header("land_area_m2", "用地面积(平方米)", "Land area (m²)", ("用地面积",)),
    Header("land_cost_cny", "土地费用(元)", "Land cost (CNY)", ("土地费用",)),
    Header("hazard", "污染或地灾地块", "Hazard"),
    # --- births and housing
    Header("year", "年份", "Year"),
    Header("births", "出生人口", "Births"),
    Header("units", "住宅套数", "Homes", ("户数",)),
    Header("completion_year", "竣工年份", "Completion year"),
    Header("plot_ratio_base", "原容积率", "Plot ratio (base)"),
    Header("plot_ratio_new", "新容积率", "Plot ratio (new)"),
    *(Header(f"yield_{stage}", f"{_STAGE_ZH[stage]}每百户学生数", f"{_STAGE_EN[stage]} pupils "
             "per 100 homes") for stage in ("kindergarten", "primary", "junior", "senior")),
    # --- teachers, school flags, pairings, regions
    Header("subject", "学科", "Subject"),
    Header("backbone", "骨干教师", "Backbone"),
    Header("years_at_school", "本校任教年限", "Years at school", ("任教年限",)),
    Header("title", "职称", "Title"),
    Header("degree_above_required", "学历高于规定", "Degree above required"),
    Header("talent_designation_year", "人才称号年份", "Talent designation year"),
    Header("researcher", "教研员", "Researcher"),
    Header("eligible", "可交流", "Eligible"),
    Header("count", "人数", "Count"),
    Header("urban", "城区学校", "Urban"),
    Header("high_quality", "优质学校", "High quality"),
    Header("weak", "薄弱学校", "Weak"),
    Header("centre", "中心城区", "Centre"),
    Header("level", "结对层级", "Level"),
    Header("from_id", "帮扶方编号", "From ID"),
    Header("to_id", "受援方编号", "To ID"),
    Header("name_zh", "中文名", "Chinese name"),
    Header("name_pinyin", "拼音", "Pinyin"),
    Header("population_2020", "2020年人口", "Population 2020"),
    Header("verified", "已核实", "Verified"),
    Header("population_source", "人口来源", "Population source"),
    Header("boundary", "边界文件", "Boundary file"),
)
"""Headers of input columns: accepted when reading (and used when writing)."""

_RESULT_ROWS: Final[tuple[Header, ...]] = (
    Header("kind", "类型", "Kind"),
    Header("class_cap", "班额", "Class size"),
    Header("seats", "学位数", "Seats"),
    Header("enrolled", "在校生", "Enrolled"),
    Header("spare_seats", "空余学位", "Spare seats"),
    Header("utilisation", "学位使用率", "Utilisation"),
    Header("cost_cny", "投资(万元)", "Cost (10,000 CNY)", divisor=1e4),
    Header("capital_cny", "投资(万元)", "Capital (10,000 CNY)", divisor=1e4),
    Header("budget_cny", "预算(万元)", "Budget (10,000 CNY)", divisor=1e4),
    Header("status", "状态", "Status"),
    Header("reason", "原因", "Reason"),
    Header("option_id", "建设方案", "Option"),
    Header("modules", "扩建模块数", "Modules"),
    Header("classes_added", "新增班级数", "Classes added"),
    Header("seats_added", "新增学位数", "Seats added"),
    Header("children", "适龄儿童", "Children"),
    Header("assigned", "已安排入学", "Assigned"),
    Header("unmet", "未满足", "Unmet"),
    Header("schools", "就读学校数", "Schools"),
    Header("mean_distance_km", "平均距离(公里)", "Mean distance (km)"),
    Header("max_distance_km", "最远距离(公里)", "Longest distance (km)"),
    Header("distance_km", "距离(公里)", "Distance (km)"),
    Header("from_school", "派出学校", "From school"),
    Header("from_county", "派出区县", "From county"),
    Header("from_region", "派出区域", "From region"),
    Header("to_school", "接收学校", "To school"),
    Header("to_county", "接收区县", "To county"),
    Header("to_region", "接收区域", "To region"),
    Header("school", "学校编号", "School ID"),
    Header("posts_required", "核定教师数", "Posts required"),
    Header("teachers_before", "调整前教师数", "Teachers before"),
    Header("teachers_after", "调整后教师数", "Teachers after"),
    Header("shortfall", "缺口合计", "Shortfall"),
    Header("shortfall_before", "调整前缺口", "Shortfall before"),
    Header("pupils", "学生数", "Pupils"),
    *(Header(f"{name}_{when}", f"{zh}({when_zh})", f"{en} ({when})")
      for name, zh, en in (
          ("degree_per100", "每百名学生高学历教师数", "Higher-degree teachers per 100 pupils"),
          ("backbone_per100", "每百名学生骨干教师数", "Backbone teachers per 100 pupils"),
          ("pe_art_per100", "每百名学生体艺教师数", "PE and arts teachers per 100 pupils"))
      for when, when_zh in (("before", "调整前"), ("after", "调整后"))),
    Header("rule_id", "规则编号", "Rule"),
    Header("document", "文件", "Document"),
    Header("clause", "条款", "Clause"),
    Header("scope", "范围", "Scope"),
    Header("sense", "关系", "Sense"),
    Header("required", "要求值", "Required"),
    Header("actual", "实际值", "Actual"),
    Header("message", "说明", "Message"),
)
"""Headers of result columns: written in the plan workbook, never renamed when reading."""

HEADERS: Final[dict[str, Header]] = {row.name: row for row in (*_ROWS, *_RESULT_ROWS)}
"""Every known column by code name; the one table of Chinese and English headers."""

INPUT_HEADERS: Final = tuple(row.name for row in _ROWS)
"""Code names whose headers the readers accept (the result columns are written only)."""

VALUES: Final[dict[str, dict[str, str]]] = {
    "stage": {zh: code for code, zh in _STAGE_ZH.items()},
    "ownership": {"公办": "public", "民办": "private"},
    "setting": {"城区": "urban", "城镇": "urban", "农村": "rural", "乡村": "rural"},
    "zone_type": {"城市核心区": "urban_core", "新区": "new_district", "镇区": "town",
                  "农村": "rural", "乡村": "rural", "工业区": "industrial"},
    "subject": {zh: code for code, zh in _SUBJECT_ZH.items()},
    "title": {"高级": "senior", "一级": "level1", "二级": "level2", "三级": "level3"},
    "level": {"县级": "county", "区县": "county", "校级": "school", "学校": "school"},
}
"""Chinese cell values of coded input columns, and the code each means."""

_RESULT_VALUES: Final[dict[str, dict[str, str]]] = {
    "kind": {"新建": "new", "现有": "existing", "扩建": "expanded", "撤并": "closed",
             "轮岗交流": "rotation", "调动": "transfer", "招聘": "hire",
             "硬约束": "HARD", "软约束": "SOFT", "目标": "TARGET"},
    "status": {"已开办": "opened", "未开办": "not_opened", "已排除": "excluded",
               "未规划学段": "not_planned", "通过": "pass", "未通过": "fail",
               "例外": "exception", "不适用": "not applicable"},
}
"""Chinese words for coded result columns (the plan workbook only)."""

_VALUE_ZH: Final[dict[str, dict[str, str]]] = {
    column: {code: zh for zh, code in reversed(list(words.items()))}
    for column, words in (*VALUES.items(), *_RESULT_VALUES.items())
}
"""Code → Chinese word per column (the first word listed for a code wins)."""

_FLAG_WORDS: Final = {"zh": ("是", "否"), "en": ("yes", "no")}

_DYNAMIC: Final = (
    (re.compile(r"^classes_(\w+)$"), "{zh}班级数", "{en} classes", _STAGE_ZH, _STAGE_EN),
    (re.compile(r"^shortfall_(\w+)$"), "{zh}缺口", "Shortfall {en}", _SUBJECT_ZH, None),
)


def header_label(name: str, language: str) -> str:
    """Return the header of column ``name`` in ``language`` (``"zh"`` or ``"en"``).

    Columns outside :data:`HEADERS` built from a known stem (``classes_primary``,
    ``shortfall_math``) get a composed header; any other column keeps its code name.
    """
    header = HEADERS.get(name)
    if header is not None:
        return header.zh if language == "zh" else header.en
    for pattern, zh, en, zh_words, en_words in _DYNAMIC:
        found = pattern.match(name)
        if found:
            code = found.group(1)
            if language == "zh":
                return zh.format(zh=zh_words.get(code, code))
            return en.format(en=(en_words or {}).get(code, code))
    return name


def value_label(column: str, value: object, language: str) -> object:
    """Return a cell value in the workbook's language: 小学 for ``primary``, 是 for ``True``.

    Coded values of :data:`VALUES` (and of result columns such as ``kind`` and ``status``)
    become Chinese words in ``"zh"``; yes/no values become 是/否 (``"zh"``) or yes/no.
    Other values are returned unchanged.
    """
    if isinstance(value, bool):
        yes, no = _FLAG_WORDS.get(language, _FLAG_WORDS["en"])
        return yes if value else no
    if language != "zh" or not isinstance(value, str):
        return value
    return _VALUE_ZH.get(column, {}).get(value, value)


# ----------------------------------------------------------------------------- reading


def _accepted() -> dict[str, str]:
    """Every accepted header spelling → code name (code names and English words too)."""
    accepted: dict[str, str] = {}
    for header in _ROWS:
        for spelling in (header.name, header.zh, header.en, *header.aliases):
            accepted.setdefault(spelling, header.name)
    return accepted


_ACCEPTED: Final = _accepted()


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in text)


@dataclass(frozen=True)
class HeaderMatch:
    """How a file's headers map to code names (the outcome of :func:`match_headers`).

    Parameters
    ----------
    renames
        Header as written → code name, for the headers that are renamed.
    written
        Code name → header as written, for every renamed column.
    chinese
        ``True`` when the file writes at least one known header in Chinese.
    problems
        Headers that mean the same column.
    """

    renames: dict[str, str] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)
    chinese: bool = False
    problems: list[Problem] = field(default_factory=list)


def match_headers(columns: Iterable[str], ctx: Context, *, keep: Iterable[str] = ()
                  ) -> HeaderMatch:
    """Map a file's headers to code names with :data:`HEADERS`.

    A header is renamed when it is exactly one of the spellings in the table (code name,
    Chinese header, English header or alias; surrounding spaces are stripped before) and
    its code name is not a header of the file already. Headers the
    table does not know are kept as written.

    Parameters
    ----------
    columns
        The header row, stripped.
    ctx
        Names the file in problems.
    keep
        Headers never renamed: the columns the caller asks for by these very names.

    Returns
    -------
    HeaderMatch
        The renames, and a problem for every code name written twice (e.g. both 学校编号
        and school_id).
    """
    present = [str(c) for c in columns]
    kept = set(keep)
    by_code: dict[str, list[str]] = {}
    for column in present:
        code = column if column in kept else _ACCEPTED.get(column)
        if code is not None:
            by_code.setdefault(code, []).append(column)
    renames: dict[str, str] = {}
    problems: list[Problem] = []
    for code, spellings in by_code.items():
        if len(spellings) > 1:
            listed = ", ".join(repr(s) for s in spellings)
            problems.append(Problem(ctx.label, "row 1", f"the headers {listed} all mean the "
                                    f"column {code!r}; keep one of them"))
            continue
        if spellings[0] != code and code not in present:
            renames[spellings[0]] = code
    chinese = any(_has_cjk(s) for spellings in by_code.values() for s in spellings)
    return HeaderMatch(renames, {code: text for text, code in renames.items()}, chinese,
                       problems)


def translate_values(cells: Sequence[object], column: str) -> list[object]:
    """Replace the Chinese words of a coded column by their codes (other cells unchanged)."""
    words = VALUES.get(column, {})
    return [words.get(v.strip(), v) if isinstance(v, str) else v for v in cells]


def missing_column_message(name: str, present: Iterable[str], *, chinese: bool,
                           taken: Iterable[str] = ()) -> str:
    """Say that a required column is missing, how to write its header, and what is close.

    Parameters
    ----------
    name
        The code name of the missing column.
    present
        The file's headers as written.
    chinese
        Suggest the Chinese header (the file writes its headers in Chinese).
    taken
        Headers already read as other columns; never suggested.

    Returns
    -------
    str
        ``required column is missing; did you mean '班级数量'? (rename that column to
        '班级数'); write the header as '班级数' or 'classes'`` (the suggestion compares the
        free headers with the code name and the Chinese and English headers of
        :data:`HEADERS`; without a close one, the file's headers are listed).
    """
    message = "required column is missing"
    header = HEADERS.get(name)
    spellings = [name] if header is None else [name, header.zh, header.en, *header.aliases]
    headers = [str(c) for c in present if str(c) != "geometry"]
    used = set(taken)
    free = {c.lower(): c for c in headers if c not in used}
    for spelling in spellings:
        cutoff = 0.6 if _has_cjk(spelling) else 0.75
        close = difflib.get_close_matches(spelling.lower(), list(free), n=1, cutoff=cutoff)
        if close:
            suggest = header.zh if header is not None and chinese else name
            message += (f"; did you mean {free[close[0]]!r}? "
                        f"(rename that column to {suggest!r})")
            break
    else:
        if headers:
            shown = ", ".join(repr(c) for c in headers[:5])
            more = f" … and {len(headers) - 5} more" if len(headers) > 5 else ""
            message += f"; the file has columns: {shown}{more}"
    if header is not None:
        message += f"; write the header as {header.zh!r} or {name!r}"
    return message


def display_name(name: str, written: Mapping[str, str], *, chinese: bool) -> str:
    """The column as the planner sees it: as written, or ``班级数 (classes)`` when absent."""
    if name in written:
        return written[name]
    header = HEADERS.get(name)
    if chinese and header is not None:
        return f"{header.zh} ({name})"
    return name


@dataclass(frozen=True)
class WrittenContext(Context):
    """A :class:`~gis.columns.Context` that names columns by the header as written.

    Parameters
    ----------
    written
        Code name → header as written in the file (from :func:`match_headers`).
    chinese
        Name absent columns by their Chinese header too (``班级数 (classes)``).
    """

    written: Mapping[str, str] = field(default_factory=dict)
    chinese: bool = False

    def column(self, name: str) -> str:
        """The column ``name`` as the planner sees it."""
        return display_name(name, self.written, chinese=self.chinese)

    def where(self, indices: Sequence[int], column: str | None = None) -> str:
        """Name records and a column, e.g. ``rows 3, 5, column 班级数``."""
        return super().where(indices, None if column is None else self.column(column))

    def problem(
        self,
        message: str,
        *,
        indices: Sequence[int] = (),
        column: str | None = None,
        values: Sequence[str] | None = None,
        quote: bool = True,
    ) -> Problem:
        """Build a problem naming the column by its header as written."""
        shown = None if column is None else self.column(column)
        if indices:
            where = Context.where(self, indices, shown)
        else:
            where = f"column {shown}" if shown is not None else ""
        listed = None if values is None else [repr(v) if quote else v for v in values]
        return Problem(self.label, where, message, None if listed is None else shorten(listed))
