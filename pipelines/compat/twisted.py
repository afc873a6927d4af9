"""A cap on the response headers the crawl accepts, on Twisted's HTTP client internals.

Scrapy's HTTP/1.1 download handler reads responses with Twisted's ``HTTPClientParser``
(``twisted.web._newclient``, private), which keeps every header line it is sent: a server sending
endless headers (each line short, so ``LineReceiver.MAX_LENGTH`` never trips) fills the crawl's
memory until the download timeout, on every retry. ``DOWNLOAD_MAXSIZE`` counts only the body.

:func:`cap_response_headers` wraps ``HTTPClientParser.dataReceived`` (Scrapy's lenient parser
subclass overrides ``lineReceived`` only) so that a response whose status line and headers pass
``max_bytes`` or ``max_count`` lines fails with :class:`HeadersTooLarge` (Twisted then drops the
connection and the request fails with ``ResponseFailed``; Scrapy's retry and errback see an
ordinary download error). The chunks counted are those read while the headers have not ended:
the parser holds at most the cap and one socket read of headers. The parser is made anew for
every response, so the counts are per response.

On a Twisted version this was not checked against, or with ``NEWSCLEAN_COMPAT=public``, nothing
is wrapped (one warning): the crawl runs as Scrapy alone would, without the cap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.compat import Internals, installed

#: Twisted versions whose ``HTTPClientParser`` (``state`` in ``STATUS``/``HEADER`` until the body,
#: every byte through ``dataReceived``) was checked: pyproject's floor to the pin.
TWISTED_VERSIONS = ("23.", "24.", "25.", "26.")

INTERNALS = Internals("twisted", installed("twisted"), TWISTED_VERSIONS)

HTTPClientParser: Any = None
Request: Any = None
HEADER: Any = None
STATUS: Any = None
try:
    from twisted.web import _newclient
except ImportError as exc:  # pragma: no cover - a newer or patched Twisted
    INTERNALS.missing.append(str(exc))
else:
    try:
        HTTPClientParser, Request = _newclient.HTTPClientParser, _newclient.Request
        HEADER, STATUS = _newclient.HEADER, _newclient.STATUS
    except AttributeError as exc:  # pragma: no cover - a newer or patched Twisted
        INTERNALS.missing.append(str(exc))
        HTTPClientParser = None


class HeadersTooLarge(Exception):
    """A response's status line and headers passed the cap."""


@dataclass
class HeaderLimits:
    max_bytes: int
    max_count: int


#: The limits in force in this process (one crawl per process; the last call sets them).
LIMITS = HeaderLimits(max_bytes=256 * 1024, max_count=500)
_ORIGINAL: Callable[..., Any] | None = None


def _capped_data_received(self: Any, data: bytes) -> Any:
    assert _ORIGINAL is not None
    in_headers = self.state in (STATUS, HEADER)
    result = _ORIGINAL(self, data)
    if in_headers and self.state in (STATUS, HEADER):  # the whole chunk was status line or headers
        seen = self.__dict__.get("_newsclean_header_bytes", 0) + len(data)
        lines = self.__dict__.get("_newsclean_header_lines", 0) + data.count(b"\n")
        self._newsclean_header_bytes = seen
        self._newsclean_header_lines = lines
        if seen > LIMITS.max_bytes or lines > LIMITS.max_count:
            raise HeadersTooLarge(
                f"response headers passed the cap ({LIMITS.max_bytes} bytes or {LIMITS.max_count} lines)"
            )
    return result


def cap_response_headers(max_bytes: int, max_count: int) -> bool:
    """Cap the headers of every response read in this process; True when the cap is in force."""
    global _ORIGINAL
    LIMITS.max_bytes, LIMITS.max_count = max_bytes, max_count
    if _ORIGINAL is not None:
        return True
    if HTTPClientParser is None or not INTERNALS.fast():
        return False
    _ORIGINAL = HTTPClientParser.dataReceived
    HTTPClientParser.dataReceived = _capped_data_received
    return True


def uncap_response_headers() -> None:
    """Undo :func:`cap_response_headers` (tests)."""
    global _ORIGINAL
    if _ORIGINAL is not None and HTTPClientParser is not None:
        HTTPClientParser.dataReceived = _ORIGINAL
        _ORIGINAL = None


def is_headers_too_large(error: BaseException) -> bool:
    """Does a download error come from the cap? Twisted's ``ResponseFailed`` carries it in its
    ``reasons``; Scrapy wraps that in its own download error (``raise ... from``)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, HeadersTooLarge):
            return True
        for reason in getattr(current, "reasons", None) or ():
            if isinstance(getattr(reason, "value", None), HeadersTooLarge):
                return True
        current = current.__cause__ or current.__context__
    return False
