"""The shared crawl's scheduler: scrapy-redis's, plus a worker registry (a run's start and end).

Its Redis client retries a lost connection for ``?retry_seconds=`` (default 30 s) at most
(:class:`pipelines.store.redis.BoundedRedis`); past that, a queue call stops the worker with one
line (:func:`pipelines.item_pipelines.state_failed`: finish reason ``state_unavailable``, exit 1)
instead of leaving it stuck, and the calls after it touch Redis no more.

Imported only in shared mode (``NEWSCLEAN_REDIS_URL``; :class:`crawler.shared.SharedCrawl` names
it in ``SCHEDULER``), so the base install, without the ``redis`` extra, never imports scrapy-redis.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from typing import Any

import redis
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy_redis.scheduler import Scheduler as RedisScheduler
from twisted.internet import task

from crawler.shared import DEFAULT_PREFIX, DEFAULT_WORKER_LEASE, redis_url
from pipelines.item_pipelines import state_failed
from pipelines.store.redis import parse_spec, unavailable

logger = logging.getLogger(__name__)


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

    failed: bool = False

    def _fail(self, exc: Exception) -> None:
        self.failed = True
        state_failed(self.crawler, unavailable(exc, f"{self.server_shown} (shared queue)"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedScheduler:
        instance: SharedScheduler = super().from_crawler(crawler)
        settings = crawler.settings
        url = redis_url(settings) or ""
        prefix = parse_spec(url)[1].get("prefix") or settings.get("NEWSCLEAN_REDIS_PREFIX") or DEFAULT_PREFIX
        instance.prefix = prefix
        instance.server_shown = parse_spec(url)[0].split("@")[-1]
        instance.worker_lease = settings.getfloat("NEWSCLEAN_WORKER_LEASE", DEFAULT_WORKER_LEASE)
        instance.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        per_domain = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 8)
        instance.prefetch = settings.getint("NEWSCLEAN_SHARED_PREFETCH") or 2 * max(per_domain, 1)
        instance.crawler = crawler
        return instance

    def open(self, spider: Spider) -> None:
        try:
            self._open(spider)
        except redis.RedisError as exc:
            self._fail(exc)

    def _open(self, spider: Spider) -> None:
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
        if self.failed:
            return
        try:
            self._beat_script(keys=[self.registry_key], args=[self.worker_id, int(self.worker_lease * 1000)])
        except Exception as exc:  # keep the worker going: Redis may come back before the lease ends
            logger.warning("shared crawl: could not renew worker lease: %s", exc)

    def close(self, reason: str) -> None:
        if getattr(self, "_beat", None) is not None and self._beat.running:
            self._beat.stop()
        if self.failed or not self.registry_key:  # Redis is gone: the lease runs out by itself
            logger.info("shared crawl: worker %s leaves (%s) without Redis", self.worker_id, reason)
            return
        keys = [self.registry_key, self.queue.key, self.df.key]
        try:
            ended = bool(self.server.register_script(_LEAVE)(keys=keys, args=[self.worker_id]))
        except redis.RedisError as exc:
            logger.warning("shared crawl: worker %s could not leave the registry: %s", self.worker_id, exc)
            return
        if self.stats:
            self.stats.set_value("newsclean/shared/run_ended", int(ended))
        logger.info("shared crawl: worker %s leaves (%s)%s", self.worker_id, reason,
                    "; last one out: run over, dupefilter deleted" if ended else "")

    # the parent passes spider= to the stats collector, deprecated since Scrapy 2.14
    def enqueue_request(self, request: Any) -> bool:
        if self.failed:
            return False
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            self.queue.push(request)
        except redis.RedisError as exc:
            self._fail(exc)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def has_pending_requests(self) -> bool:
        if self.failed:
            return False
        try:
            return len(self.queue) > 0
        except redis.RedisError as exc:
            self._fail(exc)
            return False

    def next_request(self) -> Any:
        # Take no more than ``prefetch`` requests into this worker's downloader: Scrapy would pull
        # up to CONCURRENT_REQUESTS at once, leaving nothing for the other workers (and more to
        # refetch if this one is killed).
        engine = getattr(self.crawler, "engine", None)
        downloader = getattr(engine, "downloader", None)
        if self.failed or (downloader is not None and len(downloader.active) >= self.prefetch):
            return None
        try:
            request = self.queue.pop(self.idle_before_close)
        except redis.RedisError as exc:
            self._fail(exc)
            return None
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


__all__ = ["SharedScheduler"]
