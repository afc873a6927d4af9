"""Politeness on a real server: 429 and 503 answers are retried after a longer delay, robots.txt
and the User-Agent are honoured, and a site profile can live outside the package."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from support.crawl import DEMO, ROOT, STAT_LINE, Answer, ScriptedServer, read_jsonl

ARTICLE = (DEMO / "site" / "articles" / "streaming-prices-bundles.html").read_bytes()
OTHER = (DEMO / "site" / "articles" / "montre-connectee-sante-fiabilite.html").read_bytes()


class Site:
    """robots.txt, an RSS feed of two articles; the first answers 429 once, the second 503 once."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, int]] = []
        self.failures = {"/a1.html": 429, "/a2.html": 503}
        self.httpd = ScriptedServer(self.respond)
        self.base = f"http://127.0.0.1:{self.httpd.port}"

    def respond(self, request: BaseHTTPRequestHandler) -> Answer:
        status, body, ctype = self.answer(request.path)
        self.requests.append((request.path, request.headers.get("User-Agent", ""), status))
        headers = {"Content-Type": ctype, **({"Retry-After": "1"} if status == 429 else {})}
        return status, headers, body

    def answer(self, path: str) -> tuple[int, bytes, str]:
        if path == "/robots.txt":
            return 200, b"User-agent: *\nDisallow: /a3.html\n", "text/plain"
        if path == "/feed.xml":
            items = "".join(f"<item><link>{self.base}/a{i}.html</link></item>" for i in (1, 2, 3))
            feed = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'
            return 200, feed.encode(), "application/rss+xml"
        if path in self.failures:
            return self.failures.pop(path), b"slow down", "text/plain"
        pages = {"/a1.html": ARTICLE, "/a2.html": OTHER}
        if path in pages:
            return 200, pages[path].replace(b"__BASE_URL__", self.base.encode()), "text/html; charset=utf-8"
        return 404, b"", "text/plain"


@pytest.fixture()
def site() -> Iterator[Site]:
    s = Site()
    s.httpd.start()
    yield s
    s.httpd.stop()


def test_retries_429_and_503_with_backoff_and_obeys_robots(site: Site, tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "local.toml").write_text(
        f'base_url = "{site.base}"\nallowed_domains = ["127.0.0.1"]\nallow_private_addresses = ["127.0.0.1"]\n'
        'feeds = ["/feed.xml"]\n'
        "article_allow = ['/a\\d\\.html$']\n"
        "[settings]\nDOWNLOAD_DELAY = 0\nAUTOTHROTTLE_START_DELAY = 0.0\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "site=local", "-o", str(out),
         "-s", f"NEWSCLEAN_SITES_DIR={sites}", "-s", f"NEWSCLEAN_STATE_DIR={tmp_path / 'state'}",
         "-s", "NEWSCLEAN_POOL_SIZE=0", "-s", "NEWSCLEAN_CONTACT=mailto:crawl@example.org"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = {k: float(v) for k, v in STAT_LINE.findall(proc.stderr)}
    assert sorted(r["url"].rsplit("/", 1)[1] for r in read_jsonl(out)) == ["a1.html", "a2.html"]
    assert stats["newsclean/backoff/429"] == 1 and stats["newsclean/backoff/503"] == 1
    assert stats["retry/count"] == 2
    # the domain's download slot was slowed, to at least Retry-After (1 s) after the 429
    pattern = r"answered (\d+): delay for 127\.0\.0\.1 now ([\d.]+) s"
    delays = {int(code): float(d) for code, d in re.findall(pattern, proc.stderr)}
    assert set(delays) == {429, 503}
    assert delays[429] >= 1.0 and delays[503] >= 1.0
    statuses = [(path, status) for path, _, status in site.requests]
    assert statuses.count(("/a1.html", 429)) == 1 and statuses.count(("/a1.html", 200)) == 1
    assert statuses.count(("/a2.html", 503)) == 1 and statuses.count(("/a2.html", 200)) == 1
    assert "/a3.html" not in [path for path, _, _ in site.requests]  # robots.txt
    agents = {agent for _, agent, _ in site.requests}
    assert agents == {"newsclean/0.1 (news archiving crawler; +mailto:crawl@example.org)"}
