"""The record schema: one JSON object per article, keys always present and always in this order.

See ``docs/schema.md`` for the meaning of every field.
"""

from __future__ import annotations

import hashlib
from typing import Any, TypedDict

import orjson


class Record(TypedDict):
    id: str
    url: str | None
    canonical_url: str | None
    source: str
    title: str | None
    description: str | None
    authors: list[str]
    date_published: str | None
    date_modified: str | None
    site_name: str | None
    section: str | None
    tags: list[str]
    image: str | None
    license: str | None
    language: str | None
    language_score: float | None
    text: str
    word_count: int
    content_hash: str
    fetched_at: str | None
    removed: dict[str, int]


#: Field order of every record (the TypedDict's order).
FIELDS: tuple[str, ...] = tuple(Record.__annotations__)
#: Present only when debug output is asked for: the removed text, by rule name.
DEBUG_FIELD = "removed_text"


def record_id(canonical_url: str | None, content_hash: str) -> str:
    """The record's ``id``: 32 hex digits, the start of the SHA-256 of the canonical URL (UTF-8)
    when the record has one, else the start of its content hash's digest (``sha256:`` dropped)."""
    if canonical_url:
        return hashlib.sha256(canonical_url.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return content_hash.removeprefix("sha256:")[:32]


def dumps(record: Record | dict[str, Any]) -> bytes:
    """One JSONL line: UTF-8, no spaces, ending with ``\\n``."""
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def loads(line: bytes | str) -> dict[str, Any]:
    value = orjson.loads(line)
    if not isinstance(value, dict):
        raise ValueError("a record line must hold a JSON object")
    return value
