"""Write a :class:`allocator.compare.Comparison`: CSV tables, maps and ``compare.html``.

Files written into the output directory (all UTF-8, the same bytes for the same input):

``kpis.csv``
    The KPI table (``section, kpi, scope, year, unit`` and one column per run).
``site_diff.csv``
    The site diff of run A against every other run (cost in CNY, distances in km).
``runs.csv``
    One row per run: label, directory, scenario, overrides, ``--set``, status, objective,
    bound, gap.
``map_1.png``, ``map_2.png``, ...
    The printable map of each run (A4 landscape), when maps are drawn.
``compare_map.html``
    One offline Leaflet map: run A's counties, zones and existing schools, and one layer
    of new sites per run (each run its own ring colour), when maps are drawn.
``compare.html``
    Everything above on one self-contained page: the PNG maps side by side (inlined) and
    the layered map in an ``<iframe srcdoc>``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from allocator.compare import Comparison
from allocator.map_cli import read_plan_layers
from allocator.report_html import esc, fmt, iframe, kpi_table, number, page, png_img, table
from allocator.report_maps import compare_map_page, png_map_bytes
from allocator.report_text import text
from gis.map_style import check_lang, stage_label

__all__ = ["diff_rows", "write_comparison"]

log = logging.getLogger(__name__)


def _pair(a: object, b: object, decimals: int = 0, scale: float = 1.0) -> str:
    def one(value: object) -> str:
        found = number(value)
        if found is None:
            return "—" if value is None or str(value) in ("", "nan", "<NA>", "None") \
                else str(value)
        return fmt(found / scale, decimals)

    left, right = one(a), one(b)
    return left if left == right else f"{left} → {right}"


def diff_rows(cmp: Comparison, lang: str) -> list[list[str]]:
    """The site diff as display rows (text, not escaped).

    Columns: run, site, name, stage, change, year, option, classes, seats, cost (million
    CNY), partner (km); a changed value is shown as ``before → after``.
    """
    rows = []
    for r in cmp.site_diff.to_dict("records"):
        partner = (f"{r['partner']} ({fmt(r['partner_km'], 2)} km)" if r["partner"] else "")
        rows.append([str(r["run"]), str(r["site_id"]), str(r["name"]),
                     stage_label(str(r["stage"]), lang), text(str(r["change"]), lang),
                     _pair(r["year_a"], r["year_b"]).replace(",", ""),
                     _pair(r["option_a"], r["option_b"]),
                     _pair(r["classes_a"], r["classes_b"]), _pair(r["seats_a"], r["seats_b"]),
                     _pair(r["cost_a"], r["cost_b"], 2, 1e6), partner])
    return rows


def _runs_table(cmp: Comparison, lang: str) -> str:
    headers = [text(k, lang) for k in ("other_run", "path", "scenario", "overrides", "status",
                                       "objective", "bound", "gap")]
    rows = []
    for r in cmp.info.to_dict("records"):
        gap = number(r["gap"])
        rows.append([str(r["run"]), str(r["path"]), str(r["scenario"]),
                     ", ".join(x for x in (r["overrides"], r["set"]) if x) or "—",
                     text(str(r["status"]), lang), fmt(r["objective"], 4, na=text("na", lang)),
                     fmt(r["bound"], 4, na=text("na", lang)),
                     text("na", lang) if gap is None else f"{100 * gap:.4f}%"])
    return table(headers, rows, numeric=(5, 6, 7), table_id="runs")


def write_comparison(cmp: Comparison, out_dir: Path | str, *, lang: str = "zh",
                     maps: bool = True, dpi: int = 90) -> dict[str, Path]:
    """Write the comparison's CSV tables, maps and ``compare.html`` into ``out_dir``.

    Parameters
    ----------
    cmp
        From :func:`allocator.compare.compare_runs`.
    out_dir
        Directory to write into (created when missing; files of the same names are
        replaced).
    lang
        ``zh`` or ``en`` for labels.
    maps
        Draw one PNG per run and the layered HTML map (seconds per run).
    dpi
        Resolution of the PNG maps (A4 landscape), dots per inch.

    Returns
    -------
    dict
        File role (``kpis``, ``site_diff``, ``runs``, ``html``, ``map_html``, ``png_1`` ...)
        to path.
    """
    lang = check_lang(lang)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = {"kpis": folder / "kpis.csv", "site_diff": folder / "site_diff.csv",
               "runs": folder / "runs.csv"}
    cmp.kpis.to_csv(written["kpis"], index=False, lineterminator="\n")
    cmp.site_diff.to_csv(written["site_diff"], index=False, lineterminator="\n")
    cmp.info.drop(columns="language").to_csv(written["runs"], index=False, lineterminator="\n")
    title = f"{text('compare_title', lang)}: {' / '.join(cmp.runs)}"
    body = [f'<h1 id="title">{esc(title)}</h1>',
            f'<h2 id="runs-head">{esc(text("runs", lang))}</h2>', _runs_table(cmp, lang),
            f'<h2 id="kpis-head">{esc(text("kpis", lang))}</h2>',
            kpi_table(cmp.kpis, list(cmp.runs), lang),
            f'<p class="note">{esc(text("kpi_def", lang))}</p>',
            f'<h2 id="diff-head">{esc(text("site_diff", lang))}</h2>',
            f'<p class="note">{esc(text("moved_def", lang).format(km=fmt(cmp.move_km, 1)))}</p>']
    headers = [text(k, lang) for k in ("other_run", "site", "name", "stage", "change", "year",
                                       "option", "classes", "seats", "cost", "partner")]
    rows = diff_rows(cmp, lang)
    body.append(table(headers, rows, numeric=(7, 8, 9), table_id="site-diff",
                      row_classes=[str(r["change"]).split("+")[0]
                                   for r in cmp.site_diff.to_dict("records")]))
    if maps:
        plans = [read_plan_layers(p) for p in cmp.paths]
        images = []
        for i, (plan, run) in enumerate(zip(plans, cmp.runs, strict=True), start=1):
            data = png_map_bytes(plan, lang, dpi=dpi)
            path = folder / f"map_{i}.png"
            path.write_bytes(data)
            written[f"png_{i}"] = path
            images.append(f"<figure><figcaption>{esc(run)}</figcaption>"
                          f"{png_img(data, run, img_id=f'png-map-{i}')}</figure>")
        map_html = compare_map_page(plans, cmp.runs, lang, title)
        written["map_html"] = folder / "compare_map.html"
        written["map_html"].write_text(map_html, encoding="utf-8", newline="\n")
        body += [f'<h2 id="maps-head">{esc(text("maps", lang))}</h2>',
                 f"<h3>{esc(text('side_by_side', lang))}</h3>",
                 '<div class="grid">', *images, "</div>",
                 f"<h3>{esc(text('layers_map', lang))}</h3>",
                 iframe(map_html, text("layers_map", lang), frame_id="compare-map-frame")]
    written["html"] = folder / "compare.html"
    written["html"].write_text(page(title, lang, body), encoding="utf-8", newline="\n")
    log.info("comparison written to %s", folder)
    return written
