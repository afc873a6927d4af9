"""Data derived from installed packages, kept between runs so that a process starts fast.

What is kept (language profiles as one matrix, jusText's merged stoplist) is recomputed from the
installed package when its file is missing, unreadable or of another version, and a cache that
cannot be written is only a slower start: nothing here ever fails a run.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)


def cache_dir() -> Path:
    """``NEWSCLEAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/newsclean`` (``~/.cache/newsclean``)."""
    given = os.environ.get("NEWSCLEAN_CACHE_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "newsclean"


def write_atomically(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` through a temporary file and a rename (a reader sees the whole
    file or none); False, with a debug line, when it cannot be written."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        logger.debug("not cached: %s (%s)", path, exc)
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        return False
    return True
