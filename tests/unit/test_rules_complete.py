"""Completeness of the rule tables: every rule is well formed and fires somewhere in the fixtures.

The fixture tree is ``fixtures/pages`` (HTML and text cases), the quality corpus
``fixtures/corpus`` and the labelled samples. A rule that
no fixture exercises is either missing its fixture or dead weight; a category that never fires
has no evidence that it works.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from conftest import FIXTURES, PAGES, SAMPLES
from lxml import etree
from support.scoring import load_cases

from pipelines.core.cleaner import Cleaner, CleanOptions
from pipelines.core.dom_rules import DomRuleSet
from pipelines.core.line_rules import TextRuleSet
from pipelines.rules import CATEGORIES
from pipelines.rules.dom import DOM_RULES
from pipelines.rules.text import TEXT_RULES

#: Case trees the rules are judged on: the rule fixtures and the quality corpus (same case format).
CASE_ROOTS = (PAGES, FIXTURES / "corpus")
#: Rules coded in the residue step (they need the page's metadata), by name, with their category.
CONTEXT_RULES = {"title_repeat": "title_repeat", "author_line": "byline"}


@cache
def fired() -> tuple[Counter[str], Counter[str]]:
    """(rule name -> removals, category -> removals) over every fixture, in debug mode."""
    cleaner = Cleaner(CleanOptions(debug=True))
    by_rule: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    results = []
    cases = [case for root in CASE_ROOTS if root.exists() for case in load_cases(root)]
    for case in cases:
        if case.is_text:
            results.append(cleaner.clean_text(case.read_input().decode("utf-8"), source=str(case.input_path)))
        else:
            results.append(cleaner.clean(case.page()))
    for path in sorted((SAMPLES / "text").glob("*.txt")):
        results.append(cleaner.clean_text(path.read_text(encoding="utf-8"), source=str(path)))
    for result in results:
        if isinstance(result, dict):
            by_category.update(result["removed"])
            by_rule.update({name: len(texts) for name, texts in result["removed_text"].items()})
    return by_rule, by_category


def test_rule_names_are_unique_and_categories_known() -> None:
    names = [r.name for r in (*DOM_RULES, *TEXT_RULES)] + list(CONTEXT_RULES)
    assert len(names) == len(set(names)), sorted(n for n, c in Counter(names).items() if c > 1)
    for rule in (*DOM_RULES, *TEXT_RULES):
        assert rule.category in CATEGORIES, rule.name
        assert rule.name and re.fullmatch(r"[a-z0-9_]+", rule.name), rule.name
    for rule in TEXT_RULES:
        assert rule.lang == "*" or re.fullmatch(r"[a-z]{2}", rule.lang), rule.name
        assert not rule.next_line or rule.next_line in CATEGORIES, rule.name
    assert set(CONTEXT_RULES.values()) <= set(CATEGORIES)


@pytest.mark.parametrize("rule", DOM_RULES, ids=[r.name for r in DOM_RULES])
def test_dom_rule_compiles(rule: object) -> None:
    assert rule.kind in ("class", "id", "xpath")  # type: ignore[attr-defined]
    if rule.kind == "xpath":  # type: ignore[attr-defined]
        etree.XPath(rule.pattern)  # type: ignore[attr-defined]
        etree.XPath(rule.xpath)  # type: ignore[attr-defined]
        for start in rule.on:  # type: ignore[attr-defined]
            assert re.fullmatch(r"@?[a-z][a-z0-9-]*", start), f"{start!r}: a lower-case tag or @attribute name"
    else:
        compiled = re.compile(rule.pattern, re.IGNORECASE)  # type: ignore[attr-defined]
        assert not compiled.fullmatch(""), "a class/id rule must not match the empty token"


@pytest.mark.parametrize("rule", TEXT_RULES, ids=[r.name for r in TEXT_RULES])
def test_text_rule_compiles(rule: object) -> None:
    compiled = re.compile(rule.pattern)  # type: ignore[attr-defined]
    assert not compiled.fullmatch(""), "a line rule must not match the empty line"


def test_rule_sets_build() -> None:
    DomRuleSet()
    TextRuleSet()


def test_rule_sets_reject_bad_tables() -> None:
    dom = DOM_RULES[0]
    with pytest.raises(ValueError):
        DomRuleSet((dom, dom))
    text = TEXT_RULES[0]
    with pytest.raises(ValueError):
        TextRuleSet((text, text))
    with pytest.raises(ValueError):
        TextRuleSet((type(text)("x", "no_such_category", "*", "x"),))


#: Class tokens that contain a rule's word but name no boilerplate widget.
BAIT_TOKENS = (
    "stickers", "cookie", "cookies", "shadow-heading", "share-price", "shared-content", "sharepoint", "padding",
    "badge", "adventure", "crumble", "subheading", "download", "address", "advice", "publication", "public",
    "tickets", "cookie-law-explainer", "paywall", "consented", "adult", "leadership",
)


@pytest.mark.parametrize("token", BAIT_TOKENS)
def test_dom_class_rules_match_whole_tokens_only(token: str) -> None:
    tree = etree.fromstring(f"<div><p class='{token}'>a</p><p class='ticker'>d</p></div>", etree.HTMLParser())
    found = {(el.get("class"), rule.name) for el, rule in DomRuleSet().find(tree)}
    assert found == {("ticker", "ticker_class")}


def test_pub_date_is_a_date_not_an_ad_slot() -> None:
    tree = etree.fromstring("<div><p class='pub-date'>3 mars</p></div>", etree.HTMLParser())
    assert [rule.category for _, rule in DomRuleSet().find(tree)] == ["kicker"]


ANCHORED = """<html><body><main>
<p>Lead paragraph of the story, long enough to be the article text here.</p>
<DIV DATA-AD="top">Publicite</DIV>
<nav Aria-Label="Breadcrumb"><a href="/">Home</a></nav>
<section><form action="/comments/post"><textarea></textarea></form></section>
<aside><a href="/x">Other story</a></aside>
<figure><img src="a.jpg"><FIGCAPTION>Photo: agency</FIGCAPTION></figure>
<span rel="author">Jane Doe</span><a rel="author" href="/jane">Jane</a>
<address class="vcard">By Jane Doe</address>
<div><form><input type="email"><button>Sign up</button></form></div>
</main></body></html>"""


def test_anchored_xpath_rules_find_what_their_whole_page_xpath_finds() -> None:
    """Rules with ``on`` start from elements found in the class/id walk; upper-case tags and
    attribute names in the source still match (the parser lowers them)."""
    rules = DomRuleSet()
    tree = etree.fromstring(ANCHORED, etree.HTMLParser())
    found = [(el.tag, rule.name) for el, rule in rules.find(tree)]
    plain: dict[etree._Element, str] = {}
    for rule, xpath in rules._xpaths:
        for el in xpath(tree):
            plain.setdefault(el, rule.name)
    assert sorted(found) == sorted(
        (el.tag, name) for el, name in plain.items() if not any(a in plain for a in el.iterancestors())
    )
    assert sorted(found) == [
        ("address", "author_rel"), ("aside", "related_aside"), ("div", "ad_label_attr"),
        ("div", "newsletter_form_box"), ("figcaption", "figcaption"), ("form", "comment_form_tag"),
        ("nav", "breadcrumb_aria"), ("span", "author_rel"),
    ]


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_every_category_fires_in_some_fixture(category: str) -> None:
    assert fired()[1][category] > 0, f"no fixture where {category!r} removes anything"


@pytest.mark.parametrize("name", [r.name for r in DOM_RULES], ids=[r.name for r in DOM_RULES])
def test_every_dom_rule_fires(name: str) -> None:
    assert fired()[0][name] > 0, f"DOM rule {name!r} removes nothing in any fixture"


@pytest.mark.parametrize("name", [r.name for r in TEXT_RULES], ids=[r.name for r in TEXT_RULES])
def test_every_text_rule_fires(name: str) -> None:
    assert fired()[0][name] > 0, f"text rule {name!r} removes nothing in any fixture"


@pytest.mark.parametrize("name", list(CONTEXT_RULES))
def test_every_context_rule_fires(name: str) -> None:
    assert fired()[0][name] > 0, f"context rule {name!r} removes nothing in any fixture"


def test_fixture_folders_are_cases() -> None:
    for folder in Path(PAGES).glob("*/*"):
        assert (folder / "expected.json").exists(), folder
