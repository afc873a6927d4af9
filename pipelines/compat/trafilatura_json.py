"""trafilatura's reading of a JSON-LD block that is not valid JSON, without a second pass per name.

``extract_json_parse_error`` finds author names with ``extract_json_author``: search the block,
keep the name, remove that match (``pattern.sub("", text, count=1)``), search again from the
start. The ``sub`` scans the whole block a second time to find the match the ``search`` just
found: on a page whose 800 KB block holds 1,700 names, 0.5 s of the 0.9 s the page took. Here
the match is cut out by slicing, which gives the same string (``sub`` with ``count=1`` removes the
leftmost match, and ``search`` found the leftmost match), and each search still starts from the
beginning, as trafilatura's does (a match may form across the cut).

:data:`extract_json_parse_error` is trafilatura's own function, rebound to a copy of its module's
globals in which ``extract_json_author`` is :func:`extract_json_author`; trafilatura's module is
left as it is. ``tests/unit/test_metadata_parity.py`` holds the results to trafilatura's.
"""

from __future__ import annotations

from re import Pattern
from types import FunctionType
from typing import Any

from trafilatura import json_metadata


def extract_json_author(elemtext: str, regular_expression: Pattern[str]) -> str | None:
    """trafilatura's ``extract_json_author``, each match cut out by slicing (see the module)."""
    authors = None
    mymatch = regular_expression.search(elemtext)
    while mymatch:
        # first matching group (JSON_AUTHOR_1 has two)
        name = next(filter(None, mymatch.groups()), None)
        if not name or " " not in name:
            break
        authors = json_metadata.normalize_authors(authors, name)
        elemtext = elemtext[: mymatch.start()] + elemtext[mymatch.end() :]
        mymatch = regular_expression.search(elemtext)
    return authors or None


def _rebound(name: str, **replaced: Any) -> Any:
    namespace = dict(vars(json_metadata))
    namespace.update(replaced)
    original = namespace[name]
    copy = FunctionType(original.__code__, namespace, original.__name__, original.__defaults__, original.__closure__)
    copy.__kwdefaults__ = original.__kwdefaults__
    copy.__doc__ = original.__doc__
    return copy


#: trafilatura's ``extract_json_parse_error``, finding authors with :func:`extract_json_author`
extract_json_parse_error = _rebound("extract_json_parse_error", extract_json_author=extract_json_author)
