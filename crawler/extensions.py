"""Crawl extensions: a readable summary of the run's stats when the spider closes; fewer garbage
collections in the crawl's process."""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.outcomes import download_errors_line

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def summary_lines(stats: dict[str, Any]) -> list[str]:
    """The summary, one line per topic, from a stats dict."""

    def group(prefix: str) -> str:
        items = sorted((k[len(prefix) :], v) for k, v in stats.items() if k.startswith(prefix))
        return ", ".join(f"{k} {v}" for k, v in items) or "none"

    elapsed = stats.get("elapsed_time_seconds") or 0.0
    pages = stats.get("response_received_count", 0)
    rate = pages / elapsed if elapsed else 0.0
    return [
        f"fetched     {pages} responses in {elapsed:.1f} s ({rate:.1f} pages/s); "
        f"status: {group('downloader/response_status_count/')}",
        f"download    {download_errors_line(stats)}",
        f"discovered  {group('newsclean/spider/discovered/')}",
        f"skipped     {group('newsclean/spider/skipped/')}; seen in state "
        f"{stats.get('newsclean/spider/skipped/seen_url', 0) + stats.get('newsclean/state/skipped/seen_url', 0)}; "
        f"robots.txt forbidden "
        f"{stats.get('robotstxt/forbidden', 0)}; offsite {stats.get('offsite/filtered', 0)}",
        f"unsafe      refused: {group('newsclean/safety/refused/')}; gzip bombs "
        f"{stats.get('newsclean/safety/dropped/too_large_unpacked', 0)}; bad sitemaps or feeds: "
        f"{group('newsclean/spider/bad_xml/')}",
        f"articles    {stats.get('newsclean/spider/articles', 0)} pages; errors: "
        f"{group('newsclean/spider/article_error/')}",
        f"cleaned     {stats.get('newsclean/clean/forwarded', 0)} of {stats.get('newsclean/clean/total', 0)}; "
        f"dropped: {group('newsclean/clean/dropped/')}",
        f"languages   {group('newsclean/language/')}",
        f"dedup       {stats.get('newsclean/dedup/forwarded', 0)} new; dropped: {group('newsclean/dedup/dropped/')}",
        f"written     {stats.get('item_scraped_count', 0)} records; committed to state "
        f"{stats.get('newsclean/state/committed', 0)}",
    ]


class CrawlSummary:
    """Log :func:`summary_lines` at spider close. ``NEWSCLEAN_SUMMARY_ENABLED`` (True)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlSummary:
        if not crawler.settings.getbool("NEWSCLEAN_SUMMARY_ENABLED", True):
            raise NotConfigured("NEWSCLEAN_SUMMARY_ENABLED is off")
        return cls(crawler)

    def spider_closed(self, reason: str, **_: Any) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        logger.info("newsclean summary (%s):\n  %s", reason, "\n  ".join(summary_lines(stats)))


class GcTuning:
    """Fewer garbage collections in the crawl's process: when the engine starts, the objects of
    start-up (modules, settings, profiles, the spider) are frozen out of the collector's scans
    (``gc.freeze``) and a collection starts after ``NEWSCLEAN_GC_THRESHOLD`` (default
    ``[20000, 20, 20]``) net allocations instead of Python's 700 (what that saves is measured in
    docs/speed.md); cyclic garbage is still collected, only in larger batches. Restored when the engine stops.
    ``NEWSCLEAN_GC_TUNING`` (True) switches it off.
    """

    def __init__(self, crawler: Crawler, threshold: tuple[int, ...]) -> None:
        self.threshold = threshold
        self.previous: tuple[int, ...] | None = None
        crawler.signals.connect(self.engine_started, signal=signals.engine_started)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GcTuning:
        settings = crawler.settings
        if not settings.getbool("NEWSCLEAN_GC_TUNING", True):
            raise NotConfigured("NEWSCLEAN_GC_TUNING is off")
        threshold = tuple(int(x) for x in settings.getlist("NEWSCLEAN_GC_THRESHOLD", [20000, 20, 20]))
        if not 1 <= len(threshold) <= 3 or threshold[0] <= 0:
            raise ValueError(f"NEWSCLEAN_GC_THRESHOLD: 1 to 3 positive integers, not {threshold}")
        return cls(crawler, threshold)

    def engine_started(self) -> None:
        gc.collect()
        gc.freeze()
        self.previous = gc.get_threshold()
        gc.set_threshold(*self.threshold)

    def engine_stopped(self) -> None:
        if self.previous is not None:
            gc.set_threshold(*self.previous)
            gc.unfreeze()
            self.previous = None
