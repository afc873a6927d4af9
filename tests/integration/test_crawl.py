"""The crawl end to end: real ``scrapy crawl news -a site=demo`` processes against the demo site
served on 127.0.0.1, checked against ``fixtures/demo_site/manifest.json``."""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from support.crawl import (
    DEMO,
    MANIFEST,
    ROOT,
    Run,
    alive,
    article_paths,
    crawl_command,
    descendants,
    free_port,
    path_of,
    read_access_log,
    read_jsonl,
    run_crawl,
)
from support.scoring import fold

from pipelines.core.cleaner import Cleaner, Page
from pipelines.core.record import FIELDS, dumps
from pipelines.reasons import CRAWL_REASONS

DUPLICATES = {d["path"]: d["duplicate_of"] for d in MANIFEST["duplicates"]}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A first crawl (cleaning pool of 2) and a second one on the same state (in-process)."""
    tmp = tmp_path_factory.mktemp("crawl")
    state, port = tmp / "state", free_port()
    # every page through the pool (no in-process cleaning while the workers start)
    first = run_crawl(tmp, "first", state, port, "NEWSCLEAN_POOL_SIZE=2", "NEWSCLEAN_POOL_WARM_IN_PROCESS=False")
    second = run_crawl(tmp, "second", state, port, "NEWSCLEAN_POOL_SIZE=0")
    return {"first": first, "second": second, "tmp": tmp, "port": port}


def by_path(run: Run) -> dict[str, dict[str, Any]]:
    return {path_of(r["url"]): r for r in run.records}


def expected_once(records: list[dict[str, Any]]) -> list[str]:
    """Problems with ``records`` as the demo's articles, each exactly once (the syndicated copy
    may stand for its original, not both)."""
    problems = []
    paths = [path_of(r["url"]) for r in records]
    counted = [DUPLICATES.get(p, p) for p in paths]
    for path in sorted(article_paths()):
        n = counted.count(path)
        if n != 1:
            problems.append(f"{path}: {n} records")
    extra = sorted(set(counted) - article_paths())
    if extra:
        problems.append(f"unexpected records: {extra}")
    hashes = [r["content_hash"] for r in records]
    if len(set(hashes)) != len(hashes):
        problems.append("a content hash is written twice")
    return problems


def test_first_run_writes_exactly_the_expected_articles(runs: dict[str, Any]) -> None:
    first = runs["first"]
    assert first.returncode == 0, first.log[-3000:]
    assert expected_once(first.records) == []
    assert len(first.records) == len(MANIFEST["articles"])
    assert all(tuple(r) == FIELDS for r in first.records)


def test_texts_are_free_of_boilerplate_and_keep_the_article(runs: dict[str, Any]) -> None:
    records = by_path(runs["first"])
    failures = []
    for article in MANIFEST["articles"]:
        record = records.get(article["path"])
        if record is None:  # written under the syndicated copy's URL instead
            record = next(r for p, r in records.items() if DUPLICATES.get(p) == article["path"])
        text = fold(record["text"])
        failures += [f"{article['path']}: missing {s!r}" for s in article["with"] if fold(s) not in text]
        failures += [f"{article['path']}: boilerplate {s!r}" for s in article["without"] if fold(s) in text]
        if record["title"] != article["title"]:
            failures.append(f"{article['path']}: title {record['title']!r}")
        if record["language"] != article["language"]:
            failures.append(f"{article['path']}: language {record['language']!r}")
    assert failures == []


def test_windows_1252_page_is_decoded(runs: dict[str, Any]) -> None:
    [article] = [a for a in MANIFEST["articles"] if a.get("encoding") == "cp1252"]
    record = by_path(runs["first"])[article["path"]]
    assert "« parfait état » à « correct »" in record["text"]
    assert "\ufffd" not in record["text"] and "Ã" not in record["text"]


def test_disallowed_path_is_never_fetched(runs: dict[str, Any]) -> None:
    first = runs["first"]
    fetched = {path for _, path, _ in first.requests}
    assert "/robots.txt" in fetched
    for path in MANIFEST["disallowed"]:
        assert path not in fetched
    assert first.stats["robotstxt/forbidden"] >= 1


def test_syndicated_copy_is_dropped_as_duplicate(runs: dict[str, Any]) -> None:
    first = runs["first"]
    fetched = {path for _, path, _ in first.requests}
    for copy, original in DUPLICATES.items():
        assert copy in fetched and original in fetched
        written = {path_of(r["url"]) for r in first.records}
        assert len(written & {copy, original}) == 1
    assert first.stats["newsclean/dedup/dropped/duplicate_hash"] == len(DUPLICATES)
    assert first.stats["item_dropped_reasons_count/DuplicateDrop"] == len(DUPLICATES)
    # a duplicate is no fault: its "Dropped" line (the whole record) is DEBUG, a broken page's INFO
    assert "Dropped: duplicate_hash" not in first.log
    assert "Dropped: no_content" in first.log


def test_404_and_broken_page_are_counted(runs: dict[str, Any]) -> None:
    first = runs["first"]
    statuses = {path: status for _, path, status in first.requests}
    for path in MANIFEST["not_found"]:
        assert statuses[path] == 404
    assert first.stats["newsclean/spider/article_error/http_404"] == len(MANIFEST["not_found"])
    for broken in MANIFEST["broken"]:
        assert statuses[broken["path"]] == 200
        assert broken["path"] not in by_path(first)
    assert first.stats["newsclean/clean/dropped/no_content"] == len(MANIFEST["broken"])
    assert first.stats["item_dropped_reasons_count/CleanDrop"] == len(MANIFEST["broken"])


def test_every_source_is_used(runs: dict[str, Any]) -> None:
    first = runs["first"]
    fetched = {path for _, path, _ in first.requests}
    for source in ("/sitemap_index.xml", "/sitemap-news.xml", "/sitemap-articles.xml", "/feed/rss.xml",
                   "/feed/atom.xml", "/sections/fr.html", "/sections/en.html", "/sections/archives.html"):
        assert source in fetched
    for key in ("feed", "sitemap", "section", "robots_sitemap", "section_page"):
        assert first.stats[f"newsclean/spider/discovered/{key}"] >= 1
    # reachable only from the second section level (depth 2)
    assert "/articles/data-centers-chaleur-reseau.html" in by_path(first)


def test_stats_add_up(runs: dict[str, Any]) -> None:
    s = runs["first"].stats
    clean_dropped = sum(v for k, v in s.items() if k.startswith("newsclean/clean/dropped/"))
    assert s["newsclean/clean/total"] == s["newsclean/clean/forwarded"] + clean_dropped
    assert s["newsclean/clean/total"] == s["newsclean/spider/articles"]
    assert s["newsclean/clean/pool_size"] == 2 and "newsclean/clean/in_process_while_pool_starts" not in s
    dedup_dropped = sum(v for k, v in s.items() if k.startswith("newsclean/dedup/dropped/"))
    assert s["newsclean/dedup/total"] == s["newsclean/dedup/forwarded"] + dedup_dropped
    assert s["newsclean/dedup/forwarded"] == s["item_scraped_count"] == s["newsclean/state/committed"]
    languages = sum(v for k, v in s.items() if k.startswith("newsclean/language/") and k.count("/") == 2)
    assert languages == s["newsclean/clean/forwarded"]
    # one count for the run, as offline: every page read is written or dropped, by one step or another
    dropped = sum(v for k, v in s.items() if re.match(r"newsclean/(clean|language|dedup)/dropped/", k))
    assert s["newsclean/clean/total"] == s["item_scraped_count"] + dropped
    # the workers' step counters, sent back with each page: every page went through the cleaner's steps
    assert s["newsclean/clean/pool_restarts"] == 0 and "newsclean/clean/dropped/worker_died" not in s
    assert s["newsclean/steps/unpack/in"] == s["newsclean/clean/total"]
    assert s["newsclean/steps/record/forwarded"] == s["newsclean/clean/forwarded"]
    step_drops: Counter[str] = Counter()
    for key, value in s.items():
        if re.match(r"newsclean/steps/\w+/dropped/", key):
            step_drops[key.rsplit("/", 1)[1]] += value
    assert step_drops == {k.rsplit("/", 1)[1]: v for k, v in s.items() if k.startswith("newsclean/clean/dropped/")}
    assert "newsclean summary (finished)" in runs["first"].log


def test_records_are_byte_identical_to_the_core(runs: dict[str, Any]) -> None:
    """What the crawl writes is what ``Cleaner.clean`` + ``dumps`` give for the same page."""
    cleaner = Cleaner()
    base = f"http://127.0.0.1:{runs['port']}".encode()
    lines = (runs["tmp"] / "first.jsonl").read_bytes().splitlines(keepends=True)
    assert len(lines) == len(MANIFEST["articles"])
    for line in lines[:5]:
        record = orjson.loads(line)
        path = path_of(record["url"])
        body = (DEMO / "site" / path.lstrip("/")).read_bytes().replace(b"__BASE_URL__", base)
        content_type = "text/html" if path.endswith("croissance.html") else "text/html; charset=utf-8"
        fetched = datetime.fromisoformat(record["fetched_at"].replace("Z", "+00:00"))
        page = Page(body=body, url=record["url"], source=record["url"], content_type=content_type, fetched_at=fetched)
        assert dumps(cleaner.clean(page)) == line  # type: ignore[arg-type]


def test_second_run_adds_nothing_and_refetches_no_stored_article(runs: dict[str, Any]) -> None:
    second = runs["second"]
    assert second.returncode == 0, second.log[-3000:]
    assert second.records == []
    fetched = [path for _, path, _ in second.requests]
    # feeds and sitemaps are fetched again …
    for source in ("/sitemap_index.xml", "/sitemap-news.xml", "/feed/rss.xml", "/feed/atom.xml"):
        assert source in fetched
    # … but no article already stored, nor the one of each syndicated pair recorded as a duplicate
    # (which of the two is written depends on which the cleaning workers finish first)
    stored = {path_of(r["url"]) for r in runs["first"].records} | set(DUPLICATES) | set(DUPLICATES.values())
    assert stored & set(fetched) == set()

    # every article URL the first run discovered (one count per occurrence in a feed, sitemap or
    # section page) is, in the second, either skipped as known or discovered again
    def found(stats: dict[str, float]) -> float:
        return sum(v for k, v in stats.items() if k in {f"newsclean/spider/discovered/{s}" for s in
                                                        ("sitemap", "feed", "section")})

    skipped = second.stats["newsclean/spider/skipped/seen_url"]
    assert skipped >= len(stored)
    assert found(runs["first"].stats) == skipped + found(second.stats)


def test_killed_run_restarted_writes_every_article_once(tmp_path: Path) -> None:
    """SIGKILL a crawl (cleaning pool of 2) once its third record is written, start it again:
    every article exactly once across both output files, and no process of the killed crawl left."""
    state, port = tmp_path / "state", free_port()
    first_out, access = tmp_path / "killed.jsonl", tmp_path / "killed.access.log"
    # slow enough to be killed mid-way: one request at a time, 0.3 s apart
    cmd = crawl_command(first_out, state, port, access, "NEWSCLEAN_POOL_SIZE=2", "NEWSCLEAN_POOL_WARM_IN_PROCESS=False",
                        "AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0.3", "CONCURRENT_REQUESTS=1")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if first_out.exists() and first_out.read_bytes().count(b"\n") >= 3:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the crawl ended before it could be killed"
        pool = descendants(proc.pid)  # the cleaning workers, their forkserver, the resource tracker
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert len(pool) >= 3
    # the workers notice their crawl is gone and exit (they check every second)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(alive(p) for p in pool):
        time.sleep(0.2)
    assert [p for p in pool if alive(p)] == []
    killed = read_jsonl(first_out) if first_out.read_bytes().endswith(b"\n") else []
    if not killed:  # cut mid-line: only whole lines count (the next run truncates the rest)
        killed = [orjson.loads(x) for x in first_out.read_bytes().split(b"\n")[:-1]]
    assert 3 <= len(killed) < len(MANIFEST["articles"])
    restarted = run_crawl(tmp_path, "restarted", state, port, "NEWSCLEAN_POOL_SIZE=0")
    assert restarted.returncode == 0, restarted.log[-3000:]
    assert expected_once(killed + restarted.records) == []
    # what the killed run wrote is not fetched again
    refetched = {path for _, path, _ in read_access_log(tmp_path / "restarted.access.log")}
    assert {path_of(r["url"]) for r in killed} & refetched == set()


def test_feeds_setting_batches_and_compresses(tmp_path: Path) -> None:
    """FEEDS with a URI template, batches of 10 and gzip: the exporter works through Feed exports."""
    feeds = orjson.dumps({
        str(tmp_path / "out" / "%(name)s-%(batch_id)02d.jsonl.gz"): {
            "format": "jsonlines",
            "batch_item_count": 10,
            "postprocessing": ["scrapy.extensions.postprocessing.GzipPlugin"],
        }
    }).decode()
    run = run_crawl(tmp_path, "feeds", tmp_path / "state", free_port(), f"FEEDS={feeds}", "NEWSCLEAN_POOL_SIZE=0",
                    feed=False)
    assert run.returncode == 0, run.log[-3000:]
    files = sorted((tmp_path / "out").iterdir())
    assert [f.name for f in files] == ["news-01.jsonl.gz", "news-02.jsonl.gz", "news-03.jsonl.gz"]
    records = [orjson.loads(x) for f in files for x in gzip.decompress(f.read_bytes()).splitlines()]
    assert [len(gzip.decompress(f.read_bytes()).splitlines()) for f in files] == [10, 10, 2]
    assert expected_once(records) == []


def test_every_stats_key_is_documented(runs: dict[str, Any]) -> None:
    """Each ``newsclean/…`` key of the demo crawls matches a key pattern of docs/stats.md."""
    doc = (ROOT / "docs" / "stats.md").read_text("utf-8")
    keys_doc = re.findall(r"`(newsclean/[^`]+)`", doc)
    compiled = [re.compile(re.sub(r"<[a-z]+>", "[^/]+", re.escape(k)) + "$") for k in keys_doc]
    keys = {k for name in ("first", "second") for k in runs[name].stats if k.startswith("newsclean/")}
    assert len(keys) > 20
    undocumented = sorted(k for k in keys if not any(c.match(k) for c in compiled))
    assert undocumented == []
    # and every reason the crawl counts or drops with is named (as itself or a key's last part)
    assert sorted(r for r in CRAWL_REASONS if f"`{r}`" not in doc and f"/{r}`" not in doc) == []


def test_newsclean_clean_gives_the_same_records(runs: dict[str, Any], tmp_path: Path) -> None:
    """The same pages saved to disk (with a ``.meta.json`` sidecar: URL, Content-Type, fetch time)
    and cleaned by ``newsclean clean`` give the crawl's records, byte for byte but for ``source``
    (where the page was read from: the URL in the crawl, the file offline)."""
    base = f"http://127.0.0.1:{runs['port']}".encode()
    crawled = {}
    for line in (runs["tmp"] / "first.jsonl").read_bytes().splitlines(keepends=True)[:6]:
        record = orjson.loads(line)
        path = path_of(record["url"])
        saved = tmp_path / "pages" / Path(path).name
        saved.parent.mkdir(exist_ok=True)
        saved.write_bytes((DEMO / "site" / path.lstrip("/")).read_bytes().replace(b"__BASE_URL__", base))
        content_type = "text/html" if path.endswith("croissance.html") else "text/html; charset=utf-8"
        meta = {"url": record["url"], "content_type": content_type, "fetched_at": record["fetched_at"]}
        Path(str(saved) + ".meta.json").write_bytes(orjson.dumps(meta))
        crawled[str(saved)] = line
    out = tmp_path / "offline.jsonl"
    newsclean = str(Path(sys.executable).with_name("newsclean"))
    proc = subprocess.run(
        [newsclean, "clean", str(tmp_path / "pages"), "-o", str(out), "-j", "1", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    offline = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert len(offline) == len(crawled)
    for record in offline:
        line = crawled[record["source"]]
        record["source"] = record["url"]
        assert dumps(record) == line  # type: ignore[arg-type]
