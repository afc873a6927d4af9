"""Bytes to a tree: the ``unpack``, ``decode`` and ``parse`` steps."""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HTMLParser, HtmlProcessingInstruction, document_fromstring

from pipelines.core.decode import decode_html
from pipelines.core.page import Drop
from pipelines.core.steps.base import State, Step
from pipelines.core.unpack import CorruptGzip, UnpackedTooLarge, gunzip_limited, is_gzip

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


def looks_binary(body: bytes, content_type: str | None = None) -> bool:
    head = body[:1024].lstrip()
    if head.startswith(b"\xef\xbb\xbf") or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # a BOM: text (UTF-16 has NUL bytes by design)
    if content_type and _WIDE_CHARSET.search(content_type):
        return head.startswith(_BINARY_MAGIC)  # UTF-16LE/BE, UTF-32LE/BE named: NUL bytes are expected
    return head.startswith(_BINARY_MAGIC) or b"\x00" in head


class UnpackStep(Step):
    """Empty, oversized and binary bodies out; a gzip body unpacked, bounded (gzip bombs)."""

    name = "unpack"
    stage = "decode"

    def __init__(self, max_page_bytes: int) -> None:
        self.max_page_bytes = max_page_bytes

    def run(self, state: State) -> Drop | None:
        body = state.body
        if not body or not body.strip():
            return state.drop("empty")
        if len(body) > self.max_page_bytes:
            return state.drop("too_large", f"{len(body)} bytes")
        if is_gzip(body):  # a .html.gz read as is, or a gzip body never unpacked: bounded
            try:
                body = state.body = gunzip_limited(body, self.max_page_bytes)
            except UnpackedTooLarge:
                return state.drop("too_large_unpacked", f"over {self.max_page_bytes} bytes")
            except CorruptGzip as exc:
                return state.drop("not_html", f"corrupt gzip: {exc}")
            if not body.strip():
                return state.drop("empty", "gzip")
        if looks_binary(body, state.content_type):
            return state.drop("not_html")
        return None


class DecodeStep(Step):
    """Bytes to text, as Scrapy's ``TextResponse`` decodes (:func:`pipelines.core.decode.decode_html`)."""

    name = "decode"
    stage = "decode"

    def run(self, state: State) -> Drop | None:
        _, state.text = decode_html(state.body, state.content_type)
        return None


class TreeBuilder:
    """lxml's HTML parser, built once, with the characters XML refuses removed first."""

    def __init__(self) -> None:
        self._parser = HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
        # lxml.html's class lookup is a Python method called for every element object lxml makes
        # (hundreds of thousands a page across our passes and trafilatura's): a C lookup instead,
        # the same classes but for lxml.html's form-widget subclasses, which nothing here uses
        self._parser.set_element_class_lookup(
            etree.ElementDefaultClassLookup(
                element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
            )
        )

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

    def limit(self) -> str | None:
        """libxml2's message if the last parse hit one of its resource limits (depth 256, 10 MB text)."""
        for error in self._parser.error_log:
            if error.type == _RESOURCE_LIMIT or (_RESOURCE_LIMIT is None and _LIMIT_MESSAGE.search(error.message)):
                return f"libxml2: {error.message.strip()}"
        return None


#: libxml2's "resource limit" error type (lxml >= 6.1); before it, the limits are told by their
#: message ("Excessive depth in document: 256 use XML_PARSE_HUGE option", "xmlSAX2Characters:
#: huge text node"), so a page hitting one is dropped alike on every lxml version.
_RESOURCE_LIMIT = getattr(etree.ErrorTypes, "ERR_RESOURCE_LIMIT", None)
_LIMIT_MESSAGE = re.compile(r"excessive depth|huge text node|XML_PARSE_HUGE", re.IGNORECASE)


class ParseStep(Step):
    """Text to one tree, which every later step works on; partial trees and huge ones out."""

    name = "parse"
    stage = "parse"

    def __init__(self, builder: TreeBuilder, max_elements: int) -> None:
        self.builder = builder
        self.max_elements = max_elements

    def run(self, state: State) -> Drop | None:
        tree = self.builder.parse(state.text)
        if tree is None:
            return state.drop("parse_error")
        limit = self.builder.limit()
        if limit is not None:  # libxml2 stopped early: the tree holds only part of the page
            return state.drop("too_deep" if "depth" in limit.lower() else "too_large", limit)
        size = int(_NODE_COUNT(tree))
        if size > self.max_elements:
            return state.drop("too_deep", f"{size} elements")
        state.tree = tree
        return None
