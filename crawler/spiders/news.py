# Over 300 lines: discovery (robots, sitemaps, feeds, sections) is one flow with its bounds and its XML reading.
"""The ``news`` spider: discovery from a site's sitemaps, feeds and section pages; yields raw pages.

    scrapy crawl news -a site=demo                 # the embedded demo site, served on 127.0.0.1
    scrapy crawl news -a site=numerama,theverge     # several profiles (crawler/sites/*.toml)
    scrapy crawl news -a site=all -a since=2026-11-01

Discovery: ``/robots.txt`` ``Sitemap:`` lines, sitemap indexes, sitemaps (Google News
``news:publication_date`` or ``lastmod``), RSS 2.0 / RSS 1.0 / Atom feeds, and section pages whose
links are followed ``follow_depth`` hops. Articles are requested newest first where the source
gives a date (the request priority is the date in hours) and skipped when older than ``since``.
The spider never cleans: it yields :class:`~crawler.items.RawPage` items for the pipelines.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.python.failure import Failure

from crawler.demo_server import DemoServer
from crawler.items import RawPage
from crawler.middlewares import ARTICLE_META, REFETCH_META
from crawler.profiles import PROJECT_DIR, SITES_DIR, ProfileError, SiteProfile, resolve_sites
from crawler.safety import read_xml
from pipelines.compat.scrapy import gunzip_errors, unpacked_too_large
from pipelines.item_pipelines import state_failed, state_for
from pipelines.store.base import StateUnavailable

logger = logging.getLogger(__name__)

#: Discovery requests go before any article; articles are ordered by their date in hours.
DISCOVERY_PRIORITY = 10_000_000
SECTION_PRIORITY = 9_000_000
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_EPOCH_MIN = datetime.min.replace(tzinfo=UTC)


def parse_date(text: str | None) -> datetime | None:
    """ISO 8601 (sitemaps, Atom) or RFC 822 (RSS) to an aware UTC datetime; None if unreadable."""
    if not text or not text.strip():
        return None
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def date_priority(moment: datetime | None) -> int:
    """Newer is higher; undated articles come last (0)."""
    if moment is None:
        return 0
    return max(int((moment - _EPOCH).total_seconds() // 3600), 1)


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _child_text(element: Any, *names: str) -> str | None:
    for child in element.iter():
        if _local(child.tag) in names and child.text and child.text.strip():
            return str(child.text).strip()
    return None


def parse_sitemap(body: bytes | Any) -> tuple[str, list[tuple[str, datetime | None]]]:
    """``("sitemapindex" | "urlset" | "", [(loc, date), ...])``; the date is the Google News
    ``publication_date`` when present, else ``lastmod``. ``body``: bytes, or a root element read
    by :func:`crawler.safety.read_xml` (no entity is ever expanded)."""
    root = read_xml(body).root if isinstance(body, bytes) else body
    if root is None:
        return "", []
    kind = _local(root.tag)
    entries = []
    for element in root:
        if _local(element.tag) not in ("url", "sitemap"):
            continue
        loc = _child_text(element, "loc")
        if loc:
            when = _child_text(element, "publication_date") or _child_text(element, "lastmod")
            entries.append((loc, parse_date(when)))
    return kind, entries


def newest_first(entries: list[tuple[str, datetime | None]]) -> list[tuple[str, datetime | None]]:
    """Entries newest first, undated ones last, each group in document order."""
    return sorted(entries, key=lambda entry: entry[1] or _EPOCH_MIN, reverse=True)


def parse_feed(body: bytes | Any) -> list[tuple[str, datetime | None]]:
    """Entry links and dates of an RSS 2.0, RSS 1.0 (RDF) or Atom feed (bytes, or a root element
    read by :func:`crawler.safety.read_xml`)."""
    root = read_xml(body).root if isinstance(body, bytes) else body
    if root is None:
        return []
    entries = []
    for element in root.iter():
        name = _local(element.tag)
        if name == "item":  # RSS 2.0 and RSS 1.0
            link = _child_text(element, "link") or (element.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"))
            when = parse_date(_child_text(element, "pubdate", "date", "published", "updated"))
        elif name == "entry":  # Atom
            link = _atom_link(element)
            when = parse_date(_child_text(element, "published", "updated"))
        else:
            continue
        if link:
            entries.append((link.strip(), when))
    return entries


def _atom_link(element: Any) -> str | None:
    for child in element:
        if _local(child.tag) == "link" and child.get("rel", "alternate") == "alternate" and child.get("href"):
            return str(child.get("href"))
    return None


#: Dates of a sitemap or feed entry that say when it last changed.
_CHANGE_DATES = ("lastmod", "updated", "modified", "publication_date", "pubdate", "date", "published")


def changed_dates(root: Any) -> dict[str, datetime]:
    """Link → the newest date of a sitemap ``<url>`` (``lastmod``, ``publication_date``) or a feed
    entry (``updated``, ``published``, ``pubDate``, ``dc:date``): when the source says the article
    last changed. Decides whether an article stored before is fetched again."""
    found: dict[str, datetime] = {}
    if root is None:
        return found
    for element in root.iter():
        name = _local(element.tag)
        if name == "url":
            link = _child_text(element, "loc")
        elif name == "item":
            link = _child_text(element, "link") or element.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
        elif name == "entry":
            link = _atom_link(element)
        else:
            continue
        dates = [parse_date(child.text) for child in element.iter() if _local(child.tag) in _CHANGE_DATES]
        newest = max((d for d in dates if d is not None), default=None)
        if link and newest is not None:
            found[link.strip()] = max(newest, found.get(link.strip(), newest))
    return found


#: Query parameters that only track where a click came from: dropped from article URLs, so the
#: same article found through a feed and a sitemap is one URL (for the dupefilter and the state).
TRACKING_PARAMS = re.compile(r"^(?:utm_\w+|xtor|at_\w+|fbclid|gclid|ocid|cmpid|ito|icid|mc_cid|mc_eid)$", re.IGNORECASE)


def clean_url(url: str) -> str:
    """``url`` without its fragment and tracking parameters."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def start_demo_server(root: str, port: int, access_log: str | None) -> DemoServer:
    """The demo site on its usual port (stable URLs, so the state recognises them next run), or on
    a free port when that one is taken."""
    try:
        server = DemoServer(root, port=port, access_log=access_log)
    except OSError as exc:
        logger.warning("demo site: port %s unavailable (%s); serving on a free port", port, exc)
        server = DemoServer(root, port=0, access_log=access_log)
    return server.start()


def parse_since(text: str | None) -> datetime | None:
    """``-a since=YYYY-MM-DD`` as the start of that day (UTC); a :class:`ValueError` saying what
    is expected for anything else."""
    if text is None or not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"-a since={text}: not a date; give a day as YYYY-MM-DD (e.g. 2026-11-01)") from None
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def sites_directory(sites_dir: str | None, setting: str | None) -> Path:
    """Where profiles are read: ``-a sites_dir``, else ``NEWSCLEAN_SITES_DIR``, else the package's."""
    return Path(sites_dir or setting or SITES_DIR)


class NewsSpider(Spider):
    name = "news"

    def __init__(
        self, site: str | None = None, since: str | None = None, sites_dir: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.site = site or ""
        self.sites_dir = Path(sites_dir) if sites_dir else None
        self.profiles: list[SiteProfile] = []
        self._profile_error: ProfileError | None = None
        try:
            self.profiles = resolve_sites(self.site, self.sites_dir or SITES_DIR)
        except ProfileError as exc:  # perhaps in NEWSCLEAN_SITES_DIR, known once settings are read
            self._profile_error = exc
        self.since = parse_since(since)
        self.servers: list[DemoServer] = []
        self.allowed_domains = sorted({d for p in self.profiles for d in p.allowed_domains})
        #: article requests queued per site this run, against NEWSCLEAN_MAX_QUEUED_PER_SITE
        self.queued: dict[str, int] = {}
        self.max_queued = 10_000
        self.refetch_interval = 3600.0
        self._check_seen = False
        self._full_logged: set[str] = set()

    @classmethod
    def check_arguments(cls, spider_args: dict[str, str], sites_dir_setting: str | None) -> None:
        """Raise :class:`~crawler.profiles.ProfileError` or :class:`ValueError`, with one line
        saying what is wrong, for arguments the crawl cannot run with (no or unknown site, a bad
        profile, a bad ``since``); the crawl command calls it before starting anything."""
        resolve_sites(spider_args.get("site") or "", sites_directory(spider_args.get("sites_dir"), sites_dir_setting))
        parse_since(spider_args.get("since"))

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        spider._configure(crawler)
        crawler.signals.connect(spider._stop_servers, signal=signals.spider_closed)
        crawler.signals.connect(spider._stop_servers, signal=signals.engine_stopped)
        return spider

    def _configure(self, crawler: Crawler) -> None:
        """Runs before the settings are frozen: serve the demo site, apply profile settings, the
        User-Agent and the default feed."""
        settings = crawler.settings
        if settings.get("NEWSCLEAN_SITES_DIR") and self.sites_dir is None:
            self.profiles = resolve_sites(self.site, Path(settings.get("NEWSCLEAN_SITES_DIR")))
        elif self._profile_error is not None:
            raise self._profile_error
        served = []
        for profile in self.profiles:
            if profile.serve and settings.get("NEWSCLEAN_DEMO_URL"):
                # served once for several workers (a shared crawl): every worker sees the same URLs
                profile = profile.with_base_url(settings.get("NEWSCLEAN_DEMO_URL"))
            elif profile.serve:
                root = settings.get("NEWSCLEAN_DEMO_ROOT") or str(PROJECT_DIR / profile.serve)
                server = start_demo_server(
                    root, settings.getint("NEWSCLEAN_DEMO_PORT", 8642), settings.get("NEWSCLEAN_DEMO_ACCESS_LOG")
                )
                self.servers.append(server)
                profile = profile.with_base_url(server.base_url)
            served.append(profile)
        self.profiles = served
        self.allowed_domains = sorted({d for p in self.profiles for d in p.allowed_domains})
        if len(self.profiles) == 1:
            for name, value in self.profiles[0].settings.items():
                settings.set(name, value, priority="spider")
        elif any(p.settings for p in self.profiles):
            logger.info("several sites: their [settings] tables are not applied")
        self.max_queued = settings.getint("NEWSCLEAN_MAX_QUEUED_PER_SITE", 10_000)
        self.refetch_interval = settings.getfloat("NEWSCLEAN_REFETCH_INTERVAL", 3600.0)
        self._check_seen = settings.getbool("NEWSCLEAN_STATE_ENABLED", True) and settings.getbool(
            "NEWSCLEAN_SKIP_SEEN", True
        )
        contact = settings.get("NEWSCLEAN_CONTACT") or ""
        user_agent = settings.get("NEWSCLEAN_USER_AGENT")
        if user_agent:
            settings.set("USER_AGENT", user_agent.replace("%(contact)s", contact), priority="spider")
        default_feed = settings.get("NEWSCLEAN_FEED_URI")
        if default_feed and not settings.getdict("FEEDS") and settings.getpriority("FEEDS") in (None, 0, 20):
            settings.set("FEEDS", {default_feed: {"format": "jsonl"}}, priority="spider")

    def _stop_servers(self, **_: Any) -> None:
        while self.servers:
            self.servers.pop().stop()

    # -- starts --------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_requests_of_profiles():
            yield request

    def start_requests_of_profiles(self) -> Iterator[Request]:
        for profile in self.profiles:
            meta = {"newsclean_site": profile.name}
            if profile.robots_sitemaps:
                yield Request(profile.robots_url(), self.parse_robots, meta=meta, priority=DISCOVERY_PRIORITY)
            for source in profile.sitemaps:
                yield Request(profile.url(source), self.parse_sitemap, meta=meta, priority=DISCOVERY_PRIORITY)
            for source in profile.feeds:
                yield Request(profile.url(source), self.parse_feed, meta=meta, priority=DISCOVERY_PRIORITY)
            for source in profile.sections:
                yield Request(
                    profile.url(source), self.parse_section, meta={**meta, "newsclean_depth": 0},
                    priority=SECTION_PRIORITY,
                )

    def profile_of(self, response: Response) -> SiteProfile:
        name = response.meta.get("newsclean_site")
        for profile in self.profiles:
            if profile.name == name:
                return profile
        raise KeyError(name)

    # -- discovery -----------------------------------------------------------------------------
    def parse_robots(self, response: Response) -> Iterator[Request]:
        profile = self.profile_of(response)
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            self._count("discovered/robots_sitemap")
            yield Request(url, self.parse_sitemap, meta={"newsclean_site": profile.name}, priority=DISCOVERY_PRIORITY)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        profile = self.profile_of(response)
        yield from self._read_sitemap(response, profile)
        yield from self._next_sitemap(response.meta, profile)

    def sitemap_failed(self, failure: Failure) -> Iterator[Request]:
        """A child sitemap that could not be fetched: the index's next child is read instead."""
        request = getattr(failure, "request", None)
        if request is None:
            return
        self._count("bad_xml/not_fetched")
        logger.warning("sitemap not fetched: %s (%s)", request.url, failure.getErrorMessage())
        for profile in self.profiles:
            if profile.name == request.meta.get("newsclean_site"):
                yield from self._next_sitemap(request.meta, profile)

    def _read_sitemap(self, response: Response, profile: SiteProfile) -> Iterator[Request]:
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
            except gunzip_errors() as exc:
                reason = "too_large_unpacked" if unpacked_too_large(exc) else "broken_gzip"
                self._bad_xml(reason, response.url)
                return
        document = read_xml(body)
        if document.problem:
            self._bad_xml(document.problem, response.url)
        kind, entries = parse_sitemap(document.root)
        changed = changed_dates(document.root) if kind == "urlset" else {}
        problem = document.problem
        del document, body  # the tree of a large sitemap is not kept while its entries are queued
        if kind == "sitemapindex":
            children = []
            for url, when in newest_first(entries):
                if self._too_old(when):
                    self._count("skipped/older_than_since")
                    continue
                self._count("discovered/child_sitemap")
                children.append(url)
            # read one child at a time, newest first: the next when this one is done, none once
            # the site's budget is spent (the rest is read by a later run)
            yield from self._next_sitemap({"newsclean_sitemaps": children}, profile)
        elif kind == "urlset":
            for index, (url, when) in enumerate(newest_first(entries)):
                if not self._budget_left(profile):
                    self._count("skipped/over_site_cap", len(entries) - index)
                    break
                yield from self._article(profile, url, when, "sitemap", changed.get(url))
        elif problem is None:
            self._count("skipped/unreadable_sitemap")
            logger.warning("not a sitemap: %s", response.url)

    def _next_sitemap(self, meta: dict[str, Any], profile: SiteProfile) -> Iterator[Request]:
        pending: list[str] = meta.get("newsclean_sitemaps") or []
        if not pending:
            return
        if not self._budget_left(profile):
            self._count("skipped/sitemap_over_site_cap", len(pending))
            return
        yield Request(
            pending[0], self.parse_sitemap, errback=self.sitemap_failed, priority=DISCOVERY_PRIORITY,
            meta={"newsclean_site": profile.name, "newsclean_sitemaps": pending[1:]},
        )

    def parse_feed(self, response: Response) -> Iterator[Request]:
        profile = self.profile_of(response)
        document = read_xml(response.body)
        if document.problem:
            self._bad_xml(document.problem, response.url)
        entries = parse_feed(document.root)
        changed = changed_dates(document.root)
        if not entries and not document.problem:
            self._count("skipped/empty_feed")
        for url, when in entries:
            yield from self._article(profile, response.urljoin(url), when, "feed", changed.get(url))

    def parse_section(self, response: Response) -> Iterator[Request]:
        profile = self.profile_of(response)
        depth = int(response.meta.get("newsclean_depth", 0))
        hrefs = response.xpath("//a/@href").getall() if hasattr(response, "xpath") else []
        for href in dict.fromkeys(hrefs):
            url = clean_url(response.urljoin(href.strip()))
            if profile.is_article(url):
                yield from self._article(profile, url, None, "section")
            elif depth < profile.follow_depth and profile.is_followable(url):
                self._count("discovered/section_page")
                yield Request(
                    url, self.parse_section, meta={"newsclean_site": profile.name, "newsclean_depth": depth + 1},
                    priority=SECTION_PRIORITY - depth - 1,
                )

    def _seen(self, url: str) -> bool:
        """Whether the state knows ``url``; a state gone past its retry bound stops the crawl
        (:func:`pipelines.item_pipelines.state_failed`) and the URL counts as seen."""
        try:
            return state_for(self.crawler).seen_url(url)
        except StateUnavailable as exc:
            state_failed(self.crawler, exc)
            return True

    def _article(self, profile: SiteProfile, url: str, when: datetime | None, source: str,
                 changed: datetime | None = None) -> Iterator[Request]:
        url = clean_url(url)
        if not profile.is_article(url):
            self._count("skipped/not_article")
            return
        if self._too_old(when):
            self._count("skipped/older_than_since")
            return
        refetch = False
        if self._check_seen and self._seen(url):
            # known already: not queued at all (SeenArticleMiddleware still guards redirects); each
            # occurrence counts (one URL in a feed and a sitemap twice), as discovered/<source> does
            if not self._updated_since_fetch(url, changed):
                self._count("skipped/seen_url")
                return
            refetch = True
        if not self._budget_left(profile):
            self._count("skipped/over_site_cap")
            return
        if refetch:
            self._count("refetched/updated")
        self.queued[profile.name] = self.queued.get(profile.name, 0) + 1
        self._count(f"discovered/{source}")
        yield Request(
            url,
            self.parse_article,
            errback=self.article_failed,
            priority=date_priority(when),
            meta={
                ARTICLE_META: True,
                "newsclean_site": profile.name,
                "newsclean_source": source,
                "newsclean_date": when.isoformat() if when else None,
                REFETCH_META: refetch,
            },
        )

    def _updated_since_fetch(self, url: str, changed: datetime | None) -> bool:
        """Fetch a stored article again? When its sitemap or feed date is newer than its last
        fetch, and that fetch is at least ``NEWSCLEAN_REFETCH_INTERVAL`` seconds old (0: never).
        An article the state knows no written record of (stored before versions, or only ever a
        duplicate of another URL) is not fetched again."""
        if not self.refetch_interval or changed is None:
            return False
        try:
            last = state_for(self.crawler).url_version(url)
        except StateUnavailable as exc:  # the crawl stops (state_failed); nothing refetched
            state_failed(self.crawler, exc)
            return False
        if last is None:
            return False
        return changed.timestamp() > last.fetched_at and time.time() - last.fetched_at >= self.refetch_interval

    def _budget_left(self, profile: SiteProfile) -> bool:
        """May another article request of this site be queued this run?"""
        if not self.max_queued or self.queued.get(profile.name, 0) < self.max_queued:
            return True
        if profile.name not in self._full_logged:
            self._full_logged.add(profile.name)
            logger.warning("%s: %d article requests queued (NEWSCLEAN_MAX_QUEUED_PER_SITE); the older ones "
                           "are left for the next run", profile.name, self.max_queued)
        return False

    def _too_old(self, when: datetime | None) -> bool:
        return self.since is not None and when is not None and when < self.since

    # -- articles ------------------------------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[RawPage]:
        self._count("articles")
        yield RawPage(
            url=response.url,
            request_url=response.request.url if response.request is not None else response.url,
            status=response.status,
            headers={
                k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()
            },
            body=response.body,
            fetched_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            site=response.meta.get("newsclean_site", ""),
            discovered_from=response.meta.get("newsclean_source", ""),
            source_date=response.meta.get("newsclean_date"),
        )

    def article_failed(self, failure: Failure) -> None:
        if isinstance(failure.value, HttpError):
            status = failure.value.response.status
            self._count(f"article_error/http_{status}")
            logger.info("article not fetched (HTTP %s): %s", status, failure.value.response.url)
            return
        if failure.check(IgnoreRequest):  # robots.txt, already stored: counted by their middlewares
            return
        self._count(f"article_error/{failure.type.__name__ if failure.type else 'error'}")
        logger.warning("article not fetched: %s", failure.getErrorMessage())

    def _bad_xml(self, reason: str, url: str) -> None:
        """A sitemap or feed that is not XML, declares entities, or is broken (its whole entries
        are used), counted and logged once with its URL."""
        self._count(f"bad_xml/{reason}")
        logger.warning("%s: %s (%s)", "sitemap or feed refused" if reason == "entities" else "damaged sitemap or feed",
                       url, reason)

    def _count(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newsclean/spider/{key}", count)


__all__ = [
    "NewsSpider", "changed_dates", "clean_url", "date_priority", "parse_date", "parse_feed", "parse_since",
    "parse_sitemap",
    "sites_directory",
]
