"""trafilatura's internals that the extraction and metadata steps use, behind an import guard.

:data:`INTERNALS` says whether the fast path may run (:meth:`pipelines.compat.Internals.fast`).
When it may not, :mod:`pipelines.core.extract` takes ``trafilatura.bare_extraction`` and
:mod:`pipelines.core.metadata` takes ``trafilatura.extract_metadata``: the same text and fields,
in more time. The names below exist only when :data:`INTERNALS` lists nothing missing; the steps
read them (``compat.trafilatura.name``) only on the fast path.
"""

from __future__ import annotations

from pathlib import Path

import trafilatura

from pipelines.cache import cache_dir, write_atomically
from pipelines.compat import Internals, installed

#: The trafilatura versions whose internals the fast path follows.
TRAFILATURA_VERSIONS = ("2.3.",)

INTERNALS = Internals("trafilatura", trafilatura.__version__, TRAFILATURA_VERSIONS)

try:
    from trafilatura import metadata as metadata_module
    from trafilatura.baseline import block_text
    from trafilatura.core import _forum_thread_page as forum_thread_page
    from trafilatura.core import trafilatura_sequence
    from trafilatura.external import SANITIZED_XPATH, compare_extraction, jt_stoplist_init
    from trafilatura.htmlprocessing import convert_tags, prune_unwanted_nodes, tree_cleaning
    from trafilatura.json_metadata import (
        JSON_UNICODE_REPLACE,
        extract_json,
        normalize_authors,
    )
    from trafilatura.metadata import (
        JSON_MINIFY,
        META_URL,
        examine_meta,
        extract_sitename,
        extract_title,
        extract_url,
        find_date,
    )
    from trafilatura.settings import DEFAULT_CONFIG, Document, Extractor
    from trafilatura.utils import HTML_STRIP_TAGS, line_processing, trim
    from trafilatura.xml import delete_element, xmltotxt
    from trafilatura.xpaths import (
        AUTHOR_DISCARD_XPATHS,
        AUTHOR_XPATHS,
        BODY_XPATH,
        CATEGORIES_XPATHS,
        REGEXP_NS,
        TAGS_XPATHS,
    )

    from pipelines.compat.trafilatura_extractor import extract_content
    from pipelines.compat.trafilatura_json import extract_json_parse_error
except (ImportError, AttributeError, IndexError, KeyError) as exc:  # a newer, patched or partial trafilatura
    INTERNALS.missing.append(str(exc))


__all__ = [
    "AUTHOR_DISCARD_XPATHS",
    "AUTHOR_XPATHS",
    "BODY_XPATH",
    "CATEGORIES_XPATHS",
    "DEFAULT_CONFIG",
    "HTML_STRIP_TAGS",
    "INTERNALS",
    "JSON_MINIFY",
    "JSON_UNICODE_REPLACE",
    "META_URL",
    "REGEXP_NS",
    "SANITIZED_XPATH",
    "TAGS_XPATHS",
    "TRAFILATURA_VERSIONS",
    "Document",
    "Extractor",
    "block_text",
    "compare_extraction",
    "convert_tags",
    "delete_element",
    "examine_meta",
    "extract_content",
    "extract_json",
    "extract_json_parse_error",
    "extract_sitename",
    "extract_title",
    "extract_url",
    "find_date",
    "forum_thread_page",
    "jt_stoplist_init",
    "line_processing",
    "metadata_module",
    "normalize_authors",
    "prepare",
    "prune_unwanted_nodes",
    "trafilatura_sequence",
    "tree_cleaning",
    "trim",
    "xmltotxt",
]


#: Bumped when the cached stoplist's form changes.
_STOPLIST_FORMAT = 1


def _stoplist_path() -> Path:
    """The cached merged stoplist, named after the versions it was read from."""
    versions = f"{_STOPLIST_FORMAT}-{installed('justext')}-{trafilatura.__version__}"
    return cache_dir() / f"justext-stoplist-{versions}.txt"


def prepare() -> None:
    """Load now what trafilatura loads on first use: jusText's stoplists of every language merged
    into one (about 180,000 words read from 100 files, 0.15 s), from :func:`pipelines.cache.cache_dir`
    after the first time (a newline-separated file, 0.01 s; the words are the same set:
    trafilatura's own tuple is in set order, and jusText makes a set of it again before use).
    The fast path only; the public one loads them on first use."""
    if INTERNALS.missing or trafilatura.external.JT_STOPLIST is not None:
        return
    path = _stoplist_path()
    try:
        words = path.read_bytes().decode("utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        words = list(jt_stoplist_init())
        if not any("\n" in word for word in words):
            write_atomically(path, "\n".join(words).encode("utf-8"))
    else:
        trafilatura.external.JT_STOPLIST = tuple(words)  # type: ignore[assignment]
