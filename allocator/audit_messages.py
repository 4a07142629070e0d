"""Message catalog of the audit: every text an audit row can carry, by key and language.

Checks return a message key and values (:class:`allocator.audit_core.Finding`); the text is
made here from the ``[audit]`` section of the message table (:mod:`allocator.i18n`,
``allocator/locale/{en,zh}.toml``): :data:`EN` and :data:`ZH` hold the same keys with the
same placeholders. Values are formatted by the checks (thousands separators, units in the
text); in Chinese, values the checks write in English (``urban``, ``new school``,
``cumulative``) are translated through the table's glossary. Money in the texts is in
million CNY.

The language of an audit is the scenario's ``meta.language`` unless ``--lang`` says
otherwise (:func:`audit_language`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import yaml

from allocator.i18n import DEFAULT_LANGUAGE, LANGUAGES, choose_language, glossary, messages
from allocator.i18n import scenario_language as _scenario_language

__all__ = ["CATALOGS", "EN", "ZH", "audit_language", "render", "results_language"]

CATALOGS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {lang: MappingProxyType(messages().section("audit", lang)) for lang in LANGUAGES})
"""Catalogs by language code; missing keys fall back to English."""

EN: Mapping[str, str] = CATALOGS["en"]
"""English texts by message key."""

ZH: Mapping[str, str] = CATALOGS["zh"]
"""Simplified Chinese texts by message key."""


class _Values(dict[str, object]):
    """Format values that leave an unknown placeholder visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def audit_language(config: object = None) -> str:
    """The audit's language: ``--lang`` if given, else the scenario's ``meta.language``.

    Parameters
    ----------
    config
        The scenario in any form the audit takes (resolved scenario, model, mapping), or
        ``None``.
    """
    return choose_language(_scenario_language(config))


def results_language(folder: str | Path) -> str:
    """The language of a results directory: ``--lang``, else its resolved scenario's.

    Reads ``meta.language`` of ``scenario.resolved.yaml``; English when it is missing or
    unreadable.
    """
    try:
        text = (Path(folder) / "scenario.resolved.yaml").read_text(encoding="utf-8")
        resolved = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        resolved = None
    return audit_language(resolved if isinstance(resolved, Mapping) else None)


def render(key: str, values: Mapping[str, object], *, language: str = "en",
           exception: bool = False) -> str:
    """The text of message ``key`` with ``values`` in ``language`` (English fallback).

    Parameters
    ----------
    key
        Message key.
    values
        Values named in the text.
    language
        Catalog language code (``en`` or ``zh``; others fall back to English).
    exception
        Append the listed exception's reason (``values["why"]``).
    """
    catalog = CATALOGS.get(language, EN)
    template = catalog.get(key, EN.get(key, key))
    if language != DEFAULT_LANGUAGE and language in CATALOGS:
        values = {k: glossary(v, language) if isinstance(v, str) else v
                  for k, v in values.items()}
    text = template.format_map(_Values(values))
    if exception:
        text += catalog.get("exception_suffix", EN["exception_suffix"]).format_map(
            _Values(values))
    return text
