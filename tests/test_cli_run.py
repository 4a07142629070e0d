"""`allocator run`: exit codes, summary, and the results directory on every outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import allocator.pipeline
from allocator.cli import app
from allocator.plan.data import PlanResult
from allocator.solvers import SolveInfo

runner = CliRunner()


def test_run_writes_results_and_prints_summary(tiny_scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(tiny_scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "primary" in result.output and "optimal" in result.output
    assert (out / "manifest.json").exists()


def test_quiet_prints_nothing_on_success(tiny_scenario: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--quiet", "run", str(tiny_scenario), "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 0 and "optimal" not in result.output


def test_named_scenario_changes_default_out_dir(tiny_scenario: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["-q", "run", str(tiny_scenario), "--scenario", "tight_cbc"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "results/tiny-tight_cbc/manifest.json").read_text())
    assert manifest["scenario"]["overrides"] == ["tight_budget", "cbc"]
    assert manifest["solver"]["backend"] == "cbc"


def test_colliding_overrides_exit_2(tiny_scenario: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", str(tiny_scenario), "--scenario", "clash",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "tight_budget and other_budget" in result.output
    assert "planning.budget_cny" in result.output


def empty_result(info: SolveInfo) -> PlanResult:
    """A PlanResult without a solution: every frame empty with its documented columns."""
    def empty(columns: str) -> pd.DataFrame:
        return pd.DataFrame(columns=columns.split(", "))

    return PlanResult(
        info=info, phases=(info,),
        opened=empty("site_id, option_id, year, stage, classes, ownership, cost_cny"),
        expansions=empty("school_id, stage, year, modules, classes_added, cost_cny"),
        closures=empty("school_id, year"),
        capacity=empty("school_id, kind, stage, year, classes, cap, seats, enrolled, ownership"),
        assignments=empty("zone_id, school_id, stage, year, children, distance_m"),
        unmet=empty("zone_id, stage, year, children, unmet"),
        spend=empty("year, capital_cny, budget_cny, projects"),
        rule_report=empty("rule_id, scope, year, stage, lhs, sense, rhs, slack, elastic"))


@pytest.mark.parametrize(("status", "code"), [("infeasible", 3), ("no_solution", 4),
                                              ("error", 4)])
def test_exit_codes_without_solution(tiny_scenario: Path, tmp_path: Path, status: str, code: int,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def no_solution(plan: object, options: object) -> PlanResult:
        return empty_result(SolveInfo(
            status=status, objective=None, bound=None, gap=None,  # type: ignore[arg-type]
            seconds=0.0, solver="highs", solver_version="test", message=f"stubbed {status}"))

    monkeypatch.setattr(allocator.pipeline, "solve_plan", no_solution)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(tiny_scenario), "--out", str(out)])
    assert result.exit_code == code, result.output
    assert f"stubbed {status}" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == status and manifest["exit_code"] == code
    assert manifest["objective"] is None
    # without a solution the schools table still lists today's schools, nothing enrolled
    schools = pd.read_csv(out / "schools.csv")
    assert schools[["school_id", "kind", "seats"]].values.tolist() == [["S1", "existing", 450]]
    assert schools["enrolled"].isna().all()
    assert pd.read_csv(out / "demand.csv")["unmet"].isna().all()


def test_bench_orlib_is_a_subcommand() -> None:
    data = Path(__file__).resolve().parent / "data" / "orlib"
    result = runner.invoke(app, ["bench", "orlib", str(data / "pmed1.txt")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "instance,objective,bound,proven_optimal,seconds"
    assert lines[1].startswith("pmed1,5819,5819,true,")
