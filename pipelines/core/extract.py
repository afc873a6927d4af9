# Over 300 lines: the repairs, the fast precision cascade and its public fallback are one step, kept together.
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

**The precision run, without its double work.** ``bare_extraction`` copies the tree it is given,
and in its non-fast mode compares every result with readability and jusText (about a third of its
time on news pages), although that comparison changes the result only when trafilatura's own text
is short or thin. :func:`precision_sequence` runs trafilatura's precision cascade itself, step by
step as ``trafilatura_sequence`` does: one copy of the tree where ``bare_extraction`` makes four,
trafilatura's id/class prunes done without a Python callback per element (:func:`prune_raw`,
:func:`prune_comments`), and the comparison only when :func:`needs_comparison` says it could
matter: a text under :data:`COMPARE_CHARS` characters, a text under 1/:data:`COMPARE_PAGE_RATIO`
of the page's text, or one of the structural cases the comparison tests for. These steps are
trafilatura internals (imported in :mod:`pipelines.compat.trafilatura`, which checks the installed
version): with another version, or one that lacks them, each run is ``bare_extraction`` itself (one
warning in the log), the same text in more time. The balanced and recall modes call
``trafilatura_sequence`` whole (on a copy), or ``bare_extraction`` on the public path. On the 181
benchmark pages and every fixture page the text is ``bare_extraction(favor_precision=True)``'s,
character for character.
"""

from __future__ import annotations

import re
from collections import Counter
from copy import copy
from dataclasses import dataclass, field

import trafilatura
from lxml import etree
from lxml.html import HtmlElement

from pipelines.compat import trafilatura as tc
from pipelines.core.page import MODES  # named beside the options (a light module)

#: A precision result shorter than this (in words) is checked against the balanced mode.
SHORT_WORDS = 60
#: The balanced text replaces a short precision text when it has this many times more words.
FALLBACK_RATIO = 2.0
#: A chunk of a split body holds at least this many characters of paragraph text.
MIN_CHUNK_CHARS = 150
#: A precision text shorter than this (characters) is compared with readability and jusText.
COMPARE_CHARS = 1000
#: ... and so is one whose page (cleaned by trafilatura) has this many times more text.
COMPARE_PAGE_RATIO = 8

_WORD = re.compile(r"\w+")
#: Words of trafilatura's first body selector: only classes with one of them can be a split body.
_BODY_WORDS = re.compile(r"post|entry|text|content|body|article", re.IGNORECASE)
#: The split-body candidates' classes, per tag, as plain strings (no element built per match).
_CLASSES = {tag: etree.XPath(f"//{tag}/@class", smart_strings=False) for tag in ("div", "section", "article", "main")}
#: The first of trafilatura's body selectors (``BODY_XPATH[0]`` in 2.3, tests/unit/test_compat.py
#: holds it to trafilatura's): the containers it takes for an article body.
FIRST_BODY_XPATH = etree.XPath(
    ".//*[self::article or self::div or self::main or self::section]["
    "@class='post' or @class='entry' or @itemprop='articleBody' or @id='articleContent' or "
    "re:test(@id, '(?:entry|article|art)-content|article__content|article(?:-|__)?body|articleBody|body-text') or "
    "re:test(@class, 'post[-_]text|post-body|post-?entry|post[-_]?content|postContent|post_inner_wrapper"
    "|article-?text|articleText|(?:entry|page|text|article|art)-content|article__content|article(?:-|__)?body"
    "|articleBody|ArticleContent|body-text|article__container')][1]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
#: Every ``id`` and ``class`` of a page, as plain strings.
_ID_CLASS = etree.XPath(".//@id|.//@class", smart_strings=False)

# trafilatura's raw-tree prunes (``RAW_TREE_PRUNE_XPATH``) and comment prunes
# (``REMOVE_COMMENTS_AND_LISTS_XPATH`` on the raw tree, ``REMOVE_COMMENTS_XPATH`` on the cleaned
# one) test ``id`` and ``class`` with EXSLT regexes, which call back into Python for every element
# tested. Here a gate on the page's ``id`` and ``class`` strings skips them when nothing can match,
# a plain XPath finds the few elements whose ``id`` or ``class`` could match, and the same regexes
# decide in Python. tests/test_extraction.py holds them to trafilatura's own prunes.
_ADD_BOX = r"mvp-post-add-(?:box|wrap)"
_APPENDED = re.compile(rf"{_ADD_BOX}|infinite-?scroll")
_APPENDED_BOX = re.compile(_ADD_BOX)
_COMMENT_IDS = re.compile(r"^(?:[Cc]omment(?!ary)|comol|disqus_thread|dsq-comments)")
_COMMENT_LIST_IDS = re.compile(r"^(?:[Cc]omment(?!ary)|comol)")
_COMMENT_CLASSES = re.compile(r"^[Cc]omment(?!ary)|(?:article|post)-comments")
#: an ``id`` or ``class`` string with none of these matches none of the prunes
_RAW_PRUNE_GATE = re.compile(rf"{_APPENDED.pattern}|elementor-share-buttons")
_COMMENTS_GATE = re.compile(r"[Cc]omment(?!ary)|comol|disqus_thread|dsq-comments")
_APPENDED_CANDIDATES = etree.XPath(
    "(.//div|.//section|.//aside)[contains(@id, 'mvp-post-add-') or contains(@class, 'mvp-post-add-')"
    " or contains(@id, 'infinite') or contains(@class, 'infinite')]"
)
_SHARE_BUTTONS = etree.XPath("(.//div|.//section|.//aside)[contains(@class, 'elementor-share-buttons')]")
# a superset of the comment patterns in few tests (each test is one more pass over the attributes)
_COMMENT_TESTS = (
    "contains(@id, 'omment') or contains(@id, 'comol') or contains(@id, 'disqus_thread') or contains(@class, 'omment')"
)
_RAW_COMMENT_CANDIDATES = etree.XPath(f"(.//div|.//list|.//section|.//details|.//ol|.//ul)[{_COMMENT_TESTS}]")
_COMMENT_CANDIDATES = etree.XPath(f"(.//div|.//list|.//section|.//details)[{_COMMENT_TESTS}]")


def _is_appended(el: etree._Element) -> bool:
    """``RAW_TREE_PRUNE_XPATH[0]``: an infinite-scroll container (unless it holds the ``<h1>``)."""
    id_, classes = el.get("id") or "", el.get("class") or ""
    return bool(
        (_APPENDED.search(id_) or _APPENDED.search(classes))
        and (el.find(".//h1") is None or _APPENDED_BOX.search(id_) or _APPENDED_BOX.search(classes))
    )


def _is_comments(el: etree._Element) -> bool:
    """``REMOVE_COMMENTS_XPATH``: a comment section."""
    return bool(_COMMENT_IDS.search(el.get("id") or "") or _COMMENT_CLASSES.search(el.get("class") or ""))


def _is_comments_or_list(el: etree._Element) -> bool:
    """``REMOVE_COMMENTS_AND_LISTS_XPATH``: a comment section or comment list."""
    if el.tag not in ("ol", "ul"):
        return _is_comments(el)
    return bool(_COMMENT_LIST_IDS.search(el.get("id") or "") or _COMMENT_CLASSES.search(el.get("class") or ""))


def _delete(elements: list[etree._Element]) -> None:
    for el in elements:
        tc.delete_element(el)  # keeps the tail text, as prune_unwanted_nodes does


def prune_raw(tree: HtmlElement, id_class: str) -> None:
    """trafilatura's raw-tree prunes for a precision run without comments (``RAW_TREE_PRUNE_XPATH``
    then ``REMOVE_COMMENTS_AND_LISTS_XPATH``); ``id_class`` is the page's ``id`` and ``class``
    strings (:data:`_ID_CLASS`)."""
    if _RAW_PRUNE_GATE.search(id_class):
        _delete([el for el in _APPENDED_CANDIDATES(tree) if _is_appended(el)])
        _delete(_SHARE_BUTTONS(tree))
    if _COMMENTS_GATE.search(id_class):
        _delete([el for el in _RAW_COMMENT_CANDIDATES(tree) if _is_comments_or_list(el)])


def prune_comments(cleaned: HtmlElement, id_class: str) -> None:
    """``REMOVE_COMMENTS_XPATH`` on the cleaned tree (``id_class`` as for :func:`prune_raw`)."""
    if _COMMENTS_GATE.search(id_class):
        _delete([el for el in _COMMENT_CANDIDATES(cleaned) if _is_comments(el)])


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
    # tag and body-like class (compared as strings first), each with paragraphs of its own
    repeated = {
        (tag, classes)
        for tag, find in _CLASSES.items()
        for classes, count in Counter(find(tree)).items()
        if count >= 2 and _BODY_WORDS.search(classes)
    }
    if not repeated:
        return 0
    groups: dict[tuple[str, str], list[HtmlElement]] = {}
    for el in tree.iter(*{tag for tag, _ in repeated}):
        key = (el.tag, el.get("class") or "")
        if key in repeated:
            groups.setdefault(key, []).append(el)
    if not any(
        sum(1 for el in members if _paragraph_chars(el) >= MIN_CHUNK_CHARS) >= 2
        for members in groups.values()
        if len(members) >= 2
    ):
        return 0
    found = FIRST_BODY_XPATH(tree)
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


def prepare() -> None:
    """Load now what trafilatura loads on first use (jusText's stoplists). Called when a cleaner
    is built, so that no page pays for it and no page's time limit lands in the middle of it."""
    tc.prepare()


_OPTIONS: dict[tuple[str, bool, bool], tc.Extractor] = {}


def _options(mode: str, include_tables: bool, fast: bool, url: str | None) -> tc.Extractor:
    """trafilatura's options for one run: a copy (with the page's URL) of options built once per
    process (building them reads the configuration, about 60 µs)."""
    key = (mode, include_tables, fast)
    template = _OPTIONS.get(key)
    if template is None:
        template = _OPTIONS[key] = tc.Extractor(
            output_format="python",
            fast=fast,
            precision=mode == "precision",
            recall=mode == "recall",
            comments=False,
            tables=include_tables,
        )
    options = copy(template)
    options.url = url
    options.source = url and url.encode("utf-8", "replace").decode("utf-8")  # as Extractor() sets it
    return options


def needs_comparison(body: etree._Element, text: str, page_chars: int) -> bool:
    """Could trafilatura's comparison with readability and jusText change this precision result?

    It takes readability's text when that is over twice as long, or when the result has no
    paragraph text or more tables than paragraphs; jusText's when the result is under 250
    characters or holds elements it calls unclean. Over 181 news pages readability was never more
    than 1.3 times longer than a result of 1,000 characters or more.
    """
    return (
        len(text) < COMPARE_CHARS
        or page_chars > COMPARE_PAGE_RATIO * len(text)
        or not body.xpath(".//p//text()")
        or len(body.findall(".//table")) > len(body.findall(".//p"))
        or bool(body.xpath(tc.SANITIZED_XPATH))
    )


def precision_sequence(tree: HtmlElement, url: str | None, include_tables: bool = True) -> tuple[etree._Element, str]:
    """trafilatura's precision cascade with comments off (``trafilatura_sequence`` in 2.3), on a
    copy of ``tree``: the result body and its text. The comparison with readability and jusText
    runs only when :func:`needs_comparison` says it could change the result."""
    options = _options("precision", include_tables, True, url)
    id_class = "\n".join(_ID_CLASS(tree))
    is_forum = tc.forum_thread_page(tree)
    raw = copy(tree)
    prune_raw(raw, id_class)
    cleaned = tc.convert_tags(tc.tree_cleaning(raw, options), options, url)
    if not is_forum:
        prune_comments(cleaned, id_class)
    page_chars = len(cleaned.text_content())
    body, text = tc.extract_content(cleaned, options)
    if needs_comparison(body, text, page_chars):
        # the comparison's inputs, as trafilatura_sequence has them: the pruned raw tree and
        # the same cleaned before the tag conversion
        raw = copy(tree)
        prune_raw(raw, id_class)
        backup = tc.tree_cleaning(copy(raw), options)
        body, text = tc.compare_extraction(backup, raw, body, text, _options("precision", include_tables, False, url))
    return body, text


def _run(tree: HtmlElement, url: str | None, mode: str, include_tables: bool) -> tuple[str, list[str]]:
    """One extraction of ``tree`` (left as it is): the text and the text of each code block."""
    if not tc.INTERNALS.fast():
        return _run_public(tree, url, mode, include_tables)
    if mode == "precision":
        body, raw_text = precision_sequence(tree, url, include_tables)
    else:
        options = _options(mode, include_tables, False, url)
        body, raw_text, _, _ = tc.trafilatura_sequence(copy(tree), options, url)
    if len(raw_text) < options_min_output_size():  # bare_extraction gives no document
        return "", []
    text = tc.xmltotxt(body, False)
    return text, _code_blocks(body)


def _run_public(tree: HtmlElement, url: str | None, mode: str, include_tables: bool) -> tuple[str, list[str]]:
    """:func:`_run` through trafilatura's public API: ``bare_extraction`` (which copies the tree)."""
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        favor_precision=mode == "precision",
        favor_recall=mode == "recall",
        include_comments=False,
        include_tables=include_tables,
        with_metadata=False,
    )
    text = getattr(document, "text", None) or ""
    body = getattr(document, "body", None)
    if not text or body is None:
        return "", []
    return text, _code_blocks(body)


def _code_blocks(body: etree._Element) -> list[str]:
    return ["".join(code.itertext()) for code in body.iterchildren("code")]


def options_min_output_size() -> int:
    """trafilatura's ``MIN_OUTPUT_SIZE``: a shorter text gives no document."""
    global _MIN_OUTPUT_SIZE
    if _MIN_OUTPUT_SIZE is None:
        _MIN_OUTPUT_SIZE = tc.DEFAULT_CONFIG.getint("DEFAULT", "MIN_OUTPUT_SIZE")
    return _MIN_OUTPUT_SIZE


_MIN_OUTPUT_SIZE: int | None = None


def extract(tree: HtmlElement, url: str | None, mode: str = "precision", include_tables: bool = True,
            fallback: bool = True) -> Extraction:
    """The article text of a parsed (and pre-cleaned) page; ``tree`` is modified only by the
    split-body repair and the ``<pre>`` marking (trafilatura works on its own copy). With
    ``fallback=False`` a short precision text is returned as it is (the cleaner's selector,
    :mod:`pipelines.core.candidates`, makes that choice itself)."""
    if mode not in MODES:
        raise ValueError(f"unknown extraction mode {mode!r} (one of {', '.join(MODES)})")
    merged = merge_split_bodies(tree)
    mark_preformatted(tree)
    text, blocks = _run(tree, url, mode, include_tables)
    result = Extraction(text=text, mode=mode, merged_chunks=merged, code_blocks=blocks)
    if fallback and mode == "precision" and len(_WORD.findall(text)) < SHORT_WORDS:
        balanced, blocks = _run(tree, url, "balanced", include_tables)
        if len(_WORD.findall(balanced)) >= FALLBACK_RATIO * max(len(_WORD.findall(text)), 1):
            result = Extraction(text=balanced, mode="balanced", merged_chunks=merged, fallback=True, code_blocks=blocks)
    return result
