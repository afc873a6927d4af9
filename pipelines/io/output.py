"""Where ``newsclean clean`` writes: an output file (or the rejects file) is never lost by accident.

What happens to a file that already exists is said by the run's *mode*:

``new`` (the default)
    the file must not exist (nor ``FILE.partial``): :class:`OutputExists` otherwise, which the
    command reports as a usage error (exit 2) before anything runs.
``force``
    the file is replaced, at the end of the run.
``append``
    records are added to the end of the file, in place (a partial last line, left by a killed
    run, is cut first); no input is skipped.
``resume``
    the run goes on where a killed or interrupted run stopped: inputs whose ``source`` is already
    in the file are skipped and the rest appended.

A new or replaced file is written as ``FILE.partial`` in the same folder and renamed to ``FILE``
when the run ends (:meth:`OutputFile.commit`, after an ``fsync``), so a run killed half-way leaves
an earlier ``FILE`` as it was, and its lines in ``FILE.partial``, which ``--resume`` picks up:
it goes on appending to ``FILE.partial`` and renames it at the end. When both exist, the
``.partial`` one is the newer run's (a killed ``--force`` run). ``--append`` writes in place and so
does ``--resume`` of a finished file: there is nothing to protect, the earlier lines are kept.

The stats file is a report of one run: it is always replaced, written whole to ``FILE.partial``
and renamed (:func:`write_report`), so a reader never sees half of it.
"""

from __future__ import annotations

import bisect
import contextlib
import enum
import os
from array import array
from dataclasses import dataclass
from typing import IO

from pipelines.io.writer import truncate_partial_line

PARTIAL_SUFFIX = ".partial"


class Mode(enum.Enum):
    NEW = "new"
    FORCE = "force"
    APPEND = "append"
    RESUME = "resume"


class OutputExists(Exception):
    """The file (or its ``.partial``) exists and the mode does not say what to do with it."""


def partial_path(path: str) -> str:
    """Where a new or replaced ``path`` is written until the run ends."""
    return path + PARTIAL_SUFFIX


@dataclass(frozen=True)
class OutputFile:
    """One output of a run: the file the user named, and where its lines go meanwhile."""

    #: the path the user gave
    path: str
    #: where lines are written during the run: ``path`` itself, or ``path.partial``
    write_path: str
    #: the run goes on after lines already in ``write_path`` (resume, append): open for appending
    keep: bool
    #: ``write_path`` must not exist when it is opened (a new output: another run started at the
    #: same moment loses the race with :class:`OutputExists`)
    exclusive: bool = False

    @property
    def renamed(self) -> bool:
        """Is ``write_path`` renamed to ``path`` at the end?"""
        return self.write_path != self.path

    def open(self) -> IO[bytes]:
        """Open :attr:`write_path`: for appending after its last whole line, or new and empty."""
        if self.keep and os.path.exists(self.write_path):
            truncate_partial_line(self.write_path)
            return open(self.write_path, "ab")
        if self.exclusive:
            try:
                return open(self.write_path, "xb")
            except FileExistsError:
                raise OutputExists(f"{self.write_path} exists: another run writes {self.path}") from None
        return open(self.write_path, "wb")

    def commit(self, stream: IO[bytes]) -> None:
        """The run ended: the lines are on disk and, for a new or replaced file, in place."""
        stream.flush()
        os.fsync(stream.fileno())
        stream.close()
        if self.renamed:
            os.replace(self.write_path, self.path)

    def discard(self, stream: IO[bytes]) -> None:
        """The run read nothing: a new or replaced output is not created (an earlier one stays),
        and the ``.partial`` of an earlier run that did not end, which ``--resume`` went on
        from, stays as it was for the next ``--resume``."""
        stream.close()
        if self.renamed and not self.keep:
            os.unlink(self.write_path)


def plan(path: str, mode: Mode, what: str = "output") -> OutputFile:
    """The :class:`OutputFile` for ``path`` in ``mode``; :class:`OutputExists` when ``mode`` is
    ``new`` and ``path`` (or a ``.partial`` of a run that did not end) exists, or when ``mode`` is
    ``append`` and such a ``.partial`` exists. ``what`` names the file in the message."""
    partial = partial_path(path)
    if os.path.isdir(path):
        raise OutputExists(f"{path} is a folder: the {what} is a file")
    if mode is Mode.NEW:
        if os.path.exists(path):
            raise OutputExists(f"{path} exists: --resume goes on from it, --append adds to it, --force replaces it")
        if os.path.exists(partial):
            raise OutputExists(f"{partial} exists (the {what} of a run that did not end): --resume goes on from it, "
                               f"--force starts again")
        return OutputFile(path, partial, keep=False, exclusive=True)
    if mode is Mode.FORCE:
        return OutputFile(path, partial, keep=False)
    if mode is Mode.APPEND:
        if os.path.exists(partial):
            raise OutputExists(f"{partial} exists (the {what} of a run that did not end): --resume goes on from it, "
                               f"--force starts again")
        return OutputFile(path, path, keep=True)
    # resume: the newest lines are in the .partial of a killed run when there is one
    if os.path.exists(partial):
        return OutputFile(path, partial, keep=True)
    if os.path.exists(path):
        return OutputFile(path, path, keep=True)
    return OutputFile(path, partial, keep=False)


_MASK = (1 << 64) - 1
#: WrittenSources: the hashes are indexed by their top bits
_BUCKET_BITS = 16


class WrittenSources:
    """The sources a ``--resume`` run finds written, to pass over: each kept as a 128-bit hash,
    in two sorted arrays of 64-bit halves (16 bytes a source whatever its length: 8 MB for half a
    million), looked up by binary search within the bucket of their top 16 bits. Two sources
    share a hash with odds 2⁻¹²⁸ a pair. The halves are Python's own string hash (SipHash, keyed
    at random for each process) of the source and of the source with a NUL after it: fast, and
    cached on the string; never written, so they need agree only within the run. :meth:`add`
    every source, then :meth:`freeze` once, before the first lookup."""

    def __init__(self) -> None:
        self._high = array("Q")
        self._low = array("Q")
        #: after freeze: where the hashes of each top-bits bucket start (one more at the end)
        self._starts = array("Q")
        self._frozen = False

    @staticmethod
    def _key(source: str) -> tuple[int, int]:
        return hash(source) & _MASK, hash(source + "\0") & _MASK

    def add(self, source: str) -> None:
        if self._frozen:
            raise RuntimeError("add after freeze")
        high, low = self._key(source)
        self._high.append(high)
        self._low.append(low)

    def freeze(self) -> WrittenSources:
        """Sort the hashes (numpy, in place of two arrays: no Python object a source) and index
        them by their top 16 bits (a 512 KiB table), so a lookup searches a few entries."""
        if self._frozen:
            return self
        import numpy as np

        high = np.frombuffer(self._high, dtype=np.uint64)
        low = np.frombuffer(self._low, dtype=np.uint64)
        order = np.lexsort((low, high))
        sorted_high, sorted_low = high[order], low[order]
        del high, low, order
        self._high, self._low = array("Q"), array("Q")  # the unsorted ones go
        self._high.frombytes(sorted_high.data.cast("B"))
        self._low.frombytes(sorted_low.data.cast("B"))
        del sorted_low
        bounds = np.arange(1 << _BUCKET_BITS, dtype=np.uint64) << np.uint64(64 - _BUCKET_BITS)
        starts = np.append(np.searchsorted(sorted_high, bounds), len(sorted_high)).astype(np.uint64)
        self._starts = array("Q")
        self._starts.frombytes(starts.data.cast("B"))
        self._frozen = True
        return self

    def __len__(self) -> int:
        return len(self._high)

    def __contains__(self, source: object) -> bool:
        if not isinstance(source, str):
            return False
        if not self._frozen:
            raise RuntimeError("lookup before freeze")
        high = hash(source) & _MASK
        bucket = high >> (64 - _BUCKET_BITS)
        at, end = self._starts[bucket], self._starts[bucket + 1]
        if at == end:
            return False
        highs = self._high
        at = bisect.bisect_left(highs, high, at, end)
        if at == end or highs[at] != high:
            return False
        low = hash(source + "\0") & _MASK
        while at < end and highs[at] == high:
            if self._low[at] == low:
                return True
            at += 1
        return False


def write_report(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` whole: written to ``path.partial``, then renamed."""
    partial = partial_path(path)
    try:
        with open(partial, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):  # no half report left behind (a full disk)
            os.unlink(partial)
        raise


__all__ = ["PARTIAL_SUFFIX", "Mode", "OutputExists", "OutputFile", "WrittenSources", "partial_path", "plan",
           "write_report"]
