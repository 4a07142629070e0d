"""The ``allocator audit`` command: re-check a plan's rules from its tables.

Two forms::

    allocator audit RESULTS_DIR
    allocator audit --plan PLAN --scenario SCENARIO.yaml

``PLAN`` is a directory of CSV tables (``sites.csv`` or ``new_sites.csv``,
``assignments.csv``, optional ``rotations.csv``, ``staffing.csv``, ``pairings.csv``), a
GeoPackage with such layers, or ``NAME=FILE`` pairs (repeat ``--plan``). The audit table
is written as ``audit.csv`` (into ``RESULTS_DIR``, or to ``--out``); the command exits
non-zero when a HARD rule fails (also a TARGET rule with ``--fail-on-targets``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import pyogrio
import typer
from rich.console import Console
from rich.table import Table

from allocator.audit import AUDIT_FILE, audit_plan, audit_results_dir, hard_failures
from allocator.audit_io import KNOWN_TABLES
from allocator.audit_messages import audit_language, results_language
from allocator.errors import ExitCode, InputError
from allocator.i18n import choose_language, problem_text, t

__all__ = ["AUDIT_FAILED", "audit_command", "plan_paths"]

#: Exit code when a hard rule fails (``ExitCode.AUDIT_FAILURE`` once the lead adds it).
AUDIT_FAILED = int(getattr(ExitCode, "AUDIT_FAILURE", 5))

err = Console(stderr=True)
out = Console()

#: Other file or layer names of the tables in a planner's layout.
PLAN_NAMES = {"new_sites": "sites", "new_schools": "sites"}


def plan_paths(items: list[str]) -> dict[str, str]:
    """Table name to file from ``--plan`` values.

    Parameters
    ----------
    items
        One directory (its ``NAME.csv`` files), one GeoPackage (its layers, each
        ``file.gpkg#layer``), or ``NAME=FILE`` pairs.

    Raises
    ------
    FileNotFoundError
        If a named directory or file does not exist.
    ValueError
        If an item is neither a directory, a GeoPackage nor ``NAME=FILE``, or no table is
        found.
    """
    found: dict[str, str] = {}
    names = set(KNOWN_TABLES) | set(PLAN_NAMES)
    for item in items:
        path = Path(item)
        if "=" in item and not path.exists():
            name, _, file = item.partition("=")
            if not Path(file.partition("#")[0]).exists():
                raise FileNotFoundError(f"--plan {item}: {file} does not exist")
            found[PLAN_NAMES.get(name, name)] = file
        elif path.is_dir():
            for csv in sorted(path.glob("*.csv")):
                if csv.stem in names:
                    found[PLAN_NAMES.get(csv.stem, csv.stem)] = str(csv)
        elif path.suffix.lower() == ".gpkg" and path.exists():
            for layer, _ in pyogrio.list_layers(path):
                if str(layer) in names:
                    found[PLAN_NAMES.get(str(layer), str(layer))] = f"{path}#{layer}"
        elif not path.exists():
            raise FileNotFoundError(f"--plan {item}: no such file or directory")
        else:
            raise ValueError(f"--plan {item}: give a directory, a GeoPackage or NAME=FILE")
    if not found:
        raise ValueError(f"--plan {' '.join(items)}: no tables found (expected "
                         f"{', '.join(sorted(names))})")
    return found


def _summary(audit: pd.DataFrame, lang: str) -> Table:
    """Rows per rule and status."""
    table = Table(title=t("audit_cli.title", lang))
    statuses = ["pass", "fail", "exception", "not applicable"]
    for column in ("rule", "kind"):
        table.add_column(t(f"audit_cli.col_{column}", lang), justify="left")
    for status in statuses:
        table.add_column(t(f"audit_cli.{status.replace(' ', '_')}", lang), justify="right")
    for (rule_id, kind), group in audit.groupby(["rule_id", "kind"], sort=False):
        counts = group["status"].value_counts()
        table.add_row(str(rule_id), str(kind), *(str(int(counts.get(s, 0))) for s in statuses))
    return table


def audit_command(
    results_dir: Annotated[Path | None, typer.Argument(
        help="Results directory written by `allocator run`.", show_default=False)] = None,
    plan: Annotated[list[str] | None, typer.Option(
        "--plan", help="A planner's layout: a directory, a GeoPackage or NAME=FILE "
        "(repeatable).")] = None,
    scenario: Annotated[Path | None, typer.Option(
        "--scenario", help="Scenario YAML the plan is checked against (with --plan).")] = None,
    out_path: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Where to write audit.csv (a file or directory).")] = None,
    fail_on_targets: Annotated[bool, typer.Option(
        help="Exit non-zero when a TARGET rule fails too.")] = False,
) -> None:
    """Re-check every active HARD and TARGET rule from result tables; write audit.csv."""
    from allocator.layering import load_scenario

    lang = choose_language() if results_dir is None else results_language(results_dir)
    if (results_dir is None) == (plan is None):
        err.print(t("audit_cli.needs_input", lang), style="red", markup=False)
        raise typer.Exit(ExitCode.BAD_INPUT)
    try:
        if plan is not None:
            if scenario is None:
                err.print(t("audit_cli.plan_needs_scenario", lang), style="red",
                          markup=False)
                raise typer.Exit(ExitCode.BAD_INPUT)
            resolved = load_scenario(scenario)
            lang = audit_language(resolved)
            audit = audit_plan(plan_paths(plan), resolved)
        else:
            assert results_dir is not None
            config = None if scenario is None else load_scenario(scenario)
            if config is not None:
                lang = audit_language(config)
            audit = audit_results_dir(results_dir, config, language=lang)
    except InputError as exc:
        err.print(t("cli.bad_input", lang) + t("cli.problem_count", lang,
                                               count=len(exc.problems)),
                  style="bold red", markup=False, highlight=False)
        for problem in exc.problems:
            err.print(f"  • {problem_text(problem, lang)}", markup=False, highlight=False,
                      soft_wrap=True)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    target = out_path if out_path is not None else results_dir
    if target is not None:
        file = target / AUDIT_FILE if target.is_dir() or target.suffix == "" else target
        file.parent.mkdir(parents=True, exist_ok=True)
        audit.to_csv(file, index=False, lineterminator="\n")
        out.print(t("audit_cli.written", lang, path=file), highlight=False, markup=False)
    out.print(_summary(audit, lang))
    failed = hard_failures(audit, targets=fail_on_targets)
    for row in failed.head(20).to_dict(orient="records"):
        err.print(f"[red]{t('audit_cli.fail_label', lang)}[/]" + t(
            "audit_cli.fail_line", lang, rule=row["rule_id"], scope=row["scope"],
            message=row["message"]).replace("[", "\\["), highlight=False, soft_wrap=True)
    if len(failed) > 20:
        err.print(t("audit_cli.more_failures", lang, count=len(failed) - 20, file=AUDIT_FILE),
                  markup=False)
    if len(failed):
        raise typer.Exit(AUDIT_FAILED)
