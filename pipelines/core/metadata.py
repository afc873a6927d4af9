# Over 300 lines: one step, trafilatura's metadata answers given without its whole-tree passes, with their fallback.
"""Page metadata: title, authors, date, site, canonical URL, description, section and tags; and,
through :mod:`pipelines.core.page_fields`, the time of publication, the date of the last
modification, the lead image and the licence, read from the JSON-LD parsed here.

trafilatura's metadata pass (meta tags, JSON-LD, htmldate) runs on the page as parsed, before any
element is removed, with the date search capped at the fetch date. :func:`trafilatura_metadata` is
trafilatura's ``extract_metadata`` step for step, minus the license (whose search walks every link
of the page and its footers: the record's licence is :mod:`pipelines.core.page_fields`'s, from
``rel=license`` links, JSON-LD and meta tags) and the hostname:
``tests/test_metadata_speed.py`` checks the two give the same fields on the fixture pages.

Two of its steps are trafilatura's with less work and the same answer (see docs/speed.md):
:func:`extract_author` reads the page as parsed instead of a pruned copy of it, and tests
trafilatura's author XPaths only on the elements that could match them;
:func:`extract_catstags` tests the category and tag XPaths only on the links whose ``href``
trafilatura would keep, and not at all when no link of the page has such an ``href``.

These follow trafilatura's internals (imported in :mod:`pipelines.compat.trafilatura`, which
checks the installed version); with another version, or one that lacks them, the public
``trafilatura.extract_metadata`` answers (one warning in the log): the same fields, in more time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date, datetime
from html import unescape
from typing import Any

import trafilatura
from lxml import etree
from lxml.html import HtmlElement

from pipelines.compat import trafilatura as tc
from pipelines.core.page_fields import PageFields
from pipelines.rules.text import AUTHOR_SPLIT_PATTERN

logger = logging.getLogger(__name__)

_AUTHOR_SPLIT = re.compile(AUTHOR_SPLIT_PATTERN)  # separator words of every language module


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
    date_modified: str | None = None
    image: str | None = None
    license: str | None = None


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
        string = tc.JSON_UNICODE_REPLACE.sub(_unicode_escape, string)
        string = _SURROGATES.sub("", string)
        string = unescape(string)
    return tc.trim(tc.HTML_STRIP_TAGS.sub("", string))


def extract_meta_json(tree: HtmlElement, metadata: tc.Document, parsed: list[Any] | None = None) -> tc.Document:
    """trafilatura's ``extract_meta_json``: the JSON-LD blocks, minified and normalised with a
    function instead of a template per match, and :func:`normalize_json`. Each block that parses
    is appended to ``parsed`` (when given): the record's other JSON-LD fields are read from it."""
    for elem in _JSON_LD(tree):
        if not elem.text:
            continue
        element_text = normalize_json(tc.JSON_MINIFY.sub(_string_or_nothing, elem.text))
        try:
            schema = json.loads(element_text, strict=False)
            if parsed is not None:
                parsed.append(schema)
            metadata = tc.extract_json(schema, metadata)
        except json.JSONDecodeError:
            metadata = tc.extract_json_parse_error(element_text, metadata)
    return metadata


# --- author, categories and tags: trafilatura's XPaths, tested only where they could match ---------

#: The XPaths below are written for these trafilatura XPaths (2.3.1); with any others the module
#: runs trafilatura's own ``extract_author`` and ``extract_catstags``.
_SEARCH_DIGEST = "57c0dece591210be545e2999879a1ae7ae434101e817d5025db062d7bfa8ea1b"
FAST_SEARCH = not tc.INTERNALS.missing and (
    hashlib.sha256(
        "\x00".join(
            x.path
            for group in (tc.AUTHOR_XPATHS, tc.AUTHOR_DISCARD_XPATHS, tc.CATEGORIES_XPATHS, tc.TAGS_XPATHS)
            for x in group
        ).encode()
    ).hexdigest()
    == _SEARCH_DIGEST
)

_BRANCH = re.compile(r"(?:^|(?<=\|))\s*\.?//")
_LINK_SEARCH = re.compile(r"^\s*//(?P<step>.*)//a\[@href\]\s*$", re.DOTALL)
_POSITIONAL = re.compile(r"\[\s*\d|position\(|last\(")


def _on_nodes(xpath: etree.XPath, variable: str) -> etree.XPath:
    """``xpath``, a union of ``//step[predicates]`` (or ``.//``), as a filter of the node-set
    ``$variable``: the elements of ``$variable`` that ``xpath`` selects, in document order.

    The predicates test the element itself (its name and attributes, no position), so an element
    is selected alone as it is among all the others."""
    path = xpath.path
    branches = path.count("//")
    filtered, count = _BRANCH.subn(f"${variable}/self::", path)
    if count != branches or _POSITIONAL.search(path):
        raise ValueError(f"not a union of //step[predicates]: {path}")
    return etree.XPath(filtered, namespaces={"re": tc.REGEXP_NS})


def _on_links(xpath: etree.XPath) -> etree.XPath:
    """``xpath``, ``//step[predicates]//a[@href]``, as a filter of the ``a[@href]`` elements in
    ``$links``: those under an element ``//step[predicates]`` selects, in document order."""
    match = _LINK_SEARCH.match(xpath.path)
    if match is None or "//" in match["step"] or _POSITIONAL.search(match["step"]):
        raise ValueError(f"not //step[predicates]//a[@href]: {xpath.path}")
    return etree.XPath(f"$links[ancestor::{match['step']}]", namespaces={"re": tc.REGEXP_NS})


if FAST_SEARCH:
    _AUTHOR_ON_NODES = [_on_nodes(x, "nodes") for x in tc.AUTHOR_XPATHS]
    # AUTHOR_DISCARD_XPATHS[0] (``.//*[...]``) leaves out the element it starts from, [1] does not
    _DISCARD_BELOW, _DISCARD_ANY = (_on_nodes(x, "nodes") for x in tc.AUTHOR_DISCARD_XPATHS)
    _CATEGORIES_ON_LINKS = [_on_links(x) for x in tc.CATEGORIES_XPATHS]
    _TAGS_ON_LINKS = [_on_links(x) for x in tc.TAGS_XPATHS]

#: Every attribute value that one of AUTHOR_XPATHS tests for holds one of these strings (``@rel``,
#: ``@id``, ``@class``, ``@itemprop``, ``@data-testid``, ``@data-component``: "author" in all cases,
#: "byline", "byl", "BBL", "username", the id and class patterns). Elements with none of them in
#: any attribute are never selected, but for ``<author>`` elements and the ``rel='me'`` test (of a
#: child element ``<rel>``), which are looked for apart.
_AUTHOR_GATE = re.compile(
    "uthor|byl|yline|BBL|username|zuozhe|bianji|xiaobian|channel-name|submitted-by|posted-by"
    "|journalist-name|screenname|writer"
)


def _removed_by_author_discard(elem: HtmlElement, top: HtmlElement) -> bool:
    """Does ``prune_unwanted_nodes(deepcopy(top), AUTHOR_DISCARD_XPATHS)`` remove ``elem`` (a
    descendant of ``top``, or ``top``) with the subtree of the element or of one of its ancestors?"""
    below = []
    node: HtmlElement | None = elem
    while node is not None and node is not top:
        below.append(node)
        node = node.getparent()
    return bool(_DISCARD_BELOW(top, nodes=below) or _DISCARD_ANY(top, nodes=[*below, top]))


def extract_author(tree: HtmlElement) -> str | None:
    """trafilatura's ``extract_author``: the first text of 3 to 119 characters that AUTHOR_XPATHS
    select, in their order, in a copy of the page without AUTHOR_DISCARD_XPATHS's subtrees.

    The same texts without copying and pruning the page: the XPaths test only the elements with an
    attribute that could match (:data:`_AUTHOR_GATE`), an element is skipped when it sits in a
    subtree the pruning would remove, and its text is read from a pruned copy of its own subtree
    (the pruning changes nothing else in it)."""
    if not FAST_SEARCH:
        return tc.metadata_module.extract_author(tree)
    named = list(tree.iter("author", "rel"))
    if any(el.tag == "rel" for el in named):  # ``rel='me'`` reads a child's text: trafilatura's way
        return tc.metadata_module.extract_author(tree)
    gate = _AUTHOR_GATE.search
    nodes = [el for el in tree.iter(etree.Element) if (values := el.values()) and gate("\n".join(values))]
    nodes.extend(named)
    if not nodes:
        return None
    for select in _AUTHOR_ON_NODES:
        for elem in select(tree, nodes=nodes):
            if _removed_by_author_discard(elem, tree):
                continue
            pruned = tc.prune_unwanted_nodes(deepcopy(elem), tc.AUTHOR_DISCARD_XPATHS) if len(elem) else elem
            content = tc.trim(" ".join(pruned.itertext()))
            if content and 2 < len(content) < 120:
                return tc.normalize_authors(None, content)
    return None


_HREFS = etree.XPath("//a/@href", smart_strings=False)
_LINKS = etree.XPath("//a[@href]")
_CATSTAGS_HREF = {
    "category": re.compile("/" + "category".rstrip("y") + "(?:y|ies|s)?/"),
    "tag": re.compile("/" + "tag".rstrip("y") + "(?:y|ies|s)?/"),
}
_SECTION_META = etree.XPath('.//head//meta[@property="article:section" or contains(@name, "subject")][@content]')


def page_hrefs(tree: HtmlElement) -> str:
    """The ``href`` of every link of the page, one a line (for :func:`extract_catstags`)."""
    return "\n".join(_HREFS(tree))


def extract_catstags(metatype: str, tree: HtmlElement, hrefs: str | None = None) -> list[str]:
    """trafilatura's ``extract_catstags``: the text of the links whose ``href`` has ``/category/``
    (``/tag/`` …) under the first of its XPaths to hold any, else (categories) the section meta.

    Its XPaths are tested only on those links, and not at all when no ``href`` of the page (in
    ``hrefs``, :func:`page_hrefs`) has the pattern."""
    if not FAST_SEARCH:
        return tc.metadata_module.extract_catstags(metatype, tree)
    pattern = _CATSTAGS_HREF[metatype]
    results: list[str] = []
    if pattern.search(page_hrefs(tree) if hrefs is None else hrefs):
        links = [el for el in _LINKS(tree) if pattern.search(el.attrib["href"])]
        for select in _CATEGORIES_ON_LINKS if metatype == "category" else _TAGS_ON_LINKS:
            found = select(tree, links=links)
            if found:
                results = [tc.block_text(elem) for elem in found]
                break
    if metatype == "category" and not results:
        results.extend(element.attrib["content"] for element in _SECTION_META(tree))
    return [r for r in dict.fromkeys(tc.line_processing(x) for x in results if x) if r]


def trafilatura_metadata(tree: HtmlElement, default_url: str | None, date_config: dict[str, Any],
                         json_ld: list[Any] | None = None) -> tc.Document:
    """trafilatura's ``extract_metadata`` (2.3) on a parsed tree, without the license and hostname;
    the JSON-LD blocks it parsed are appended to ``json_ld`` (when given)."""
    date_config = {**date_config}
    metadata = tc.examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    try:
        metadata = extract_meta_json(tree, metadata, json_ld)
    except Exception as err:  # as trafilatura: bugs in its JSON-LD reader
        logger.warning("error in JSON metadata extraction: %s", err)
    if not metadata.title:
        metadata.title = tc.extract_title(tree)
    if not metadata.author:
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = tc.extract_url(tree, default_url)
    date_config["url"] = metadata.url
    metadata.date = tc.find_date(tree, **date_config)
    if not metadata.sitename:
        metadata.sitename = tc.extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url:
        match = tc.META_URL.match(metadata.url)
        if match:
            metadata.sitename = match[1]
    hrefs = page_hrefs(tree) if not metadata.categories or not metadata.tags else ""
    if not metadata.categories:
        metadata.categories = extract_catstags("category", tree, hrefs)
    if not metadata.tags:
        metadata.tags = extract_catstags("tag", tree, hrefs)
    metadata.filedate = date_config.get("max_date")
    metadata.clean_and_trim()
    return metadata


def read_metadata(tree: HtmlElement, url: str | None, fetched: date | None, extensive_dates: bool = False) -> Metadata:
    """Read the metadata of a parsed page; dates later than ``fetched`` are never returned."""
    max_date = (fetched or datetime.now().date()).isoformat()
    params = {"original_date": True, "extensive_search": extensive_dates, "max_date": max_date}
    json_ld: list[Any] = []
    if tc.INTERNALS.fast():
        doc = trafilatura_metadata(tree, url or None, params, json_ld)
    else:
        doc = trafilatura.extract_metadata(tree, url or None, params)
        json_ld = parse_json_ld(tree)  # the public path keeps its parse to itself
    published = doc.date
    if published and fetched and published[:10] > fetched.isoformat():
        published = None
    html_lang = tree.get("lang") or tree.get("xml:lang")
    page = PageFields(tree, json_ld)
    base = url or doc.url or None
    modified = page.date_modified()
    if modified and fetched and modified[:10] > fetched.isoformat():
        modified = None
    return Metadata(
        title=doc.title or None,
        authors=split_authors(doc.author),
        date_published=(page.published_time(published) or published) if published else None,
        site_name=doc.sitename or None,
        canonical_url=doc.url or None,
        description=doc.description or None,
        section=(doc.categories[0] if doc.categories else None),
        tags=list(dict.fromkeys(t for t in (doc.tags or []) if t)),
        html_lang=html_lang,
        date_modified=modified,
        image=page.image(base),
        license=page.license(base),
    )


def parse_json_ld(tree: HtmlElement) -> list[Any]:
    """The page's JSON-LD blocks that are valid JSON, parsed (the public path's own parse: the fast
    path's is :func:`extract_meta_json`'s)."""
    parsed = []
    for elem in _JSON_LD(tree):
        if elem.text:
            try:
                parsed.append(json.loads(elem.text, strict=False))
            except ValueError:
                continue
    return parsed
