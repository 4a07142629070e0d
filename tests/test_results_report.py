"""``report.html`` from :meth:`Results.to_dir`: inside the atomic write, never losing results.

The tiny fixture (``tests/fixtures/tiny``): one new site C1 at 18 classes (810 seats,
810,000 CNY), 100 children without a seat. A ``README.md`` with a synthetic-data section
is added to the scenario folder so that the report's notes show where it was read from.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import allocator.report
from allocator.cli import app
from allocator.layering import load_scenario
from allocator.pipeline import run
from allocator.results import Results

runner = CliRunner()

README = """# tiny

## What is synthetic

> SYNTHETIC: every zone and school of this fixture is invented.
"""

CONTRACT = {"manifest.json", "scenario.resolved.yaml", "demand.csv", "schools.csv",
            "assignments.csv", "sites.csv", "expansions.csv", "spend.csv", "plan_rules.csv",
            "audit.csv", "exceptions.csv", "plan.gpkg", "plan.xlsx"}


@pytest.fixture
def tiny_results(tiny_scenario: Path) -> Results:
    (tiny_scenario.parent / "README.md").write_text(README, encoding="utf-8")
    return run(load_scenario(tiny_scenario))


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def manifest_files(folder: Path) -> set[str]:
    return set(json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"])


def test_report_is_written_before_the_rename(tiny_results: Results, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "results" / "tiny"
    seen: list[dict[str, Any]] = []
    real = allocator.report.write_report

    def spy(folder: Path, *args: Any, **kwargs: Any) -> Path:
        seen.append({"folder": Path(folder).name, "target_exists": target.exists(),
                     "files": files(Path(folder)), **kwargs})
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(allocator.report, "write_report", spy)
    written = tiny_results.to_dir(target)
    assert len(seen) == 1
    assert seen[0]["folder"].startswith(".tiny.partial-") and not seen[0]["target_exists"]
    assert seen[0]["files"] == CONTRACT  # everything else is written, manifest included
    assert seen[0]["scenario_dir"] == tiny_results.scenario.source.parent
    assert files(written) == CONTRACT | {"report.html"} == manifest_files(written)
    assert [p.name for p in target.parent.iterdir()] == ["tiny"]  # no partial left
    page = (written / "report.html").read_text(encoding="utf-8")
    assert '<h1 id="title">tiny — School siting and teacher rotation report</h1>' in page
    assert '<div class="v">810</div><div class="k">New seats, total</div>' in page
    assert '<div class="v">100.0</div><div class="k">Unmet seats, total' in page
    assert "SYNTHETIC: every zone and school of this fixture is invented." in page
    # the maps are drawn from plan.gpkg and inlined: no map.png / map.html needed
    assert page.count('src="data:image/png;base64,') == 1 and "srcdoc=" in page
    assert "http://" not in page.replace("http://www.w3.org", "")


def test_failing_report_only_warns(tiny_results: Results, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch,
                                   caplog: pytest.LogCaptureFixture) -> None:
    def broken(folder: Path, *args: Any, **kwargs: Any) -> Path:
        (Path(folder) / "report.html").write_text("<html>half", encoding="utf-8")
        raise RuntimeError("no fonts")

    monkeypatch.setattr(allocator.report, "write_report", broken)
    with caplog.at_level(logging.WARNING, logger="allocator.results"):
        written = tiny_results.to_dir(tmp_path / "out")
    assert files(written) == CONTRACT == manifest_files(written)  # the half page is gone
    assert [r.getMessage() for r in caplog.records] == [
        "report.html not written (the results are kept): RuntimeError: no fonts"]


def test_interrupted_report_leaves_nothing(tiny_results: Results, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(allocator.report, "write_report", interrupt)
    with pytest.raises(KeyboardInterrupt):
        tiny_results.to_dir(tmp_path / "results" / "tiny")
    assert list((tmp_path / "results").iterdir()) == []


def test_report_false_skips_it(tiny_results: Results, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.setattr(allocator.report, "write_report", lambda *a, **k: calls.append(a))
    written = tiny_results.to_dir(tmp_path / "out", report=False)
    assert calls == []
    assert files(written) == CONTRACT == manifest_files(written)


KILL_AFTER_REPORT = """
import os, signal, sys
import allocator.report
original = allocator.report.write_report
def write_then_die(*args, **kwargs):
    original(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
allocator.report.write_report = write_then_die
from allocator.cli import main
sys.argv = ["allocator", "--quiet", "run", sys.argv[1], "--out", sys.argv[2]]
main()
"""


def test_killed_after_the_report_leaves_no_results_directory(tiny_scenario: Path,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "results" / "tiny"
    done = subprocess.run([sys.executable, "-c", KILL_AFTER_REPORT, str(tiny_scenario),
                           str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert not out.exists()
    partial = list((tmp_path / "results").iterdir())
    assert len(partial) == 1 and partial[0].name.startswith(".tiny.partial-")
    assert files(partial[0]) == CONTRACT | {"report.html"}


def test_cli_run_writes_the_report_once(tiny_scenario: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real = allocator.report.write_report

    def counted(folder: Path, *args: Any, **kwargs: Any) -> Path:
        calls.append(Path(folder))
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(allocator.report, "write_report", counted)
    out = tmp_path / "out"
    result = runner.invoke(app, ["--lang", "zh", "-q", "run", str(tiny_scenario), "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert len(calls) == 1 and calls[0].name.startswith(".out.partial-")
    assert "report.html" in manifest_files(out)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh' in page  # --lang reaches it
