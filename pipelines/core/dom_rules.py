"""Apply the element rules of :mod:`pipelines.rules.dom` to a parsed page, in place."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree
from lxml.html import HtmlElement

from pipelines.rules import CATEGORIES, DomRule
from pipelines.rules.dom import DOM_RULES

#: A removed byline longer than this is an author bio, not a name.
BYLINE_MAX_CHARS = 80
#: Elements never removed by a rule, whatever their class or id.
_PROTECTED_TAGS = frozenset({"html", "body", "main", "article", "h1"})

#: (id, class) pairs, and single ids and class tokens, whose verdict is kept (each cleared when full).
_VERDICT_CACHE_SIZE = 20_000
_TOKEN_CACHE_SIZE = 50_000


def _combined(rules: Iterable[DomRule]) -> tuple[re.Pattern[str] | None, list[DomRule]]:
    """One alternation with a named group per rule, matched against a whole token."""
    ordered = list(rules)
    if not ordered:
        return None, []
    alternation = "|".join(f"(?P<r{i}>{rule.pattern})" for i, rule in enumerate(ordered))
    return re.compile(f"(?:{alternation})", re.IGNORECASE), ordered


def _token_verdict(
    known: dict[str, DomRule | None], pattern: re.Pattern[str], rules: list[DomRule], token: str
) -> DomRule | None:
    """The rule whose pattern matches the whole ``token`` (kept in ``known``, cleared when full)."""
    if token in known:
        return known[token]
    m = pattern.fullmatch(token)
    rule = rules[int(m.lastgroup[1:])] if m and m.lastgroup else None
    if len(known) >= _TOKEN_CACHE_SIZE:
        known.clear()
    known[token] = rule
    return rule


@dataclass
class DomResult:
    """What a DOM pass removed: block counts per category, and the removed text per rule."""

    counts: Counter[str] = field(default_factory=Counter)
    texts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    reverted: int = 0
    #: short texts removed by byline rules: author candidates when the metadata names none
    bylines: list[str] = field(default_factory=list)


class DomRuleSet:
    """The element rules, compiled once. ``apply`` removes matches from a tree in place.

    A match is kept (and counted as ``reverted``) when it is a protected element, holds the
    page's headline, or holds more than ``max_share`` of the page text: no single rule may take
    the article with it.
    """

    def __init__(self, rules: Iterable[DomRule] = DOM_RULES, max_share: float = 0.5) -> None:
        rules = tuple(rules)
        for rule in rules:
            if rule.category not in CATEGORIES:
                raise ValueError(f"rule {rule.name!r}: unknown category {rule.category!r}")
        names = [r.name for r in rules]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"duplicate rule names: {sorted(duplicates)}")
        self.rules = rules
        self.max_share = max_share
        self._class_re, self._class_rules = _combined(r for r in rules if r.kind == "class")
        self._id_re, self._id_rules = _combined(r for r in rules if r.kind == "id")
        #: every XPath rule as one expression over the whole page (the plain way to apply it)
        self._xpaths = [(r, etree.XPath(r.xpath)) for r in rules if r.kind == "xpath"]
        # rules with ``on``: the expression run from each starting element, and where those are
        self._steps = [(r, etree.XPath(r.pattern) if r.on else x) for r, x in self._xpaths]
        on_tag: dict[str, list[int]] = defaultdict(list)
        on_attr: dict[str, list[int]] = defaultdict(list)
        for index, (rule, _) in enumerate(self._steps):
            for start in rule.on:
                if start.startswith("@"):
                    on_attr[start[1:]].append(index)
                else:
                    on_tag[start].append(index)
        self._on_tag, self._on_attr = dict(on_tag), dict(on_attr)
        self._on_attr_names = frozenset(on_attr)
        self._verdicts: dict[tuple[str | None, str | None], DomRule | None] = {}
        self._id_verdicts: dict[str, DomRule | None] = {}
        self._class_verdicts: dict[str, DomRule | None] = {}

    def _verdict(self, ident: str | None, classes: str | None) -> DomRule | None:
        """:meth:`_match_attrs` with each id and class token matched once per process: a new
        (id, class) pair is mostly made of tokens seen before (on other pages, other elements)."""
        if ident and self._id_re is not None:
            rule = _token_verdict(self._id_verdicts, self._id_re, self._id_rules, ident.strip())
            if rule is not None:
                return rule
        if classes and self._class_re is not None:
            for token in classes.split():
                rule = _token_verdict(self._class_verdicts, self._class_re, self._class_rules, token)
                if rule is not None:
                    return rule
        return None

    def _match_attrs(self, el: HtmlElement) -> DomRule | None:
        ident = el.get("id")
        if ident and self._id_re is not None:
            m = self._id_re.fullmatch(ident.strip())
            if m and m.lastgroup:
                return self._id_rules[int(m.lastgroup[1:])]
        classes = el.get("class")
        if classes and self._class_re is not None:
            for token in classes.split():
                m = self._class_re.fullmatch(token)
                if m and m.lastgroup:
                    return self._class_rules[int(m.lastgroup[1:])]
        return None

    def find(self, tree: HtmlElement) -> list[tuple[HtmlElement, DomRule]]:
        """Every outermost element a rule selects, in document order, with the rule."""
        found: dict[HtmlElement, DomRule] = {}
        # one walk over the elements (in Python: cheaper than an XPath with a dozen attribute
        # tests) finds those with an id or a class and those the ``on`` rules start from; the
        # verdict on an (id, class) pair is kept across pages (a site's pages share most)
        verdicts = self._verdicts
        on_tag, on_attr, on_attr_names = self._on_tag, self._on_attr, self._on_attr_names
        starts: list[list[HtmlElement]] = [[] for _ in self._steps]
        for el in tree.iter(etree.Element):
            tag = el.tag
            if tag in on_tag:
                for index in on_tag[tag]:
                    starts[index].append(el)
            names = el.keys()
            if not names:
                continue
            if "class" in names or "id" in names:
                ident, classes = el.get("id"), el.get("class")
                key = (ident, classes)
                if key in verdicts:
                    rule = verdicts[key]
                else:
                    if len(verdicts) >= _VERDICT_CACHE_SIZE:
                        verdicts.clear()
                    rule = verdicts[key] = self._verdict(ident, classes)
                if rule is not None:
                    found[el] = rule
            if not on_attr_names.isdisjoint(names):
                for name in names:
                    for index in on_attr.get(name, ()):
                        begun = starts[index]
                        if not begun or begun[-1] is not el:
                            begun.append(el)
        # the XPath rules in table order, each from its starting elements (document order)
        for (rule, step), begun in zip(self._steps, starts, strict=True):
            for origin in begun if rule.on else (tree,):
                for el in step(origin):
                    if isinstance(el, etree._Element):
                        found.setdefault(el, rule)
        # keep only the outermost matches
        outer: list[tuple[HtmlElement, DomRule]] = []
        for el, rule in found.items():
            if not any(anc in found for anc in el.iterancestors()):
                outer.append((el, rule))
        return outer

    def apply(self, tree: HtmlElement, keep_text: bool = False, mark: bool = False) -> DomResult:
        """Remove what the rules select; with ``mark``, keep it and label it instead
        (``data-newsclean-rule``, ``data-newsclean-category``), for ``newsclean explain --html``."""
        result = DomResult()
        body = tree.find("body")
        total = len((body if body is not None else tree).text_content() or "")
        limit = self.max_share * max(total, 1)
        for el, rule in self.find(tree):
            if el.getparent() is None:
                continue
            if el.tag in _PROTECTED_TAGS or next(el.iterdescendants("h1", "article"), None) is not None:
                result.reverted += 1
                continue
            text = el.text_content() if (keep_text or total) else ""
            if total and len(text) > limit:
                result.reverted += 1
                continue
            result.counts[rule.category] += 1
            # pieces joined by a space: list items and buttons do not run together ("Home Tech Chips")
            wanted = keep_text or rule.category == "byline"
            snippet = " ".join(" ".join(el.itertext()).split()) if wanted and text.strip() else ""
            if keep_text and snippet:
                result.texts[rule.name].append(snippet)
            if rule.category == "byline" and 0 < len(snippet) <= BYLINE_MAX_CHARS:
                result.bylines.append(snippet)
            if mark:
                el.set("data-newsclean-rule", rule.name)
                el.set("data-newsclean-category", rule.category)
                continue
            el.drop_tree()  # keeps the element's tail text in place
        return result
