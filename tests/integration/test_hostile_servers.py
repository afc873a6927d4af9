"""A real ``scrapy crawl`` against servers that try to make it hold too much: endless response
headers, a robots.txt of 12 MB. Each crawl's peak RSS is read from the kernel (``wait4``)."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.crawl import DEMO, ROOT, STAT_LINE, read_jsonl

pytestmark = pytest.mark.integration

GOOD = "arm-laptops-battery-life-tested.html"
#: the crawl's peak RSS must stay under this against every server here (docs/limits.md)
PEAK_RSS_MB = 600
#: how long a hostile connection may go on sending before the server gives up on its own
SEND_FOR_SECONDS = 40.0


@dataclass
class Site:
    """A raw HTTP/1.1 server on 127.0.0.1: ``/endless.html`` sends headers until the client goes,
    ``/robots.txt`` and the other paths answer from ``routes``."""

    routes: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    #: answers the paths ``routes`` does not hold (None: 404)
    make: Callable[[str], tuple[str, bytes] | None] = lambda path: None
    requests: list[str] = field(default_factory=list)
    #: bytes sent on each endless-header connection before the client dropped it
    endless_sent: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        site = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line = self.rfile.readline(65536).decode("latin-1")
                while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
                    pass
                path = line.split(" ")[1] if line.count(" ") >= 2 else "/"
                site.requests.append(path)
                if path == "/endless.html":
                    site.endless(self.connection)
                    return
                answer = site.routes.get(path) or site.make(path)
                kind, body = answer or ("text/plain", b"not here")
                status = "200 OK" if answer else "404 Not Found"
                head = (f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
                        "Connection: close\r\n\r\n")
                with contextlib.suppress(OSError):  # the crawl may stop reading (robots.txt cap)
                    self.wfile.write(head.encode() + body)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 64

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.base = f"http://localhost:{self.port}"

    def endless(self, connection: socket.socket) -> None:
        sent = 0
        line = b"X-Padding: " + b"p" * 100 + b"\r\n"
        chunk = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + line * 1000
        deadline = time.monotonic() + SEND_FOR_SECONDS
        try:
            while time.monotonic() < deadline:
                connection.sendall(chunk)
                sent += len(chunk)
                chunk = line * 1000
        except OSError:
            pass
        self.endless_sent.append(sent)

    def start(self) -> Site:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


PROFILE = """base_url = "{base}"
allowed_domains = ["localhost"]
allow_private_addresses = ["127.0.0.1"]
robots_sitemaps = false
feeds = ["/feed.xml"]
article_allow = ['\\.html$']
follow_depth = 0
[settings]
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_START_DELAY = 0.0
AUTOTHROTTLE_MAX_DELAY = 1.0
RETRY_TIMES = 2
DOWNLOAD_TIMEOUT = 60
"""


def feed(base: str, paths: list[str]) -> bytes:
    items = "".join(f"<item><link>{base}{p}</link></item>" for p in paths)
    return f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()


#: Runs ``python ARGS`` as its child and prints the child's peak RSS (KiB, from ``wait4``).
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass
class Crawled:
    returncode: int
    log: str
    stats: dict[str, float]
    records: list[dict[str, object]]
    peak_rss_mb: float


def crawl(tmp: Path, site: Site, name: str, *settings: str, profile: str = PROFILE) -> Crawled:
    sites = tmp / f"sites-{name}"
    sites.mkdir(exist_ok=True)
    (sites / f"{name}.toml").write_text(profile.format(base=site.base), encoding="utf-8")
    out, log = tmp / f"{name}.jsonl", tmp / f"{name}.log"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"site={name}", "-o", str(out),
           "-s", f"NEWSCLEAN_SITES_DIR={sites}", "-s", f"NEWSCLEAN_STATE_DIR={tmp / ('state-' + name)}",
           "-s", "NEWSCLEAN_POOL_SIZE=0", "-s", "LOG_LEVEL=INFO"]
    for setting in settings:
        cmd += ["-s", setting]
    with log.open("w") as stderr:
        # through a small launcher: a child forked from this (large) test process would count the
        # parent's pages in its ru_maxrss until it execs
        done = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd[1:]], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=stderr, text=True, check=False)
    peak_kib = int(done.stdout.split()[-1])
    text = log.read_text("utf-8", "replace")
    stats = {k: float(v) for k, v in STAT_LINE.findall(text)}
    return Crawled(done.returncode, text, stats, read_jsonl(out), peak_kib / 1024)


@pytest.fixture(scope="module")
def good_page() -> bytes:
    return (DEMO / "site" / "articles" / GOOD).read_bytes()


@pytest.fixture()
def site(good_page: bytes) -> Iterator[Site]:
    server = Site()
    server.routes["/good.html"] = ("text/html; charset=utf-8",
                                   good_page.replace(b"__BASE_URL__", server.base.encode()))
    server.start()
    yield server
    server.stop()


def test_endless_headers_are_cut_and_memory_stays_bounded(tmp_path: Path, site: Site) -> None:
    site.routes["/feed.xml"] = ("application/rss+xml", feed(site.base, ["/endless.html", "/good.html"]))
    run = crawl(tmp_path, site, "endless")
    assert run.peak_rss_mb < PEAK_RSS_MB, run.peak_rss_mb
    # every attempt (the first and RETRY_TIMES=2 retries) was cut by the cap and counted
    assert run.stats.get("newsclean/safety/dropped/headers_too_large") == 3, run.log[-3000:]
    assert site.requests.count("/endless.html") == 3
    # cut well before the server stopped on its own: a few MB in socket buffers at most
    assert len(site.endless_sent) == 3 and max(site.endless_sent) < 64 * 2**20, site.endless_sent
    assert run.log.count("response headers over the cap") == 1  # logged once for the host
    assert [r["url"] for r in run.records] == [f"{site.base}/good.html"]


def test_a_huge_robots_txt_is_obeyed_for_its_first_part(tmp_path: Path, site: Site) -> None:
    rules = b"User-agent: *\nDisallow: /private/\n"
    padding = b"# " + b"-" * 97 + b"\n"
    robots = rules + padding * (12 * 2**20 // len(padding))  # 12 MB, over DOWNLOAD_MAXSIZE (10 MiB)
    site.routes["/robots.txt"] = ("text/plain", robots)
    site.routes["/private/secret.html"] = site.routes["/good.html"]
    site.routes["/feed.xml"] = ("application/rss+xml", feed(site.base, ["/private/secret.html", "/good.html"]))
    run = crawl(tmp_path, site, "robots")
    assert run.returncode == 0, run.log[-3000:]
    assert "/private/secret.html" not in site.requests
    assert run.stats.get("robotstxt/forbidden", 0) >= 1
    assert run.stats.get("newsclean/robotstxt/truncated", 0) >= 1
    assert [r["url"] for r in run.records] == [f"{site.base}/good.html"]
    assert run.peak_rss_mb < PEAK_RSS_MB, run.peak_rss_mb


SITEMAP_PROFILE = PROFILE.replace('feeds = ["/feed.xml"]', 'sitemaps = ["/sitemap_index.xml"]').replace(
    "article_allow = ['\\.html$']", "article_allow = ['^[^?]*/a/']")
NOW = datetime(2026, 11, 30, tzinfo=UTC)


def sitemaps(site: Site, children: int, per_child: int) -> None:
    """A sitemap index of ``children`` sitemaps of ``per_child`` articles each: article (c, i) is
    ``c * per_child + i`` hours old. The index lists its children oldest first and each child its
    entries oldest first, so reading newest first is the spider's doing."""

    def age(c: int, i: int) -> str:
        return (NOW - timedelta(hours=c * per_child + i)).isoformat()

    index = "".join(f"<sitemap><loc>{site.base}/sitemap-{c}.xml</loc><lastmod>{age(c, 0)}</lastmod></sitemap>"
                    for c in reversed(range(children)))
    site.routes["/sitemap_index.xml"] = ("application/xml", (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{index}</sitemapindex>").encode())
    cache: dict[str, bytes] = {}

    def child(path: str) -> tuple[str, bytes] | None:
        if not (path.startswith("/sitemap-") and path.endswith(".xml")):
            return None
        if path not in cache:
            c = int(path[len("/sitemap-"):-len(".xml")])
            entries = "".join(f"<url><loc>{site.base}/a/{c}-{i}.html</loc><lastmod>{age(c, i)}</lastmod></url>"
                              for i in reversed(range(per_child)))
            cache[path] = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                           f"{entries}</urlset>").encode()
        return "application/xml", cache[path]

    site.make = child


def test_a_huge_sitemap_index_queues_a_bounded_newest_part(tmp_path: Path, site: Site) -> None:
    sitemaps(site, children=20, per_child=50_000)  # 1,000,000 article URLs; articles answer 404
    run = crawl(tmp_path, site, "huge", "CLOSESPIDER_TIMEOUT=20", profile=SITEMAP_PROFILE)
    assert run.peak_rss_mb < PEAK_RSS_MB, run.peak_rss_mb
    # the newest child only: its 50,000 entries fill the default budget of 10,000
    assert [p for p in site.requests if p.startswith("/sitemap-")] == ["/sitemap-0.xml"]
    assert run.stats["newsclean/spider/discovered/sitemap"] == 10_000
    assert run.stats["newsclean/spider/skipped/over_site_cap"] == 40_000
    assert run.stats["newsclean/spider/skipped/sitemap_over_site_cap"] == 19
    articles = [p for p in site.requests if p.startswith("/a/")]
    assert articles and all(p.startswith("/a/0-") and int(p[5:-5]) < 10_000 for p in articles)
    assert run.log.count("NEWSCLEAN_MAX_QUEUED_PER_SITE") == 1


def test_each_run_takes_the_next_newest_articles(tmp_path: Path, site: Site, good_page: bytes) -> None:
    sitemaps(site, children=3, per_child=150)
    child = site.make
    page = good_page.replace(b"__BASE_URL__", site.base.encode())

    def answer(path: str) -> tuple[str, bytes] | None:
        if path.startswith("/a/"):  # a distinct article per URL
            story = path[3:-5].encode()
            return "text/html; charset=utf-8", page.replace(b"<p>", b"<p>Story " + story + b" of the day. ", 1)
        return child(path)

    site.make = answer
    # the pages differ by one sentence: near-duplicates of each other, kept here (discovery is tested)
    cap, near = "NEWSCLEAN_MAX_QUEUED_PER_SITE=100", "NEWSCLEAN_NEAR_DUPLICATES=off"
    first = crawl(tmp_path, site, "runs", cap, near, profile=SITEMAP_PROFILE)
    fetched_first = [p for p in site.requests if p.startswith("/a/")]
    second = crawl(tmp_path, site, "runs", cap, near, profile=SITEMAP_PROFILE)
    fetched_second = [p for p in site.requests if p.startswith("/a/")][len(fetched_first):]

    def newest(start: int, count: int) -> set[str]:
        return {f"/a/{n // 150}-{n % 150}.html" for n in range(start, start + count)}

    assert first.returncode == 0 and second.returncode == 0, second.log[-3000:]
    assert set(fetched_first) == newest(0, 100) and len(fetched_first) == 100
    assert set(fetched_second) == newest(100, 100) and len(fetched_second) == 100  # none fetched twice
    assert len(first.records) == 100 and len(second.records) == 100
    # the second run read the first child again (its 100 newest are known now) and the second child
    assert second.stats["newsclean/spider/skipped/seen_url"] == 100
