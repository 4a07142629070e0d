"""``report.html``: one self-contained, offline page describing a results directory.

:func:`write_report` reads what a run wrote (:func:`allocator.results.read_results_dir`,
``audit.csv``, ``plan.gpkg``) and writes ``report.html`` into the directory. Its sections,
in order:

summary
    Status, objective, bound, gap, period years, solver, scenario and key numbers.
maps
    The printable PNG map (:func:`gis.maps.plan_map_png`) inlined as a ``data:`` URI, and
    the offline Leaflet map (:func:`gis.leaflet.render_html`) embedded whole in a
    sandboxed ``<iframe srcdoc>`` (layer control, popups).
key figures
    The KPIs of :func:`allocator.compare.run_kpis` (same definitions as ``allocator
    compare``), the manifest's year x stage summary and the new schools.
audit
    ``audit.csv`` by rule (worst status first: fail, exception, not applicable, pass;
    checks counted by status) and every failed row.
teacher moves
    ``rotations.csv`` summed by county pair: an inline SVG bar chart and a table.
synthetic data
    The scenario README's warnings and its "what is real / synthetic" sections, the
    scenario description and the run's notes (``manifest.json`` keeps them in English;
    shown in the report's language, :func:`allocator.i18n.warning_text`).

The page has no script of its own and no reference outside itself (the map's script is
inside the ``srcdoc``). Every text from data is escaped. Language: see
:func:`allocator.report_text.pick_language` (the scenario's ``meta.language`` unless
overridden). The same directory always gives the same bytes.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd

from allocator.compare import kpi_frame, read_audit, run_kpis
from allocator.i18n import warning_text
from allocator.map_cli import PlanLayers, read_plan_layers
from allocator.report_charts import county_flows, flows_svg
from allocator.report_html import (
    esc,
    fmt,
    iframe,
    kpi_cell,
    kpi_table,
    number,
    page,
    png_img,
    table,
)
from allocator.report_maps import map_page, png_map_bytes
from allocator.report_notes import find_readme, readme_html
from allocator.report_text import pick_language, text
from allocator.results import REPORT, ResultsDir, read_results_dir
from gis.map_style import place_name, stage_label

__all__ = ["REPORT", "audit_by_rule", "write_report"]

log = logging.getLogger(__name__)

_STATUS_RANK = {"fail": 0, "exception": 1, "not applicable": 2, "pass": 3}
_SYNTHETIC = re.compile(r"synthetic|合成", re.IGNORECASE)
_MAX_FAILED_ROWS = 300


def audit_by_rule(audit: pd.DataFrame) -> pd.DataFrame:
    """One row per rule of ``audit.csv``: worst status first, then catalogue order.

    Columns ``rule_id, kind, clause, status`` (the worst of the rule's rows: fail,
    exception, not applicable, pass), ``checks`` (rows), ``fail``, ``pass``,
    ``not_applicable``, ``message`` (of the first row with the worst status).
    """
    frame = audit.fillna("").astype(str).reset_index(drop=True)
    frame["_rank"] = frame["status"].map(_STATUS_RANK).fillna(1).astype(int)
    rows = []
    for position, (rule_id, part) in enumerate(frame.groupby("rule_id", sort=False)):
        worst = part.sort_values("_rank", kind="stable").iloc[0]
        status = part["status"]
        rows.append({"rule_id": rule_id, "kind": worst.get("kind", ""),
                     "clause": worst.get("clause", ""), "status": worst["status"],
                     "checks": len(part), "fail": int((status == "fail").sum()),
                     "pass": int((status == "pass").sum()),
                     "not_applicable": int((status == "not applicable").sum()),
                     "message": worst.get("message", ""), "_rank": int(worst["_rank"]),
                     "_pos": position})
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=["rule_id", "kind", "clause", "status", "checks", "fail",
                                     "pass", "not_applicable", "message"])
    return out.sort_values(["_rank", "_pos"]).drop(columns=["_rank", "_pos"]).reset_index(
        drop=True)


def _status_class(status: str) -> str:
    return {"fail": "fail", "exception": "exception", "not applicable": "na"}.get(status, "")


def _audit_section(audit: pd.DataFrame | None, lang: str) -> list[str]:
    out = [f'<h2 id="audit">{esc(text("audit", lang))}</h2>']
    if audit is None:
        return [*out, f'<p class="note">{esc(text("na", lang))}</p>']
    rules = audit_by_rule(audit)
    headers = [text(k, lang) for k in ("rule_id", "kind", "clause", "status_col", "checks",
                                       "fail", "pass", "not applicable", "message")]
    rows = [[r["rule_id"], r["kind"], r["clause"], text(r["status"], lang), str(r["checks"]),
             str(r["fail"]), str(r["pass"]), str(r["not_applicable"]), r["message"]]
            for r in rules.to_dict("records")]
    out += [f"<h3>{esc(text('audit_rules', lang))}</h3>",
            table(headers, rows, numeric=(4, 5, 6, 7), table_id="audit-rules",
                  row_classes=[_status_class(r["status"]) for r in rules.to_dict("records")])]
    failed = audit[audit["status"].astype(str) == "fail"]
    out.append(f"<h3>{esc(text('audit_failures', lang))}</h3>")
    if failed.empty:
        return [*out, f'<p class="note" id="no-failures">{esc(text("no_failures", lang))}</p>']
    columns = [c for c in ("rule_id", "kind", "clause", "scope", "required", "actual",
                           "status", "message") if c in failed.columns]
    keys = {"scope": "scope_col", "status": "status_col"}
    shown = failed.head(_MAX_FAILED_ROWS)
    out.append(table([text(keys.get(c, c), lang) for c in columns],
                     [[str(r[c]) for c in columns] for r in shown.to_dict("records")],
                     row_classes=["fail"] * len(shown), table_id="audit-failures"))
    if len(failed) > len(shown):
        more = text("more_rows", lang).format(n=len(failed) - len(shown))
        out.append(f'<p class="note">{esc(more)}</p>')
    return out


def _county_names(plan: PlanLayers, lang: str) -> dict[str, str]:
    names: dict[str, str] = {}
    counties = plan.layers.get("counties")
    if counties is not None and "adcode" in counties.columns:
        for record in counties.drop(columns="geometry").to_dict("records"):
            first, _ = place_name(record, lang)
            if first:
                names[str(record["adcode"])] = first
    return names


def _flows_section(data: ResultsDir, plan: PlanLayers, lang: str) -> list[str]:
    out = [f'<h2 id="flows">{esc(text("flows", lang))}</h2>']
    rotations = data.tables.get("rotations")
    if rotations is None or rotations.empty:
        return [*out, f'<p class="note">{esc(text("no_rotations", lang))}</p>']
    schools = data.tables.get("schools")
    lookup = (dict(zip(schools["school_id"].astype(str), schools["county"].astype(str),
                       strict=True)) if schools is not None else {})
    flows = county_flows(rotations, lookup)
    names = _county_names(plan, lang)
    within = int(flows.loc[flows["from_county"] == flows["to_county"], "total"].sum())
    between = int(flows["total"].sum()) - within
    out.append(f'<p class="note">{esc(text("within_county", lang))}: {esc(fmt(within))}; '
               f'{esc(text("between_counties", lang))}: {esc(fmt(between))}</p>')
    out.append(flows_svg(flows, names, lang))
    kinds = [c for c in flows.columns if c not in ("from_county", "to_county", "total")]
    headers = [text("from", lang), text("to", lang), *(text(k, lang) for k in kinds),
               text("total", lang)]
    rows = [[names.get(str(r["from_county"]), str(r["from_county"])),
             names.get(str(r["to_county"]), str(r["to_county"])),
             *(fmt(r[k]) for k in kinds), fmt(r["total"])] for r in flows.to_dict("records")]
    out.append(table(headers, rows, numeric=range(2, 3 + len(kinds)), table_id="flows-table"))
    return out


def _plan_table(data: ResultsDir, lang: str) -> list[str]:
    summary = data.manifest.get("summary") or []
    if not summary:
        return []
    keys = ("year_col", "stage", "children", "existing_seats", "expanded_seats", "new_sites",
            "seats", "cost", "unmet_col")
    rows = [[str(r.get("year", "")), stage_label(str(r.get("stage", "")), lang),
             fmt(r.get("children")), fmt(r.get("existing_seats")), fmt(r.get("expanded_seats")),
             fmt(r.get("new_sites")), fmt(r.get("new_seats")),
             fmt((number(r.get("cost_cny")) or 0.0) / 1e6, 2), fmt(r.get("unmet"), 1)]
            for r in summary]
    return [f"<h3>{esc(text('plan_table', lang))}</h3>",
            table([text(k, lang) for k in keys], rows, numeric=range(2, 9),
                  table_id="plan-table")]


def _sites_table(data: ResultsDir, lang: str) -> list[str]:
    out = [f"<h3>{esc(text('new_sites', lang))}</h3>"]
    sites = data.tables.get("sites")
    opened = sites[sites["status"].astype(str) == "opened"] if sites is not None else None
    if opened is None or opened.empty:
        return [*out, f'<p class="note">{esc(text("no_sites", lang))}</p>']
    keys = ("site", "name", "stage", "year", "option", "classes", "seats", "cost")
    rows = [[str(r["site_id"]), str(r.get("name", "")), stage_label(str(r.get("stage", "")),
                                                                     lang),
             fmt(r.get("year")).replace(",", ""), str(r.get("option_id", "")),
             fmt(r.get("classes")),
             fmt(r.get("seats")), fmt((number(r.get("cost_cny")) or 0.0) / 1e6, 2)]
            for r in opened.to_dict("records")]
    return [*out, table([text(k, lang) for k in keys], rows, numeric=(3, 5, 6, 7),
                        table_id="sites-table")]


def _key_numbers(values: dict[Any, Any], lang: str) -> str:
    picks = [("status", "", ""), ("new_schools_total", "", "schools"),
             ("new_seats_total", "", "seats"), ("capital_cost", "", "million CNY"),
             ("unmet_total", "", "child-periods"), ("travel_mean_km", "all", "km"),
             ("audit_fail", "all", "rows")]
    moves = sum(int(v) for (k, _, _), v in values.items() if k == "moves")
    cards = []
    for kpi, scope, unit in picks:
        value = values.get((kpi, scope, None))
        cards.append((text(kpi, lang), kpi_cell(kpi, unit, value, lang)))
    if any(k == "moves" for k, _, _ in values):
        cards.append((text("moves", lang), fmt(moves)))
    return '<div class="keys" id="key-numbers">' + "".join(
        f'<div class="key"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>'
        for k, v in cards) + "</div>"


def _summary(data: ResultsDir, values: dict[Any, Any], lang: str) -> list[str]:
    m = data.manifest
    scenario = m.get("scenario") or {}
    solver = m.get("solver") or {}
    gap = number(m.get("gap"))
    rows = [[text("scenario", lang), str(scenario.get("name", ""))],
            [text("overrides", lang), ", ".join([*(scenario.get("overrides") or []),
                                                 *(scenario.get("set") or [])]) or "—"],
            [text("status", lang), text(str(m.get("status", "")), lang)],
            [text("objective", lang), fmt(m.get("objective"), 4, na=text("na", lang))],
            [text("bound", lang), fmt(m.get("bound"), 4, na=text("na", lang))],
            [text("gap", lang), text("na", lang) if gap is None else f"{100 * gap:.4f}%"],
            [text("periods", lang), ", ".join(str(p) for p in m.get("periods") or [])],
            [text("solver", lang), f"{solver.get('backend', '')} {solver.get('version', '')}"
             f" ({fmt(solver.get('seconds'), 2)} {text('seconds', lang)})"]]
    return [f'<h2 id="summary">{esc(text("summary", lang))}</h2>', _key_numbers(values, lang),
            table(["", ""], rows, table_id="summary-table")]


def _notes(data: ResultsDir, folder: Path, scenario_dir: Path | None, lang: str) -> list[str]:
    out = [f'<h2 id="notes">{esc(text("notes", lang))}</h2>']
    names = [str(n) for key in ("schools", "sites") if key in data.tables
             for n in data.tables[key].drop_duplicates(
                 "school_id" if key == "schools" else "site_id")["name"].fillna("")]
    synthetic = sum(bool(_SYNTHETIC.search(n)) for n in names)
    out.append(f'<p class="note" id="synthetic-count">'
               f'{esc(text("synthetic_rows", lang).format(n=synthetic))}</p>')
    readme = find_readme(folder, scenario_dir)
    if readme is not None:
        out.append(f'<div id="readme-notes">{readme_html(readme.read_text(encoding="utf-8"))}'
                   "</div>")
    else:
        out.append(f'<p class="note">{esc(text("no_readme", lang))}</p>')
    description = _description(folder)
    if description:
        out.append(f"<p>{esc(description)}</p>")
    notes = data.manifest.get("notes") or []
    if notes:
        out.append(f"<h3>{esc(text('run_notes', lang))}</h3>")
        out.append("<ul>" + "".join(f"<li>{esc(warning_text(str(n), lang))}</li>"
                                    for n in notes) + "</ul>")
    return out


def _description(folder: Path) -> str:
    import yaml

    path = folder / "scenario.resolved.yaml"
    if not path.is_file():
        return ""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    meta = loaded.get("meta") if isinstance(loaded, dict) else None
    return str(meta.get("description") or "") if isinstance(meta, dict) else ""


def _maps(plan: PlanLayers, lang: str, dpi: int) -> list[str]:
    out = [f'<h2 id="maps">{esc(text("maps", lang))}</h2>',
           f"<h3>{esc(text('png_map', lang))}</h3>",
           png_img(png_map_bytes(plan, lang, dpi=dpi), text("png_map", lang), img_id="png-map"),
           f"<h3>{esc(text('html_map', lang))}</h3>",
           iframe(map_page(plan, lang), text("html_map", lang), frame_id="plan-map-frame")]
    return out


def write_report(folder: Path | str, data: ResultsDir | None = None, *,
                 scenario_dir: Path | str | None = None, lang: str | None = None,
                 maps: bool = True, dpi: int = 110) -> Path:
    """Write ``report.html`` into a results directory and return its path.

    Parameters
    ----------
    folder
        The results directory (written by :meth:`allocator.results.Results.to_dir`; its
        ``manifest.json``, tables, ``audit.csv`` and ``plan.gpkg`` are read).
    data
        The directory already read (:func:`allocator.results.read_results_dir`), to avoid
        reading it twice.
    scenario_dir
        The scenario's folder, whose ``README.md`` gives the notes on real and synthetic
        data; default: a ``README.md`` inside ``folder``, else none.
    lang
        ``zh`` or ``en``; default the ``--lang`` of the command line
        (:func:`allocator.i18n.use_language`), else the scenario's ``meta.language``, else
        English.
    maps
        Draw the PNG map and embed the HTML map (a few seconds); off gives the tables only.
    dpi
        Resolution of the embedded PNG map (A4 landscape page), dots per inch.

    Returns
    -------
    pathlib.Path
        ``folder / "report.html"`` (UTF-8).
    """
    folder = Path(folder)
    data = data or read_results_dir(folder)
    plan = read_plan_layers(folder)
    language = pick_language(lang, plan.language)
    audit = read_audit(folder)
    values = run_kpis(data, audit)
    name = str((data.manifest.get("scenario") or {}).get("name") or folder.name)
    title = f"{name} — {text('report_title', language)}"
    body = [f'<h1 id="title">{esc(title)}</h1>']
    body += _summary(data, values, language)
    if maps:
        body += _maps(plan, language, dpi)
    body += [f'<h2 id="kpis">{esc(text("kpis", language))}</h2>',
             kpi_table(kpi_frame([name], [values]), [name], language),
             f'<p class="note">{esc(text("kpi_def", language))}</p>',
             *_plan_table(data, language), *_sites_table(data, language)]
    body += _audit_section(audit, language)
    body += _flows_section(data, plan, language)
    body += _notes(data, folder, Path(scenario_dir) if scenario_dir else None, language)
    path = folder / REPORT
    path.write_text(page(title, language, body), encoding="utf-8", newline="\n")
    log.debug("report written to %s", path)
    return path
