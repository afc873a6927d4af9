"""readability-lxml's ``Document.summary``, with its HTML cleaner's javascript pass left out, and
two of its passes done with less work (readability-lxml 0.9).

``Document`` cleans its input with the module-level ``html_cleaner`` of ``readability.readability``
(an lxml_html_clean ``Cleaner`` with ``javascript=True``). That option rewrites every link and
drops every ``on*`` attribute, visiting each element of the page in Python: most of readability's
time on a news page. The selector takes only readability's text, where neither plays a part, so
the fast path swaps in, for the call, a cleaner with the same settings but ``javascript=False``.
The swap needs the module attribute and the cleaner settings checked here; with another
readability-lxml version, or other settings, ``Document`` runs as it is (the same text, slower;
one warning in the log).

With 0.9, :class:`FastDocument` (a ``Document``) also overrides two private methods, the same
results in less time (each page's readability run was 7 + 3.7 ms of these two on fundus_tests'
pages):

* ``remove_unlikely_candidates`` tests every element's ``"class id"`` string against two regexes;
  their verdict is kept per string (a page repeats its classes), the rest of the test as it is.
* ``transform_misused_divs_into_paragraphs`` turns a ``<div>`` into a ``<p>`` when its children,
  serialized, hold no ``<blockquote``, ``<div``, ``<p`` … (``divToPElementsRe``): one
  serialization per ``<div>``, nested ones serialized again for each ancestor. A serialization
  holds such a match exactly where a descendant element's start tag does (text and attributes
  are escaped, comments and raw-text elements aside), so the verdicts come from one pass over the
  tree, children before parents; a ``<div>`` holding a comment, a processing instruction, a
  ``<script>`` or a ``<style>`` (raw text) is serialized as before. The tag changes made by the
  pass do not change a verdict (a ``<div>`` made a ``<p>`` matches as well). The second half of
  the method is readability's, as it is.

``tests/unit/test_candidates.py`` holds the summaries to ``Document``'s.
"""

from __future__ import annotations

from typing import Any

from lxml.etree import tostring, tounicode
from lxml.html import HtmlElement, fragment_fromstring

from pipelines.compat import Internals, installed

#: The readability-lxml versions whose cleaner the fast path was checked against.
READABILITY_VERSIONS = ("0.8.4", "0.9")
#: readability's cleaner settings, as checked (the fast cleaner differs by ``javascript`` only).
CLEANER_SETTINGS: dict[str, Any] = {
    "scripts": True, "javascript": True, "comments": True, "style": True, "links": True, "meta": False,
    "add_nofollow": False, "page_structure": False, "processing_instructions": True, "embedded": False,
    "frames": False, "forms": False, "annoying_tags": False, "remove_tags": None, "remove_unknown_tags": False,
    "safe_attrs_only": False,
}


INTERNALS = Internals("readability-lxml", installed("readability-lxml"), READABILITY_VERSIONS)

from readability import Document  # noqa: E402  (after INTERNALS: the import guard below reports into it)
from readability.readability import Unparseable  # noqa: E402

_FAST_CLEANER: Any = None
try:
    import readability.readability as _module

    _theirs = _module.html_cleaner
    _differ = [k for k, v in CLEANER_SETTINGS.items() if getattr(_theirs, k, object()) != v]
    if _differ:
        INTERNALS.missing.append(f"html_cleaner settings changed: {', '.join(_differ)}")
    else:
        _FAST_CLEANER = type(_theirs)(**{**CLEANER_SETTINGS, "javascript": False})
except (ImportError, AttributeError) as exc:  # pragma: no cover - a newer or partial readability-lxml
    INTERNALS.missing.append(str(exc))

#: The readability-lxml versions whose two passes :class:`FastDocument` overrides.
FAST_DOCUMENT_VERSIONS = ("0.9",)
#: ``"class id"`` strings and whether readability's two regexes call them unlikely (bounded)
_UNLIKELY: dict[str, bool] = {}
_UNLIKELY_SIZE = 50_000
_RAW_TEXT = frozenset({"script", "style"})

__all__ = ["INTERNALS", "READABILITY_VERSIONS", "FastDocument", "Unparseable", "summary"]


class FastDocument(Document):
    """readability's ``Document`` with two passes done with less work (see the module)."""

    def remove_unlikely_candidates(self) -> None:
        regexes = _module.REGEXES
        unlikely_re, maybe_re = regexes["unlikelyCandidatesRe"], regexes["okMaybeItsACandidateRe"]
        for elem in self.html.findall(".//*"):
            s = "{} {}".format(elem.get("class", ""), elem.get("id", ""))
            if len(s) < 2:
                continue
            unlikely = _UNLIKELY.get(s)
            if unlikely is None:
                unlikely = bool(unlikely_re.search(s)) and not maybe_re.search(s)
                if len(_UNLIKELY) >= _UNLIKELY_SIZE:
                    _UNLIKELY.clear()
                _UNLIKELY[s] = unlikely
            if (
                unlikely
                and elem.tag not in ["html", "body"]
                and not elem.xpath("ancestor-or-self::pre | ancestor-or-self::code")
                and not elem.xpath(
                    "descendant-or-self::main | descendant-or-self::article | "
                    "descendant-or-self::math"
                )
            ):
                _module.log.debug("Removing unlikely candidate - %s" % _module.describe(elem))  # noqa: UP031
                elem.drop_tree()

    def transform_misused_divs_into_paragraphs(self) -> None:
        inline_tags = {"a", "b", "cite", "code", "em", "font", "i", "small", "span", "strong", "sub", "sup", "u"}
        block_re = _module.REGEXES["divToPElementsRe"]
        verdicts, _alive = _blocks_inside(self.html, block_re)
        for elem in self.tags(self.html, "div"):
            verdict = verdicts.get(elem)
            if verdict is None:  # undecided: readability's own test
                verdict = bool(block_re.search(str(b"".join(tostring(s, encoding="utf-8") for s in elem))))
            if not verdict:
                elem.tag = "p"

        # readability's, as it is
        for elem in self.tags(self.html, "div"):
            children = list(elem)
            paragraph = None
            if elem.text and elem.text.strip():
                p = fragment_fromstring("<p/>")
                p.text = elem.text
                elem.text = None
                elem.insert(0, p)
                paragraph = p

            for child in children:
                if child.tag == "br":
                    paragraph = None
                    continue
                if child.tag not in inline_tags or block_re.search(tounicode(child, method="html")):
                    paragraph = None
                    continue
                if paragraph is None:
                    paragraph = fragment_fromstring("<p/>")
                    child.addprevious(paragraph)
                paragraph.append(child)

            for pos, child in reversed(list(enumerate(elem))):
                if child.tail and child.tail.strip():
                    p = fragment_fromstring("<p/>")
                    p.text = child.tail
                    child.tail = None
                    elem.insert(pos + 1, p)
                if child.tag == "br":
                    child.drop_tree()


def _blocks_inside(root: HtmlElement, block_re: Any) -> tuple[dict[Any, bool | None], list[Any]]:
    """For every element under ``root``: does a descendant's start tag match ``block_re``
    (``True``/``False``), or is it undecided (``None``: a comment, a processing instruction, a
    ``<script>`` or a ``<style>`` below, whose serialization is not only tags and escaped text)?
    Also the elements, which must stay alive while the answers are used (keys by identity)."""
    elements = list(root.iter())
    verdicts: dict[Any, bool | None] = {}
    for el in reversed(elements):  # every element after all of its descendants
        found = undecided = False
        for child in el:
            tag = child.tag
            if not isinstance(tag, str):  # a comment, a processing instruction, an entity
                undecided = True
                continue
            below = verdicts[child]
            if block_re.match("<" + tag) or below is True:
                found = True
                break
            if below is None or tag in _RAW_TEXT:
                undecided = True
        verdicts[el] = True if found else (None if undecided else False)
    return verdicts, elements


def summary(tree: HtmlElement) -> str:
    """``Document(tree).summary(html_partial=True)``; ``tree`` may be changed (pass a copy)."""
    if _FAST_CLEANER is None or not INTERNALS.fast():
        return str(Document(tree).summary(html_partial=True))
    document = FastDocument if INTERNALS.version.startswith(FAST_DOCUMENT_VERSIONS) else Document
    saved = _module.html_cleaner
    _module.html_cleaner = _FAST_CLEANER
    try:
        return str(document(tree).summary(html_partial=True))
    finally:
        _module.html_cleaner = saved
