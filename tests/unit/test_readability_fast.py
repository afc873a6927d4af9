"""readability's summary through pipelines.compat.readability.FastDocument is Document's, character
for character: on every fixture page, and on generated pages of nested blocks, inline elements,
text holding '<p', comments, scripts and styles."""

from __future__ import annotations

import copy
import gzip
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml.html import HtmlElement, document_fromstring

from pipelines.compat import readability as rc
from pipelines.core import Cleaner
from pipelines.core.candidates import _LINK_ATTRIBUTES
from pipelines.core.decode import decode_html

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CLEANER = Cleaner()


def _pages() -> list[Path]:
    return sorted(FIXTURES.rglob("*.html")) + sorted(FIXTURES.rglob("*.html.gz"))


def _summary(document: type, tree: HtmlElement) -> str:
    doc = copy.deepcopy(tree)
    etree.strip_attributes(doc, *_LINK_ATTRIBUTES)  # as pipelines.core.candidates.readability_lines
    saved = rc._module.html_cleaner
    rc._module.html_cleaner = rc._FAST_CLEANER
    try:
        return str(document(doc).summary(html_partial=True))
    except (rc.Unparseable, ValueError) as exc:
        return f"failed: {type(exc).__name__}"
    finally:
        rc._module.html_cleaner = saved


def _same(tree: HtmlElement) -> str:
    fast = _summary(rc.FastDocument, tree)
    assert fast == _summary(rc.Document, tree)
    return fast


def test_the_fast_document_is_the_one_used() -> None:
    assert rc.INTERNALS.version.startswith(rc.FAST_DOCUMENT_VERSIONS) and rc._FAST_CLEANER is not None


def test_fixture_pages_summarise_as_readability() -> None:
    pages = _pages()
    assert len(pages) > 100
    summaries = 0
    for path in pages:
        body = path.read_bytes()
        if path.suffix == ".gz":
            try:
                body = gzip.decompress(body)
            except OSError:
                continue
        tree = CLEANER.parse(decode_html(body)[1])
        if tree is not None and len(tree):
            summaries += not _same(tree).startswith("failed")
    assert summaries > 100


_TEXT = st.sampled_from(["", "word ", "Long sentence of the article body goes on here. ", "a <p b ", "x\n\n  y", " "])
_TAGS = ["div", "p", "span", "a", "b", "section", "ul", "li", "img", "br", "table", "pre", "blockquote", "em"]
_CLASSES = st.sampled_from(["", "content", "sidebar", "comment", "footer menu", "article-body", "ad-break main"])


@st.composite
def _nodes(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["el", "el", "el", "text", "comment", "script"] if depth < 4 else ["text"]))
    if kind == "text":
        return draw(_TEXT)
    if kind == "comment":
        return "<!-- <p>old " + draw(_TEXT) + " -->"
    if kind == "script":
        return "<script>var s = '<div>' + 1;</script>" if draw(st.booleans()) else "<style>p{}</style>"
    tag = draw(st.sampled_from(_TAGS))
    if tag in ("img", "br"):
        return f"<{tag}>" + draw(_TEXT)
    classes = draw(_CLASSES)
    inner = "".join(draw(st.lists(_nodes(depth + 1), max_size=4)))
    attrs = f' class="{classes}"' if classes else ""
    return f"<{tag}{attrs}>{inner}</{tag}>" + draw(_TEXT)


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_nodes(), min_size=1, max_size=6))
def test_generated_pages_summarise_as_readability(body: list[str]) -> None:
    _same(document_fromstring("<html><body>" + "".join(body) + "</body></html>"))


@pytest.mark.parametrize("html", [
    "<div><div>one</div><div><p>two</p></div><span>three <b>four</b></span></div>",
    "<div>text <!-- <p> --> more</div><div><script>'<p>'</script>x</div>",
    "<div class='sidebar'><div class='content'>Body text here.</div></div>",
])
def test_edge_pages_summarise_as_readability(html: str) -> None:
    _same(document_fromstring(f"<html><body>{html}</body></html>"))
