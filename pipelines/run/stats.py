"""The one count of a run, the crawl's or ``newsclean clean``'s, and the step counters a cleaner
sends with each result.

:class:`RunStats` counts pages in (``pages_read``: pages and inputs that came out of the clean
step, records or drops), records written, drops by reason (a name of :mod:`pipelines.reasons`,
whichever step dropped: the cleaner, an input, dedup, the crawl's language filter, a dead
worker), blocks and lines removed by rule category and languages (both over the records
written), and the :attr:`~pipelines.core.cleaner.Cleaner.counters` of every cleaner of the run,
summed (``steps``). Once every page is settled::

    pages_read == records_written + sum(dropped.values())

``newsclean clean`` prints it (:class:`pipelines.run.offline.Stats`); the crawl's item pipelines
pass a ``publish`` callback that writes every change into Scrapy's stats under the crawl's key
names (``pipelines.item_pipelines.crawl_key``). Nothing here imports Scrapy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelines.core.page import Drop
from pipelines.reasons import REGISTRY

#: ``publish(key, increment)``: one counter changed. Keys: ``pages_read``, ``cleaned``,
#: ``records_written``, ``dropped/<reason>``, ``language/<code>``, ``removed/<category>``,
#: ``steps/<step>/<counter>[/<reason>]``.
Publish = Callable[[str, int], None]


@dataclass
class RunStats:
    """The counters of one run (see the module's documentation for what each counts)."""

    pages_read: int = 0
    #: records the clean step gave (before dedup and the crawl's language filter)
    cleaned: int = 0
    records_written: int = 0
    #: records written with ``near_duplicate_of`` set (policy ``mark``)
    near_marked: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    #: ``<step>/in``, ``<step>/forwarded``, ``<step>/dropped/<reason>``, ``dom_rules/reverted``
    steps: Counter[str] = field(default_factory=Counter)
    publish: Publish | None = field(default=None, repr=False, compare=False)

    def read(self, result: Any) -> None:
        """A page (or input) came out of the clean step: a record, or a :class:`Drop`."""
        self.pages_read += 1
        self._emit("pages_read", 1)
        if isinstance(result, Drop):
            self.drop(result.reason)
        else:
            self.cleaned += 1
            self._emit("cleaned", 1)

    def drop(self, reason: str) -> None:
        """A page or record gave no output, for a registered ``reason``."""
        if reason not in REGISTRY:
            raise ValueError(f"not a registered reason: {reason!r} (see pipelines.reasons)")
        self.dropped[reason] += 1
        self._emit(f"dropped/{reason}", 1)

    def write(self, record: Mapping[str, Any]) -> None:
        """A record's line was written."""
        self.records_written += 1
        self._emit("records_written", 1)
        language = record.get("language") or "und"
        self.languages[language] += 1
        self._emit(f"language/{language}", 1)
        for category, count in (record.get("removed") or {}).items():
            self.removed[category] += count
            self._emit(f"removed/{category}", count)

    def mark_near(self) -> None:
        """A record written was marked as a near-duplicate of a first copy."""
        self.near_marked += 1
        self._emit("near_duplicates_marked", 1)

    def add_steps(self, counts: Mapping[str, int]) -> None:
        """Add what a cleaner's counters gained (a worker's :class:`CountsSince` for one page)."""
        for key, count in counts.items():
            self.steps[key] += count
            self._emit(f"steps/{key}", count)

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    @property
    def balanced(self) -> bool:
        """Every page read is written or dropped (true once no page is in flight)."""
        return self.pages_read == self.records_written + self.dropped_total

    def _emit(self, key: str, count: int) -> None:
        if self.publish is not None:
            self.publish(key, count)


class CountsSince:
    """What a cleaner's counters gained since the last :meth:`take`: a worker sends it with each
    result, the crawl's in-process cleaner hands it to :meth:`RunStats.add_steps` the same way."""

    def __init__(self, counters: dict[str, int]) -> None:
        self.counters = counters
        self.last = dict(counters)

    def take(self) -> dict[str, int]:
        last = self.last
        gained = {}
        for key, value in self.counters.items():
            before = last.get(key, 0)
            if value != before:
                gained[key] = value - before
                last[key] = value
        return gained


__all__ = ["CountsSince", "Publish", "RunStats"]
