"""Content hash of the normalised text, recorded with its algorithm."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WS = re.compile(r"\s+")
ALGORITHM = "sha256"


def normalise(text: str) -> str:
    """NFC, every run of whitespace folded to one space, stripped."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def content_hash(text: str) -> str:
    return f"{ALGORITHM}:{hashlib.sha256(normalise(text).encode('utf-8')).hexdigest()}"
