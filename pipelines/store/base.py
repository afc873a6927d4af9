"""What the SQLite and Redis dedup stores share: the protocol, the commit modes, and reading a
store's target files back (whole lines only) when claims left by a killed run are settled."""

from __future__ import annotations

import gzip
import importlib.util
import logging
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pipelines.run.neardup import Match, Signature

logger = logging.getLogger(__name__)

COMMIT_MODES = ("claim", "export")


class StateUnavailable(Exception):
    """The state can no longer be read or written (its server stayed unreachable past the retry
    bound, or came back empty): the run stops with this one line and exit code 1 (OUTPUT)."""


class StateLost(StateUnavailable):
    """The state is empty although it was in use (its marker is gone) or although the outputs
    already hold records: writing on would write every earlier article again."""


@dataclass(frozen=True)
class UrlVersion:
    """The last written record of a URL (its content hash, version and MinHash signature, empty
    for a text without a word) and when the URL was last fetched (epoch seconds): the later of
    that record's claim and the last refetch that wrote nothing."""

    content_hash: str
    version: int
    sig: bytes
    fetched_at: float


class DedupStore(Protocol):
    """What both stores (SQLite, Redis) offer and what both callers (the crawl, ``newsclean
    clean``) use; the API and the commit modes are described in :mod:`pipelines.store`."""

    #: ``claim`` or ``export`` (see :data:`COMMIT_MODES`).
    commit_mode: str
    #: Output files the records of new claims go to: set by the writer before it claims, read
    #: when the pending claims of a killed run are settled (a whole line with the hash there
    #: means the record was written).
    targets: list[str]
    #: Pending claims of a killed run settled when this store opened: ``committed``, ``released``.
    recovered: dict[str, int]

    def seen_url(self, url: str) -> bool: ...

    def claim(self, content_hash: str, url: str) -> bool: ...

    def claim_near(
        self, content_hash: str, url: str, sig: Signature, first_id: str, policy: str, threshold: float,
    ) -> tuple[bool, Match | None]: ...

    def commit(self, content_hash: str) -> bool: ...

    def url_version(self, url: str) -> UrlVersion | None: ...

    def note_version(self, url: str, content_hash: str, version: int, sig: bytes) -> None: ...

    def forget_version(self, url: str, content_hash: str) -> None: ...

    def touch(self, url: str) -> None: ...

    def release(self, content_hash: str) -> bool: ...

    def pending(self) -> int: ...

    def close(self) -> None: ...


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
    from pipelines.io.writer import truncate_partial_line

    removed = truncate_partial_line(path)
    if removed:
        logger.warning("%s: cut a partial last line of %d bytes left by a killed run", path, removed)
    return removed


def records_in(target: str | Path) -> int:
    """Whole lines in ``target`` (0 if it does not exist)."""
    return sum(1 for _ in _lines(Path(target)))


def hashes_in(target: str | Path, wanted: Iterable[str]) -> set[str]:
    """The content hashes among ``wanted`` that a whole line of ``target`` carries."""
    needles = {f'"content_hash":"{h}"'.encode(): h for h in wanted}
    found: set[str] = set()
    for line in _lines(Path(target)):
        for needle, content_hash in needles.items():
            if needle in line:
                found.add(content_hash)
    return found


def near_algorithm_checked(stored: str | None, where: str) -> str:
    """The signature algorithm of this build; a warning when the store's signatures were made
    with another (they are then compared all the same, with less meaning: start a new state)."""
    from pipelines.run.neardup import algorithm

    mine = algorithm()
    if stored is not None and stored != mine:
        logger.warning("state %s holds near-duplicate signatures of %s, this build makes %s: "
                       "near-duplicates of older records may be missed (start a new state to fix)",
                       where, stored, mine)
    return mine


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


__all__ = [
    "COMMIT_MODES", "REDIS_EXTRA_MISSING", "DedupStore", "StateLost", "StateUnavailable", "UrlVersion",
    "cut_partial_line", "hashes_in", "near_algorithm_checked", "records_in", "require_redis",
]
