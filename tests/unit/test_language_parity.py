"""The fast language detector gives langdetect's own answers and scores, bit for bit."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, SAMPLES
from langdetect import DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from pipelines.compat.langdetect_fast import FastDetector as _Detector
from pipelines.core.language import SAMPLE_CHARS, LanguageDetector

# Short and odd texts: URLs, e-mail addresses, runs of spaces, capital words, scripts langdetect
# normalises (Vietnamese marks, Romanian commas, Arabic, CJK, kana, hangul), punctuation only.
ODD_TEXTS = [
    "Le  gouvernement   a présenté   mercredi un projet de loi sur les réseaux sociaux.",
    "Read more at https://example.org/a/b?c=d&e=f or write to desk@example.org  today.",
    "NASA and the ESA said the JWST images of the NGC 1300 galaxy were released on Monday.",
    "Tiếng Việt có dấu: người Việt Nam, thành phố Hồ Chí Minh, tiếng nói.",
    "Științele și țările României: în școală se învață istoria țării.",
    "الحكومة الفارسية تعلن عن خطة جديدة یک دو سه للطاقة المتجددة في المنطقة",
    "東京都は月曜日に新しい計画を発表しました。ひらがな カタカナ 漢字",
    "서울시는 월요일 새로운 계획을 발표했습니다. 한국어 문장입니다.",
    "Der Bundestag hat am Donnerstag das neue Gesetz über künstliche Intelligenz beschlossen.",
    "El Gobierno aprobó el martes una reforma de la ley de vivienda con el apoyo de sus socios.",
    "A B C D E F G H I J K L M N O P Q R S T U V W X Y Z ÀÉÎÕÜ",
    "!!! ??? ... --- *** ((( ))) 123 456 789",
]


def _texts() -> list[str]:
    texts = list(ODD_TEXTS)
    for path in sorted((SAMPLES / "text").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        texts += [text, text[:SAMPLE_CHARS], text[:120]]
    for path in sorted(FIXTURES.rglob("*.txt"))[:40]:
        texts.append(path.read_text(encoding="utf-8", errors="replace")[:SAMPLE_CHARS])
    return texts


def _reference(factory: DetectorFactory, text: str) -> list[tuple[str, float]] | str:
    detector = factory.create()
    detector.append(text)
    try:
        return [(x.lang, x.prob) for x in detector.get_probabilities()]
    except LangDetectException as exc:
        return str(exc)


def _fast(factory: DetectorFactory, text: str) -> list[tuple[str, float]] | str:
    detector = _Detector(factory)
    detector.append(text)
    try:
        return [(x.lang, x.prob) for x in detector.get_probabilities()]
    except LangDetectException as exc:
        return str(exc)


@pytest.fixture(scope="module")
def factory() -> DetectorFactory:
    return LanguageDetector()._factory


@pytest.mark.parametrize("index", range(len(_texts())))
def test_same_probabilities_as_langdetect(factory: DetectorFactory, index: int) -> None:
    text = _texts()[index]
    assert _fast(factory, text) == _reference(factory, text)


def test_same_probabilities_as_langdetect_on_its_own_lists() -> None:
    """Against a factory langdetect loaded itself (probabilities as Python lists, untouched)."""
    from pipelines.core.language import _profiles_dir

    pristine = DetectorFactory()
    pristine.load_profile(_profiles_dir())
    pristine.set_seed(0)
    assert isinstance(next(iter(pristine.word_lang_prob_map.values())), list)
    ours = LanguageDetector()._factory
    for text in _texts():
        assert _fast(ours, text) == _reference(pristine, text)


def test_same_ngrams_as_langdetect(factory: DetectorFactory) -> None:
    for text in _texts():
        reference, fast = factory.create(), _Detector(factory)
        reference.append(text)
        fast.append(text)
        assert fast.text == reference.text
        reference.cleaning_text()
        fast.cleaning_text()
        assert fast._extract_ngrams() == reference._extract_ngrams()


def test_the_sample_text_files_exist() -> None:
    assert list((SAMPLES / "text").glob("*.txt")), Path(SAMPLES / "text")
