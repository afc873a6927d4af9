"""trafilatura's content extractor with its discard XPaths answered per kind of element.

``extract_content`` prunes the article body with five XPaths (``OVERALL_DISCARD_XPATH``,
``TEASER_DISCARD_XPATH``, ``PRECISION_DISCARD_XPATH``, ``DISCARD_IMAGE_ELEMENTS``) of the form
``.//*[tests]``, whose tests read only the element's own tag and attributes, mostly through
EXSLT regexes that call back into Python for every element tested (docs/speed.md), the
same tests on the same few hundred kinds of ``<div class="...">`` page after page.

:func:`matches` gives what such an XPath gives, in the same order: for each descendant, the
verdict of the XPath's own tests (``self::*[tests]``, run by libxml2 on that element) for its
*signature*, its tag and its attributes in order (the order matters: ``@id|@class`` reads the
first of the two). Elements with the same signature get the same verdict, so the verdict is
kept, and each kind of element is tested once per process. XPaths not in the list run as they are.

:data:`extract_content` is trafilatura's own ``extract_content`` (and the functions it calls
that prune: ``_extract``, ``recover_wild_text``, ``prune_unwanted_sections``), rebound to a copy
of their module's globals in which ``prune_unwanted_nodes`` uses :func:`matches`. trafilatura's
module is left as it is: a bare ``trafilatura.extract`` in the same process runs unchanged.
``tests/test_extraction.py`` holds the results to trafilatura's own.
"""

from __future__ import annotations

from types import FunctionType
from typing import Any

from lxml import etree
from lxml.html import HtmlElement
from trafilatura import main_extractor
from trafilatura.xml import delete_element
from trafilatura.xpaths import (
    DISCARD_IMAGE_ELEMENTS,
    OVERALL_DISCARD_XPATH,
    PRECISION_DISCARD_XPATH,
    TEASER_DISCARD_XPATH,
)

_REGEXP_NS = {"re": "http://exslt.org/regular-expressions"}
#: signatures whose verdicts are kept (cleared when full; its memory is measured in docs/speed.md)
_CACHE_SIZE = 20_000


def _self_test(xpath: etree.XPath) -> etree.XPath:
    """``.//*[tests]`` as ``self::*[tests]``: the same tests, on the element it is given."""
    path = xpath.path.strip()
    if not path.startswith(".//*["):
        raise ImportError(f"trafilatura's discard XPath changed shape: {path[:60]!r}")
    return etree.XPath("self::*" + path[len(".//*") :], namespaces=_REGEXP_NS)


#: the XPaths answered per signature: the object trafilatura passes, and its own tests
_SELF_TESTS: dict[int, tuple[int, etree.XPath]] = {
    id(xpath): (index, _self_test(xpath))
    for index, xpath in enumerate(
        (*OVERALL_DISCARD_XPATH, *TEASER_DISCARD_XPATH, PRECISION_DISCARD_XPATH[1], *DISCARD_IMAGE_ELEMENTS)
    )
}
#: per signature, the verdict of each XPath of :data:`_SELF_TESTS` (None: not asked yet)
_VERDICTS: dict[tuple[str, tuple[tuple[str, str], ...]], list[bool | None]] = {}


def matches(tree: etree._Element, xpath: etree.XPath) -> list[etree._Element]:
    """``xpath(tree)``, with the verdict of a known discard XPath kept per signature."""
    known = _SELF_TESTS.get(id(xpath))
    if known is None:
        return xpath(tree)
    index, test = known
    verdicts = _VERDICTS
    found = []
    for el in tree.iterdescendants(etree.Element):
        signature = (el.tag, tuple(el.items()))
        row = verdicts.get(signature)
        if row is None:
            if len(verdicts) >= _CACHE_SIZE:
                verdicts.clear()
            row = verdicts[signature] = [None] * len(_SELF_TESTS)
        verdict = row[index]
        if verdict is None:
            verdict = row[index] = bool(test(el))
        if verdict:
            found.append(el)
    return found


def prune_unwanted_nodes(tree: HtmlElement, nodelist: list[etree.XPath], with_backup: bool = False) -> HtmlElement:
    """trafilatura's ``prune_unwanted_nodes`` (2.3) with :func:`matches` in place of each XPath."""
    if not with_backup:
        for expression in nodelist:
            for subtree in matches(tree, expression):
                delete_element(subtree)  # the tail text is preserved
        return tree
    found = dict.fromkeys(elem for expression in nodelist for elem in matches(tree, expression))
    outer = [elem for elem in found if not any(a in found for a in elem.iterancestors())]
    old_len = len(tree.text_content())
    if old_len - sum(len(elem.text_content()) for elem in outer) > old_len / 7:
        for elem in outer:
            delete_element(elem)
    return tree


def _rebound(names: tuple[str, ...], **replaced: Any) -> dict[str, Any]:
    """Copies of ``main_extractor``'s functions ``names`` whose globals are a copy of that
    module's, with ``replaced`` and the copies themselves in it."""
    namespace = dict(vars(main_extractor))
    namespace.update(replaced)
    for name in names:
        original = namespace[name]
        copy = FunctionType(
            original.__code__, namespace, original.__name__, original.__defaults__, original.__closure__
        )
        copy.__kwdefaults__ = original.__kwdefaults__
        copy.__doc__ = original.__doc__
        namespace[name] = copy
    return namespace


_NAMESPACE = _rebound(
    ("extract_content", "_extract", "recover_wild_text", "prune_unwanted_sections"),
    prune_unwanted_nodes=prune_unwanted_nodes,
)
#: trafilatura's ``extract_content``, pruning with :func:`prune_unwanted_nodes`
extract_content = _NAMESPACE["extract_content"]
