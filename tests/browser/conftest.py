"""Fixtures of the browser tests: one Dafeng run and one chromium per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("tests.browser._chromium")

from tests.browser._chromium import NO_PLAYWRIGHT, launch, run_dafeng  # noqa: E402


@pytest.fixture(scope="session")
def dafeng_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Results of a real ``allocator run`` on the Dafeng scenario (do not modify: copy)."""
    return run_dafeng(tmp_path_factory.mktemp("browser") / "dafeng")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by playwright (skips when playwright is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)
    with sync_api.sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()
