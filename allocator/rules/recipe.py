"""The build recipe: which catalogue rules are modelled, by what code, and which are not.

Rules are registered when the modules that implement them are imported.
:func:`load_rule_modules` imports every module listed in :data:`RULE_MODULES` (a package
is imported with all its submodules) and reports those that fail. :func:`recipe` then
gives one :class:`RecipeRow` per registered rule (kind as implemented, catalogue kind,
document, clause, Chinese quote, parameters, implementations, formulas and, for a
scenario, its on/off setting) and :func:`not_modelled_rows` one :class:`NotModelledRow`
per catalogue rule without code, with the reason from ``not_modelled.csv`` beside this file.

:func:`to_markdown` and :func:`to_csv` render them; ``docs/rules.md`` is
``allocator rules --all --format markdown``. The output depends only on the code and the
two CSV files: rows in catalogue order, implementations sorted by name, no timestamps.
"""

from __future__ import annotations

import csv
import importlib
import io
import pkgutil
import re
from dataclasses import dataclass
from importlib.resources import files

from allocator.rules import Kind, Rule, catalogue, registered
from allocator.rules.config import (
    SWITCH_HONOURED_BY,
    RulesConfig,
    switch_label,
    switch_summary,
)

__all__ = [
    "CSV_COLUMNS",
    "DOCS_COMMAND",
    "NOT_MODELLED_FILE",
    "RULE_MODULES",
    "UPDATE_COMMAND",
    "NotModelledRow",
    "RecipeRow",
    "accounting_problems",
    "formula_of",
    "load_rule_modules",
    "not_modelled",
    "not_modelled_rows",
    "product_rules",
    "recipe",
    "short_document",
    "switch_note",
    "to_csv",
    "to_markdown",
]

RULE_MODULES: tuple[str, ...] = (
    "allocator.candidates",
    "allocator.plan",
    "allocator.plan_inputs",
    "allocator.rotation_model",
    "allocator.rotation_network",
    "allocator.rotation_prep",
    "allocator.rotation_report",
    "allocator.rotation_rules",
    "allocator.travel",
)
"""Every module (or package, with its submodules) whose import registers rules."""

NOT_MODELLED_FILE = "allocator/rules/not_modelled.csv"
DOCS_COMMAND = "allocator rules --all --format markdown > docs/rules.md"
UPDATE_COMMAND = ".venv/bin/python tools/update_rule_docs.py"

_SECTION = re.compile(
    r"\s+(Parameters|Returns|Yields|Raises|Notes|Examples|See Also|Attributes|References)"
    r"\s+-{3,}.*$"
)


def load_rule_modules() -> dict[str, str]:
    """Import every module of :data:`RULE_MODULES`, so that their rules are registered.

    Returns
    -------
    dict
        Module name → ``"ExceptionType: message"`` for each module that failed to import
        (empty when all imported). The rules of a failed module are missing from the recipe.
    """
    failures: dict[str, str] = {}

    def failed(name: str, exc: BaseException) -> None:
        failures[name] = f"{type(exc).__name__}: {exc}"

    for name in RULE_MODULES:
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            failed(name, exc)
            continue
        path = getattr(module, "__path__", None)
        if path is None:
            continue
        found = pkgutil.walk_packages(path, prefix=f"{name}.", onerror=lambda n: None)
        for sub in sorted(info.name for info in found):
            try:
                importlib.import_module(sub)
            except Exception as exc:
                failed(sub, exc)
    return failures


def product_rules() -> list[Rule]:
    """Registered implementations in the product (``allocator``/``gis``), catalogue order.

    Implementations registered by test code are left out, so that the recipe does not
    depend on which tests ran before.
    """
    return [r for r in registered() if r.implementation.split(".")[0] in ("allocator", "gis")]


def not_modelled() -> dict[str, str]:
    """Reason by rule ID, from ``not_modelled.csv`` (first row wins for a repeated ID)."""
    reasons: dict[str, str] = {}
    for rule_id, reason in _not_modelled_file():
        reasons.setdefault(rule_id, reason)
    return reasons


def _not_modelled_file() -> list[tuple[str, str]]:
    text = files("allocator.rules").joinpath("not_modelled.csv").read_text(encoding="utf-8")
    return [(row["rule_id"].strip(), row["reason"].strip())
            for row in csv.DictReader(io.StringIO(text))]


def accounting_problems() -> list[str]:
    """What keeps the rule accounting from being complete; empty when every rule is covered.

    Every catalogue rule must be either registered (by product code) or listed in
    ``not_modelled.csv`` with a reason, not both; every listed ID must be in the catalogue,
    once, with a non-empty reason. Each message names the IDs and what to do.
    """
    ids = list(catalogue())
    done = {r.rule_id for r in product_rules()}
    listed = _not_modelled_file()
    names = [rule_id for rule_id, _ in listed]
    reasons = not_modelled()
    problems: list[str] = []

    def report(found: list[str], what: str) -> None:
        if found:
            problems.append(f"{what}: {', '.join(found)}")

    report([r for r in ids if r not in done and r not in reasons],
           f"catalogue rules neither registered nor listed: add a row (rule_id,reason) to "
           f"{NOT_MODELLED_FILE} for")
    report([r for r in ids if r in done and r in reasons],
           f"registered rules still listed as not modelled: remove from {NOT_MODELLED_FILE} "
           f"the rows of (or run {UPDATE_COMMAND})")
    report(sorted({r for r in names if r not in catalogue()}),
           f"IDs in {NOT_MODELLED_FILE} that are not in the catalogue: remove")
    report(sorted({r for r in names if names.count(r) > 1}),
           f"IDs listed more than once in {NOT_MODELLED_FILE}: keep one row of")
    report([r for r, reason in listed if not reason],
           f"rows of {NOT_MODELLED_FILE} without a reason: write one for")
    return problems


@dataclass(frozen=True)
class RecipeRow:
    """One registered rule: where it comes from and the code that builds it.

    Attributes
    ----------
    kinds
        Kinds as implemented, one per distinct kind of its implementations.
    implementations, formulas
        Qualified function names, sorted, and their docstrings (the formula; numpydoc
        sections cut off), aligned.
    switch
        The scenario's setting (``on``, ``off``, ``on, 1 exception``); empty without one.
    """

    rule_id: str
    kinds: tuple[Kind, ...]
    catalogue_kind: str
    families: tuple[str, ...]
    document: str
    clause: str
    quote: str
    params: tuple[str, ...]
    implementations: tuple[str, ...]
    formulas: tuple[str, ...]
    switch: str = ""

    @property
    def kind(self) -> str:
        """The kinds as implemented, joined with ``/`` (e.g. ``PARAM/HARD``)."""
        return "/".join(self.kinds)


@dataclass(frozen=True)
class NotModelledRow:
    """A catalogue rule no code implements, and why."""

    rule_id: str
    catalogue_kind: str
    document: str
    clause: str
    quote: str
    reason: str


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def formula_of(rule: Rule) -> str:
    """The formula part of an implementation's docstring (numpydoc sections cut off)."""
    return _SECTION.sub("", rule.formula).strip()


def recipe(rules: RulesConfig | None = None) -> list[RecipeRow]:
    """One row per registered rule, in catalogue order.

    Parameters
    ----------
    rules
        A scenario's ``rules:`` section; fills :attr:`RecipeRow.switch` when given.
    """
    by_id: dict[str, list[Rule]] = {}
    for implementation in product_rules():
        by_id.setdefault(implementation.rule_id, []).append(implementation)
    rows = []
    for rule_id, found in by_id.items():
        found = sorted(found, key=lambda r: r.implementation)
        entry = found[0].entry
        rows.append(RecipeRow(
            rule_id=rule_id,
            kinds=tuple(Kind(k) for k in _unique([r.kind for r in found])),
            catalogue_kind=entry.catalogue_kind,
            families=_unique([r.family for r in found]),
            document=entry.document,
            clause=entry.clause,
            quote=entry.quote,
            params=_unique([p for r in found for p in r.params]),
            implementations=tuple(r.implementation for r in found),
            formulas=tuple(formula_of(r) for r in found),
            switch=switch_label(rules, rule_id) if rules is not None else "",
        ))
    return rows


def not_modelled_rows() -> list[NotModelledRow]:
    """One row per catalogue rule with no registered code, in catalogue order."""
    done = {r.rule_id for r in product_rules()}
    reasons = not_modelled()
    return [
        NotModelledRow(e.rule_id, e.catalogue_kind, e.document, e.clause, e.quote,
                       reasons.get(e.rule_id, "(no reason given)"))
        for e in catalogue().values() if e.rule_id not in done
    ]


def short_document(document: str) -> str:
    """The document number where there is one (``江府〔2023〕17号``), else the title."""
    head = document.split(" ")[0]
    return head if "〔" in head else document.split(" (")[0]


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _code_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"`{v}`" for v in values)


_SWITCH_HELP = """\
A scenario switches rules off and lists exceptions under `rules:`; every rule is on unless
switched off, and an unknown ID is an error with the closest ID:

```yaml
rules:
  J-10: {active: false}
  J-20:
    active: true
    exceptions:
      - {who: "某民办学校", where: "440703", why: "批准文号", years: [2025]}
```

Exceptions (who, where, why, years) are accepted only for rules whose clause says 原则上
("in principle") or whose catalogue kind includes SOFT."""


def switch_note() -> str:
    """Which models read the scenario's ``rules:`` switches, and how, in a few sentences."""
    if not SWITCH_HONOURED_BY:
        return ("No model reads these switches yet: they are validated and recorded in the "
                "resolved scenario, and `allocator rules SCENARIO` shows them, but a plan "
                "still applies every registered rule.")
    return ("Models that read these switches: " + _code_list(SWITCH_HONOURED_BY) + ". "
            + switch_summary())


def _documents() -> list[list[str]]:
    seen: dict[str, list[str]] = {}
    for entry in catalogue().values():
        seen.setdefault(entry.rule_id[0], [f"{entry.rule_id[0]}-…", entry.seed, entry.document])
    return list(seen.values())


def to_markdown(rows: list[RecipeRow], missing: list[NotModelledRow] | None = None,
                *, switches: bool = False) -> str:
    """The recipe as Markdown (``docs/rules.md`` when ``missing`` is given).

    Parameters
    ----------
    rows
        Registered rules (:func:`recipe`).
    missing
        Not-modelled rules (:func:`not_modelled_rows`); ``None`` leaves that table out.
    switches
        Add the scenario's on/off column.
    """
    total = len(catalogue())
    lines = [
        "# Policy rules: modelled and not modelled",
        "",
        f"<!-- Generated by `{DOCS_COMMAND}`; do not edit by hand. -->",
        "",
        f"The rule catalogue (`allocator/rules/catalogue.csv`) holds the {total} rules of the "
        "five seed documents. "
        f"{len(rows)} are implemented by registered code"
        + (f" and {len(missing)} are not modelled, each with a reason "
           f"(`{NOT_MODELLED_FILE}`)." if missing is not None else "."),
        "Quotes are the documents' own words.",
        "",
        "## Documents",
        "",
        *_table(["IDs", "seed file", "document"], _documents()),
        "",
        "## Switching rules in a scenario",
        "",
        _SWITCH_HELP,
        "",
        switch_note(),
        "",
        "## Modelled rules",
        "",
    ]
    header = ["ID", "kind", "catalogue kind", "family", "document", "clause", "quote",
              "parameters"] + (["on/off"] if switches else [])
    lines += _table(header, [
        [r.rule_id, r.kind, r.catalogue_kind, ", ".join(r.families), short_document(r.document),
         r.clause, r.quote, _code_list(r.params)] + ([r.switch] if switches else [])
        for r in rows
    ])
    lines += ["", "## How each rule is built", ""]
    for r in rows:
        lines += [f"### {r.rule_id} ({r.kind})", "",
                  f"{r.document} §{r.clause}: {r.quote}", ""]
        lines += [f"- `{name}`: {' '.join(formula.split())}"
                  for name, formula in zip(r.implementations, r.formulas, strict=True)]
        lines.append("")
    if missing is not None:
        lines += ["## Not modelled", ""]
        lines += _table(["ID", "catalogue kind", "document", "clause", "quote", "reason"], [
            [m.rule_id, m.catalogue_kind, short_document(m.document), m.clause, m.quote,
             m.reason] for m in missing
        ])
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


CSV_COLUMNS = ("rule_id", "status", "kind", "catalogue_kind", "family", "document", "clause",
               "quote", "params", "implementations", "formula", "on_off", "reason")


def to_csv(rows: list[RecipeRow], missing: list[NotModelledRow] | None = None) -> str:
    """The recipe as CSV: one row per rule, ``status`` modelled or not modelled.

    Lists (parameters, implementations, formulas) are joined with ``; `` and `` || ``.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({
            "rule_id": r.rule_id, "status": "modelled", "kind": r.kind,
            "catalogue_kind": r.catalogue_kind, "family": "; ".join(r.families),
            "document": r.document, "clause": r.clause, "quote": r.quote,
            "params": "; ".join(r.params), "implementations": "; ".join(r.implementations),
            "formula": " || ".join(r.formulas), "on_off": r.switch, "reason": "",
        })
    for m in missing or []:
        writer.writerow({
            "rule_id": m.rule_id, "status": "not modelled", "kind": "",
            "catalogue_kind": m.catalogue_kind, "family": "", "document": m.document,
            "clause": m.clause, "quote": m.quote, "params": "", "implementations": "",
            "formula": "", "on_off": "", "reason": m.reason,
        })
    return buffer.getvalue()
