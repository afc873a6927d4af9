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
