"""A per-page time limit for pure-Python work (trafilatura has none of its own).

Uses ``SIGALRM`` (a real-time interval timer), so it works in the main thread of a process: the
offline workers, the crawl's cleaning pool and a single-process crawl all clean there. Elsewhere
(another thread) the limit is not enforced, and :func:`time_limit` says so by returning ``False``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class PageTimeout(BaseException):
    """Raised inside the cleaning of a page that ran past its time limit.

    A ``BaseException`` (like ``KeyboardInterrupt``): trafilatura wraps readability, justext and
    its JSON-LD pass in ``except Exception``, which would swallow the one alarm and let the page
    run on with no limit at all (seen on a 50 MB page: 1 s limit, 396 s of cleaning).
    """


def _on_alarm(signum: int, frame: object) -> None:
    raise PageTimeout


@contextmanager
def time_limit(seconds: float | None) -> Iterator[bool]:
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield True
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:  # the alarm may fire just before the line above: restore the handler anyway
            signal.signal(signal.SIGALRM, previous)
