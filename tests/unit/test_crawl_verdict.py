"""The crawl's exit code from its stats (crawler/outcomes.py), the kinds of download errors, and the
checks of ``-a site`` / ``-a since`` made before a crawl starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from OpenSSL import SSL
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Request, Response
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionDone, ConnectionLost, DNSLookupError
from twisted.python.failure import Failure
from twisted.web.client import ResponseNeverReceived

from crawler.outcomes import (
    OTHER,
    DownloadOutcomeMiddleware,
    crawl_verdict,
    download_errors_line,
    error_kind,
)
from crawler.profiles import ProfileError
from crawler.spiders.news import NewsSpider, parse_since
from pipelines import exit_codes


def stats(responses: int, requests: int, **failed: int) -> dict[str, Any]:
    found: dict[str, Any] = {"finish_reason": "finished", "response_received_count": responses,
                             "newsclean/download/requests": requests}
    found.update({f"newsclean/download/failed/{kind}": n for kind, n in failed.items()})
    return found


# -- the verdict -----------------------------------------------------------------------------------
def test_no_response_at_all_is_nothing_fetched() -> None:
    verdict = crawl_verdict(stats(0, 24, dns=24))
    assert verdict.code == exit_codes.NOTHING
    assert verdict.reason == "nothing could be fetched: 0 responses to 24 requests (dns 24)"


def test_no_request_sent_at_all_is_nothing_fetched_too() -> None:
    verdict = crawl_verdict({"finish_reason": "finished", "newsclean/safety/refused/private_address": 3})
    assert verdict.code == exit_codes.NOTHING
    assert verdict.reason.endswith("0 responses to 0 requests; 3 refused by the safety guard")


def test_more_than_the_share_failing_is_failures() -> None:
    verdict = crawl_verdict(stats(3, 7, http_500=2, connection_lost=2))
    assert verdict.code == exit_codes.FAILURES
    assert verdict.reason == ("4 of 7 requests failed (57%, more than NEWSCLEAN_MAX_FAILURE_SHARE = 0.5): "
                              "connection_lost 2, http_500 2")


@pytest.mark.parametrize(("failed", "share", "code"), [
    (5, 0.5, exit_codes.OK),  # exactly the share: not more
    (6, 0.5, exit_codes.FAILURES),
    (1, 0.0, exit_codes.FAILURES),
    (0, 0.0, exit_codes.OK),
    (10, 1.0, exit_codes.OK),  # 1.0: never
])
def test_the_share_is_a_limit_not_reached_by_equality(failed: int, share: float, code: int) -> None:
    assert crawl_verdict(stats(10, 10, timeout=failed), share).code == code


def test_drops_and_refusals_are_not_failures() -> None:
    quiet = stats(30, 30) | {"newsclean/clean/dropped/too_short": 12, "newsclean/dedup/dropped/duplicate_hash": 9,
                             "newsclean/state/skipped/seen_url": 400, "newsclean/safety/refused/offsite": 50,
                             "robotstxt/forbidden": 7}
    verdict = crawl_verdict(quiet)
    assert verdict.code == exit_codes.OK and verdict.reason == "0 of 30 requests failed (0%)"


def test_a_crawl_that_did_not_start_or_lost_its_feed_is_output() -> None:
    assert crawl_verdict({}, started=False).code == exit_codes.OUTPUT
    lost = stats(30, 30) | {"feedexport/failed_count/FileFeedStorage": 1}
    verdict = crawl_verdict(lost)
    assert verdict.code == exit_codes.OUTPUT and "FileFeedStorage" in verdict.reason


def test_an_interrupted_crawl_is_interrupted() -> None:
    assert crawl_verdict(stats(0, 0) | {"finish_reason": "shutdown"}).code == exit_codes.INTERRUPTED


def test_the_summary_line() -> None:
    line = download_errors_line(stats(3, 7, http_500=2, tls=1) | {"newsclean/safety/refused/scheme": 2})
    assert line == "3 of 7 requests failed (43%): http_500 2, tls 1; refused by safety: scheme 2"
    assert download_errors_line({}) == "0 of 0 requests failed: none; refused by safety: none"


# -- the kinds -------------------------------------------------------------------------------------
def wrapped(*reasons: BaseException) -> DownloadFailedError:
    """What Scrapy's HTTP/1.1 handler raises when no answer came: Twisted's error, wrapped."""
    try:
        try:
            raise ResponseNeverReceived([Failure(reason) for reason in reasons])
        except ResponseNeverReceived as inner:
            raise DownloadFailedError(str(inner)) from inner
    except DownloadFailedError as outer:
        return outer


@pytest.mark.parametrize(("exception", "kind"), [
    (CannotResolveHostError("no-such-host.invalid"), "dns"),
    (DNSLookupError("no-such-host.invalid"), "dns"),
    (DownloadConnectionRefusedError("refused"), "connection_refused"),
    (DownloadTimeoutError("took longer than 30 seconds"), "timeout"),
    (wrapped(SSL.Error([("SSL routines", "", "wrong version number")])), "tls"),
    (wrapped(ConnectionLost(), SSL.Error([("SSL routines", "", "certificate verify failed")])), "tls"),
    (wrapped(ConnectionDone()), "connection_lost"),
    (ResponseDataLossError(), "connection_lost"),
    (DownloadCancelledError("expected response size larger than download max size"), "cancelled"),
    (ValueError("something else"), OTHER),
])
def test_error_kinds(exception: BaseException, kind: str) -> None:
    assert error_kind(exception) == kind


def test_the_middleware_counts_settled_requests_only() -> None:
    crawler = get_crawler()
    assert crawler.stats is not None
    crawler.stats.open_spider()
    middleware = DownloadOutcomeMiddleware.from_crawler(crawler)
    for url, status in (("http://a.test/1", 200), ("http://a.test/2", 503), ("http://a.test/robots.txt", 404),
                        ("http://a.test/robots.txt", 500), ("http://a.test/3", 404)):
        request = Request(url)
        assert middleware.process_response(request, Response(url, status=status, request=request)).status == status
    middleware.process_exception(Request("http://a.test/4"), IgnoreRequest("already stored"))
    middleware.process_exception(Request("http://a.test/5"), wrapped(ConnectionDone()))
    counted = {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("newsclean/download/")}
    assert counted == {"newsclean/download/requests": 6, "newsclean/download/failed/http_503": 1,
                       "newsclean/download/failed/http_500": 1, "newsclean/download/failed/http_404": 1,
                       "newsclean/download/failed/connection_lost": 1}


# -- before the start ------------------------------------------------------------------------------
def test_since_is_a_day() -> None:
    day = parse_since("2026-11-01")
    assert day is not None and day.isoformat() == "2026-11-01T00:00:00+00:00"
    assert parse_since(None) is None and parse_since(" ") is None
    for bad in ("yesterday", "2026-13-01", "01/11/2026"):
        with pytest.raises(ValueError, match=f"-a since={bad}: not a date; give a day as YYYY-MM-DD"):
            parse_since(bad)


@pytest.mark.parametrize(("arguments", "says"), [
    ({}, "no site given"),
    ({"site": " , "}, "no site given"),
    ({"site": "demo,nosuch"}, "unknown site(s) nosuch; known: 01net,"),
    ({"site": "demo", "sites_dir": "/nonexistent-sites"}, "/nonexistent-sites: no such folder of site profiles"),
])
def test_site_arguments_the_crawl_cannot_run_with(arguments: dict[str, str], says: str) -> None:
    with pytest.raises(ProfileError) as raised:
        NewsSpider.check_arguments(arguments, None)
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_the_sites_folder_setting_is_where_sites_are_looked_for(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('base_url = "https://example.org"\n', encoding="utf-8")
    (tmp_path / "other").mkdir()
    NewsSpider.check_arguments({"site": "mine", "since": "2026-11-01"}, str(tmp_path))
    with pytest.raises(ProfileError, match="unknown site"):
        NewsSpider.check_arguments({"site": "mine"}, None)
    with pytest.raises(ProfileError, match="unknown site"):  # -a sites_dir before the setting
        NewsSpider.check_arguments({"site": "mine", "sites_dir": str(tmp_path / "other")}, str(tmp_path))
