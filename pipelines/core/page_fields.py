"""The record's page fields that trafilatura's metadata does not give: the time of publication,
the date of the last modification, the lead image and the licence.

They are read from the meta tags, the JSON-LD blocks as :mod:`pipelines.core.metadata` already
parsed them (never parsed a second time) and the ``<time>`` elements. See ``docs/schema.md``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml.html import HtmlElement

_META = etree.XPath(".//meta[@content]")
_REL_LINKS = etree.XPath(".//link[@rel][@href] | .//a[@rel][@href]")
#: meta names and properties (lower case) giving the time of publication, of the last modification
_PUBLISHED_META = ("article:published_time", "og:article:published_time", "og:published_time", "datepublished",
                   "dcterms.created", "dc.date.issued", "dcterms.issued", "pubdate", "publishdate")
_MODIFIED_META = ("article:modified_time", "og:article:modified_time", "og:updated_time", "datemodified",
                  "dcterms.modified", "last-modified")
_OG_IMAGE = ("og:image", "og:image:url", "og:image:secure_url")
_TWITTER_IMAGE = ("twitter:image", "twitter:image:src")
_LICENSE_META = ("dcterms.license", "dc.license", "license", "dc.rights", "dcterms.rights", "copyright")
#: A licence named in words: Creative Commons (CC BY, CC BY-SA 4.0, CC0 …), public domain, GFDL,
#: the French and British open licences. Anything else in a rights field ("© 2026 X, all rights
#: reserved") is not a licence.
KNOWN_LICENSE = re.compile(
    r"(?:CC0(?:[ -]1\.0)?|CC[ -]BY(?:[ -](?:NC|SA|ND))*(?:[ -]\d\.\d)?(?:[ -][A-Z]{2,3})?"
    r"|Creative Commons\b[\w .,-]{0,80}|Public Domain(?: Mark| Dedication)?[\w .-]{0,20}"
    r"|GNU Free Documentation License[\w .,-]{0,30}|GFDL(?:[ -]\d\.\d)?"
    r"|Licence Ouverte(?: / Open Licence)?[\w .,-]{0,20}|Open Government Licen[cs]e[\w .,-]{0,30})",
    re.IGNORECASE,
)
_VISIBLE_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_VISIBLE_TIME = re.compile(r"(?<!\d)([01]?\d|2[0-3])\s*(?:h|:)\s*([0-5]\d)(?!\d)")


def json_ld_objects(blocks: list[Any]) -> list[dict[str, Any]]:
    """Every JSON object of the blocks (``@graph`` and lists walked), in page order."""
    found: list[dict[str, Any]] = []
    stack: list[Any] = list(reversed(blocks))
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(reversed([v for v in item.values() if isinstance(v, dict | list)]))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def parse_datetime(value: object) -> datetime | None:
    """An ISO 8601 date and time (``Z``, ``+01:00``, ``+0100`` or no zone), None for anything else
    (a bare day included)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) < 16 or value[10:11] not in ("T", "t", " "):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def format_datetime(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` and the page's own zone: ``Z`` for UTC, ``+HH:MM`` for another
    offset, nothing when the page gave a local time without a zone (no zone is invented)."""
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    offset = moment.utcoffset()
    if offset is None:
        return text
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def _absolute_http(value: object, base: str | None) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    resolved = urljoin(base, value) if base else value
    return resolved if resolved.startswith(("http://", "https://")) else None


class PageFields:
    """The record's fields that trafilatura's metadata does not give, read from the page's meta
    tags, its JSON-LD (as already parsed for the metadata: never parsed twice) and ``<time>``."""

    def __init__(self, tree: HtmlElement, json_ld: list[Any]) -> None:
        self.tree = tree
        self.objects = json_ld_objects(json_ld)
        #: the article's own object: the first with a headline or a date of publication
        self.article = next((o for o in self.objects if "headline" in o or "datePublished" in o), None)
        meta: dict[str, str] = {}
        for elem in _META(tree):
            key = elem.get("property") or elem.get("name") or elem.get("itemprop")
            if key:
                meta.setdefault(key.strip().lower(), elem.get("content", ""))
        self.meta = meta

    def _ld(self, key: str) -> list[Any]:
        """``key``'s values: the article object's first, then the other objects' in page order."""
        ordered = [self.article] if self.article is not None else []
        return [o[key] for o in (*ordered, *self.objects) if key in o]

    def _meta(self, names: tuple[str, ...]) -> list[str]:
        return [self.meta[n] for n in names if n in self.meta]

    def published_time(self, day: str) -> str | None:
        """The time of publication on ``day`` (``YYYY-MM-DD``, the date the metadata found), from
        JSON-LD ``datePublished``, the meta tags, ``<time datetime>``, then a time written beside
        that day in a ``<time>`` element's text ("16/11/2026 à 07h45": a local time, no zone)."""
        elements = list(self.tree.iter("time"))
        machine = [*self._ld("datePublished"), *self._meta(_PUBLISHED_META)]
        machine.extend(el.get("datetime") for el in elements if el.get("datetime"))
        for value in machine:
            moment = parse_datetime(value)
            if moment is not None and moment.date().isoformat() == day:
                return format_datetime(moment)
        for el in elements:
            written = _written_time(el.text_content(), day)
            if written:
                return written
        return None

    def date_modified(self) -> str | None:
        """JSON-LD ``dateModified`` or a modification meta tag: a date and time as the page gives it
        (:func:`format_datetime`), or a bare day."""
        for value in (*self._ld("dateModified"), *self._meta(_MODIFIED_META)):
            moment = parse_datetime(value)
            if moment is not None:
                return format_datetime(moment)
            if isinstance(value, str) and _DAY.fullmatch(value.strip()):
                return value.strip()
        return None

    def image(self, base: str | None) -> str | None:
        """The lead image: ``og:image``, JSON-LD ``image`` (a URL, an ``ImageObject`` or a list of
        them), ``twitter:image``; an absolute http(s) URL."""
        for value in (*self._meta(_OG_IMAGE), *self._ld("image"), *self._meta(_TWITTER_IMAGE)):
            for candidate in _urls(value):
                found = _absolute_http(candidate, base)
                if found:
                    return found
        return None

    def license(self, base: str | None) -> str | None:
        """The licence the page declares: a ``rel=license`` link, JSON-LD ``license``, or a rights
        meta tag (``dcterms.license``, ``dc.rights``, ``copyright`` …). An absolute URL counts, and
        a licence named in words (:data:`KNOWN_LICENSE`); a bare copyright notice does not."""
        for elem in _REL_LINKS(self.tree):
            if "license" in elem.get("rel", "").lower().split():
                found = _absolute_http(elem.get("href"), base)
                if found:
                    return found
        for value in (*self._ld("license"), *self._meta(_LICENSE_META)):
            for candidate in _urls(value, names=True):
                found = _license_value(candidate, base)
                if found:
                    return found
        return None


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _urls(value: Any, names: bool = False) -> list[str]:
    """The strings of a JSON-LD value: itself, an object's ``url`` / ``@id`` (and ``name``), a list's items."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        keys = ("url", "contentUrl", "@id", "name") if names else ("url", "contentUrl", "@id")
        return [v for k in keys if isinstance(v := value.get(k), str)]
    if isinstance(value, list):
        return [s for item in value for s in _urls(item, names)]
    return []


def _license_value(value: str, base: str | None) -> str | None:
    value = " ".join(value.split())
    if value.startswith(("http://", "https://", "/")):
        return _absolute_http(value, base)
    match = KNOWN_LICENSE.fullmatch(value.rstrip(". "))
    return match[0] if match else None


def _written_time(text: str, day: str) -> str | None:
    """``day`` and a time written in ``text`` ("16/11/2026 à 07h45", "11/16/2026 7:45"): the
    local time, without a zone; None when the text gives another day or no time."""
    date_match = _VISIBLE_DATE.search(text)
    if not date_match:
        return None
    a, b, year = date_match.groups()
    if f"{year}-{int(b):02d}-{int(a):02d}" != day and f"{year}-{int(a):02d}-{int(b):02d}" != day:
        return None
    time_match = _VISIBLE_TIME.search(text, date_match.end())
    if not time_match:
        return None
    return f"{day}T{int(time_match[1]):02d}:{time_match[2]}:00"
