"""Shared mode: one crawl, many workers, one Redis (``NEWSCLEAN_REDIS_URL``).

``SharedCrawl`` is a Scrapy add-on (listed in ``ADDONS`` by ``crawler/settings.py``). When the
setting ``NEWSCLEAN_REDIS_URL`` (or the environment variable of that name) is set, it switches
the crawl to shared mode; without it, it changes nothing:

* the scheduler queue and the request dupefilter go to Redis through scrapy-redis
  (:class:`SharedScheduler`, a scrapy-redis scheduler that also keeps a worker registry so a run
  has a start and an end);
* the run state (seen URLs, content hashes) goes to Redis: ``NEWSCLEAN_STATE_DIR`` becomes the
  Redis URL, opened by :func:`pipelines.state.open_state` as a
  :class:`pipelines.state_redis.RedisStateStore` (the dedup pipeline claims a hash before the
  record is exported and commits it once the line is written);
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
import secrets
import socket
import time
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.settings import BaseSettings
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task

from pipelines.state_redis import parse_spec, with_options

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


class SharedCrawl:
    """Add-on: switch the crawl to shared mode when ``NEWSCLEAN_REDIS_URL`` is set."""

    def update_settings(self, settings: BaseSettings) -> None:
        url = redis_url(settings)
        if url is None:
            return
        server, options = parse_spec(url)
        prefix = options.get("prefix") or settings.get("NEWSCLEAN_REDIS_PREFIX") or DEFAULT_PREFIX
        lease = settings.getfloat("NEWSCLEAN_WORKER_LEASE", DEFAULT_WORKER_LEASE)
        values: dict[str, Any] = {
            URL_SETTING: url,
            "REDIS_URL": server,
            "SCHEDULER": "crawler.shared.SharedScheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_PERSIST": True,  # a worker leaving must not flush the queue of the others
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_QUEUE_KEY": f"{prefix}:%(spider)s:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:%(spider)s:dupefilter",
            "SCHEDULER_IDLE_BEFORE_CLOSE": 0,  # never block the reactor on a Redis pop
            STATE_SETTING: with_options(url, prefix=prefix, lease=lease),
        }
        for name, value in values.items():
            settings.set(name, value, priority="spider")
        # components: per-key priority, so the project's own entries stay
        settings["EXTENSIONS"].set("crawler.shared.SharedWorker", 1000, priority="spider")


# KEYS: registry; ARGV: worker id, lease ms. Drops expired workers, adds this one.
# Returns 1 when no other live worker was registered (a new run starts).
_JOIN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local fresh = redis.call('ZCARD', KEYS[1]) == 0
if fresh then
  for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if fresh then return 1 end
return 0
"""

# KEYS: registry; ARGV: worker id, lease ms. Extends this worker's lease.
_BEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
"""

# KEYS: registry, queue, dupefilter; ARGV: worker id.
# Removes this worker; if it was the last live one and the queue is empty, the run is over:
# the dupefilter is deleted. Returns 1 when it was.
_LEAVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[3])
  return 1
end
return 0
"""


class SharedScheduler(RedisScheduler):
    """The scrapy-redis scheduler plus a worker registry (start and end of a shared run)."""

    worker_lease: float = DEFAULT_WORKER_LEASE
    registry_key: str = ""
    prefetch: int = 16

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        instance: SharedScheduler = super().from_crawler(crawler)
        settings = crawler.settings
        url = redis_url(settings) or ""
        prefix = parse_spec(url)[1].get("prefix") or settings.get("NEWSCLEAN_REDIS_PREFIX") or DEFAULT_PREFIX
        instance.prefix = prefix
        instance.worker_lease = settings.getfloat("NEWSCLEAN_WORKER_LEASE", DEFAULT_WORKER_LEASE)
        instance.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        per_domain = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 8)
        instance.prefetch = settings.getint("NEWSCLEAN_SHARED_PREFETCH") or 2 * max(per_domain, 1)
        instance.crawler = crawler
        return instance

    def open(self, spider: Spider) -> None:
        super().open(spider)
        self.registry_key = f"{self.prefix}:{spider.name}:workers"
        lease_ms = int(self.worker_lease * 1000)
        keys = [self.registry_key, self.queue.key, self.df.key]
        fresh = bool(self.server.register_script(_JOIN)(keys=keys, args=[self.worker_id, lease_ms]))
        self._beat_script = self.server.register_script(_BEAT)
        self._beat = task.LoopingCall(self._renew)
        self._beat.start(self.worker_lease / 3, now=False)
        if self.stats:
            self.stats.set_value("newsclean/shared/new_run", int(fresh))
        logger.info(
            "shared crawl: worker %s %s (queue %s, %d requests waiting)",
            self.worker_id, "starts a new run" if fresh else "joins the running crawl", self.queue.key,
            len(self.queue),
        )

    def _renew(self) -> None:
        try:
            self._beat_script(keys=[self.registry_key], args=[self.worker_id, int(self.worker_lease * 1000)])
        except Exception as exc:  # keep the worker going: Redis may come back before the lease ends
            logger.warning("shared crawl: could not renew worker lease: %s", exc)

    def close(self, reason: str) -> None:
        if getattr(self, "_beat", None) is not None and self._beat.running:
            self._beat.stop()
        keys = [self.registry_key, self.queue.key, self.df.key]
        ended = bool(self.server.register_script(_LEAVE)(keys=keys, args=[self.worker_id]))
        if self.stats:
            self.stats.set_value("newsclean/shared/run_ended", int(ended))
        logger.info("shared crawl: worker %s leaves (%s)%s", self.worker_id, reason,
                    "; last one out: run over, dupefilter deleted" if ended else "")

    # the parent passes spider= to the stats collector, deprecated since Scrapy 2.14
    def enqueue_request(self, request: Any) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Any:
        # Take no more than ``prefetch`` requests into this worker's downloader: Scrapy would pull
        # up to CONCURRENT_REQUESTS at once, leaving nothing for the other workers (and more to
        # refetch if this one is killed).
        engine = getattr(self.crawler, "engine", None)
        downloader = getattr(engine, "downloader", None)
        if downloader is not None and len(downloader.active) >= self.prefetch:
            return None
        request = self.queue.pop(self.idle_before_close)
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


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
