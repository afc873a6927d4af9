# Over 300 lines: the address guard, its resolver, its middlewares and the XML reader share one set of rules.
"""Safe crawling: where the crawl may connect, and what it does with hostile responses.

* :class:`SafeRequestMiddleware` (downloader middleware) refuses, before any connection, a request
  whose scheme is not http(s), whose host is outside the profiles' ``allowed_domains`` (even with
  ``dont_filter``), whose host is a literal IP address that is not public (loopback, private,
  link-local, multicast, reserved, unspecified, shared, cloud metadata …), or whose host name the
  resolver already refused. Redirects and retries go through it again.
* :class:`SafeResolver` (``TWISTED_DNS_RESOLVER``) refuses a host name that resolves to such an
  address: no connection is made to the address it gave.
* A site profile opens what it needs with ``allow_private_addresses``: ``true`` (any non-public
  address but the cloud metadata ones; the demo site) or a list of addresses / networks
  (``["127.0.0.1", "10.1.0.0/16"]``), for the hosts of that profile's ``allowed_domains`` only.
* :class:`CountedHttpCompressionMiddleware` is Scrapy's HttpCompressionMiddleware (which stops
  unpacking at ``DOWNLOAD_MAXSIZE``) with the stopped responses counted.
* :func:`read_xml` parses a sitemap or feed without expanding entities or reading anything
  outside the body, and names what was wrong with it.

Stats: ``newsclean/safety/refused/<reason>`` (``scheme``, ``offsite``, ``private_address``,
``metadata_address``), ``newsclean/safety/dropped/too_large_unpacked``. Each refused host is logged
once (WARNING).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lxml import etree
from scrapy import Request, signals
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})
#: Cloud instance-metadata endpoints (AWS, ECS, GCP and Azure share 169.254.169.254; AWS's IPv6
#: one; Alibaba; Oracle's legacy one). Refused even when a profile allows private addresses,
#: unless a network it lists contains them.
METADATA_ADDRESSES: frozenset[Address] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
REASONS = ("scheme", "offsite", "private_address", "metadata_address")


#: IPv6 prefixes whose last 32 bits are an IPv4 address that the packet reaches: IPv4-compatible
#: (``::a.b.c.d``, deprecated but still routed by some stacks), SIIT's IPv4-translated
#: (``::ffff:0:a.b.c.d``), and NAT64's well-known and local-use prefixes (RFC 6052, RFC 8215).
_EMBEDDING_V4 = tuple(ipaddress.IPv6Network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48"))


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and leads to (IPv4-mapped, IPv4-compatible,
    IPv4-translated, NAT64, 6to4), else None. ``::`` and ``::1`` are IPv6's own."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if int(address) > 1 and any(address in network for network in _EMBEDDING_V4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_problem(address: Address) -> str | None:
    """``"metadata_address"``, ``"private_address"`` (anything not globally routable: loopback,
    private, link-local, shared, reserved, unspecified, documentation …, and multicast) or None.
    An IPv6 address that carries an IPv4 address (:func:`embedded_ipv4`) is judged by both."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = embedded_ipv4(address)
        if carried is not None and (problem := address_problem(carried)) is not None:
            return problem
    if address in METADATA_ADDRESSES:
        return "metadata_address"
    if not address.is_global or address.is_multicast:
        return "private_address"
    return None


def literal_address(host: str) -> Address | None:
    """The IP address a URL host names literally (``urlsplit(...).hostname``), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def host_in(host: str, domains: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in (x.lower().rstrip(".") for x in domains))


def parse_allowance(value: bool | Sequence[str]) -> tuple[bool, tuple[Network, ...]]:
    """A profile's ``allow_private_addresses`` as (every non-public address?, listed networks).
    Raises ValueError on a bad network."""
    if isinstance(value, bool):
        return value, ()
    return False, tuple(ipaddress.ip_network(v, strict=False) for v in value)


@dataclass(frozen=True)
class Allowance:
    """Private addresses a profile may reach, for the hosts of its domains."""

    domains: tuple[str, ...]
    any_private: bool = False
    networks: tuple[Network, ...] = ()

    def allows(self, host: str, address: Address, reason: str) -> bool:
        if not host_in(host, self.domains):
            return False
        if any(address in n for n in self.networks if n.version == address.version):
            return True
        return self.any_private and reason == "private_address"


class Guard:
    """What the crawl may connect to: shared by the middleware (per crawler) and the resolver
    (per process). Until a middleware configures it, every non-public address is refused."""

    def __init__(self) -> None:
        self.allowances: tuple[Allowance, ...] = ()
        self.domains: tuple[str, ...] = ()
        self.stats: StatsCollector | None = None
        self.refused_hosts: dict[str, str] = {}
        self._logged: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def configure(self, allowances: Iterable[Allowance], domains: Iterable[str], stats: StatsCollector | None) -> None:
        self.allowances = tuple(allowances)
        self.domains = tuple(domains)
        self.stats = stats

    def address_problem(self, host: str, address: Address) -> str | None:
        reason = address_problem(address)
        if reason is None or any(a.allows(host, address, reason) for a in self.allowances):
            return None
        return reason

    def url_problem(self, url: str) -> str | None:
        """Why the crawl must not request ``url`` (without resolving anything), or None."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ALLOWED_SCHEMES:
            return "scheme"
        host = (parts.hostname or "").rstrip(".")
        if not host:
            return "scheme"
        if self.domains and not host_in(host, self.domains):
            return "offsite"
        address = literal_address(host)
        if address is not None:
            return self.address_problem(host, address)
        return self.refused_hosts.get(host)

    def refuse(self, host: str, reason: str, what: str) -> None:
        """Count a refusal; log the first one of each host and reason."""
        if self.stats is not None:
            self.stats.inc_value(f"newsclean/safety/refused/{reason}")
        with self._lock:
            first = (host, reason) not in self._logged
            self._logged.add((host, reason))
        if first:
            logger.warning("refused (%s): %s", reason, what)


#: The process's guard (the resolver is built once per process, before any crawler's spider).
GUARD = Guard()


def allowances_of(spider: Any) -> list[Allowance]:
    """The allowances of a ``news`` spider's profiles (none for another spider)."""
    found = []
    for profile in getattr(spider, "profiles", ()):
        any_private, networks = parse_allowance(getattr(profile, "allow_private_addresses", False))
        if any_private or networks:
            domains = tuple(profile.allowed_domains) or (urlsplit(profile.base_url).hostname or "",)
            found.append(Allowance(domains, any_private, networks))
    return found


def domains_of(spider: Any) -> tuple[str, ...]:
    """Where a spider may go: each profile's ``allowed_domains``, or its base URL's host when it
    names none (as ``SiteProfile.on_site``); else the spider's ``allowed_domains`` (empty: any)."""
    profiles = getattr(spider, "profiles", None)
    if profiles:
        return tuple(d for p in profiles for d in (p.allowed_domains or (urlsplit(p.base_url).hostname or "",)))
    return tuple(getattr(spider, "allowed_domains", None) or ())


class SafeRequestMiddleware:
    """Refuse unsafe requests before they are sent (IgnoreRequest). See the module docstring.

    Setting: ``NEWSCLEAN_SAFETY_ENABLED`` (True; never turn it off on a shared machine).
    """

    def __init__(self, crawler: Crawler, guard: Guard) -> None:
        self.crawler = crawler
        self.guard = guard
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafeRequestMiddleware:
        if not crawler.settings.getbool("NEWSCLEAN_SAFETY_ENABLED", True):
            raise NotConfigured("NEWSCLEAN_SAFETY_ENABLED is off")
        middleware = cls(crawler, GUARD)
        middleware.spider_opened()
        return middleware

    def spider_opened(self) -> None:
        spider = self.crawler.spider
        self.guard.configure(allowances_of(spider), domains_of(spider), self.crawler.stats)

    def process_request(self, request: Request) -> None:
        reason = self.guard.url_problem(request.url)
        if reason is not None:
            host = urlsplit(request.url).hostname or request.url[:40]
            self.guard.refuse(host, reason, request.url)
            raise IgnoreRequest(f"refused ({reason}): {request.url}")


class SafeResolver(CachingThreadedResolver):
    """Scrapy's caching resolver that refuses a host name resolving to an address the guard does
    not allow for that host (a ``DNSLookupError``: no connection is made; the host's next requests
    are refused by :class:`SafeRequestMiddleware` before being sent)."""

    guard = GUARD

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> Any:
        """With ``NEWSCLEAN_SAFETY_ENABLED`` off, Scrapy's own caching resolver: no name is refused."""
        if not crawler.settings.getbool("NEWSCLEAN_SAFETY_ENABLED", True):
            return CachingThreadedResolver.from_crawler(crawler, reactor)
        return super().from_crawler(crawler, reactor)

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        deferred = super().getHostByName(name, timeout)
        deferred.addCallback(self._check, name)
        return deferred

    def _check(self, address: str, name: str) -> str:
        host = name.rstrip(".").lower()
        literal = literal_address(address)
        reason = "private_address" if literal is None else self.guard.address_problem(host, literal)
        if reason is not None:
            self.guard.refused_hosts[host] = reason
            self.guard.refuse(host, reason, f"{name} resolves to {address}")
            raise DNSLookupError(f"{name} resolves to {address}: refused ({reason})")
        return address


class CountedHttpCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's HttpCompressionMiddleware (gzip, deflate, br, zstd), unchanged, with the responses
    it stops at ``DOWNLOAD_MAXSIZE`` while unpacking (gzip bombs) counted as
    ``newsclean/safety/dropped/too_large_unpacked``. Scrapy logs each with its URL."""

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest:
            if self.stats is not None:
                self.stats.inc_value("newsclean/safety/dropped/too_large_unpacked")
            raise


# -- XML of sitemaps and feeds -----------------------------------------------------------------

#: Elements that are one entry of a sitemap or feed: a truncated document keeps only whole ones.
ENTRY_TAGS = frozenset({"url", "sitemap", "item", "entry"})
XML_ROOTS = frozenset({"urlset", "sitemapindex", "rss", "feed", "rdf"})
XML_PROBLEMS = ("not_xml", "entities", "broken")


@dataclass
class XmlDocument:
    root: Any  # an lxml element, or None
    problem: str | None  # None, or one of XML_PROBLEMS


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


#: Comments, CDATA sections and processing instructions: their text is not markup.
_NOT_MARKUP = re.compile(rb"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<\?.*?(?:\?>|\Z)", re.DOTALL)
#: An entry's start tag (group 1 empty) or end tag (group 1 "/"), with or without a prefix.
_ENTRY_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(?:url|sitemap|item|entry)[\s/>]", re.IGNORECASE)


def whole_entries(body: bytes, started: int) -> int:
    """How many of the ``started`` entries of a broken document are whole, decided on the bytes.

    Whatever libxml2 does at the damage (before 2.14 it leaves the open elements open; from 2.14
    on it closes them, so a cut-off ``<url>`` looks ended), the parser *starts* only the entries
    whose start tag lies before the damage. The last of those is whole only when every entry of
    the body was started and the body holds as many entry end tags as start tags; otherwise the
    damage may lie inside it, and it is left out (at worst one whole entry is lost, never a
    half-read one requested).
    """
    opened = closed = 0
    for match in _ENTRY_TAG.finditer(_NOT_MARKUP.sub(b"", body)):
        if match.group(1):
            closed += 1
        else:
            opened += 1
    if started == 0:
        return 0
    return started if started == opened and closed >= opened else started - 1


def read_xml(body: bytes) -> XmlDocument:
    """Parse a sitemap or feed safely: no entity is expanded, no DTD or external file is loaded.

    * a document that declares entities (an XML entity bomb, an external entity naming a local
      file) is refused whole: ``(None, "entities")``;
    * a body that is not a sitemap or feed at all (HTML, an image, nothing): ``(…, "not_xml")``;
    * a document cut short or broken part-way (``"broken"``) keeps the entries that ended before
      the damage (a ``<url>`` cut inside its ``<loc>`` is left out, never requested half-read),
      decided by :func:`whole_entries` on the bytes, not by the version of libxml2's recovery.
    """
    parser = etree.XMLPullParser(
        events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )
    broken = False
    try:
        parser.feed(body)
        parser.close()
    except etree.XMLSyntaxError:
        broken = True
    root = None
    ended: set[Any] = set()
    started: list[Any] = []
    for event, element in parser.read_events():
        if root is None:
            root = element
        if event == "end":
            ended.add(element)
        elif _local(element.tag) in ENTRY_TAGS:
            started.append(element)
    if root is None:
        return XmlDocument(None, "not_xml")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        return XmlDocument(None, "entities")
    if _local(root.tag) not in XML_ROOTS:
        return XmlDocument(None, "not_xml") if broken else XmlDocument(root, None)
    if broken:
        keep = whole_entries(body, len(started))
        for index, element in enumerate(started):
            if (index >= keep or element not in ended) and element.getparent() is not None:
                element.getparent().remove(element)
        return XmlDocument(root, "broken")
    return XmlDocument(root, None)


__all__ = [
    "GUARD", "METADATA_ADDRESSES", "REASONS", "XML_PROBLEMS", "Allowance", "CountedHttpCompressionMiddleware",
    "Guard", "SafeRequestMiddleware", "SafeResolver", "XmlDocument", "address_problem", "allowances_of", "domains_of",
    "embedded_ipv4", "literal_address", "parse_allowance", "read_xml", "whole_entries",
]
