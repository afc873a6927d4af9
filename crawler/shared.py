"""Shared mode: one crawl, many workers, one Redis (``NEWSCLEAN_REDIS_URL``).

``SharedCrawl`` is a Scrapy add-on (listed in ``ADDONS`` by ``crawler/settings.py``). When the
setting ``NEWSCLEAN_REDIS_URL`` (or the environment variable of that name) is set, it switches
the crawl to shared mode; without it, it changes nothing:

* the scheduler queue and the request dupefilter go to Redis through scrapy-redis
  (:class:`crawler.shared_scheduler.SharedScheduler`, a scrapy-redis scheduler that also keeps
  a worker registry so a run has a start and an end; imported only in shared mode, so the base
  install runs without the ``redis`` extra);
* the run state (seen URLs, content hashes) goes to Redis: ``NEWSCLEAN_STATE_DIR`` becomes the
  Redis URL, opened by :func:`pipelines.store.open_state` as a
  :class:`pipelines.store.redis.RedisStateStore` (the dedup pipeline claims a hash before the
  record is exported and commits it once the line is written). ``NEWSCLEAN_STATE_DIR`` set to
  anything else is a conflict (:func:`state_conflict`): the crawl refuses to start;
* :class:`SharedWorker` closes a worker that had nothing to do for ``NEWSCLEAN_IDLE_CLOSE``
  seconds instead of leaving as soon as the shared queue is empty for a moment.

A *run* lasts while at least one worker is registered. The first worker of a run (no live
worker in the registry) clears the queue and the dupefilter left by an earlier run; the last
worker to leave, with an empty queue, deletes the dupefilter, so the fingerprint set never
outlives its run. A worker that is killed stays in the registry until its lease
(``NEWSCLEAN_WORKER_LEASE`` s) runs out: the requests it had taken from the queue are in the
dupefilter but were never answered, so no other worker fetches them in this run; the next run
starts with an empty dupefilter and fetches them again. The state claims it held are settled
from its output file by the next worker on its host (line written: committed; not: released),
or taken over by a worker elsewhere once its lease is over.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.settings import BaseSettings, get_settings_priority

from pipelines.store import require_redis

logger = logging.getLogger(__name__)

URL_SETTING = "NEWSCLEAN_REDIS_URL"
STATE_SETTING = "NEWSCLEAN_STATE_DIR"
DEFAULT_PREFIX = "newsclean"
DEFAULT_IDLE_CLOSE = 30.0
DEFAULT_WORKER_LEASE = 60.0


def redis_url(settings: BaseSettings) -> str | None:
    """The shared-mode Redis URL: the setting, else the environment variable, else None."""
    value = settings.get(URL_SETTING) or os.environ.get(URL_SETTING) or ""
    return str(value).strip() or None


def _shown(url: str) -> str:
    """``url`` with its password, if any, masked (for a message)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def state_conflict(settings: BaseSettings) -> str | None:
    """One line naming both settings when shared mode is on (``NEWSCLEAN_REDIS_URL``) and
    ``NEWSCLEAN_STATE_DIR`` is set to anything but that same URL; else None. Shared mode keeps
    the state in Redis, so every worker dedups against the others: a local state would make each
    worker dedup against itself only (the same article written by several). Neither wins: the
    crawl refuses to start."""
    url = redis_url(settings)
    state = str(settings.get(STATE_SETTING) or "").strip()
    if url is None or not state or state == url:
        return None
    where = "setting" if (settings.get(URL_SETTING) or "").strip() else "environment"
    return (
        f"conflicting settings: {URL_SETTING}={_shown(url)} ({where}) shares the crawl and its state through "
        f"Redis, but {STATE_SETTING}={_shown(state)} names another state; unset {STATE_SETTING} (or set it "
        "to the same URL), or unset the Redis URL for a crawl of this machine alone"
    )


class SharedCrawl:
    """Add-on: switch the crawl to shared mode when ``NEWSCLEAN_REDIS_URL`` is set."""

    def update_settings(self, settings: BaseSettings) -> None:
        url = redis_url(settings)
        if url is None:
            return
        conflict = state_conflict(settings)
        if conflict is not None:  # the crawl command refuses earlier, with this line and exit code 2
            raise ValueError(conflict)
        require_redis("scrapy_redis")  # stops here, with one line, when the redis extra is missing
        from pipelines.store.redis import DEFAULT_RETRY_SECONDS, parse_spec, with_options

        server, options = parse_spec(url)
        prefix = options.get("prefix") or settings.get("NEWSCLEAN_REDIS_PREFIX") or DEFAULT_PREFIX
        lease = settings.getfloat("NEWSCLEAN_WORKER_LEASE", DEFAULT_WORKER_LEASE)
        values: dict[str, Any] = {
            URL_SETTING: url,
            "REDIS_URL": server,
            "SCHEDULER": "crawler.shared_scheduler.SharedScheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_PERSIST": True,  # a worker leaving must not flush the queue of the others
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_QUEUE_KEY": f"{prefix}:%(spider)s:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:%(spider)s:dupefilter",
            "SCHEDULER_IDLE_BEFORE_CLOSE": 0,  # never block the reactor on a Redis pop
            # a lost connection retried ?retry_seconds= (default 30) at most, then the worker stops
            "REDIS_PARAMS": {"redis_cls": "pipelines.store.redis.BoundedRedis",
                             "retry_seconds": float(options.get("retry_seconds") or DEFAULT_RETRY_SECONDS)},
            STATE_SETTING: with_options(url, prefix=prefix, lease=lease),
        }
        for name, value in values.items():
            settings.set(name, value, priority="spider")
        # the same URL given as NEWSCLEAN_STATE_DIR on the command line: still with the options
        given = settings.getpriority(STATE_SETTING) or 0
        if given > get_settings_priority("spider"):
            settings.set(STATE_SETTING, values[STATE_SETTING], priority=given)
        # components: per-key priority, so the project's own entries stay
        settings["EXTENSIONS"].set("crawler.shared.SharedWorker", 1000, priority="spider")


class SharedWorker:
    """Closes the worker after ``NEWSCLEAN_IDLE_CLOSE`` idle seconds (not as soon as the shared
    queue is empty: another worker may be about to add to it)."""

    def __init__(self, crawler: Crawler, idle_close: float) -> None:
        self.crawler = crawler
        self.idle_close = idle_close
        self.idle_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedWorker:
        if redis_url(crawler.settings) is None:
            raise NotConfigured(f"{URL_SETTING} is not set")
        ext = cls(crawler, crawler.settings.getfloat("NEWSCLEAN_IDLE_CLOSE", DEFAULT_IDLE_CLOSE))
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.busy, signal=signals.request_reached_downloader)
        crawler.signals.connect(ext.busy, signal=signals.response_received)
        return ext

    def busy(self, *args: Any, **kwargs: Any) -> None:
        self.idle_since = None

    def spider_idle(self, spider: Spider) -> None:
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.idle_close:
            raise DontCloseSpider
        logger.info("shared crawl: idle for %.0f s, closing this worker", now - self.idle_since)
