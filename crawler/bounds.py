"""Bounds on what a hostile server can make the crawl hold: response headers, robots.txt.

* :class:`HeaderCapMiddleware` (downloader middleware) caps the status line and headers of every
  response (``NEWSCLEAN_MAX_HEADER_BYTES``, ``NEWSCLEAN_MAX_HEADER_LINES``; Scrapy's
  ``DOWNLOAD_MAXSIZE`` counts only the body). A response over the cap fails as a download error
  (retried as one), is counted as ``newsclean/safety/dropped/headers_too_large`` and logged once
  per host. The cap sits on Twisted's HTTP parser (:mod:`pipelines.compat.twisted`).
* :class:`RobotsTxtCap` (downloader middleware) stops reading a robots.txt at ``NEWSCLEAN_ROBOTSTXT_MAX_BYTES``
  (500 KiB, as Google does) and :class:`CappedRobotParser` (``ROBOTSTXT_PARSER``) parses the
  whole lines of that first part: the rules a huge robots.txt starts with still hold (without
  the cap the download passed ``DOWNLOAD_MAXSIZE``, was cancelled, and Scrapy then allowed
  everything). Counted as ``newsclean/robotstxt/truncated``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import StopDownload
from scrapy.http import Response
from scrapy.robotstxt import ProtegoRobotParser

from pipelines.compat.twisted import cap_response_headers, is_headers_too_large

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

DEFAULT_MAX_HEADER_BYTES = 256 * 1024
DEFAULT_MAX_HEADER_LINES = 500
DEFAULT_ROBOTSTXT_MAX_BYTES = 500 * 1024
_RECEIVED = "newsclean_robotstxt_bytes"
_CAPPED = "newsclean_robotstxt_capped"


class HeaderCapMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.logged: set[str] = set()
        settings = crawler.settings
        capped = cap_response_headers(
            settings.getint("NEWSCLEAN_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES),
            settings.getint("NEWSCLEAN_MAX_HEADER_LINES", DEFAULT_MAX_HEADER_LINES),
        )
        if not capped:
            logger.warning("response headers are not capped on this Twisted version (see pipelines/compat/twisted.py)")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HeaderCapMiddleware:
        return cls(crawler)

    def process_exception(self, request: Request, exception: BaseException, spider: Any = None) -> None:
        if not is_headers_too_large(exception):
            return
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newsclean/safety/dropped/headers_too_large")
        host = urlsplit(request.url).hostname or request.url
        if host not in self.logged:
            self.logged.add(host)
            logger.warning("%s: response headers over the cap (NEWSCLEAN_MAX_HEADER_BYTES / "
                           "NEWSCLEAN_MAX_HEADER_LINES); the connection was dropped", request.url)


def is_robots_request(request: Request) -> bool:
    """A request for a host's robots.txt (Scrapy's RobotsTxtMiddleware's, or the spider's own for
    its ``Sitemap:`` lines)."""
    return urlsplit(request.url).path == "/robots.txt"


class RobotsTxtCap:
    """Downloader middleware: a robots.txt request is read up to the limit, whatever its
    Content-Length says (``DOWNLOAD_MAXSIZE`` would cancel it before reading a byte), and unpacked
    under ``DOWNLOAD_MAXSIZE`` as every response is."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.limit = robotstxt_limit(crawler)
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        crawler.signals.connect(self.bytes_received, signal=signals.bytes_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsTxtCap:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if is_robots_request(request) and "download_maxsize" not in request.meta:
            # no size check before the body: bytes_received stops the download at the limit
            request.meta["download_maxsize"] = 0
            request.meta[_CAPPED] = True

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if request.meta.pop(_CAPPED, False):
            request.meta["download_maxsize"] = self.maxsize  # unpacking stays bounded
        return response

    def process_exception(self, request: Request, exception: BaseException, spider: Any = None) -> None:
        if request.meta.pop(_CAPPED, False):
            request.meta.pop("download_maxsize", None)

    def bytes_received(self, data: bytes, request: Request, spider: Any = None) -> None:
        if not request.meta.get(_CAPPED):
            return
        received = request.meta.get(_RECEIVED, 0) + len(data)
        request.meta[_RECEIVED] = received
        if received > self.limit:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("newsclean/robotstxt/truncated")
            logger.warning("%s: larger than %d bytes; its first %d bytes are obeyed", request.url,
                           self.limit, self.limit)
            raise StopDownload(fail=False)


def robotstxt_limit(crawler: Crawler) -> int:
    return crawler.settings.getint("NEWSCLEAN_ROBOTSTXT_MAX_BYTES", DEFAULT_ROBOTSTXT_MAX_BYTES)


def first_lines(body: bytes, limit: int) -> bytes:
    """The whole lines of ``body`` within its first ``limit`` bytes."""
    if len(body) <= limit:
        return body
    cut = body.rfind(b"\n", 0, limit + 1)
    return body[: cut + 1] if cut >= 0 else b""


class CappedRobotParser(ProtegoRobotParser):
    """Scrapy's default robots.txt parser (Protego) over the first ``NEWSCLEAN_ROBOTSTXT_MAX_BYTES``."""

    @classmethod
    def from_crawler(cls, crawler: Crawler, robotstxt_body: bytes) -> Any:
        return super().from_crawler(crawler, first_lines(robotstxt_body, robotstxt_limit(crawler)))
