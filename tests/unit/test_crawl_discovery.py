"""Discovery and profiles without a crawl: the spider's callbacks on real Scrapy responses built
from the demo site's files, the profile loader, the demo server and the exporter."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.demo_server import DemoServer
from crawler.profiles import SITES_DIR, ProfileError, available_sites, load_profile, resolve_sites
from crawler.spiders.news import NewsSpider, date_priority, parse_date, parse_feed, parse_sitemap
from pipelines.core.record import dumps
from pipelines.feedexport import JsonLinesExporter
from pipelines.rules.text import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "fixtures" / "demo_site" / "site"
BASE = "http://127.0.0.1:8642"
#: every site profile, found the way the crawler finds them
SITE_FILES = sorted(SITES_DIR.glob("*.toml"))
#: the profiles of real sites: all but the ones served from this repository (the demo)
REAL_SITES = {path.stem for path in SITE_FILES if load_profile(path).serve is None}
#: the languages the line rules have a module for
RULE_LANGUAGES = {language.code for language in LANGUAGES}


def body(path: str) -> bytes:
    return (SITE / path).read_bytes().replace(b"__BASE_URL__", BASE.encode())


def spider(**kwargs: str) -> NewsSpider:
    crawler = get_crawler(NewsSpider)
    crawler.stats.open_spider()  # type: ignore[union-attr]
    sp = NewsSpider(**kwargs)
    sp.crawler = crawler
    sp.profiles = [p.with_base_url(BASE) for p in sp.profiles]
    return sp


def response(cls: type, path: str, **meta: object) -> XmlResponse | HtmlResponse:
    url = f"{BASE}/{path}"
    request = Request(url, meta={"newsclean_site": "demo", **meta})
    return cls(url=url, body=body(path), request=request, encoding="utf-8")  # type: ignore[no-any-return]


def test_all_means_every_profile_but_the_demo() -> None:
    assert available_sites() == [path.stem for path in SITE_FILES]
    assert REAL_SITES and set(available_sites()) - REAL_SITES == {"demo"}
    assert [p.name for p in resolve_sites("all")] == sorted(REAL_SITES)


@pytest.mark.parametrize("path", SITE_FILES, ids=[path.stem for path in SITE_FILES])
def test_every_profile_loads(path: Path) -> None:
    profile = load_profile(path)
    assert profile.name == path.stem
    assert profile.allowed_domains and profile.article_allow
    assert profile.feeds or profile.sitemaps or profile.robots_sitemaps
    assert profile.language in RULE_LANGUAGES, f"no line rules for {profile.language!r}: pipelines/rules/text/"
    if path.stem in REAL_SITES:
        assert profile.base_url.startswith("https://")


def test_site_list_and_unknown_site() -> None:
    first, last = sorted(REAL_SITES)[0], sorted(REAL_SITES)[-1]
    assert [p.name for p in resolve_sites(f"{last}, {first}")] == [last, first]
    with pytest.raises(ProfileError, match="unknown site"):
        resolve_sites("nosuchsite")


def test_a_bad_profile_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('base_url = "https://x.example"\nfolow_depth = 2\n')
    with pytest.raises(ProfileError, match="unknown keys"):
        load_profile(bad)
    bad.write_text('base_url = "https://x.example"\narticle_allow = ["("]\n')
    with pytest.raises(ProfileError, match="bad regex"):
        load_profile(bad)


def test_article_patterns_and_offsite() -> None:
    demo = resolve_sites("demo")[0].with_base_url(BASE)
    assert demo.is_article(f"{BASE}/articles/streaming-prices-bundles.html")
    assert not demo.is_article(f"{BASE}/about.html")
    assert not demo.is_article("https://www.example.com/articles/elsewhere.html")  # offsite
    assert demo.is_followable(f"{BASE}/sections/archives.html")


def test_dates_and_priorities() -> None:
    assert parse_date("2026-11-20T08:15:00Z") == datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
    assert parse_date("Fri, 20 Nov 2026 08:15:00 +0000") == datetime(2026, 11, 20, 8, 15, tzinfo=UTC)
    assert parse_date("2026-11-20") == datetime(2026, 11, 20, tzinfo=UTC)
    assert parse_date("soon") is None
    newer, older = parse_date("2026-11-20T09:00:00Z"), parse_date("2026-11-19T09:00:00Z")
    assert date_priority(newer) > date_priority(older) > date_priority(None) == 0


def test_sitemap_index_news_sitemap_and_feeds() -> None:
    kind, entries = parse_sitemap(body("sitemap_index.xml"))
    assert kind == "sitemapindex"
    assert [u for u, _ in entries] == [f"{BASE}/sitemap-news.xml", f"{BASE}/sitemap-articles.xml"]
    kind, entries = parse_sitemap(body("sitemap-news.xml"))
    assert kind == "urlset" and all(d is not None for _, d in entries)  # news:publication_date
    rss = parse_feed(body("feed/rss.xml"))
    atom = parse_feed(body("feed/atom.xml"))
    assert rss and atom and all(u.startswith(f"{BASE}/articles/") and d for u, d in rss + atom)
    rdf = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <item rdf:about="https://x.example/a"><link>https://x.example/a</link><dc:date>2026-11-02T10:00:00Z</dc:date></item>
      </rdf:RDF>"""
    assert parse_feed(rdf) == [("https://x.example/a", datetime(2026, 11, 2, 10, tzinfo=UTC))]
    assert parse_feed(b"<html>not a feed") == []


def test_news_sitemap_requests_newest_first_and_since_skips_older() -> None:
    sp = spider(site="demo")
    requests = list(sp.parse_sitemap(response(XmlResponse, "sitemap-news.xml")))
    assert requests and all(r.meta["newsclean_article"] for r in requests)
    dates = [r.meta["newsclean_date"] for r in requests]
    by_priority = [r.meta["newsclean_date"] for r in sorted(requests, key=lambda r: -r.priority)]
    assert by_priority == sorted(dates, reverse=True)

    recent = spider(site="demo", since="2026-11-19")
    kept = list(recent.parse_sitemap(response(XmlResponse, "sitemap-news.xml")))
    assert 0 < len(kept) < len(requests)
    assert all(r.meta["newsclean_date"] >= "2026-11-19" for r in kept)
    stats = recent.crawler.stats
    assert stats is not None
    assert stats.get_value("newsclean/spider/skipped/older_than_since") == len(requests) - len(kept)


def test_section_pages_follow_to_the_profile_depth() -> None:
    sp = spider(site="demo")
    first = list(sp.parse_section(response(HtmlResponse, "sections/fr.html", newsclean_depth=0)))
    followed = [r for r in first if r.callback == sp.parse_section]
    assert [r.url for r in followed] == [f"{BASE}/sections/archives.html"]
    assert all(r.meta.get("newsclean_article") for r in first if r.callback == sp.parse_article)
    assert not any("example.com" in r.url or r.url.endswith("/about.html") for r in first)
    deepest = list(sp.parse_section(response(HtmlResponse, "sections/en.html", newsclean_depth=2)))
    assert deepest and not [r for r in deepest if r.callback == sp.parse_section]


def test_article_items_are_raw_pages() -> None:
    sp = spider(site="demo")
    [item] = list(sp.parse_article(response(HtmlResponse, "articles/streaming-prices-bundles.html")))
    assert item.body == body("articles/streaming-prices-bundles.html")
    assert item.status == 200 and item.site == "demo" and item.fetched_at.endswith("Z")


def test_demo_server_content_types_and_404(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    with DemoServer(SITE, access_log=log) as server:
        def get(path: str) -> tuple[int, str, bytes]:
            try:
                with urllib.request.urlopen(server.base_url + path, timeout=10) as r:
                    return r.status, r.headers["Content-Type"], r.read()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.headers["Content-Type"], b""

        status, ctype, data = get("/robots.txt")
        assert status == 200 and ctype.startswith("text/plain") and f"Sitemap: {server.base_url}/".encode() in data
        assert get("/articles/streaming-prices-bundles.html")[1] == "text/html; charset=utf-8"
        status, ctype, data = get("/articles/reconditionne-smartphones-marche-croissance.html")
        assert ctype == "text/html" and "é".encode("cp1252") in data
        assert get("/feed/atom.xml")[1].startswith("application/atom+xml")
        assert get("/sitemap-news.xml")[1].startswith("application/xml")
        assert get("/articles/article-supprime-par-la-redaction.html")[0] == 404
        assert get("/_headers.json")[0] == 404
    assert "GET /robots.txt 200" in log.read_text()


def test_exporter_writes_dumps_lines() -> None:
    buffer = io.BytesIO()
    exporter = JsonLinesExporter(buffer)
    exporter.start_exporting()
    records = [{"url": "u1", "text": "Ça va"}, {"url": "u2", "text": "b"}]
    for record in records:
        exporter.export_item(record)
    exporter.finish_exporting()
    assert buffer.getvalue() == b"".join(dumps(r) for r in records)


def test_exporter_cuts_a_partial_last_line_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(dumps({"a": 1}) + b'{"b":')
    with path.open("ab") as handle:
        exporter = JsonLinesExporter(handle)
        exporter.start_exporting()
        exporter.export_item({"c": 3})
    assert path.read_bytes() == dumps({"a": 1}) + dumps({"c": 3})


def test_article_urls_lose_fragments_and_tracking_parameters() -> None:
    from crawler.spiders.news import clean_url

    assert clean_url("https://x.example/a.html?utm_source=rss&id=3&xtor=RSS-1#comments") == "https://x.example/a.html?id=3"
    assert clean_url("https://x.example/a.html") == "https://x.example/a.html"


def test_robots_txt_first_lines() -> None:
    from crawler.bounds import first_lines

    body = b"User-agent: *\nDisallow: /private/\n# padding\n"
    assert first_lines(body, 1000) == body
    assert first_lines(body, 40) == b"User-agent: *\nDisallow: /private/\n"  # the cut line dropped whole
    assert first_lines(body, 34) == b"User-agent: *\nDisallow: /private/\n"
    assert first_lines(body, 10) == b""


def test_changed_dates_take_the_newest_date_of_each_sitemap_url_and_feed_entry() -> None:
    from crawler.safety import read_xml
    from crawler.spiders.news import changed_dates

    sitemap = (b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
               b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
               b"<url><loc>http://x/a</loc><lastmod>2026-12-01T10:00:00Z</lastmod><news:news>"
               b"<news:publication_date>2026-11-01T10:00:00Z</news:publication_date></news:news></url>"
               b"<url><loc>http://x/b</loc></url></urlset>")
    assert changed_dates(read_xml(sitemap).root) == {"http://x/a": datetime(2026, 12, 1, 10, tzinfo=UTC)}
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="http://x/c"/>'
            b"<published>2026-11-01T00:00:00Z</published><updated>2026-11-03T00:00:00Z</updated></entry></feed>")
    assert changed_dates(read_xml(atom).root) == {"http://x/c": datetime(2026, 11, 3, tzinfo=UTC)}
    rss = (b"<rss><channel><item><link>http://x/d</link><pubDate>Tue, 17 Nov 2026 11:00:00 +0000</pubDate>"
           b"</item></channel></rss>")
    assert changed_dates(read_xml(rss).root) == {"http://x/d": datetime(2026, 11, 17, 11, tzinfo=UTC)}
