"""ruff and mypy are part of the test suite, so a clean checkout stays clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_clean() -> None:
    done = run_tool(str(BIN / "ruff"), "check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean() -> None:
    done = run_tool(str(BIN / "mypy"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_product_never_reads_shared() -> None:
    offenders = [str(p.relative_to(ROOT)) for folder in ("allocator", "gis")
                 for p in (ROOT / folder).rglob("*.py") if "../shared" in p.read_text()]
    assert offenders == []
