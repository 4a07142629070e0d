"""``report.html``: sections, escaping, offline, language and identical bytes.

The results directory is the hand-made one of :func:`tests.test_compare.make_run` (a school
and a site named ``<img src=x onerror=alert(1)>``; no plan.gpkg, so the maps are drawn
from the points of ``schools.csv``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest

from allocator.report import audit_by_rule, write_report
from allocator.report_charts import county_flows
from allocator.report_notes import readme_html
from allocator.report_text import TEXT
from gis.leaflet import leaflet_assets
from tests.test_compare import HOSTILE, make_run

README = """# Toy

> **⚠ Everything here is SYNTHETIC.**
> Invented by `synth.py`.

## What is real

| Item | Value |
|---|---|
| Boundary | real |

## What is SYNTHETIC

- **Zones** (3): invented,
  with noise.
- Schools: *invented*.

## Running

Run me with `allocator run`.
"""
EXTERNAL = re.compile(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//"""
                      r"""|url\(\s*["']?\s*(?:https?:)?//|@import""", re.IGNORECASE)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_run(tmp_path_factory.mktemp("report") / "toy", lang="en", readme=README)
    return write_report(folder)


def _inner(page: str) -> str:
    match = re.search(r'<iframe[^>]*id="plan-map-frame"[^>]*srcdoc="([^"]*)"', page)
    assert match is not None
    return html.unescape(match.group(1))


def test_sections_present(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    for ident in ("title", "summary", "key-numbers", "summary-table", "maps", "png-map",
                  "plan-map-frame", "kpis", "kpi-table", "plan-table", "sites-table", "audit",
                  "audit-rules", "audit-failures", "flows", "flows-chart", "flows-table",
                  "notes", "synthetic-count", "readme-notes"):
        assert f'id="{ident}"' in page, ident
    assert "<title>toy — School siting and teacher rotation report</title>" in page
    assert '<meta charset="utf-8">' in page and '<html lang="en">' in page
    assert "Mean travel (km, children-weighted) · all</td><td class=\"num\">1.05</td>" in page
    assert "Classes over cap (classes missing)</td><td class=\"num\">4</td>" in page
    assert "0.4000%" in page  # gap 0.004
    assert page.count('src="data:image/png;base64,') == 1


def test_offline(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    inner = _inner(page)
    outer = re.sub(r'srcdoc="[^"]*"', "", page)
    script, css = leaflet_assets()
    assert script in inner and css in inner
    own = inner.replace(script, "").replace(css, "")
    # Leaflet's own script and stylesheet name leafletjs.com and a bug tracker in strings
    # and comments (never loaded); nothing else may mention a URL.
    for text in (outer, own):
        assert EXTERNAL.search(text) is None
        assert "http://" not in text and "https://" not in text
    assert "<script" not in outer  # the report itself runs no script
    # (Leaflet's script holds the string '<a href="https://leafletjs.com">' for an
    # attribution control the map switches off; the browser test checks no request is made.)


def test_escaping(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert "<img src=x" not in page
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    assert page.count(escaped) >= 3  # new-sites table, failed audit row, audit by rule
    assert "a note with &lt;b&gt;tags&lt;/b&gt;" in page
    inner = _inner(page)
    assert "<img src=x" not in inner  # the map's data is JSON with \u003c escapes
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in inner


def test_same_bytes(report: Path, tmp_path: Path) -> None:
    first = report.read_bytes()
    assert write_report(report.parent).read_bytes() == first


def test_audit_failures_first(report: Path) -> None:
    audit = pd.read_csv(report.parent / "audit.csv", dtype=str, keep_default_na=False)
    rules = audit_by_rule(audit)
    assert list(rules["rule_id"]) == ["D-06", "J-10", "N-01", "D-13"]
    assert list(rules["status"]) == ["fail", "fail", "not applicable", "pass"]
    assert list(rules["checks"]) == [1, 2, 1, 1]
    assert rules.loc[1, "message"] == f"{HOSTILE} moved west to east"
    page = report.read_text(encoding="utf-8")
    table = page[page.index('id="audit-rules"'):]
    assert table.index("D-06") < table.index("J-10") < table.index("N-01") < table.index("D-13")
    failures = page[page.index('id="audit-failures"'):page.index('id="flows"')]
    assert failures.count('<tr class="fail">') == 2


def test_flows_chart(report: Path) -> None:
    flows = county_flows(pd.read_csv(report.parent / "rotations.csv"))
    assert flows[["from_county", "to_county", "rotation", "transfer", "total"]].values.tolist() \
        == [["C1", "C2", 3, 0, 3], ["C1", "C1", 2, 0, 2], ["C2", "C1", 0, 1, 1]]
    page = report.read_text(encoding="utf-8")
    chart = page[page.index('<svg id="flows-chart"'):page.index("</svg>")]
    assert chart.count('class="bar"') == 3
    assert chart.index("C1 → C2") < chart.index("C1 → C1") < chart.index("C2 → C1")
    assert "within a county</span>" not in page and "within a county: 2" in page


def test_notes_from_readme(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    notes = page[page.index('id="notes"'):]
    assert '<p class="warn">⚠ Everything here is SYNTHETIC. Invented by synth.py.</p>' in notes
    assert "<h3>What is SYNTHETIC</h3>" in notes and "<h3>What is real</h3>" in notes
    assert "<li>Zones (3): invented, with noise.</li>" in notes
    assert "<li>Schools: invented.</li>" in notes
    assert "Running" not in notes and "Run me" not in notes
    # Synthetic-looking names: none in the toy (only 'Site N..', HOSTILE, plain names).
    assert "named as synthetic (合成 / (synthetic)): 0." in notes
    assert readme_html("## Files\n\ntext\n") == ""


def test_chinese_labels_and_no_maps(tmp_path: Path) -> None:
    folder = make_run(tmp_path / "zh", lang="zh")
    page = write_report(folder, maps=False).read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    assert "学校布局与教师交流规划报告" in page and "规则核查" in page and "未通过" in page
    assert "平均就学距离（公里，按儿童加权） · 全部" in page
    assert 'id="plan-map-frame"' not in page and "data:image/png" not in page
    assert "未找到情景说明" in page  # no README: the description and run notes instead
    english = write_report(folder, maps=False, lang="en").read_text(encoding="utf-8")
    assert "Audit" in english and "规则核查" not in english


def test_text_tables_match() -> None:
    assert set(TEXT["zh"]) == set(TEXT["en"])
