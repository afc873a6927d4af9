"""warcio's reader with a linear, length-capped ``readline``, behind a version check.

warcio's ``BufferedReader.readline`` joins the pieces of a line that spans its buffer with
``linebuff += …`` in a loop: a header line of N bytes costs O(N²/block) copies (16 MB 6 s, 64 MB
84 s, 200 MB over 500 s in an uncompressed WARC). :class:`LinearReader` keeps the pieces in a list
and joins them once, with the same results (the same bytes line by line, including warcio's way of
counting a ``length`` across buffer refills), and stops a line at :data:`MAX_HEADER_LINE` bytes
with :class:`HeaderLineTooLong`, which the WARC reader turns into a ``corrupt_record`` reject
before going on with the next record. Headers (WARC, HTTP, ARC) are the only lines warcio reads
with ``readline``; payloads are read with ``read``.

The subclass uses the reader's internals (``_fillbuff``, ``empty``, ``buff``), checked against
the versions in :data:`WARCIO_VERSIONS`; on another version (or ``NEWSCLEAN_COMPAT=public``)
:func:`archive_iterator` gives warcio's own ``ArchiveIterator``: same records, quadratic on long
lines, no cap.
"""

from __future__ import annotations

from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.utils import BUFF_SIZE

from pipelines.compat import Internals, installed

#: The warcio versions whose ``BufferedReader`` internals were checked (pyproject's floor to the pinned one).
WARCIO_VERSIONS = ("1.7.", "1.8.")
#: The longest header line (WARC, HTTP or ARC) read, newline included.
MAX_HEADER_LINE = 1 << 20

INTERNALS = Internals("warcio", installed("warcio"), WARCIO_VERSIONS)

try:
    from warcio.bufferedreaders import DecompressingBufferedReader
except ImportError as exc:  # pragma: no cover - a newer or patched warcio
    INTERNALS.missing.append(str(exc))
    DecompressingBufferedReader = object  # never instantiated then
else:
    for _name in ("_fillbuff", "empty", "readline"):
        if not hasattr(DecompressingBufferedReader, _name):  # pragma: no cover - a newer warcio
            INTERNALS.missing.append(f"BufferedReader.{_name}")


class HeaderLineTooLong(ValueError):
    """A header line in an archive is longer than the cap."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"a header line longer than {cap} bytes")
        self.cap = cap


class LinearReader(DecompressingBufferedReader):
    """warcio's decompressing reader whose ``readline`` is linear and capped."""

    max_line: int = MAX_HEADER_LINE

    def readline(self, length: int | None = None) -> bytes:
        if length == 0:
            return b""
        self._fillbuff()
        if self.empty():
            return b""
        piece = self.buff.readline(length)
        pieces = [piece]
        total = len(piece)
        # warcio's loop subtracts the whole line read so far at each refill (``length -=
        # len(linebuff)``); the same here, so both readers return the same bytes
        while not piece.endswith(b"\n"):
            if total > self.max_line:
                raise HeaderLineTooLong(self.max_line)
            if length:
                length -= total
                if length <= 0:
                    break
            self._fillbuff()
            if self.empty():
                break
            piece = self.buff.readline(length)
            pieces.append(piece)
            total += len(piece)
        if total > self.max_line:
            raise HeaderLineTooLong(self.max_line)
        return b"".join(pieces)


class _LinearArchiveIterator(ArchiveIterator):
    def __init__(self, fileobj: IO[bytes], max_line: int, **kwargs: Any) -> None:
        super().__init__(fileobj, **kwargs)
        reader = LinearReader(self.fh, block_size=kwargs.get("block_size", BUFF_SIZE))
        reader.max_line = max_line
        self.reader = reader


def archive_iterator(handle: IO[bytes], *, check_digests: bool = True,
                     max_line: int = MAX_HEADER_LINE) -> ArchiveIterator:
    """An ``ArchiveIterator`` over ``handle``: with :class:`LinearReader` when the installed
    warcio is a checked one, warcio's own otherwise."""
    if INTERNALS.fast():
        return _LinearArchiveIterator(handle, max_line, check_digests=check_digests)
    return ArchiveIterator(handle, check_digests=check_digests)


__all__ = ["INTERNALS", "MAX_HEADER_LINE", "WARCIO_VERSIONS", "HeaderLineTooLong", "LinearReader", "archive_iterator"]
