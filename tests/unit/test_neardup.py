"""Near-duplicate dedup (``pipelines.run.neardup``): the policies on a real fixture pair, offline and
in the crawl's pipeline, persisted in the SQLite state across runs and shards, and the store's
exactly-once rules for signatures (a released claim takes its signature with it)."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler
from support.offline import read_jsonl
from test_cli import newsclean

from pipelines.core import Page
from pipelines.core.cleaner import default_cleaner
from pipelines.core.record import FIELDS, dumps
from pipelines.io.inputs import in_shard
from pipelines.item_pipelines import DedupPipeline, DuplicateDrop
from pipelines.run import neardup
from pipelines.run.offline import CleanJob, RunOptions, Stats, run_clean
from pipelines.store import SQLiteStateStore, open_state

NEAR = Path(__file__).resolve().parents[2] / "fixtures" / "neardup"
ORIGINAL, SYNDICATED, RELATED = NEAR / "original.html", NEAR / "syndicated.html", NEAR / "related.html"


def clean(tmp_path: Path, inputs: list[Path], near: str, name: str = "out", state: Path | None = None,
          jobs: int = 1) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Stats]:
    out, rejects = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.rejects.jsonl"
    store = open_state(state, commit="export") if state is not None else None
    try:
        job = CleanJob(inputs=[str(p) for p in inputs], output=str(out), rejects=str(rejects), near=near, state=store,
                       run=RunOptions(jobs=jobs, ordered=True, progress=False, chunk_size=1))
        stats = run_clean(job)
    finally:
        if store is not None:
            store.close()
    return read_jsonl(out), read_jsonl(rejects), stats


def names(records: list[dict[str, Any]]) -> list[str]:
    return [Path(r["source"]).name for r in records]


def record_of(path: Path) -> dict[str, Any]:
    result = default_cleaner().clean(Page(path.read_bytes(), url=f"https://x.example/{path.name}"))
    assert isinstance(result, dict)
    return dict(result)


# -- the signature ---------------------------------------------------------------------------------
def test_the_fixture_pair_is_near_and_the_negative_is_not() -> None:
    original, syndicated, related = (record_of(p) for p in (ORIGINAL, SYNDICATED, RELATED))
    assert original["content_hash"] != syndicated["content_hash"]  # not an exact copy
    sigs = [neardup.signature(r["text"]) for r in (original, syndicated, related)]
    assert all(s is not None for s in sigs)
    a, b, c = (s for s in sigs if s is not None)
    assert neardup.similarity(a.values, b.values) >= neardup.THRESHOLD and set(a.bands) & set(b.bands)
    assert neardup.similarity(a.values, c.values) < neardup.THRESHOLD  # one quoted paragraph in common


def test_signatures_are_stable_and_sized() -> None:
    text = "A harbour ferry returned to service on Monday after a winter of repairs in dry dock."
    first, again = neardup.signature(text), neardup.signature(text)
    assert first is not None and first == again
    assert len(first.values) == neardup.SIGNATURE_BYTES and len(first.bands) == neardup.BANDS
    assert neardup.signature("  … — ") is None
    assert neardup.words_of("東京都 Ferry-Boat") == ["東", "京", "都", "ferry", "boat"]


# -- the three policies, offline -------------------------------------------------------------------
def test_drop_writes_the_first_copy_and_rejects_the_other(tmp_path: Path) -> None:
    records, rejects, stats = clean(tmp_path, [ORIGINAL, SYNDICATED, RELATED], "drop")
    assert names(records) == ["original.html", "related.html"]
    assert [r["reason"] for r in rejects] == ["near_duplicate"]
    assert records[0]["id"] in rejects[0]["detail"]
    assert stats.dropped["near_duplicate"] == 1 and stats.balanced
    assert all(tuple(r) == FIELDS for r in records)  # no new key under drop


def test_mark_writes_both_and_names_the_first_copy(tmp_path: Path) -> None:
    records, rejects, stats = clean(tmp_path, [ORIGINAL, SYNDICATED, RELATED], "mark")
    assert names(records) == ["original.html", "syndicated.html", "related.html"] and rejects == []
    for r in records:
        assert tuple(r) == (*FIELDS, *neardup.MARK_FIELDS)  # the two keys at the end, on every record
    original, syndicated, related = records
    assert syndicated["near_duplicate_of"] == original["id"]
    assert neardup.THRESHOLD <= syndicated["near_duplicate_similarity"] <= 1.0
    assert original["near_duplicate_of"] is None and related["near_duplicate_of"] is None
    assert stats.near_marked == 1 and stats.as_dict()["offline/near_duplicates_marked"] == 1


def test_off_keeps_both_as_before(tmp_path: Path) -> None:
    records, rejects, _ = clean(tmp_path, [ORIGINAL, SYNDICATED, RELATED], "off")
    assert names(records) == ["original.html", "syndicated.html", "related.html"] and rejects == []
    assert all(tuple(r) == FIELDS for r in records)


def test_the_first_copy_in_input_order_wins_with_workers(tmp_path: Path) -> None:
    forward, _, _ = clean(tmp_path, [ORIGINAL, SYNDICATED], "drop", name="forward", jobs=2)
    backward, _, _ = clean(tmp_path, [SYNDICATED, ORIGINAL], "drop", name="backward", jobs=2)
    assert names(forward) == ["original.html"] and names(backward) == ["syndicated.html"]


def test_the_cli_flag(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    run = newsclean("clean", str(ORIGINAL), str(SYNDICATED), "-o", str(out), "-j", "1", "-q", "--ordered",
                    "--near-duplicates", "mark")
    assert run.returncode == 0, run.stderr
    assert [r["near_duplicate_of"] is not None for r in read_jsonl(out)] == [False, True]
    bad = newsclean("clean", str(ORIGINAL), "-o", str(out), "--near-duplicates", "maybe")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr


# -- persisted in the state ------------------------------------------------------------------------
def test_a_second_run_sees_the_first_runs_signatures(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first, _, _ = clean(tmp_path, [ORIGINAL], "drop", name="first", state=state)
    assert names(first) == ["original.html"]
    second, rejects, _ = clean(tmp_path, [SYNDICATED, RELATED], "drop", name="second", state=state)
    assert names(second) == ["related.html"] and [r["reason"] for r in rejects] == ["near_duplicate"]
    third, _, _ = clean(tmp_path, [SYNDICATED], "mark", name="third", state=state)
    assert third[0]["near_duplicate_of"] == first[0]["id"]


def split_count(*paths: Path) -> int:
    """A shard count that puts each of ``paths`` in a shard of its own (the shard of a source is a
    hash of its path, so it depends on where the checkout is)."""
    for count in range(len(paths), 40):
        if len({zlib.crc32(str(p).encode()) % count for p in paths}) == len(paths):
            return count
    raise AssertionError("no shard count splits the paths")


def test_shards_sharing_a_state_write_one_copy(tmp_path: Path) -> None:
    state = tmp_path / "state"
    count = split_count(ORIGINAL, SYNDICATED)
    assert not in_shard(str(ORIGINAL), zlib.crc32(str(SYNDICATED).encode()) % count, count)  # cross-shard pair
    written = []
    for index in range(1, count + 1):
        out = tmp_path / f"shard{index}.jsonl"
        run = newsclean("clean", str(ORIGINAL), str(SYNDICATED), str(RELATED), "-o", str(out), "-j", "1", "-q",
                        "--shard", f"{index}/{count}", "--state", str(state))
        assert run.returncode == 0, run.stderr
        written += names(read_jsonl(out))
    assert "related.html" in written and len(written) == 2
    assert len({"original.html", "syndicated.html"} & set(written)) == 1


# -- the store's rules -----------------------------------------------------------------------------
def sig_of(path: Path) -> tuple[str, neardup.Signature]:
    record = record_of(path)
    sig = neardup.signature(record["text"])
    assert sig is not None
    return record["content_hash"], sig


def test_store_claims_near_in_one_step(tmp_path: Path) -> None:
    (h1, s1), (h2, s2), (h3, s3) = (sig_of(p) for p in (ORIGINAL, SYNDICATED, RELATED))
    with SQLiteStateStore(tmp_path / "s.sqlite3") as store:
        assert store.claim_near(h1, "https://a/1", s1, "first", "drop", neardup.THRESHOLD) == (True, None)
        assert store.claim_near(h1, "https://a/1b", s1, "again", "drop", neardup.THRESHOLD) == (False, None)
        claimed, match = store.claim_near(h2, "https://b/1", s2, "second", "drop", neardup.THRESHOLD)
        assert not claimed and match is not None and match.first_id == "first"
        assert store.seen_url("https://b/1")  # a dropped copy's URL is not fetched again
        claimed, match = store.claim_near(h2, "https://b/1", s2, "second", "mark", neardup.THRESHOLD)
        assert claimed and match is not None and match.first_id == "first"
        assert store.claim_near(h3, "https://a/2", s3, "third", "drop", neardup.THRESHOLD) == (True, None)
        assert store.near_counts()["near_sigs"] == 2  # first copies only: the marked one is not an original


def test_a_released_claim_takes_its_signature_with_it(tmp_path: Path) -> None:
    (h1, s1), (h2, s2) = sig_of(ORIGINAL), sig_of(SYNDICATED)
    with SQLiteStateStore(tmp_path / "s.sqlite3", commit="export") as store:
        assert store.claim_near(h1, "https://a/1", s1, "first", "drop", neardup.THRESHOLD) == (True, None)
        assert store.release(h1)
        assert store.claim_near(h2, "https://b/1", s2, "second", "drop", neardup.THRESHOLD) == (True, None)


def test_a_killed_runs_unwritten_claim_frees_its_near_duplicates(tmp_path: Path) -> None:
    """A pending claim whose line never reached the output is released at the next opening, its
    signature too: the near-duplicate that comes next is written, so the article is not lost."""
    (h1, s1), (h2, s2) = sig_of(ORIGINAL), sig_of(SYNDICATED)
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"")
    path = tmp_path / "s.sqlite3"
    killed = SQLiteStateStore(path, commit="export")
    killed.targets = [str(out)]
    assert killed.claim_near(h1, "https://a/1", s1, "first", "drop", neardup.THRESHOLD) == (True, None)
    killed.close()  # (a SIGKILL leaves the same rows: commits are per call)
    with SQLiteStateStore(path, commit="export") as store:
        assert store.recovered == {"committed": 0, "released": 1}
        assert store.claim_near(h2, "https://b/1", s2, "second", "drop", neardup.THRESHOLD) == (True, None)


def test_a_killed_runs_written_claim_keeps_its_signature(tmp_path: Path) -> None:
    (h1, s1), (h2, s2) = sig_of(ORIGINAL), sig_of(SYNDICATED)
    out = tmp_path / "out.jsonl"
    out.write_bytes(dumps({"url": "https://a/1", "content_hash": h1}))
    path = tmp_path / "s.sqlite3"
    killed = SQLiteStateStore(path, commit="export")
    killed.targets = [str(out)]
    assert killed.claim_near(h1, "https://a/1", s1, "first", "drop", neardup.THRESHOLD) == (True, None)
    killed.close()  # killed after writing the line, before the commit (the same rows are left)
    with SQLiteStateStore(path, commit="export") as store:
        assert store.recovered == {"committed": 1, "released": 0}
        claimed, match = store.claim_near(h2, "https://b/1", s2, "second", "drop", neardup.THRESHOLD)
        assert not claimed and match is not None and match.first_id == "first"


def test_resume_knows_the_written_first_copies(tmp_path: Path) -> None:
    full, _, _ = clean(tmp_path, [ORIGINAL, SYNDICATED], "drop", name="full")
    out = tmp_path / "part.jsonl"
    out.write_bytes((tmp_path / "full.jsonl").read_bytes())
    job = CleanJob(inputs=[str(ORIGINAL), str(SYNDICATED)], output=str(out), resume=True,
                   run=RunOptions(progress=False))
    stats = run_clean(job)
    assert stats.skipped["resume"] == 1 and stats.dropped["near_duplicate"] == 1
    assert read_jsonl(out) == full


# -- the crawl's pipeline ---------------------------------------------------------------------------
@pytest.mark.parametrize("policy", ["drop", "mark", "off"])
def test_crawl_pipeline_policies(tmp_path: Path, policy: str) -> None:
    crawler = get_crawler(settings_dict={"NEWSCLEAN_STATE_DIR": str(tmp_path / "state"),
                                         "NEWSCLEAN_NEAR_DUPLICATES": policy})
    crawler.stats.open_spider()  # type: ignore[union-attr]
    pipeline = DedupPipeline.from_crawler(crawler)
    original, syndicated = record_of(ORIGINAL), record_of(SYNDICATED)
    first = pipeline.process_item(original)
    if policy == "drop":
        with pytest.raises(DuplicateDrop) as dropped:
            pipeline.process_item(syndicated)
        assert dropped.value.reason == "near_duplicate"
        assert crawler.stats.get_value("newsclean/dedup/dropped/near_duplicate") == 1  # type: ignore[union-attr]
    else:
        second = pipeline.process_item(syndicated)
        marked = policy == "mark"
        assert (second.get("near_duplicate_of") == original["id"]) is marked
        assert ("near_duplicate_of" in first) is marked and first.get("near_duplicate_of") is None
    pipeline.dedup.store.close()  # type: ignore[union-attr]


def test_crawl_and_offline_mark_the_same_bytes(tmp_path: Path) -> None:
    """The crawl's pipeline, given the records the core made (as ``off`` writes them), writes the
    lines ``mark`` writes offline."""
    marked, _, _ = clean(tmp_path, [ORIGINAL, SYNDICATED], "mark", name="marked")
    plain, _, _ = clean(tmp_path, [ORIGINAL, SYNDICATED], "off", name="plain")
    crawler = get_crawler(settings_dict={"NEWSCLEAN_STATE_ENABLED": False, "NEWSCLEAN_NEAR_DUPLICATES": "mark"})
    crawler.stats.open_spider()  # type: ignore[union-attr]
    pipeline = DedupPipeline.from_crawler(crawler)
    lines = b"".join(dumps(pipeline.process_item(record)) for record in plain)
    assert lines == (tmp_path / "marked.jsonl").read_bytes() and len(marked) == 2


def test_a_bad_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="NEWSCLEAN_NEAR_DUPLICATES"):
        DedupPipeline.from_crawler(get_crawler(settings_dict={"NEWSCLEAN_NEAR_DUPLICATES": "maybe",
                                                              "NEWSCLEAN_STATE_ENABLED": False}))
