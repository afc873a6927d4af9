"""Shared test helpers: the repository's fixture folders and one cleaner per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core import Cleaner, CleanOptions

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PAGES = FIXTURES / "pages"
SAMPLES = FIXTURES / "samples"


@pytest.fixture(scope="session")
def cleaner() -> Cleaner:
    """A default cleaner (rules compiled once for the whole run)."""
    return Cleaner()


@pytest.fixture(scope="session")
def debug_cleaner() -> Cleaner:
    """A cleaner that keeps the removed text by rule name (``removed_text``)."""
    return Cleaner(CleanOptions(debug=True))
