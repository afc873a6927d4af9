"""Running the cleaning core over many pages, for the crawl and ``newsclean clean`` alike: the worker
pool, the count of a run and the dedup loop."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity: a container's CPU set), else the
    machine's count. The default number of cleaning workers of the crawl and of ``newsclean clean``."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


__all__ = ["usable_cores"]
