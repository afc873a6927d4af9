"""readability-lxml's ``Document.summary``, with its HTML cleaner's javascript pass left out.

``Document`` cleans its input with the module-level ``html_cleaner`` of ``readability.readability``
(an lxml_html_clean ``Cleaner`` with ``javascript=True``). That option rewrites every link and
drops every ``on*`` attribute, visiting each element of the page in Python: most of readability's
time on a news page. The selector takes only readability's text, where neither plays a part, so
the fast path swaps in, for the call, a cleaner with the same settings but ``javascript=False``.
The swap needs the module attribute and the cleaner settings checked here; with another
readability-lxml version, or other settings, ``Document`` runs as it is (the same text, slower;
one warning in the log).
"""

from __future__ import annotations

from typing import Any

from lxml.html import HtmlElement

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

__all__ = ["INTERNALS", "READABILITY_VERSIONS", "Unparseable", "summary"]


def summary(tree: HtmlElement) -> str:
    """``Document(tree).summary(html_partial=True)``; ``tree`` may be changed (pass a copy)."""
    if _FAST_CLEANER is None or not INTERNALS.fast():
        return str(Document(tree).summary(html_partial=True))
    saved = _module.html_cleaner
    _module.html_cleaner = _FAST_CLEANER
    try:
        return str(Document(tree).summary(html_partial=True))
    finally:
        _module.html_cleaner = saved
