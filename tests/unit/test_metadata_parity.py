"""The faster engines give what the plain ones give, on every fixture page.

* :func:`pipelines.core.metadata.trafilatura_metadata` and trafilatura's ``extract_metadata``: the same
  fields (all but the license and hostname, which no record holds).
* :func:`pipelines.core.metadata.extract_author` and :func:`pipelines.core.metadata.extract_catstags` and
  trafilatura's functions of the same names: the same answers on every fixture page, on pages
  written for their edge cases and on generated pages (hypothesis, fixed seed).
* :meth:`pipelines.core.dom_rules.DomRuleSet.find` (one walk, XPath rules run from their starting elements,
  verdicts cached) and a plain walk with each XPath rule over the whole page.
"""

from __future__ import annotations

import gzip
import html
import os
from pathlib import Path

import pytest
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml.html import HtmlElement
from trafilatura import metadata as trafilatura_meta
from trafilatura.metadata import extract_metadata

from pipelines.core.cleaner import Cleaner
from pipelines.core.decode import decode_html
from pipelines.core.dom_rules import DomRuleSet
from pipelines.core.metadata import FAST_SEARCH, extract_author, extract_catstags, trafilatura_metadata

FIELDS = ("title", "author", "url", "description", "sitename", "date", "categories", "tags", "filedate")


def _pages() -> list[Path]:
    found = sorted(FIXTURES.rglob("input.html")) + sorted(FIXTURES.rglob("input.html.gz"))
    return [p for p in found if "hostile" not in p.parts]


PAGES = _pages()


def _tree(cleaner: Cleaner, path: Path) -> HtmlElement | None:
    body = path.read_bytes()
    if path.suffix == ".gz":
        body = gzip.decompress(body)
    return cleaner.parse(decode_html(body)[1])


def test_there_are_pages() -> None:
    assert len(PAGES) >= 20


@pytest.mark.parametrize("path", PAGES, ids=[str(p.parent.relative_to(FIXTURES)) for p in PAGES])
def test_same_metadata_as_trafilatura(cleaner: Cleaner, path: Path) -> None:
    tree = _tree(cleaner, path)
    assert tree is not None
    config = {"original_date": True, "extensive_search": False, "max_date": "2026-01-01"}
    ours = trafilatura_metadata(tree, "https://example.org/a", config)
    theirs = extract_metadata(tree, default_url="https://example.org/a", date_config=config, extensive=False)
    for name in FIELDS:
        assert getattr(ours, name) == getattr(theirs, name), name


def _reference_find(rules: DomRuleSet, tree: HtmlElement) -> list[tuple[HtmlElement, str]]:
    """``find`` as a walk over every element, no cache, and each XPath rule over the whole page."""
    found = {}
    for el in tree.iter(etree.Element):
        if el.get("class") is None and el.get("id") is None:
            continue
        rule = rules._match_attrs(el)
        if rule is not None:
            found[el] = rule
    for rule, xpath in rules._xpaths:
        for el in xpath(tree):
            if isinstance(el, etree._Element):
                found.setdefault(el, rule)
    return [(el, r.name) for el, r in found.items() if not any(a in found for a in el.iterancestors())]


def test_dom_find_sees_what_a_walk_sees(cleaner: Cleaner) -> None:
    rules = DomRuleSet()
    for _ in range(2):  # the second round answers from the verdict cache
        for path in PAGES:
            tree = _tree(cleaner, path)
            assert tree is not None
            assert [(el, rule.name) for el, rule in rules.find(tree)] == _reference_find(rules, tree), path


JSON_STRINGS = [
    '{"headline": "Un titre \\u00e9t\\u00e9 \\n \\t", "author": {"name": "A&amp;B"}}',
    '{"name": "surrogates \\ud83d\\ude00 and a lone \\ud800 one"}',
    '{"headline":  "spaces  kept  in  strings" ,  "x" : 1 }',
    'no backslash <b>tags</b> stripped',
    '{"broken": "json',
    "",
]


@pytest.mark.parametrize("text", JSON_STRINGS)
def test_normalize_json_as_trafilatura(text: str) -> None:
    from trafilatura.json_metadata import normalize_json as theirs
    from trafilatura.metadata import JSON_MINIFY

    from pipelines.core.metadata import normalize_json

    assert normalize_json(text) == theirs(text)
    assert normalize_json(JSON_MINIFY.sub(r"\1", text)) == theirs(JSON_MINIFY.sub(r"\1", text))


@pytest.mark.parametrize("path", PAGES, ids=[str(p.parent.relative_to(FIXTURES)) for p in PAGES])
def test_meta_json_as_trafilatura(cleaner: Cleaner, path: Path) -> None:
    from trafilatura.metadata import extract_meta_json as theirs
    from trafilatura.settings import Document

    from pipelines.core.metadata import extract_meta_json

    tree = _tree(cleaner, path)
    assert tree is not None
    ours, expected = extract_meta_json(tree, Document()).as_dict(), theirs(tree, Document()).as_dict()
    for name in ("body", "commentsbody"):  # a fresh empty element in each Document
        ours.pop(name), expected.pop(name)
    assert ours == expected


# --- author, categories and tags ------------------------------------------------------------------


def _same_search(tree: HtmlElement) -> tuple[str | None, list[str], list[str]]:
    """Our author, categories and tags, asserted equal to trafilatura's; returns trafilatura's."""
    author = trafilatura_meta.extract_author(tree)
    categories = trafilatura_meta.extract_catstags("category", tree)
    tags = trafilatura_meta.extract_catstags("tag", tree)
    assert extract_author(tree) == author
    assert extract_catstags("category", tree) == categories
    assert extract_catstags("tag", tree) == tags
    return author, categories, tags


def test_the_fast_search_is_the_one_tested() -> None:
    """The installed trafilatura's XPaths are the ones the fast search was written for (else it
    runs trafilatura's functions, and the comparisons below would compare them with themselves)."""
    assert FAST_SEARCH


def test_fixture_pages_search_as_trafilatura(cleaner: Cleaner) -> None:
    found = {"author": 0, "categories": 0, "tags": 0}
    for path in PAGES:
        tree = _tree(cleaner, path)
        assert tree is not None
        author, categories, tags = _same_search(tree)
        found["author"] += author is not None
        found["categories"] += bool(categories)
        found["tags"] += bool(tags)
    # the comparison is not an empty one
    assert found["author"] >= 10 and found["categories"] >= 3 and found["tags"] >= 3, found


EDGE_PAGES = {
    # the author's element holds pruned elements whose tails join the text before them
    "pruned inside": '<p class="byline">By<time>Jan 2</time>Jane<span class="date">x</span>Doe</p>',
    "pruned first child": '<div class="author"><figure>f</figure>Jane Doe<span class="print">p</span></div>',
    "nested pruned": '<div class="author">A<span class="date">d<time>t</time>e</span>B <figure>x</figure>C</div>',
    "in a sidebar": '<div class="sidebar"><span class="author">Side Bar</span></div><a rel="author">Main Man</a>',
    "in a time": '<time><span class="author">Timed Out</span></time><p class="byline">Jane Doe</p>',
    "inside a figure": '<figure><figcaption class="author">Photo Person</figcaption></figure>'
    '<span class="writer">Writ Er</span>',
    "root named": '<span>Jane</span><time>2024</time><span>Doe</span>',
    "author element": '<author>Jane Doe</author><span class="author">Span Author</span>',
    "rel child": '<div class="x"><rel>me</rel>Jane Doe</div><span class="byline">By Line</span>',
    "too short then valid": '<span class="author">Jo</span><span class="author">Jane Doe</span>',
    "too long": '<span class="author">' + "A" * 130 + '</span><div id="author">Id Author</div>',
    "later xpath": '<h4 class="posted-by">Posted Person</h4><em class="Byline">Em Byline</em>',
    "generic only": '<em data-component="BylineBlock">Comp Onent</em>',
    "itemprop": '<span itemprop="author">Item Prop</span><span itemprop="author name">Both Names</span>',
    "testid": '<div data-testid="AuthorCard">Card Holder</div>',
    "categories": '<div class="post-meta"><a href="/category/politics/">Politics</a><a href="/about/">About</a>'
    '</div><footer class="entry-meta"><a href="/categories/x/">Later</a></footer>'
    '<div class="tags"><a href="/tag/a/">Tag A</a><a href="/tags/b/">Tag B</a><a href="/tagz/">No</a></div>',
    "categories in later xpath": '<li class="cat-links"><span><a href="/category/a/">A&amp;B</a></span></li>'
    '<div class="row"><a href="/category/b/">Row</a><a href="/tag/r/">Row tag</a></div>',
    "links outside": '<a href="/category/x/">Loose</a><a href="/tag/y/">Loose tag</a>'
    '<div class="entry-meta"><a href="/about/">About</a></div>',
    "section meta": '<a href="/category/x/">Loose</a>',
    "block text": '<div class="tags"><a href="/tag/x/"><p>Two</p><p>Words</p></a><a href="/tag/y/"> </a></div>',
}
EDGE_HEADS = {"section meta": '<meta property="article:section" content="World">'}


@pytest.mark.parametrize("name", sorted(EDGE_PAGES))
def test_edge_pages_search_as_trafilatura(cleaner: Cleaner, name: str) -> None:
    root_class = ' class="author-name"' if name == "root named" else ""
    page = f"<html{root_class}><head>{EDGE_HEADS.get(name, '')}</head><body>{EDGE_PAGES[name]}</body></html>"
    tree = cleaner.parse(page)
    assert tree is not None
    author, categories, tags = _same_search(tree)
    # each page has something to find, but one
    assert bool(author or categories or tags) is (name != "links outside")


SEARCH_FUZZ = settings(
    max_examples=int(os.environ.get("NEWSCLEAN_FUZZ_EXAMPLES", "150")) * 2,
    deadline=None,
    derandomize=not os.environ.get("NEWSCLEAN_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TAGS = ["div", "span", "a", "p", "section", "time", "figure", "h3", "h4", "li", "ul", "footer", "header",
        "address", "strong", "em", "article", "author", "rel", "h1", "h2"]
WORDS = {
    "class": ["author", "author-name", "AuthorName", "authorName", "byline", "Byline", "byl", "BBL", "username",
              "writer", "screenname", "posted-by", "journalist-name", "comments", "Comments", "commentlist",
              "sidebar", "is-hidden", "quote", "print", "category", "meta-date", "title", "date", "post-meta",
              "postmeta", "meta", "entry-meta", "entry-footer", "entry-header", "entry-categories", "entry-tags",
              "post-category", "cat-links", "tags", "tags-links", "topics", "row", "jp-relatedposts",
              "entry-utility", "tag", "headline", "x"],
    "id": ["author", "Author", "authors", "comments", "comment-list", "postpath", "filedunder", "zuozhe", "x"],
    "rel": ["author", "me", "tag"],
    "itemprop": ["author", "author name", "name"],
    "data-testid": ["AuthorCard", "AuthorURL"],
    "data-component": ["Byline", "Figure", "BylineFigure"],
    "href": ["/category/news/", "/categories/x/", "/categor/", "/tag/a/", "/tags/b/", "/tagies/", "/cats/",
             "/author/jane/", "https://example.org/category", "/Tag/x/"],
}
TEXTS = ["By", "Jane Doe", "John  Smith", " and ", "x", " ", "Politics", "A" * 125, "2024-01-02", "me"]


def _attribute() -> st.SearchStrategy[str]:
    def render(name: str, words: list[str]) -> str:
        return f' {name}="{html.escape(" ".join(words))}"'

    return st.sampled_from(sorted(WORDS)).flatmap(
        lambda name: st.lists(st.sampled_from(WORDS[name]), min_size=1, max_size=2).map(lambda w: render(name, w))
    )


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, attrs, text, inner, tail: f"<{tag}{''.join(attrs)}>{text}{''.join(inner)}</{tag}>{tail}",
        st.sampled_from(TAGS), st.lists(_attribute(), max_size=3), st.sampled_from(["", *TEXTS]),
        st.lists(children, max_size=4), st.sampled_from(["", *TEXTS]),
    )


GENERATED_BODY = st.recursive(st.sampled_from(TEXTS), _element, max_leaves=30)


@SEARCH_FUZZ
@given(st.lists(GENERATED_BODY, min_size=1, max_size=4), st.booleans())
def test_generated_pages_search_as_trafilatura(cleaner: Cleaner, body: list[str], section: bool) -> None:
    head = '<meta property="article:section" content="World">' if section else ""
    tree = cleaner.parse(f"<html><head>{head}</head><body>{''.join(body)}</body></html>")
    assert tree is not None
    _same_search(tree)
    config = {"original_date": True, "extensive_search": False, "max_date": "2026-01-01"}
    ours = trafilatura_metadata(tree, "https://example.org/a", config)
    theirs = extract_metadata(tree, default_url="https://example.org/a", date_config=config, extensive=False)
    for name in FIELDS:
        assert getattr(ours, name) == getattr(theirs, name), name


# --- JSON-LD that is not JSON: trafilatura's crude reading, one pass per name ----------------------

def _person(name: str) -> str:
    return '{"@type":"Person","name":"' + name + '"}'


def _author(name: str) -> str:
    return '"author":' + _person(name)


BROKEN_JSON = [
    '{"@type":"NewsArticle","headline":"A title","author":[' + _person("Léa Martin") + "," + _person("Tom Smith")
    + '],"publisher":{"name":"Site"},',
    '{"@type":"Article","name":"Name","articleSection":"Tech",'
    + ",".join(_author(name) for name in ("Ann Lee", "Bob Stone", "Cy Twombly")),
    '{"author":"x","author":{"name":"Jo Doe"},"author":{"names":["A B"]}',
    '{"@type":"ImageObject","url":"u"},"author":{"name":"Dee Dee Ramone"}, "Person" "name" "Kim Gordon"',
    '"author":"Single","author":{"name":"No Space"}',
    "",
]


def _parse_error_pair(text: str) -> tuple[dict[str, object], dict[str, object]]:
    from trafilatura.json_metadata import extract_json_parse_error as theirs
    from trafilatura.settings import Document

    from pipelines.compat.trafilatura_json import extract_json_parse_error as ours

    mine, expected = ours(text, Document()).as_dict(), theirs(text, Document()).as_dict()
    for name in ("body", "commentsbody"):
        mine.pop(name), expected.pop(name)
    return mine, expected


@pytest.mark.parametrize("text", BROKEN_JSON)
def test_json_parse_error_as_trafilatura(text: str) -> None:
    ours, expected = _parse_error_pair(text)
    assert ours == expected


def test_json_parse_error_reads_every_author() -> None:
    ours, expected = _parse_error_pair(BROKEN_JSON[1])
    assert ours == expected and ours["author"] == "Ann Lee; Bob Stone; Cy Twombly"


_NAMES = st.text(alphabet=st.sampled_from('ab C"{}[],:\\'), min_size=0, max_size=12)
_PIECES = st.one_of(
    _NAMES.map(_author), _NAMES.map(_person),
    st.sampled_from(['"author":', '"name":', '"names"', '"Person"', "{", "}", "[", "]", ",", '"', " ",
                     '"@type":"Organization",']),
)


@settings(max_examples=300, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=14))
def test_json_parse_error_as_trafilatura_on_generated_blocks(pieces: list[str]) -> None:
    ours, expected = _parse_error_pair("".join(pieces))
    assert ours == expected
