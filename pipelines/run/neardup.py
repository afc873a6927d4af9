"""Near-duplicate detection: MinHash signatures of a record's text, LSH bands to find candidates.

Two records are near-duplicates when the estimated Jaccard similarity of their sets of word
5-shingles (words of the lower-cased text, five in a row: ``\\w+`` runs, each Chinese or Japanese
character alone) is at least
:data:`THRESHOLD`. A signature is :data:`NUM_PERM` MinHash values (rensa's ``RMinHash``,
seeded); it is kept as their low 16 bits (:data:`SIGNATURE_BYTES` bytes: two values that differ
agree on 16 bits with odds 2⁻¹⁶, which biases the estimate by less than 0.0001). Candidates are
found by LSH banding: the 32-bit values are cut into :data:`BANDS` bands of :data:`ROWS` rows,
each band hashed to an 8-byte key; two texts sharing one band key are compared on their whole
signatures. With these numbers a pair at the threshold shares a band with probability > 0.99.

The figures behind the numbers (precision, recall, the threshold curve, the cost) are in
``docs/dedup.md``, measured by ``bench/neardup.py``.

Policies (:data:`POLICIES`): ``drop`` a near-duplicate of a record written earlier, ``mark`` it
(written, with ``near_duplicate_of`` and ``near_duplicate_similarity``), or ``off``.
No Scrapy import; rensa is imported on first use.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

POLICIES = ("drop", "mark", "off")
DEFAULT_POLICY = "drop"

SHINGLE = 5
NUM_PERM = 128
BANDS = 20
ROWS = 5
SEED = 20260
THRESHOLD = 0.6
SIGNATURE_BYTES = 2 * NUM_PERM
#: The record keys added under ``mark`` (at the end of the record, on every record of the run).
MARK_FIELDS = ("near_duplicate_of", "near_duplicate_similarity")

#: A word: a run of word characters, except that Chinese and Japanese characters (written without
#: spaces) are one word each.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")
_LOW16 = struct.Struct(f"<{NUM_PERM}H")
_hasher: Callable[[list[str]], list[int]] | None = None
_ALGORITHM: str | None = None


def _minhash() -> Callable[[list[str]], list[int]]:
    global _hasher
    if _hasher is None:
        from rensa import RMinHash

        def digest(tokens: list[str]) -> list[int]:
            minhash = RMinHash(NUM_PERM, SEED)
            minhash.update(tokens)
            return list(minhash.digest())

        _hasher = digest
    return _hasher


def algorithm() -> str:
    """What a stored signature was made with; a store keeps it and refuses another."""
    global _ALGORITHM
    if _ALGORITHM is None:
        import rensa

        version = getattr(rensa.RMinHash, "ALGORITHM_VERSION", "?")
        _ALGORITHM = f"rensa-rminhash/{version}/p{NUM_PERM}/s{SEED}/w{SHINGLE}/b{BANDS}x{ROWS}/low16"
    return _ALGORITHM


def shingles(text: str) -> list[str]:
    """Word 5-shingles of ``text`` (lower-cased words); a shorter text is one shingle."""
    words = words_of(text)
    if len(words) <= SHINGLE:
        return [" ".join(words)] if words else []
    return list(map(" ".join, zip(*(words[i:] for i in range(SHINGLE)), strict=False)))


def words_of(text: str) -> list[str]:
    """The lower-cased words of ``text``: ``\\w+`` runs, a Chinese or Japanese character alone."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Signature:
    """A text's MinHash signature (low 16 bits of each value) and its LSH band keys."""

    values: bytes
    bands: tuple[bytes, ...] = field(repr=False)


def signature(text: str) -> Signature | None:
    """The signature of ``text``; None for a text without a word."""
    tokens = shingles(text)
    if not tokens:
        return None
    return from_values(_minhash()(tokens))


def from_values(values: list[int]) -> Signature:
    """The signature of :data:`NUM_PERM` 32-bit MinHash values."""
    raw = struct.pack(f"<{NUM_PERM}I", *values)
    bands = tuple(
        bytes((band,)) + hashlib.blake2b(raw[band * ROWS * 4:(band + 1) * ROWS * 4], digest_size=7).digest()
        for band in range(BANDS)
    )
    return Signature(_LOW16.pack(*(value & 0xFFFF for value in values)), bands)


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity: the share of equal values of two stored signatures."""
    same = sum(x == y for x, y in zip(_LOW16.unpack(a), _LOW16.unpack(b), strict=True))
    return same / NUM_PERM


def doc_ref(content_hash: str) -> bytes:
    """The 8-byte reference a store files a signature under (BLAKE2b of the content hash)."""
    return hashlib.blake2b(content_hash.encode("utf-8"), digest_size=8).digest()


@dataclass(frozen=True)
class Match:
    """The first copy a text is a near-duplicate of: its id and the estimated similarity."""

    first_id: str
    similarity: float


def best(candidates: Iterable[tuple[str, bytes]], values: bytes, threshold: float) -> Match | None:
    """The most similar candidate at or over ``threshold`` (ties: the first given)."""
    found: Match | None = None
    for first_id, other in candidates:
        score = similarity(values, other)
        if score >= threshold and (found is None or score > found.similarity):
            found = Match(first_id, score)
    return found


class MemoryIndex:
    """The signatures of the first copies written by this run, in memory (no ``--state``)."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self.values: list[bytes] = []
        self.ids: list[str] = []
        self.bands: dict[bytes, list[int]] = {}

        self.refs: dict[str, int] = {}

    def find(self, sig: Signature) -> Match | None:
        refs = sorted({ref for key in sig.bands for ref in self.bands.get(key, ())})
        return best(((self.ids[ref], self.values[ref]) for ref in refs if self.values[ref]), sig.values,
                    self.threshold)

    def add(self, sig: Signature, first_id: str, content_hash: str) -> None:
        ref = len(self.values)
        self.values.append(sig.values)
        self.ids.append(first_id)
        self.refs[content_hash] = ref
        for key in sig.bands:
            self.bands.setdefault(key, []).append(ref)

    def discard(self, content_hash: str) -> None:
        """Forget the signature of a record whose line could not be written."""
        ref = self.refs.pop(content_hash, None)
        if ref is not None:
            self.values[ref] = b""


def mark(record: dict[str, Any], match: Match | None) -> dict[str, Any]:
    """``record`` with the two ``mark`` keys at its end (null for a first copy)."""
    return {
        **record,
        "near_duplicate_of": match.first_id if match else None,
        "near_duplicate_similarity": round(match.similarity, 3) if match else None,
    }


__all__ = [
    "BANDS", "DEFAULT_POLICY", "MARK_FIELDS", "NUM_PERM", "POLICIES", "ROWS", "SHINGLE", "SIGNATURE_BYTES",
    "THRESHOLD", "Match", "MemoryIndex", "Signature", "algorithm", "best", "doc_ref", "from_values", "mark",
    "shingles",
    "signature", "similarity",
]
