"""Bring ``allocator/rules/not_modelled.csv`` and ``docs/rules.md`` up to date with the code.

Developer tool, run by hand after registering (or unregistering) rule code::

    .venv/bin/python tools/update_rule_docs.py

1. Imports every rule module (``allocator.rules.recipe.RULE_MODULES``); stops if one fails.
2. Drops from ``not_modelled.csv`` the rows of rules that are now registered, and rows
   whose ID is not in the catalogue (keeping the first row of a repeated ID).
3. Stops, naming them, if some catalogue rule is neither registered nor listed: a reason
   has to be written by hand (``rule_id,reason``).
4. Writes ``docs/rules.md`` (the same text as
   ``allocator rules --all --format markdown``).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from allocator.rules import catalogue
from allocator.rules.recipe import (
    accounting_problems,
    load_rule_modules,
    not_modelled,
    not_modelled_rows,
    product_rules,
    recipe,
    to_markdown,
)

ROOT = Path(__file__).resolve().parent.parent
CSV_PATH = ROOT / "allocator" / "rules" / "not_modelled.csv"
DOCS_PATH = ROOT / "docs" / "rules.md"


def main() -> int:
    """Update both files; return the exit code."""
    failures = load_rule_modules()
    if failures:
        for name, problem in failures.items():
            print(f"cannot import {name}: {problem}")  # noqa: T201 - developer tool
        return 1
    done = {r.rule_id for r in product_rules()}
    reasons = not_modelled()
    kept = [(rule_id, reasons[rule_id]) for rule_id in catalogue()
            if rule_id in reasons and rule_id not in done]
    dropped = sorted(set(reasons) - {rule_id for rule_id, _ in kept})
    with CSV_PATH.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["rule_id", "reason"])
        writer.writerows(kept)
    print(f"{CSV_PATH.relative_to(ROOT)}: {len(kept)} rows"  # noqa: T201
          + (f", removed {', '.join(dropped)}" if dropped else ""))
    problems = accounting_problems()
    if problems:
        for problem in problems:
            print(problem)  # noqa: T201
        return 1
    DOCS_PATH.parent.mkdir(exist_ok=True)
    DOCS_PATH.write_text(to_markdown(recipe(), not_modelled_rows()), encoding="utf-8")
    print(f"{DOCS_PATH.relative_to(ROOT)}: {len(done)} modelled, {len(kept)} not modelled")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
