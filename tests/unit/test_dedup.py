"""The one dedup step (``pipelines.run.dedup.Deduper``) and the one count (``pipelines.run.stats``)
as both paths use them, the reasons registry, the cores function and the crawl's default state folder."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

import pipelines
from pipelines.cli.main import build_parser
from pipelines.core.page import Drop
from pipelines.item_pipelines import (
    CleanPipeline,
    DedupPipeline,
    DuplicateDrop,
    NewscleanDrop,
    crawl_key,
    state_dir,
    state_for,
)
from pipelines.reasons import CRAWL_REASONS, OFFLINE_REASONS, REGISTRY
from pipelines.run import usable_cores
from pipelines.run.dedup import Deduper, Verdict
from pipelines.run.stats import RunStats
from pipelines.store import STATE_FILE, SQLiteStateStore, open_state

PACKAGE = Path(pipelines.__file__).resolve().parent
H1 = "sha256:" + "1" * 64
H2 = "sha256:" + "2" * 64


def record(content_hash: str, url: str) -> dict[str, Any]:
    return {"content_hash": content_hash, "url": url, "text": "x"}


# -- Deduper ---------------------------------------------------------------------------------------
def test_without_a_store_the_run_remembers_its_hashes() -> None:
    dedup = Deduper(None)
    assert dedup.claim(record(H1, "https://a.example/1")) is Verdict.NEW
    assert dedup.claim(record(H2, "https://a.example/2")) is Verdict.NEW
    assert dedup.claim(record(H1, "https://b.example/copy")) is Verdict.DUPLICATE_IN_RUN
    assert dedup.commit(H1) is False  # nothing to commit without a store


def test_write_claims_then_writes_then_commits(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    store = SQLiteStateStore(tmp_path / STATE_FILE, commit="export")
    dedup = Deduper(store, lambda: [str(out)])
    pending_while_writing: list[int] = []

    def write_line(rec: dict[str, Any]) -> None:
        pending_while_writing.append(store.pending())
        out.write_text(rec["content_hash"] + "\n")

    assert dedup.write(record(H1, "https://a.example/1"), write_line) is Verdict.NEW
    assert pending_while_writing == [1]  # claimed, not committed, while the line is written
    assert store.pending() == 0 and store.targets == [str(out)]
    assert dedup.write(record(H1, "https://b.example/copy"), write_line) is Verdict.DUPLICATE_IN_RUN
    assert pending_while_writing == [1]  # a duplicate is not written
    assert store.seen_url("https://b.example/copy")  # the copy's URL is recorded, as in the crawl
    store.close()

    # another run on the same store: the hash is the store's, not this run's
    again = SQLiteStateStore(tmp_path / STATE_FILE, commit="export")
    other = Deduper(again)
    assert other.claim(record(H1, "https://c.example/x")) is Verdict.DUPLICATE_IN_STORE
    assert other.claim(record(H1, "https://c.example/y")) is Verdict.DUPLICATE_IN_RUN
    again.close()


def test_a_line_not_written_leaves_its_claim_to_recovery(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"")
    store = open_state(tmp_path, commit="export")
    dedup = Deduper(store, lambda: [str(out)])

    def fail(_: dict[str, Any]) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        dedup.write(record(H1, "https://a.example/1"), fail)
    assert store.pending() == 1
    store.close()
    reopened = open_state(tmp_path, commit="export")  # the line is not in out.jsonl: released
    assert reopened.recovered == {"committed": 0, "released": 1}
    assert Deduper(reopened).claim(record(H1, "https://a.example/1")) is Verdict.NEW
    reopened.close()


def test_restore_takes_an_output_line_as_written(tmp_path: Path) -> None:
    store = open_state(tmp_path, commit="export")
    dedup = Deduper(store)
    dedup.restore(H1, "https://a.example/1")
    assert store.pending() == 0
    assert dedup.claim(record(H1, "https://a.example/1")) is Verdict.DUPLICATE_IN_RUN
    assert Deduper(store).claim(record(H1, "")) is Verdict.DUPLICATE_IN_STORE
    store.close()


# -- the crawl's dedup pipeline over the same step ----------------------------------------------
def _crawler(tmp_path: Path, **settings: Any) -> Any:
    crawler = get_crawler(settings_dict={"NEWSCLEAN_STATE_DIR": str(tmp_path / "state"), **settings})
    crawler.stats.open_spider()  # type: ignore[union-attr]
    return crawler


def test_dedup_pipeline_claims_and_commits_after_the_line(tmp_path: Path) -> None:
    crawler = _crawler(tmp_path)
    pipeline = DedupPipeline.from_crawler(crawler)
    first = record(H1, "https://a.example/1")
    assert pipeline.process_item(first) is first
    with pytest.raises(DuplicateDrop) as dropped:
        pipeline.process_item(record(H1, "https://b.example/copy"))
    assert dropped.value.reason == "duplicate_hash"
    store = state_for(crawler)
    assert store.pending() == 1
    pipeline.item_scraped(first)  # the exporter wrote the line
    assert store.pending() == 0
    stats = crawler.stats.get_stats()
    assert {k: v for k, v in stats.items() if k.startswith("newsclean/")} == {
        "newsclean/state/recovered/committed": 0, "newsclean/state/recovered/released": 0,
        "newsclean/dedup/total": 2, "newsclean/dedup/forwarded": 1, "newsclean/dedup/dropped/duplicate_hash": 1,
        "newsclean/state/committed": 1,
    }
    store.close()


# -- reasons ---------------------------------------------------------------------------------------
def test_every_reason_written_in_the_code_is_registered() -> None:
    """Each ``…Drop("<reason>", …)`` and core step's ``state.drop("<reason>")`` in the package names
    a registered reason of its side."""
    pattern = re.compile(r"(\b\w*Drop|\.drop)\(\s*\"(\w+)\"")
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for cls, name in pattern.findall(path.read_text("utf-8")):
            found.setdefault(name, set()).add(f"{path.relative_to(PACKAGE)}:{cls}")
    assert {"empty", "too_large", "no_content", "language", "read_error"} <= set(found)
    assert sorted(name for name in found if name not in REGISTRY) == []
    in_core = {name for name, where in found.items() if any(w.startswith("core/") for w in where)}
    assert {name for name in in_core if REGISTRY[name].side != "page"} == set()
    assert in_core <= set(OFFLINE_REASONS) & set(CRAWL_REASONS)  # the core's drops are both paths' reasons


def test_crawl_drops_need_a_registered_reason() -> None:
    assert NewscleanDrop("worker_died", "https://a.example/").reason == "worker_died"
    with pytest.raises(ValueError, match="not a registered crawl reason"):
        NewscleanDrop("read_error")  # an offline input's reason, not the crawl's


# -- cores and the state folder --------------------------------------------------------------------
def test_one_cores_function_sizes_both_paths(tmp_path: Path) -> None:
    cores = len(os.sched_getaffinity(0))
    assert usable_cores() == cores
    assert build_parser().parse_args(["clean", "x", "-o", "y"]).jobs == cores
    assert CleanPipeline.from_crawler(_crawler(tmp_path)).pool_size == cores


def test_default_state_folder_is_state_in_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    crawler = get_crawler()
    crawler.stats.open_spider()  # type: ignore[union-attr]
    assert state_dir(crawler) == str(tmp_path / "state")
    store = state_for(crawler)
    store.close()
    assert (tmp_path / "state" / STATE_FILE).is_file()
    assert not Path(state_dir(crawler)).is_relative_to(PACKAGE)
    assert state_dir(get_crawler(settings_dict={"NEWSCLEAN_STATE_DIR": "redis://h:1/0"})) == "redis://h:1/0"


# -- one count for both paths ---------------------------------------------------------------------
def test_run_stats_count_registered_reasons_and_name_them_as_the_crawl_does() -> None:
    published: dict[str, int] = {}
    run = RunStats(publish=lambda key, n: published.__setitem__(key, published.get(key, 0) + n))
    run.read(Drop("no_content", "a"))
    run.read(Drop("worker_died", "b"))
    run.read({"content_hash": H1, "language": "fr", "removed": {"byline": 2}})
    run.drop("duplicate_hash")
    run.read({"content_hash": H2, "language": None, "removed": {}})
    run.write({"content_hash": H2, "language": None, "removed": {"ticker": 1}})
    run.add_steps({"unpack/in": 2, "extract/dropped/no_content": 1})
    with pytest.raises(ValueError, match="not a registered reason"):
        run.drop("no_such_reason")
    assert run.balanced and run.pages_read == 4 and run.cleaned == 2 and run.records_written == 1
    assert run.languages == {"und": 1} and run.removed == {"ticker": 1}
    crawl = {crawl_key(k): v for k, v in published.items() if crawl_key(k) is not None}
    assert crawl == {
        "newsclean/clean/total": 4, "newsclean/clean/forwarded": 2,
        "newsclean/clean/dropped/no_content": 1, "newsclean/clean/dropped/worker_died": 1,
        "newsclean/dedup/dropped/duplicate_hash": 1, "newsclean/removed/ticker": 1,
        "newsclean/steps/unpack/in": 2, "newsclean/steps/extract/dropped/no_content": 1,
    }
