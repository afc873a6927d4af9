"""Every reason a page or record gives no output: one registry, name → side and meaning.

The names are stable: they are stats keys (``newsclean/clean/dropped/<reason>``,
``offline/dropped/<reason>``) and ``rejects`` reasons. The *side* says who decides:

* ``page``: the cleaning core (:class:`pipelines.core.cleaner.Drop`, both paths);
* ``input``: reading ``newsclean clean``'s inputs (:mod:`pipelines.io.inputs`);
* ``run``: running the core over many pages, in the crawl and offline (dedup, worker processes);
* ``crawl``: the crawl's item pipelines only.

A reason is a *failure* (:data:`FAILURE_REASONS`) when the page or input could not be read,
decoded or parsed, ran out of time, or killed its worker: something went wrong. The others are
*drops*: the page was read and judged not worth a record (too short, too large, a duplicate,
another language). Only failures count towards ``newsclean clean``'s exit codes 4 (nothing could
be read) and 5 (the share of failed pages passed ``--max-failure-share``), see
``docs/exit-codes.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Side = Literal["page", "input", "run", "crawl"]


@dataclass(frozen=True, slots=True)
class Reason:
    name: str
    side: Side
    meaning: str
    #: could not be read, decoded or parsed, timed out, or killed its worker (not a judgement)
    failure: bool = False


_ALL = (
    Reason("empty", "page", "the page has no bytes, or no text once decoded"),
    Reason("too_large", "page",
           "the page is larger than max_page_bytes (or has a text node over libxml2's 10 MB limit)"),
    Reason("too_large_unpacked", "page", "the gzip-packed page unpacks to more than max_page_bytes (a gzip bomb)"),
    Reason("not_html", "page", "the bytes are binary (PDF, image, archive, NUL bytes), not an HTML page", failure=True),
    Reason("parse_error", "page", "lxml could not build a tree", failure=True),
    Reason("too_deep", "page", "the tree has more elements than max_elements, or is nested deeper than 256 levels"),
    Reason("timeout", "page", "cleaning took longer than time_limit seconds", failure=True),
    Reason("no_content", "page", "no article text was found"),
    Reason("too_short", "page", "the article text has fewer than min_words words"),
    Reason("error", "page", "an unexpected error in the cleaner (logged with its traceback)", failure=True),
    Reason("not_found", "input", "the input path does not exist, or a glob pattern matched nothing", failure=True),
    Reason("not_a_file", "input",
           "the path is a FIFO, a device or a socket (refused by type, before opening) or, in a folder, a "
           "dangling symbolic link", failure=True),
    Reason("read_error", "input", "the file could not be read or decompressed (detail: the error)", failure=True),
    Reason("corrupt_record", "input",
           "a WARC record is truncated or corrupt (bad header, gzip or digest); the archive goes on", failure=True),
    Reason("bad_json", "input", "a JSONL line is not a JSON object, or its text field is not a string", failure=True),
    Reason("duplicate_hash", "run",
           "the same text (content hash) was already written in this run or claimed in the state store"),
    Reason("near_duplicate", "run",
           "nearly the same text as a record written earlier (MinHash similarity at the threshold or over; "
           "near-duplicate policy drop)"),
    Reason("worker_died", "run", "the worker process cleaning this page died (killed, out of memory, crash)",
           failure=True),
    Reason("language", "crawl", "the record's language is not in NEWSCLEAN_LANGUAGES"),
    Reason("unchanged", "crawl",
           "an article fetched again (its sitemap or feed date is newer): the same text as its last record"),
    Reason("minor_edit", "crawl",
           "an article fetched again: its text differs from its last record by a small edit (MinHash "
           "similarity 0.9 or over), not a new version"),
)

#: Every registered reason by name.
REGISTRY: dict[str, Reason] = {reason.name: reason for reason in _ALL}


def reasons(*sides: Side) -> dict[str, str]:
    """Name → meaning of the reasons of ``sides`` (all of them without any), in registry order."""
    return {r.name: r.meaning for r in _ALL if not sides or r.side in sides}


#: The cleaning core's reasons (``Drop.reason``).
PAGE_REASONS = reasons("page")
#: What ``newsclean clean`` writes to ``--rejects`` (and counts as ``offline/dropped/<reason>``).
OFFLINE_REASONS = reasons("page", "input", "run")
#: What the crawl counts under ``newsclean/*/dropped/<reason>`` and raises as ``DropItem`` reasons.
CRAWL_REASONS = reasons("page", "run", "crawl")

#: Reasons that say a page or input failed (see the module's documentation), not that it was dropped.
FAILURE_REASONS: frozenset[str] = frozenset(r.name for r in _ALL if r.failure)

WORKER_DIED = "worker_died"
DUPLICATE_HASH = "duplicate_hash"
NEAR_DUPLICATE = "near_duplicate"
UNCHANGED = "unchanged"
MINOR_EDIT = "minor_edit"

__all__ = [
    "CRAWL_REASONS", "DUPLICATE_HASH", "FAILURE_REASONS", "MINOR_EDIT", "NEAR_DUPLICATE", "OFFLINE_REASONS",
    "PAGE_REASONS",    "REGISTRY", "UNCHANGED", "WORKER_DIED", "Reason", "Side",
    "reasons",
]
