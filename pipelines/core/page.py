"""What the cleaner takes and gives besides a record: a page, a drop, the options."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_WORD = re.compile(r"\w+")

#: Extraction modes: trafilatura's ``favor_precision``, its default, and ``favor_recall``.
MODES = ("precision", "balanced", "recall")


@dataclass(frozen=True, slots=True)
class Page:
    """A page as fetched or as saved: its bytes and what is known of where it came from."""

    body: bytes
    url: str = ""
    source: str = ""
    content_type: str | None = None
    fetched_at: datetime | None = None

    @classmethod
    def from_headers(cls, body: bytes, url: str, headers: Mapping[str, str] | None = None, **kw: Any) -> Page:
        content_type = None
        for name, value in (headers or {}).items():
            if name.lower() == "content-type":
                content_type = value
        return cls(body=body, url=url, content_type=content_type, **kw)


@dataclass(frozen=True, slots=True)
class Drop:
    """A page that gives no record, and why (a key of :data:`pipelines.core.cleaner.DROP_REASONS`)."""

    reason: str
    source: str
    url: str = ""
    detail: str = ""


@dataclass(frozen=True)
class CleanOptions:
    """Limits and switches of the cleaner; every field has a matching setting and CLI flag."""

    max_page_bytes: int = 10_000_000
    max_elements: int = 200_000
    time_limit: float = 20.0
    min_words: int = 1
    debug: bool = False
    favor_precision: bool = False
    #: trafilatura's mode: "precision" (favor_precision), "balanced" (its default) or "recall"
    extraction_mode: str = "precision"
    extensive_dates: bool = False
    language_sample: int = 1000
    #: precision mode: trafilatura's text as it is, no other candidate asked (pipelines/core/candidates.py)
    single_candidate: bool = False


def iso_utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def word_count(text: str) -> int:
    return len(_WORD.findall(text))
