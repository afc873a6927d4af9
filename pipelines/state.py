"""The persistent run state: seen article URLs and content hashes, shared by scheduled crawls and
``newsclean clean --state``. No Scrapy import.

``open_state(spec)`` takes a directory (an SQLite file ``state.sqlite3`` in it, WAL mode) or a
``redis://`` URL (:mod:`pipelines.state_redis`, same API). The API:

* ``seen_url(url) -> bool``: the URL's record was written (or it was a duplicate of one).
* ``claim(content_hash, url) -> bool``: atomic check-and-add of the hash; True if it is new. The
  URL is recorded as seen either way.
* ``commit(content_hash) -> bool`` (``commit="export"`` mode only): make a claim permanent once
  its record line is written.
* ``close()``.

Commit modes: with ``commit="claim"`` (the default, what ``newsclean clean`` uses) a successful
claim is permanent at once. With ``commit="export"`` (what the crawl uses) a claim is first
*pending*: a row that also names the output files the record is about to be written to
(``targets``). ``commit(hash)`` after the line is written and flushed moves it to the permanent
tables. If the process is killed in between, the next ``open_state`` finds the pending row and
looks for a whole line carrying that content hash in its target files: found, the claim is
committed (the line was written); not found, the row is deleted (the line was not written, so the
article is fetched and written again). Either way every article is written exactly once. Only a
store opened while no other store has the file open settles pending rows (a lock file beside
the database), so a run started while another is live never touches the live run's claims.
"""

from __future__ import annotations

import fcntl
import gzip
import importlib.util
import json
import logging
import sqlite3
import sys
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

logger = logging.getLogger(__name__)

STATE_FILE = "state.sqlite3"
COMMIT_MODES = ("claim", "export")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (url TEXT PRIMARY KEY, content_hash TEXT, seen_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hashes (content_hash TEXT PRIMARY KEY, url TEXT, claimed_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending (
    content_hash TEXT PRIMARY KEY, url TEXT, targets TEXT NOT NULL, claimed_at REAL NOT NULL
) WITHOUT ROWID;
"""


class StateStore(Protocol):
    """The store API shared by the SQLite and Redis stores."""

    def seen_url(self, url: str) -> bool: ...

    def claim(self, content_hash: str, url: str) -> bool: ...

    def commit(self, content_hash: str) -> bool: ...

    def pending(self) -> int: ...

    def close(self) -> None: ...


class SQLiteStateStore:
    """Seen URLs and content hashes in one SQLite file (WAL; safe against a killed process).

    One process writes at a time (SQLite's lock, a 30 s busy timeout); calls are serialised by a
    lock, so the store can be shared by threads of one process.
    """

    def __init__(self, path: str | Path, commit: str = "claim") -> None:
        if commit not in COMMIT_MODES:
            raise ValueError(f"commit must be one of {COMMIT_MODES}, not {commit!r}")
        self.path = Path(path)
        self.commit_mode = commit
        #: Output files the records of new claims go to (set by the writer; used by recovery).
        self.targets: list[str] = []
        self.recovered = {"committed": 0, "released": 0}
        self.recovery_skipped = False
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL: a commit survives the process being killed (the WAL is in the OS's hands);
        # only a power loss can roll back the last commits.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        # Every open store holds a shared lock on ``<file>.lock``; pending claims are settled only
        # by a store that could take it exclusively, i.e. when no other store (a live run that
        # may be between writing a line and committing it) has the state open.
        self._lockfile = open(self.path.with_suffix(".lock"), "a+b")  # noqa: SIM115 (held until close)
        if self._try_exclusive():
            self.recover()
        else:
            self.recovery_skipped = True
            logger.info("state %s is open elsewhere: pending claims left to the next sole store", self.path)
        fcntl.flock(self._lockfile.fileno(), fcntl.LOCK_SH)

    # -- the store API -------------------------------------------------------------------------
    def seen_url(self, url: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM urls WHERE url = ?", (url,)).fetchone()
        return row is not None

    def claim(self, content_hash: str, url: str) -> bool:
        now = time.time()
        with self._lock, self._transaction():
            held = self._db.execute("SELECT 1 FROM hashes WHERE content_hash = ?", (content_hash,)).fetchone()
            if held is None:
                held = self._db.execute("SELECT 1 FROM pending WHERE content_hash = ?", (content_hash,)).fetchone()
            if held is not None:
                if url:
                    self._db.execute("INSERT OR IGNORE INTO urls VALUES (?, ?, ?)", (url, content_hash, now))
                return False
            if self.commit_mode == "claim":
                self._db.execute("INSERT INTO hashes VALUES (?, ?, ?)", (content_hash, url, now))
                if url:
                    self._db.execute("INSERT OR IGNORE INTO urls VALUES (?, ?, ?)", (url, content_hash, now))
            else:
                self._db.execute(
                    "INSERT INTO pending VALUES (?, ?, ?, ?)", (content_hash, url, json.dumps(self.targets), now)
                )
            return True

    def commit(self, content_hash: str) -> bool:
        """Make a pending claim permanent (its record is written). False if there is none."""
        with self._lock, self._transaction():
            return self._commit(content_hash)

    def release(self, content_hash: str) -> bool:
        """Forget a pending claim whose record will not be written. False if there is none."""
        with self._lock, self._transaction():
            cur = self._db.execute("DELETE FROM pending WHERE content_hash = ?", (content_hash,))
            return cur.rowcount > 0

    def pending(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT count(*) FROM pending").fetchone()
        return int(count)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                table: int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in ("urls", "hashes", "pending")
            }

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if not self._lockfile.closed:
                fcntl.flock(self._lockfile.fileno(), fcntl.LOCK_UN)
                self._lockfile.close()

    def _try_exclusive(self) -> bool:
        try:
            fcntl.flock(self._lockfile.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def __enter__(self) -> SQLiteStateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- recovery ------------------------------------------------------------------------------
    def recover(self) -> dict[str, int]:
        """Settle the pending claims a killed run left: commit those whose line is in one of
        their target files, release the others."""
        with self._lock:
            rows = self._db.execute("SELECT content_hash, targets FROM pending").fetchall()
        if not rows:
            return self.recovered
        by_target: dict[str, set[str]] = {}
        for content_hash, targets in rows:
            for target in json.loads(targets):
                by_target.setdefault(target, set()).add(content_hash)
        written: set[str] = set()
        for target, wanted in by_target.items():
            cut_partial_line(target)
            written |= hashes_in(target, wanted)
        with self._lock, self._transaction():
            for content_hash, _ in rows:
                if content_hash in written:
                    self._commit(content_hash)
                    self.recovered["committed"] += 1
                else:
                    self._db.execute("DELETE FROM pending WHERE content_hash = ?", (content_hash,))
                    self.recovered["released"] += 1
        logger.info(
            "state %s: %d pending claims of a previous run committed (line written), %d released",
            self.path, self.recovered["committed"], self.recovered["released"],
        )
        return self.recovered

    def _commit(self, content_hash: str) -> bool:
        row = self._db.execute("SELECT url FROM pending WHERE content_hash = ?", (content_hash,)).fetchone()
        if row is None:
            return False
        now = time.time()
        self._db.execute("DELETE FROM pending WHERE content_hash = ?", (content_hash,))
        self._db.execute("INSERT OR IGNORE INTO hashes VALUES (?, ?, ?)", (content_hash, row[0], now))
        if row[0]:
            self._db.execute("INSERT OR IGNORE INTO urls VALUES (?, ?, ?)", (row[0], content_hash, now))
        return True

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error): the check-and-add is atomic across processes."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def _lines(path: Path) -> Iterator[bytes]:
    """Whole lines of a JSONL file (plain or gzip, possibly cut short by a kill)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            try:
                for line in handle:
                    if line.endswith(b"\n"):
                        yield line
            except (EOFError, OSError, zlib.error):  # a truncated gzip stream: keep what was whole
                return
    except FileNotFoundError:
        return


def cut_partial_line(target: str | Path) -> int:
    """Cut the line a killed run left half-written at the end of a plain target file (a new run
    may never append to that file again); bytes removed. Only a store settling claims alone (no
    other run has the state open, so none writes to its files) calls it."""
    path = Path(target)
    if path.suffix == ".gz" or not path.is_file():
        return 0
    from pipelines.writer import truncate_partial_line

    removed = truncate_partial_line(path)
    if removed:
        logger.warning("%s: cut a partial last line of %d bytes left by a killed run", path, removed)
    return removed


def hashes_in(target: str | Path, wanted: Iterable[str]) -> set[str]:
    """The content hashes among ``wanted`` that a whole line of ``target`` carries."""
    needles = {f'"content_hash":"{h}"'.encode(): h for h in wanted}
    found: set[str] = set()
    for line in _lines(Path(target)):
        for needle, content_hash in needles.items():
            if needle in line:
                found.add(content_hash)
    return found


#: What shared mode (a ``redis://`` state, ``NEWSCLEAN_REDIS_URL``) says when the extra is missing.
REDIS_EXTRA_MISSING = "shared mode needs the redis extra: pip install 'newsclean[redis]'"


def require_redis(*modules: str) -> None:
    """Stop with one line (``SystemExit``, exit status 2) unless redis-py and ``modules`` import.

    The base install runs the crawl and ``newsclean clean`` without Redis; only shared mode needs
    the ``redis`` extra (redis-py, and scrapy-redis for the crawl).
    """
    for name in ("redis", *modules):
        if importlib.util.find_spec(name) is None:
            print(f"newsclean: {REDIS_EXTRA_MISSING} (no module named {name!r})", file=sys.stderr)
            raise SystemExit(2)


def open_state(spec: str | Path, commit: str = "claim") -> StateStore:
    """A directory (created if needed) gives the SQLite store; ``redis://…`` the Redis store."""
    text = str(spec)
    if text.startswith(("redis://", "rediss://", "unix://")):
        require_redis()
        from pipelines.state_redis import open_redis_state, with_options

        return open_redis_state(with_options(text, commit=commit) if commit != "claim" else text)
    return SQLiteStateStore(Path(text) / STATE_FILE, commit=commit)


__all__ = [
    "COMMIT_MODES", "REDIS_EXTRA_MISSING", "STATE_FILE", "SQLiteStateStore", "StateStore", "hashes_in", "open_state",
    "require_redis",
]
