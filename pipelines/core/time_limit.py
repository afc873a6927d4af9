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
    run on with no limit at all.
    """


#: After the first alarm, the interval at which it is raised again until the page ends: code on
#: the way may still swallow one (a bare ``except:``, a garbage-collector callback or ``__del__``
#: method, where Python only reports an exception as "ignored").
RETRY_INTERVAL = 0.05


@contextmanager
def time_limit(seconds: float | None) -> Iterator[bool]:
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield False
        return
    active = True

    def on_alarm(signum: int, frame: object) -> None:
        if active:
            raise PageTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, RETRY_INTERVAL)
    try:
        yield True
    finally:
        while True:  # an alarm may land in here too: the timer must end whatever happens
            try:
                active = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
                break
            except PageTimeout:
                continue
