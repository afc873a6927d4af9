"""Safe crawling and hostile crawl inputs (crawler/safety.py).

Unit tests give unsafe URLs and addresses to the guard as strings only: no traffic is ever sent
to 10.x, 169.254.x or any address but 127.0.0.1. Two real ``scrapy crawl news`` runs then crawl a
hostile site served on 127.0.0.1 through the host name ``localhost`` (so the resolver is used):
one whose profile does not allow private addresses (nothing at all may reach the server), one
whose profile allows 127.0.0.1 alone, serving a gzip bomb, a PDF and a PNG as text/html, sitemaps
with an entity bomb, an external entity, a truncated body and a gzip bomb, a feed that is not XML,
links to other schemes and addresses, a redirect to 127.0.0.2 and a page robots.txt disallows.
"""

from __future__ import annotations

import gzip
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any, cast

import orjson
import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler
from support.crawl import DEMO, ROOT, STAT_LINE, Answer, ScriptedServer, read_jsonl
from twisted.internet.error import DNSLookupError

from crawler.profiles import ProfileError, load_profile, resolve_sites
from crawler.safety import (
    Allowance,
    Guard,
    SafeRequestMiddleware,
    SafeResolver,
    address_problem,
    allowances_of,
    domains_of,
    read_xml,
)
from crawler.spiders.news import parse_feed, parse_sitemap
from pipelines import exit_codes

# -- addresses and URLs ------------------------------------------------------------------------

REFUSED_ADDRESSES = {
    "127.0.0.1": "private_address", "127.0.0.2": "private_address", "10.0.0.1": "private_address",
    "172.16.5.4": "private_address", "192.168.1.1": "private_address", "100.64.0.1": "private_address",
    "0.0.0.0": "private_address", "224.0.0.1": "private_address", "240.0.0.1": "private_address",
    "255.255.255.255": "private_address", "169.254.1.1": "private_address", "::1": "private_address",
    "fe80::1": "private_address", "fc00::1": "private_address", "ff02::1": "private_address",
    "::ffff:127.0.0.1": "private_address", "::ffff:10.0.0.1": "private_address", "::": "private_address",
    "169.254.169.254": "metadata_address", "fd00:ec2::254": "metadata_address",
    "::ffff:169.254.169.254": "metadata_address", "100.100.100.200": "metadata_address",
    "169.254.170.2": "metadata_address",
    # IPv6 forms that carry a private or metadata IPv4 address: NAT64 (well-known and local-use
    # prefixes), IPv4-compatible, IPv4-translated (SIIT) and 6to4
    "64:ff9b::a9fe:a9fe": "metadata_address", "64:ff9b::7f00:1": "private_address",
    "64:ff9b:1::a00:1": "private_address", "::127.0.0.2": "private_address", "::169.254.169.254": "metadata_address",
    "::ffff:0:7f00:1": "private_address", "::ffff:0:a9fe:a9fe": "metadata_address",
    "2002:a9fe:a9fe::1": "metadata_address", "2002:c0a8:101::1": "private_address",
}


@pytest.mark.parametrize("address", sorted(REFUSED_ADDRESSES))
def test_non_public_addresses_are_refused(address: str) -> None:
    assert address_problem(ip_address(address)) == REFUSED_ADDRESSES[address]


@pytest.mark.parametrize("address", ["93.184.215.14", "151.101.1.140", "2606:4700::6810:85e5", "8.8.8.8",
                                     "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ip_address(address)) is None


UNSAFE_URLS = {
    "file:///etc/passwd": "scheme",
    "file://localhost/etc/passwd": "scheme",
    "ftp://news.example/articles/a.html": "scheme",
    "javascript:alert(document.cookie)": "scheme",
    "data:text/html,<h1>x</h1>": "scheme",
    "gopher://news.example/": "scheme",
    "http:///articles/a.html": "scheme",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/": "metadata_address",
    "http://[fd00:ec2::254]/latest/meta-data/": "metadata_address",
    "http://10.0.0.1/articles/a.html": "private_address",
    "https://192.168.0.10:8443/": "private_address",
    "http://127.0.0.1:8642/": "private_address",
    "http://[::1]/": "private_address",
    "http://[::ffff:7f00:1]/": "private_address",
    "http://0.0.0.0/": "private_address",
}


def test_guard_refuses_unsafe_urls_without_resolving() -> None:
    guard = Guard()
    assert {url: guard.url_problem(url) for url in UNSAFE_URLS} == UNSAFE_URLS
    assert guard.url_problem("https://news.example/articles/a.html") is None
    assert guard.url_problem("http://93.184.215.14/") is None


def test_allowed_domains_are_enforced_even_without_offsite_filtering() -> None:
    guard = Guard()
    guard.configure([], ["news.example"], None)
    assert guard.url_problem("https://www.news.example/a.html") is None
    assert guard.url_problem("https://news.example./a.html") is None
    assert guard.url_problem("https://evilnews.example/a.html") == "offsite"
    assert guard.url_problem("https://news.example.evil.example/a.html") == "offsite"


def test_a_profile_without_allowed_domains_stays_on_its_base_host(tmp_path: Path) -> None:
    site = tmp_path / "bare.toml"
    site.write_text('base_url = "https://news.example"\n')
    other = tmp_path / "other.toml"
    other.write_text('base_url = "https://www.other.example"\nallowed_domains = ["other.example"]\n')
    spider = type("S", (), {"profiles": [load_profile(site), load_profile(other)], "allowed_domains": []})()
    assert domains_of(spider) == ("news.example", "other.example")
    guard = Guard()
    guard.configure(allowances_of(spider), domains_of(spider), None)
    assert guard.url_problem("https://news.example/a.html") is None
    assert guard.url_problem("https://cdn.other.example/a.html") is None
    assert guard.url_problem("https://elsewhere.example/a.html") == "offsite"


def test_profile_allowances() -> None:
    guard = Guard()
    # true: any private address for the profile's hosts, never a metadata one
    guard.configure([Allowance(("127.0.0.1", "intranet.example"), any_private=True)], [], None)
    assert guard.url_problem("http://127.0.0.1:8642/robots.txt") is None
    assert guard.address_problem("intranet.example", ip_address("10.1.2.3")) is None
    assert guard.address_problem("intranet.example", ip_address("169.254.169.254")) == "metadata_address"
    assert guard.address_problem("other.example", ip_address("10.1.2.3")) == "private_address"
    assert guard.url_problem("http://127.0.0.2/") == "private_address"  # not a host of the profile
    # a list: exactly those networks
    guard.configure([Allowance(("localhost", "127.0.0.2"), networks=(ip_network("127.0.0.1"),))], [], None)
    assert guard.address_problem("localhost", ip_address("127.0.0.1")) is None
    assert guard.address_problem("localhost", ip_address("127.0.0.2")) == "private_address"
    assert guard.url_problem("http://127.0.0.2:8000/articles/a.html") == "private_address"


def test_profile_key(tmp_path: Path) -> None:
    demo = resolve_sites("demo")[0]
    assert demo.allow_private_addresses is True
    assert [a.any_private for a in allowances_of(type("S", (), {"profiles": [demo]})())] == [True]
    # every real-site profile keeps the default: no private address
    assert [p.name for p in resolve_sites("all") if p.allow_private_addresses] == []
    site = tmp_path / "intranet.toml"
    site.write_text('base_url = "http://intranet.example"\nallow_private_addresses = ["10.1.0.0/16", "::1"]\n')
    assert load_profile(site).allow_private_addresses == ("10.1.0.0/16", "::1")
    [allowance] = allowances_of(type("S", (), {"profiles": [load_profile(site)]})())
    assert allowance.domains == ("intranet.example",)  # no allowed_domains: the base URL's host
    assert allowance.allows("intranet.example", ip_address("10.1.7.7"), "private_address")
    assert not allowance.allows("intranet.example", ip_address("10.2.7.7"), "private_address")
    site.write_text('base_url = "http://intranet.example"\nallow_private_addresses = ["10.1.0.0/33"]\n')
    with pytest.raises(ProfileError, match="allow_private_addresses"):
        load_profile(site)
    site.write_text('base_url = "http://intranet.example"\nallow_private_addresses = "yes"\n')
    with pytest.raises(ProfileError, match="allow_private_addresses"):
        load_profile(site)


def test_middleware_refuses_counts_and_logs_once_per_host(caplog: pytest.LogCaptureFixture) -> None:
    crawler = get_crawler(settings_dict={"NEWSCLEAN_SAFETY_ENABLED": True})
    assert crawler.stats is not None
    crawler.stats.open_spider()
    guard = Guard()
    middleware = SafeRequestMiddleware(crawler, guard)
    guard.configure([], [], crawler.stats)
    urls = [*UNSAFE_URLS, "http://10.0.0.1/other.html", "http://10.0.0.1/third.html"]
    with caplog.at_level(logging.WARNING, logger="crawler.safety"):
        for url in urls:
            if url.startswith(("javascript:", "data:", "http:///")):  # Request() takes them, as links
                continue
            with pytest.raises(IgnoreRequest, match="refused"):
                middleware.process_request(Request(url))
        middleware.process_request(Request("https://news.example/a.html"))  # passes
    stats = crawler.stats.get_stats()
    assert stats["newsclean/safety/refused/private_address"] == 8
    assert stats["newsclean/safety/refused/metadata_address"] == 2
    assert stats["newsclean/safety/refused/scheme"] == 4
    ten = [r for r in caplog.records if "10.0.0.1" in r.getMessage()]
    assert len(ten) == 1  # three refusals, one line


def test_safety_is_on_in_the_project_settings() -> None:
    settings = get_project_settings()
    assert settings.getbool("ROBOTSTXT_OBEY") is True
    assert settings.getbool("NEWSCLEAN_SAFETY_ENABLED") is True
    assert settings["TWISTED_DNS_RESOLVER"] == "crawler.safety.SafeResolver"
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["crawler.safety.SafeRequestMiddleware"] > 50  # after OffsiteMiddleware
    assert middlewares["scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware"] is None
    assert settings.getint("DOWNLOAD_MAXSIZE") <= 10 * 1024 * 1024


@pytest.mark.parametrize("enabled", [True, False])
def test_safety_setting_switches_the_resolver_too(enabled: bool) -> None:
    crawler = get_crawler(settings_dict={"NEWSCLEAN_SAFETY_ENABLED": enabled})
    resolver = SafeResolver.from_crawler(crawler, cast(Any, None))  # no reactor installed here
    assert type(resolver) is (SafeResolver if enabled else CachingThreadedResolver)


def test_resolver_refuses_a_name_resolving_to_loopback() -> None:
    """``localhost`` resolves to 127.0.0.1: refused, unless the profile allows it for that host."""
    guard = Guard()
    resolver = SafeResolver(cast(Any, None), cache_size=0, timeout=5.0)  # no reactor installed here
    resolver.guard = guard
    with pytest.raises(DNSLookupError, match=r"localhost resolves to 127\.0\.0\.1: refused"):
        resolver._check("127.0.0.1", "localhost")
    assert guard.refused_hosts == {"localhost": "private_address"}
    assert guard.url_problem("http://localhost:8080/a.html") == "private_address"  # no second lookup
    allowed = Guard()
    allowed.configure([Allowance(("localhost",), networks=(ip_network("127.0.0.1"),))], [], None)
    resolver.guard = allowed
    assert resolver._check("127.0.0.1", "localhost") == "127.0.0.1"
    with pytest.raises(DNSLookupError):
        resolver._check("10.0.0.1", "localhost")  # a rebinding to another private address


# -- sitemaps and feeds ------------------------------------------------------------------------

LAUGHS = b"".join(
    b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10 if i else b"lol") for i in range(10)
)
ENTITY_BOMB = b'<?xml version="1.0"?><!DOCTYPE urlset [' + LAUGHS + b"]><urlset><url><loc>&lol9;</loc></url></urlset>"


def external_entity(target: str, base: str = "http://localhost") -> bytes:
    return (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "' + target.encode() + b'">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>' + base.encode()
        + b"/articles/&xxe;.html</loc></url><url><loc>&xxe;</loc></url></urlset>"
    )


def truncated_sitemap(base: str, paths: list[str], cut: str) -> bytes:
    whole = b"".join(b"<url><loc>%s%s</loc></url>" % (base.encode(), p.encode()) for p in paths)
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + whole + b"<url><loc>" + base.encode() + cut.encode())


def test_read_xml_refuses_entities_and_keeps_only_whole_entries(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-7f3a9c\n")
    for body in (ENTITY_BOMB, external_entity("file:///etc/passwd"), external_entity(secret.as_uri())):
        document = read_xml(body)
        assert (document.root, document.problem) == (None, "entities")
        assert parse_sitemap(body) == ("", [])
    cut = read_xml(truncated_sitemap("http://x", ["/a.html", "/b.html"], "/articles/cut.html"))
    assert cut.problem == "broken"
    assert parse_sitemap(cut.root) == ("urlset", [("http://x/a.html", None), ("http://x/b.html", None)])
    for body in (b"", b"\x89PNG\r\n\x1a\n\0\0\0", b"<!DOCTYPE html><html><head><meta charset=utf-8></head>",
                 b'{"items": []}', b"%PDF-1.7\n"):
        assert read_xml(body).problem == "not_xml"
        assert parse_feed(body) == []
    assert read_xml(b"<rss><channel><item><link>http://x/a</link></item></channel></rss>").problem is None


# -- a hostile site, crawled for real ----------------------------------------------------------

GOOD = ["arm-laptops-battery-life-tested.html", "cybersecurite-hopitaux-rancongiciel.html",
        "ev-charging-network-reliability.html", "mise-a-jour-firmware-routeurs.html"]


def gzip_bomb(total: int = 1 << 30, member: int = 16 << 20) -> bytes:
    """``total`` zero bytes as gzip (about 1 MB for 1 GiB): one member of ``member`` zeros, packed
    once, repeated (a gzip file is a series of members; every reader unpacks them all)."""
    one = gzip.compress(bytes(member), compresslevel=9)
    return one * (total // member)


@dataclass
class HostileSite:
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.httpd = ScriptedServer(self.answer)
        self.port = self.httpd.port
        self.base = f"http://localhost:{self.port}"

    def answer(self, request: BaseHTTPRequestHandler) -> Answer:
        self.requests.append((request.headers.get("Host", ""), request.path))
        return self.routes.get(request.path, (404, {"Content-Type": "text/html"}, b"no"))


def build_routes(site: HostileSite, bomb: bytes, secret: Path) -> None:
    base, port = site.base, site.port
    html, xml = {"Content-Type": "text/html; charset=utf-8"}, {"Content-Type": "application/xml"}
    page = {p: (DEMO / "site" / "articles" / p).read_bytes().replace(b"__BASE_URL__", base.encode()) for p in GOOD}
    site.routes.update({f"/articles/{p}": (200, html, body) for p, body in page.items()})
    feed_items = [f"/articles/{GOOD[2]}", "/articles/bomb.html", "/articles/report.html", "/articles/chart.html",
                  "/articles/moved.html", "/private/secret.html"]
    links = ["file:///etc/passwd", f"ftp://localhost:{port}/articles/ftp.html", "javascript:alert(1)",
             "data:text/html,<p>x</p>", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/articles/ten.html",
             f"http://127.0.0.2:{port}/articles/{GOOD[3]}", f"/articles/{GOOD[0]}"]
    pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64
    site.routes.update({
        "/robots.txt": (200, {"Content-Type": "text/plain"},
                        f"User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap_index.xml\n".encode()),
        "/sitemap_index.xml": (200, xml, (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<sitemap><loc>{base}/{n}</loc></sitemap>" for n in
                      ("sitemap-laughs.xml", "sitemap-xxe.xml", "sitemap-secret.xml", "sitemap-cut.xml",
                       "sitemap-bomb.xml.gz"))
            + "</sitemapindex>").encode()),
        "/sitemap-laughs.xml": (200, xml, ENTITY_BOMB),
        "/sitemap-xxe.xml": (200, xml, external_entity("file:///etc/passwd", base)),
        "/sitemap-secret.xml": (200, xml, external_entity(secret.as_uri(), base)),
        "/sitemap-cut.xml": (200, xml, truncated_sitemap(base, [f"/articles/{GOOD[0]}", f"/articles/{GOOD[1]}"],
                                                          "/articles/cut.html")),
        "/sitemap-bomb.xml.gz": (200, {"Content-Type": "application/x-gzip"}, bomb),
        "/feed-broken.xml": (200, {"Content-Type": "application/rss+xml"}, b"<html><body>Maintenance {{ feed }}"),
        "/feed.xml": (200, xml, (
            "<rss version='2.0'><channel><title>h</title>"
            + "".join(f"<item><link>{base}{p}</link></item>" for p in feed_items) + "</channel></rss>").encode()),
        "/sections/links.html": (200, html, ("<html><body>" + "".join(
            f'<a href="{href}">link</a>' for href in links) + "</body></html>").encode()),
        "/articles/bomb.html": (200, {**html, "Content-Encoding": "gzip"}, bomb),
        "/articles/report.html": (200, {"Content-Type": "text/html"}, pdf),
        "/articles/chart.html": (200, {"Content-Type": "text/html"}, png),
        "/articles/moved.html": (302, {"Location": f"http://127.0.0.2:{port}/articles/moved-here.html"}, b""),
        "/private/secret.html": (200, html, page[GOOD[0]]),
    })


PROFILE = """base_url = "{base}"
allowed_domains = ["localhost", "127.0.0.2"]
{allow}
robots_sitemaps = true
feeds = ["/feed-broken.xml", "/feed.xml"]
sections = ["/sections/links.html"]
article_allow = ['/articles/[\\w.-]+\\.html$', '/private/']
follow_depth = 0
[settings]
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_START_DELAY = 0.0
AUTOTHROTTLE_MAX_DELAY = 1.0
CONCURRENT_REQUESTS_PER_DOMAIN = 8
RETRY_TIMES = 1
"""


def crawl(tmp: Path, site: HostileSite, name: str, allow: str, out: Path) -> subprocess.Popen[str]:
    sites = tmp / f"sites-{name}"
    sites.mkdir()
    (sites / f"{name}.toml").write_text(PROFILE.format(base=site.base, allow=allow), encoding="utf-8")
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"site={name}", "-o", str(out),
           "-s", f"NEWSCLEAN_SITES_DIR={sites}", "-s", f"NEWSCLEAN_STATE_DIR={tmp / ('state-' + name)}",
           "-s", "NEWSCLEAN_POOL_SIZE=0", "-s", "LOG_LEVEL=INFO"]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "default"})


@dataclass
class Crawled:
    returncode: int
    log: str
    stats: dict[str, float]
    out: Path
    requests: list[tuple[str, str]]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Both crawls, run side by side, each against its own server."""
    tmp = tmp_path_factory.mktemp("hostile")
    secret = tmp / "secret.txt"
    secret.write_text("SECRET-7f3a9c-never-read\n")
    bomb = gzip_bomb()
    servers = {name: HostileSite() for name in ("hostile", "closed")}
    for server in servers.values():
        build_routes(server, bomb, secret)
        server.httpd.start()
    # a line an earlier run wrote: it must survive the hostile crawl as it is
    earlier = orjson.dumps({"url": "http://localhost/earlier.html", "text": "written before"}) + b"\n"
    outs = {name: tmp / f"{name}.jsonl" for name in servers}
    outs["hostile"].write_bytes(earlier)
    processes = {
        "hostile": crawl(tmp, servers["hostile"], "hostile", 'allow_private_addresses = ["127.0.0.1"]',
                         outs["hostile"]),
        "closed": crawl(tmp, servers["closed"], "closed", "", outs["closed"]),
    }
    runs = {}
    try:
        for name, process in processes.items():
            _, log = process.communicate(timeout=300)
            stats = {k: float(v) for k, v in STAT_LINE.findall(log)}
            runs[name] = Crawled(process.returncode, log, stats, outs[name], list(servers[name].requests))
        yield {"runs": runs, "earlier": earlier, "secret": secret, "tmp": tmp, "bomb": bomb}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        for server in servers.values():
            server.httpd.stop()


def test_the_bomb_is_small_and_big(hostile: dict[str, Any]) -> None:
    bomb = hostile["bomb"]
    assert len(bomb) < 2 * 1024 * 1024
    with gzip.GzipFile(fileobj=__import__("io").BytesIO(bomb)) as stream:
        unpacked = sum(len(chunk) for chunk in iter(lambda: stream.read(1 << 24), b""))
    assert unpacked == 1 << 30


def test_a_profile_without_the_allowance_reaches_nothing_on_loopback(hostile: dict[str, Any]) -> None:
    run = hostile["runs"]["closed"]
    assert run.returncode == exit_codes.NOTHING, run.log[-3000:]  # not one response
    assert "exit code 4: nothing could be fetched: 0 responses to 0 requests;" in run.log
    assert run.requests == []  # not even robots.txt: every connection refused before it was made
    assert run.stats["newsclean/safety/refused/private_address"] >= 1
    assert run.log.count("refused (private_address): localhost resolves to 127.0.0.1") == 1
    assert read_jsonl(run.out) == []
    assert not any("ConnectionRefused" in k for k in run.stats)


def test_hostile_crawl_goes_on_and_writes_the_good_articles(hostile: dict[str, Any]) -> None:
    run = hostile["runs"]["hostile"]
    assert run.returncode == 0, run.log[-3000:]
    data = run.out.read_bytes()
    assert data.startswith(hostile["earlier"])  # what was written before is untouched
    records = read_jsonl(run.out)[1:]
    written = sorted(r["url"].rsplit("/", 1)[1] for r in records)
    assert written == sorted(GOOD[:3])  # GOOD[3] only behind 127.0.0.2: refused
    assert all(r["url"].startswith("http://localhost:") for r in records)
    assert run.stats["item_scraped_count"] == 3


def test_each_hostile_input_is_counted_by_reason(hostile: dict[str, Any]) -> None:
    s = hostile["runs"]["hostile"].stats
    assert s["newsclean/spider/bad_xml/entities"] == 3  # billion laughs, /etc/passwd, the secret file
    assert s["newsclean/spider/bad_xml/broken"] == 1  # the truncated sitemap
    assert s["newsclean/spider/bad_xml/not_xml"] == 1  # the feed that is not XML
    assert s["newsclean/spider/bad_xml/too_large_unpacked"] == 1  # the gzipped sitemap bomb
    assert s["newsclean/safety/dropped/too_large_unpacked"] == 1  # the Content-Encoding: gzip bomb
    assert s["newsclean/clean/dropped/not_html"] == 2  # the PDF and the PNG served as text/html
    assert s["newsclean/safety/refused/scheme"] == 1  # ftp://localhost/… (an on-site article URL)
    assert s["newsclean/safety/refused/private_address"] == 2  # the 127.0.0.2 link and redirect
    assert s["robotstxt/forbidden"] == 1
    assert "newsclean/safety/refused/metadata_address" not in s  # such links never leave the spider
    assert not any("ConnectionRefused" in k or "DNSLookup" in k or "CannotResolve" in k for k in s)
    assert ("unsafe      refused: private_address 2, scheme 1; gzip bombs 1; bad sitemaps or feeds: "
            "broken 1, entities 3, not_xml 1, too_large_unpacked 1") in hostile["runs"]["hostile"].log


def test_each_hostile_input_is_logged_once_with_its_url(hostile: dict[str, Any]) -> None:
    run = hostile["runs"]["hostile"]
    base = f"http://localhost:{run.requests[0][0].rsplit(':', 1)[1]}"
    for path, reason in [("/sitemap-laughs.xml", "entities"), ("/sitemap-xxe.xml", "entities"),
                         ("/sitemap-secret.xml", "entities"), ("/sitemap-cut.xml", "broken"),
                         ("/feed-broken.xml", "not_xml"), ("/sitemap-bomb.xml.gz", "too_large_unpacked")]:
        assert run.log.count(f"{base}{path} ({reason})") == 1, path
    assert run.log.count(f"<200 {base}/articles/bomb.html> because its body") == 1
    port = base.rsplit(":", 1)[1]
    assert run.log.count(f"refused (private_address): http://127.0.0.2:{port}/articles/") == 1  # once per host
    assert run.log.count(f"refused (scheme): ftp://localhost:{port}/articles/ftp.html") == 1
    for name in ("report", "chart"):
        assert f"not_html: {base}/articles/{name}.html" in run.log


def test_nothing_unsafe_was_requested_or_leaked(hostile: dict[str, Any]) -> None:
    run = hostile["runs"]["hostile"]
    paths = [path for _, path in run.requests]
    hosts = {host for host, _ in run.requests}
    assert hosts == {f"localhost:{run.requests[0][0].rsplit(':', 1)[1]}"}
    assert "/private/secret.html" not in paths  # robots.txt obeyed
    assert "/articles/cut.html" not in paths  # the entry cut short is not requested
    pages = [p for p in paths if p != "/robots.txt"]  # robots.txt: read by the spider and by Scrapy
    assert len(pages) == len(set(pages))  # nothing retried
    assert sorted(p for p in paths if p.startswith("/articles/")) == sorted(
        [f"/articles/{g}" for g in GOOD[:3]] + [f"/articles/{n}.html" for n in ("bomb", "report", "chart", "moved")])
    assert not any(word in p for p in paths for word in ("passwd", "meta-data", "ftp", "ten.html", "lol", "&"))
    # neither /etc/passwd nor the secret file was read into anything
    passwd = Path("/etc/passwd").read_text().splitlines()[0]
    everything = run.log + run.out.read_text("utf-8") + repr(run.requests)
    assert "SECRET-7f3a9c" not in everything
    assert passwd not in everything
    assert "lollollol" not in everything


@pytest.mark.parametrize(("body", "expected"), [
    # cut inside the last entry's <loc>: the cut entry is left out
    (b"<urlset><url><loc>http://x/a</loc></url><url><loc>http://x/cu", ["http://x/a"]),
    # cut right after a whole entry: every entry is whole
    (b"<urlset><url><loc>http://x/a</loc></url><url><loc>http://x/b</loc></url>", ["http://x/a", "http://x/b"]),
    # damage inside an entry part-way (a bare "&"): that entry and every later one are left out
    (b"<urlset><url><loc>http://x/a</loc></url><url><loc>http://x/b&c</loc></url>"
     b"<url><loc>http://x/d</loc></url></urlset>", ["http://x/a"]),
    # entry tags inside comments and CDATA are not entries
    (b"<rss><channel><!-- <item> --><item><link>http://x/a</link><description><![CDATA[</item><item>]]>"
     b"</description></item><item><link>http://x/b", ["http://x/a"]),
    # prefixed entry tags
    (b'<s:urlset xmlns:s="http://www.sitemaps.org/schemas/sitemap/0.9"><s:url><s:loc>http://x/a</s:loc></s:url>'
     b"<s:url><s:loc>http://x/b", ["http://x/a"]),
])
def test_broken_documents_keep_whole_entries_whatever_libxml2_recovers(body: bytes, expected: list[str]) -> None:
    """Decided on the bytes (``whole_entries``), so lxml 5 (libxml2 < 2.14, open elements left
    open) and lxml 6.2 (libxml2 2.14, open elements closed at the damage) keep the same entries."""
    document = read_xml(body)
    assert document.problem == "broken"
    def local(tag: object) -> str:
        return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""

    entries = [e for e in document.root.iter() if local(e.tag) in ("url", "item")]
    assert ["".join(c.text or "" for c in e if local(c.tag) in ("loc", "link")) for e in entries] == expected
