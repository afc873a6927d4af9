"""Work on the article's lines: the ``text`` input step, then ``language``, ``line_rules`` and
``record``, which pages and re-cleaned text share."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pipelines.core.hashing import content_hash
from pipelines.core.language import Language, LanguageDetector
from pipelines.core.line_rules import TextRuleSet, byline_author, match_form, split_title_standfirst
from pipelines.core.metadata import Metadata, split_authors
from pipelines.core.page import Drop, iso_utc, word_count
from pipelines.core.record import DEBUG_FIELD, FIELDS, record_id
from pipelines.core.steps.base import State, Step

#: A first line longer than this is a paragraph, not a headline.
HEADLINE_MAX_CHARS = 150


def looks_like_headline(line: str, title: str, standfirst: str | None, later: list[str]) -> bool:
    """Is ``line``, the first line of a text that survives the line rules, its headline?

    A headline is short (:data:`HEADLINE_MAX_CHARS`) and has no final full stop ('?', '!' are
    fine). A headline glued to its standfirst ('Title. Standfirst.', split into ``title`` and
    ``standfirst``) has a full stop of its own, so it counts only when the text repeats one of
    its two parts as a line of its own (as the page's subheadings or the old tool's copies do)."""
    if len(line) > HEADLINE_MAX_CHARS:
        return False
    if standfirst is None:
        return not line.rstrip().endswith((".", "…"))
    parts = {match_form(title).rstrip(".").casefold(), match_form(standfirst).rstrip(".").casefold()}
    return any(match_form(x).rstrip(".").casefold() in parts for x in later)


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(x.strip() for x in value if isinstance(x, str) and x.strip()))


def given_metadata(given: dict[str, Any]) -> Metadata:
    """The metadata a JSONL line carries under the record's field names (a string where a string
    is expected, a list of strings or one string for ``authors`` and ``tags``; anything else is
    unknown)."""
    authors = given.get("authors")
    return Metadata(
        title=_text(given.get("title")),
        authors=split_authors(authors) if isinstance(authors, str) else _texts(authors),
        date_published=_text(given.get("date_published")),
        date_modified=_text(given.get("date_modified")),
        site_name=_text(given.get("site_name")),
        canonical_url=_text(given.get("canonical_url")),
        description=_text(given.get("description")),
        section=_text(given.get("section")),
        tags=_texts(given.get("tags")),
        image=_text(given.get("image")),
        license=_text(given.get("license")),
    )


def given_language(given: dict[str, Any] | None) -> Language | None:
    """The language a JSONL line gives (``language``, with ``language_score`` when it is a number)."""
    code = _text(given.get("language")) if given is not None else None
    if given is None or code is None:
        return None
    score = given.get("language_score")
    return Language(code, float(score) if isinstance(score, int | float) and not isinstance(score, bool) else None)


def given_removed(given: dict[str, Any] | None) -> Counter[str]:
    """The removal counts a JSONL line gives (``removed``: category -> positive integer)."""
    prior = given.get("removed") if given is not None else None
    counts: Counter[str] = Counter()
    if isinstance(prior, dict):
        for key, value in prior.items():
            if isinstance(key, str) and isinstance(value, int) and not isinstance(value, bool) and value > 0:
                counts[key] += value
    return counts


class TextLinesStep(Step):
    """Text extracted earlier, as lines. From a JSONL line, the line's own fields are the metadata
    (lines equal to its description stay: without the page, a standfirst cannot be told from a
    lead paragraph), and a line with a ``title`` field (even null) never has its text's first line
    taken for a headline. From a text file, or a JSONL line without ``title``, the first line that
    survives the line rules is the headline when it looks like one (:func:`looks_like_headline`;
    split from a standfirst glued to it), and is metadata from then on."""

    name = "text"
    stage = "decode"

    def __init__(self, detector: LanguageDetector, rules: TextRuleSet) -> None:
        self.detector = detector
        self.rules = rules

    def run(self, state: State) -> Drop | None:
        lines = [match_form(x) for x in state.text.splitlines()]
        lines = [x for x in lines if x]
        if not lines:
            return state.drop("empty")
        state.lines = lines
        given = state.given
        if given is not None:
            state.meta = given_metadata(given)
            state.description_repeats = False
        known = given_language(given)
        state.lang_hint = lang = known.code if known else self.detector.detect(" ".join(lines)).code
        if given is not None and "title" in given:
            return None
        # first pass with no headline known: find it as the first surviving line
        first = self.rules.apply(lines, lang)
        if not first.lines:
            return state.drop("no_content")
        title, standfirst = split_title_standfirst(first.lines[0])
        if looks_like_headline(first.lines[0], title, standfirst, first.lines[1:]):
            state.meta.title = title
            if state.meta.description is None and standfirst is not None:
                state.meta.description = standfirst  # the text's own standfirst: its copies are repeats
                state.description_repeats = True
            # the headline line itself is metadata: dropped by making it a repeat of itself
            state.headline = first.lines[0]
        return None


class LanguageStep(Step):
    """The language of the first 50 lines (seeded langdetect), ``<html lang>`` as the fallback."""

    name = "language"
    stage = "language"

    def __init__(self, detector: LanguageDetector) -> None:
        self.detector = detector

    def run(self, state: State) -> Drop | None:
        known = given_language(state.given)
        if known is not None:  # a JSONL line's own language is kept
            state.language = known
            return None
        sample = " ".join(line for line in state.lines[:50] if line.strip())
        state.language = self.detector.detect(sample, fallback=state.meta.html_lang)
        return None


class LineRulesStep(Step):
    """Residue lines removed by the per-language line rules; empty and short articles out."""

    name = "line_rules"
    stage = "residue_rules"

    def __init__(self, rules: TextRuleSet, min_words: int, debug: bool) -> None:
        self.rules = rules
        self.min_words = min_words
        self.debug = debug

    def run(self, state: State) -> Drop | None:
        meta = state.meta
        headline = state.headline
        residue = state.residue = self.rules.apply(
            state.lines,
            state.language.code or state.lang_hint,
            title=meta.title,
            description=meta.description if state.description_repeats else None,
            authors=meta.authors,
            keep_text=self.debug,
            extra_repeats=(headline,) if headline else (),
            verbatim=state.verbatim,
        )
        state.removed.update(residue.counts)
        if self.debug:
            for name, texts in residue.texts.items():
                state.removed_text.setdefault(name, []).extend(texts)
        state.text = text = "\n".join(residue.lines)
        state.words = words = word_count(text)
        if words == 0:
            return state.drop("no_content")
        if words < self.min_words:
            return state.drop("too_short", f"{words} words")
        return None


class RecordStep(Step):
    """The record: the fuller headline, authors from bylines if the metadata has none, the content
    hash and the ``id``; a JSONL line's ``id`` and removal counts carried over."""

    name = "record"
    stage = "hash"

    def __init__(self, debug: bool) -> None:
        self.debug = debug

    def run(self, state: State) -> Drop | None:
        meta = state.meta
        headline = state.headline
        residue = state.residue
        candidates = [c for c in residue.title_candidates if c != headline]
        if headline and meta.title and candidates:
            # a longer copy of the headline inside the text is the fuller headline
            longest = max(candidates, key=len)
            if len(longest) > len(meta.title) and longest.startswith(meta.title[:20]):
                meta.title = longest
        named = (byline_author(line) for line in [*state.bylines, *residue.bylines])
        authors = meta.authors or list(dict.fromkeys(a for name in named if name for a in split_authors(name)))
        text = state.text
        language = state.language
        digest = content_hash(text)
        given = state.given
        removed = state.removed
        if given is not None:
            removed = removed + given_removed(given)
        record: dict[str, Any] = {
            "id": (_text(given.get("id")) if given is not None else None) or record_id(meta.canonical_url, digest),
            "url": state.url or meta.canonical_url or None,
            "canonical_url": meta.canonical_url,
            "source": state.source,
            "title": meta.title,
            "description": meta.description,
            "authors": authors,
            "date_published": meta.date_published,
            "date_modified": meta.date_modified,
            "site_name": meta.site_name,
            "section": meta.section,
            "tags": meta.tags,
            "image": meta.image,
            "license": meta.license,
            "language": language.code,
            "language_score": language.score,
            "text": text,
            "word_count": state.words,
            "content_hash": digest,
            "fetched_at": iso_utc(state.fetched_at),
            "removed": dict(sorted(removed.items())),
        }
        assert tuple(record) == FIELDS
        if self.debug:
            record[DEBUG_FIELD] = {k: v for k, v in sorted(state.removed_text.items()) if v}
        state.record = record
        return None
