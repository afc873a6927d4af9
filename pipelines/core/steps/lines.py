"""Work on the article's lines: the ``text`` input step, then ``language``, ``line_rules`` and
``record``, which pages and re-cleaned text share."""

from __future__ import annotations

from typing import Any

from pipelines.core.hashing import content_hash
from pipelines.core.language import LanguageDetector
from pipelines.core.line_rules import TextRuleSet, byline_author, match_form, split_title_standfirst
from pipelines.core.metadata import split_authors
from pipelines.core.page import Drop, iso_utc, word_count
from pipelines.core.record import DEBUG_FIELD, FIELDS
from pipelines.core.steps.base import State, Step


class TextLinesStep(Step):
    """Text extracted earlier by another tool, as lines; its headline is the first line that
    survives the line rules (split from a standfirst glued to it), and is metadata from then on."""

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
        lang = self.detector.detect(" ".join(lines)).code
        # first pass with no headline known: find it as the first surviving line
        first = self.rules.apply(lines, lang)
        if not first.lines:
            return state.drop("no_content")
        title, standfirst = split_title_standfirst(first.lines[0])
        state.meta.title = title
        state.meta.description = standfirst
        state.lines = lines
        state.lang_hint = lang
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
    """The record: the fuller headline, authors from bylines if the metadata has none, the content hash."""

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
        record: dict[str, Any] = {
            "url": state.url or None,
            "canonical_url": meta.canonical_url,
            "source": state.source,
            "title": meta.title,
            "description": meta.description,
            "authors": authors,
            "date_published": meta.date_published,
            "site_name": meta.site_name,
            "section": meta.section,
            "tags": meta.tags,
            "language": language.code,
            "language_score": language.score,
            "text": text,
            "word_count": state.words,
            "content_hash": content_hash(text),
            "fetched_at": iso_utc(state.fetched_at),
            "removed": dict(sorted(state.removed.items())),
        }
        assert tuple(record) == FIELDS
        if self.debug:
            record[DEBUG_FIELD] = {k: v for k, v in sorted(state.removed_text.items()) if v}
        state.record = record
        return None
