"""Teacher moves by county pair: the table and an inline SVG bar chart for the report.

:func:`county_flows` sums ``rotations.csv`` ``count`` (teachers) over years by
``(from_county, to_county)`` and kind; :func:`flows_svg` draws one horizontal bar per pair,
stacked by kind (rotation, transfer, hire), largest first. The SVG is plain text with every
label escaped; it needs no script and no font file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import pandas as pd

from allocator.report_html import esc, fmt
from allocator.report_text import text
from gis.map_style import nice_steps

__all__ = ["KIND_COLOURS", "county_flows", "flows_svg"]

#: Bar colour of each kind of move (the map's rotation line colours).
KIND_COLOURS: Final = {"rotation": "#D55E00", "transfer": "#6A3D9A", "hire": "#117733"}
_OTHER = "#777777"
_WIDTH, _LABEL, _ROW, _TOP = 760, 240, 22, 34


def county_flows(rotations: pd.DataFrame, school_county: Mapping[str, str] | None = None
                 ) -> pd.DataFrame:
    """Teachers moved between each ordered county pair, summed over years.

    Parameters
    ----------
    rotations
        ``rotations.csv``: ``from_county, to_county`` (or ``from_school, to_school`` with
        ``school_county``), optional ``count`` (teachers, default 1) and ``kind``
        (default ``rotation``).
    school_county
        County of each school id, used when the county columns are missing.

    Returns
    -------
    pandas.DataFrame
        ``from_county, to_county``, one column per kind present (teachers), ``total``;
        sorted by ``total`` descending, then by the two counties.
    """
    frame = rotations.copy()
    for side in ("from", "to"):
        column = f"{side}_county"
        if column not in frame.columns:
            lookup = dict(school_county or {})
            frame[column] = frame[f"{side}_school"].astype(str).map(lookup).fillna("?")
        frame[column] = frame[column].astype(str)
    frame["n"] = (pd.to_numeric(frame["count"], errors="coerce").astype(float).fillna(0.0)
                  if "count" in frame.columns else 1.0)
    frame["kind"] = frame["kind"].astype(str) if "kind" in frame.columns else "rotation"
    if frame.empty:
        return pd.DataFrame(columns=["from_county", "to_county", "total"])
    wide = frame.pivot_table(index=["from_county", "to_county"], columns="kind", values="n",
                             aggfunc="sum", fill_value=0.0)
    kinds = [k for k in KIND_COLOURS if k in wide.columns] + sorted(
        str(k) for k in wide.columns if k not in KIND_COLOURS)
    wide = wide[kinds].round().astype(int)
    wide.columns = pd.Index([str(c) for c in wide.columns])
    wide["total"] = wide.sum(axis=1)
    wide = wide.reset_index()
    return wide.sort_values(["total", "from_county", "to_county"],
                            ascending=[False, True, True], kind="stable").reset_index(drop=True)


def flows_svg(flows: pd.DataFrame, names: Mapping[str, str], lang: str, *,
              max_bars: int = 40) -> str:
    """A horizontal stacked bar chart of :func:`county_flows`, as an ``<svg>`` element.

    ``names`` maps county codes to display names (codes are shown when missing). At most
    ``max_bars`` pairs are drawn (the largest).
    """
    shown = flows.head(max_bars)
    kinds = [c for c in shown.columns if c not in ("from_county", "to_county", "total")]
    peak = float(shown["total"].max()) if len(shown) else 1.0
    step = nice_steps(max(peak, 1.0) / 4)
    top = step * (int(peak // step) + 1)
    area = _WIDTH - _LABEL - 70
    height = _TOP + _ROW * len(shown) + 40
    scale = area / top
    out = [f'<svg id="flows-chart" width="{_WIDTH}" '
           f'height="{height}" viewBox="0 0 {_WIDTH} {height}" role="img">',
           f"<title>{esc(text('flows', lang))}</title>"]
    ticks = round(top / step)
    for i in range(ticks + 1):
        x = _LABEL + i * step * scale
        out.append(f'<line x1="{x:.1f}" y1="{_TOP - 6}" x2="{x:.1f}" '
                   f'y2="{_TOP + _ROW * len(shown)}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{_TOP - 10}" font-size="11" text-anchor="middle">'
                   f"{esc(fmt(i * step))}</text>")
    for row, record in enumerate(shown.to_dict("records")):
        y = _TOP + row * _ROW
        source = names.get(str(record["from_county"]), str(record["from_county"]))
        target = names.get(str(record["to_county"]), str(record["to_county"]))
        out.append(f'<text x="{_LABEL - 8}" y="{y + 15}" font-size="12" text-anchor="end">'
                   f"{esc(f'{source} → {target}')}</text>")
        x = float(_LABEL)
        for kind in kinds:
            width = float(record[kind]) * scale
            if width <= 0:
                continue
            out.append(f'<rect class="bar" data-kind="{esc(kind)}" x="{x:.1f}" y="{y + 3}" '
                       f'width="{width:.1f}" height="{_ROW - 6}" '
                       f'fill="{KIND_COLOURS.get(kind, _OTHER)}">'
                       f"<title>{esc(f'{source} → {target}: {fmt(record[kind])}')}</title>"
                       "</rect>")
            x += width
        out.append(f'<text x="{x + 5:.1f}" y="{y + 15}" font-size="12">'
                   f"{esc(fmt(record['total']))}</text>")
    legend_y = _TOP + _ROW * len(shown) + 24
    x = float(_LABEL)
    for kind in kinds:
        out.append(f'<rect x="{x:.1f}" y="{legend_y - 10}" width="12" height="12" '
                   f'fill="{KIND_COLOURS.get(kind, _OTHER)}"/>')
        out.append(f'<text x="{x + 16:.1f}" y="{legend_y}" font-size="12">'
                   f"{esc(text(kind, lang))}</text>")
        x += 110
    out.append("</svg>")
    return "".join(out)
