"""Scrapy's internals that the crawler uses, behind an import guard.

**Connections kept.** Scrapy's HTTP/1.1 download handler keeps at most
``CONCURRENT_REQUESTS_PER_DOMAIN`` idle connections per host in its Twisted connection pool
(``HTTPConnectionPool.maxPersistentPerHost``, on the handler's private ``_pool``). A download slot
frees its place when a response arrives and starts the next request at once, before Twisted has
put the finished request's connection back in the pool: for a moment more connections are out
than requests in flight, new ones are opened, and when they come back the pool is full and
closes them. On the 2,000-page benchmark crawl (8 requests per domain) 1,365 connections were
opened for 2,003 requests. :class:`KeepAliveDownloadHandler` raises the cap to
``CONCURRENT_REQUESTS`` (it opens no connection: it keeps those opened, for their idle timeout).
On the public path (another Scrapy version, no ``_pool``, ``NEWSCLEAN_COMPAT=public``) the
handler is Scrapy's as it is.

The spider unpacks gzipped sitemaps with ``scrapy.utils.gz.gunzip(max_size=...)``, which raises
``_DecompressionMaxSizeExceeded`` (a ``ValueError``; private, in ``scrapy.utils._compression``)
when the unpacked body would pass the limit. On the fast path that class is caught by name; on the
public path (another Scrapy version, the class gone, or ``NEWSCLEAN_COMPAT=public``) any
``ValueError`` is caught and the class is recognised by its name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import scrapy
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

from pipelines.compat import Internals

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

#: The Scrapy versions whose ``scrapy.utils._compression`` and HTTP/1.1 handler's ``_pool`` were
#: checked (pyproject's floor to the pinned one).
SCRAPY_VERSIONS = ("2.13.", "2.14.", "2.15.", "2.16.", "2.17.", "2.18.", "2.19.")
_TOO_LARGE_NAME = "_DecompressionMaxSizeExceeded"

INTERNALS = Internals("scrapy", scrapy.__version__, SCRAPY_VERSIONS)

try:
    from scrapy.utils._compression import _DecompressionMaxSizeExceeded
except ImportError as exc:  # pragma: no cover - a newer or patched Scrapy
    INTERNALS.missing.append(str(exc))
    _TOO_LARGE: type[Exception] = ValueError
else:
    _TOO_LARGE = _DecompressionMaxSizeExceeded


def gunzip_errors() -> tuple[type[Exception], ...]:
    """What ``gunzip`` raises for a broken gzip body or one that unpacks past its limit."""
    return (OSError, EOFError, _TOO_LARGE if INTERNALS.fast() else ValueError)


def unpacked_too_large(exc: BaseException) -> bool:
    """Is ``exc`` (one of :func:`gunzip_errors`) the unpacked-size limit?"""
    if INTERNALS.fast():
        return isinstance(exc, _TOO_LARGE)
    return any(cls.__name__ == _TOO_LARGE_NAME for cls in type(exc).__mro__)


class KeepAliveDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, its pool keeping up to ``CONCURRENT_REQUESTS`` idle connections
    per host (see the module's documentation). ``DOWNLOAD_HANDLERS`` names it for http and https."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        pool = getattr(self, "_pool", None)
        if INTERNALS.fast() and pool is not None and isinstance(getattr(pool, "maxPersistentPerHost", None), int):
            pool.maxPersistentPerHost = max(pool.maxPersistentPerHost, crawler.settings.getint("CONCURRENT_REQUESTS"))
