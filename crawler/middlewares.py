"""Downloader middlewares of the crawl.

* :class:`SeenArticleMiddleware` skips article requests whose URL the state store already holds,
  so a scheduled run refetches feeds and sitemaps but no stored article.
* :class:`BackoffMiddleware` slows a domain down when it answers 429 or 503 (honouring
  ``Retry-After``); Scrapy's RetryMiddleware then retries the request.
* :class:`MetaRefreshMiddleware` is Scrapy's, reading only the start of a page it looks at.
"""

from __future__ import annotations

import codecs
import functools
import logging
import re
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.downloadermiddlewares import redirect
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils import response as response_utils
from scrapy.utils.httpobj import urlparse_cached
from w3lib import html as w3lib_html
from w3lib.encoding import html_to_unicode

from pipelines.item_pipelines import state_failed, state_for
from pipelines.store.base import StateUnavailable

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from pipelines.store import DedupStore

logger = logging.getLogger(__name__)

ARTICLE_META = "newsclean_article"
#: An article request queued again because its sitemap or feed date is newer than its last fetch.
REFETCH_META = "newsclean_refetch"


class SeenArticleMiddleware:
    """Ignore article requests (``meta["newsclean_article"]``) for URLs already in the state store
    (except a refetch the spider queued because the article's sitemap or feed date is newer).

    Settings: ``NEWSCLEAN_STATE_ENABLED`` (default True), ``NEWSCLEAN_SKIP_SEEN`` (default True).
    Stats: ``newsclean/state/skipped/seen_url``.
    """

    def __init__(self, crawler: Crawler, state: DedupStore) -> None:
        self.crawler = crawler
        self.state = state
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeenArticleMiddleware:
        settings = crawler.settings
        if not settings.getbool("NEWSCLEAN_STATE_ENABLED", True):
            raise NotConfigured("NEWSCLEAN_STATE_ENABLED is off")
        if not settings.getbool("NEWSCLEAN_SKIP_SEEN", True):
            raise NotConfigured("NEWSCLEAN_SKIP_SEEN is off")
        return cls(crawler, state_for(crawler))

    def process_request(self, request: Request) -> None:
        if not request.meta.get(ARTICLE_META) or request.meta.get(REFETCH_META):
            return
        try:
            seen = self.state.seen_url(request.url)
        except StateUnavailable as exc:
            state_failed(self.crawler, exc)
            raise IgnoreRequest(f"state unavailable: {request.url}") from None
        if seen:
            assert self.stats is not None
            self.stats.inc_value("newsclean/state/skipped/seen_url")
            raise IgnoreRequest(f"already stored: {request.url}")


class BackoffMiddleware:
    """On 429/503, raise the download slot's delay (doubling, at least ``Retry-After``, at most
    ``NEWSCLEAN_BACKOFF_MAX_DELAY`` seconds). AutoThrottle brings it down again on good answers.

    Settings: ``NEWSCLEAN_BACKOFF_ENABLED`` (True), ``NEWSCLEAN_BACKOFF_HTTP_CODES`` ([429, 503]),
    ``NEWSCLEAN_BACKOFF_MAX_DELAY`` (60). Stats: ``newsclean/backoff/<status>``.
    """

    def __init__(self, crawler: Crawler, codes: set[int], max_delay: float) -> None:
        self.crawler = crawler
        self.codes = codes
        self.max_delay = max_delay

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffMiddleware:
        settings = crawler.settings
        if not settings.getbool("NEWSCLEAN_BACKOFF_ENABLED", True):
            raise NotConfigured("NEWSCLEAN_BACKOFF_ENABLED is off")
        codes = {int(c) for c in settings.getlist("NEWSCLEAN_BACKOFF_HTTP_CODES", [429, 503])}
        return cls(crawler, codes, settings.getfloat("NEWSCLEAN_BACKOFF_MAX_DELAY", 60.0))

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in self.codes:
            return response
        engine: Any = self.crawler.engine
        slot_key = request.meta.get("download_slot")
        slot = engine.downloader.slots.get(slot_key) if engine is not None and slot_key else None
        if slot is not None:
            wait = retry_after(response.headers.get(b"Retry-After"))
            slot.delay = min(max(slot.delay * 2, wait, 1.0), self.max_delay)
            logger.info("%s answered %s: delay for %s now %.1f s", request.url, response.status, slot_key, slot.delay)
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newsclean/backoff/{response.status}")
        return response


def retry_after(value: bytes | None) -> float:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date); 0 when absent or bad."""
    if not value:
        return 0.0
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return 0.0
    from datetime import UTC, datetime

    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


#: What Scrapy's ``get_meta_refresh`` and ``get_base_url`` read of a page: ``response.text[0:4096]``.
HEAD_CHARS = 4096


def head_text(response: TextResponse) -> str:
    """``response.text[:4096]`` without decoding the whole body: the same decoding (Scrapy's
    ``response.encoding``, a BOM first, w3lib's replacement of bad bytes) of the first
    ``4 * 4096 + 64`` bytes, which hold 4,096 characters in any encoding of at most 4 bytes a
    character; a decoder stops differing only at the cut, past those characters. When they
    do not give 4,096 characters and some (another encoding), the whole text is decoded."""
    limit = 4 * HEAD_CHARS + 64
    body = response.body
    if len(body) <= limit:
        return response.text[:HEAD_CHARS]
    text = html_to_unicode(f"charset={response.encoding}", body[:limit])[1]
    if len(text) < HEAD_CHARS + 16:
        return response.text[:HEAD_CHARS]
    return text[:HEAD_CHARS]


class MetaRefreshMiddleware(redirect.MetaRefreshMiddleware):
    """Scrapy's ``MetaRefreshMiddleware`` (same settings, same redirects), without decoding every
    page whole: Scrapy's ``get_meta_refresh`` reads ``response.text[0:4096]``, and building
    ``response.text`` decoded the whole article (CPU of the crawl's process, docs/speed.md) for a
    text nothing else in the crawl's process reads (the cleaner decodes the page again in its
    worker). The same answer is computed from :func:`head_text` and put where Scrapy looks first
    (its per-response cache), then Scrapy's own ``process_response`` decides.
    """

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        cache = getattr(response_utils, "_metaref_cache", None)
        if (
            cache is not None
            and isinstance(response, HtmlResponse)
            and not request.meta.get("dont_redirect", False)
            and request.method != "HEAD"
            and urlparse_cached(request).scheme in {"http", "https"}
            and response not in cache
        ):
            cache[response] = meta_refresh(response, self._ignore_tags)
        return super().process_response(request, response)


#: Encodings that write each ASCII character as its own byte and have no escape or shift
#: sequence that could split a word (UTF-7, ISO-2022, HZ, UTF-16 and UTF-32 are not among them):
#: a text holding "refresh" comes from bytes holding "refresh".
_ASCII_AS_BYTES = frozenset({
    "utf-8", "ascii", "latin-1", "big5", "big5hkscs", "gbk", "gb2312", "gb18030", "shift_jis", "cp932",
    "euc_jp", "euc_kr", "cp949", "koi8-r", "koi8-u",
    *(f"iso8859-{n}" for n in range(1, 17)), *(f"cp{n}" for n in range(1250, 1259)),
})
_REFRESH = re.compile(rb"refresh", re.IGNORECASE)


@functools.lru_cache(maxsize=64)
def _ascii_as_bytes(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name in _ASCII_AS_BYTES
    except LookupError:
        return False


def meta_refresh(response: TextResponse, ignore_tags: Any = ("script", "noscript")) -> Any:
    """What ``scrapy.utils.response.get_meta_refresh(response, ignore_tags)`` gives, from
    :func:`head_text`: ``(None, None)`` or ``(interval, url)``.

    A refresh needs the word "refresh" in the attributes of a ``<meta>`` of those first 4,096
    characters (w3lib looks for it as written, entities left as they are): when the encoding
    writes ASCII as its own bytes and the bytes that hold those characters have no "refresh" in
    any case, there is none, and nothing is decoded (five pages in six of the benchmark's)."""
    if _ascii_as_bytes(response.encoding) and not _REFRESH.search(response.body, 0, 4 * HEAD_CHARS + 64):
        return None, None
    text = head_text(response)
    base_url = w3lib_html.get_base_url(text, response.url, response.encoding)
    return w3lib_html.get_meta_refresh(text, base_url, response.encoding, ignore_tags=ignore_tags)
