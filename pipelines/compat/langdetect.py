"""langdetect's internals that the language step uses, behind an import guard.

The fast path is :class:`pipelines.compat.langdetect_fast.FastDetector` on a factory whose
probabilities are one numpy matrix (:func:`pipelines.compat.langdetect_fast.load_factory`): it
overrides ``Detector``'s private ``_extract_ngrams`` and ``_detect_block``. The public path is
langdetect's own ``DetectorFactory`` (profiles from ``PROFILES_DIRECTORY``, the same seed) and
its ``create()`` detector: the same answers and scores, bit for bit, in about three times the time.
"""

from __future__ import annotations

from langdetect import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from pipelines.compat import Internals, installed

#: The langdetect versions whose ``Detector`` internals :class:`FastDetector` overrides.
LANGDETECT_VERSIONS = ("1.0.9",)
#: What FastDetector reads or overrides on langdetect's ``Detector``.
_DETECTOR_INTERNALS = (
    "_detect_block",
    "_extract_ngrams",
    "_init_probability",
    "cleaning_text",
    "URL_RE",
    "MAIL_RE",
    "ALPHA_WIDTH",
    "BASE_FREQ",
    "CONV_THRESHOLD",
    "ITERATION_LIMIT",
)


INTERNALS = Internals("langdetect", installed("langdetect"), LANGDETECT_VERSIONS)

try:
    from langdetect.detector import Detector

    from pipelines.compat.langdetect_fast import FastDetector, load_factory
except ImportError as exc:  # pragma: no cover - a newer, patched or partial langdetect
    INTERNALS.missing.append(str(exc))
else:
    INTERNALS.missing.extend(f"Detector.{name}" for name in _DETECTOR_INTERNALS if not hasattr(Detector, name))

__all__ = [
    "INTERNALS",
    "LANGDETECT_VERSIONS",
    "PROFILES_DIRECTORY",
    "FastDetector",
    "LangDetectException",
    "factory",
    "probabilities",
]


def factory(seed: int, fast: bool) -> DetectorFactory:
    """A seeded factory of every profile: the fast path's (one numpy matrix) or langdetect's own."""
    built = load_factory(PROFILES_DIRECTORY) if fast else DetectorFactory()
    if not fast:
        built.load_profile(PROFILES_DIRECTORY)
    built.set_seed(seed)
    return built


def probabilities(built: DetectorFactory, text: str, fast: bool) -> list[tuple[str, float]]:
    """langdetect's languages and probabilities for ``text``, best first (raises
    ``LangDetectException`` when the text has no features)."""
    detector = FastDetector(built) if fast else built.create()
    detector.append(text)
    return [(found.lang, found.prob) for found in detector.get_probabilities()]
