"""More than one main-text candidate per page, and the selector that picks between them.

trafilatura's precision cascade (after our DOM rules) gives the text of most pages. Three other
candidates are asked only when a cheap test says they could change the answer:

* ``balanced``: trafilatura's default cascade on the same tree;
* ``readability``: readability-lxml's ``Document.summary`` on the same tree (a different
  algorithm: scores paragraphs by text and link density, then takes the best container and its
  siblings), as lines;
* ``article_body``: the JSON-LD ``articleBody`` the publisher put in the page, when it has one.
  It is never the output (it is often cut short or flattened into one line); it is the referee.

The selector (parameters in ``pipelines/rules/selector.toml``, fitted by ``bench/selector.py``)
does three things, in order, each one named so the record's ``removed`` counts and ``newsclean
explain`` can say what happened:

1. ``short_fallback``: a precision text under ``short_words`` words is replaced by the balanced
   one when that has ``fallback_ratio`` times more words (trafilatura's precision mode sometimes
   keeps a stub where the balanced mode finds the article).
2. ``article_body_referee``: where the page has an ``articleBody`` of ``referee_min_words`` words
   or more and the precision text agrees with it by less than ``1 - referee_margin`` (F-measure of
   word-trigram containment), the balanced and readability candidates are asked too, and the one
   that agrees best with the ``articleBody`` is taken if it beats the precision text by
   ``referee_margin``.
3. ``list_not_in_second_opinion``: list items of ``list_min_words`` words or more in the chosen
   text that readability's text does not hold (under ``overlap`` of their trigrams) are removed,
   counted under the ``related`` category: lists of links to other stories sit inside article
   bodies, and trafilatura keeps them where readability's link-density test drops them.

Candidates work on the lines before the line rules, which run on the chosen text only.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from lxml import etree
from lxml.html import HtmlElement, fromstring

logger = logging.getLogger(__name__)

#: Where the selector's parameters and their provenance live.
SELECTOR_FILE = Path(__file__).resolve().parent.parent / "rules" / "selector.toml"

_WORD = re.compile(r"\w+")
_LD_JSON = etree.XPath('.//script[@type="application/ld+json"]')
_ARTICLE_BODY = re.compile(r'"articleBody"\s*:\s*"((?:[^"\\]|\\.)*)"', re.DOTALL)
#: Attributes that lxml's link rewriting visits (``iterlinks``), stripped before readability runs.
_LINK_ATTRIBUTES = ("href", "src", "srcset", "action", "data", "poster", "cite", "longdesc", "usemap", "background")
#: Elements that end a line of readability's summary.
_BLOCKS = frozenset({
    "p", "div", "section", "article", "main", "header", "footer", "aside", "h1", "h2", "h3", "h4", "h5", "h6",
    "li", "ul", "ol", "dl", "dd", "dt", "blockquote", "pre", "table", "tr", "td", "th", "figure", "figcaption",
    "br", "hr",
})


@dataclass(frozen=True)
class SelectorParams:
    """The selector's parameters (see the module's docstring for what each one does)."""

    short_words: int = 60
    fallback_ratio: float = 2.0
    referee_min_words: int = 50
    referee_margin: float = 0.02
    list_min_words: int = 6
    opinion_min_words: int = 50
    overlap: float = 0.5

    @classmethod
    def load(cls, path: Path = SELECTOR_FILE) -> SelectorParams:
        data = tomllib.loads(path.read_text("utf-8"))
        params = data.get("params", {})
        known = {f.name for f in fields(cls)}
        unknown = set(params) - known
        if unknown:
            raise ValueError(f"{path}: unknown selector parameters {sorted(unknown)}")
        return cls(**params)


_PARAMS: SelectorParams | None = None


def shipped_params() -> SelectorParams:
    """The parameters in :data:`SELECTOR_FILE`, read once per process."""
    global _PARAMS
    if _PARAMS is None:
        _PARAMS = SelectorParams.load()
    return _PARAMS


# --- candidates ----------------------------------------------------------------------------------

def article_body(tree: HtmlElement) -> str:
    """The longest JSON-LD ``articleBody`` of the page ('' when it has none). Only the scripts
    that name the field are read; a block that is not valid JSON is searched for the string."""
    best = ""
    for script in _LD_JSON(tree):
        text = script.text
        if not text or "articleBody" not in text:
            continue
        try:
            bodies = list(_bodies(json.loads(text, strict=False)))
        except ValueError:
            bodies = []
            for match in _ARTICLE_BODY.finditer(text):
                try:
                    bodies.append(json.loads(f'"{match[1]}"', strict=False))
                except ValueError:
                    continue
        for body in bodies:
            if isinstance(body, str) and len(body) > len(best):
                best = body
    return best


def _bodies(data: Any) -> Iterable[Any]:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "articleBody" in item:
                yield item["articleBody"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def readability_lines(tree: HtmlElement, url: str | None) -> list[str]:
    """readability-lxml's main text of ``tree`` (left as it is), one line per block element;
    ``[]`` when readability finds nothing or fails."""
    from pipelines.compat import readability  # imported on first use: most pages never need it

    doc = copy.deepcopy(tree)
    # Only the text is wanted: without link attributes, readability's cleaning has no link to
    # rewrite (most of its time on a news page otherwise); links are told by their <a> tag.
    etree.strip_attributes(doc, *_LINK_ATTRIBUTES)
    try:
        summary = readability.summary(doc)
    except (readability.Unparseable, ValueError, etree.LxmlError) as exc:
        logger.debug("readability found nothing on %s: %s", url, exc)
        return []
    if not summary or not summary.strip():
        return []
    return block_lines(fromstring(summary))


def block_lines(root: HtmlElement) -> list[str]:
    """The text of ``root`` as lines: one per block element, whitespace folded; list items
    start with ``- `` as in trafilatura's text."""
    lines: list[str] = []
    parts: list[str] = []

    def flush(prefix: str = "") -> None:
        text = " ".join("".join(parts).split())
        if text:
            lines.append(prefix + text)
        parts.clear()

    def walk(el: Any) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        block = tag in _BLOCKS
        if block:
            flush()
        if tag and el.text:
            parts.append(el.text)
        for child in el:
            walk(child)
        if block:
            flush("- " if tag == "li" else "")
        if el.tail:
            parts.append(el.tail)

    walk(root)
    flush()
    return lines


# --- comparing texts -----------------------------------------------------------------------------

def trigrams(line: str) -> set[tuple[str, ...]]:
    """Lower-cased word trigrams of a line (the line's words, for a line of fewer than three)."""
    words = _WORD.findall(line.lower())
    if len(words) < 3:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def trigram_set(lines: Iterable[str]) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for line in lines:
        out |= trigrams(line)
    return out


def containment(part: set[Any], whole: set[Any]) -> float:
    """The share of ``part`` found in ``whole`` (0 for an empty ``part``)."""
    return len(part & whole) / len(part) if part else 0.0


def agreement(a: set[Any], b: set[Any]) -> float:
    """F-measure of the two containments: 1 when the sets are equal, 0 when disjoint."""
    p, r = containment(a, b), containment(b, a)
    return 2 * p * r / (p + r) if p + r else 0.0


def word_count(lines: Iterable[str]) -> int:
    return sum(len(_WORD.findall(line)) for line in lines)


# --- the selector --------------------------------------------------------------------------------

@dataclass
class Candidate:
    name: str
    lines: list[str]
    #: indexes of ``lines`` inside code blocks
    verbatim: set[int] = field(default_factory=set)

    @property
    def words(self) -> int:
        return word_count(self.lines)


@dataclass
class Selection:
    chosen: Candidate
    #: the decisions that changed the text, by name (``short_fallback``, ``article_body_referee``,
    #: ``list_not_in_second_opinion``)
    decisions: list[str] = field(default_factory=list)
    #: lines removed by ``list_not_in_second_opinion``
    pruned: list[str] = field(default_factory=list)
    #: the candidates that were computed, by name
    asked: list[str] = field(default_factory=list)


class Candidates:
    """The candidates of one page, each computed at most once, on demand."""

    def __init__(self, precision: Candidate, balanced: Callable[[], Candidate],
                 readability: Callable[[], Candidate], body: str) -> None:
        self.precision = precision
        self._make = {"balanced": balanced, "readability": readability}
        self._made: dict[str, Candidate] = {}
        self.body = body

    def get(self, name: str) -> Candidate:
        if name not in self._made:
            self._made[name] = self._make[name]()
        return self._made[name]

    @property
    def asked(self) -> list[str]:
        return list(self._made)


def select(candidates: Candidates, params: SelectorParams) -> Selection:
    """Pick (and trim) the page's text from its candidates: see the module's docstring."""
    chosen = candidates.precision
    decisions: list[str] = []
    words = chosen.words
    if words < params.short_words:
        balanced = candidates.get("balanced")
        if balanced.words >= params.fallback_ratio * max(words, 1):
            chosen = balanced
            decisions.append("short_fallback")
    body = candidates.body
    if body and len(_WORD.findall(body)) >= params.referee_min_words:
        reference = trigram_set(body.splitlines())
        score = agreement(trigram_set(chosen.lines), reference)
        if score < 1 - params.referee_margin:
            best, best_score = chosen, score
            for name in ("balanced", "readability"):
                other = candidates.get(name)
                if other is chosen or not other.lines:
                    continue
                other_score = agreement(trigram_set(other.lines), reference)
                if other_score > best_score:
                    best, best_score = other, other_score
            if best is not chosen and best_score > score + params.referee_margin:
                chosen = best
                decisions.append("article_body_referee")
    pruned: list[str] = []
    if chosen.name != "readability":
        chosen, pruned = _prune_lists(chosen, candidates, params)
        if pruned:
            decisions.append("list_not_in_second_opinion")
    return Selection(chosen, decisions, pruned, candidates.asked)


def _prune_lists(chosen: Candidate, candidates: Candidates, params: SelectorParams) -> tuple[Candidate, list[str]]:
    items = [
        i for i, line in enumerate(chosen.lines)
        if line.startswith("- ") and i not in chosen.verbatim and len(_WORD.findall(line)) >= params.list_min_words
    ]
    if not items:
        return chosen, []
    opinion = candidates.get("readability")
    if opinion.words < params.opinion_min_words:
        return chosen, []
    reference = trigram_set(opinion.lines)
    drop = {i for i in items if containment(trigrams(chosen.lines[i]), reference) < params.overlap}
    if not drop:
        return chosen, []
    kept: list[str] = []
    verbatim: set[int] = set()
    for i, line in enumerate(chosen.lines):
        if i in drop:
            continue
        if i in chosen.verbatim:
            verbatim.add(len(kept))
        kept.append(line)
    return Candidate(chosen.name, kept, verbatim), [chosen.lines[i] for i in sorted(drop)]
