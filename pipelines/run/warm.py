"""Imported by the forkserver before it forks the cleaning workers: the cleaning core loaded and a
cleaner with the default options built once, so that each worker starts with both (copies of the
forkserver's pages) instead of importing and building them itself.

Only a forkserver imports this module (:data:`pipelines.run.pool.CORE_MODULES`). A cleaner that
fails to build here is built again by each worker, which then reports the error as its own.
"""

from __future__ import annotations

import logging

from pipelines.core.cleaner import Cleaner
from pipelines.core.page import CleanOptions

DEFAULT_OPTIONS = CleanOptions()
DEFAULT: Cleaner | None
try:
    DEFAULT = Cleaner(DEFAULT_OPTIONS)
except Exception:  # the forkserver must start whatever happens; each worker reports it
    logging.getLogger(__name__).debug("default cleaner not built in the forkserver", exc_info=True)
    DEFAULT = None


def cleaner_for(options: CleanOptions) -> Cleaner | None:
    """The prebuilt cleaner when ``options`` are the defaults (a forked worker's own copy)."""
    return DEFAULT if options == DEFAULT_OPTIONS else None
