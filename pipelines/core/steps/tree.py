"""Work on the parsed tree: the ``metadata``, ``dom_rules`` and ``extract`` steps."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from pipelines.core.candidates import (
    Candidate,
    Candidates,
    Selection,
    SelectorParams,
    article_body,
    readability_lines,
    select,
)
from pipelines.core.dom_rules import DomRuleSet
from pipelines.core.extract import extract
from pipelines.core.metadata import read_metadata
from pipelines.core.page import Drop
from pipelines.core.standfirst import description_is_standfirst
from pipelines.core.steps.base import State, Step

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


class MetadataStep(Step):
    """Title, authors, date (at most the fetch date), site, canonical URL, description, section, tags;
    and whether the description is shown as a standfirst (so its repeats in the text are metadata)."""

    name = "metadata"
    stage = "metadata"

    def __init__(self, extensive_dates: bool) -> None:
        self.extensive_dates = extensive_dates

    def run(self, state: State) -> Drop | None:
        tree = state.tree
        fetched_day = state.fetched_at.date() if state.fetched_at else None
        state.meta = meta = read_metadata(tree, state.url, fetched_day, self.extensive_dates)
        state.description_repeats = description_is_standfirst(tree, meta.description)
        state.article_body = article_body(tree)
        return None


class DomRulesStep(Step):
    """Boilerplate elements removed by the rule tables, in place; the safety valve's kept matches
    are counted as ``dom_rules/reverted``. Inline edges are spaced first (same tree, same stage)."""

    name = "dom_rules"
    stage = "dom_rules"
    valve = True

    def __init__(self, rules: DomRuleSet, debug: bool) -> None:
        self.rules = rules
        self.debug = debug

    def run(self, state: State) -> Drop | None:
        space_inline_boundaries(state.tree)
        dom = self.rules.apply(state.tree, keep_text=self.debug)
        state.removed.update(dom.counts)
        state.bylines.extend(dom.bylines)
        state.reverted = dom.reverted
        if self.debug:
            state.removed_text.update(dom.texts)
        return None


class ExtractStep(Step):
    """The article's lines: trafilatura (:func:`pipelines.core.extract.extract`), then, in
    precision mode, the selector between candidates (:func:`pipelines.core.candidates.select`),
    whose removals are counted under their rule's category like every other rule's."""

    name = "extract"
    stage = "trafilatura"

    def __init__(self, mode: str, params: SelectorParams | None, debug: bool = False) -> None:
        self.mode = mode
        #: None: trafilatura's text as it is (no other candidate)
        self.params = params
        self.debug = debug

    def run(self, state: State) -> Drop | None:
        tree, url = state.tree, state.url or None
        if self.params is None or self.mode != "precision":
            extraction = extract(tree, url, self.mode)
            if not extraction.text.strip():
                return state.drop("no_content")
            state.lines, state.verbatim = extraction.lines()
            return None
        first = extract(tree, url, "precision", fallback=False)
        precision = Candidate("precision", *first.lines()) if first.text.strip() else Candidate("precision", [])

        def balanced() -> Candidate:
            other = extract(tree, url, "balanced")
            return Candidate("balanced", *other.lines()) if other.text.strip() else Candidate("balanced", [])

        def readability() -> Candidate:
            return Candidate("readability", readability_lines(tree, url))

        return take_selection(state, select(Candidates(precision, balanced, readability, state.article_body),
                                            self.params), self.debug)


def take_selection(state: State, selection: Selection, debug: bool) -> Drop | None:
    """The selector's text becomes the page's lines; its pruned list items are counted (``related``)."""
    state.selection = selection
    chosen = selection.chosen
    if not any(line.strip() for line in chosen.lines):
        return state.drop("no_content")
    if selection.pruned:
        state.removed["related"] += len(selection.pruned)
        if debug:
            state.removed_text.setdefault("list_not_in_second_opinion", []).extend(selection.pruned)
    state.lines, state.verbatim = chosen.lines, chosen.verbatim
    return None
