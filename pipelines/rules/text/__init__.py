"""Line rules on extracted text, one module per language.

A ``drop`` pattern must match a whole line: a sentence that merely *mentions* cookies or the
CAC 40 is never touched. Apostrophes and quotes are matched in both their typographic and ASCII
forms, and non-breaking spaces count as spaces (lines are matched after
:func:`pipelines.core.line_rules.match_form`).

Every module of this package but :mod:`~pipelines.rules.text.common` is a language, named by its
ISO 639-1 code, with a ``LANGUAGE`` (:class:`~pipelines.rules.text.common.Language`): its rules,
filed under the slots of :data:`~pipelines.rules.text.common.LAYOUT`, its byline words and its
author separators. This module finds them and assembles :data:`TEXT_RULES` and the byline and
author-separator patterns that :mod:`pipelines.core.line_rules` and
:mod:`pipelines.core.metadata` compile.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from pipelines.rules import TextRule
from pipelines.rules.text.common import AUTHOR_SEPARATOR_MARKS, BYLINE_TAILS, LAYOUT, Language, Slot

_NOT_LANGUAGES = {"common"}


def _discover() -> tuple[Language, ...]:
    """The language modules of this package, in ``rank`` order."""
    languages: list[Language] = []
    for module in pkgutil.iter_modules(__path__):
        if module.name in _NOT_LANGUAGES or module.name.startswith("_"):
            continue
        language = importlib.import_module(f"{__name__}.{module.name}").LANGUAGE
        if not isinstance(language, Language) or language.code != module.name:
            raise ValueError(f"{__name__}.{module.name}: LANGUAGE must be a Language with code {module.name!r}")
        languages.append(language)
    ranks = [language.rank for language in languages]
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"two languages share a rank: {sorted(ranks)}")
    return tuple(sorted(languages, key=lambda language: language.rank))


def assemble(languages: tuple[Language, ...]) -> tuple[TextRule, ...]:
    """:data:`~pipelines.rules.text.common.LAYOUT` with each slot filled by ``languages``, in order."""
    slots = {entry.name for entry in LAYOUT if isinstance(entry, Slot)}
    for language in languages:
        unknown = set(language.rules) - slots
        if unknown:
            raise ValueError(f"language {language.code!r}: unknown slot(s) {sorted(unknown)}")
        strays = [r.name for rules in language.rules.values() for r in rules if r.lang != language.code]
        if strays:
            raise ValueError(f"language {language.code!r}: rules of another language: {strays}")
    rules: list[TextRule] = []
    for entry in LAYOUT:
        if isinstance(entry, Slot):
            for language in languages:
                rules.extend(language.rules.get(entry.name, ()))
        else:
            rules.append(entry)
    return tuple(rules)


def _alternation(pieces: list[str]) -> str:
    """One non-capturing group, longest piece first (so 'Écrit par' is tried before 'Par')."""
    return "(?:" + "|".join(sorted(dict.fromkeys(pieces), key=len, reverse=True)) + ")"


LANGUAGES: tuple[Language, ...] = _discover()

TEXT_RULES: tuple[TextRule, ...] = assemble(LANGUAGES)

#: A byline's opening words ('Par ', 'Written by '), at the start of the line; case-insensitive.
BYLINE_PREFIX_PATTERN = (
    r"^" + _alternation([re.escape(w) for lang in LANGUAGES for w in lang.byline_prefixes]) + r"\s+"
)
#: What follows the author name on a byline ('| publié le 3 mars'), to the end; case-insensitive.
BYLINE_TAIL_PATTERN = (
    r"\s*(?:[|,•·-]\s*|\s)" + _alternation([p for lang in LANGUAGES for p in lang.byline_tails] + list(BYLINE_TAILS))
    + r".*$"
)
#: Between two author names: a mark (';', '|', ',') or a word of any language ('et', 'and').
AUTHOR_SPLIT_PATTERN = (
    r"\s*"
    + _alternation(
        [rf"\b{re.escape(w)}\b" for lang in LANGUAGES for w in lang.author_separators]
        + [re.escape(m) for m in AUTHOR_SEPARATOR_MARKS]
    )
    + r"\s*"
)

__all__ = [
    "AUTHOR_SPLIT_PATTERN", "BYLINE_PREFIX_PATTERN", "BYLINE_TAIL_PATTERN", "LANGUAGES", "TEXT_RULES", "Language", "Slot",
]
