"""Words of the HTML report and the run comparison, in Simplified Chinese and English.

All the fixed text of :mod:`allocator.report` and :mod:`allocator.compare` is the
``[report]`` section of the message catalogue (``allocator/locale/{en,zh}.toml``, read by
:mod:`allocator.i18n`, whose tests keep the two languages' keys and placeholders equal);
:data:`TEXT` is that section by language. Map words (layer names, stages) come from
:mod:`gis.map_style`. Words from the data (county codes, rule messages) are shown as they
are.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from allocator.i18n import LANGUAGES, choose_language, messages
from gis.map_style import check_lang, stage_label

__all__ = ["TEXT", "kpi_label", "pick_language", "scope_label", "text"]

TEXT: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType(
    {lang: MappingProxyType(messages().section("report", lang)) for lang in LANGUAGES})
"""The ``[report]`` section of the message catalogue (:mod:`allocator.i18n`), by language."""


def text(key: str, lang: str) -> str:
    """The word for ``key`` in ``lang`` (``zh`` or ``en``); the key itself when unknown."""
    return TEXT[check_lang(lang)].get(key, key)


def pick_language(lang: str | None, scenario: str | None) -> str:
    """The language of a page: ``zh`` or ``en``.

    ``lang`` when given; else the ``--lang`` override of :mod:`allocator.i18n`, else the
    scenario's ``meta.language``, else that module's default (English).
    """
    if lang:
        return check_lang(lang)
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
