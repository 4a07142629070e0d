"""The ``allocator`` command: the only place that joins scenarios, files and exit codes.

Exit codes: 0 ok, 2 bad input, 3 infeasible, 4 solver failure or time limit without a
solution (see :class:`allocator.errors.ExitCode`).

Messages are in Chinese or English (:mod:`allocator.i18n`): ``--lang zh|en`` (or the
``ALLOCATOR_LANG`` environment variable) before the command, else the scenario's
``meta.language``, else English. Help texts stay in English. The library logs in English;
the console shows its warnings in that language too (:class:`~allocator.i18n.WarningFormatter`
on the log handler, told the scenario's language by :func:`_speak` once it is loaded).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from rich.text import Text

from allocator import __version__
from allocator.errors import ExitCode, InputError, OutputExistsError
from allocator.i18n import (
    LANGUAGES,
    Lang,
    WarningFormatter,
    choose_language,
    from_english,
    glossary,
    language_override,
    messages,
    problem_text,
    set_language,
    t,
    warning_text,
)
from allocator.layering import load_scenario
from allocator.scenario import ResolvedScenario, scenario_json_schema

if TYPE_CHECKING:
    from allocator.results import Results
    from allocator.rules.recipe import NotModelledRow, RecipeRow

__all__ = ["app", "main"]

log = logging.getLogger("allocator")
err = Console(stderr=True)
out = Console()

app = typer.Typer(
    name="allocator",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Plan public school seats and teacher rotation from a scenario file.",
)


def _version(value: bool) -> None:
    if value:
        out.print(f"allocator {__version__}")
        raise typer.Exit()


class Language(StrEnum):
    """Languages of ``--lang``."""

    zh = "zh"
    en = "en"


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No progress and no summary: only warnings and errors.")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Also the log of every step (English).")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Detailed log, tracebacks.")] = False,
    lang: Annotated[
        Language | None,
        typer.Option("--lang", envvar="ALLOCATOR_LANG", case_sensitive=False,
                     help="Language of messages and tables: zh or en (default: the "
                     "scenario's meta.language, else en)."),
    ] = None,
) -> None:
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    _QUIET[0] = quiet
    handler = RichHandler(console=err, show_path=debug, show_time=debug, markup=False)
    # warnings in --lang now; commands that load a scenario may switch (_speak)
    handler.setFormatter(WarningFormatter(lang=choose_language() if lang is None
                                          else lang.value))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    if not debug:
        for noisy in ("pyogrio", "fiona", "matplotlib", "numexpr"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.call_on_close(set_language(None if lang is None else lang.value))


_QUIET = [False]
"""``--quiet`` of this invocation (no spinner, no summary); set by the main callback."""


def _language(resolved: ResolvedScenario | None = None) -> Lang:
    """``--lang``, else the scenario's ``meta.language``, else English."""
    return choose_language(resolved.config.meta.language if resolved is not None else None)


def _speak(lang: Lang) -> Lang:
    """Show the log's warnings in ``lang`` from now on (the main callback's handler)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, WarningFormatter):
            handler.formatter.lang = lang
    return lang


def _guess_language(path: Path | None, sets: list[str] | None) -> Lang:
    """The language for a scenario that did not load: ``--lang``, ``--set``, the raw file."""
    for item in reversed(sets or []):
        key, _, value = item.partition("=")
        if key.strip() == "meta.language" and value.strip() in LANGUAGES:
            return choose_language(value.strip())
    meta: Any = None
    if path is not None:
        try:
            meta = (yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}).get("meta")
        except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError):
            meta = None
    return choose_language(meta.get("language") if isinstance(meta, dict) else None)


def _report_input_error(exc: InputError, lang: Lang) -> None:
    err.print(Text.assemble((t("cli.bad_input", lang), "bold red"),
                            t("cli.problem_count", lang, count=len(exc.problems))),
              highlight=False)
    for problem in exc.problems:
        err.print(f"  • {problem_text(problem, lang)}", markup=False, highlight=False,
                  soft_wrap=True)


def _load(path: Path, scenario: str | None, sets: list[str] | None) -> ResolvedScenario:
    try:
        return load_scenario(path, scenario=scenario, sets=sets or ())
    except InputError as exc:
        _report_input_error(exc, _guess_language(path, sets))
        raise typer.Exit(ExitCode.BAD_INPUT) from None


ScenarioArg = Annotated[Path, typer.Argument(help="Scenario YAML file.", show_default=False)]
ScenarioOpt = Annotated[
    str | None,
    typer.Option("--scenario", "-s", help="Named scenario or override(s), comma-separated."),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Change one key: --set solver.backend=cbc (repeatable)."),
]


@app.command()
def validate(path: ScenarioArg, scenario: ScenarioOpt = None, sets: SetOpt = None) -> None:
    """Check a scenario and its data layers without solving."""
    from allocator.inputs import load_inputs

    resolved = _load(path, scenario, sets)
    lang = _speak(_language(resolved))
    try:
        inputs = load_inputs(resolved)
    except InputError as exc:
        _report_input_error(exc, lang)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    out.print(
        Text.assemble((t("validate.ok", lang), "green"), t(
            "validate.summary", lang, path=path, zones=len(inputs.zones),
            schools=len(inputs.schools), candidates=len(inputs.candidates))),
        highlight=False,
    )


_SUMMARY_COLUMNS = ("year", "stage", "children", "existing_seats", "new_sites", "new_seats",
                    "cost", "unmet")
_COST_UNIT_CNY: dict[Lang, float] = {"zh": 1e4, "en": 1e6}
"""The summary's money unit: 万元 (10,000 CNY) in Chinese, million CNY in English."""


def _or_na(value: float | None, lang: Lang) -> str:
    """A solver number, or n/a (无) when the solver gave none."""
    return t("run.not_available", lang) if value is None else f"{value:.10g}"


def _status_word(status: str, lang: Lang) -> str:
    """A solve status in ``lang`` (unknown statuses as they are)."""
    return messages().get(f"status.{status}", lang) or status


def _summary_table(results: Results, lang: Lang) -> Table:
    table = Table(title=t("run.title", lang, name=results.scenario.config.meta.name,
                          status=_status_word(results.info.status, lang)))
    for column in _SUMMARY_COLUMNS:
        table.add_column(t(f"run.col_{column}", lang),
                         justify="left" if column in ("year", "stage") else "right")
    unit = _COST_UNIT_CNY[lang]
    for row in results.summary().to_dict(orient="records"):
        table.add_row(
            str(row["year"]),
            glossary(str(row["stage"]), lang),
            f"{row['children']:,.0f}",
            f"{row['existing_seats']:,}",
            f"{row['new_sites']}",
            f"{row['new_seats']:,}",
            f"{row['cost_cny'] / unit:,.1f}",
            f"{row['unmet']:,.0f}",
        )
    return table


@app.command()
def run(
    path: ScenarioArg,
    scenario: ScenarioOpt = None,
    sets: SetOpt = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Results directory (default: results/<name>)."),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing results directory.")] = False,
) -> None:
    """Solve a scenario and write its results directory."""
    from allocator.pipeline import run as run_pipeline

    resolved = _load(path, scenario, sets)
    lang = _speak(_language(resolved))
    name = resolved.config.meta.name + (f"-{scenario.replace(',', '+')}" if scenario else "")
    target = out_dir or Path("results") / name
    if target.exists() and not overwrite:
        _print_exists(target, lang)
        raise typer.Exit(ExitCode.BAD_INPUT)
    quiet = _QUIET[0]
    try:
        with (err.status(t("run.starting", lang), spinner="dots") if not quiet
              else _nothing()) as status:

            def on_step(step: str) -> None:
                if status is not None:
                    shown = messages().get(f"step.{step.replace(' ', '_')}", lang) or step
                    status.update(t("run.step", lang, step=shown))
                log.info("step: %s", step)

            results = run_pipeline(resolved, on_step=on_step)
            on_step("write results")  # report.html included (a failed report only warns)
            written = results.to_dir(target, overwrite=overwrite)
    except InputError as exc:
        _report_input_error(exc, lang)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    except OutputExistsError:
        _print_exists(target, lang)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    info = results.info
    if not quiet:
        out.print(_summary_table(results, lang))
        gap = f"{info.gap:.2%}" if info.gap is not None else t("run.not_available", lang)
        out.print(
            t("run.status_line", lang, status=_status_word(info.status, lang),
              objective=_or_na(info.objective, lang), bound=_or_na(info.bound, lang), gap=gap,
              seconds=f"{info.seconds:.2f}", solver=info.solver),
            highlight=False, markup=False,
        )
        out.print(t("run.results", lang, path=written), highlight=False, markup=False)
    if results.exit_code != ExitCode.OK:
        err.print(Text.assemble((_status_word(info.status, lang), "red"),
                                t("run.status_message", lang,
                                  message=warning_text(info.message, lang))),
                  highlight=False)
        for line in results.explanation:
            err.print(line, highlight=False, markup=False)
    raise typer.Exit(results.exit_code)


def _print_exists(target: Path, lang: Lang) -> None:
    err.print(Text.assemble((t("cli.exists", lang, target=target), "red"),
                            t("cli.exists_hint", lang)), highlight=False)


class _nothing:  # noqa: N801 - used like a context manager function
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


@app.command()
def schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of standard output."),
    ] = None,
) -> None:
    """Write the JSON Schema of scenario files (for editors)."""
    text = json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


class RulesFormat(StrEnum):
    """Output formats of ``allocator rules``."""

    table = "table"
    markdown = "markdown"
    csv = "csv"


@app.command()
def rules(
    path: Annotated[
        Path | None,
        typer.Argument(help="Scenario YAML file: adds its on/off column.", show_default=False),
    ] = None,
    scenario: ScenarioOpt = None,
    sets: SetOpt = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list the rules not modelled, with the reason.")
    ] = False,
    fmt: Annotated[
        RulesFormat, typer.Option("--format", "-f", help="table, markdown or csv.")
    ] = RulesFormat.table,
) -> None:
    """Print the build recipe: each rule's kind, document, clause, quote and parameters.

    ``allocator rules --all --format markdown > docs/rules.md`` writes the rule docs.
    """
    from allocator.rules import catalogue
    from allocator.rules.recipe import (
        load_rule_modules,
        not_modelled_rows,
        recipe,
        switch_note,
        to_csv,
        to_markdown,
    )

    if path is None and (scenario or sets):
        err.print(Text(t("cli.needs_scenario_file", _language()), style="red"),
                  highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT)
    resolved = _load(path, scenario, sets) if path is not None else None
    lang = _language(resolved)
    config = resolved.config.rules if resolved is not None else None
    for name, problem in load_rule_modules().items():
        err.print(t("cli.import_warning", lang, name=name, problem=problem), markup=False,
                  highlight=False)
    rows = recipe(config)
    missing = not_modelled_rows() if show_all else None
    if fmt is RulesFormat.markdown:
        sys.stdout.write(to_markdown(rows, missing, switches=config is not None))
        return
    if fmt is RulesFormat.csv:
        sys.stdout.write(to_csv(rows, missing))
        return
    out.print(_rules_table(rows, lang, switches=config is not None))
    if missing is not None:
        out.print(_not_modelled_table(missing, lang))
    total = len(catalogue())
    out.print(
        t("rules.count", lang, modelled=len(rows), total=total, missing=total - len(rows))
        + ("" if show_all else t("rules.all_hint", lang)),
        highlight=False, markup=False,
    )
    if config is not None:
        out.print(t("rules.switch_source", lang, note=_switch_note(lang, switch_note())),
                  highlight=False, markup=False)


def _switch_note(lang: Lang, english: str) -> str:
    """Which models read the ``rules:`` switches, in ``lang`` (``english`` as written)."""
    from allocator.rules.config import SWITCH_HONOURED_BY

    if lang == "en":
        return english
    if not SWITCH_HONOURED_BY:
        return t("rules.switch_note_none", lang)
    return t("rules.switch_note_some", lang,
             models=", ".join(f"`{m}`" for m in SWITCH_HONOURED_BY))


def _kind_words(kinds: str, lang: Lang) -> str:
    """``PARAM/HARD`` in ``lang`` (each part through the ``kind`` section)."""
    return "/".join(messages().get(f"kind.{k}", lang) or k for k in kinds.split("/"))


_RULE_COLUMNS = ("id", "kind", "document", "clause", "quote", "parameters")
_RULE_COLUMN_WIDTH = {"document": 20, "clause": 16, "quote": 60, "parameters": 36, "reason": 60}


def _rules_table(rows: list[RecipeRow], lang: Lang, *, switches: bool) -> Table:
    from allocator.rules.recipe import short_document

    table = Table(title=t("rules.title_modelled", lang))
    for column in [*_RULE_COLUMNS, *(["switch"] if switches else [])]:
        table.add_column(t(f"rules.col_{column}", lang), overflow="fold",
                         max_width=_RULE_COLUMN_WIDTH.get(column))
    for r in rows:
        switch = (from_english(r.switch, lang, "switch") or r.switch) if switches else ""
        cells = [r.rule_id, _kind_words(r.kind, lang), short_document(r.document), r.clause,
                 r.quote, ", ".join(r.params), *([switch] if switches else [])]
        table.add_row(*(Text(c) for c in cells))
    return table


def _not_modelled_table(missing: list[NotModelledRow], lang: Lang) -> Table:
    from allocator.rules.recipe import short_document

    table = Table(title=t("rules.title_not_modelled", lang))
    for column in ("id", "catalogue_kind", "document", "clause", "quote", "reason"):
        table.add_column(t(f"rules.col_{column}", lang), overflow="fold",
                         max_width=_RULE_COLUMN_WIDTH.get(column))
    for m in missing:
        cells = [m.rule_id, _kind_words(m.catalogue_kind, lang), short_document(m.document),
                 m.clause, m.quote, m.reason]
        table.add_row(*(Text(c) for c in cells))
    return table


@app.command(name="map")
def map_(
    results_dir: Annotated[
        Path, typer.Argument(help="Results directory written by `allocator run`.",
                             show_default=False)],
    fmt: Annotated[
        str, typer.Option("--format", "-f",
                          help="png (printable A4 map), html (offline map) or gpkg.")] = "png",
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write, or a directory to write "
                     "map.png / map.html / plan.gpkg into (default: RESULTS_DIR)."),
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="zh or en (default: the scenario's "
                                 "meta.language, else zh).")] = None,
) -> None:
    """Draw a results directory as a PNG or offline HTML map, or export its GeoPackage."""
    from allocator.map_cli import DEFAULT_NAMES, map_command

    fmt = fmt.lower()
    lang = lang or language_override()
    said = _speak(choose_language(lang))
    if fmt not in DEFAULT_NAMES:
        err.print(Text.assemble((t("cli.map_format", said), "red"),
                                t("cli.map_format_value", said, value=repr(fmt))),
                  highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT)
    try:
        written = map_command(results_dir, fmt, out=out_path, lang=lang)
    except (FileNotFoundError, ValueError) as exc:
        err.print(Text(str(exc), style="red"), highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    out.print(t("cli.map_written", said, path=written), highlight=False, markup=False)


def _add_bench() -> None:
    from allocator.bench_cli import bench_app

    app.add_typer(bench_app, name="bench", help="Solve published benchmark instances.")


_add_bench()


def _add_audit() -> None:
    from allocator.audit_cli import audit_command

    app.command("audit")(audit_command)


_add_audit()


def _add_compare() -> None:
    from allocator.compare_cli import compare_command

    app.command("compare")(compare_command)


_add_compare()


def main() -> None:
    """Console-script entry point; unexpected errors get one line unless ``--debug``."""
    try:
        app()
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        lang = _argv_language(sys.argv[1:])
        err.print(Text.assemble((t("cli.internal_error", lang), "red"), t(
            "cli.internal_detail", lang, kind=type(exc).__name__, error=exc)), highlight=False)
        sys.exit(1)


def _argv_language(args: list[str]) -> Lang:
    """``--lang`` of a command line that failed (the option is gone by then), else English."""
    for i, arg in enumerate(args):
        value = arg.partition("=")[2] if arg.startswith("--lang=") else (
            args[i + 1] if arg == "--lang" and i + 1 < len(args) else None)
        if value is not None and value.lower() in LANGUAGES:
            return choose_language(value.lower())
    return choose_language(os.environ.get("ALLOCATOR_LANG", "").lower() or None)
