"""The extraction step: trafilatura on the pre-cleaned tree, with two cheap repairs around it.

* **Split bodies.** Some CMSes cut one article body into several sibling containers with the same
  class (one per chunk between two ad slots). trafilatura takes the first container its body
  selectors match, so the article stops at the first ad. :func:`merge_split_bodies` moves the
  later chunks into the first one before extraction; it only acts on containers trafilatura itself
  takes for an article body, that share the exact class of the first one, and that each hold
  paragraphs of their own.
* **Code blocks kept verbatim.** trafilatura's text drops the blank lines of a ``<pre>`` block;
  :func:`verbatim_lines` puts the block back whole and says which lines are code, so the line
  rules pass them through untouched (indentation, blank lines, a lone ``}``). A ``<pre>`` with
  no ``<code>`` inside is given one first (trafilatura would take it for a quotation).
* **Precision fallback.** In precision mode trafilatura sometimes keeps only a stub (a reprint
  notice, a link) where the balanced mode finds the article. When the precision text is shorter
  than :data:`SHORT_WORDS` words, the balanced mode runs once more and its text is taken when it
  is at least :data:`FALLBACK_RATIO` times longer. Only short results pay for the second run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.xpaths import BODY_XPATH

#: Extraction modes: trafilatura's ``favor_precision``, its default, and ``favor_recall``.
MODES = ("precision", "balanced", "recall")

#: A precision result shorter than this (in words) is checked against the balanced mode.
SHORT_WORDS = 60
#: The balanced text replaces a short precision text when it has this many times more words.
FALLBACK_RATIO = 2.0
#: A chunk of a split body holds at least this many characters of paragraph text.
MIN_CHUNK_CHARS = 150

_WORD = re.compile(r"\w+")
#: Words of trafilatura's first body selector: only classes with one of them can be a split body.
_BODY_WORDS = re.compile(r"post|entry|text|content|body|article", re.IGNORECASE)


@dataclass
class Extraction:
    text: str
    mode: str
    merged_chunks: int = 0
    fallback: bool = False
    #: the text of each code block (``<pre>``), in order, as the page has it
    code_blocks: list[str] = field(default_factory=list)

    def lines(self) -> tuple[list[str], set[int]]:
        """The text's lines with code blocks restored whole, and the indices of the code lines."""
        return verbatim_lines(self.text.splitlines(), self.code_blocks)


def _paragraph_chars(el: HtmlElement) -> int:
    return sum(len(p.text_content()) for p in el.iter("p"))


def _same_article(chunk: HtmlElement, first_ancestors: list[HtmlElement]) -> bool:
    """Do ``chunk`` and the first body container belong to one article: the same ``<article>``
    (when they are in one) and at most one ``<h1>`` under their closest common ancestor?"""
    common = next((anc for anc in chunk.iterancestors() if anc in first_ancestors), None)
    if common is None:
        return False
    chunk_article = next(chunk.iterancestors("article"), None)
    first_article = next((anc for anc in first_ancestors if anc.tag == "article"), None)
    if chunk_article is not None and first_article is not None and chunk_article is not first_article:
        return False
    return len(common.findall(".//h1")) <= 1


def merge_split_bodies(tree: HtmlElement) -> int:
    """Move the later chunks of an article body cut into same-class siblings into the first one.

    Returns the number of chunks merged (0 when the page has one body container).
    """
    # cheap pre-check (trafilatura's body XPath is the costly part): two containers of the same
    # tag and body-like class, each with paragraphs of its own
    groups: dict[tuple[str, str], list[HtmlElement]] = {}
    for el in tree.iter("div", "section", "article", "main"):
        classes = el.get("class")
        if classes and _BODY_WORDS.search(classes):
            groups.setdefault((el.tag, classes), []).append(el)
    if not any(
        sum(1 for el in members if _paragraph_chars(el) >= MIN_CHUNK_CHARS) >= 2
        for members in groups.values()
        if len(members) >= 2
    ):
        return 0
    found = BODY_XPATH[0](tree)
    if not found:
        return 0
    first = found[0]
    classes = first.get("class")
    if not classes or _paragraph_chars(first) < MIN_CHUNK_CHARS:
        return 0
    chunks = []
    after_first = False
    for el in tree.iter(first.tag):
        if el is first:
            after_first = True
        elif after_first and el.get("class") == classes and _paragraph_chars(el) >= MIN_CHUNK_CHARS:
            chunks.append(el)
    first_ancestors = list(first.iterancestors())
    merged = 0
    for chunk in chunks:
        # nested containers are one body already; chunks of another article (a next story
        # rendered below, with its own headline) are not this article's
        if any(anc is first for anc in chunk.iterancestors()) or not _same_article(chunk, first_ancestors):
            continue
        first.extend(list(chunk))
        chunk.drop_tree()
        merged += 1
    return merged


def verbatim_lines(lines: list[str], code_blocks: list[str]) -> tuple[list[str], set[int]]:
    """Put each code block back in ``lines`` whole (blank lines included) where its non-blank
    lines appear in order; return the new lines and the indices of the code lines."""
    out = list(lines)
    verbatim: set[int] = set()
    cursor = 0
    for block in code_blocks:
        block_lines = [x.rstrip() for x in block.strip("\n").split("\n")]
        wanted = [x.strip() for x in block_lines if x.strip()]
        if not wanted:
            continue
        for start in range(cursor, len(out) - len(wanted) + 1):
            if all(out[start + k].strip() == wanted[k] for k in range(len(wanted))):
                out[start : start + len(wanted)] = block_lines
                verbatim.update(range(start, start + len(block_lines)))
                cursor = start + len(block_lines)
                break
    return out, verbatim


def mark_preformatted(tree: HtmlElement) -> int:
    """Wrap the content of each ``<pre>`` with no ``<code>`` in one: trafilatura keeps a code
    block verbatim, while a bare ``<pre>`` becomes a quotation and loses its indentation."""
    wrapped = 0
    for pre in tree.iter("pre"):
        if pre.find(".//code") is not None:
            continue
        code = pre.makeelement("code", {})
        code.text, pre.text = pre.text, None
        code.extend(list(pre))
        pre.append(code)
        wrapped += 1
    return wrapped


def _run(tree: HtmlElement, url: str | None, mode: str, include_tables: bool) -> tuple[str, list[str]]:
    document = bare_extraction(
        tree,
        url=url,
        include_comments=False,
        include_tables=include_tables,
        with_metadata=False,
        favor_precision=mode == "precision",
        favor_recall=mode == "recall",
    )
    text = getattr(document, "text", None) or ""
    body = getattr(document, "body", None)
    blocks = [] if body is None else ["".join(code.itertext()) for code in body.iterchildren("code")]
    return text, blocks


def extract(tree: HtmlElement, url: str | None, mode: str = "precision", include_tables: bool = True) -> Extraction:
    """The article text of a parsed (and pre-cleaned) page; ``tree`` is modified only by the
    split-body repair (trafilatura works on its own copy)."""
    if mode not in MODES:
        raise ValueError(f"unknown extraction mode {mode!r} (one of {', '.join(MODES)})")
    merged = merge_split_bodies(tree)
    mark_preformatted(tree)
    text, blocks = _run(tree, url, mode, include_tables)
    result = Extraction(text=text, mode=mode, merged_chunks=merged, code_blocks=blocks)
    if mode == "precision" and len(_WORD.findall(text)) < SHORT_WORDS:
        balanced, blocks = _run(tree, url, "balanced", include_tables)
        if len(_WORD.findall(balanced)) >= FALLBACK_RATIO * max(len(_WORD.findall(text)), 1):
            result = Extraction(text=balanced, mode="balanced", merged_chunks=merged, fallback=True, code_blocks=blocks)
    return result
