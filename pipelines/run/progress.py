"""``newsclean clean``'s progress bar: pages done, pages/s, drops, and a total with an ETA when the
number of pages can be known without reading them.

The total is counted by a first walk over the inputs, in a thread beside the run (the run does not
wait for it; the bar gets its total, and so its percentage and ETA, when the walk ends). The walk
is the run's own (:func:`pipelines.io.walk.entries`: the same entries, in bounded memory, left in
the file system's order, which a count does not need) and keeps only a count: saved pages and
text files count one each, a JSONL file its non-blank lines, a path that does not exist one (its
``not_found`` reject). Inputs skipped by ``--resume`` or another ``--shard`` are not counted. There
is no total (the bar shows the count and the rate) when an input is a WARC archive (its pages are
known only by reading every record) or the list of paths comes on stdin (it can be read once
only).
"""

from __future__ import annotations

import io
import os
import stat
import sys
import threading
from collections.abc import Callable, Collection, Iterable
from typing import IO, Any

from pipelines.core.unpack import CorruptGzip, GunzipStream
from pipelines.io.inputs import kind_of, open_regular, source_of
from pipelines.io.walk import Entry, LinkLoop, entries


class Unknown(Exception):
    """The total cannot be known without reading the inputs (or the walk was stopped)."""


class InputCounter:
    """Counts the tasks the inputs give; :meth:`count` raises :class:`Unknown` when it cannot."""

    def __init__(self, args: Iterable[str], *, exclude: Iterable[str] = (),
                 keep: Callable[[str], bool] | None = None, stop: threading.Event | None = None) -> None:
        self.args = list(args)
        self.exclude = {os.path.realpath(path) for path in exclude}
        #: is a task with this source in the run (not skipped by --resume or --shard)?
        self.keep = keep or (lambda source: True)
        self.stop = stop or threading.Event()

    def count(self) -> int:
        if "-" in self.args:
            raise Unknown("paths on stdin")
        total = 0
        for arg in self.args:
            for number, entry in enumerate(entries(arg, None), 1):  # a count needs no order
                total += self._entry(entry)
                if number % 4096 == 0 and self.stop.is_set():
                    raise Unknown("stopped")
        return total

    def _one(self, source: str) -> int:
        return 1 if self.keep(source_of(source)) else 0

    def _entry(self, entry: Entry) -> int:
        """What :meth:`pipelines.io.inputs.Inputs._entry` gives for ``entry``, counted."""
        path, explicit, status = entry
        if isinstance(status, LinkLoop):
            return 0
        if isinstance(status, OSError) or not stat.S_ISREG(status.st_mode):
            return self._one(path)  # its reject: not_found, read_error, not_a_file
        kind = kind_of(path, explicit)
        if kind in (None, "sidecar"):
            return 0
        if kind == "warc":
            raise Unknown("a WARC archive")
        if kind == "jsonl":
            if self.exclude and os.path.realpath(path) in self.exclude:
                return 0
            return self._jsonl(path)
        return self._one(path)

    def _jsonl(self, path: str) -> int:
        """The non-blank lines, read a block at a time (a line of gigabytes is never held)."""
        total = 0
        try:
            raw = open_regular(path)
            stream: IO[bytes] = io.BufferedReader(GunzipStream(raw), 1 << 20) if path.lower().endswith(".gz") else raw
            with stream:
                number, blank = 0, True
                while piece := stream.readline(1 << 20):
                    blank = blank and not piece.strip()
                    if piece.endswith(b"\n"):
                        number += 1
                        if not blank:
                            total += self._one(f"jsonl:{path}#{number}")
                        blank = True
                        if number % 65536 == 0 and self.stop.is_set():
                            raise Unknown("stopped")
                if not blank:
                    total += self._one(f"jsonl:{path}#{number + 1}")
        except (OSError, EOFError, CorruptGzip):
            total += 1  # the read_error reject
        return total


class Progress:
    """The bar, or nothing when it is not shown; :meth:`count_in_background` gives it a total."""

    def __init__(self, enabled: bool | None) -> None:
        show = sys.stderr.isatty() if enabled is None else enabled
        self.bar: Any = None
        self._stop = threading.Event()
        self._total: int | None = None
        self._thread: threading.Thread | None = None
        if show:
            from tqdm import tqdm

            self.bar = tqdm(unit=" pages", file=sys.stderr, dynamic_ncols=True, smoothing=0.1, mininterval=0.5)

    @property
    def shown(self) -> bool:
        return self.bar is not None

    def count_in_background(self, args: Collection[str], *, exclude: Iterable[str] = (),
                            keep: Callable[[str], bool] | None = None) -> None:
        """Start the walk that counts the pages; the bar gets its total when it ends."""
        if self.bar is None:
            return
        counter = InputCounter(args, exclude=exclude, keep=keep, stop=self._stop)

        def walk() -> None:
            try:
                self._total = counter.count()
            except Exception:  # Unknown, or any error: a total is a nicety, the run goes on without it
                return

        self._thread = threading.Thread(target=walk, name="newsclean-count", daemon=True)
        self._thread.start()

    def update(self, drops: int) -> None:
        bar = self.bar
        if bar is None:
            return
        if self._total is not None and bar.total is None:
            bar.total = max(self._total, bar.n + 1)
        bar.set_postfix_str(f"drops {drops}", refresh=False)
        bar.update(1)

    def close(self) -> None:
        self._stop.set()
        if self.bar is not None:
            self.bar.close()


__all__ = ["InputCounter", "Progress", "Unknown"]
