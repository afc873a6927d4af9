"""Boilerplate rules as data.

Two tables, both compiled once at import by :mod:`pipelines.core.dom_rules` and :mod:`pipelines.core.line_rules`:

* :data:`pipelines.rules.dom.DOM_RULES`: element rules applied to the parsed page before
  extraction (class tokens, ids, or an XPath);
* :data:`pipelines.rules.text.TEXT_RULES`: line rules applied to the extracted paragraphs, per
  language (``"*"`` for every language).

Every rule has a unique ``name`` and one ``category`` from :data:`CATEGORIES`; every removal the
cleaner makes is counted under its category and, in debug mode, kept under its rule name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Boilerplate categories, in the order they are reported. Each has at least one rule with a
#: fixture where it fires (``tests/test_rules_complete.py``).
CATEGORIES: dict[str, str] = {
    "cookie_banner": "consent walls, cookie notices and the placeholders left where an embed was blocked",
    "ticker": "market tickers and quote widgets",
    "comment_form": "comment forms and comment threads",
    "ad_label": "ad slots and their 'Publicité' / 'Advertisement' labels",
    "share_count": "share bars, social buttons and share counters",
    "breadcrumb": "breadcrumb trails",
    "newsletter": "newsletter sign-up and paywall boxes",
    "related": "'read also' and related-article blocks",
    "byline": "author boxes and agency bylines inside the text",
    "caption": "figure captions and photo credits",
    "syndication": "syndication notices ('Article original publié sur …')",
    "kicker": "section kickers and date residue glued before the title or lead",
    "title_repeat": "lines that repeat the headline or standfirst",
    "stray": "lone characters left by icons and empty links",
}

MatchKind = Literal["class", "id", "xpath"]


@dataclass(frozen=True, slots=True)
class DomRule:
    """An element rule.

    ``kind`` says what ``pattern`` is matched against:

    * ``class``: a regular expression that must match one whole token of ``@class``
      (so ``ticker`` never matches ``stickers``);
    * ``id``: a regular expression that must match the whole ``@id``;
    * ``xpath``: an XPath expression selecting the elements to remove. With ``on``, the
      expression is evaluated from each element ``on`` names (so it starts with ``self::``), and
      those elements are found in the same pass as the class and id rules: an XPath over the
      whole tree costs about as much as that pass, per rule.

    ``on`` names the elements an ``xpath`` rule starts from: tag names (``"form"``), or
    ``"@name"`` for the elements carrying that attribute (``"@data-ad"``).
    """

    name: str
    category: str
    kind: MatchKind
    pattern: str
    note: str = ""
    on: tuple[str, ...] = ()

    @property
    def xpath(self) -> str:
        """The rule as one XPath over the whole page (``pattern`` itself when ``on`` is empty)."""
        if not self.on:
            return self.pattern
        starts = " | ".join(f"//*[{a}]" if a.startswith("@") else f"//{a}" for a in self.on)
        return f"({starts})/{self.pattern}"


TextAction = Literal["drop", "strip_prefix", "byline"]


@dataclass(frozen=True, slots=True)
class TextRule:
    """A line rule on extracted text.

    ``pattern`` must match the whole line (``re.fullmatch``, case-insensitive unless
    ``case=True``), except for ``strip_prefix`` rules, whose pattern is matched at the start of
    the line and removed. ``byline`` rules drop the line and keep it as an author candidate.
    ``lang`` is an ISO 639-1 code, or ``"*"`` for rules that hold in every language.
    ``next_line``, when set, is a category: the rule only holds when the next non-blank line is
    matched by a rule of that category (an instrument name alone is a ticker item only when a
    quote follows it; alone it may be a sub-heading of a market report).
    """

    name: str
    category: str
    lang: str
    pattern: str
    action: TextAction = "drop"
    case: bool = False
    note: str = ""
    next_line: str = ""
