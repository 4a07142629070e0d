"""Messages a planner reads, in Simplified Chinese (``zh``) and English (``en``).

One message table per language, ``allocator/locale/{zh,en}.toml`` (shipped in the wheel):
sections of ``key = "template"`` with Python :meth:`str.format` placeholders. The two files
hold the same keys with the same placeholders (``tests/test_i18n.py`` fails otherwise).
:func:`t` renders a message by its dotted key (``run.col_stage``).

TOML rather than gettext ``.po``/``.mo``: it is read by the standard library
(:mod:`tomllib`), needs no compile step and no extra package, keeps keys stable when the
English wording changes, and is plain UTF-8 text a translator can edit and review in a
diff. JSON would do the same without comments.

Some text is written in English by code that must not depend on this package (``gis``
validators, pydantic, the audit checks' values). The sections ``problem``, ``glossary``,
``switch`` and ``kind`` translate such text: their English templates are matched against
the text (placeholders match the values), and the other language's template is filled with
the same values (:func:`from_english`). Text that matches no template stays as written, so
a new English message is never lost, only untranslated.

The section ``warning`` does the same for the warnings the library logs and the notes a run
keeps (``Results.notes``): the library writes them in English, deterministically;
:func:`warning_text` translates one, and :class:`WarningFormatter` shows the log's warnings
in the chosen language (the CLI installs it on its console handler).

The language: ``--lang`` of the command line (:func:`use_language`), else the scenario's
``meta.language``, else English (:func:`choose_language`). Rule quotes are never
translated: they are shown in the documents' original Chinese.
"""

from __future__ import annotations

import logging
import re
import string
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final, Literal

from gis.errors import Problem

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Lang",
    "Messages",
    "WarningFormatter",
    "check_language",
    "choose_language",
    "from_english",
    "glossary",
    "language_override",
    "messages",
    "placeholders",
    "problem_text",
    "scenario_language",
    "set_language",
    "t",
    "translate_where",
    "use_language",
    "warning_text",
]

Lang = Literal["zh", "en"]
LANGUAGES: Final[tuple[Lang, ...]] = ("zh", "en")
DEFAULT_LANGUAGE: Final[Lang] = "en"
"""Language when neither ``--lang`` nor the scenario says (the scenario schema's default)."""

_CHOSEN: ContextVar[Lang | None] = ContextVar("allocator_language", default=None)


def check_language(value: str) -> Lang:
    """Return ``value`` as a language code; raise ``ValueError`` unless ``zh`` or ``en``."""
    if value == "zh":
        return "zh"
    if value == "en":
        return "en"
    raise ValueError(f"language must be 'zh' or 'en', not {value!r}")


@contextmanager
def use_language(lang: str | None) -> Iterator[None]:
    """Within the block, :func:`choose_language` returns ``lang`` (``None``: no override).

    The CLI wraps each command in this with its ``--lang`` option.
    """
    token = _CHOSEN.set(None if lang is None else check_language(lang))
    try:
        yield
    finally:
        _CHOSEN.reset(token)


def set_language(lang: str | None) -> Callable[[], None]:
    """Make ``lang`` the override until the returned function is called (``None``: none).

    For a command-line option parsed before the command runs; :func:`use_language` is the
    block form.
    """
    token = _CHOSEN.set(None if lang is None else check_language(lang))
    return lambda: _CHOSEN.reset(token)


def language_override() -> Lang | None:
    """The ``--lang`` override in force, if any."""
    return _CHOSEN.get()


def choose_language(scenario: str | None = None) -> Lang:
    """The language to speak: the ``--lang`` override, else ``scenario``, else English."""
    chosen = _CHOSEN.get()
    if chosen is not None:
        return chosen
    if scenario in LANGUAGES:
        return check_language(str(scenario))
    return DEFAULT_LANGUAGE


def scenario_language(config: object) -> Lang | None:
    """``meta.language`` of a scenario in any form (resolved, model or mapping); else None."""
    inner = getattr(config, "config", config)
    meta = getattr(inner, "meta", None)
    if meta is None and isinstance(inner, Mapping):
        meta = inner.get("meta")
    value = meta.get("language") if isinstance(meta, Mapping) else getattr(meta, "language",
                                                                            None)
    return check_language(value) if value in LANGUAGES else None


# ----------------------------------------------------------------------------- the table


def placeholders(template: str) -> frozenset[str]:
    """Names of the ``{placeholders}`` in a template (escaped ``{{`` braces excluded)."""
    return frozenset(field for _, field, _, _ in string.Formatter().parse(template)
                     if field is not None)


class _Lenient(dict[str, object]):
    """Format values that leave an unknown placeholder visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _flatten(table: Mapping[str, Any], prefix: str, out: dict[str, str]) -> None:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, f"{name}.", out)
        elif isinstance(value, str):
            out[name] = value
        else:
            raise TypeError(f"locale entry {name} is not text: {value!r}")


@dataclass(frozen=True)
class _Pattern:
    """An English template as a regular expression, with its key."""

    key: str
    regex: re.Pattern[str]
    literal: int


_VALUE: Final = r"(?:(?!; ).)*?"
"""What a placeholder matches: any text without ``; `` (which separates message parts)."""


def _compile(key: str, template: str, fields: Mapping[str, str] | None = None,
             value: str = _VALUE) -> _Pattern:
    """``template`` as a pattern; placeholder ``f`` matches ``fields[f]``, else ``value``."""
    parts: list[str] = []
    seen: set[str] = set()
    literal = 0
    for text, field, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(text))
        literal += len(text)
        if field is None:
            continue
        if not field.isidentifier():
            raise ValueError(f"locale entry {key}: placeholder {{{field}}} is not a name")
        pattern = (fields or {}).get(field, value)
        parts.append(f"(?P={field})" if field in seen else f"(?P<{field}>{pattern})")
        seen.add(field)
    return _Pattern(key, re.compile("".join(parts), re.DOTALL), literal)


@dataclass(frozen=True, eq=False)
class Messages:
    """All messages by language and dotted key (``section.key``).

    Parameters
    ----------
    tables
        Language code to flat key to template.
    """

    tables: Mapping[str, Mapping[str, str]]

    @classmethod
    def load(cls) -> Messages:
        """Read ``allocator/locale/<lang>.toml`` for every language in :data:`LANGUAGES`."""
        tables: dict[str, dict[str, str]] = {}
        folder = resources.files("allocator") / "locale"
        for lang in LANGUAGES:
            with (folder / f"{lang}.toml").open("rb") as handle:
                flat: dict[str, str] = {}
                _flatten(tomllib.load(handle), "", flat)
                tables[lang] = flat
        return cls(tables)

    def keys(self, lang: str) -> frozenset[str]:
        """Every key of ``lang``."""
        return frozenset(self.tables[check_language(lang)])

    def get(self, key: str, lang: str) -> str | None:
        """The template of ``key`` in ``lang``, else in English, else ``None``."""
        found = self.tables[check_language(lang)].get(key)
        return found if found is not None else self.tables[DEFAULT_LANGUAGE].get(key)

    def section(self, section: str, lang: str) -> dict[str, str]:
        """The templates of one section, by key without the section prefix."""
        prefix = f"{section}."
        return {k[len(prefix):]: v for k, v in self.tables[check_language(lang)].items()
                if k.startswith(prefix)}

    def patterns(self, section: str) -> tuple[_Pattern, ...]:
        """English templates of ``section`` as patterns, most literal text first."""
        return _patterns(self, section)


_NUMBER: Final = r"-?\d[\d,]*(?:\.\d+)?"
"""A count or amount as the library writes it (``2,400``, ``3``, ``0.5``)."""

_WARNING_FIELDS: Final[Mapping[str, str]] = {
    "year": r"\d{4}",
    **dict.fromkeys(("count", "n", "need", "have", "short", "seats", "room", "largest",
                     "most", "offered", "eligible", "heads", "posts", "due", "more", "solved",
                     "blocks", "zones", "cells", "cell", "age", "km", "missing", "total"),
                    _NUMBER),
    "solver": r"[A-Za-z][\w.+-]*",
    **dict.fromkeys(("objective", "bound", "gap"),
                    r"n/a|-?(?:inf|\d[\d.]*(?:e[+-]?\d+)?)%?"),
}
"""Placeholders of the ``warning`` section that match only numbers (the others any text).

Warning values may contain ``; `` (a solver's message does), so the section's other
placeholders match any text; the numeric ones keep adjacent values apart (``{county}
{year}``) and keep a solver's message (``...; objective n/a, bound n/a, gap n/a``) from
swallowing the warning around it."""

_SECTION_VALUES: Final[Mapping[str, tuple[Mapping[str, str], str]]] = {
    "warning": (_WARNING_FIELDS, r".*?"),
}


@cache
def _patterns(table: Messages, section: str) -> tuple[_Pattern, ...]:
    fields, value = _SECTION_VALUES.get(section, ({}, _VALUE))
    compiled = [_compile(f"{section}.{k}", v, fields, value)
                for k, v in table.section(section, DEFAULT_LANGUAGE).items()]
    return tuple(sorted(compiled, key=lambda p: (-p.literal, p.key)))


@cache
def messages() -> Messages:
    """The shipped message table (read once)."""
    return Messages.load()


def t(key: str, lang: str, /, **values: object) -> str:
    """The message ``key`` in ``lang`` with ``values`` filled in.

    Parameters
    ----------
    key
        Dotted key, e.g. ``run.col_stage``.
    lang
        ``zh`` or ``en``; a key missing in ``lang`` falls back to English.
    **values
        Placeholder values; a missing one stays visible as ``{name}``.

    Raises
    ------
    KeyError
        If no language has ``key`` (a programming error).
    """
    template = messages().get(key, lang)
    if template is None:
        raise KeyError(f"no message {key!r}")
    return template.format_map(_Lenient(values)) if values or "{" in template else template


def glossary(value: str, lang: str) -> str:
    """A value the code writes in English (``urban``, ``new school``) in ``lang``."""
    if lang == DEFAULT_LANGUAGE:
        return value
    for pattern in messages().patterns("glossary"):
        if pattern.regex.fullmatch(value):
            return t(pattern.key, lang)
    return value


def from_english(text: str, lang: str, section: str, *,
                 translate_values: bool = True) -> str | None:
    """``text`` (English, written by other code) in ``lang`` via a section's templates.

    The first English template of ``section`` (most literal text first) that matches the
    whole text gives the key; the values its placeholders matched fill the ``lang``
    template, each through :func:`glossary` when ``translate_values``. ``None`` when no
    template matches.
    """
    for pattern in messages().patterns(section):
        found = pattern.regex.fullmatch(text)
        if found is None:
            continue
        values = found.groupdict()
        if translate_values:
            values = {k: glossary(v, lang) for k, v in values.items()}
        return t(pattern.key, lang, **values)
    return None


_YEAR_STATUS: Final = re.compile(r"(\d{4}(?:-\d{4})?): (\w+)")
"""One year block's status in a rotation solve's message (``2025: infeasible``)."""

_WARNING_DEPTH: Final = 3
"""How deep :func:`warning_text` translates values that are warnings themselves."""


def _warning_value(value: str, lang: Lang, depth: int) -> str:
    """One value of a warning in ``lang``; else as written.

    A glossary word (or a ``, `` list of them), a solve status, year blocks' statuses
    (``2025: infeasible; 2026: optimal``) or a text of the ``warning`` section.
    """
    word = glossary(value, lang)
    if word != value:
        return word
    status = messages().tables[lang].get(f"status.{value}")
    if status is not None:
        return status
    years = [_YEAR_STATUS.fullmatch(part) for part in value.split("; ")]
    if all(found is not None and f"status.{found[2]}" in messages().tables[lang]
           for found in years):
        return t("warning_part.join", lang).join(
            t("warning_part.year_status", lang, years=found[1],
              status=t(f"status.{found[2]}", lang))
            for found in years if found is not None)
    if ", " in value:
        words = [glossary(part, lang) for part in value.split(", ")]
        if all(w != p for w, p in zip(words, value.split(", "), strict=True)):
            return t("warning_part.list_join", lang).join(words)
    if depth < _WARNING_DEPTH:
        nested = _warning(value, lang, depth + 1)
        if nested is not None:
            return nested
    return value


def _warning(text: str, lang: Lang, depth: int) -> str | None:
    for pattern in messages().patterns("warning"):
        found = pattern.regex.fullmatch(text)
        if found is None:
            continue
        values = {k: _warning_value(v, lang, depth) for k, v in found.groupdict().items()}
        return t(pattern.key, lang, **values)
    return None


def warning_text(text: str, lang: str) -> str:
    """A warning or run note the library wrote in English, in ``lang``.

    The first English template of the ``warning`` section (most literal text first) that
    matches the whole text gives the message; each value it matched is translated when it
    is a glossary word (``primary``), a list of them (``primary, junior``), a solve status
    (``infeasible``) or itself a warning text (a solver's message, ``S001, S002 and 3
    more``), else kept (ids, numbers, names). Text no template matches is returned as it
    is; in English the text is returned unchanged.

    Parameters
    ----------
    text
        The English message, e.g. a log record's message or one of ``Results.notes``.
    lang
        ``zh`` or ``en``.
    """
    chosen = check_language(lang)
    if chosen == DEFAULT_LANGUAGE:
        return text
    found = _warning(text, chosen, 0)
    return text if found is None else found


class WarningFormatter(logging.Formatter):
    """A log formatter that shows warnings and errors in :attr:`lang`.

    Records at ``WARNING`` and above whose message a ``warning`` template knows are shown
    translated (:func:`warning_text`); other records, and everything in English, are
    formatted as :class:`logging.Formatter` does. The record itself is not changed, so
    other handlers still see the English text.

    Parameters
    ----------
    fmt
        The format string (``%(message)s`` by default).
    lang
        The language to show; set :attr:`lang` later when it is known only then (the CLI
        learns the scenario's ``meta.language`` after its logging is set up).
    """

    def __init__(self, fmt: str = "%(message)s", lang: str = DEFAULT_LANGUAGE) -> None:
        super().__init__(fmt)
        self.lang: Lang = check_language(lang)

    def format(self, record: logging.LogRecord) -> str:
        """The record as text, its message in :attr:`lang` when it is a known warning."""
        if record.levelno < logging.WARNING or self.lang == DEFAULT_LANGUAGE:
            return super().format(record)
        message = record.getMessage()
        translated = warning_text(message, self.lang)
        if translated == message:
            return super().format(record)
        shown = logging.makeLogRecord({**record.__dict__, "msg": translated, "args": None})
        return super().format(shown)


def _translate_message(message: str, lang: str) -> str:
    """A problem message: whole, else each ``; `` part; English if any part is unknown."""
    whole = from_english(message, lang, "problem")
    if whole is not None:
        return whole
    parts = [from_english(part, lang, "problem") for part in message.split("; ")]
    if len(parts) < 2 or any(part is None for part in parts):
        return message
    return "；".join(part for part in parts if part is not None)


_NUMBERS = r"\d+(?:, \d+)*(?: … and \d+ more)?"
_WHERE_TOKENS: Final = (
    ("rows", re.compile(rf"rows ({_NUMBERS})")),
    ("row", re.compile(rf"row ({_NUMBERS})")),
    ("features", re.compile(rf"features ({_NUMBERS})")),
    ("feature", re.compile(rf"feature ({_NUMBERS})")),
    ("line", re.compile(r"line (\d+)")),
    ("sheet", re.compile(r"sheet ([^,]+)")),
    ("columns", re.compile(r"columns (.+)$")),
    ("column", re.compile(r"column (.+)$")),
    ("key", re.compile(r"key (.+)$")),
)
_MORE = re.compile(r"^(.*) … and (\d+) more$")


def translate_where(where: str, lang: str) -> str:
    """A problem's place (``rows 3, 5, column year``) in ``lang``; names stay as written.

    Places that are not a sequence of row, feature, line, sheet, column and key parts are
    returned unchanged.
    """
    if lang == DEFAULT_LANGUAGE or not where:
        return where
    pieces: list[str] = []
    rest = where
    while rest:
        for unit, regex in _WHERE_TOKENS:
            found = regex.match(rest)
            if found is None:
                continue
            after = rest[found.end():]
            if after and not after.startswith(", "):
                continue
            value = found.group(1)
            if unit in ("row", "rows", "feature", "features", "line"):
                more = _MORE.match(value)
                piece = t(f"where_unit.{unit}", lang,
                          numbers=value if more is None else more.group(1))
                if more is not None:
                    piece = t("where_unit.more", lang, shown=piece, count=more.group(2))
                pieces.append(piece)
            else:
                pieces.append(t(f"where_unit.{unit}", lang, name=value))
            rest = after[2:]
            break
        else:
            return where
    return t("where.join", lang).join(pieces)


_SOURCE_LINE = re.compile(r"^(.*) line (\d+)$")
_SOURCE_SHEET = re.compile(r"^(.*), sheet (.+)$")


def _translate_source(source: str, lang: str) -> str:
    """``book.xlsx, sheet 学校`` and ``scenario.yaml line 20`` in ``lang``."""
    line = _SOURCE_LINE.match(source)
    if line is not None:
        return t("cli.source_line", lang, source=_translate_source(line.group(1), lang),
                 line=line.group(2))
    sheet = _SOURCE_SHEET.match(source)
    if sheet is not None:
        return t("cli.source_sheet", lang, source=sheet.group(1), sheet=sheet.group(2))
    return source


def problem_text(problem: Problem, lang: str) -> str:
    """One input problem as a line in ``lang``.

    File names, keys, row and column numbers, column names and the offending values are
    kept as they are; the frame and the message are translated where the table knows the
    message. In English the text equals ``str(problem)``.
    """
    if lang == DEFAULT_LANGUAGE:
        return str(problem)
    source = _translate_source(problem.source, lang)
    place = (t("cli.place", lang, source=source, where=translate_where(problem.where, lang))
             if problem.where else source)
    got = "" if problem.value is None else t("cli.got", lang, value=problem.value)
    return t("cli.problem", lang, place=place,
             message=_translate_message(problem.message, lang), got=got)
