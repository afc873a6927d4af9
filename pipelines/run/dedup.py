"""The one dedup step of both paths: claim a record's content hash, write its line, commit.

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

from pipelines.store.base import DedupStore

R = TypeVar("R", bound=Mapping[str, Any])


class Verdict(enum.Enum):
    NEW = "new"
    #: the same text was written earlier by this run
    DUPLICATE_IN_RUN = "duplicate_in_run"
    #: the state store holds the hash (another run, a crawl, or a claim not committed yet)
    DUPLICATE_IN_STORE = "duplicate_in_store"


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
    store before every claim (the crawl's feed files change with batches).
    """

    def __init__(self, store: DedupStore | None, targets: Callable[[], list[str]] | None = None) -> None:
        self.store = store
        self.targets = targets
        self.seen: set[bytes] = set()

    def claim(self, record: Mapping[str, Any]) -> Verdict:
        """Check and add the record's hash. The store records the URL as seen either way, so
        the crawl does not fetch a syndicated copy again."""
        digest = record["content_hash"]
        key = hash_key(digest)
        earlier = key in self.seen
        self.seen.add(key)
        if self.store is not None:
            if self.targets is not None:
                self.store.targets = self.targets()
            if not self.store.claim(digest, record.get("url") or ""):
                return Verdict.DUPLICATE_IN_RUN if earlier else Verdict.DUPLICATE_IN_STORE
        return Verdict.DUPLICATE_IN_RUN if earlier else Verdict.NEW

    def commit(self, content_hash: str) -> bool:
        """The record's line is written: make its claim permanent. False if there was none."""
        return self.store.commit(content_hash) if self.store is not None else False

    def release(self, content_hash: str) -> bool:
        """The record's line could not be written: forget its claim, so a later record (or run)
        with this text is written. False if the store held no pending claim."""
        self.seen.discard(hash_key(content_hash))
        return self.store.release(content_hash) if self.store is not None else False

    def restore(self, digest: str, url: str) -> None:
        """A record already in the output (``--resume``): written, so claimed and committed."""
        self.seen.add(hash_key(digest))
        if self.store is not None and self.store.claim(digest, url):
            self.store.commit(digest)

    def write(self, record: R, write_line: Callable[[R], object]) -> Verdict:
        """Claim, write the line if the hash is new, commit: the offline run's whole step."""
        verdict = self.claim(record)
        if verdict is Verdict.NEW:
            write_line(record)
            self.commit(record["content_hash"])
        return verdict


__all__ = ["Deduper", "Verdict", "hash_key"]
