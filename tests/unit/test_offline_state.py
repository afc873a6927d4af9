"""``newsclean clean --state``: the dedup store shared with scheduled crawls and other runs."""

from __future__ import annotations

from pathlib import Path

from support.offline import FERRY, LIBRARY, MARKET, read_jsonl
from test_cli import newsclean


def test_state_shared_between_runs_and_with_a_crawl(tmp_path: Path) -> None:
    from pipelines.store import open_state

    state = tmp_path / "state"
    first = tmp_path / "first.jsonl"
    assert newsclean("clean", str(FERRY), "-o", str(first), "--state", str(state), "-q").returncode == 0
    [ferry] = read_jsonl(first)
    # a scheduled crawl claims the library article's text
    library = tmp_path / "library.jsonl"
    assert newsclean("clean", str(LIBRARY), "-o", str(library), "-q").returncode == 0
    [library_record] = read_jsonl(library)
    store = open_state(state)
    assert store.claim(library_record["content_hash"], "https://gazette.example/culture/library-photographs")
    store.close()

    second = tmp_path / "second.jsonl"
    rejects = tmp_path / "rejects.jsonl"
    result = newsclean("clean", str(FERRY), str(LIBRARY), str(MARKET), "-o", str(second), "--state", str(state),
                       "--rejects", str(rejects), "--ordered", "-q")
    assert result.returncode == 0, result.stderr
    assert [r["source"] for r in read_jsonl(second)] == [str(MARKET)]
    assert [(r["source"], r["reason"], r["detail"]) for r in read_jsonl(rejects)] == [
        (str(FERRY), "duplicate_hash", "claimed in --state"), (str(LIBRARY), "duplicate_hash", "claimed in --state")]
    store = open_state(state)
    assert not store.claim(ferry["content_hash"], "")
    assert store.pending() == 0
    store.close()
