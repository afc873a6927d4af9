# Over 300 lines: every input kind (files, folders, globs, stdin lists, WARC, JSONL, text) is one enumerator.
"""What ``newsclean clean`` reads: input arguments enumerated lazily into tasks, and tasks loaded.

An input argument is a file, a folder (walked recursively, in sorted order), a glob pattern, or
``-`` (one path per line on stdin). Files are told apart by name:

=====================================  =========================================================
``.html`` ``.htm`` ``.xhtml``          a saved page (explicit files with another name too)
``.html.gz`` ``.htm.gz``               the same, gzip-compressed (decompressed up to a limit)
``.warc`` ``.warc.gz`` ``.arc[.gz]``   a web archive: each ``response`` record with an HTML payload
``.txt``                               text extracted earlier, re-cleaned by the line rules
``.jsonl`` ``.jsonl.gz``               one JSON object per line, its text field re-cleaned
=====================================  =========================================================

Every task carries its ``source``, known before any cleaning (so ``--resume`` can skip it):

* a file: its path as enumerated (``dir/sub/page.html``);
* a WARC record: ``warc:<path>#<offset>``, the byte offset of the record in the archive file
  (in the compressed file for ``.warc.gz``), as ``warcio index`` and CDX files give it;
* a JSONL line: ``jsonl:<path>#<line>``, the line number counted from 1.

Reading happens in two places: archives and JSONL files are read in the main process, record by
record (a WARC is one stream); saved pages and text files are read by the worker that cleans
them, so decompression runs on every core.
"""

from __future__ import annotations

import glob
import gzip
import logging
import os
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson
from warcio.archiveiterator import ArchiveIterator

from pipelines.core.cleaner import Cleaner, Drop, Page
from pipelines.core.record import Record
from pipelines.reasons import reasons

logger = logging.getLogger(__name__)

#: Why an input gives no page to clean: the ``input`` side of :mod:`pipelines.reasons`.
INPUT_REASONS: dict[str, str] = reasons("input")

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
GZ_HTML_SUFFIXES = tuple(s + ".gz" for s in HTML_SUFFIXES)
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")
SIDECAR_SUFFIX = ".meta.json"
_GLOB_CHARS = frozenset("*?[")
_GZIP_MAGIC = b"\x1f\x8b\x08"


def kind_of(path: str, explicit: bool) -> str | None:
    """``html``, ``text``, ``warc``, ``jsonl``, ``sidecar`` (a page's ``.meta.json``), or None (a
    file a folder walk passes over)."""
    name = path.lower()
    if name.endswith(SIDECAR_SUFFIX):
        return "sidecar"
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(TEXT_SUFFIXES):
        return "text"
    if name.endswith(HTML_SUFFIXES + GZ_HTML_SUFFIXES):
        return "html"
    return "html" if explicit else None


@dataclass(frozen=True, slots=True)
class Task:
    """One unit of work, small enough to send to a worker process.

    ``kind`` is ``html`` or ``text`` (a file the worker reads from ``path``), ``page`` (a page
    read from an archive), ``text_inline`` (text read from a JSONL line) or ``drop`` (an input
    that failed before cleaning: the worker passes ``drop`` on, so rejects keep their place in
    ``--ordered`` output).
    """

    kind: str
    source: str
    path: str = ""
    page: Page | None = None
    text: str = ""
    url: str = ""
    fetched_at: datetime | None = None
    drop: Drop | None = None
    #: ``text_inline``: the JSONL line's object (its fields are kept in the record)
    given: dict[str, Any] | None = None


def _reject(source: str, reason: str, detail: str = "") -> Task:
    return Task("drop", source, drop=Drop(reason, source, "", detail))


def in_shard(source: str, index: int, count: int) -> bool:
    """Is ``source`` in shard ``index`` (0-based) of ``count``? A stable hash of the source string,
    so every machine given the same inputs agrees without talking to the others."""
    return zlib.crc32(source.encode("utf-8", "surrogateescape")) % count == index


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` allowed), or None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


class Inputs:
    """Turns input arguments into a lazy stream of :class:`Task`, counting what it skips."""

    def __init__(self, args: Iterable[str], *, max_page_bytes: int, text_field: str = "text",
                 stdin: IO[str] | None = None, exclude: Iterable[str] = (),
                 shard: tuple[int, int] | None = None) -> None:
        self.args = args
        #: (I, N): keep only the pages whose source falls in shard I of N (see :func:`in_shard`)
        self.shard = shard
        #: files never read as inputs (the run's own output and rejects, were they in an input folder)
        self.exclude = {os.path.realpath(path) for path in exclude}
        self.max_page_bytes = max_page_bytes
        self.text_field = text_field
        self.stdin = stdin
        #: records and files passed over without being a page: ``warc_not_html``, ``warc_status`` …
        self.skipped: Counter[str] = Counter()

    def __iter__(self) -> Iterator[Task]:
        if self.shard is None:
            yield from self._all()
            return
        index, count = self.shard
        for task in self._all():
            if in_shard(task.source, index, count):
                yield task
            else:
                self.skipped["other_shard"] += 1

    def _all(self) -> Iterator[Task]:
        for arg in self.args:
            if arg == "-":
                if self.stdin is None:
                    continue
                for line in self.stdin:
                    path = line.strip()
                    if path:
                        yield from self._argument(path)
            else:
                yield from self._argument(arg)

    def _argument(self, arg: str) -> Iterator[Task]:
        if os.path.isdir(arg):
            yield from self._folder(arg)
        elif os.path.exists(arg):
            yield from self._file(arg, explicit=True)
        elif _GLOB_CHARS & set(arg):
            matches = sorted(glob.iglob(arg, recursive=True))
            if not matches:
                yield _reject(arg, "not_found", "the pattern matched nothing")
            for path in matches:
                if os.path.isdir(path):
                    yield from self._folder(path)
                else:
                    yield from self._file(path, explicit=False)
        else:
            yield _reject(arg, "not_found")

    def _folder(self, root: str, ancestors: frozenset[tuple[int, int]] = frozenset()) -> Iterator[Task]:
        """Walk ``root`` depth first, each directory listed (and sorted) when it is reached;
        symbolic links are followed, except back into a directory being walked (a loop)."""
        try:
            info = os.stat(root)
            with os.scandir(root) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            yield _reject(root, "read_error", str(exc))
            return
        ancestors = ancestors | {(info.st_dev, info.st_ino)}
        for entry in entries:
            path = os.path.join(root, entry.name)
            try:
                is_dir = entry.is_dir()
                if is_dir:
                    target = entry.stat()
                    if (target.st_dev, target.st_ino) in ancestors:
                        self.skipped["link_loop"] += 1
                        continue
            except OSError as exc:  # a dangling link, a permission error
                yield _reject(path, "read_error", str(exc))
                continue
            if is_dir:
                yield from self._folder(path, ancestors)
            elif entry.is_file():
                yield from self._file(path, explicit=False)

    def _file(self, path: str, explicit: bool) -> Iterator[Task]:
        kind = kind_of(path, explicit)
        if kind == "sidecar":
            return
        if kind is None:
            self.skipped["not_an_input"] += 1
        elif self.exclude and kind == "jsonl" and os.path.realpath(path) in self.exclude:
            self.skipped["own_output"] += 1
        elif kind == "warc":
            yield from self._warc(path)
        elif kind == "jsonl":
            yield from self._jsonl(path)
        else:
            yield Task(kind, path, path=path)

    # -- JSONL -----------------------------------------------------------------------------------
    def _jsonl(self, path: str) -> Iterator[Task]:
        try:
            stream: IO[bytes] = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")  # type: ignore[assignment]  # noqa: SIM115 (closed by the with below)
        except OSError as exc:
            yield _reject(path, "read_error", str(exc))
            return
        with stream:
            number = 0
            try:
                for number, line in enumerate(stream, 1):
                    if not line.strip():
                        continue
                    yield self._jsonl_line(path, number, line)
            except (OSError, EOFError, zlib.error) as exc:
                yield _reject(f"jsonl:{path}#{number + 1}", "read_error", str(exc))

    def _jsonl_line(self, path: str, number: int, line: bytes) -> Task:
        source = f"jsonl:{path}#{number}"
        if len(line) > self.max_page_bytes:
            return Task("drop", source, drop=Drop("too_large", source, "", f"{len(line)} bytes"))
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            return _reject(source, "bad_json", str(exc))
        if not isinstance(value, dict) or not isinstance(value.get(self.text_field), str):
            return _reject(source, "bad_json", f"no string field {self.text_field!r}")
        url = value.get("url")
        given = {k: v for k, v in value.items() if k != self.text_field}
        return Task("text_inline", source, text=value[self.text_field], url=url if isinstance(url, str) else "",
                    fetched_at=parse_time(value.get("fetched_at")), given=given)

    # -- WARC ------------------------------------------------------------------------------------
    def _warc(self, path: str) -> Iterator[Task]:
        """Every response record with an HTML payload; a corrupt record is a reject, then the
        reader resynchronises on the next record (next gzip member, or next ``WARC/`` line)."""
        try:
            handle = open(path, "rb")  # noqa: SIM115 (closed below; the generator may stop early)
        except OSError as exc:
            yield _reject(path, "read_error", str(exc))
            return
        compressed = handle.read(3) == _GZIP_MAGIC
        start: int | None = 0
        try:
            while start is not None:
                handle.seek(start)
                archive = ArchiveIterator(handle, check_digests=True)
                offset = start
                try:
                    for record in archive:
                        task = self._warc_record(path, archive, record)
                        offset = archive.get_record_offset()
                        if task is not None:
                            yield task
                        offset = archive.offset
                    start = None
                except Exception as exc:  # any damage (warcio raises several kinds): one reject, then resync
                    offset = max(offset, archive.offset, start)
                    yield _reject(f"warc:{path}#{offset}", "corrupt_record", f"{type(exc).__name__}: {exc}")
                    start = _resync(handle, offset + 1, compressed)
        finally:
            handle.close()

    def _warc_record(self, path: str, archive: ArchiveIterator, record: Any) -> Task | None:
        if record.rec_type != "response":
            if record.rec_type == "revisit":  # a capture deduplicated by the crawler: no payload here
                self.skipped["warc_revisit"] += 1
            return None
        http = record.http_headers
        status = http.get_statuscode() if http is not None else None
        content_type = http.get_header("Content-Type") if http is not None else None
        if http is None or not str(status).startswith("2"):
            archive.read_to_end()
            self.skipped["warc_status"] += 1
            return None
        if content_type and "html" not in content_type.lower():
            archive.read_to_end()
            self.skipped["warc_not_html"] += 1
            return None
        body = record.content_stream().read(self.max_page_bytes + 1)
        too_large = len(body) > self.max_page_bytes
        truncated = False
        if not too_large:
            while record.raw_stream.read(65536):
                pass
            truncated = getattr(record.raw_stream, "limit", 0) > 0
        archive.read_to_end()
        source = f"warc:{path}#{archive.get_record_offset()}"
        url = record.rec_headers.get_header("WARC-Target-URI") or ""
        if truncated:
            return _reject(source, "corrupt_record", "the record is shorter than its Content-Length")
        checker = getattr(record, "digest_checker", None)
        if checker is not None and checker.passed is False:
            return _reject(source, "corrupt_record", "; ".join(checker.problems))
        if too_large:
            return Task("drop", source, drop=Drop("too_large", source, url, f"over {self.max_page_bytes} bytes"))
        fetched_at = parse_time(record.rec_headers.get_header("WARC-Date"))
        return Task("page", source, page=Page(body=body, url=url, source=source, content_type=content_type,
                                              fetched_at=fetched_at))

    def warc_record_at(self, path: str, offset: int) -> Task | None:
        """The task of the record at ``offset`` (a ``warc:<path>#<offset>`` source), or None when
        it is not an HTML response record."""
        with open(path, "rb") as handle:
            handle.seek(offset)
            archive = ArchiveIterator(handle, check_digests=True)
            for record in archive:
                return self._warc_record(path, archive, record)
        return None


def parse_warc_source(source: str) -> tuple[str, int] | None:
    """``warc:<path>#<offset>`` -> (path, offset); None for another kind of source."""
    if not source.startswith("warc:"):
        return None
    path, _, offset = source[len("warc:"):].rpartition("#")
    return (path, int(offset)) if path and offset.isdigit() else None


def _resync(handle: IO[bytes], position: int, compressed: bool) -> int | None:
    """The offset of the next record start at or after ``position``, or None at the end."""
    marker = _GZIP_MAGIC if compressed else b"WARC/1."
    block = 1 << 20
    handle.seek(position)
    carry = b""
    base = position
    while True:
        data = handle.read(block)
        if not data:
            return None
        buffer = carry + data
        at = 0
        while True:
            found = buffer.find(marker, at)
            if found < 0:
                break
            if compressed or (found == 0 and base == position) or (found > 0 and buffer[found - 1:found] == b"\n"):
                return base + found
            at = found + 1
        carry = buffer[-(len(marker) - 1):]
        base += len(buffer) - len(carry)


# -- loading in the worker ------------------------------------------------------------------------
def read_limited(path: str, limit: int) -> bytes:
    """The file's bytes (decompressed for ``.gz``), at most ``limit + 1`` of them."""
    if path.lower().endswith(".gz"):
        with gzip.open(path, "rb") as stream:
            return stream.read(limit + 1)
    with open(path, "rb") as stream:
        return stream.read(limit + 1)


def read_sidecar(path: str) -> dict[str, Any]:
    """``<file>.meta.json`` next to a saved page, or ``{}``."""
    sidecar = Path(path + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}
    try:
        value = orjson.loads(sidecar.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        logger.warning("unreadable sidecar %s", sidecar)
        return {}
    return value if isinstance(value, dict) else {}


def run_task(cleaner: Cleaner, task: Task) -> Record | Drop:
    """Read (if the task is a file) and clean one task. Never raises for a bad input."""
    if task.kind == "drop":
        assert task.drop is not None
        return task.drop
    if task.kind == "page":
        assert task.page is not None
        return cleaner.clean(task.page)
    if task.kind == "text_inline":
        return cleaner.clean_text(task.text, task.source, url=task.url, fetched_at=task.fetched_at, given=task.given)
    limit = cleaner.options.max_page_bytes
    try:
        body = read_limited(task.path, limit)
    except (OSError, EOFError, zlib.error) as exc:
        return Drop("read_error", task.source, "", f"{type(exc).__name__}: {exc}")
    if len(body) > limit:
        reason = "too_large_unpacked" if task.path.lower().endswith(".gz") else "too_large"
        return Drop(reason, task.source, "", f"over {limit} bytes")
    if task.kind == "text":
        return cleaner.clean_text(body.decode("utf-8-sig", errors="replace"), task.source)
    meta = read_sidecar(task.path)
    url = meta.get("url")
    content_type = meta.get("content_type")
    page = Page(body=body, url=url if isinstance(url, str) else "", source=task.source,
                content_type=content_type if isinstance(content_type, str) else None,
                fetched_at=parse_time(meta.get("fetched_at")))
    return cleaner.clean(page)
