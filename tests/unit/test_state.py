"""The SQLite state store: seen URLs, atomic claims, export-mode commits and crash recovery."""

from __future__ import annotations

import gzip
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from pipelines.core.record import dumps
from pipelines.store import STATE_FILE, SQLiteStateStore, hashes_in, open_state

H1 = "sha256:" + "1" * 64
H2 = "sha256:" + "2" * 64
H3 = "sha256:" + "3" * 64


def line(content_hash: str, url: str) -> bytes:
    return dumps({"url": url, "text": "x", "content_hash": content_hash})


def test_directory_gives_a_wal_sqlite_file(tmp_path: Path) -> None:
    store = open_state(tmp_path / "state")
    store.close()
    path = tmp_path / "state" / STATE_FILE
    assert path.is_file()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_claim_is_check_and_add_and_records_urls(tmp_path: Path) -> None:
    with SQLiteStateStore(tmp_path / "s.sqlite3") as store:
        assert not store.seen_url("https://a.example/1")
        assert store.claim(H1, "https://a.example/1") is True
        assert store.claim(H1, "https://b.example/copy") is False  # a syndicated copy
        assert store.seen_url("https://a.example/1") and store.seen_url("https://b.example/copy")
        assert store.claim(H2, "https://a.example/2") is True
        assert store.counts() == {"urls": 3, "hashes": 2, "pending": 0}
    # persistent across opens
    with SQLiteStateStore(tmp_path / "s.sqlite3") as again:
        assert again.claim(H1, "https://a.example/1") is False
        assert again.seen_url("https://a.example/2")


def _claim_in_process(path: str, content_hash: str, queue: multiprocessing.Queue[bool]) -> None:
    with SQLiteStateStore(path) as store:
        queue.put(store.claim(content_hash, "https://example.org/"))


def test_claim_is_atomic_across_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite3")
    SQLiteStateStore(path).close()
    context = multiprocessing.get_context("forkserver")
    queue: multiprocessing.Queue[bool] = context.Queue()
    procs = [context.Process(target=_claim_in_process, args=(path, H3, queue)) for _ in range(6)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    results = sorted(queue.get(timeout=5) for _ in procs)
    assert results == [False] * 5 + [True]


def test_export_mode_claims_are_pending_until_committed(tmp_path: Path) -> None:
    with SQLiteStateStore(tmp_path / "s.sqlite3", commit="export") as store:
        assert store.claim(H1, "https://a.example/1") is True
        assert store.pending() == 1
        assert not store.seen_url("https://a.example/1")  # not written yet
        assert store.claim(H1, "https://a.example/copy") is False  # held while pending
        assert store.commit(H1) is True
        assert store.commit(H1) is False
        assert store.pending() == 0
        assert store.seen_url("https://a.example/1")
        assert store.claim(H2, "https://a.example/2") is True
        assert store.release(H2) is True
        assert store.claim(H2, "https://a.example/2") is True


def test_recovery_commits_written_lines_and_releases_the_others(tmp_path: Path) -> None:
    """A run killed between writing a line and committing its hash, and one killed before the
    line was written: the next open commits the first and releases the second."""
    out = tmp_path / "out.jsonl"
    store = SQLiteStateStore(tmp_path / "s.sqlite3", commit="export")
    store.targets = [str(out)]
    assert store.claim(H1, "https://a.example/1")
    assert store.claim(H2, "https://a.example/2")
    assert store.claim(H3, "https://a.example/3")
    out.write_bytes(line(H1, "https://a.example/1") + line(H2, "https://a.example/2")[:-10])  # H2 cut by the kill
    store.close()  # (a SIGKILL leaves the same rows: commits are per call)

    again = SQLiteStateStore(tmp_path / "s.sqlite3", commit="export")
    assert again.recovered == {"committed": 1, "released": 2}
    assert again.pending() == 0
    assert again.seen_url("https://a.example/1")
    assert not again.seen_url("https://a.example/2") and not again.seen_url("https://a.example/3")
    assert again.claim(H1, "https://a.example/1") is False  # written: never again
    assert again.claim(H2, "https://a.example/2") is True  # not written: written by this run
    again.close()


def test_hashes_in_reads_gzip_and_survives_truncation(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl.gz"
    data = gzip.compress(line(H1, "u1") + line(H2, "u2"))
    path.write_bytes(data[: len(data) - 12])  # the gzip trailer and some data cut
    found = hashes_in(path, {H1, H2, H3})
    assert H1 in found and H3 not in found
    assert hashes_in(tmp_path / "missing.jsonl", {H1}) == set()


def test_unknown_commit_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="commit must be one of"):
        SQLiteStateStore(tmp_path / "s.sqlite3", commit="later")


def test_state_and_pool_worker_modules_do_not_import_scrapy() -> None:
    import subprocess
    import sys

    code = "import sys, pipelines.store.sqlite, pipelines.run.pool; print('scrapy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_pending_claims_of_a_live_store_are_left_alone(tmp_path: Path) -> None:
    """A second run started while the first is live (its claim pending, line not yet written)
    must not release that claim; the next store opened alone settles it."""
    out = tmp_path / "out.jsonl"
    live = SQLiteStateStore(tmp_path / "s.sqlite3", commit="export")
    live.targets = [str(out)]
    assert live.claim(H1, "https://a.example/1")
    other = SQLiteStateStore(tmp_path / "s.sqlite3", commit="export")
    assert other.recovery_skipped and other.recovered == {"committed": 0, "released": 0}
    assert other.pending() == 1
    assert other.claim(H1, "https://b.example/copy") is False  # still held by the live run
    out.write_bytes(line(H1, "https://a.example/1"))  # the live run writes its line, then dies
    other.close()
    live.close()
    alone = SQLiteStateStore(tmp_path / "s.sqlite3", commit="export")
    assert not alone.recovery_skipped and alone.recovered == {"committed": 1, "released": 0}
    assert alone.seen_url("https://a.example/1")
    alone.close()
