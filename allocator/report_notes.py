"""Notes on real and synthetic data for the report, taken from the scenario's README.md.

A small reader for the Markdown of the scenario READMEs, not a general one: it keeps the
warning blockquotes (``> ...``) and the ``##`` sections whose heading says what is real or
what is synthetic (``real``, ``synthetic``, ``合成``), with their ``###`` subsections,
paragraphs, bullet lists and pipe tables. Inline marks (``**``, backticks) are dropped and
every text is escaped; links and images are shown as their text.
"""

from __future__ import annotations

import re
from pathlib import Path

from allocator.report_html import esc

__all__ = ["find_readme", "readme_html", "wanted_heading"]

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)\*(?![\w*])")


def wanted_heading(title: str) -> bool:
    """Whether a ``##`` section belongs in the notes (what is real / synthetic)."""
    lower = title.lower()
    return "synthetic" in lower or "what is real" in lower or "合成" in title


def _inline(line: str) -> str:
    line = _EMPHASIS.sub(r"\1", _LINK.sub(r"\1", line).replace("**", ""))
    return esc(line.replace("`", "").strip())


def _table(lines: list[str]) -> str:
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    rows = [r for r in rows if not all(re.fullmatch(r":?-{2,}:?", c) for c in r if c)]
    if not rows:
        return ""
    head, body = rows[0], rows[1:]
    out = ["<table>", "<thead><tr>", *(f"<th>{_inline(c)}</th>" for c in head),
           "</tr></thead><tbody>"]
    for row in body:
        out += ["<tr>", *(f"<td>{_inline(c)}</td>" for c in row), "</tr>"]
    out.append("</tbody></table>")
    return "".join(out)


def _blocks(lines: list[str]) -> list[str]:
    """Paragraphs, bullet lists, tables and ``###`` headings of a section, as HTML."""
    out: list[str] = []
    para: list[str] = []
    items: list[list[str]] = []
    rows: list[str] = []
    quote: list[str] = []

    def flush() -> None:
        if quote:
            out.append(f'<p class="warn">{" ".join(_inline(q) for q in quote if q)}</p>')
            quote.clear()
        if para:
            out.append(f"<p>{' '.join(_inline(x) for x in para)}</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{' '.join(_inline(x) for x in item)}</li>"
                                        for item in items) + "</ul>")
            items.clear()
        if rows:
            out.append(_table(rows))
            rows.clear()

    for line in lines:
        stripped = line.strip()
        if stripped.startswith(">"):
            if para or items or rows:
                flush()
            quote.append(stripped.lstrip(">").strip())
            continue
        if quote:
            flush()
        if not stripped:
            flush()
        elif stripped.startswith("#"):
            flush()
            out.append(f"<h4>{_inline(stripped.lstrip('#'))}</h4>")
        elif stripped.startswith("|"):
            if para or items:
                flush()
            rows.append(stripped)
        elif re.match(r"^[-*] ", stripped):
            if para or rows:
                flush()
            items.append([stripped[2:]])
        elif items and line[:1] == " ":
            items[-1].append(stripped)
        elif stripped.startswith("```"):
            continue
        else:
            if items or rows:
                flush()
            para.append(stripped)
    flush()
    return out


def readme_html(markdown: str) -> str:
    """The warning blockquotes and the real/synthetic sections of a README, as HTML."""
    lines = markdown.splitlines()
    out: list[str] = []
    quote: list[str] = []
    section: list[str] | None = None
    title = ""

    def close() -> None:
        if section is not None:
            out.append(f"<h3>{_inline(title)}</h3>")
            out.extend(_blocks(section))

    for line in [*lines, ""]:
        if section is None and line.startswith(">"):
            quote.append(line.lstrip(">").strip())
            continue
        if quote:
            out.append(f'<p class="warn">{" ".join(_inline(q) for q in quote if q)}</p>')
            quote = []
        if line.startswith("## ") or line.startswith("# "):
            close()
            title = line.lstrip("#").strip()
            section = [] if line.startswith("## ") and wanted_heading(title) else None
        elif section is not None:
            section.append(line)
    close()
    return "\n".join(out)


def find_readme(folder: Path, scenario_dir: Path | None) -> Path | None:
    """``README.md`` of the scenario folder, else one copied into the results directory."""
    for base in (scenario_dir, folder):
        if base is not None and (base / "README.md").is_file():
            return base / "README.md"
    return None
