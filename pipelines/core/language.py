"""Language identification: langdetect, seeded, on a bounded sample of the text.

The detector is langdetect's own algorithm and profiles. On the fast path it is
:class:`pipelines.compat.langdetect_fast.FastDetector`, whose text preparation and random trials
are cheaper (numpy rows) and whose answers and scores are langdetect's, bit for bit, in about a
third of the time; with a langdetect version it was not checked against (or
``NEWSCLEAN_COMPAT=public``) it is langdetect's public ``DetectorFactory`` with the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass

from langdetect import DetectorFactory

from pipelines.compat import langdetect as cl

#: Characters of text the detector reads (from the start of the article).
SAMPLE_CHARS = 1000
#: Below this many letters, detection is not attempted and ``<html lang>`` is used.
MIN_LETTERS = 20


@dataclass(frozen=True, slots=True)
class Language:
    code: str | None
    score: float | None


class LanguageDetector:
    """A langdetect factory built once per process, seeded so one text always gets one answer."""

    def __init__(self, seed: int = 0, sample_chars: int = SAMPLE_CHARS) -> None:
        self.seed = seed
        self.sample_chars = sample_chars
        self._factories: dict[bool, DetectorFactory] = {}
        #: the factory of the path in force when the detector is built (the other is built on demand)
        self._factory = self._factory_for(cl.INTERNALS.fast())

    def _factory_for(self, fast: bool) -> DetectorFactory:
        built = self._factories.get(fast)
        if built is None:
            built = self._factories[fast] = cl.factory(self.seed, fast)
        return built

    def detect(self, text: str, fallback: str | None = None) -> Language:
        sample = text[: self.sample_chars]
        if _has_letters(sample, MIN_LETTERS):
            fast = cl.INTERNALS.fast()
            try:
                lang, prob = cl.probabilities(self._factory_for(fast), sample, fast)[0]
            except (cl.LangDetectException, IndexError):
                pass
            else:
                return Language(lang, round(prob, 4))
        if fallback:
            return Language(normalise_lang_tag(fallback), None)
        return Language(None, None)


def _has_letters(text: str, wanted: int) -> bool:
    """Has ``text`` at least ``wanted`` letters? (Stops counting there.)"""
    for ch in text:
        if ch.isalpha():
            wanted -= 1
            if wanted <= 0:
                return True
    return wanted <= 0


def normalise_lang_tag(tag: str) -> str | None:
    """'fr-FR' -> 'fr'; ISO 639-1 primary subtag, lower case."""
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


def _profiles_dir() -> str:
    return cl.PROFILES_DIRECTORY
