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
    #: a URL fetched again (versions on): the same text as its last written record
    UNCHANGED = "unchanged"
    #: a URL fetched again (versions on): a small edit of its last written record
    MINOR_EDIT = "minor_edit"


#: Versions: a refetched URL's text is a new version when the estimated Jaccard similarity of its
#: word 5-shingles with the last written record's is below this (docs/dedup.md#versions).
VERSION_THRESHOLD = 0.9
#: The record keys a version (2, 3, …) ends with.
VERSION_FIELDS = ("version", "previous_content_hash")


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
                 near: str = "off", threshold: float = neardup.THRESHOLD, versions: bool = False,
                 version_threshold: float = VERSION_THRESHOLD) -> None:
        if near not in neardup.POLICIES:
            raise ValueError(f"near-duplicate policy must be one of {neardup.POLICIES}, not {near!r}")
        self.store = store
        self.targets = targets
        self.near = near
        self.threshold = threshold
        self.seen: set[bytes] = set()
        self.memory = neardup.MemoryIndex(threshold) if near != "off" and store is None else None
        self.match: neardup.Match | None = None
        #: with a store, keep one record per URL and version (see :meth:`claim`)
        self.versions = versions and store is not None
        self.version_threshold = version_threshold
        #: after :meth:`claim`: (version, previous content hash) of a NEW version 2, 3, …, else None
        self.version: tuple[int, str] | None = None
        #: after :meth:`claim` of a URL fetched again: the similarity with its last record, or None
        self.version_similarity: float | None = None

    def claim(self, record: Mapping[str, Any]) -> Verdict:
        """Check and add the record's hash (and its signature). The store records the URL as
        seen either way, so the crawl does not fetch a syndicated copy again."""
        self.version = None
        self.version_similarity = None
        if self.versions and record.get("url"):
            return self._claim_versioned(record)
        return self._claim(record)

    def _claim_versioned(self, record: Mapping[str, Any]) -> Verdict:
        """Versions on: a URL whose last written record the store knows is a refetch. The same
        text, or one at :attr:`version_threshold` similarity or over, writes nothing (the URL's
        fetch time is noted); a changed text is claimed (exact copies only: its own earlier
        version is a near copy of it) as version n + 1. A first record is noted as version 1.
        A version is noted before its claim and counts once the claim is committed, so a run
        killed in between loses nothing and writes nothing twice."""
        assert self.store is not None
        url, digest = str(record["url"]), str(record["content_hash"])
        last = self.store.url_version(url)
        sig = neardup.signature(record.get("text") or "")
        values = sig.values if sig is not None else b""
        if last is None:
            self.store.note_version(url, digest, 1, values)
            verdict = self._claim(record, known=sig)
            if verdict is not Verdict.NEW:
                self.store.forget_version(url, digest)
            return verdict
        self.match = None
        if digest == last.content_hash:
            self.store.touch(url)
            return Verdict.UNCHANGED
        if values and last.sig:
            self.version_similarity = neardup.similarity(values, last.sig)
            if self.version_similarity >= self.version_threshold:
                self.store.touch(url)
                return Verdict.MINOR_EDIT
        self.store.note_version(url, digest, last.version + 1, values)
        verdict = self._claim(record, near=False)
        if verdict is Verdict.NEW:
            self.version = (last.version + 1, last.content_hash)
        else:
            self.store.forget_version(url, digest)
            self.store.touch(url)
        return verdict

    def _claim(self, record: Mapping[str, Any], near: bool = True, known: neardup.Signature | None = None) -> Verdict:
        digest = record["content_hash"]
        key = hash_key(digest)
        earlier = key in self.seen
        self.match = None
        if earlier or self.near == "off" or not near:
            sig = None
        else:
            sig = known if known is not None else neardup.signature(record.get("text") or "")
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
        """The record to write for a NEW verdict: under ``mark``, with the two keys at its end; a
        version 2, 3, … then ends with ``version`` and ``previous_content_hash``."""
        if self.near == "mark":
            record = neardup.mark(dict(record), self.match)  # type: ignore[assignment]  # R plus two keys
        if self.version is not None:
            version, previous = self.version
            record = {**record, "version": version, "previous_content_hash": previous}  # type: ignore[assignment]
        return record

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


__all__ = ["VERSION_FIELDS", "VERSION_THRESHOLD", "Deduper", "Verdict", "hash_key", "record_id"]
