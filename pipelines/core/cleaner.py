"""The cleaning core: page bytes in, one article record (or a drop with a reason) out.

    bytes -> decode -> parse once -> metadata -> DOM rules -> trafilatura -> language
          -> residue rules -> content hash -> record

Nothing here imports Scrapy: the crawl's item pipelines and ``newsclean clean`` both call
:meth:`Cleaner.clean`, so both write byte-identical records for the same page.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HTMLParser, HtmlProcessingInstruction, document_fromstring

from pipelines.core.decode import decode_html
from pipelines.core.dom_rules import DomRuleSet
from pipelines.core.extract import MODES, extract, prepare
from pipelines.core.hashing import content_hash
from pipelines.core.language import LanguageDetector
from pipelines.core.line_rules import TextRuleSet, byline_author, match_form, split_title_standfirst
from pipelines.core.metadata import Metadata, read_metadata, split_authors
from pipelines.core.record import DEBUG_FIELD, FIELDS, Record
from pipelines.core.stage_clock import NO_CLOCK, StageClock
from pipelines.core.standfirst import description_is_standfirst
from pipelines.core.time_limit import PageTimeout, time_limit
from pipelines.core.unpack import CorruptGzip, UnpackedTooLarge, gunzip_limited, is_gzip
from pipelines.reasons import PAGE_REASONS

logger = logging.getLogger(__name__)

#: Why a page gives no record: the ``page`` side of :mod:`pipelines.reasons` (stats keys, ``rejects`` reasons).
DROP_REASONS: dict[str, str] = PAGE_REASONS

# PDF, PNG, JPEG, GIF, ZIP, gzip, RIFF (WebP, AVI), ICO
_BINARY_MAGIC = (
    b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x1f\x8b", b"RIFF", b"\x00\x00\x01\x00",
)
# a header charset that writes ASCII with NUL bytes and says its byte order (no BOM needed)
_WIDE_CHARSET = re.compile(r"charset\s*=\s*[\"']?utf-?(?:16|32)-?[bl]e\b", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
#: The nodes ``tree.iter()`` yields (elements, comments, processing instructions), counted in C.
_NODE_COUNT = etree.XPath(
    "count(descendant-or-self::*) + count(descendant::comment()) + count(descendant::processing-instruction())"
)
# characters XML (so lxml) refuses in text and attributes: C0 controls but tab, LF, CR (one byte
# each in UTF-8, never part of a longer sequence; form feed becomes a space), U+FFFE, U+FFFF
_NOT_XML_BYTES = bytes([*range(0x09), 0x0B, *range(0x0E, 0x20)])
_NOT_XML_NONCHARS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffe\uffff]")
# numeric character references to those characters, which libxml2 turns into the characters
# ('&#x1b', '&#12;', '&#0000;'); references to any other character are left to the parser
_BAD_CHAR_REF = re.compile(
    rb"&#(?:[xX]0*([0-8bBcCeEfF]|1[0-9a-fA-F]|[fF]{3}[eEfF])(?![0-9a-fA-F])"
    rb"|0*([0-8]|1[124-9]|2[0-9]|3[01]|6553[45])(?![0-9]));?"
)


def _drop_bad_char_ref(m: re.Match[bytes]) -> bytes:
    code = int(m.group(1), 16) if m.group(1) is not None else int(m.group(2))
    return b" " if code == 0x0C else b""


_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Page:
    """A page as fetched or as saved: its bytes and what is known of where it came from."""

    body: bytes
    url: str = ""
    source: str = ""
    content_type: str | None = None
    fetched_at: datetime | None = None

    @classmethod
    def from_headers(cls, body: bytes, url: str, headers: Mapping[str, str] | None = None, **kw: Any) -> Page:
        content_type = None
        for name, value in (headers or {}).items():
            if name.lower() == "content-type":
                content_type = value
        return cls(body=body, url=url, content_type=content_type, **kw)


@dataclass(frozen=True, slots=True)
class Drop:
    """A page that gives no record, and why (a key of :data:`DROP_REASONS`)."""

    reason: str
    source: str
    url: str = ""
    detail: str = ""


@dataclass(frozen=True)
class CleanOptions:
    """Limits and switches of the cleaner; every field has a matching setting and CLI flag."""

    max_page_bytes: int = 10_000_000
    max_elements: int = 200_000
    time_limit: float = 20.0
    min_words: int = 1
    debug: bool = False
    favor_precision: bool = False
    #: trafilatura's mode: "precision" (favor_precision), "balanced" (its default) or "recall"
    extraction_mode: str = "precision"
    extensive_dates: bool = False
    language_sample: int = 1000


def iso_utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def looks_binary(body: bytes, content_type: str | None = None) -> bool:
    head = body[:1024].lstrip()
    if head.startswith(b"\xef\xbb\xbf") or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # a BOM: text (UTF-16 has NUL bytes by design)
    if content_type and _WIDE_CHARSET.search(content_type):
        return head.startswith(_BINARY_MAGIC)  # UTF-16LE/BE, UTF-32LE/BE named: NUL bytes are expected
    return head.startswith(_BINARY_MAGIC) or b"\x00" in head


_INLINE_TAGS = frozenset({"a", "span", "strong", "b", "em", "i", "u", "abbr", "time", "mark", "small", "cite", "q"})
_GLUE_BEFORE = re.compile(r"[a-zà-ÿ.!?;:,)»”]\Z")  # a lower-case word or a sentence end ...
_GLUE_AFTER = re.compile(r"\A[A-ZÀ-Ý@«“]")  # ... touching a capitalised word: two words, not one


def space_inline_boundaries(tree: HtmlElement) -> None:
    """Put a space where an inline element's edge glues two words ('la page<a>Politique</a>').

    Only a lower-case letter or a sentence end meeting a capital is spaced, so words split by
    markup on purpose ('e<b>X</b>ample', '<b>i</b>Phone') stay whole.
    """
    # the cheap test first: a capital after the edge (most edges fail it), then the text before it
    for el in tree.iter(*_INLINE_TAGS):
        parent = el.getparent()
        if parent is None:
            continue
        inner = el.text
        if inner and _GLUE_AFTER.match(inner):
            prev = el.getprevious()
            before = prev.tail if prev is not None else parent.text
            if before and _GLUE_BEFORE.search(before):
                el.text = " " + inner
        after = el.tail
        if after and _GLUE_AFTER.match(after):
            inner_end = "".join(el.itertext())
            if inner_end and _GLUE_BEFORE.search(inner_end):
                el.tail = " " + after


@dataclass
class _Work:
    """What one page accumulates on its way through the steps."""

    source: str
    url: str
    fetched_at: datetime | None
    meta: Metadata = field(default_factory=Metadata)
    removed: Counter[str] = field(default_factory=Counter)
    removed_text: dict[str, list[str]] = field(default_factory=dict)
    #: lines repeating the description are metadata (False when it is the body's lead paragraph)
    description_repeats: bool = True
    bylines: list[str] = field(default_factory=list)


class Cleaner:
    """The steps, built once per process (compiled rules, the seeded language detector)."""

    def __init__(self, options: CleanOptions | None = None) -> None:
        self.options = options or CleanOptions()
        if self.options.extraction_mode not in MODES:
            raise ValueError(f"extraction_mode {self.options.extraction_mode!r}: one of {', '.join(MODES)}")
        self.dom_rules = DomRuleSet()
        self.text_rules = TextRuleSet()
        self.detector = LanguageDetector(sample_chars=self.options.language_sample)
        prepare()  # trafilatura's lazily loaded data (jusText stoplists), loaded here, not in a page
        self._parser = HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
        # lxml.html's class lookup is a Python method called for every element object lxml makes
        # (hundreds of thousands a page across our passes and trafilatura's): a C lookup instead,
        # the same classes but for lxml.html's form-widget subclasses, which nothing here uses
        self._parser.set_element_class_lookup(
            etree.ElementDefaultClassLookup(
                element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
            )
        )
        #: per-stage timing for bench/speed.py (a no-op unless replaced by a StageClock)
        self.clock: StageClock = NO_CLOCK

    # -- pages ---------------------------------------------------------------------------------
    def clean(self, page: Page) -> Record | Drop:
        """Clean one page. Never raises for a bad page: every failure is a :class:`Drop`."""
        source = page.source or page.url
        try:
            with time_limit(self.options.time_limit):
                return self._clean(page, source)
        except PageTimeout:
            return Drop("timeout", source, page.url, f"over {self.options.time_limit:g} s")
        except RecursionError:
            return Drop("too_deep", source, page.url, "recursion limit")
        except Exception as exc:  # a cleaner bug must not stop a run: counted, logged once
            logger.exception("cleaner error on %s", source)
            return Drop("error", source, page.url, f"{type(exc).__name__}: {exc}")

    def _clean(self, page: Page, source: str) -> Record | Drop:
        clock = self.clock
        clock.start()
        body = page.body
        if not body or not body.strip():
            return Drop("empty", source, page.url)
        if len(body) > self.options.max_page_bytes:
            return Drop("too_large", source, page.url, f"{len(body)} bytes")
        if is_gzip(body):  # a .html.gz read as is, or a gzip body never unpacked: bounded
            try:
                body = gunzip_limited(body, self.options.max_page_bytes)
            except UnpackedTooLarge:
                return Drop("too_large_unpacked", source, page.url, f"over {self.options.max_page_bytes} bytes")
            except CorruptGzip as exc:
                return Drop("not_html", source, page.url, f"corrupt gzip: {exc}")
            if not body.strip():
                return Drop("empty", source, page.url, "gzip")
        if looks_binary(body, page.content_type):
            return Drop("not_html", source, page.url)
        _, text = decode_html(body, page.content_type)
        clock.lap("decode")
        tree = self.parse(text)
        if tree is None:
            return Drop("parse_error", source, page.url)
        limit = self._parse_limit()
        if limit is not None:  # libxml2 stopped early: the tree holds only part of the page
            return Drop("too_deep" if "depth" in limit.lower() else "too_large", source, page.url, limit)
        size = int(_NODE_COUNT(tree))
        if size > self.options.max_elements:
            return Drop("too_deep", source, page.url, f"{size} elements")
        clock.lap("parse")

        work = _Work(source=source, url=page.url, fetched_at=page.fetched_at)
        fetched_day = page.fetched_at.date() if page.fetched_at else None
        work.meta = read_metadata(tree, page.url, fetched_day, self.options.extensive_dates)
        work.description_repeats = description_is_standfirst(tree, work.meta.description)
        clock.lap("metadata")

        space_inline_boundaries(tree)
        dom = self.dom_rules.apply(tree, keep_text=self.options.debug)
        work.removed.update(dom.counts)
        work.bylines.extend(dom.bylines)
        if self.options.debug:
            work.removed_text.update(dom.texts)
        clock.lap("dom_rules")

        mode = "precision" if self.options.favor_precision else self.options.extraction_mode
        extraction = extract(tree, page.url or None, mode)
        if not extraction.text.strip():
            return Drop("no_content", source, page.url)
        lines, verbatim = extraction.lines()
        clock.lap("trafilatura")
        return self._finish(work, lines, verbatim=verbatim)

    def parse(self, text: str) -> HtmlElement | None:
        text = _XML_DECL.sub("", text, count=1)
        stripped = text.strip()
        if not stripped or (_NOT_XML.match(stripped) and not _NOT_XML.sub("", stripped).strip()):
            return None  # blank once the characters below are gone
        # a NUL ends the text for libxml2 (the rest of the page is lost), other controls pass the
        # parser but make lxml raise when a later step edits the tree: browsers show none of them.
        # Removed from the UTF-8 bytes, in C (a regex over the text costs ten times more).
        data = text.encode("utf-8").replace(b"\x0c", b" ").translate(None, _NOT_XML_BYTES)
        if b"\xef\xbf" in data:
            for nonchar in _NOT_XML_NONCHARS:
                data = data.replace(nonchar, b"")
        if b"&#" in data:
            data, dropped = _BAD_CHAR_REF.subn(_drop_bad_char_ref, data)
            if dropped and not data.decode("utf-8").strip():
                return None
        try:
            return document_fromstring(data, parser=self._parser)
        except (etree.ParserError, ValueError):
            return None

    def _parse_limit(self) -> str | None:
        """libxml2's message if the last parse hit one of its resource limits (depth 256, 10 MB text)."""
        for error in self._parser.error_log:
            if error.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
                return f"libxml2: {error.message.strip()}"
        return None

    # -- text ----------------------------------------------------------------------------------
    def clean_text(self, text: str, source: str, url: str = "", fetched_at: datetime | None = None) -> Record | Drop:
        """Re-clean text extracted earlier by another tool: the line rules only.

        The headline is the first line that survives the rules (split from a standfirst glued to
        it); later lines that repeat it are dropped as ``title_repeat``.
        """
        work = _Work(source=source, url=url, fetched_at=fetched_at)
        lines = [match_form(x) for x in text.splitlines()]
        lines = [x for x in lines if x]
        if not lines:
            return Drop("empty", source, url)
        lang = self.detector.detect(" ".join(lines)).code
        # first pass with no headline known: find it as the first surviving line
        first = self.text_rules.apply(lines, lang)
        if not first.lines:
            return Drop("no_content", source, url)
        title, standfirst = split_title_standfirst(first.lines[0])
        work.meta.title = title
        work.meta.description = standfirst
        # the headline line itself is metadata: drop it by making it a repeat of itself
        return self._finish(work, lines, lang_hint=lang, headline=first.lines[0])

    # -- shared tail -----------------------------------------------------------------------------
    def _finish(
        self,
        work: _Work,
        lines: list[str],
        lang_hint: str | None = None,
        headline: str | None = None,
        verbatim: Container[int] = frozenset(),
    ) -> Record | Drop:
        meta = work.meta
        sample = " ".join(line for line in lines[:50] if line.strip())
        language = self.detector.detect(sample, fallback=meta.html_lang)
        self.clock.lap("language")
        residue = self.text_rules.apply(
            lines,
            language.code or lang_hint,
            title=meta.title,
            description=meta.description if work.description_repeats else None,
            authors=meta.authors,
            keep_text=self.options.debug,
            extra_repeats=(headline,) if headline else (),
            verbatim=verbatim,
        )
        work.removed.update(residue.counts)
        if self.options.debug:
            for name, texts in residue.texts.items():
                work.removed_text.setdefault(name, []).extend(texts)
        text = "\n".join(residue.lines)
        words = word_count(text)
        self.clock.lap("residue_rules")
        if words == 0:
            return Drop("no_content", work.source, work.url)
        if words < self.options.min_words:
            return Drop("too_short", work.source, work.url, f"{words} words")
        candidates = [c for c in residue.title_candidates if c != headline]
        if headline and meta.title and candidates:
            # a longer copy of the headline inside the text is the fuller headline
            longest = max(candidates, key=len)
            if len(longest) > len(meta.title) and longest.startswith(meta.title[:20]):
                meta.title = longest
        named = (byline_author(line) for line in [*work.bylines, *residue.bylines])
        authors = meta.authors or list(dict.fromkeys(a for name in named if name for a in split_authors(name)))
        digest = content_hash(text)
        self.clock.lap("hash")
        record: dict[str, Any] = {
            "url": work.url or None,
            "canonical_url": meta.canonical_url,
            "source": work.source,
            "title": meta.title,
            "description": meta.description,
            "authors": authors,
            "date_published": meta.date_published,
            "site_name": meta.site_name,
            "section": meta.section,
            "tags": meta.tags,
            "language": language.code,
            "language_score": language.score,
            "text": text,
            "word_count": words,
            "content_hash": digest,
            "fetched_at": iso_utc(work.fetched_at),
            "removed": dict(sorted(work.removed.items())),
        }
        assert tuple(record) == FIELDS
        if self.options.debug:
            record[DEBUG_FIELD] = {k: v for k, v in sorted(work.removed_text.items()) if v}
        return record  # type: ignore[return-value]


_DEFAULT: Cleaner | None = None


def default_cleaner() -> Cleaner:
    """The process-wide cleaner with default options (built on first use)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Cleaner()
    return _DEFAULT


def clean_page(page: Page, cleaner: Cleaner | None = None) -> Record | Drop:
    return (cleaner or default_cleaner()).clean(page)


__all__ = ["DROP_REASONS", "CleanOptions", "Cleaner", "Drop", "Page", "Record", "clean_page"]
