"""The rule recipe, the not-modelled table and the committed docs/rules.md."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from allocator.cli import app
from allocator.rules import catalogue
from allocator.rules.recipe import (
    DOCS_COMMAND,
    RULE_MODULES,
    UPDATE_COMMAND,
    accounting_problems,
    load_rule_modules,
    not_modelled,
    not_modelled_rows,
    recipe,
    to_csv,
    to_markdown,
)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "rules.md"
runner = CliRunner()
DECORATOR = re.compile(r"^\s*@rule\(", re.MULTILINE)

FAILURES = load_rule_modules()


def docs_text() -> str:
    return to_markdown(recipe(), not_modelled_rows())


def test_every_rule_module_imports() -> None:
    failed = "; ".join(f"{name}: {problem}" for name, problem in FAILURES.items())
    assert FAILURES == {}, f"rule modules that fail to import (their rules are missing): {failed}"


def test_rule_modules_list_is_complete_and_exact() -> None:
    registering = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for folder in ("allocator", "gis")
        for path in (ROOT / folder).rglob("*.py")
        if "rules" not in path.relative_to(ROOT).parts[1:2] and DECORATOR.search(path.read_text())
    )

    def listed(module: str) -> bool:
        return any(module == m or module.startswith(m + ".") for m in RULE_MODULES)

    unlisted = [m for m in registering if not listed(m)]
    assert unlisted == [], f"add {unlisted} to RULE_MODULES in allocator/rules/recipe.py"
    idle = [m for m in RULE_MODULES
            if not any(r == m or r.startswith(m + ".") for r in registering)]
    assert idle == [], f"remove {idle} from RULE_MODULES: they register no rule"


def test_every_catalogue_rule_is_modelled_or_has_a_reason() -> None:
    problems = accounting_problems()
    assert problems == [], "\n".join(problems)
    modelled, missing = recipe(), not_modelled_rows()
    assert len(catalogue()) == 116
    assert len(modelled) + len(missing) == 116
    assert {r.rule_id for r in modelled}.isdisjoint(m.rule_id for m in missing)
    assert all(m.reason and m.reason != "(no reason given)" for m in missing)


def test_known_rules_land_on_the_right_side() -> None:
    modelled = {r.rule_id: r for r in recipe()}
    reasons = not_modelled()
    d19 = modelled["D-19"]
    assert d19.kind == "HARD" and d19.clause == "三(四)3" and "10%" in d19.quote
    assert d19.implementations == (
        "allocator.rotation_rules.backbone_rotation_share",
        "allocator.rotation_rules.rotation_share",
    )
    assert "policy.rotation_min_share" in d19.params
    assert all("Returns -----" not in f and "Parameters ---" not in f for f in d19.formulas)
    assert "pay" in reasons["D-02"] and "D-02" not in modelled
    assert "not allocation-relevant" in reasons["N-11"]


def test_docs_are_current() -> None:
    assert DOCS.exists(), f"docs/rules.md is missing; generate it with: {DOCS_COMMAND}"
    assert DOCS.read_text(encoding="utf-8") == docs_text(), (
        f"docs/rules.md is out of date; regenerate it with: {DOCS_COMMAND} "
        f"(or {UPDATE_COMMAND}, which also drops newly registered rules from "
        "allocator/rules/not_modelled.csv)"
    )


def test_docs_list_every_catalogue_rule_once() -> None:
    text = docs_text()
    rows = re.findall(r"^\| ([JDGNZ]-\d\d) \|", text, re.MULTILINE)
    assert sorted(rows) == sorted(catalogue())
    assert "原则上" in text and "大班额" in text
    assert f"{len(recipe())} are implemented by registered code" in text


def test_markdown_is_the_same_from_a_fresh_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "allocator", "rules", "--all", "--format", "markdown"],
        cwd=ROOT, capture_output=True, check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr == b""
    assert done.stdout.decode("utf-8") == docs_text()
    assert docs_text() == docs_text()


def test_cli_table_shows_quotes_and_the_scenario_switches(tiny_scenario: Path) -> None:
    text = tiny_scenario.read_text(encoding="utf-8")
    tiny_scenario.write_text(text + (
        "rules:\n"
        "  J-10: {active: false}\n"
        "  J-20:\n"
        "    exceptions:\n"
        "      - {who: 某民办学校, where: '440703', why: 批准, years: [2025]}\n"
    ), encoding="utf-8")
    result = runner.invoke(app, ["rules", str(tiny_scenario)], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if "quote" in line)
    assert "on/off" in header and "parameters" in header
    j10 = next(line for line in lines if "│ J-10 " in line)
    j08 = next(line for line in lines if "│ J-08 " in line)
    j20 = next(line for line in lines if "│ J-20 " in line)
    assert "东部三区一市学校原则上不得从西部地区" in j10
    assert j10.rstrip("│ ").endswith("off") and j08.rstrip("│ ").endswith("on")
    assert "on, 1 exception" in j20
    assert "Models that read these switches: `allocator.plan_inputs`" in result.output


def test_cli_without_scenario_has_no_switch_column() -> None:
    result = runner.invoke(app, ["rules", "--all"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "on/off" not in result.output and "Not modelled" in result.output
    assert f"{len(recipe())} of 116 catalogue rules modelled" in result.output


def test_cli_csv_lists_all_rules() -> None:
    result = runner.invoke(app, ["rules", "--all", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["rule_id"] for r in rows if r["status"] == "modelled"] == [
        r.rule_id for r in recipe()]
    assert len(rows) == 116
    d13 = next(r for r in rows if r["rule_id"] == "D-13")
    assert d13["quote"] == catalogue()["D-13"].quote
    assert result.stdout == to_csv(recipe(), not_modelled_rows())


def test_cli_needs_a_file_for_scenario_options() -> None:
    result = runner.invoke(app, ["rules", "--set", "rules.J-10.active=false"])
    assert result.exit_code == 2
