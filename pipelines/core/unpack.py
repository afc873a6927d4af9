"""Bounded unpacking: a gzip body is read only up to a size limit, so a bomb costs a bounded effort.

A ``.html.gz`` saved page (or a gzip body that reached the cleaner still packed) can unpack to
gigabytes from a few kilobytes. :func:`gunzip_limited` inflates at most ``max_bytes + 1`` bytes,
whatever the ratio, then stops and raises :class:`UnpackedTooLarge`; callers turn that into
``Drop("too_large_unpacked")`` (see :data:`pipelines.core.cleaner.DROP_REASONS` and ``docs/limits.md``).
Peak memory is about ``max_bytes`` plus one input chunk.
"""

from __future__ import annotations

import io
import zlib
from typing import IO, Any

#: The first two bytes of every gzip member.
GZIP_MAGIC = b"\x1f\x8b"
#: Compressed bytes handed to zlib at a time.
_CHUNK = 16 * 1024
# wbits: 16 + 15 = a gzip header and trailer around a deflate stream with a 32 KiB window.
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class UnpackedTooLarge(ValueError):
    """The data unpacks to more than the allowed number of bytes."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"unpacks to more than {max_bytes} bytes")
        self.max_bytes = max_bytes


class CorruptGzip(ValueError):
    """The data is not a whole gzip stream (bad header, bad checksum, truncated)."""


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def gunzip_limited(data: bytes, max_bytes: int) -> bytes:
    """Unpack gzip ``data`` (one or more members) to at most ``max_bytes`` bytes.

    Raises :class:`UnpackedTooLarge` as soon as the output would pass ``max_bytes``, and
    :class:`CorruptGzip` for data that is not a whole gzip stream. Never inflates more than
    ``max_bytes + 1`` bytes in all.
    """
    if max_bytes < 0:
        raise ValueError("max_bytes must be >= 0")
    out = bytearray()
    view = memoryview(data)
    pos = 0
    while True:  # one pass per gzip member
        inflater = zlib.decompressobj(_GZIP_WBITS)
        pending: bytes | memoryview = b""
        while not inflater.eof:
            if not pending:
                if pos >= len(view):
                    raise CorruptGzip("truncated gzip stream")
                pending = view[pos : pos + _CHUNK]
                pos += len(pending)
            try:
                out += inflater.decompress(pending, max_bytes + 1 - len(out))
            except zlib.error as exc:
                raise CorruptGzip(str(exc)) from exc
            if len(out) > max_bytes:
                raise UnpackedTooLarge(max_bytes)
            pending = inflater.unconsumed_tail
        # zlib read past the end of this member: the next member (or padding) starts there
        pos -= len(inflater.unused_data) + len(pending)
        if pos >= len(view):
            return bytes(out)
        if bytes(view[pos : pos + 2]) != GZIP_MAGIC:
            if not bytes(view[pos:]).strip(b"\x00"):
                return bytes(out)  # zero padding after the last member, as gzip(1) allows
            raise CorruptGzip("trailing bytes after the gzip stream")


class GunzipStream(io.RawIOBase):
    """A gzip file read as a stream, in bounded memory and linear time: one or more members,
    zero padding after a member skipped a block at a time (Python's ``gzip`` module reads it one
    byte per call: 368 s for 2 GiB). Raises :class:`CorruptGzip` for a bad or truncated stream.
    Wrap it in :class:`io.BufferedReader` for ``readline(limit)``.
    """

    def __init__(self, raw: IO[bytes], chunk: int = 64 * 1024) -> None:
        super().__init__()
        self._raw = raw
        self._chunk = chunk
        self._inflater = zlib.decompressobj(_GZIP_WBITS)
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()

    def _next_member(self) -> None:
        """The member ended: start the next one after any zero padding, or end the stream."""
        data = self._inflater.unused_data + self._pending
        while True:
            data = data.lstrip(b"\x00")
            if len(data) >= len(GZIP_MAGIC):
                break
            more = self._raw.read(self._chunk)
            if not more:
                if data:
                    raise CorruptGzip("trailing bytes after the gzip stream")
                self._done = True
                return
            data += more
        if data[: len(GZIP_MAGIC)] != GZIP_MAGIC:
            raise CorruptGzip("trailing bytes after the gzip stream")
        self._inflater = zlib.decompressobj(_GZIP_WBITS)
        self._pending = data

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0
        while not self._done:
            if self._inflater.eof:
                self._next_member()
                continue
            if not self._pending:
                self._pending = self._raw.read(self._chunk)
                if not self._pending:
                    raise CorruptGzip("truncated gzip stream")
            try:
                out = self._inflater.decompress(self._pending, len(view))
            except zlib.error as exc:
                raise CorruptGzip(str(exc)) from exc
            self._pending = self._inflater.unconsumed_tail
            if out:
                view[: len(out)] = out
                return len(out)
        return 0
