"""The faster engines give what the plain ones give, on every fixture page.

* :func:`pipelines.metadata.trafilatura_metadata` and trafilatura's ``extract_metadata``: the same
  fields (all but the license and hostname, which no record holds).
* :meth:`pipelines.dom.DomRuleSet.find` (elements with an id or a class by XPath, verdicts cached)
  and a walk over every element of the tree.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from conftest import FIXTURES
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import extract_metadata

from pipelines.core import Cleaner
from pipelines.decode import decode_html
from pipelines.dom import DomRuleSet
from pipelines.metadata import trafilatura_metadata

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
    """``find`` as a walk over every element, no cache."""
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

    from pipelines.metadata import normalize_json

    assert normalize_json(text) == theirs(text)
    assert normalize_json(JSON_MINIFY.sub(r"\1", text)) == theirs(JSON_MINIFY.sub(r"\1", text))


@pytest.mark.parametrize("path", PAGES, ids=[str(p.parent.relative_to(FIXTURES)) for p in PAGES])
def test_meta_json_as_trafilatura(cleaner: Cleaner, path: Path) -> None:
    from trafilatura.metadata import extract_meta_json as theirs
    from trafilatura.settings import Document

    from pipelines.metadata import extract_meta_json

    tree = _tree(cleaner, path)
    assert tree is not None
    ours, expected = extract_meta_json(tree, Document()).as_dict(), theirs(tree, Document()).as_dict()
    for name in ("body", "commentsbody"):  # a fresh empty element in each Document
        ours.pop(name), expected.pop(name)
    assert ours == expected
