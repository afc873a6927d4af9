"""The dedup store of one machine: an SQLite file (WAL mode) in a folder. No Scrapy import;
the API and the commit modes are described in :mod:`pipelines.store`."""


from __future__ import annotations

import fcntl
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path

from pipelines.run.neardup import Match, Signature, best
from pipelines.store.base import COMMIT_MODES, UrlVersion, cut_partial_line, hashes_in, near_algorithm_checked

logger = logging.getLogger(__name__)

STATE_FILE = "state.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS urls (url TEXT PRIMARY KEY, content_hash TEXT, seen_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hashes (content_hash TEXT PRIMARY KEY, url TEXT, claimed_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending (
    content_hash TEXT PRIMARY KEY, url TEXT, targets TEXT NOT NULL, claimed_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS near_sigs (
    ref INTEGER PRIMARY KEY, content_hash TEXT NOT NULL UNIQUE, first_id TEXT NOT NULL, sig BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS near_bands (
    band INTEGER NOT NULL, ref INTEGER NOT NULL, PRIMARY KEY (band, ref)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS versions (
    url TEXT NOT NULL, content_hash TEXT NOT NULL, version INTEGER NOT NULL, noted_at REAL NOT NULL,
    sig BLOB NOT NULL, PRIMARY KEY (url, content_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fetched (url TEXT PRIMARY KEY, fetched_at REAL NOT NULL) WITHOUT ROWID;
"""


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
        self._near_checked = False
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

    def claim_near(
        self, content_hash: str, url: str, sig: Signature, first_id: str, policy: str, threshold: float,
    ) -> tuple[bool, Match | None]:
        """:meth:`claim` with near-duplicate detection, in one transaction.

        A held hash gives ``(False, None)``. Else the signatures of the first copies sharing an
        LSH band with ``sig`` are compared: a match at ``threshold`` or over gives ``(False,
        match)`` under ``drop`` (nothing claimed; the URL is recorded as seen) and ``(True,
        match)`` under ``mark`` (the hash is claimed, the signature not kept: the index holds
        first copies only). No match: the hash is claimed and ``sig`` kept under ``first_id``,
        tied to the claim (a released claim takes its signature with it).
        """
        now = time.time()
        with self._lock, self._transaction():
            self._check_algorithm()
            held = self._db.execute("SELECT 1 FROM hashes WHERE content_hash = ?", (content_hash,)).fetchone()
            if held is None:
                held = self._db.execute("SELECT 1 FROM pending WHERE content_hash = ?", (content_hash,)).fetchone()
            if held is not None:
                if url:
                    self._db.execute("INSERT OR IGNORE INTO urls VALUES (?, ?, ?)", (url, content_hash, now))
                return False, None
            bands = [int.from_bytes(key, "big", signed=True) for key in sig.bands]
            rows = self._db.execute(
                "SELECT s.first_id, s.sig FROM near_sigs s WHERE s.ref IN (SELECT ref FROM near_bands "
                f"WHERE band IN ({','.join('?' * len(bands))})) ORDER BY s.ref", bands,
            ).fetchall()
            match = best(rows, sig.values, threshold)
            if match is not None and policy == "drop":
                if url:
                    self._db.execute("INSERT OR IGNORE INTO urls VALUES (?, ?, ?)", (url, content_hash, now))
                return False, match
            if self.commit_mode == "claim":
                self._db.execute("INSERT INTO hashes VALUES (?, ?, ?)", (content_hash, url, now))
                if url:
                    self._db.execute("INSERT OR IGNORE INTO urls VALUES (?, ?, ?)", (url, content_hash, now))
            else:
                self._db.execute(
                    "INSERT INTO pending VALUES (?, ?, ?, ?)", (content_hash, url, json.dumps(self.targets), now)
                )
            if match is None:
                cur = self._db.execute(
                    "INSERT OR REPLACE INTO near_sigs (content_hash, first_id, sig) VALUES (?, ?, ?)",
                    (content_hash, first_id, sig.values),
                )
                self._db.executemany("INSERT OR IGNORE INTO near_bands VALUES (?, ?)",
                                     [(band, cur.lastrowid) for band in bands])
            return True, match

    # -- versions (docs/dedup.md#versions) -------------------------------------------------------
    def url_version(self, url: str) -> UrlVersion | None:
        """The URL's last written record: the highest noted version whose hash is committed
        for this URL (a noted version whose claim was released, or never made, does not count)."""
        with self._lock:
            row = self._db.execute(
                "SELECT v.content_hash, v.version, v.sig, v.noted_at FROM versions v JOIN hashes h "
                "ON h.content_hash = v.content_hash AND h.url = v.url WHERE v.url = ? "
                "ORDER BY v.version DESC LIMIT 1", (url,),
            ).fetchone()
            if row is None:
                return None
            touched = self._db.execute("SELECT fetched_at FROM fetched WHERE url = ?", (url,)).fetchone()
        fetched = max(float(row[3]), float(touched[0]) if touched else 0.0)
        return UrlVersion(str(row[0]), int(row[1]), bytes(row[2]), fetched)

    def note_version(self, url: str, content_hash: str, version: int, sig: bytes) -> None:
        """Note the version a record is about to be claimed as (before its claim: it counts once
        the claim is committed, so a killed run leaves nothing that counts)."""
        with self._lock, self._transaction():
            self._db.execute("INSERT OR REPLACE INTO versions VALUES (?, ?, ?, ?, ?)",
                             (url, content_hash, version, time.time(), sig))

    def forget_version(self, url: str, content_hash: str) -> None:
        """Forget a noted version whose claim failed (its hash was held)."""
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM versions WHERE url = ? AND content_hash = ?", (url, content_hash))

    def touch(self, url: str) -> None:
        """The URL was fetched again and nothing was written: its fetch time is now."""
        with self._lock, self._transaction():
            self._db.execute("INSERT OR REPLACE INTO fetched VALUES (?, ?)", (url, time.time()))

    def _check_algorithm(self) -> None:
        if self._near_checked:
            return
        self._near_checked = True
        row = self._db.execute("SELECT value FROM meta WHERE key = 'near_algorithm'").fetchone()
        stored = near_algorithm_checked(row[0] if row else None, str(self.path))
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('near_algorithm', ?)", (stored,))

    def commit(self, content_hash: str) -> bool:
        """Make a pending claim permanent (its record is written). False if there is none."""
        with self._lock, self._transaction():
            return self._commit(content_hash)

    def release(self, content_hash: str) -> bool:
        """Forget a pending claim whose record will not be written. False if there is none."""
        with self._lock, self._transaction():
            return self._release(content_hash)

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

    def near_counts(self) -> dict[str, int]:
        """Near-duplicate signatures kept (first copies) and their band rows."""
        with self._lock:
            return {
                table: int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in ("near_sigs", "near_bands")
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
                    self._release(content_hash)
                    self.recovered["released"] += 1
        logger.info(
            "state %s: %d pending claims of a previous run committed (line written), %d released",
            self.path, self.recovered["committed"], self.recovered["released"],
        )
        return self.recovered

    def _release(self, content_hash: str) -> bool:
        """Forget a pending claim and the signature it kept (its band rows point nowhere now:
        lookups join them to signatures, so they are ignored)."""
        cur = self._db.execute("DELETE FROM pending WHERE content_hash = ?", (content_hash,))
        if cur.rowcount > 0:
            self._db.execute("DELETE FROM near_sigs WHERE content_hash = ?", (content_hash,))
            return True
        return False

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


__all__ = ["STATE_FILE", "SQLiteStateStore"]
