"""The marks of ``newsclean explain --html``: what the extractor kept and dropped, and the legend.

Our rules' removals are marked where they happen (element rules by
:meth:`pipelines.core.dom_rules.DomRuleSet.apply` with ``mark=True``, line rules by the text they
removed). What trafilatura left out (menus, "Temps de lecture : 6 min", "Voir les 10
commentaires", footers …) has no rule of ours to mark it, so it is found by comparison: once the
page is cleaned, every block of the page whose text is not in the record (its ``text`` or its
``title``) was *dropped by the extractor*, every other one was *kept*.

The unit compared is a block: an element of :data:`BLOCK_TAGS` with no block inside it (a
paragraph, a list item, a heading, a table cell, a ``div`` of inline content). Inline elements
and loose text beside blocks are units of their own (loose text is wrapped in a ``span`` to carry
the mark). A unit is kept when its text, whitespace collapsed, is in the record, or when most of
its characters are (its text pieces taken one by one: trafilatura joins and splits lines). A
block whose words happen to appear elsewhere in the article is taken as kept: the comparison is
by text, not by position.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlElement

RULE_ATTR = "data-newsclean-rule"
CATEGORY_ATTR = "data-newsclean-category"
LEVEL_ATTR = "data-newsclean-level"
#: ``kept`` or ``dropped``: what the extractor did with a block no rule of ours removed
EXTRACTOR_ATTR = "data-newsclean-extractor"
LEGEND_ID = "newsclean-legend"

#: Elements that start a block of text (a unit of the comparison).
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
    "hr", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul",
})
#: Elements whose text is never shown: not units.
_SILENT = frozenset({"head", "script", "style", "noscript", "template", "title", "meta", "link"})
#: A unit is kept when this share of its characters is found in the record.
KEPT_SHARE = 0.5

STYLE = """
[data-newsclean-extractor="dropped"] {
  outline: 2px dashed #7f8c8d; color: #7f8c8d !important;
  background: repeating-linear-gradient(135deg, rgba(127, 140, 141, .10) 0 6px, rgba(127, 140, 141, .22) 6px 12px);
}
[data-newsclean-extractor="kept"] { box-shadow: inset 4px 0 0 #27ae60; }
[data-newsclean-rule] { outline: 3px solid #c0392b; background: rgba(231, 76, 60, .18); }
[data-newsclean-level="line"] { outline-color: #2471a3; background: rgba(52, 152, 219, .18); }
[data-newsclean-rule]::before {
  content: attr(data-newsclean-category) " \\00b7 " attr(data-newsclean-rule);
  display: inline-block; margin: 0 .4em .2em 0; padding: 0 .4em;
  font: 11px/1.5 monospace; color: #fff; background: #c0392b;
}
[data-newsclean-level="line"]::before { background: #2471a3; }
svg { max-width: 1.5em; max-height: 1.5em; }
#newsclean-legend {
  font: 13px/1.5 sans-serif; color: #222; padding: .5em 1em; margin-bottom: 1em;
  background: #fdf2e9; border-bottom: 1px solid #ccc;
}
#newsclean-legend * { outline: none; box-shadow: none; }
#newsclean-legend h2 { font-size: 14px; margin: 0 0 .3em; }
#newsclean-legend ul { margin: .2em 0; padding-left: 1.2em; }
#newsclean-legend .swatch {
  display: inline-block; width: 1.6em; height: .9em; margin-right: .4em; vertical-align: -1px;
}
#newsclean-legend .swatch.element { background: rgba(231, 76, 60, .4); outline: 2px solid #c0392b; }
#newsclean-legend .swatch.line { background: rgba(52, 152, 219, .4); outline: 2px solid #2471a3; }
#newsclean-legend .swatch.dropped { background: rgba(127, 140, 141, .3); outline: 2px dashed #7f8c8d; }
#newsclean-legend .swatch.kept { box-shadow: inset 4px 0 0 #27ae60; background: #fff; }
"""


@dataclass(frozen=True)
class RuleNote:
    """One rule that fired, as the legend and the marked elements' ``title`` give it."""

    rule: str
    category: str
    level: str  # "element" or "line"
    note: str
    count: int

    @property
    def title(self) -> str:
        what = "removed by an element rule" if self.level == "element" else "a line removed by a line rule"
        return f"{self.category} · {self.rule} ({what}): {self.note}" if self.note else \
            f"{self.category} · {self.rule} ({what})"


def _norm(text: str) -> str:
    return " ".join(text.split())


def _is_element(node: object) -> bool:
    """An element, not a comment or a processing instruction (whose ``tag`` is a function)."""
    return isinstance(getattr(node, "tag", None), str)


def _with_blocks(root: HtmlElement) -> set[HtmlElement]:
    """The elements of ``root`` (itself included) that hold a block, in one pass: children come
    after their parent in document order, so a reverse walk sees them first."""
    found: set[HtmlElement] = set()
    everything = [el for el in root.iter() if _is_element(el)]  # holds the proxies, so identity is stable
    for element in reversed(everything):
        if any(_is_element(child) and (child.tag in BLOCK_TAGS or child in found) for child in element):
            found.add(element)
    return found


def _marked(element: HtmlElement) -> bool:
    return element.get(RULE_ATTR) is not None


class _Kept:
    """The record's text, to look a unit's text up in."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.corpus = "\n".join(_norm(text) for text in texts if text)

    def __contains__(self, text: str) -> bool:
        return text in self.corpus

    def keeps(self, pieces: Sequence[str]) -> bool:
        whole = _norm(" ".join(pieces))
        if not whole:
            return True
        if whole in self.corpus:
            return True
        found = sum(len(piece) for piece in (_norm(p) for p in pieces) if piece and piece in self.corpus)
        return found >= KEPT_SHARE * sum(len(_norm(p)) for p in pieces if _norm(p))


def _units(element: HtmlElement, with_blocks: set[HtmlElement]) -> Iterator[tuple[HtmlElement, str | None]]:
    """(element, None) for an element that is a unit; (parent, "text") or (child, "tail") for
    loose text to wrap. Elements marked by a rule (and their insides) are not units."""
    if element.tag in _SILENT or _marked(element):
        return
    if element not in with_blocks and element.tag != "body":
        yield element, None
        return
    if element.text and element.text.strip():
        yield element, "text"
    for child in element:
        if _is_element(child):
            yield from _units(child, with_blocks)
        if child.tail and child.tail.strip():
            yield child, "tail"


def _texts(element: HtmlElement) -> Iterator[str]:
    """The text pieces of ``element``, those inside an element a rule marked left out."""
    if element.text:
        yield element.text
    for child in element:
        if _is_element(child) and not _marked(child) and child.tag not in _SILENT:
            yield from _texts(child)
        if child.tail:
            yield child.tail


def _wrap(element: HtmlElement, where: str) -> HtmlElement:
    """Put the loose text (``element.text`` or ``element.tail``) into a new ``span``."""
    span: HtmlElement = etree.Element("span")
    if where == "text":
        span.text, element.text = element.text, None
        element.insert(0, span)
    else:
        span.text, element.tail = element.tail, None
        element.addnext(span)
    return span


def mark_extraction(body: HtmlElement, kept_texts: Iterable[str]) -> tuple[int, int]:
    """Mark every unit of ``body`` no rule marked as kept or dropped by the extractor; the number
    of (kept, dropped) units."""
    kept = _Kept(kept_texts)
    counts = [0, 0]
    for element, where in list(_units(body, _with_blocks(body))):
        if where is None:
            pieces = [piece for piece in _texts(element) if piece.strip()]
            if not pieces:
                continue
            target = element
        else:
            loose = element.text if where == "text" else element.tail
            if loose is None or not loose.strip():
                continue
            pieces = [loose]
            target = _wrap(element, where)
        keep = kept.keeps(pieces)
        target.set(EXTRACTOR_ATTR, "kept" if keep else "dropped")
        target.set("title", "kept: in the record's text" if keep else
                   "dropped by the extractor (trafilatura): not in the record's text")
        counts[0 if keep else 1] += 1
    return counts[0], counts[1]


def add_titles(tree: HtmlElement, notes: dict[str, RuleNote]) -> None:
    """Give every element a rule marked a ``title`` (shown on hover): rule, category, note."""
    for element in tree.iter(etree.Element):
        name = element.get(RULE_ATTR)
        if name is not None and name in notes:
            element.set("title", notes[name].title)


def _blocks(count: int) -> str:
    return f"{count} block" if count == 1 else f"{count} blocks"


def legend(notes: Sequence[RuleNote], kept: int, dropped: int) -> HtmlElement:
    """The visible legend: what each colour means, and every rule that fired with its note."""
    box: HtmlElement = etree.Element("div", id=LEGEND_ID)
    heading = etree.SubElement(box, "h2")
    heading.text = "newsclean explain"
    keys = etree.SubElement(box, "ul", {"class": "keys"})
    for kind, text in (
        ("element", "removed by one of our element rules (before extraction), labelled category · rule"),
        ("line", "a line removed by one of our line rules (after extraction)"),
        ("dropped", f"dropped by the extractor (trafilatura): not in the record's text ({_blocks(dropped)})"),
        ("kept", f"kept: in the record's text or title ({_blocks(kept)})"),
    ):
        item = etree.SubElement(keys, "li", {"data-key": kind})
        swatch = etree.SubElement(item, "span", {"class": f"swatch {kind}"})
        swatch.tail = text
    rules = etree.SubElement(box, "ul", {"class": "rules"})
    if not notes:
        item = etree.SubElement(rules, "li")
        item.text = "no rule of ours removed anything from this page"
    for note in notes:
        item = etree.SubElement(rules, "li", {"data-rule": note.rule, "data-category": note.category})
        swatch = etree.SubElement(item, "span", {"class": f"swatch {note.level}"})
        label = etree.SubElement(item, "b")
        label.text = f"{note.category} · {note.rule}"
        removed = f"{note.count} removed" if note.count else "an element without text"
        label.tail = f" ({note.level} rule, {removed})" + (f": {note.note}" if note.note else "")
        swatch.tail = " "
    return box


__all__ = ["BLOCK_TAGS", "CATEGORY_ATTR", "EXTRACTOR_ATTR", "LEGEND_ID", "LEVEL_ATTR", "RULE_ATTR", "STYLE",
           "RuleNote", "add_titles", "legend", "mark_extraction"]
