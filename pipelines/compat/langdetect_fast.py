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

The matrix is read from langdetect's JSON profiles once (0.25 s), then kept in
:func:`pipelines.cache.cache_dir` and mapped read-only (0.05 s a process; worker processes share
its pages).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
from collections.abc import Container, Iterator, Mapping
from typing import Any

# numpy serves here for 55-float vectors: its BLAS thread pool (one thread per core, started at
# import and spinning between calls) would only cost CPU (about 0.05 s a process at start)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # after the BLAS setting, read when numpy loads OpenBLAS
from langdetect import DetectorFactory
from langdetect.detector import Detector
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.utils.ngram import NGram

from pipelines.cache import cache_dir, write_atomically
from pipelines.compat import installed

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


def _word_ngrams(padded: str, known: Container[str]) -> list[str]:
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


class ProfileRows(Mapping[str, "np.ndarray[Any, Any]"]):
    """``word_lang_prob_map`` as langdetect reads it (an n-gram's probabilities, one per language,
    indexable like its lists), kept as one float64 matrix and an n-gram -> row index: membership
    and rows without one Python object per n-gram."""

    def __init__(self, index: dict[str, int], matrix: np.ndarray[Any, Any]) -> None:
        self.index = index
        self.matrix = matrix

    def __getitem__(self, ngram: str) -> np.ndarray[Any, Any]:
        return self.matrix[self.index[ngram]]

    def __contains__(self, ngram: object) -> bool:
        return ngram in self.index

    def __iter__(self) -> Iterator[str]:
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)


#: Bumped when the cached form changes (files of another format are not read).
_CACHE_FORMAT = 1


def _profiles_key(directory: str, files: list[str]) -> str:
    """The profiles' identity: the format, the byte order, langdetect's version, and each file's
    name (in the order read) and size. Not their folder: every environment with the same
    langdetect shares one copy."""
    digest = hashlib.sha256(f"{_CACHE_FORMAT}|{sys.byteorder}|{installed('langdetect')}".encode())
    for filename in files:
        digest.update(f"|{filename}|{os.stat(os.path.join(directory, filename)).st_size}".encode())
    return digest.hexdigest()[:24]


def _read_profiles(directory: str, files: list[str]) -> tuple[list[str], dict[str, int], np.ndarray[Any, Any]]:
    """The languages, n-gram rows and probability matrix, from langdetect's JSON profiles."""
    langlist: list[str] = []
    rows: dict[str, int] = {}
    columns: list[tuple[int, list[int], list[float]]] = []
    for filename in files:
        with open(os.path.join(directory, filename), encoding="utf-8") as f:
            profile = json.load(f)
        name, n_words = profile["name"], profile["n_words"]
        if name in langlist:
            raise LangDetectException(ErrorCode.DuplicateLangError, "Duplicate the same language profile.")
        langlist.append(name)
        indexes, probs = [], []
        for word, count in profile["freq"].items():
            row = rows.setdefault(word, len(rows))
            if 1 <= len(word) <= 3:
                indexes.append(row)
                probs.append(1.0 * count / n_words[len(word) - 1])
        columns.append((len(langlist) - 1, indexes, probs))
    matrix = np.zeros((len(rows), len(files)), dtype=np.float64)
    for column, indexes, probs in columns:
        matrix[indexes, column] = probs
    return langlist, rows, matrix


def _cached_profiles(directory: str, files: list[str]) -> tuple[list[str], dict[str, int], np.ndarray[Any, Any]]:
    """:func:`_read_profiles`, kept in :func:`cache_dir` after the first time: the languages and
    the n-grams in one text file (NUL-separated: no n-gram holds one), the matrix in one ``.npy``
    file mapped read-only (so worker processes share its pages). A missing, unreadable or
    unwritable cache is read from the JSON profiles as before (the same numbers: the cache is
    those float64 values, byte for byte)."""
    folder = cache_dir()
    stem = folder / f"langdetect-{_profiles_key(directory, files)}"
    keys_path, matrix_path = stem.with_suffix(".keys"), stem.with_suffix(".npy")
    try:
        with open(keys_path, "rb") as f:
            head, _, body = f.read().decode("utf-8").partition("\n")
        langlist, ngrams = head.split(_SEP), body.split(_SEP)
        # a plain ndarray over the mapped file (np.memmap's own indexing is Python code)
        matrix = np.load(matrix_path, mmap_mode="r", allow_pickle=False).view(np.ndarray)
        # the languages are the profiles' names (their files' names), in the order read
        if matrix.shape == (len(ngrams), len(langlist)) and matrix.dtype == np.float64 and langlist == files:
            return langlist, dict(zip(ngrams, range(len(ngrams)), strict=True)), matrix
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    langlist, rows, matrix = _read_profiles(directory, files)
    odd_names = langlist != files or any(_SEP in name or "\n" in name for name in langlist)
    if odd_names or any(_SEP in gram for gram in rows):
        return langlist, rows, matrix  # not a form the cache can hold (nor recognise)
    buffer = io.BytesIO()
    np.save(buffer, matrix, allow_pickle=False)
    # the matrix first: a reader that finds the keys finds the matrix they index
    if write_atomically(matrix_path, buffer.getvalue()):
        write_atomically(keys_path, f"{_SEP.join(langlist)}\n{_SEP.join(rows)}".encode())
    return langlist, rows, matrix


def load_factory(directory: str) -> DetectorFactory:
    """langdetect's ``DetectorFactory.load_profile(directory)``, with the probabilities put
    straight into one float64 matrix (:class:`ProfileRows`: each n-gram maps to its row, a
    read-only view, indexable as langdetect reads its lists). The same languages in the same order,
    the same probabilities (``1.0 * count / n_words``, as langdetect computes them), without
    building langdetect's Python lists first; read once from the JSON profiles, then from
    :func:`cache_dir`."""
    # in os.listdir's order, as langdetect loads them (the languages' order is the columns' order,
    # and so the order of the sums)
    files = [name for name in os.listdir(directory)
             if not name.startswith(".") and os.path.isfile(os.path.join(directory, name))]
    langlist, rows, matrix = _cached_profiles(directory, files)
    matrix.setflags(write=False)
    factory = DetectorFactory()
    factory.langlist = langlist
    factory.word_lang_prob_map = ProfileRows(rows, matrix)
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
        table = self.word_lang_prob_map
        known = table.index if isinstance(table, ProfileRows) else table
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
        table = self.word_lang_prob_map
        # the rows straight from the matrix (a ProfileRows lookup is a Python call); a factory
        # built elsewhere has its rows read as langdetect reads them
        index, matrix = (table.index, table.matrix) if isinstance(table, ProfileRows) else (table, None)
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
                row = index[choice(ngrams)]
                prob *= weight + (row if matrix is None else matrix[row])
                if i % 5 == 0:
                    prob /= sum(prob.tolist())
                    if prob.max() > threshold or i >= limit:
                        break
                i += 1
            for j, p in enumerate(prob.tolist()):
                langprob[j] += p / n_trial
        self.langprob = langprob
