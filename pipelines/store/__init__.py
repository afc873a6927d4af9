"""The dedup store (the persistent run state): seen article URLs and content hashes, shared by scheduled crawls and
``newsclean clean --state``. No Scrapy import.

``open_state(spec)`` takes a directory (an SQLite file ``state.sqlite3`` in it, WAL mode) or a
``redis://`` URL (:mod:`pipelines.store.redis`, same API). The API:

* ``seen_url(url) -> bool``: the URL's record was written (or it was a duplicate of one).
* ``claim(content_hash, url) -> bool``: atomic check-and-add of the hash; True if it is new. The
  URL is recorded as seen either way.
* ``commit(content_hash) -> bool`` (``commit="export"`` mode only): make a claim permanent once
  its record line is written; ``release(content_hash) -> bool``: forget it (no line will be).
* ``pending() -> int``: claims of this store not committed yet; ``close()``.
* Versions (``docs/dedup.md#versions``): ``url_version(url) -> UrlVersion | None`` (the URL's last
  written record: hash, version, signature, and its last fetch time); ``note_version(url, hash,
  version, sig)`` before a claim (it counts once that claim is committed); ``forget_version(url,
  hash)`` when the claim failed; ``touch(url)`` when a refetch wrote nothing.
* ``targets`` (the output files new claims' lines go to, set by the writer) and ``recovered``
  (pending claims of a killed run settled at opening).

Both stores implement :class:`DedupStore`; :class:`pipelines.run.dedup.Deduper` is the one
claim → write → commit loop over them, used by the crawl and by ``newsclean clean``.

Commit modes: with ``commit="claim"`` (the default) a successful claim is permanent at once.
With ``commit="export"`` (what the crawl and ``newsclean clean --state`` use) a claim is first
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

from pathlib import Path

from pipelines.store.base import (
    COMMIT_MODES,
    REDIS_EXTRA_MISSING,
    DedupStore,
    StateLost,
    StateUnavailable,
    UrlVersion,
    cut_partial_line,
    hashes_in,
    require_redis,
)
from pipelines.store.sqlite import STATE_FILE, SQLiteStateStore


def open_state(spec: str | Path, commit: str = "claim") -> DedupStore:
    """A directory (created if needed) gives the SQLite store; ``redis://…`` the Redis store."""
    text = str(spec)
    if text.startswith(("redis://", "rediss://", "unix://")):
        require_redis()
        from pipelines.store.redis import open_redis_state, with_options

        return open_redis_state(with_options(text, commit=commit) if commit != "claim" else text)
    return SQLiteStateStore(Path(text) / STATE_FILE, commit=commit)


__all__ = [
    "COMMIT_MODES", "REDIS_EXTRA_MISSING", "STATE_FILE", "DedupStore", "SQLiteStateStore", "StateLost",
    "StateUnavailable", "UrlVersion", "cut_partial_line", "hashes_in", "open_state", "require_redis",
]
