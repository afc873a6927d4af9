"""Page metadata: title, authors, date, site, canonical URL, description, section and tags.

trafilatura's metadata pass (meta tags, JSON-LD, htmldate) runs on the page as parsed, before any
element is removed, with the date search capped at the fetch date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata

_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\||\bet\b|\band\b|,)\s*")


@dataclass
class Metadata:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    date_published: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    description: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    html_lang: str | None = None


def split_authors(value: str | None) -> list[str]:
    if not value:
        return []
    seen: dict[str, None] = {}
    for part in _AUTHOR_SPLIT.split(value):
        part = part.strip()
        if part:
            seen.setdefault(part, None)
    return list(seen)


def read_metadata(tree: HtmlElement, url: str | None, fetched: date | None, extensive_dates: bool = False) -> Metadata:
    """Read the metadata of a parsed page; dates later than ``fetched`` are never returned."""
    max_date = (fetched or datetime.now().date()).isoformat()
    params = {"original_date": True, "extensive_search": extensive_dates, "max_date": max_date}
    doc = extract_metadata(tree, default_url=url or None, date_config=params, extensive=extensive_dates)
    published = doc.date
    if published and fetched and published[:10] > fetched.isoformat():
        published = None
    html_lang = tree.get("lang") or tree.get("xml:lang")
    return Metadata(
        title=doc.title or None,
        authors=split_authors(doc.author),
        date_published=published or None,
        site_name=doc.sitename or None,
        canonical_url=doc.url or None,
        description=doc.description or None,
        section=(doc.categories[0] if doc.categories else None),
        tags=list(dict.fromkeys(t for t in (doc.tags or []) if t)),
        html_lang=html_lang,
    )
