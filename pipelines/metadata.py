"""Page metadata: title, authors, date, site, canonical URL, description, section and tags.

trafilatura's metadata pass (meta tags, JSON-LD, htmldate) runs on the page as parsed, before any
element is removed, with the date search capped at the fetch date. :func:`trafilatura_metadata` is
trafilatura's ``extract_metadata`` step for step, minus the fields no record holds (the license,
whose search walks every link of the page and its footers, and the hostname):
``tests/test_metadata_speed.py`` checks the two give the same fields on the fixture pages.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from html import unescape
from typing import Any

from lxml import etree
from lxml.html import HtmlElement
from trafilatura.json_metadata import JSON_UNICODE_REPLACE, extract_json, extract_json_parse_error
from trafilatura.metadata import (
    JSON_MINIFY,
    META_URL,
    Document,
    examine_meta,
    extract_author,
    extract_catstags,
    extract_sitename,
    extract_title,
    extract_url,
    find_date,
)
from trafilatura.utils import HTML_STRIP_TAGS, trim

logger = logging.getLogger(__name__)

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
    # whitespace folded first: a long run of spaces would make the split quadratic
    for part in _AUTHOR_SPLIT.split(" ".join(value.split())):
        part = part.strip()
        if part:
            seen.setdefault(part, None)
    return list(seen)


_SURROGATES = re.compile("[\ud800-\udfff]")
_JSON_LD = etree.XPath('.//script[@type="application/ld+json" or @type="application/settings+json"]')


def _unicode_escape(match: re.Match[str]) -> str:
    return chr(int(match[1], 16))


def _string_or_nothing(match: re.Match[str]) -> str:
    return match[1] or ""


def normalize_json(string: str) -> str:
    """trafilatura's ``normalize_json`` with the surrogate filter as one regex (it is a Python
    generator over every character of the page's JSON-LD)."""
    if "\\" in string:
        string = string.replace("\\n", "").replace("\\r", "").replace("\\t", "")
        string = JSON_UNICODE_REPLACE.sub(_unicode_escape, string)
        string = _SURROGATES.sub("", string)
        string = unescape(string)
    return trim(HTML_STRIP_TAGS.sub("", string))


def extract_meta_json(tree: HtmlElement, metadata: Document) -> Document:
    """trafilatura's ``extract_meta_json``: the JSON-LD blocks, minified and normalised with a
    function instead of a template per match, and :func:`normalize_json`."""
    for elem in _JSON_LD(tree):
        if not elem.text:
            continue
        element_text = normalize_json(JSON_MINIFY.sub(_string_or_nothing, elem.text))
        try:
            schema = json.loads(element_text, strict=False)
            metadata = extract_json(schema, metadata)
        except json.JSONDecodeError:
            metadata = extract_json_parse_error(element_text, metadata)
    return metadata


def trafilatura_metadata(tree: HtmlElement, default_url: str | None, date_config: dict[str, Any]) -> Document:
    """trafilatura's ``extract_metadata`` (2.3) on a parsed tree, without the license and hostname."""
    date_config = {**date_config}
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception as err:  # as trafilatura: bugs in its JSON-LD reader
        logger.warning("error in JSON metadata extraction: %s", err)
    if not metadata.title:
        metadata.title = extract_title(tree)
    if not metadata.author:
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, default_url)
    date_config["url"] = metadata.url
    metadata.date = find_date(tree, **date_config)
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url:
        match = META_URL.match(metadata.url)
        if match:
            metadata.sitename = match[1]
    if not metadata.categories:
        metadata.categories = extract_catstags("category", tree)
    if not metadata.tags:
        metadata.tags = extract_catstags("tag", tree)
    metadata.filedate = date_config.get("max_date")
    metadata.clean_and_trim()
    return metadata


def read_metadata(tree: HtmlElement, url: str | None, fetched: date | None, extensive_dates: bool = False) -> Metadata:
    """Read the metadata of a parsed page; dates later than ``fetched`` are never returned."""
    max_date = (fetched or datetime.now().date()).isoformat()
    params = {"original_date": True, "extensive_search": extensive_dates, "max_date": max_date}
    doc = trafilatura_metadata(tree, url or None, params)
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
