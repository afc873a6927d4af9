"""Shared test helpers: the repository's fixture folders and one cleaner per session.

``tests/unit/`` runs in seconds; ``tests/integration/`` starts real processes (crawls, kills,
worker pools, redis-server) and is marked ``integration``: ``pytest -m "not integration"`` runs
the fast half. ``tests/support/`` holds the helpers both use (scoring, scripted HTTP servers).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.cleaner import Cleaner, CleanOptions

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PAGES = FIXTURES / "pages"
SAMPLES = FIXTURES / "samples"
INTEGRATION = Path(__file__).resolve().parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def cleaner() -> Cleaner:
    """A default cleaner (rules compiled once for the whole run)."""
    return Cleaner()


@pytest.fixture(scope="session")
def debug_cleaner() -> Cleaner:
    """A cleaner that keeps the removed text by rule name (``removed_text``)."""
    return Cleaner(CleanOptions(debug=True))


@pytest.fixture(autouse=True)
def _own_state_markers(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test keeps the Redis state markers of this machine (pipelines.store.redis.marker_file)
    in a folder of its own (inherited by the processes it starts), not in the user's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))
