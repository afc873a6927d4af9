"""Worker-side functions of the crawl's cleaning pool. No Scrapy import: a worker process loads
only the cleaning core (and, under ``forkserver``, forks from a server that preloaded it)."""

from __future__ import annotations

import logging
import os
import threading
import time

from pipelines.core import Cleaner, CleanOptions, Drop, Page
from pipelines.record import Record

_CLEANER: Cleaner | None = None


def init_worker(options: CleanOptions, parent_pid: int | None = None) -> None:
    """Pool initializer: one cleaner per worker (rules compiled, language detector seeded).

    With ``parent_pid``, a watchdog thread ends the worker when that process is gone: a crawl
    killed with SIGKILL cannot stop its pool, and the workers would otherwise wait for work
    forever (they hold both ends of the task queue).
    """
    global _CLEANER
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    _CLEANER = Cleaner(options)
    if parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True).start()


def _watch_parent(pid: int, interval: float = 1.0) -> None:
    while True:
        time.sleep(interval)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # the pid was reused by another user's process: ours is gone
            os._exit(1)


def ready() -> int:
    """A no-op task: submitting one per worker starts the pool before the first page arrives."""
    return os.getpid()


def clean(page: Page) -> Record | Drop:
    assert _CLEANER is not None, "worker not initialised"
    return _CLEANER.clean(page)
