"""The paths an input argument names, as a stream in a fixed order, in memory that does not grow
with the number of entries.

One walker serves the run (:class:`pipelines.io.inputs.Inputs`) and the progress bar's count
(:class:`pipelines.run.progress.InputCounter`), so both see the same entries; the count takes
them in the file system's order (``chunk=None``: no sorting, each folder read as it is walked).

**Order.** A folder is walked depth first; the entries of each directory are taken in the order
of their names as text (Unicode code points, which for UTF-8 names is the order of their bytes;
a byte of a name that is not UTF-8 counts as the code point U+DC80 + its value, as Python decodes
it), a sub-folder walked where its name falls. A glob pattern gives its matches in the same order
(the pattern's directories walked as a folder is), a matching folder walked whole at its place.
The order depends only on the names, never on the order the file system lists them in.

**Memory.** A directory's listing is read whole before its first entry is given (so its handle is
closed before the walk goes deeper), as names only: up to :data:`SORT_CHUNK` names are sorted in
memory; a larger directory is sorted in runs of that many names, each run written to an anonymous
temporary file (``tempfile.TemporaryFile``, in ``$TMPDIR``, gone when closed or when the process
ends) and the runs merged as they are read back (:func:`heapq.merge`). The walk holds at most one
run per directory on its path, plus a 64 KiB read buffer per spilled run. Should a temporary file
not be writable, the names are sorted in memory (a warning says so once).

**Links.** Symbolic links are followed (each entry is ``os.stat``-ed once, its target's type
deciding file or folder), except a link back into a directory being walked (a loop), given as a
:class:`LinkLoop` entry.
"""

from __future__ import annotations

import fnmatch
import heapq
import logging
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, NamedTuple

logger = logging.getLogger(__name__)

#: Names of one directory sorted in memory; a larger directory is sorted in runs of this many.
SORT_CHUNK = 50_000
_GLOB_CHARS = frozenset("*?[")
_BLOCK = 1 << 16


class LinkLoop(OSError):
    """A symbolic link back into a directory being walked: not followed."""


class NoMatch(FileNotFoundError):
    """A glob pattern that matched nothing."""


class Entry(NamedTuple):
    """One path an argument names, with what ``os.stat`` said of it (links followed)."""

    path: str
    #: named on the command line (or on the stdin list) rather than found in a folder or by a pattern
    explicit: bool
    #: the path's stat (never a directory: those are walked), or the error met: from ``os.stat``,
    #: from listing a folder, :class:`LinkLoop`, :class:`NoMatch`
    status: os.stat_result | OSError


# -- sorting a listing in bounded memory ----------------------------------------------------------
_warned = False


def sorted_names(names: Iterable[str], chunk: int = SORT_CHUNK) -> Iterator[str]:
    """``names`` (file names: no NUL in them) sorted, holding at most ``chunk`` of them in
    memory: each run of ``chunk`` is sorted and spilled to a temporary file, and the runs are
    merged. ``names`` is read to its end before this returns."""
    global _warned
    run: list[str] = []
    spilled: list[IO[bytes]] = []
    spill = True
    try:
        for name in names:
            run.append(name)
            if spill and len(run) >= chunk:
                run.sort()
                try:
                    spilled.append(_spill(run))
                except OSError as exc:  # no temporary space: sort in memory rather than fail
                    spill = False
                    if not _warned:
                        _warned = True
                        logger.warning("cannot write a temporary file (%s): a large folder is sorted in memory", exc)
                    continue
                run = []
    except BaseException:
        for stream in spilled:
            stream.close()
        raise
    run.sort()
    if not spilled:
        return iter(run)
    return _merged(spilled, run)


def _spill(run: list[str]) -> IO[bytes]:
    """The sorted ``run`` in a temporary file: each name's bytes (``os.fsencode``), NUL after each."""
    stream = tempfile.TemporaryFile(prefix="newsclean-names-")  # noqa: SIM115  # returned open, closed by _merged
    try:
        for start in range(0, len(run), 4096):
            stream.write("\0".join(run[start:start + 4096]).encode("utf-8", "surrogateescape") + b"\0")
        stream.seek(0)
    except BaseException:
        stream.close()
        raise
    return stream


def _read_run(stream: IO[bytes]) -> Iterator[str]:
    carry = b""
    while block := stream.read(_BLOCK):
        parts = (carry + block).split(b"\0")
        carry = parts.pop()
        for part in parts:
            yield part.decode("utf-8", "surrogateescape")


def _merged(spilled: list[IO[bytes]], last: list[str]) -> Iterator[str]:
    try:
        yield from heapq.merge(*(_read_run(stream) for stream in spilled), last)
    finally:
        for stream in spilled:
            stream.close()


def listing(folder: str, chunk: int | None = SORT_CHUNK) -> Iterator[str]:
    """The names in ``folder``, sorted (see :func:`sorted_names`), the folder read whole and
    closed before this returns; or, ``chunk`` None, in the file system's order as they are read
    (the folder open meanwhile: all a count needs). OSError when it cannot be listed."""
    entries = os.scandir(folder)
    if chunk is None:
        return _unordered(entries)
    with entries:
        return sorted_names((entry.name for entry in entries), chunk)


def _unordered(entries: Iterator[os.DirEntry[str]]) -> Iterator[str]:
    with entries:  # type: ignore[attr-defined]  # a ScandirIterator
        for entry in entries:
            yield entry.name


# -- folders ---------------------------------------------------------------------------------------
Ancestors = frozenset[tuple[int, int]]


def walk(root: str, chunk: int | None = SORT_CHUNK) -> Iterator[Entry]:
    """Every non-directory under ``root`` (its own error when it cannot be listed), in order.
    ``root`` ``""`` is the current folder, its entries named without a ``./``."""
    try:
        info = os.stat(root or ".")
        names = listing(root or ".", chunk)
    except OSError as exc:
        yield Entry(root, False, exc)
        return
    yield from _walk(root, names, frozenset({(info.st_dev, info.st_ino)}), chunk)


def _walk(root: str, names: Iterator[str], ancestors: Ancestors, chunk: int | None) -> Iterator[Entry]:
    for name in names:
        path = os.path.join(root, name)
        try:
            info = os.stat(path)
        except OSError as exc:  # a dangling link, a name gone since the listing, a permission
            yield Entry(path, False, exc)
            continue
        if not stat.S_ISDIR(info.st_mode):
            yield Entry(path, False, info)
            continue
        entered = _enter(path, info, ancestors, chunk)
        if isinstance(entered, Entry):
            yield entered
        else:
            yield from _walk(path, *entered, chunk)


def _enter(path: str, info: os.stat_result, ancestors: Ancestors,
           chunk: int | None) -> tuple[Iterator[str], Ancestors] | Entry:
    """The sorted names of the directory ``path`` and the ancestors below it, or the entry that
    says why it is not walked (a loop, an error)."""
    key = (info.st_dev, info.st_ino)
    if key in ancestors:
        return Entry(path, False, LinkLoop(f"{path}: a link back into the walk"))
    try:
        names = listing(path, chunk)
    except OSError as exc:
        return Entry(path, False, exc)
    return names, ancestors | {key}


# -- glob patterns ---------------------------------------------------------------------------------
class _Segment:
    """One ``/``-separated part of a pattern: ``**``, a literal name, or a wildcard pattern."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.recursive = text == "**"
        self.hidden = text.startswith(".")
        self.match = re.compile(fnmatch.translate(text)).fullmatch if _GLOB_CHARS & set(text) else None

    def matches(self, name: str) -> bool:
        if self.match is None:
            return name == self.text
        # as glob.glob: a wildcard does not match a leading dot unless the pattern starts with one
        return (self.hidden or not name.startswith(".")) and self.match(name) is not None


State = tuple[_Segment, ...]


def globbed(pattern: str, chunk: int | None = SORT_CHUNK) -> Iterator[Entry]:
    """The matches of ``pattern`` (``*``, ``?``, ``[…]``, ``**`` for any depth, as
    ``glob.glob(recursive=True)``; a trailing ``/`` for folders only), in walk order; a matching
    folder is walked whole, once. A :class:`NoMatch` entry when nothing matched."""
    parts = pattern.split("/")
    dirs_only = len(parts) > 1 and parts[-1] == ""
    if dirs_only:
        parts.pop()
    literal = 0
    while literal < len(parts) - 1 and not _GLOB_CHARS & set(parts[literal]):
        literal += 1
    base = "/".join(parts[:literal]) or ("/" if pattern.startswith("/") else "")
    segments: list[_Segment] = []
    for part in parts[literal:]:
        if not (part == "**" and segments and segments[-1].recursive):  # consecutive ** are one
            segments.append(_Segment(part))
    found = (walk(base, chunk) if all(s.recursive for s in segments)  # 'd/**': all of d
             else _glob(base, tuple(segments), dirs_only, chunk))
    matched = False
    for entry in found:
        matched = True
        yield entry
    if not matched:
        yield Entry(pattern, False, NoMatch("the pattern matched nothing"))


def _glob(folder: str, state: State, dirs_only: bool, chunk: int | None) -> Iterator[Entry]:
    try:
        info = os.stat(folder or ".")
        names = listing(folder or ".", chunk)
    except OSError:
        return  # as glob.glob: a folder that cannot be listed matches nothing
    yield from _glob_names(folder, names, _expand([state]), dirs_only, frozenset({(info.st_dev, info.st_ino)}), chunk)


def _expand(states: Iterable[State]) -> list[State]:
    """The sequences a folder's entries are matched against: ``**`` also stands for no folder."""
    out: list[State] = []
    for state in states:
        while state:
            if state not in out:
                out.append(state)
            if not state[0].recursive:
                break
            state = state[1:]
    return out


def _glob_names(folder: str, names: Iterator[str], states: list[State], dirs_only: bool,
                ancestors: Ancestors, chunk: int | None) -> Iterator[Entry]:
    """Each entry of ``folder`` against each remaining-segment sequence in ``states``: a whole
    match is given (a folder walked), a partial one goes on into a folder."""
    for name in names:
        whole = False  # the entry matches the whole pattern
        whole_folder = False  # ... if it is a folder ('d/*/**': a folder and all it holds)
        deeper: list[State] = []  # what a folder's entries are then matched against
        for state in states:
            first = state[0]
            if first.recursive:
                if name.startswith("."):  # as glob.glob: ** does not go into hidden folders
                    continue
                rest = state
            elif first.matches(name):
                rest = state[1:]
            else:
                continue
            if not rest:
                whole = True
            elif all(s.recursive for s in rest):
                whole_folder = True
            else:
                deeper.append(rest)
        if not (whole or whole_folder or deeper):
            continue
        path = os.path.join(folder, name)
        try:
            info = os.stat(path)
        except OSError as exc:
            if whole and not dirs_only:
                yield Entry(path, False, exc)
            continue
        if not stat.S_ISDIR(info.st_mode):
            if whole and not dirs_only:
                yield Entry(path, False, info)
            continue
        entered = _enter(path, info, ancestors, chunk)
        if isinstance(entered, Entry):
            # a folder the pattern only goes through that cannot be listed matches nothing (as
            # glob.glob); a loop is counted either way
            if whole or whole_folder or isinstance(entered.status, LinkLoop):
                yield entered
        elif whole or whole_folder:
            yield from _walk(path, *entered, chunk)
        else:
            yield from _glob_names(path, entered[0], _expand(deeper), dirs_only, entered[1], chunk)


# -- an input argument -----------------------------------------------------------------------------
def entries(arg: str, chunk: int | None = SORT_CHUNK) -> Iterator[Entry]:
    """What one input argument names: a folder's entries, the file itself, a glob pattern's
    matches, or an entry whose status is FileNotFoundError (:class:`NoMatch` for a pattern).
    ``chunk`` None gives the same entries in no set order, no folder sorted (a count)."""
    if os.path.isdir(arg):
        yield from walk(arg, chunk)
    elif os.path.exists(arg):
        try:
            yield Entry(arg, True, os.stat(arg))
        except OSError as exc:
            yield Entry(arg, True, exc)
    elif _GLOB_CHARS & set(arg):
        yield from globbed(arg, chunk)
    else:
        yield Entry(arg, True, FileNotFoundError(f"no such file or folder: {arg}"))


__all__ = ["SORT_CHUNK", "Entry", "LinkLoop", "NoMatch", "entries", "globbed", "listing", "sorted_names", "walk"]
