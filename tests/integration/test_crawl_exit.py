"""Exit codes of ``scrapy crawl news`` (docs/exit-codes.md), each from a real crawl subprocess
against servers on 127.0.0.1: a site refusing connections (4), a site whose requests mostly fail
(5), arguments and settings the crawl cannot run with (2, one line, nothing started), and the demo
site (0), with ``-O`` overwriting and ``-o`` appending as Scrapy's options do."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from support.crawl import (
    DEMO,
    MANIFEST,
    ROOT,
    STAT_LINE,
    Answer,
    ScriptedServer,
    crawl_command,
    free_port,
    read_jsonl,
)

from pipelines import exit_codes
from pipelines.core.record import FIELDS

ARTICLE = (DEMO / "site" / "articles" / "streaming-prices-bundles.html").read_bytes()
PROFILE = """base_url = "{base}"
allowed_domains = ["127.0.0.1"]
allow_private_addresses = ["127.0.0.1"]
robots_sitemaps = false
feeds = ["/feed.xml"]
article_allow = ['/a\\d\\.html$']
[settings]
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_START_DELAY = 0.0
RETRY_TIMES = 1
"""


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("NEWSCLEAN_", "SCRAPY_"))}


def crawl_site(tmp: Path, base: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, object]]]:
    sites = tmp / "sites"
    sites.mkdir(exist_ok=True)
    (sites / "local.toml").write_text(PROFILE.format(base=base), encoding="utf-8")
    out = tmp / "out.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "site=local", "-o", str(out),
         "-s", f"NEWSCLEAN_SITES_DIR={sites}", "-s", f"NEWSCLEAN_STATE_DIR={tmp / 'state'}",
         "-s", "NEWSCLEAN_POOL_SIZE=0", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env(), check=False,
    )
    return done, read_jsonl(out)


def stats_of(log: str) -> dict[str, float]:
    return {k: float(v) for k, v in STAT_LINE.findall(log)}


def test_a_site_refusing_connections_exits_4(tmp_path: Path) -> None:
    done, records = crawl_site(tmp_path, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    assert done.returncode == exit_codes.NOTHING, done.stderr[-3000:]
    assert records == []
    stats = stats_of(done.stderr)
    assert stats["newsclean/download/requests"] == stats["newsclean/download/failed/connection_refused"] >= 2
    assert "nothing could be fetched: 0 responses" in done.stderr
    assert "requests failed (100%): connection_refused" in done.stderr  # the summary's line


class FailingSite:
    """A feed of five articles: a1 is served, a2 and a3 answer 500, a4 and a5 close the connection
    without an answer (each, every time it is asked)."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.httpd = ScriptedServer(self.respond)
        self.base = f"http://127.0.0.1:{self.httpd.port}"

    def respond(self, request: BaseHTTPRequestHandler) -> Answer | None:
        self.asked.append(request.path)
        if request.path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow:\n"
        if request.path == "/feed.xml":
            items = "".join(f"<item><link>{self.base}/a{i}.html</link></item>" for i in range(1, 6))
            return 200, {"Content-Type": "application/rss+xml"}, f"<rss><channel>{items}</channel></rss>".encode()
        if request.path == "/a1.html":
            return 200, {"Content-Type": "text/html"}, ARTICLE.replace(b"__BASE_URL__", self.base.encode())
        if request.path in ("/a2.html", "/a3.html"):
            return 500, {"Content-Type": "text/plain"}, b"broken"
        return None


@pytest.fixture()
def failing() -> Iterator[FailingSite]:
    site = FailingSite()
    site.httpd.start()
    yield site
    site.httpd.stop()


def test_more_than_half_of_the_requests_failing_exits_5(failing: FailingSite, tmp_path: Path) -> None:
    done, records = crawl_site(tmp_path, failing.base)
    assert done.returncode == exit_codes.FAILURES, done.stderr[-3000:]
    assert [str(r["url"]).rsplit("/", 1)[1] for r in records] == ["a1.html"]  # what could be cleaned is written
    stats = stats_of(done.stderr)
    # robots.txt, the feed and five articles, each counted once however often it was tried
    assert failing.asked.count("/a2.html") == failing.asked.count("/a4.html") == 2  # RETRY_TIMES = 1
    assert stats["newsclean/download/requests"] == 7
    assert stats["newsclean/download/failed/http_500"] == 2
    assert stats["newsclean/download/failed/connection_lost"] == 2
    assert "exit code 5: 4 of 7 requests failed (57%, more than NEWSCLEAN_MAX_FAILURE_SHARE = 0.5)" in done.stderr


def test_the_failure_threshold_is_a_setting(failing: FailingSite, tmp_path: Path) -> None:
    done, records = crawl_site(tmp_path, failing.base, "-s", "NEWSCLEAN_MAX_FAILURE_SHARE=0.6")
    assert done.returncode == exit_codes.OK, done.stderr[-3000:]
    assert len(records) == 1
    assert "exit code 0: 4 of 7 requests failed (57%)" in done.stderr


@pytest.mark.parametrize(("arguments", "environment", "says"), [
    (["-a", "site=nosuch"], {}, "unknown site(s) nosuch; known: "),
    (["-a", "site=demo", "-a", "since=yesterday"], {}, "-a since=yesterday: not a date"),
    ([], {}, "no site given: use -a site=NAME"),
    (["-a", "site=demo", "-s", "NEWSCLEAN_STATE_DIR=state-here"],
     {"NEWSCLEAN_REDIS_URL": "redis://127.0.0.1:9/0"},
     "NEWSCLEAN_REDIS_URL=redis://127.0.0.1:9/0 (environment) shares the crawl and its state through Redis, "
     "but NEWSCLEAN_STATE_DIR=state-here names another state"),
    (["-a", "site=demo", "-s", "NEWSCLEAN_MAX_FAILURE_SHARE=half"], {}, "NEWSCLEAN_MAX_FAILURE_SHARE=half: a share"),
], ids=["unknown-site", "bad-since", "no-site", "redis-and-local-state", "bad-share"])
def test_what_the_crawl_cannot_run_with_exits_2_with_one_line(
    arguments: list[str], environment: dict[str, str], says: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", *arguments], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, env={**env(), **environment, "SCRAPY_SETTINGS_MODULE": "crawler.settings",
                          "PYTHONPATH": str(ROOT)}, check=False,
    )
    assert done.returncode == exit_codes.USAGE, done.stderr[-3000:]
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("scrapy crawl: "), done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing started: no state, no output


@pytest.mark.parametrize(("setting", "says"), [
    (["-O", "/proc/no-such-folder/out.jsonl"], "cannot write the feed /proc/no-such-folder/out.jsonl: "),
    (["-s", "NEWSCLEAN_STATE_DIR=/proc/no-such-folder"], "cannot write the state /proc/no-such-folder: "),
    (["-s", "LOG_FILE=/proc/no-such-folder/crawl.log"], "cannot write the log file /proc/no-such-folder/crawl.log: "),
], ids=["feed", "state", "log"])
def test_a_folder_the_crawl_cannot_make_exits_1_before_the_start(setting: list[str], says: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "site=demo", *setting], cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
        env={**env(), "SCRAPY_SETTINGS_MODULE": "crawler.settings", "PYTHONPATH": str(ROOT)}, check=False,
    )
    assert done.returncode == exit_codes.OUTPUT, done.stderr[-3000:]
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"scrapy crawl: {says}"), done.stderr
    assert "Traceback" not in done.stderr


def test_a_demo_crawl_exits_0_and_o_appends_where_capital_o_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text('{"left": "by an earlier run"}\n', encoding="utf-8")
    for option, state in (("-O", "state-1"), ("-o", "state-2")):  # a new state: the same records again
        cmd = crawl_command(None, tmp_path / state, free_port(), tmp_path / f"{state}.access.log",
                            "NEWSCLEAN_POOL_SIZE=0")
        done = subprocess.run([*cmd, option, str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                              env=env(), check=False)
        assert done.returncode == exit_codes.OK, done.stderr[-3000:]
        assert "exit code 0: 1 of 35 requests failed (3%)" in done.stderr  # the link to a 404
    records = read_jsonl(out)
    articles = len(MANIFEST["articles"])
    assert len(records) == 2 * articles  # -O: the earlier line is gone; -o: the second run's lines appended
    assert all(tuple(r) == FIELDS for r in records)
    assert len({r["content_hash"] for r in records}) == articles  # the same articles twice


def test_records_the_feed_could_not_write_are_not_committed_and_come_next_run(tmp_path: Path) -> None:
    """A feed on a full disk (``/dev/full``: every write fails with ENOSPC): no hash is committed
    to the state, the crawl exits 1, and the next run with room writes every article."""
    state, port = tmp_path / "state", free_port()
    full = crawl_command(Path("/dev/full:jsonl"), state, port, tmp_path / "full.access.log", "NEWSCLEAN_POOL_SIZE=0")
    done = subprocess.run(full, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env(), check=False)
    assert done.returncode == exit_codes.OUTPUT, done.stderr[-3000:]
    stats = stats_of(done.stderr)
    # every record failed, none committed: so each syndicated copy was tried too (its twin's hash was released)
    assert stats["newsclean/feed/write_failed"] == len(MANIFEST["articles"]) + len(MANIFEST["duplicates"])
    assert stats.get("newsclean/state/committed", 0) == 0
    out = tmp_path / "out.jsonl"
    again = crawl_command(out, state, port, tmp_path / "again.access.log", "NEWSCLEAN_POOL_SIZE=0")
    done = subprocess.run(again, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env(), check=False)
    assert done.returncode == exit_codes.OK, done.stderr[-3000:]
    assert len(read_jsonl(out)) == len(MANIFEST["articles"])
