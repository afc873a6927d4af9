"""What the spider yields: a raw page, never cleaned (the item pipelines clean)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RawPage:
    """A fetched article page: URLs, status, headers, body bytes and fetch time (ISO 8601 UTC)."""

    url: str
    request_url: str
    status: int
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    fetched_at: str
    site: str
    discovered_from: str = ""
    source_date: str | None = None
