"""``newsclean clean``'s progress bar: pages done, pages/s, drops, and a total with an ETA when the
number of pages can be known without reading them.

The total is counted by a first walk over the inputs, in a thread beside the run (the run does not
wait for it; the bar gets its total, and so its percentage and ETA, when the walk ends). The walk
lists what :class:`pipelines.io.inputs.Inputs` would enumerate, one directory at a time, and keeps
only a count: saved pages and text files count one each, a JSONL file its non-blank lines, a path
that does not exist one (its ``not_found`` reject). Inputs skipped by ``--resume`` or another
``--shard`` are not counted. There is no total (the bar shows the count and the rate) when an input
is a WARC archive (its pages are known only by reading every record) or the list of paths comes
on stdin (it can be read once only).
"""

from __future__ import annotations

import glob
import io
import os
import stat
import sys
import threading
from collections.abc import Callable, Collection, Iterable
from typing import IO, Any

from pipelines.core.unpack import CorruptGzip, GunzipStream
from pipelines.io.inputs import kind_of, open_regular, source_of

_GLOB_CHARS = frozenset("*?[")


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
        return sum(self._argument(arg) for arg in self.args)

    def _one(self, source: str) -> int:
        return 1 if self.keep(source_of(source)) else 0

    def _argument(self, arg: str) -> int:
        if os.path.isdir(arg):
            return self._folder(arg, frozenset())
        if os.path.exists(arg):
            return self._file(arg, explicit=True)
        if _GLOB_CHARS & set(arg):
            total = 0
            matched = False
            for path in glob.iglob(arg, recursive=True):
                matched = True
                total += self._folder(path, frozenset()) if os.path.isdir(path) else self._file(path, explicit=False)
            return total if matched else self._one(arg)
        return self._one(arg)

    def _folder(self, root: str, ancestors: frozenset[tuple[int, int]]) -> int:
        if self.stop.is_set():
            raise Unknown("stopped")
        try:
            info = os.stat(root)
            listing = os.scandir(root)
        except OSError:
            return self._one(root)
        ancestors = ancestors | {(info.st_dev, info.st_ino)}
        total = 0
        with listing:
            for entry in listing:
                path = os.path.join(root, entry.name)
                try:
                    is_dir = entry.is_dir()
                    if is_dir:
                        target = entry.stat()
                        if (target.st_dev, target.st_ino) in ancestors:
                            continue
                except OSError:
                    total += self._one(path)
                    continue
                if is_dir:
                    total += self._folder(path, ancestors)
                else:  # files, and what is not one (its not_a_file reject)
                    total += self._file(path, explicit=False)
        return total

    def _file(self, path: str, explicit: bool) -> int:
        kind = kind_of(path, explicit)
        try:
            regular = stat.S_ISREG(os.stat(path).st_mode)
        except OSError:
            regular = False
        if not regular:  # a FIFO, a device, a dangling link: never opened, one reject
            return self._one(path)
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
