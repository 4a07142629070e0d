"""The ``allocator`` command: the only place that joins scenarios, files and exit codes.

Exit codes: 0 ok, 2 bad input, 3 infeasible, 4 solver failure or time limit without a
solution (see :class:`allocator.errors.ExitCode`).
"""

from __future__ import annotations

import json
import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from allocator import __version__
from allocator.errors import ExitCode, InputError, OutputExistsError
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


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Detailed log, tracebacks.")] = False,
) -> None:
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    handler = RichHandler(console=err, show_path=debug, show_time=debug, markup=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    if not debug:
        for noisy in ("pyogrio", "fiona", "matplotlib", "numexpr"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _report_input_error(exc: InputError) -> None:
    err.print(f"[bold red]Bad input[/]: {len(exc.problems)} problem(s)", highlight=False)
    for problem in exc.problems:
        err.print(f"  • {problem}", markup=False, highlight=False, soft_wrap=True)


def _load(path: Path, scenario: str | None, sets: list[str] | None) -> ResolvedScenario:
    try:
        return load_scenario(path, scenario=scenario, sets=sets or ())
    except InputError as exc:
        _report_input_error(exc)
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
    try:
        inputs = load_inputs(resolved)
    except InputError as exc:
        _report_input_error(exc)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    out.print(
        f"[green]OK[/] {path}: {len(inputs.zones)} zones, {len(inputs.schools)} schools, "
        f"{len(inputs.candidates)} candidate sites",
        highlight=False,
    )


def _summary_table(results: Results) -> Table:
    table = Table(title=f"{results.scenario.config.meta.name}: {results.info.status}")
    for column in (
        "year",
        "stage",
        "children",
        "existing seats",
        "new sites",
        "new seats",
        "cost (million CNY)",
        "unmet",
    ):
        table.add_column(column, justify="left" if column in ("year", "stage") else "right")
    for row in results.summary().to_dict(orient="records"):
        table.add_row(
            str(row["year"]),
            str(row["stage"]),
            f"{row['children']:,.0f}",
            f"{row['existing_seats']:,}",
            f"{row['new_sites']}",
            f"{row['new_seats']:,}",
            f"{row['cost_cny'] / 1e6:,.1f}",
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
    name = resolved.config.meta.name + (f"-{scenario.replace(',', '+')}" if scenario else "")
    target = out_dir or Path("results") / name
    if target.exists() and not overwrite:
        err.print(
            f"[red]{target} already exists[/]; choose another --out or pass --overwrite",
            highlight=False,
        )
        raise typer.Exit(ExitCode.BAD_INPUT)
    quiet = logging.getLogger().level > logging.INFO
    try:
        with err.status("starting", spinner="dots") if not quiet else _nothing() as status:

            def on_step(step: str) -> None:
                if status is not None:
                    status.update(f"{step} …")
                log.info("step: %s", step)

            results = run_pipeline(resolved, on_step=on_step)
            on_step("write results")
            written = results.to_dir(target, overwrite=overwrite)
    except InputError as exc:
        _report_input_error(exc)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    except OutputExistsError as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    info = results.info
    if not quiet:
        out.print(_summary_table(results))
        gap = f"{info.gap:.2%}" if info.gap is not None else "n/a"
        out.print(
            f"status {info.status}, objective {info.objective}, bound {info.bound}, "
            f"gap {gap}, {info.seconds:.2f} s with {info.solver}",
            highlight=False,
        )
        out.print(f"results: {written}", highlight=False)
    if results.exit_code != ExitCode.OK:
        err.print(f"[red]{info.status}[/]: {info.message}", highlight=False)
    raise typer.Exit(results.exit_code)


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
        err.print("[red]--scenario and --set need a scenario file[/]", highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT)
    config = _load(path, scenario, sets).config.rules if path is not None else None
    for name, problem in load_rule_modules().items():
        err.print(
            f"warning: could not import {name} ({problem}); its rules are missing",
            markup=False,
            highlight=False,
        )
    rows = recipe(config)
    missing = not_modelled_rows() if show_all else None
    if fmt is RulesFormat.markdown:
        sys.stdout.write(to_markdown(rows, missing, switches=config is not None))
        return
    if fmt is RulesFormat.csv:
        sys.stdout.write(to_csv(rows, missing))
        return
    out.print(_rules_table(rows, switches=config is not None))
    if missing is not None:
        out.print(_not_modelled_table(missing))
    out.print(
        f"{len(rows)} of {len(catalogue())} catalogue rules modelled, "
        f"{len(catalogue()) - len(rows)} not modelled"
        + ("" if show_all else " (--all lists them with the reason)"),
        highlight=False,
    )
    if config is not None:
        out.print(f"on/off is the scenario's rules: setting. {switch_note()}", highlight=False)


_RULE_COLUMN_WIDTH = {"document": 20, "clause": 16, "quote": 60, "parameters": 36, "reason": 60}


def _rules_table(rows: list[RecipeRow], *, switches: bool) -> Table:
    from rich.text import Text

    from allocator.rules.recipe import short_document

    table = Table(title="Modelled rules")
    columns = ["ID", "kind", "document", "clause", "quote", "parameters"]
    for column in [*columns, *(["on/off"] if switches else [])]:
        table.add_column(column, overflow="fold", max_width=_RULE_COLUMN_WIDTH.get(column))
    for r in rows:
        cells = [r.rule_id, r.kind, short_document(r.document), r.clause, r.quote,
                 ", ".join(r.params), *([r.switch] if switches else [])]
        table.add_row(*(Text(c) for c in cells))
    return table


def _not_modelled_table(missing: list[NotModelledRow]) -> Table:
    from rich.text import Text

    from allocator.rules.recipe import short_document

    table = Table(title="Not modelled")
    for column in ("ID", "catalogue kind", "document", "clause", "quote", "reason"):
        table.add_column(column, overflow="fold", max_width=_RULE_COLUMN_WIDTH.get(column))
    for m in missing:
        cells = [m.rule_id, m.catalogue_kind, short_document(m.document), m.clause, m.quote,
                 m.reason]
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
    if fmt not in DEFAULT_NAMES:
        err.print(f"[red]--format must be png, html or gpkg[/], not {fmt!r}", highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT)
    try:
        written = map_command(results_dir, fmt, out=out_path, lang=lang)
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    out.print(f"map: {written}", highlight=False)


def _add_bench() -> None:
    from allocator.bench_cli import bench_app

    app.add_typer(bench_app, name="bench", help="Solve published benchmark instances.")


_add_bench()


def _add_audit() -> None:
    from allocator.audit_cli import audit_command

    app.command("audit")(audit_command)


_add_audit()


def main() -> None:
    """Console-script entry point; unexpected errors get one line unless ``--debug``."""
    try:
        app()
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        err.print(
            f"[red]internal error[/]: {type(exc).__name__}: {exc} (run with --debug "
            "for the traceback)",
            highlight=False,
        )
        sys.exit(1)
