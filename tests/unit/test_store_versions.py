"""Versions of a URL over the SQLite store (the same scenario runs over Redis in test_redis.py)."""

from __future__ import annotations

from pathlib import Path

from support.versions import run_versions_scenario

from pipelines.store import STATE_FILE, DedupStore, SQLiteStateStore


def test_versions_over_sqlite(tmp_path: Path) -> None:
    def open_store() -> DedupStore:
        return SQLiteStateStore(tmp_path / STATE_FILE, commit="export")

    def kill(store: DedupStore) -> None:
        # what a SIGKILL leaves: the pending claims as they are (closing settles nothing here:
        # the next store opened alone settles them from the output file)
        store.close()

    run_versions_scenario(tmp_path, open_store, kill)
