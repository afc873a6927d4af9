"""Seconds spent per cleaning stage, for ``bench/speed.py``.

A :class:`Cleaner <pipelines.core.cleaner.Cleaner>` has ``clock = NO_CLOCK`` by default: every stage
boundary is then a call that does nothing (well under a microsecond a page). Set
``cleaner.clock = StageClock()`` to sum the seconds of each stage over the pages cleaned.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter

#: The stages of :meth:`Cleaner.clean`, in pipeline order (``json`` is the writer's ``dumps``;
#: ``dedup`` the dedup step after it: hash claim, near-duplicate signature and lookup in the state).
STAGES: tuple[str, ...] = (
    "decode", "parse", "metadata", "dom_rules", "trafilatura", "language", "residue_rules", "hash", "json",
    "dedup",
)


class StageClock:
    """A lap timer: :meth:`lap` adds the seconds since the previous lap to a stage."""

    def __init__(self, timer: Callable[[], float] = perf_counter) -> None:
        self.seconds: dict[str, float] = {}
        self._timer = timer
        self._last = timer()

    def start(self) -> None:
        self._last = self._timer()

    def lap(self, stage: str) -> None:
        now = self._timer()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._last
        self._last = now

    def shares(self) -> dict[str, float]:
        """Each stage's share of the total seconds, in :data:`STAGES` order."""
        total = sum(self.seconds.values()) or 1.0
        return {stage: self.seconds[stage] / total for stage in STAGES if stage in self.seconds}


class NoClock(StageClock):
    """The default clock: times nothing."""

    def start(self) -> None:
        pass

    def lap(self, stage: str) -> None:
        pass


NO_CLOCK: StageClock = NoClock()
