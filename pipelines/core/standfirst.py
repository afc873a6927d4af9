"""Is the page's description a standfirst set apart from the body, or the body's first paragraph?

Many sites copy the article's first paragraph into ``<meta name="description">``; others write a
separate standfirst (chapô, dek) and repeat it there. A line of the extracted text that repeats
the description is metadata in the second case only: dropping it in the first case cuts the
article's lead. The markup tells them apart: a standfirst is a heading, sits in the ``<header>``,
or is an element named for it (``chapo``, ``standfirst``, ``article__dek`` …). A description found
nowhere in such an element is taken for the lead, and lines repeating it stay.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from pipelines.core.line_rules import key

#: Parts of a class or id token (split at ``-`` and ``_``) that name a standfirst block.
STANDFIRST_PARTS = frozenset({
    "chapo", "chapeau", "chapô", "standfirst", "dek", "deck", "sapo", "subtitle", "subhead", "subheadline",
    "subline", "strapline", "excerpt", "desc", "description", "lede",
})
_PARTS = re.compile(r"[-_\s]+")
#: How many ancestors of a matching element are checked for a standfirst name.
_ANCESTORS = 3


#: class and id values already split, with their verdict (a site's pages share most; cleared when full)
_NAMED_VALUES: dict[str, bool] = {}
_NAMED_CACHE_SIZE = 20_000


def _names_standfirst(value: str) -> bool:
    verdict = _NAMED_VALUES.get(value)
    if verdict is None:
        verdict = not STANDFIRST_PARTS.isdisjoint(_PARTS.split(value.lower()))
        if len(_NAMED_VALUES) >= _NAMED_CACHE_SIZE:
            _NAMED_VALUES.clear()
        _NAMED_VALUES[value] = verdict
    return verdict


def _named(node: HtmlElement) -> bool:
    for attr in ("class", "id"):
        value = node.get(attr)
        if value and _names_standfirst(value):
            return True
    return False


def _is_standfirst_element(el: HtmlElement) -> bool:
    if el.tag in ("h2", "h3", "h4") or any(anc.tag == "header" for anc in el.iterancestors()):
        return True
    return any(_named(node) for node in (el, *list(el.iterancestors())[:_ANCESTORS]))


def _same_text(text: str, wanted: str, description: str) -> bool:
    if not 0.6 * len(description) <= len(text) <= 1.7 * len(description) + 20:
        return False
    shorter, longer = sorted((key(text), wanted), key=len)
    return bool(shorter) and longer.startswith(shorter) and len(shorter) >= 0.6 * len(longer)


def description_is_standfirst(tree: HtmlElement, description: str | None) -> bool:
    """True when the page shows its description as a standfirst (lines repeating it are metadata)."""
    if not description:
        return False
    wanted = key(description)
    if len(wanted) < 20:
        return False
    for el in tree.iter("p", "h2", "h3", "h4", "div", "span"):
        if el.tag in ("div", "span") and not _named(el):
            continue
        text = el.text_content()
        if text and _same_text(text, wanted, description) and _is_standfirst_element(el):
            return True
    return False
