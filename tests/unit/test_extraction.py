"""The precision run of the extraction step against trafilatura's own ``bare_extraction``.

``pipelines.core.extract.precision_sequence`` follows trafilatura's precision cascade step by step
(one tree copy, gated raw-tree prunes, the readability/jusText comparison only when it could
matter); these tests hold it to the same text as ``bare_extraction(favor_precision=True)`` on
every HTML fixture page.
"""

from __future__ import annotations

from copy import copy
from pathlib import Path

import pytest
from lxml.etree import tostring
from lxml.html import HtmlElement, fragment_fromstring
from support.scoring import load_cases
from trafilatura import bare_extraction
from trafilatura.htmlprocessing import convert_tags, prune_unwanted_nodes, tree_cleaning
from trafilatura.xpaths import RAW_TREE_PRUNE_XPATH, REMOVE_COMMENTS_AND_LISTS_XPATH, REMOVE_COMMENTS_XPATH

from pipelines.compat import trafilatura as tc
from pipelines.core import extract as extraction
from pipelines.core.cleaner import Cleaner
from pipelines.core.decode import decode_html

ROOT = Path(__file__).resolve().parents[2]
CASES = [case for case in load_cases(ROOT / "fixtures") if not case.is_text]
_PARSER = Cleaner()


def _tree(body: bytes) -> HtmlElement | None:
    return _PARSER.parse(decode_html(body)[1])


def _bare(tree: HtmlElement, url: str | None) -> str:
    document = bare_extraction(tree, url=url, include_comments=False, with_metadata=False, favor_precision=True)
    return getattr(document, "text", None) or ""


def _ours(tree: HtmlElement, url: str | None) -> str:
    body, text = extraction.precision_sequence(tree, url)
    return tc.xmltotxt(body, False) if text else ""


#: a page for the prunes: comment sections and lists (and look-alikes that stay), infinite-scroll
#: containers with and without the headline, share buttons; nested matches and tail text
PRUNE_PAGE = """<html><body>
<h1>Headline</h1>
<div id="comments"><p>A comment</p><ul class="comment-list"><li>nested</li></ul></div>tail one
<div class="commentary"><p>Commentary stays.</p></div>
<section class="post-comments x"><p>gone</p></section>
<ol id="disqus_thread"><li>an ol keeps a disqus id</li></ol>
<ol id="Comments-2"><li>gone</li></ol><ul class="article-comments"><li>gone</li></ul>
<dl class="comment-items"><dt>a</dt><dd>b</dd></dl>
<details id="comol"><summary>s</summary></details>
<span class="comment">spans stay</span><div class="x-comment">stays</div>
<div class="infinite-scroll"><p>next story</p></div>tail two
<div class="infinite-scroll"><h1>The article itself</h1><p>kept</p></div>
<div class="mvp-post-add-box"><h1>Appended</h1></div><aside id="infinitescroll">x</aside>
<section class="elementor-share-buttons"><a href="#">Share</a></section>
<div class="wrap elementor-share-buttons--view"><div id="dsq-comments">y</div></div>
</body></html>"""


def _prune_trees() -> list[HtmlElement]:
    # a tree whose root is itself a comment section: trafilatura's prunes only look below the root
    root = fragment_fromstring('<div id="comments"><div class="comment-x">a</div><ul class="comments">b</ul></div>')
    trees = [_tree(PRUNE_PAGE.encode()), root]
    trees += [_tree(case.page().body) for case in CASES]
    return [tree for tree in trees if tree is not None]


def test_prunes_are_trafilaturas() -> None:
    """prune_raw and prune_comments remove what trafilatura's own XPath prunes remove."""
    options = extraction._options("precision", True, True, None)
    for tree in _prune_trees():
        id_class = "\n".join(extraction._ID_CLASS(tree))
        theirs, ours = copy(tree), copy(tree)
        prune_unwanted_nodes(theirs, RAW_TREE_PRUNE_XPATH)
        prune_unwanted_nodes(theirs, REMOVE_COMMENTS_AND_LISTS_XPATH)
        extraction.prune_raw(ours, id_class)
        assert tostring(ours) == tostring(theirs)
        theirs = convert_tags(tree_cleaning(copy(tree), options), options)
        ours = copy(theirs)
        prune_unwanted_nodes(theirs, REMOVE_COMMENTS_XPATH)
        extraction.prune_comments(ours, id_class)
        assert tostring(ours) == tostring(theirs)


#: attribute order decides what ``@id|@class`` reads: the first of the two
ORDER_PAGE = """<html><body><div id="main">
<div class="post" id="reply-1"><p>id second: the class is read</p></div>
<div id="reply-2" class="post"><p>id first: the id is read</p></div>
<span class="x" style="display:none">gone</span><p role="navigation">nav</p>
<section class="teaser-box">t</section><div class="Teaser">T</div><p class="link">l</p>
<div id="x" class="bottom-bar">b</div><div class="wp-caption">c</div><span aria-hidden="true">h</span>
<div data-lp-replacement-content="1">r</div><div data-component="MostPopularStories">m</div>
</div></body></html>"""


def test_discard_xpaths_answered_per_signature_are_trafilaturas() -> None:
    """pipelines.compat.trafilatura_extractor.matches gives each known discard XPath's own answer, in its order, on
    every fixture page, twice (the second time from the kept verdicts)."""
    from trafilatura.xpaths import (
        DISCARD_IMAGE_ELEMENTS,
        OVERALL_DISCARD_XPATH,
        PRECISION_DISCARD_XPATH,
        TEASER_DISCARD_XPATH,
    )

    from pipelines.compat import trafilatura_extractor as prunes

    xpaths = [*OVERALL_DISCARD_XPATH, *TEASER_DISCARD_XPATH, *PRECISION_DISCARD_XPATH, *DISCARD_IMAGE_ELEMENTS]
    trees = [_tree(ORDER_PAGE.encode()), *_prune_trees()]
    found = 0
    for _ in range(2):
        for tree in trees:
            for xpath in xpaths:
                ours = prunes.matches(tree, xpath)
                assert ours == xpath(tree), xpath.path[:80]
                found += len(ours)
    assert found > 0
    order_tree = _tree(ORDER_PAGE.encode())
    replies = [el.get("id") for el in prunes.matches(order_tree, OVERALL_DISCARD_XPATH[1]) if el.get("class") == "post"]
    assert replies == ["reply-2"]  # starts-with(@id|@class, 'reply-') reads the first of the two


def test_prune_page_is_pruned() -> None:
    tree = _tree(PRUNE_PAGE.encode())
    assert tree is not None
    extraction.prune_raw(tree, "\n".join(extraction._ID_CLASS(tree)))
    text = tree.text_content()
    for kept in ("Commentary stays", "disqus id", "spans stay", "The article itself", "tail one", "tail two"):
        assert kept in text
    for gone in ("A comment", "next story", "Appended", "Share", "gone"):
        assert gone not in text


def test_fixture_pages_exist() -> None:
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_precision_sequence_is_trafilaturas(case, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the comparison always on, the text is bare_extraction's; with the gate, the comparison
    is skipped only where it would not have changed the text."""
    page = case.page()
    tree = _tree(page.body)
    if tree is None:  # a hostile page the cleaner drops before extraction
        return
    url = page.url or None
    before = tostring(tree)
    expected = _bare(tree, url)
    gated = _ours(tree, url)
    assert tostring(tree) == before, "the caller's tree is left as it was"
    monkeypatch.setattr(extraction, "needs_comparison", lambda *args: True)
    assert _ours(tree, url) == expected
    assert gated == expected


_LINK_ITEM = "<li><a href='/x'>One of the other stories on the site today</a></li>"


@pytest.mark.parametrize("mode", ["balanced", "recall"])
def test_other_modes_are_trafilaturas(mode: str) -> None:
    """The balanced and recall modes run trafilatura_sequence whole: bare_extraction's text."""
    for case in CASES[::4]:
        page = case.page()
        tree = _tree(page.body)
        if tree is None:
            continue
        url = page.url or None
        document = bare_extraction(
            tree, url=url, include_comments=False, with_metadata=False, favor_recall=mode == "recall"
        )
        text, _ = extraction._run(tree, url, mode, True)
        assert text == (getattr(document, "text", None) or ""), case.id


def _article(paragraphs: int, extra: str = "") -> HtmlElement:
    body = "".join(
        f"<p>Paragraph {n} of the story tells what happened in the town on the day of the storm, "
        f"and what the people there said about it afterwards.</p>"
        for n in range(paragraphs)
    )
    html = f"<html><body><nav><a href='/'>Home</a></nav><article>{body}</article>{extra}</body></html>"
    tree = _tree(html.encode())
    assert tree is not None
    return tree


@pytest.mark.parametrize(
    ("tree", "compared"),
    [
        (_article(12), False),
        (_article(2), True),  # under COMPARE_CHARS
        (_article(12, "<div><ul>" + _LINK_ITEM * 300 + "</ul></div>"), True),
    ],
    ids=["long", "short", "small-share-of-page"],
)
def test_comparison_runs_when_it_could_matter(
    tree: HtmlElement,
    compared: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    original = tc.compare_extraction

    def compare(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(tc, "compare_extraction", compare)
    expected = _bare(tree, None)
    assert _ours(tree, None) == expected
    assert bool(calls) is compared
