"""langdetect's detector with cheaper text preparation and its random trials on numpy rows.

:class:`FastDetector` is langdetect's ``Detector`` (1.0.9) with its private ``_extract_ngrams`` and
``_detect_block`` overridden: spaces folded by one regex instead of a character loop, the n-grams
read per word (normalised through a ``str.translate`` table, each distinct word's n-grams computed
once) instead of one ``NGram.add_char`` call per character, and the random trials run on numpy
rows: the profiles' probabilities are one float64 matrix (:func:`load_factory`, smaller than
langdetect's Python lists), and each trial step multiplies the 55 language probabilities by an
n-gram's row in one numpy operation instead of a Python loop. The n-gram list is the same, the
random draws are langdetect's own, in the same order, and every product, sum and quotient is the
same IEEE operation in the same order (the sum is Python's ``sum``, as langdetect's), so its
answers and scores are langdetect's, bit for bit (``tests/unit/test_language_parity.py`` checks
it), in about a third of the time. Imported only through :mod:`pipelines.compat.langdetect`.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np
from langdetect import DetectorFactory
from langdetect.detector import Detector
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.utils.ngram import NGram

_SPACE_RUN = re.compile(" {2,}")


class _NormalisedChars(dict[int, str]):
    """``NGram.normalize`` of each character, computed once per character (a ``str.translate`` table)."""

    def __missing__(self, code: int) -> str:
        value = self[code] = NGram.normalize(chr(code))
        return value


_NORMALISED = _NormalisedChars()
#: n-grams of a padded word (" word " or " word" at the end of the text), joined by NUL (which
#: normalisation turns into a space, so no n-gram holds one): one string per word, not one per
#: n-gram (about 150 bytes a word). Bounded.
_WORD_NGRAMS: dict[str, str] = {}
_WORD_CACHE_SIZE = 50_000
_SEP = "\x00"


def _word_ngrams(padded: str, known: dict[str, list[float]]) -> list[str]:
    """The 1-, 2- and 3-grams langdetect reads in one normalised word, in its order."""
    found: list[str] = []
    previous = " "
    for k in range(1, len(padded)):
        ch = padded[k]
        if ch.isupper() and previous.isupper():
            previous = ch
            continue  # NGram.capitalword: an all-capitals word (an acronym) says nothing
        previous = ch
        if ch != " " and ch in known:
            found.append(ch)
        w = padded[k - 1 : k + 1]
        if w in known:
            found.append(w)
        if k >= 2:
            w = padded[k - 2 : k + 1]
            if w in known:
                found.append(w)
    return found


def load_factory(directory: str) -> DetectorFactory:
    """langdetect's ``DetectorFactory.load_profile(directory)``, with the probabilities put
    straight into one float64 matrix: each n-gram maps to its row (a read-only view, indexable as
    langdetect reads its lists). The same languages in the same order, the same probabilities
    (``1.0 * count / n_words``, as langdetect computes them), without building langdetect's
    Python lists first."""
    files = os.listdir(directory)
    factory = DetectorFactory()
    rows: dict[str, int] = {}
    columns: list[tuple[int, list[int], list[float]]] = []
    for filename in files:
        path = os.path.join(directory, filename)
        if filename.startswith(".") or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            profile = json.load(f)
        name, n_words = profile["name"], profile["n_words"]
        if name in factory.langlist:
            raise LangDetectException(ErrorCode.DuplicateLangError, "Duplicate the same language profile.")
        factory.langlist.append(name)
        indexes, probs = [], []
        for word, count in profile["freq"].items():
            row = rows.setdefault(word, len(rows))
            if 1 <= len(word) <= 3:
                indexes.append(row)
                probs.append(1.0 * count / n_words[len(word) - 1])
        columns.append((len(factory.langlist) - 1, indexes, probs))
    matrix = np.zeros((len(rows), len(files)), dtype=np.float64)
    for column, indexes, probs in columns:
        matrix[indexes, column] = probs
    matrix.setflags(write=False)
    factory.word_lang_prob_map = dict(zip(rows, matrix, strict=True))
    return factory


class FastDetector(Detector):
    """langdetect's ``Detector`` with its per-character loops made cheaper (its factory made by
    :func:`load_factory`)."""

    def append(self, text: str) -> None:
        # Detector.append copies character by character, folding runs of ASCII spaces to one
        text = self.URL_RE.sub(" ", text)
        text = self.MAIL_RE.sub(" ", text)
        text = NGram.normalize_vi(text)
        self.text += _SPACE_RUN.sub(" ", text[: self.max_text_length])

    def _extract_ngrams(self) -> list[str]:
        # Detector._extract_ngrams feeds NGram.add_char one character at a time. The n-grams only
        # depend on the current word: after normalisation, a space ends a word (and is the last
        # character of its final 2- and 3-grams), runs of spaces give nothing, and a character is
        # skipped when it and the one before are both upper case. So the n-grams of a word are
        # computed once and reused.
        known = self.word_lang_prob_map
        cache = _WORD_NGRAMS
        words = self.text.translate(_NORMALISED).split(" ")
        last = len(words) - 1
        result: list[str] = []
        for index, word in enumerate(words):
            if not word:
                continue
            padded = f" {word} " if index < last else f" {word}"
            joined = cache.get(padded)
            if joined is None:
                grams = _word_ngrams(padded, known)
                if len(cache) >= _WORD_CACHE_SIZE:
                    cache.clear()
                cache[padded] = _SEP.join(grams)
                result += grams
            elif joined:
                result += joined.split(_SEP)
        return result

    def _detect_block(self) -> None:
        # Detector._detect_block with its per-language loops (``_update_lang_prob``,
        # ``_normalize_prob``) as numpy operations on the probability vector: the same
        # multiplications and divisions, element by element; the sum is Python's, over the same
        # floats in the same order; the same random draws in the same order.
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        rows = self.word_lang_prob_map
        n_trial = self.n_trial
        langprob = [0.0] * len(self.langlist)
        rand = self.random
        rand.seed(self.seed)
        choice = rand.choice
        limit, threshold = self.ITERATION_LIMIT, self.CONV_THRESHOLD
        for _ in range(n_trial):
            prob = np.array(self._init_probability(), dtype=np.float64)
            alpha = self.alpha + rand.gauss(0.0, 1.0) * self.ALPHA_WIDTH
            weight = alpha / self.BASE_FREQ
            i = 0
            while True:
                prob *= weight + rows[choice(ngrams)]
                if i % 5 == 0:
                    prob /= sum(prob.tolist())
                    if prob.max() > threshold or i >= limit:
                        break
                i += 1
            for j, p in enumerate(prob.tolist()):
                langprob[j] += p / n_trial
        self.langprob = langprob
