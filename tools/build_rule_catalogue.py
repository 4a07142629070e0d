"""Build ``allocator/rules/catalogue.csv`` from the project's policy-rule catalogue.

Developer tool, run by hand when the catalogue changes::

    python tools/build_rule_catalogue.py ../shared/reference/policy-rules.md

It parses the rule tables (ID, clause, quote, paraphrase, model use) and writes one CSV
row per rule with the seed document it comes from. The product reads only the CSV.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "allocator" / "rules" / "catalogue.csv"

DOCUMENTS = {
    "J": ("000", "江府〔2023〕17号 江门市推动基础教育高质量发展实施方案"),
    "D": ("001", "大政办发〔2023〕11号 盐城市大丰区推进义务教育优质均衡发展实施方案"),
    "G": ("002", "推动基础教育高质量发展行动方案 (municipal plan, city unnamed)"),
    "N": ("003", "南政办〔2023〕1号 南安市基础教育质量提升三年(2023-2025年)行动方案"),
    "Z": ("004", "中共贵州省委 贵州省人民政府关于深化教育教学改革全面提高义务教育质量的实施意见"),
}
KINDS = ("HARD", "SOFT", "TARGET", "PARAM", "FILTER", "AUDIT", "STRUCT")
ROW = re.compile(r"^\| ([JDGNZ]-\d+) \| (.*?) \| (.*?) \| (.*?) \| (.*) \|$")


def kinds_of(model_use: str) -> str:
    """The catalogue's kinds for a rule, in the order they are named (e.g. 'HARD/SOFT')."""
    head = model_use.split(":")[0]
    found = [(head.find(k), k) for k in KINDS if k in head]
    if not found:
        found = [(model_use.find(k), k) for k in KINDS if k in model_use]
    return "/".join(k for _, k in sorted(found)) or "NONE"


def main(source: Path) -> None:
    """Parse ``source`` and write the catalogue CSV."""
    rows = []
    for line in source.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line.strip())
        if not match:
            continue
        rule_id, clause, quote, paraphrase, model_use = (g.strip() for g in match.groups())
        seed, document = DOCUMENTS[rule_id[0]]
        rows.append({"rule_id": rule_id, "seed": seed, "document": document,
                     "clause": clause, "quote": quote, "paraphrase": paraphrase,
                     "catalogue_kind": kinds_of(model_use), "model_use": model_use})
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rules to {OUT}")  # noqa: T201 - developer tool


if __name__ == "__main__":
    main(Path(sys.argv[1]))
