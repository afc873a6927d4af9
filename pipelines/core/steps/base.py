"""A step of the cleaner, and the working state a page carries through the steps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Container
from datetime import datetime
from typing import Any, ClassVar

from lxml.html import HtmlElement

from pipelines.core.language import Language
from pipelines.core.line_rules import ResidueResult
from pipelines.core.metadata import Metadata
from pipelines.core.page import Drop


class State:
    """What one page accumulates on its way through the steps (the only object made per page
    besides what the steps themselves produce). A field is set by the step that computes it."""

    __slots__ = (
        "article_body", "at", "body", "bylines", "content_type", "description_repeats", "fetched_at", "given",
        "headline", "lang_hint", "language", "lines", "meta", "record", "removed", "removed_text", "residue",
        "reverted", "selection", "source", "text", "tree", "url", "verbatim", "words",
    )

    #: the JSON-LD ``articleBody`` of the page ('' when none): the selector's referee
    article_body: str
    #: the candidates the selector asked, and what it decided (``extract`` step)
    selection: Any
    #: index of the step running (or the last one run) in the cleaner's list
    at: int
    body: bytes
    content_type: str | None
    source: str
    url: str
    fetched_at: datetime | None
    #: the decoded page, then (``text`` input) the text to re-clean
    text: str
    tree: HtmlElement
    meta: Metadata
    #: lines repeating the description are metadata (False when it is the body's lead paragraph)
    description_repeats: bool
    removed: Counter[str]
    removed_text: dict[str, list[str]]
    #: short texts removed by byline rules: author candidates when the metadata names none
    bylines: list[str]
    #: matches the DOM rules kept by their safety valve
    reverted: int
    lines: list[str]
    #: indexes of ``lines`` inside code blocks (kept as they are)
    verbatim: Container[int]
    #: ``text`` input from a JSONL line: the line's object, whose fields the record keeps (None otherwise)
    given: dict[str, Any] | None
    #: ``text`` input: the language of the whole text, and the headline line found in it
    lang_hint: str | None
    headline: str | None
    language: Language
    residue: ResidueResult
    words: int
    record: dict[str, Any]

    def __init__(self, source: str, url: str, fetched_at: datetime | None, body: bytes = b"",
                 content_type: str | None = None) -> None:
        self.at = 0
        self.source = source
        self.url = url
        self.fetched_at = fetched_at
        self.body = body
        self.content_type = content_type
        self.meta = Metadata()
        self.description_repeats = True
        self.removed = Counter()
        self.removed_text = {}
        self.bylines = []
        self.reverted = 0
        self.verbatim = frozenset()
        self.lang_hint = None
        self.headline = None
        self.given = None
        self.article_body = ""
        self.selection = None

    def drop(self, reason: str, detail: str = "") -> Drop:
        return Drop(reason, self.source, self.url, detail)


class Step:
    """One job of the cleaner: :meth:`run` passes the page on (``None``) or drops it (a :class:`Drop`).

    ``name`` prefixes the step's counters (``<name>/in``, ``<name>/forwarded``,
    ``<name>/dropped/<reason>``, and ``<name>/reverted`` when ``valve`` is set); ``stage`` is the
    :class:`~pipelines.core.stage_clock.StageClock` stage its seconds are added to.
    """

    name: ClassVar[str]
    stage: ClassVar[str]
    #: the step has a safety valve: it sets ``state.reverted`` to the changes it took back
    valve: ClassVar[bool] = False

    def run(self, state: State) -> Drop | None:
        raise NotImplementedError
