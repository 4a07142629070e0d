"""The ``allocator compare`` command: runs side by side in the terminal, CSV and HTML.

::

    allocator compare RUN_A RUN_B [RUN_C ...] [--out DIR] [--lang zh|en] [--move-km 3]
                      [--no-maps]

Prints the KPI table and the site diff (rich tables). With ``--out`` it also writes
``kpis.csv``, ``site_diff.csv``, ``runs.csv``, one ``map_<n>.png`` per run,
``compare_map.html`` and the self-contained ``compare.html`` into ``DIR`` (see
:mod:`allocator.report_compare`). Exit code 2 when a directory is not a results directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from allocator.compare import MOVE_KM, Comparison, compare_runs
from allocator.errors import ExitCode
from allocator.report_html import kpi_cell
from allocator.report_text import kpi_label, pick_language, text

__all__ = ["compare_command", "diff_table", "kpi_rich_table"]

err = Console(stderr=True)
out = Console()


def kpi_rich_table(cmp: Comparison, lang: str) -> Table:
    """The KPI table for the terminal: one row per KPI, one column per run, by section."""
    grid = Table(title=text("kpis", lang), show_lines=False)
    grid.add_column("")
    for run in cmp.runs:
        grid.add_column(Text(run), justify="right")
    section = None
    for record in cmp.kpis.to_dict("records"):
        if record["section"] != section:
            section = record["section"]
            grid.add_row(Text(text(f"sec_{section}", lang), style="bold"),
                         *([""] * len(cmp.runs)))
        cells = [Text(kpi_cell(record["kpi"], record["unit"], record[r], lang))
                 for r in cmp.runs]
        grid.add_row(Text(kpi_label(record["kpi"], record["scope"], record["year"], lang)),
                     *cells)
    return grid


def diff_table(cmp: Comparison, lang: str) -> Table:
    """The site diff for the terminal (see :func:`allocator.report_compare.diff_rows`)."""
    from allocator.report_compare import diff_rows

    grid = Table(title=text("site_diff", lang))
    keep = (0, 1, 3, 4, 5, 7, 8, 9, 10)  # without name and option, to fit a terminal
    keys = ("other_run", "site", "name", "stage", "change", "year", "option", "classes",
            "seats", "cost", "partner")
    for i in keep:
        grid.add_column(text(keys[i], lang), overflow="fold")
    for row in diff_rows(cmp, lang):
        grid.add_row(*(Text(row[i]) for i in keep))
    return grid


def compare_command(
    runs: Annotated[list[Path], typer.Argument(
        help="Results directories written by `allocator run`; the first is run A.",
        show_default=False)],
    out_dir: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Also write kpis.csv, site_diff.csv, runs.csv, maps and "
        "compare.html into this directory.")] = None,
    lang: Annotated[str | None, typer.Option(
        "--lang", help="zh or en (default: run A's meta.language).")] = None,
    move_km: Annotated[float, typer.Option(
        "--move-km", help="An added and a removed site of the same stage this close (km) "
        "are marked as a possible relocation.")] = MOVE_KM,
    maps: Annotated[bool, typer.Option(
        help="Draw the maps (with --out).")] = True,
) -> None:
    """Compare results directories: KPI table and site diff (terminal; CSV and HTML with --out)."""
    try:
        cmp = compare_runs(runs, move_km=move_km)
        language = pick_language(lang, str(cmp.info["language"].iloc[0]) or None)
    except (FileNotFoundError, ValueError) as exc:
        err.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(ExitCode.BAD_INPUT) from None
    out.print(kpi_rich_table(cmp, language))
    if len(cmp.runs) > 1:
        out.print(diff_table(cmp, language))
    if out_dir is not None:
        from allocator.report_compare import write_comparison

        written = write_comparison(cmp, out_dir, lang=language, maps=maps)
        out.print(f"comparison: {written['html']}", highlight=False)
