"""HTML building blocks of the report and the comparison: escaping, tables, page, images.

Every text that comes from data passes through :func:`esc` (``html.escape`` with quotes)
before it reaches the page; a school named ``<img src=x onerror=alert(1)>`` is written as
``&lt;img src=x onerror=alert(1)&gt;`` and shown as those characters. Pages are UTF-8, carry
their own stylesheet and no script, and reference nothing outside themselves: images are
``data:`` URIs, and an HTML map is embedded whole in an ``<iframe srcdoc>`` (sandboxed:
scripts run, but in an opaque origin with no access to the report).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from typing import Any, Final

from allocator.report_text import kpi_label, text

__all__ = ["CSS", "esc", "fmt", "iframe", "kpi_cell", "kpi_table", "number", "page",
           "png_img", "table"]

CSS: Final = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC",
  "Microsoft YaHei", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif;
  margin: 0 auto; max-width: 1280px; padding: 16px 24px 48px; color: #222;
  line-height: 1.45; }
h1 { font-size: 24px; border-bottom: 3px solid #2b3a4a; padding-bottom: 6px; }
h2 { font-size: 19px; margin-top: 34px; border-bottom: 1px solid #bbb; }
h3 { font-size: 15px; margin-top: 20px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0 16px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; vertical-align: top; }
th { background: #eef1f4; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.sec td { background: #f6f6f6; font-weight: 600; }
tr.fail td { background: #fde2e1; }
tr.exception td { background: #fff4d6; }
tr.na td { color: #666; }
tr.added td { background: #e3f4e6; }
tr.removed td { background: #fde2e1; }
tr.moved td, tr.resized td { background: #fff4d6; }
.status-fail { color: #b00020; font-weight: 700; }
.status-pass { color: #1b7a2f; }
.keys { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
.key { border: 1px solid #ccd; border-radius: 4px; padding: 6px 12px; min-width: 150px; }
.key .v { font-size: 20px; font-weight: 700; }
.key .k { font-size: 12px; color: #555; }
img.map { width: 100%; border: 1px solid #ccc; }
iframe.map { width: 100%; height: 640px; border: 1px solid #ccc; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr));
  gap: 12px; }
.note { color: #555; font-size: 13px; }
.warn { border-left: 4px solid #d55e00; background: #fff6ef; padding: 6px 12px; }
svg text { font-family: inherit; }
"""


def esc(value: object) -> str:
    """Text for HTML: ``& < > " '`` escaped; missing values empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if str(value) in ("<NA>", "nan", "NaT"):
        return ""
    return html.escape(str(value), quote=True)


def number(value: object) -> float | None:
    """``value`` as a finite-or-infinite float; ``None`` when missing or not a number."""
    if value is None or isinstance(value, bool | str):
        return None
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(result) else result


def fmt(value: object, decimals: int = 0, *, na: str = "") -> str:
    """A number with thousands separators, or ``na`` for missing; text as it is."""
    if value is None or str(value) in ("<NA>", "nan", "NaT", ""):
        return na
    found = number(value)
    if found is None:
        return str(value)
    return f"{found:,.{decimals}f}"


_DECIMALS = {"km": 2, "million CNY": 2, "children": 1, "child-periods": 1,
             "percentage points": 2}


def kpi_cell(kpi: str, unit: str, value: object, lang: str) -> str:
    """One KPI value as text (not escaped).

    Counts whole, km, million CNY and percentage points with two decimals, children with
    one, ``gap`` as a percentage, CVs with three decimals, ``n/a`` for missing.
    """
    na = text("na", lang)
    if kpi == "status":
        return text(str(value), lang) if value else na
    if kpi == "failed_rules":
        return str(value) if value else "—"
    if kpi == "gap":
        found = number(value)
        return na if found is None else f"{100 * found:.2f}%"
    if kpi == "objective":
        return fmt(value, 2, na=na)
    if kpi == "cv_max":
        return fmt(value, 3, na=na)
    return fmt(value, _DECIMALS.get(unit, 0), na=na)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *,
          numeric: Sequence[int] = (), row_classes: Sequence[str] | None = None,
          table_id: str = "") -> str:
    """An HTML table; ``headers`` and cells are plain text and are escaped here.

    ``numeric`` are the indexes of right-aligned columns; ``row_classes`` one class per row
    (empty for none).
    """
    ident = f' id="{esc(table_id)}"' if table_id else ""
    out = [f"<table{ident}>", "<thead><tr>",
           *(f"<th>{esc(h)}</th>" for h in headers), "</tr></thead>", "<tbody>"]
    for i, row in enumerate(rows):
        cls = row_classes[i] if row_classes is not None else ""
        out.append(f'<tr class="{esc(cls)}">' if cls else "<tr>")
        for j, cell in enumerate(row):
            out.append(f'<td class="num">{esc(cell)}</td>' if j in numeric
                       else f"<td>{esc(cell)}</td>")
        out.append("</tr>")
    out += ["</tbody>", "</table>"]
    return "".join(out)


def kpi_table(kpis: Any, runs: Sequence[str], lang: str, *, table_id: str = "kpi-table") -> str:
    """The KPI frame of :class:`allocator.compare.Comparison` as a table, by section."""
    headers = ["", *runs]
    rows: list[list[str]] = []
    classes: list[str] = []
    section = None
    for record in kpis.to_dict("records"):
        if record["section"] != section:
            section = record["section"]
            rows.append([text(f"sec_{section}", lang), *([""] * len(runs))])
            classes.append("sec")
        year = record["year"]
        rows.append([kpi_label(record["kpi"], record["scope"], year, lang),
                     *(kpi_cell(record["kpi"], record["unit"], record[r], lang)
                       for r in runs)])
        classes.append("")
    return table(headers, rows, numeric=range(1, len(runs) + 1), row_classes=classes,
                 table_id=table_id)


def png_img(data: bytes, alt: str, *, img_id: str = "") -> str:
    """An ``<img>`` with the PNG inlined as a ``data:`` URI."""
    ident = f' id="{esc(img_id)}"' if img_id else ""
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img class="map"{ident} alt="{esc(alt)}" src="data:image/png;base64,{encoded}">'


def iframe(page_html: str, title: str, *, frame_id: str) -> str:
    """A whole HTML page embedded in a sandboxed ``<iframe srcdoc>`` (scripts allowed)."""
    return (f'<iframe class="map" id="{esc(frame_id)}" title="{esc(title)}" '
            f'sandbox="allow-scripts" srcdoc="{html.escape(page_html, quote=True)}"></iframe>')


def page(title: str, lang: str, body: Sequence[str]) -> str:
    """A complete, self-contained UTF-8 page (no script, no external reference)."""
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        *body,
        "</body>",
        "</html>",
        "",
    ])
