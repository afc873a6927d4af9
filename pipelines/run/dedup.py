"""The one dedup step of both paths: claim a record's content hash, write its line, commit.

With a near-duplicate policy (``drop``, ``mark``; :mod:`pipelines.run.neardup`) the claim also
looks for a first copy whose text is nearly the same (in the store when there is one, so every
run, worker and shard sees every signature; else in memory for the run). The first copy claimed
wins: for a given input order the same record is kept.

The crawl's :class:`~pipelines.item_pipelines.DedupPipeline` claims in ``process_item`` and
commits once the feed exporter wrote the line (``item_scraped``); ``newsclean clean`` calls
:meth:`Deduper.write`, which does the three in a row. With a store opened in ``export`` commit
mode, a claim stays pending until its line is written, so a run killed in between neither loses
the record nor writes it twice (the store settles pending claims from its ``targets`` files).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pipelines.run import neardup
from pipelines.store.base import DedupStore

R = TypeVar("R", bound=Mapping[str, Any])


class Verdict(enum.Enum):
    NEW = "new"
    #: the same text was written earlier by this run
    DUPLICATE_IN_RUN = "duplicate_in_run"
    #: the state store holds the hash (another run, a crawl, or a claim not committed yet)
    DUPLICATE_IN_STORE = "duplicate_in_store"
    #: nearly the same text as a first copy claimed earlier (policy ``drop``)
    NEAR_DUPLICATE = "near_duplicate"


def record_id(record: Mapping[str, Any]) -> str:
    """The id ``near_duplicate_of`` names: the record's ``id`` (its content hash for a record without
    one: a JSONL line from elsewhere handed to the step as it is)."""
    value = record.get("id")
    return value if isinstance(value, str) and value else str(record["content_hash"])


def hash_key(digest: str) -> bytes:
    """A content hash as the bytes kept in memory (32 for ``sha256:<hex>``)."""
    _algorithm, _, hexdigest = digest.partition(":")
    try:
        return bytes.fromhex(hexdigest)
    except ValueError:
        return digest.encode()


class Deduper:
    """Content hashes written by this run (in memory), and those of the state store if any.

    ``targets`` gives the files a new record's line is about to go to; it is handed to the
    store before every claim (the crawl's feed files change with batches). ``near`` is the
    near-duplicate policy; after :meth:`claim`, :attr:`match` is the first copy the record is
    a near-duplicate of (or None).
    """

    def __init__(self, store: DedupStore | None, targets: Callable[[], list[str]] | None = None,
                 near: str = "off", threshold: float = neardup.THRESHOLD) -> None:
        if near not in neardup.POLICIES:
            raise ValueError(f"near-duplicate policy must be one of {neardup.POLICIES}, not {near!r}")
        self.store = store
        self.targets = targets
        self.near = near
        self.threshold = threshold
        self.seen: set[bytes] = set()
        self.memory = neardup.MemoryIndex(threshold) if near != "off" and store is None else None
        self.match: neardup.Match | None = None

    def claim(self, record: Mapping[str, Any]) -> Verdict:
        """Check and add the record's hash (and its signature). The store records the URL as
        seen either way, so the crawl does not fetch a syndicated copy again."""
        digest = record["content_hash"]
        key = hash_key(digest)
        earlier = key in self.seen
        self.match = None
        sig = None if earlier or self.near == "off" else neardup.signature(record.get("text") or "")
        if self.store is not None:
            self.seen.add(key)
            if self.targets is not None:
                self.store.targets = self.targets()
            url = record.get("url") or ""
            if sig is None:
                claimed = self.store.claim(digest, url)
            else:
                claimed, self.match = self.store.claim_near(
                    digest, url, sig, record_id(record), self.near, self.threshold)
            if not claimed:
                if self.match is not None:
                    return Verdict.NEAR_DUPLICATE
                return Verdict.DUPLICATE_IN_RUN if earlier else Verdict.DUPLICATE_IN_STORE
            return Verdict.DUPLICATE_IN_RUN if earlier else Verdict.NEW
        if earlier:
            return Verdict.DUPLICATE_IN_RUN
        if sig is not None and self.memory is not None:
            self.match = self.memory.find(sig)
            if self.match is None:
                self.memory.add(sig, record_id(record), digest)
            elif self.near == "drop":
                return Verdict.NEAR_DUPLICATE
        self.seen.add(key)
        return Verdict.NEW

    def finish(self, record: R) -> R:
        """The record to write for a NEW verdict: under ``mark``, with the two keys at its end."""
        if self.near != "mark":
            return record
        return neardup.mark(dict(record), self.match)  # type: ignore[return-value]  # R plus two keys

    def commit(self, content_hash: str) -> bool:
        """The record's line is written: make its claim permanent. False if there was none."""
        return self.store.commit(content_hash) if self.store is not None else False

    def release(self, content_hash: str) -> bool:
        """The record's line could not be written: forget its claim, so a later record (or run)
        with this text is written. False if the store held no pending claim."""
        self.seen.discard(hash_key(content_hash))
        if self.memory is not None:
            self.memory.discard(content_hash)
        return self.store.release(content_hash) if self.store is not None else False

    def restore(self, digest: str, url: str, record: Mapping[str, Any] | None = None) -> None:
        """A record already in the output (``--resume``): written, so claimed and committed (and,
        for a first copy, its signature known to this run when there is no store)."""
        self.seen.add(hash_key(digest))
        if self.store is not None and self.store.claim(digest, url):
            self.store.commit(digest)
        if (self.memory is not None and record is not None and not record.get("near_duplicate_of")
                and isinstance(record.get("text"), str)):
            sig = neardup.signature(record["text"])
            if sig is not None:
                self.memory.add(sig, record_id(record), digest)

    def write(self, record: R, write_line: Callable[[R], object]) -> Verdict:
        """Claim, write the line if the hash is new, commit: the offline run's whole step."""
        verdict = self.claim(record)
        if verdict is Verdict.NEW:
            write_line(self.finish(record))
            self.commit(record["content_hash"])
        return verdict


__all__ = ["Deduper", "Verdict", "hash_key", "record_id"]
