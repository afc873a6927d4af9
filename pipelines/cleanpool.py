"""Worker-side functions of the crawl's cleaning pool. No Scrapy import: a worker process loads
only the cleaning core (and, under ``forkserver``, forks from a server that preloaded it)."""

from __future__ import annotations

import logging
import os

from pipelines.core import Cleaner, CleanOptions, Drop, Page
from pipelines.record import Record

_CLEANER: Cleaner | None = None


def init_worker(options: CleanOptions) -> None:
    """Pool initializer: one cleaner per worker (rules compiled, language detector seeded)."""
    global _CLEANER
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    _CLEANER = Cleaner(options)


def ready() -> int:
    """A no-op task: submitting one per worker starts the pool before the first page arrives."""
    return os.getpid()


def clean(page: Page) -> Record | Drop:
    assert _CLEANER is not None, "worker not initialised"
    return _CLEANER.clean(page)
