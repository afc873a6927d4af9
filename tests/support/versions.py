"""One scenario for the versions of a URL (docs/dedup.md#versions), run over each store: the
SQLite store in tests/unit/test_store_versions.py, the Redis store in tests/integration/test_redis.py."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from pipelines.run import neardup
from pipelines.run.dedup import VERSION_THRESHOLD, Deduper, Verdict
from pipelines.store import DedupStore

URL = "https://news.example/articles/a.html"
WORDS = [f"w{i}" for i in range(2000)]


def text_of(words: list[str]) -> str:
    return " ".join(words)


def words(seed: int, n: int) -> list[str]:
    return random.Random(seed).choices(WORDS, k=n)


def record(text: str, url: str = URL) -> dict[str, Any]:
    digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return {"id": hashlib.sha256(url.encode()).hexdigest()[:32], "url": url, "text": text, "content_hash": digest}


def run_versions_scenario(tmp: Path, open_store: Callable[[], DedupStore], kill: Callable[[DedupStore], None]) -> None:
    """First record, unchanged, typo, two versions, then a version claimed and killed before and
    after its line: each reopened store counts exactly what was written."""
    out = tmp / "out.jsonl"

    def written() -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in out.read_bytes().splitlines()] if out.exists() else []

    def write(rec: dict[str, Any]) -> None:
        with out.open("ab") as handle:
            handle.write(orjson.dumps(rec) + b"\n")

    store = open_store()
    store.targets = [str(out)]
    dedup = Deduper(store, lambda: [str(out)], near="drop", versions=True)
    body = words(1, 300)
    first = record(text_of(body))
    assert dedup.write(first, write) is Verdict.NEW
    assert "version" not in written()[0]  # a first record has no version keys
    last = store.url_version(URL)
    assert last is not None and (last.content_hash, last.version) == (first["content_hash"], 1)
    fetched = last.fetched_at

    assert dedup.write(record(text_of(body)), write) is Verdict.UNCHANGED
    typo = [*body[:150], "typo", *body[151:]]
    assert dedup.write(record(text_of(typo)), write) is Verdict.MINOR_EDIT
    assert dedup.version_similarity is not None and dedup.version_similarity >= VERSION_THRESHOLD
    assert len(written()) == 1
    touched = store.url_version(URL)
    assert touched is not None and touched.version == 1 and touched.fetched_at >= fetched

    # the last 15 % rewritten: a new version, though a near-duplicate (over 0.6) of the first
    second = record(text_of([*body[:255], *words(2, 45)]))
    sig1, sig2 = neardup.signature(first["text"]), neardup.signature(second["text"])
    assert sig1 is not None and sig2 is not None
    assert neardup.THRESHOLD <= neardup.similarity(sig1.values, sig2.values) < VERSION_THRESHOLD
    assert dedup.write(second, write) is Verdict.NEW
    assert written()[-1]["version"] == 2 and written()[-1]["previous_content_hash"] == first["content_hash"]
    assert list(written()[-1])[-2:] == ["version", "previous_content_hash"]
    third = record(text_of([*body[:200], *words(3, 100)]))
    assert dedup.write(third, write) is Verdict.NEW
    assert (written()[-1]["version"], written()[-1]["previous_content_hash"]) == (3, second["content_hash"])
    # a different URL with the same text as version 3: an exact duplicate, no version noted for it
    other = "https://news.example/articles/b.html"
    assert dedup.write(record(third["text"], other), write) is Verdict.DUPLICATE_IN_RUN
    assert store.url_version(other) is None

    # version 4 claimed, then the process is killed before its line is written: nothing counts
    fourth = record(text_of([*body[:100], *words(4, 200)]))
    assert dedup.claim(fourth) is Verdict.NEW and dedup.version == (4, third["content_hash"])
    kill(store)
    store = open_store()
    now = store.url_version(URL)
    assert now is not None and (now.version, now.content_hash) == (3, third["content_hash"])
    # fetched again: version 4 again, and this time killed after its line was written
    dedup = Deduper(store, lambda: [str(out)], near="drop", versions=True)
    assert dedup.claim(fourth) is Verdict.NEW and dedup.version == (4, third["content_hash"])
    write(dedup.finish(fourth))
    kill(store)
    store = open_store()
    try:
        now = store.url_version(URL)
        assert now is not None and (now.version, now.content_hash) == (4, fourth["content_hash"])
        dedup = Deduper(store, lambda: [str(out)], near="drop", versions=True)
        assert dedup.write(record(fourth["text"]), write) is Verdict.UNCHANGED
        versions = [r.get("version", 1) for r in written() if r["url"] == URL]
        assert versions == [1, 2, 3, 4]
    finally:
        store.close()
