"""``newsclean explain PAGE``: what each rule removed from a page, and why.

``PAGE`` is a saved page (``.html``, ``.html.gz``, URL from ``--url`` or its sidecar) or a WARC
record named by its source, ``warc:<path>#<offset>``, as records and rejects give it.

The page is cleaned by the core in debug mode (``CleanOptions(debug=True)``), so what is shown
is exactly what ``newsclean clean`` and the crawl remove. For each rule that fired: its
category, its name, its note (why the rule exists), and the removed text, shortened.

With ``--html FILE`` the page is written back with every block an element rule selects kept
but outlined and labelled ``category · rule`` (:meth:`pipelines.core.dom_rules.DomRuleSet.apply` with
``mark=True``), every element whose text a line rule removed outlined in another colour, each
with the rule's note as its ``title``, every other block marked as kept in the record or dropped
by the extractor (:mod:`pipelines.cli.annotate`), and a legend at the top listing the rules
that fired. Scripts are removed from that copy so it renders as saved.
"""

from __future__ import annotations

import contextlib
import io
import os
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

from lxml import etree
from lxml.html import HtmlElement, tostring
from warcio.exceptions import ArchiveLoadFailed

from pipelines import exit_codes
from pipelines.cli.annotate import (
    CATEGORY_ATTR,
    LEVEL_ATTR,
    RULE_ATTR,
    STYLE,
    RuleNote,
    add_titles,
    legend,
    mark_extraction,
)
from pipelines.core.cleaner import Cleaner, CleanOptions, Drop, Page
from pipelines.core.decode import decode_html
from pipelines.core.unpack import CorruptGzip, UnpackedTooLarge
from pipelines.io.inputs import (
    CompressedTooLarge,
    Inputs,
    parse_time,
    parse_warc_source,
    read_limited,
    read_sidecar,
)
from pipelines.reasons import FAILURE_REASONS
from pipelines.rules import CATEGORIES
from pipelines.rules.dom import DOM_RULES
from pipelines.rules.text import TEXT_RULES


class ExplainError(Exception):
    """The page cannot be read, or the annotated copy cannot be written; ``code`` is the exit code
    (:mod:`pipelines.exit_codes`)."""

    def __init__(self, message: str, code: int = exit_codes.OUTPUT) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Removal:
    rule: str
    category: str
    level: str  # "element" (DOM rule) or "line" (text rule)
    note: str
    texts: list[str] = field(default_factory=list)


@dataclass
class Explanation:
    source: str
    url: str
    drop: Drop | None = None
    title: str | None = None
    #: the record's text
    text: str = ""
    language: str | None = None
    word_count: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    removals: list[Removal] = field(default_factory=list)


def _rule_index() -> dict[str, tuple[str, str, str]]:
    """Rule name -> (category, level, note)."""
    index: dict[str, tuple[str, str, str]] = {}
    for dom_rule in DOM_RULES:
        index[dom_rule.name] = (dom_rule.category, "element", dom_rule.note or f"{dom_rule.kind} {dom_rule.pattern}")
    for text_rule in TEXT_RULES:
        note = text_rule.note or f"line rule ({text_rule.lang})"
        index.setdefault(text_rule.name, (text_rule.category, "line", note))
    return index


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(1, width - 1)].rstrip() + "…"


def load_page(path: str, url: str | None, max_bytes: int) -> Page:
    try:
        body = read_limited(path, max_bytes)
    except (CompressedTooLarge, UnpackedTooLarge):
        # the packed bytes, cut at the limit: the core drops them for the reason a run gives
        with open(path, "rb") as stream:
            body = stream.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error, CorruptGzip) as exc:
        raise ExplainError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}", exit_codes.NOTHING) from exc
    meta = read_sidecar(path)
    value = meta.get("url")
    sidecar_url = value if isinstance(value, str) else ""
    content_type = meta.get("content_type")
    return Page(body=body, url=url if url is not None else sidecar_url, source=path,
                content_type=content_type if isinstance(content_type, str) else None,
                fetched_at=parse_time(meta.get("fetched_at")))


def load_warc_record(path: str, offset: int, url: str | None, max_bytes: int) -> tuple[Page, Drop | None]:
    """The page of the record a ``warc:<path>#<offset>`` source names (or why there is none)."""
    _check_path(path)
    size = os.path.getsize(path)
    if offset >= size:
        raise ExplainError(f"no record at byte {offset} of {path}: the archive has {size} bytes", exit_codes.NOTHING)
    try:
        if not _record_starts_at(path, offset):
            raise ExplainError(_NO_RECORD.format(offset=offset, path=path, why="its first bytes are not a record's"),
                               exit_codes.NOTHING)
        with contextlib.redirect_stderr(io.StringIO()):  # warcio prints its warnings there itself
            task = Inputs((), max_page_bytes=max_bytes).warc_record_at(path, offset)
    except OSError as exc:
        raise ExplainError(f"cannot read {path}: {exc.strerror or exc}", exit_codes.NOTHING) from exc
    except (EOFError, zlib.error, ValueError, ArchiveLoadFailed) as exc:
        # warcio's message quotes the bytes it found: binary in the middle of a record, not shown
        raise ExplainError(_NO_RECORD.format(offset=offset, path=path, why=type(exc).__name__),
                           exit_codes.NOTHING) from exc
    if task is None:
        raise ExplainError(f"the record at byte {offset} of {path} is not an HTML page (a request, a redirect, "
                           f"an image, metadata …)", exit_codes.NOTHING)
    if task.page is None:
        return Page(b""), task.drop
    page = task.page
    if url is not None:
        page = Page(body=page.body, url=url, source=page.source, content_type=page.content_type,
                    fetched_at=page.fetched_at)
    return page, None


#: Pages not written back by ``--html``: they could not be read or parsed, or are past a limit
#: (a page cut for being too deep would be as hard on the annotation and the browser).
_NOT_ANNOTATED = FAILURE_REASONS | {"empty", "too_deep", "too_large", "too_large_unpacked"}

_NO_RECORD = ("no WARC record starts at byte {offset} of {path} ({why}): give the offset of a record's first "
              "byte, as records, rejects and `warcio index` do")
_GZIP_MAGIC = b"\x1f\x8b\x08"


def _record_starts_at(path: str, offset: int) -> bool:
    """Do the bytes at ``offset`` start a record: a gzip member in a compressed archive, a
    ``WARC/`` line in an uncompressed one? (ARC files, whose records start with a URL, pass.)"""
    with open(path, "rb") as stream:
        compressed = stream.read(3) == _GZIP_MAGIC
        stream.seek(offset)
        head = stream.read(8)
    if compressed:
        return head.startswith(_GZIP_MAGIC)
    return head.startswith(b"WARC/") or ".arc" in path.lower()


def explain(page: Page, cleaner: Cleaner) -> Explanation:
    """Clean ``page`` with a debug cleaner and group what was removed by rule."""
    result = cleaner.clean(page)
    explanation = Explanation(source=page.source, url=page.url)
    if isinstance(result, Drop):
        explanation.drop = result
        return explanation
    explanation.title = result["title"]
    explanation.text = result["text"]
    explanation.language = result["language"]
    explanation.word_count = result["word_count"]
    explanation.removed = dict(result["removed"])
    index = _rule_index()
    removed_text: dict[str, list[str]] = result.get("removed_text", {})  # type: ignore[assignment]
    for name, texts in removed_text.items():
        category, level, note = index.get(name, (name if name in CATEGORIES else "other", "line", ""))
        explanation.removals.append(Removal(name, category, level, note or CATEGORIES.get(category, ""), list(texts)))
    order = list(CATEGORIES)
    explanation.removals.sort(key=lambda r: (order.index(r.category) if r.category in order else len(order), r.rule))
    return explanation


def render(explanation: Explanation, width: int = 100) -> str:
    lines = [f"{explanation.source}" + (f"  <{explanation.url}>" if explanation.url else "")]
    if explanation.drop is not None:
        drop = explanation.drop
        lines.append(f"dropped: {drop.reason}" + (f" ({drop.detail})" if drop.detail else ""))
        return "\n".join(lines) + "\n"
    blocks = sum(explanation.removed.values())
    lines.append(f"title: {explanation.title}")
    lines.append(f"kept: {explanation.word_count} words, language {explanation.language}; removed: {blocks} "
                 f"block(s) and line(s)")
    if explanation.removed:
        lines.append("by category: " + ", ".join(f"{k} {v}" for k, v in explanation.removed.items()))
    for removal in explanation.removals:
        lines.append("")
        lines.append(f"{removal.category} · {removal.rule} ({removal.level} rule, {len(removal.texts)} removed)")
        if removal.note:
            lines.append(f"  why: {removal.note}")
        for text in removal.texts:
            lines.append(f"  - {shorten(text, width)}")
    if not explanation.removals:
        lines.append("no rule removed any text")
    return "\n".join(lines) + "\n"


def annotate(page: Page, cleaner: Cleaner, explanation: Explanation) -> str:
    """The page as HTML: every removal of our rules kept but outlined and labelled by its rule
    (with its note as the ``title``), every other block marked kept or dropped by the extractor,
    and a legend at the top (:mod:`pipelines.cli.annotate`)."""
    _, text = decode_html(page.body, page.content_type)
    tree = cleaner.parse(text)
    if tree is None:
        raise ExplainError(f"cannot parse {page.source}", exit_codes.NOTHING)
    for script in tree.xpath("//script | //noscript"):
        script.drop_tree()
    cleaner.dom_rules.apply(tree, mark=True)
    for element in tree.iter(etree.Element):
        if element.get(RULE_ATTR):
            element.set(LEVEL_ATTR, "element")
    _mark_lines(tree, explanation)
    index = _rule_index()
    notes: dict[str, RuleNote] = {}
    for removal in explanation.removals:
        notes[removal.rule] = RuleNote(removal.rule, removal.category, removal.level, removal.note, len(removal.texts))
    for name in {el.get(RULE_ATTR) for el in tree.iter(etree.Element) if el.get(RULE_ATTR)} - set(notes):
        category, level, note = index.get(name, (name, "element", ""))  # marked, its text not kept in debug
        notes[name] = RuleNote(name, category, level, note, 0)
    add_titles(tree, notes)
    head = tree.find("head")
    if head is None:
        head = etree.Element("head")
        tree.insert(0, head)
    style = etree.SubElement(head, "style")
    style.text = STYLE
    body = tree.find("body")
    if body is not None:
        kept, dropped = mark_extraction(body, [explanation.text, explanation.title or ""])
        body.insert(0, legend(list(notes.values()), kept, dropped))
    html: str = tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")
    return html


def _mark_lines(tree: HtmlElement, explanation: Explanation) -> None:
    """Outline the innermost element whose whole text is a line a text rule removed."""
    wanted: dict[str, Removal] = {}
    for removal in explanation.removals:
        if removal.level == "line":
            for text in removal.texts:
                wanted.setdefault(" ".join(text.split()), removal)
    if not wanted:
        return
    found: Counter[str] = Counter()
    for element in tree.iter(etree.Element):
        if element.tag in ("html", "body", "head") or element.get(RULE_ATTR):
            continue
        if any(anc.get(RULE_ATTR) for anc in element.iterancestors()):
            continue
        key = " ".join((element.text_content() or "").split())
        match = wanted.get(key)
        if match is None or any(" ".join((c.text_content() or "").split()) == key for c in element):
            continue
        element.set(RULE_ATTR, match.rule)
        element.set(CATEGORY_ATTR, match.category)
        element.set(LEVEL_ATTR, "line")
        found[key] += 1


def _check_path(path: str) -> None:
    if os.path.isdir(path):
        raise ExplainError(f"{path} is a folder: explain takes one page (a file, or warc:<path>#<offset>)",
                           exit_codes.USAGE)
    if not os.path.exists(path):
        raise ExplainError(f"no such file: {path}", exit_codes.INPUT)
    if not os.path.isfile(path):
        raise ExplainError(f"{path} is not a regular file", exit_codes.USAGE)


def explain_page(path: str, *, url: str | None = None, html_out: str | None = None,
                 options: CleanOptions | None = None, width: int = 100, out: TextIO) -> Explanation:
    """Print the explanation of a saved page; with ``html_out``, write the annotated page."""
    options = options or CleanOptions(debug=True)
    if not options.debug:
        raise ValueError("explain needs a debug cleaner")
    cleaner = Cleaner(options)
    warc = parse_warc_source(path)
    if warc is not None:
        page, drop = load_warc_record(*warc, url=url, max_bytes=options.max_page_bytes)
    elif path.startswith("warc:"):
        raise ExplainError(f"{path}: a WARC record is named warc:<path>#<offset>, the offset in bytes",
                           exit_codes.USAGE)
    else:
        _check_path(path)
        page, drop = load_page(path, url, options.max_page_bytes), None
    if drop is not None:
        out.write(render(Explanation(source=drop.source, url=drop.url, drop=drop), width))
        return Explanation(source=drop.source, url=drop.url, drop=drop)
    explanation = explain(page, cleaner)
    out.write(render(explanation, width))
    if html_out and explanation.drop is not None and explanation.drop.reason in _NOT_ANNOTATED:
        out.write(f"no annotated page: a page dropped as {explanation.drop.reason} is not rendered back\n")
    elif html_out:
        html = annotate(page, cleaner, explanation)
        try:
            with open(html_out, "w", encoding="utf-8") as stream:
                stream.write(html)
        except OSError as exc:
            raise ExplainError(f"cannot write {html_out}: {exc.strerror or exc}") from exc
        out.write(f"annotated page: {html_out}\n")
    return explanation
