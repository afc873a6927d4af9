"""The one JSON-lines writer: records as :func:`pipelines.core.record.dumps` lines, whole.

``JsonlWriter`` writes to a binary file object it did not open (a Feed exports storage file, an
output file, stdout): each line is one ``write`` followed by a ``flush``, so an interrupted run
leaves at most one partial last line, which :func:`truncate_partial_line` removes before a
resumed run appends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import IO, Any

import orjson

from pipelines.core.record import Record, dumps


class JsonlWriter:
    """Writes records (or any mapping, e.g. a reject) as one JSON line each, flushed."""

    def __init__(self, stream: IO[bytes], flush: bool = True) -> None:
        self.stream = stream
        self.flush = flush
        self.count = 0

    def write(self, record: Record | Mapping[str, Any]) -> None:
        self.stream.write(dumps(dict(record)))
        if self.flush:
            self.stream.flush()
        self.count += 1


def truncate_partial_line(path: str | os.PathLike[str]) -> int:
    """Cut a last line that does not end with a newline; the number of bytes removed."""
    with open(path, "r+b") as stream:
        size = stream.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        stream.seek(size - 1)
        if stream.read(1) == b"\n":
            return 0
        block = 65536
        end = size
        while end > 0:
            start = max(0, end - block)
            stream.seek(start)
            data = stream.read(end - start)
            newline = data.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                stream.truncate(keep)
                return size - keep
            end = start
        stream.truncate(0)
        return size


def iter_lines(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The JSON objects of a JSONL file, one per complete line (unreadable lines are skipped)."""
    with open(path, "rb") as stream:
        for line in stream:
            if not line.endswith(b"\n"):
                break
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(value, dict):
                yield value
