# Over 300 lines: the three Scrapy adapters (clean, language, dedup) share their settings, drops and state store.
"""Scrapy item pipelines over the cleaning core: clean, language, dedup.

Each is built in ``from_crawler``, configured by ``NEWSCLEAN_*`` settings and can be switched off
(``NEWSCLEAN_<STEP>_ENABLED``). Drops raise named :class:`~scrapy.exceptions.DropItem` subclasses
(Scrapy counts them under ``item_dropped_reasons_count/<class>``). The run's counts (pages in,
drops by reason, records written, removals, the cleaner's step counters) are one
:class:`~pipelines.run.stats.RunStats` per crawl, which ``newsclean clean`` uses too, written into
the stats as they change (:func:`crawl_key`); each step adds its own totals under
``newsclean/<step>/<counter>`` (every key is listed in ``docs/stats.md``).

* :class:`CleanPipeline` turns a :class:`~crawler.items.RawPage` into a record with
  :meth:`pipelines.core.cleaner.Cleaner.clean`, in a process pool of ``NEWSCLEAN_POOL_SIZE`` workers
  (default: one per core; 0 cleans in the crawl's process), awaited without blocking the reactor.
* :class:`LanguagePipeline` counts languages and drops those outside ``NEWSCLEAN_LANGUAGES``.
* :class:`DedupPipeline` drops a record whose content hash was already written, in this run or
  in an earlier one (the state store, ``NEWSCLEAN_STATE_DIR``), and commits a hash to the store
  only once the feed exporter has written its line (``item_scraped``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import weakref
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.extensions.feedexport import FeedExporter, FileFeedStorage
from scrapy.utils.defer import deferred_from_coro

from pipelines.core.cleaner import Cleaner, CleanOptions, Drop, Page
from pipelines.feedexport import failed_to_write
from pipelines.reasons import CRAWL_REASONS, DUPLICATE_HASH, MINOR_EDIT, NEAR_DUPLICATE, UNCHANGED
from pipelines.run import usable_cores
from pipelines.run.dedup import Deduper, Verdict
from pipelines.run.neardup import POLICIES as NEAR_POLICIES
from pipelines.run.pool import LoopPool
from pipelines.run.stats import CountsSince, RunStats
from pipelines.store import DedupStore, StateUnavailable, open_state

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

#: The state folder when ``NEWSCLEAN_STATE_DIR`` is not set: ``state/`` in the current folder
#: (the Scrapy project folder, where ``scrapy crawl`` runs), never inside the installed package.
DEFAULT_STATE_DIR = "state"


# -- drops -------------------------------------------------------------------------------------
class NewscleanDrop(DropItem):
    """A page or record dropped by a newsclean pipeline, with a stable ``reason`` (a crawl
    reason of :mod:`pipelines.reasons`)."""

    #: the level of Scrapy's "Dropped: ..." line (which prints the whole record)
    log_level = "INFO"

    def __init__(self, reason: str, url: str = "", detail: str = "") -> None:
        if reason not in CRAWL_REASONS:
            raise ValueError(f"not a registered crawl reason: {reason!r} (see pipelines.reasons)")
        self.reason = reason
        self.url = url
        super().__init__(f"{reason}: {url} {detail}".rstrip(), log_level=type(self).log_level)


class CleanDrop(NewscleanDrop):
    """The cleaner gave no record (reason: a ``page`` reason of :mod:`pipelines.reasons`, or ``worker_died``)."""


class LanguageDrop(NewscleanDrop):
    """The record's language is not in ``NEWSCLEAN_LANGUAGES``."""


class DuplicateDrop(NewscleanDrop):
    """The record's content hash was already written (this run or an earlier one). Not a fault:
    counted in the stats, and its "Dropped" line (the whole record) logged at DEBUG only."""

    log_level = "DEBUG"


# -- the state store, one per crawler ----------------------------------------------------------
_STATES: weakref.WeakKeyDictionary[Crawler, DedupStore] = weakref.WeakKeyDictionary()


def state_dir(crawler: Crawler) -> str:
    """``NEWSCLEAN_STATE_DIR`` (a folder or a ``redis://`` URL), else ``state/`` in the current folder."""
    return str(crawler.settings.get("NEWSCLEAN_STATE_DIR") or os.path.abspath(DEFAULT_STATE_DIR))


def state_for(crawler: Crawler) -> DedupStore:
    """The crawl's state store (opened on first use in ``export`` commit mode, closed when the
    engine stops), shared by the seen-URL middleware and the dedup pipeline."""
    store = _STATES.get(crawler)
    if store is None:
        spec = state_dir(crawler)
        store = open_state(spec, commit="export")
        _STATES[crawler] = store
        if crawler.stats is not None:
            for key, value in store.recovered.items():
                crawler.stats.set_value(f"newsclean/state/recovered/{key}", value)
        logger.info("state store: %s", spec)

        def close(**_: Any) -> None:
            _STATES.pop(crawler, None)
            store.close()

        crawler.signals.connect(close, signal=signals.engine_stopped, weak=False)
    return store


#: Finish reason and stat of a crawl whose state or shared queue (Redis) failed past its retry bound.
STATE_FAILED_REASON = "state_unavailable"
STATE_ERROR_KEY = "newsclean/state/error"


def state_failed(crawler: Crawler, exc: BaseException) -> None:
    """The state (or the shared queue) cannot be used any more: log one line, keep it in the
    stats, close the spider (reason ``state_unavailable``; the crawl exits 1). Idempotent."""
    stats = crawler.stats
    if stats is not None and stats.get_value(STATE_ERROR_KEY):
        return
    message = str(exc) or type(exc).__name__
    logger.error("stopping the crawl: %s", message)
    if stats is not None:
        stats.set_value(STATE_ERROR_KEY, message)
    engine = crawler.engine
    if engine is None or engine.spider is None:
        return
    close_async = getattr(engine, "close_spider_async", None)  # Scrapy 2.14+; close_spider is deprecated
    if close_async is not None:
        deferred_from_coro(close_async(reason=STATE_FAILED_REASON))
    else:  # pragma: no cover - older Scrapy
        engine.close_spider(engine.spider, STATE_FAILED_REASON)


def _stats(crawler: Crawler) -> StatsCollector:
    assert crawler.stats is not None
    return crawler.stats


# -- counting: the run's RunStats, written into Scrapy's stats ---------------------------------
_RUNS: weakref.WeakKeyDictionary[Crawler, RunStats] = weakref.WeakKeyDictionary()

#: RunStats counters under another name in the crawl's stats (None: not written here)
_KEYS: dict[str, str | None] = {
    "pages_read": "newsclean/clean/total",
    "cleaned": "newsclean/clean/forwarded",
    "records_written": None,  # Scrapy's item_scraped_count
    f"dropped/{DUPLICATE_HASH}": f"newsclean/dedup/dropped/{DUPLICATE_HASH}",
    f"dropped/{NEAR_DUPLICATE}": f"newsclean/dedup/dropped/{NEAR_DUPLICATE}",
    "near_duplicates_marked": "newsclean/dedup/near_marked",
    f"dropped/{UNCHANGED}": f"newsclean/dedup/dropped/{UNCHANGED}",
    f"dropped/{MINOR_EDIT}": f"newsclean/dedup/dropped/{MINOR_EDIT}",
    "dropped/language": None,  # by language code: newsclean/language/dropped/<code>
}


def crawl_key(key: str) -> str | None:
    """The stats key a :class:`RunStats` counter is written to in a crawl, or None."""
    if key in _KEYS:
        return _KEYS[key]
    kind, _, rest = key.partition("/")
    if kind == "dropped":  # the clean step's reasons: the core's and worker_died
        return f"newsclean/clean/dropped/{rest}"
    if kind == "removed":
        return f"newsclean/removed/{rest}"
    if kind == "steps":
        return f"newsclean/steps/{rest}"
    return None  # language/<code>: the language step counts the records it sees, before dedup


def run_stats_for(crawler: Crawler) -> RunStats:
    """The crawl's :class:`RunStats` (made on first use), shared by the three pipelines: every
    change is written into the crawl's stats (:func:`crawl_key`), and a record counts as written
    when the feed exporter has written it (``item_scraped``)."""
    run = _RUNS.get(crawler)
    if run is None:
        stats = _stats(crawler)

        def publish(key: str, count: int) -> None:
            name = crawl_key(key)
            if name is not None:
                stats.inc_value(name, count)

        def scraped(item: Any, **_: Any) -> None:
            if isinstance(item, dict) and "content_hash" in item:
                run_stats.write(item)

        run = run_stats = RunStats(publish=publish)
        _RUNS[crawler] = run
        crawler.signals.connect(scraped, signal=signals.item_scraped, weak=False)
    return run


# -- cleaning ----------------------------------------------------------------------------------
def clean_options(settings: Any) -> CleanOptions:
    """``CleanOptions`` from ``NEWSCLEAN_<FIELD>`` settings (e.g. ``NEWSCLEAN_MIN_WORDS``)."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(CleanOptions):
        name = f"NEWSCLEAN_{f.name.upper()}"
        if settings.get(name) is None:
            continue
        default = f.default
        if isinstance(default, bool):
            values[f.name] = settings.getbool(name)
        elif isinstance(default, int):
            values[f.name] = settings.getint(name)
        elif isinstance(default, float):
            values[f.name] = settings.getfloat(name)
        else:
            values[f.name] = settings.get(name)
    return CleanOptions(**values)


def page_of(item: Any) -> Page:
    fetched = item.fetched_at
    return Page.from_headers(
        item.body,
        item.url,
        item.headers,
        source=item.url,
        fetched_at=datetime.fromisoformat(fetched.replace("Z", "+00:00")) if fetched else None,
    )


class CleanPipeline:
    """Raw page → record (or :class:`CleanDrop`), in a process pool.

    Settings: ``NEWSCLEAN_CLEAN_ENABLED`` (True), ``NEWSCLEAN_POOL_SIZE`` (None: one worker per
    core; 0: clean in this process, on the reactor thread), ``NEWSCLEAN_POOL_START_METHOD``
    (``forkserver``), ``NEWSCLEAN_POOL_WARM_IN_PROCESS`` (False; True: pages that arrive before
    every worker is up are cleaned in this process, which then builds a cleaner of its own when
    the spider opens: about 2 s of the crawl's CPU, competing with the workers starting), and
    the ``CleanOptions`` fields as ``NEWSCLEAN_<FIELD>``.
    """

    def __init__(
        self, crawler: Crawler, options: CleanOptions, pool_size: int, start_method: str, warm_in_process: bool = False
    ) -> None:
        self.crawler = crawler
        self.stats = _stats(crawler)
        self.options = options
        self.pool_size = pool_size
        self.start_method = start_method
        self.warm_in_process = warm_in_process
        self.run = run_stats_for(crawler)
        self.cleaner: Cleaner | None = None
        self.counts: CountsSince | None = None
        self.pool: LoopPool | None = None
        self.warming = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        settings = crawler.settings
        if not settings.getbool("NEWSCLEAN_CLEAN_ENABLED", True):
            raise NotConfigured("NEWSCLEAN_CLEAN_ENABLED is off")
        size = settings.get("NEWSCLEAN_POOL_SIZE")
        pool_size = usable_cores() if size in (None, "") else int(size)
        if pool_size < 0:
            raise ValueError(f"NEWSCLEAN_POOL_SIZE must be >= 0, not {pool_size}")
        start_method = settings.get("NEWSCLEAN_POOL_START_METHOD", "forkserver")
        warm = settings.getbool("NEWSCLEAN_POOL_WARM_IN_PROCESS", False)
        return cls(crawler, clean_options(settings), pool_size, start_method, warm)

    def open_spider(self) -> None:
        if self.pool_size:
            # start the workers now: they load while robots.txt, feeds and sitemaps are fetched
            self.pool = LoopPool(self.pool_size, self.options, self.start_method, os.getpid(),
                                 on_counts=self.run.add_steps)
            self.pool.start(_event_loop())
            self.warming = True
        # In-process cleaner: the only one without a pool; with a pool and warm_in_process, it
        # cleans the pages that arrive before every worker is up.
        if not self.pool_size or self.warm_in_process:
            self.cleaner = Cleaner(self.options)
            self.counts = CountsSince(self.cleaner.counters)
        self.stats.set_value("newsclean/clean/pool_size", self.pool_size)

    def close_spider(self) -> None:
        if self.pool is not None:  # a dead worker is counted as its page's drop (worker_died)
            self.pool.close()
            self.stats.set_value("newsclean/clean/pool_restarts", self.pool.restarts)
            self.pool = None

    async def process_item(self, item: Any) -> Any:
        if not hasattr(item, "body"):  # not a raw page: nothing to clean
            return item
        page = page_of(item)
        result = await self._clean(page)
        self.run.read(result)
        if isinstance(result, Drop):
            raise CleanDrop(result.reason, item.url, result.detail)
        return result

    async def _clean(self, page: Page) -> Any:
        if self.pool is None:
            return self._clean_here(page)
        if self.warming:
            if self.pool.ready:
                self.warming = False
                self.cleaner = self.counts = None  # the pool is up: free the in-process cleaner
            elif self.cleaner is not None:
                self.stats.inc_value("newsclean/clean/in_process_while_pool_starts")
                return self._clean_here(page)
        # a worker that dies costs its page (Drop "worker_died", logged) and is replaced
        return await self.pool.clean(page)

    def _clean_here(self, page: Page) -> Any:
        assert self.cleaner is not None and self.counts is not None
        result = self.cleaner.clean(page)
        self.run.add_steps(self.counts.take())
        return result


def _event_loop() -> asyncio.AbstractEventLoop:
    """The asyncio loop the reactor runs (``TWISTED_REACTOR`` is the asyncio reactor)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop()


# -- language ----------------------------------------------------------------------------------
class LanguagePipeline:
    """Count records by language (``newsclean/language/<code>``, ``und`` when unknown); with
    ``NEWSCLEAN_LANGUAGES`` set (e.g. ``fr,en``), drop the others as :class:`LanguageDrop`.

    Settings: ``NEWSCLEAN_LANGUAGE_ENABLED`` (True), ``NEWSCLEAN_LANGUAGES`` (empty: keep all).
    """

    def __init__(self, crawler: Crawler, languages: set[str]) -> None:
        self.stats = _stats(crawler)
        self.run = run_stats_for(crawler)
        self.languages = languages

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LanguagePipeline:
        settings = crawler.settings
        if not settings.getbool("NEWSCLEAN_LANGUAGE_ENABLED", True):
            raise NotConfigured("NEWSCLEAN_LANGUAGE_ENABLED is off")
        return cls(crawler, {x.strip() for x in settings.getlist("NEWSCLEAN_LANGUAGES") if x.strip()})

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, dict) or "content_hash" not in item:
            return item
        code = item.get("language") or "und"
        self.stats.inc_value(f"newsclean/language/{code}")
        if self.languages and code not in self.languages:
            self.stats.inc_value(f"newsclean/language/dropped/{code}")
            self.run.drop("language")
            raise LanguageDrop("language", item.get("url") or "", code)
        return item


# -- dedup -------------------------------------------------------------------------------------
class DedupPipeline:
    """Drop records whose content hash was already written (:class:`DuplicateDrop`).

    A hash is *claimed* here (pending in the state store, with the feed files the line is going
    to) and *committed* when ``item_scraped`` fires, which Scrapy sends after the feed exporter
    wrote and flushed the line (the exporter's handler was connected first). A run killed in
    between is settled when the store is next opened (see :mod:`pipelines.store`).

    Settings: ``NEWSCLEAN_DEDUP_ENABLED`` (True), ``NEWSCLEAN_STATE_ENABLED`` (True),
    ``NEWSCLEAN_STATE_DIR`` (``state/`` in the current folder, or a ``redis://`` URL),
    ``NEWSCLEAN_NEAR_DUPLICATES`` (``drop``, ``mark`` or ``off``; :mod:`pipelines.run.neardup`),
    ``NEWSCLEAN_VERSIONS`` (True: a URL fetched again with a changed text is written as a new
    version, an unchanged one or a small edit is dropped; docs/dedup.md#versions).
    Without state, hashes and signatures are kept in memory for the run.
    Must be the last pipeline: what it lets through is written.
    """

    def __init__(self, crawler: Crawler, state: DedupStore | None, near: str = "drop", versions: bool = True) -> None:
        self.crawler = crawler
        self.stats = _stats(crawler)
        self.run = run_stats_for(crawler)
        self.dedup = Deduper(state, self.feed_targets, near=near, versions=versions)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        settings = crawler.settings
        if not settings.getbool("NEWSCLEAN_DEDUP_ENABLED", True):
            raise NotConfigured("NEWSCLEAN_DEDUP_ENABLED is off")
        near = settings.get("NEWSCLEAN_NEAR_DUPLICATES", "drop")
        if near not in NEAR_POLICIES:
            raise ValueError(f"NEWSCLEAN_NEAR_DUPLICATES must be one of {', '.join(NEAR_POLICIES)}, not {near!r}")
        state = state_for(crawler) if settings.getbool("NEWSCLEAN_STATE_ENABLED", True) else None
        return cls(crawler, state, near, settings.getbool("NEWSCLEAN_VERSIONS", True))

    def open_spider(self) -> None:
        # Connected now, after every extension (FeedExporter included) connected its own handler
        # when it was built: signal handlers run in connection order, so the commit happens
        # after the exporter has written and flushed the line.
        self.crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    def feed_targets(self) -> list[str]:
        """Local files the feed exports are writing to now (where a new record's line will be)."""
        targets = []
        for ext in getattr(self.crawler.extensions, "middlewares", ()):
            if isinstance(ext, FeedExporter):
                for slot in ext.slots:
                    storage = getattr(slot, "storage", None)
                    if isinstance(storage, FileFeedStorage):
                        targets.append(os.path.abspath(storage.path))
        return targets

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, dict) or "content_hash" not in item:
            return item
        self.stats.inc_value("newsclean/dedup/total")
        try:
            verdict = self.dedup.claim(item)
        except StateUnavailable as exc:  # not claimed, not written: the next run writes it
            state_failed(self.crawler, exc)
            raise DropItem(f"state unavailable: {item.get('url') or ''}") from None
        if verdict is Verdict.NEAR_DUPLICATE and self.dedup.match is not None:
            self.run.drop(NEAR_DUPLICATE)
            match = self.dedup.match
            raise DuplicateDrop(NEAR_DUPLICATE, item.get("url") or "",
                                f"{match.first_id} (similarity {match.similarity:.3f})")
        if verdict in (Verdict.UNCHANGED, Verdict.MINOR_EDIT):
            reason = UNCHANGED if verdict is Verdict.UNCHANGED else MINOR_EDIT
            self.run.drop(reason)
            similarity = self.dedup.version_similarity
            raise DuplicateDrop(reason, item.get("url") or "",
                                f"similarity {similarity:.3f}" if similarity is not None else item["content_hash"])
        if verdict is not Verdict.NEW:
            self.run.drop(DUPLICATE_HASH)
            raise DuplicateDrop(DUPLICATE_HASH, item.get("url") or "", item["content_hash"])
        self.stats.inc_value("newsclean/dedup/forwarded")
        if self.dedup.match is not None:
            self.run.mark_near()
        return self.dedup.finish(item)

    def item_scraped(self, item: Any, **_: Any) -> None:
        if not isinstance(item, dict) or "content_hash" not in item:
            return
        if failed_to_write(item):
            # no line was written (Scrapy logged the exporter's error): the hash stays free, so
            # the next run writes this article; the crawl exits 1 (crawler/outcomes.py)
            self.dedup.release(item["content_hash"])
            self.stats.inc_value("newsclean/feed/write_failed")
            return
        try:
            committed = self.dedup.commit(item["content_hash"])
        except StateUnavailable as exc:  # written, left pending: the next run settles it from the file
            state_failed(self.crawler, exc)
            return
        if committed:
            self.stats.inc_value("newsclean/state/committed")
        if "previous_content_hash" in item:
            self.stats.inc_value("newsclean/dedup/version_written")
