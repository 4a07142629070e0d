"""Shared fixtures: paths of the shipped scenario and the tiny hand-checked fixture."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "tiny"
DAFENG = ROOT / "scenarios" / "dafeng" / "scenario.yaml"


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    """A writable copy of the tiny fixture folder."""
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target)
    return target


@pytest.fixture
def tiny_scenario(tiny_dir: Path) -> Path:
    """The tiny fixture's scenario file (in a writable copy)."""
    return tiny_dir / "scenario.yaml"
