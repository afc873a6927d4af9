# Over 300 lines: every input kind (files, folders, globs, stdin lists, WARC, JSONL, text) is one enumerator.
"""What ``newsclean clean`` reads: input arguments enumerated lazily into tasks, and tasks loaded.

An input argument is a file, a folder (walked recursively), a glob pattern, or ``-`` (one path
per line on stdin, read as a stream, in its order). Folders and patterns are enumerated by
:mod:`pipelines.io.walk`: entries in the order of their names, directory by directory, in
memory that does not grow with the number of entries. Files are told apart by name:

=====================================  =========================================================
``.html`` ``.htm`` ``.xhtml``          a saved page (explicit files with another name too)
``.html.gz`` ``.htm.gz``               the same, gzip-compressed (decompressed up to a limit)
``.warc`` ``.warc.gz`` ``.arc[.gz]``   a web archive: each ``response`` record with an HTML payload
``.txt``                               text extracted earlier, re-cleaned by the line rules
``.jsonl`` ``.jsonl.gz``               one JSON object per line, its text field re-cleaned
=====================================  =========================================================

Every task carries its ``source``, known before any cleaning (so ``--resume`` can skip it):

* a file: its path as enumerated (``dir/sub/page.html``); bytes of a file name that are not UTF-8
  are written as backslash escapes (``m-\\xe9.html``, :func:`source_of`), the same in every run,
  while the file itself is read under its real name;
* a WARC record: ``warc:<path>#<offset>``, the byte offset of the record in the archive file
  (in the compressed file for ``.warc.gz``), as ``warcio index`` and CDX files give it;
* a JSONL line: ``jsonl:<path>#<line>``, the line number counted from 1.

Only regular files are opened: a FIFO, a device or a socket (named on the command line or met
in a folder) is refused by type before it is opened, and a dangling symbolic link in a folder is
counted too: both are ``not_a_file`` rejects. Every read is bounded: a JSONL line is size-checked
while it is read (``readline`` with a limit: an over-long line is skipped, never held), a
``.html.gz`` is read compressed up to the page limit and unpacked by the bounded
:func:`pipelines.core.unpack.gunzip_limited`, a WARC header line is capped (:mod:`pipelines.compat.warcio`).

Reading happens in two places: archives and JSONL files are read in the main process, record by
record (a WARC is one stream); saved pages and text files are read by the worker that cleans
them, so decompression runs on every core.
"""

from __future__ import annotations

import io
import logging
import os
import stat
import zlib
from collections import Counter
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from pipelines.core.page import Drop, Page
from pipelines.core.record import Record
from pipelines.core.time_limit import PageTimeout, time_limit
from pipelines.core.unpack import CorruptGzip, GunzipStream, UnpackedTooLarge, gunzip_limited
from pipelines.io.walk import SORT_CHUNK, Entry, LinkLoop, NoMatch, entries
from pipelines.reasons import reasons

if TYPE_CHECKING:
    from warcio.archiveiterator import ArchiveIterator

    from pipelines.core.cleaner import Cleaner

logger = logging.getLogger(__name__)

#: Why an input gives no page to clean: the ``input`` side of :mod:`pipelines.reasons`.
INPUT_REASONS: dict[str, str] = reasons("input")

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
GZ_HTML_SUFFIXES = tuple(s + ".gz" for s in HTML_SUFFIXES)
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson")
SIDECAR_SUFFIX = ".meta.json"
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
    return Task("drop", source, drop=Drop(reason, source, "", _brief(detail)))


def source_of(path: str) -> str:
    """``path`` (or any text holding one, such as an error message) as a ``source``: itself when
    it is valid UTF-8, else with each byte of a file name that is not UTF-8 as a backslash escape
    (``\\xe9``). Stable across runs, so ``--resume`` recognises it; orjson refuses the surrogates
    Python decodes such bytes to."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = path.encode("utf-8", "surrogateescape")  # a file name's bytes, as os.fsencode gives them
        except UnicodeEncodeError:
            return path.encode("utf-8", "backslashreplace").decode("ascii")
        return raw.decode("utf-8", "backslashreplace")
    return path


class NotAFile(OSError):
    """The path is not a regular file (a FIFO, a device, a socket, a folder)."""


_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def file_type(mode: int) -> str:
    """What a non-regular file is, in words."""
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def open_regular(path: str) -> io.BufferedReader:
    """Open ``path`` for reading if it is a regular file; :class:`NotAFile` otherwise. Opened
    without blocking, so a FIFO with no writer cannot hang the open, then checked by type."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotAFile(f"{file_type(mode)}, not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


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
                 shard: tuple[int, int] | None = None, done: Container[str] | None = None,
                 sort_chunk: int = SORT_CHUNK) -> None:
        self.args = args
        #: (I, N): keep only the pages whose source falls in shard I of N (see :func:`in_shard`)
        self.shard = shard
        #: sources already written (``--resume``): passed over, counted ``resume``; a JSONL line
        #: is then not even parsed
        self.done = done
        #: files never read as inputs (the run's own output and rejects, were they in an input folder)
        self.exclude = {os.path.realpath(path) for path in exclude}
        self.max_page_bytes = max_page_bytes
        self.text_field = text_field
        self.stdin = stdin
        #: names of a folder sorted in memory; a larger one in runs (:mod:`pipelines.io.walk`)
        self.sort_chunk = sort_chunk
        #: records and files passed over without being a page: ``warc_not_html``, ``warc_status`` …
        self.skipped: Counter[str] = Counter()

    def __iter__(self) -> Iterator[Task]:
        if self.shard is None and self.done is None:
            yield from self._all()
            return
        for task in self._all():
            if self.wanted(task.source):
                yield task

    def wanted(self, source: str) -> bool:
        """Is ``source`` in this run's shard and not written yet? What is not is counted
        (``other_shard``, ``resume``)."""
        if self.shard is not None and not in_shard(source, *self.shard):
            self.skipped["other_shard"] += 1
            return False
        if self.done is not None and source in self.done:
            self.skipped["resume"] += 1
            return False
        return True

    def _all(self) -> Iterator[Task]:
        for arg in self.args:
            if arg == "-":
                if self.stdin is None:
                    continue
                # the bytes of each path, as the file system has them: under a UTF-8 locale
                # sys.stdin would refuse a Latin-1 name
                listing: Iterable[str | bytes] = getattr(self.stdin, "buffer", self.stdin)
                for line in listing:
                    path = (os.fsdecode(line) if isinstance(line, bytes) else line).strip()
                    if path:
                        yield from self._argument(path)
            else:
                yield from self._argument(arg)

    def _argument(self, arg: str) -> Iterator[Task]:
        for entry in entries(arg, self.sort_chunk):
            yield from self._entry(entry)

    def _entry(self, entry: Entry) -> Iterator[Task]:
        path, explicit, status = entry
        if isinstance(status, OSError):
            if isinstance(status, LinkLoop):
                self.skipped["link_loop"] += 1
            elif isinstance(status, NoMatch):
                yield _reject(source_of(path), "not_found", str(status))
            elif isinstance(status, FileNotFoundError):
                if not explicit and os.path.islink(path):
                    yield _reject(source_of(path), "not_a_file",
                                  f"a dangling symbolic link (to {os.readlink(path)!r})")
                else:  # gone since it was listed
                    yield _reject(source_of(path), "not_found")
            else:  # a permission error
                yield _reject(source_of(path), "read_error", _oserror(status))
            return
        kind = kind_of(path, explicit)
        if not stat.S_ISREG(status.st_mode):
            yield _reject(source_of(path), "not_a_file", f"{file_type(status.st_mode)}: refused before opening")
            return
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
            yield Task(kind, source_of(path), path=path)

    # -- JSONL -----------------------------------------------------------------------------------
    def _jsonl(self, path: str) -> Iterator[Task]:
        """Line by line, each line read with a limit: a line over ``max_page_bytes`` is a
        ``too_large`` reject and the rest of it is read past in blocks, never held whole."""
        name = source_of(path)
        try:
            raw = open_regular(path)
        except NotAFile as exc:
            yield _reject(name, "not_a_file", str(exc))
            return
        except OSError as exc:
            yield _reject(name, "read_error", _oserror(exc))
            return
        stream: IO[bytes] = io.BufferedReader(GunzipStream(raw), 1 << 20) if path.lower().endswith(".gz") else raw
        with stream:
            yield from self.jsonl_lines(name, stream)

    def jsonl_lines(self, name: str, stream: IO[bytes]) -> Iterator[Task]:
        """The tasks of the JSONL lines of ``stream`` (``name``: the file's source)."""
        limit = self.max_page_bytes
        number = 0
        try:
            while True:
                line = stream.readline(limit + 1)
                if not line:
                    break
                number += 1
                if len(line) > limit:
                    size = len(line)
                    while not line.endswith(b"\n"):
                        line = stream.readline(1 << 20)
                        if not line:
                            break
                        size += len(line)
                    source = f"jsonl:{name}#{number}"
                    yield Task("drop", source, drop=Drop("too_large", source, "", f"a line of {size} bytes"))
                    continue
                if not line.strip():
                    continue
                if (self.done is not None or self.shard is not None) and not self.wanted(f"jsonl:{name}#{number}"):
                    continue  # written already (--resume) or another shard's: not parsed
                yield self._jsonl_line(name, number, line)
        except (OSError, EOFError, zlib.error, CorruptGzip) as exc:
            yield _reject(f"jsonl:{name}#{number + 1}", "read_error", _oserror(exc))

    def _jsonl_line(self, name: str, number: int, line: bytes) -> Task:
        source = f"jsonl:{name}#{number}"
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
        name = source_of(path)
        try:
            handle = open_regular(path)
        except NotAFile as exc:
            yield _reject(name, "not_a_file", str(exc))
            return
        except OSError as exc:
            yield _reject(name, "read_error", _oserror(exc))
            return
        compressed = handle.read(3) == _GZIP_MAGIC
        start: int | None = 0
        try:
            while start is not None:
                handle.seek(start)
                archive = _archive_iterator(handle)
                offset = start
                try:
                    for record in archive:
                        task = self._warc_record(path, archive, record)
                        offset = archive.get_record_offset()
                        if task is not None:
                            yield task
                        offset = archive.offset
                    start = None
                    if not _blank_after(handle, offset):
                        # warcio ends quietly when the archive stops inside a record's headers
                        # (a gzip member cut short): that record is a reject too
                        size = os.fstat(handle.fileno()).st_size
                        detail = f"the archive ends inside a record ({size - offset} bytes after the last whole one)"
                        yield _reject(f"warc:{name}#{offset}", "corrupt_record", detail)
                        start = _resync(handle, offset + 1, compressed)
                except Exception as exc:  # any damage (warcio raises several kinds): one reject, then resync
                    offset = max(offset, archive.offset, start)
                    yield _reject(f"warc:{name}#{offset}", "corrupt_record", f"{type(exc).__name__}: {exc}")
                    start = _resync(handle, offset + 1, compressed)
        finally:
            handle.close()

    def _warc_record(self, path: str, archive: ArchiveIterator, record: Any) -> Task | None:
        if record.rec_type is None or (str(record.format).startswith("warc")
                                       and record.rec_headers.get_header("Content-Length") is None):
            # the archive ends (or a gzip member is cut) inside the record's headers
            archive.read_to_end()
            return _reject(f"warc:{source_of(path)}#{archive.get_record_offset()}", "corrupt_record",
                           "the record's headers are cut short (no WARC-Type or Content-Length)")
        if record.rec_type != "response":
            # a capture deduplicated by the crawler has no payload here; request, metadata,
            # warcinfo records are not counted
            return self._pass_over(path, archive, record, "warc_revisit" if record.rec_type == "revisit" else "")
        http = record.http_headers
        status = http.get_statuscode() if http is not None else None
        content_type = http.get_header("Content-Type") if http is not None else None
        if http is None and "application/http" in (record.rec_headers.get_header("Content-Type") or "") \
                and record.rec_headers.get_header("Content-Length") not in (None, "0"):
            archive.read_to_end()  # an HTTP response whose HTTP headers are missing: cut short
            return _reject(f"warc:{source_of(path)}#{archive.get_record_offset()}", "corrupt_record",
                           "the record's HTTP headers are cut short")
        if http is None or not str(status).startswith("2"):
            return self._pass_over(path, archive, record, "warc_status")
        if content_type and "html" not in content_type.lower():
            return self._pass_over(path, archive, record, "warc_not_html")
        body = record.content_stream().read(self.max_page_bytes + 1)
        too_large = len(body) > self.max_page_bytes
        truncated = False
        if not too_large:
            while record.raw_stream.read(65536):
                pass
            truncated = getattr(record.raw_stream, "limit", 0) > 0
        archive.read_to_end()
        source = f"warc:{source_of(path)}#{archive.get_record_offset()}"
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

    def _pass_over(self, path: str, archive: ArchiveIterator, record: Any, counter: str) -> Task | None:
        """A record that is not a page: counted under ``counter`` (when given), or a
        ``corrupt_record`` reject when it is cut short (the archive ends inside it: its headers
        may be cut too, so what it is cannot be told)."""
        archive.read_to_end()
        if getattr(record.raw_stream, "limit", 0) > 0:
            return _reject(f"warc:{source_of(path)}#{archive.get_record_offset()}", "corrupt_record",
                           "the record is shorter than its Content-Length")
        if counter:
            self.skipped[counter] += 1
        return None

    def warc_record_at(self, path: str, offset: int) -> Task | None:
        """The task of the record at ``offset`` (a ``warc:<path>#<offset>`` source), or None when
        it is not an HTML response record."""
        with open_regular(path) as handle:
            handle.seek(offset)
            archive = _archive_iterator(handle)
            for record in archive:
                return self._warc_record(path, archive, record)
        return None


def parse_warc_source(source: str) -> tuple[str, int] | None:
    """``warc:<path>#<offset>`` -> (path, offset); None for another kind of source."""
    if not source.startswith("warc:"):
        return None
    path, _, offset = source[len("warc:"):].rpartition("#")
    return (path, int(offset)) if path and offset.isdigit() else None


def _blank_after(handle: IO[bytes], position: int) -> bool:
    """Is there nothing but line ends and NUL padding from ``position`` to the end of the file?"""
    handle.seek(position)
    while True:
        data = handle.read(1 << 20)
        if not data:
            return True
        if data.strip(b"\r\n\x00"):
            return False


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
class CompressedTooLarge(ValueError):
    """A ``.gz`` page file is larger than the page limit before it is even unpacked."""


def read_limited(path: str, limit: int) -> bytes:
    """The file's bytes, at most ``limit + 1`` of them. A ``.gz`` file is read compressed up to
    ``limit`` bytes (:class:`CompressedTooLarge` past it) and unpacked by
    :func:`~pipelines.core.unpack.gunzip_limited` (:class:`~pipelines.core.unpack.UnpackedTooLarge`,
    :class:`~pipelines.core.unpack.CorruptGzip`): bounded time and memory whatever the padding or
    the ratio. :class:`NotAFile` for a FIFO, a device or a socket."""
    with open_regular(path) as stream:
        data = stream.read(limit + 1)
    if not path.lower().endswith(".gz"):
        return data
    if len(data) > limit:
        raise CompressedTooLarge(f"the compressed file is over {limit} bytes")
    return gunzip_limited(data, limit)


def _brief(text: str, size: int = 200) -> str:
    """An error message as a reject's detail: at most ``size`` characters, control characters
    and the like escaped (warcio quotes the bytes it could not parse)."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in source_of(text[: size * 4]))
    return text if len(text) <= size else text[:size] + "…"


def _oserror(exc: BaseException) -> str:
    """An error as a reject's detail (a file name in it escaped as in :func:`source_of`)."""
    return source_of(str(exc))


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


def _archive_iterator(handle: IO[bytes]) -> Any:
    """warcio's record iterator (:mod:`pipelines.compat.warcio`), imported with the first WARC
    (warcio brings fsspec: 20 ms of a start that reads no WARC)."""
    from pipelines.compat.warcio import archive_iterator

    return archive_iterator(handle, check_digests=True)


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
        with time_limit(cleaner.options.time_limit):  # the same limit as cleaning: a slow disk ends too
            body = read_limited(task.path, limit)
    except PageTimeout:
        return Drop("timeout", task.source, "", f"reading took over {cleaner.options.time_limit:g} s")
    except NotAFile as exc:
        return Drop("not_a_file", task.source, "", str(exc))
    except CompressedTooLarge as exc:
        return Drop("too_large", task.source, "", str(exc))
    except UnpackedTooLarge:
        return Drop("too_large_unpacked", task.source, "", f"over {limit} bytes")
    except CorruptGzip as exc:
        return Drop("read_error", task.source, "", f"corrupt gzip: {exc}")
    except OSError as exc:
        return Drop("read_error", task.source, "", f"{type(exc).__name__}: {_oserror(exc)}")
    if len(body) > limit:
        return Drop("too_large", task.source, "", f"over {limit} bytes")
    if task.kind == "text":
        return cleaner.clean_text(body.decode("utf-8-sig", errors="replace"), task.source)
    meta = read_sidecar(task.path)
    url = meta.get("url")
    content_type = meta.get("content_type")
    page = Page(body=body, url=url if isinstance(url, str) else "", source=task.source,
                content_type=content_type if isinstance(content_type, str) else None,
                fetched_at=parse_time(meta.get("fetched_at")))
    return cleaner.clean(page)
