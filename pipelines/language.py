"""Language identification: langdetect, seeded, on a bounded sample of the text."""

from __future__ import annotations

from dataclasses import dataclass

from langdetect import DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

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
        self.sample_chars = sample_chars
        self._factory = DetectorFactory()
        self._factory.load_profile(_profiles_dir())
        self._factory.set_seed(seed)

    def detect(self, text: str, fallback: str | None = None) -> Language:
        sample = text[: self.sample_chars]
        if sum(ch.isalpha() for ch in sample) >= MIN_LETTERS:
            detector = self._factory.create()
            detector.append(sample)
            try:
                best = detector.get_probabilities()[0]
            except (LangDetectException, IndexError):
                pass
            else:
                return Language(best.lang, round(best.prob, 4))
        if fallback:
            return Language(normalise_lang_tag(fallback), None)
        return Language(None, None)


def normalise_lang_tag(tag: str) -> str | None:
    """'fr-FR' -> 'fr'; ISO 639-1 primary subtag, lower case."""
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


def _profiles_dir() -> str:
    import os

    import langdetect

    return os.path.join(os.path.dirname(langdetect.__file__), "profiles")
