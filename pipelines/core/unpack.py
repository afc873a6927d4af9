"""Bounded unpacking: a gzip body is read only up to a size limit, so a bomb costs a bounded effort.

A ``.html.gz`` saved page (or a gzip body that reached the cleaner still packed) can unpack to
gigabytes from a few kilobytes. :func:`gunzip_limited` inflates at most ``max_bytes + 1`` bytes,
whatever the ratio, then stops and raises :class:`UnpackedTooLarge`; callers turn that into
``Drop("too_large_unpacked")`` (see :data:`pipelines.core.cleaner.DROP_REASONS` and ``docs/limits.md``).
Peak memory is about ``max_bytes`` plus one input chunk.
"""

from __future__ import annotations

import zlib

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
