"""What became of the crawl's requests, and the exit code a scheduler reads from it.

:class:`DownloadOutcomeMiddleware` (a downloader middleware just below Scrapy's RetryMiddleware,
so it sees each request's *last* attempt only) counts every request once, when its fate is
settled: ``newsclean/download/requests``, and ``newsclean/download/failed/<kind>`` for those that
failed, by kind (:data:`ERROR_KINDS`, or ``http_<status>`` for an error status after retries).
A retried attempt is not a failure; a request a middleware refused before sending it (robots.txt,
the state, the safety guard) is not a request here (each has its own counter).

:func:`crawl_verdict` turns a finished crawl's stats dict into an exit code of
:mod:`pipelines.exit_codes` and one line saying why; the ``scrapy crawl`` command of this project
(:mod:`crawler.commands.crawl`) exits with it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from pipelines import exit_codes

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

REQUESTS_KEY = "newsclean/download/requests"
FAILED_PREFIX = "newsclean/download/failed/"
SAFETY_PREFIX = "newsclean/safety/refused/"
#: records whose line the feed exporter failed to write (pipelines.item_pipelines.DedupPipeline)
WRITE_FAILED_KEY = "newsclean/feed/write_failed"
#: Finish reason and stat set by :func:`pipelines.item_pipelines.state_failed` (Redis gone).
STATE_FAILED_REASON = "state_unavailable"
STATE_ERROR_KEY = "newsclean/state/error"
SHARE_SETTING = "NEWSCLEAN_MAX_FAILURE_SHARE"

#: Download error kinds, in the order they are tried, each with the exception classes that mean
#: it, by their dotted names as ``type(exc).__module__`` gives them (matched on the class and its
#: bases; names, not imports, so that classes an older or newer Scrapy does not have cost nothing).
#: Recent Scrapy versions wrap Twisted's errors in their own (``DownloadFailedError`` for a TLS
#: failure and for a connection closed early alike): the wrapped ones are found through
#: ``__cause__`` and the public ``reasons`` of Twisted's ``ResponseFailed``.
ERROR_KINDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("tls", frozenset({
        "OpenSSL.SSL.Error", "ssl.SSLError", "ssl.CertificateError", "twisted.internet.error.SSLError",
        "service_identity.exceptions.VerificationError",
        "service_identity.exceptions.CertificateError",
    })),
    ("dns", frozenset({"scrapy.exceptions.CannotResolveHostError", "twisted.internet.error.DNSLookupError"})),
    ("connection_refused", frozenset({
        "scrapy.exceptions.DownloadConnectionRefusedError", "twisted.internet.error.ConnectionRefusedError",
        "builtins.ConnectionRefusedError",
    })),
    ("timeout", frozenset({
        "scrapy.exceptions.DownloadTimeoutError", "twisted.internet.error.TimeoutError",
        "twisted.internet.error.TCPTimedOutError", "builtins.TimeoutError",
    })),
    ("connection_lost", frozenset({
        "scrapy.exceptions.ResponseDataLossError", "twisted.internet.error.ConnectionDone",
        "twisted.internet.error.ConnectionLost", "twisted.web._newclient.ResponseNeverReceived",
        "twisted.web._newclient.ResponseFailed", "twisted.web.client.ResponseFailed",
        "twisted.internet.error.ConnectionAborted", "builtins.ConnectionResetError",
        "builtins.ConnectionAbortedError",
    })),
    ("cancelled", frozenset({"scrapy.exceptions.DownloadCancelledError", "twisted.internet.defer.CancelledError"})),
    ("unsupported_scheme", frozenset({
        "scrapy.exceptions.UnsupportedURLSchemeError", "twisted.web.error.SchemeNotSupported",
    })),
)
#: The kind of an error no row of :data:`ERROR_KINDS` names (its ERROR log line says what it was).
OTHER = "other"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, what it wraps (``__cause__``, ``__context__``) and the failures a Twisted
    ``ResponseFailed`` carries (its public ``reasons``), depth first, each once."""
    stack: list[Any] = [exc]
    seen: set[int] = set()
    while stack:
        item = stack.pop(0)
        item = getattr(item, "value", item)  # a twisted Failure: its exception
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        stack.extend(getattr(item, "reasons", None) or ())
        stack.extend(x for x in (item.__cause__, item.__context__) if x is not None)


def _names(exc: BaseException) -> set[str]:
    return {f"{cls.__module__}.{cls.__qualname__}" for cls in type(exc).__mro__}


def error_kind(exc: BaseException) -> str:
    """The kind (a name of :data:`ERROR_KINDS`, else :data:`OTHER`) of a download error: the first
    kind, in the table's order, that names the exception or anything it wraps."""
    names: set[str] = set()
    for item in _causes(exc):
        names |= _names(item)
    for kind, classes in ERROR_KINDS:
        if names & classes:
            return kind
    return OTHER


def is_robots_txt(url: str) -> bool:
    return urlsplit(url).path == "/robots.txt"


class DownloadOutcomeMiddleware:
    """Count each request once, when it is settled (see the module docstring). Priority 540: below
    RetryMiddleware (550), whose retried attempts never reach it. A 4xx answer for ``/robots.txt``
    is not a failure (Scrapy reads it as "no rules"). Always on: the exit code depends on it."""

    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DownloadOutcomeMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        self.stats.inc_value(REQUESTS_KEY)
        status = response.status
        if status >= 400 and not (status < 500 and is_robots_txt(request.url)):
            self.stats.inc_value(f"{FAILED_PREFIX}http_{status}")
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, IgnoreRequest):  # refused before sending: counted by whoever refused it
            return
        self.stats.inc_value(REQUESTS_KEY)
        self.stats.inc_value(f"{FAILED_PREFIX}{error_kind(exception)}")


def _group(stats: Mapping[str, Any], prefix: str) -> dict[str, int]:
    return {k[len(prefix):]: int(v) for k, v in stats.items() if k.startswith(prefix) and v}


def download_failures(stats: Mapping[str, Any]) -> dict[str, int]:
    """Failed requests by kind (``dns``, ``tls``, ``http_500`` …)."""
    return _group(stats, FAILED_PREFIX)


def download_errors_line(stats: Mapping[str, Any]) -> str:
    """The summary's line: failed requests by kind, their share, and the requests the safety
    guard refused to send (not failures: they are never sent)."""
    failures = download_failures(stats)
    requests = int(stats.get(REQUESTS_KEY, 0) or 0)
    failed = sum(failures.values())
    share = f" ({failed / requests:.0%})" if requests else ""
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(failures.items())) or "none"
    refused = ", ".join(f"{k} {v}" for k, v in sorted(_group(stats, SAFETY_PREFIX).items())) or "none"
    return f"{failed} of {requests} requests failed{share}: {kinds}; refused by safety: {refused}"


@dataclass(frozen=True)
class Verdict:
    code: int
    reason: str


def crawl_verdict(
    stats: Mapping[str, Any],
    max_failure_share: float = exit_codes.DEFAULT_MAX_FAILURE_SHARE,
    *,
    started: bool = True,
) -> Verdict:
    """The exit code of a finished crawl from its stats (:mod:`pipelines.exit_codes`):

    * ``OUTPUT`` (1): the crawl could not start (``started`` False), a feed could not be stored, or
      a record's line could not be written (``newsclean/feed/write_failed``);
    * ``OUTPUT`` (1) too: the state or the shared queue (Redis) stayed unreachable past its retry
      bound or came back empty (finish reason ``state_unavailable``, ``newsclean/state/error``);
    * ``INTERRUPTED`` (130): stopped by a signal (Scrapy's finish reason ``shutdown``);
    * ``NOTHING`` (4): no response at all;
    * ``FAILURES`` (5): the failed share of the settled requests is above ``max_failure_share``;
    * ``OK`` (0) otherwise: every failure is a counted drop.
    """
    if not started:
        return Verdict(exit_codes.OUTPUT, "the crawl could not start (see the error above)")
    feed_failures = _group(stats, "feedexport/failed_count/")
    if feed_failures:
        return Verdict(exit_codes.OUTPUT, f"a feed could not be stored ({', '.join(sorted(feed_failures))})")
    unwritten = int(stats.get(WRITE_FAILED_KEY, 0) or 0)
    if unwritten:
        return Verdict(exit_codes.OUTPUT, f"{unwritten} records could not be written to the feed (disk full? "
                                          "see the errors above); they are not in the state: the next run writes them")
    if stats.get("finish_reason") == STATE_FAILED_REASON or stats.get(STATE_ERROR_KEY):
        return Verdict(exit_codes.OUTPUT, f"{stats.get(STATE_ERROR_KEY) or 'the state is unavailable'} "
                                          "(the feed holds whole lines)")
    if stats.get("finish_reason") == "shutdown":
        return Verdict(exit_codes.INTERRUPTED, "interrupted; the feed holds whole lines, run again to go on")
    responses = int(stats.get("response_received_count", 0) or 0)
    failures = download_failures(stats)
    failed = sum(failures.values())
    requests = int(stats.get(REQUESTS_KEY, 0) or 0)
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(failures.items(), key=lambda kv: (-kv[1], kv[0])))
    if responses == 0:
        refused = sum(_group(stats, SAFETY_PREFIX).values())
        return Verdict(
            exit_codes.NOTHING,
            f"nothing could be fetched: 0 responses to {requests} requests" + (f" ({kinds})" if kinds else "")
            + (f"; {refused} refused by the safety guard" if refused else ""),
        )
    share = failed / requests if requests else 0.0
    if share > max_failure_share:
        return Verdict(
            exit_codes.FAILURES,
            f"{failed} of {requests} requests failed ({share:.0%}, more than {SHARE_SETTING} = "
            f"{max_failure_share:g}): {kinds}",
        )
    return Verdict(exit_codes.OK, f"{failed} of {requests} requests failed ({share:.0%})")


__all__ = [
    "ERROR_KINDS", "OTHER", "DownloadOutcomeMiddleware", "Verdict", "crawl_verdict", "download_errors_line",
    "download_failures", "error_kind",
]
