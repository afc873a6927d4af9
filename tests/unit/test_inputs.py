"""What ``newsclean clean`` reads, on hostile files (issue 18): every input ends as records or
counted rejects, nothing stops the run and nothing is passed over in silence.

Real files throughout: names with bytes that are not UTF-8, FIFOs, sockets, devices, dangling
links, JSONL lines over the limit, zero-padded gzip, WARC records with over-long header lines or
cut inside a gzip member. The processes with memory or file-size limits are in
``tests/integration/test_offline_inputs.py``.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import shutil
import socket
import zlib
from pathlib import Path

import orjson
import pytest
from support.offline import FERRY, LIBRARY, read_jsonl, write_warc
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader

import pipelines.compat as compat
from pipelines.compat import warcio as cw
from pipelines.core.cleaner import CleanOptions
from pipelines.core.unpack import CorruptGzip, GunzipStream
from pipelines.io.inputs import Inputs, source_of
from pipelines.io.output import Mode
from pipelines.reasons import OFFLINE_REASONS
from pipelines.run.offline import CleanJob, RunOptions, Stats, run_clean

LATIN1_NAME = b"m-\xe9.html"


def clean(tmp_path: Path, inputs: list[Path | str], name: str = "out", jobs: int = 1,
          mode: Mode = Mode.NEW, **options: int) -> tuple[list[dict[str, object]], list[dict[str, object]], Stats]:
    out, rejects = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.rejects.jsonl"
    job = CleanJob(inputs=[os.fsdecode(x) for x in inputs], output=str(out), rejects=str(rejects), mode=mode,
                   run=RunOptions(jobs=jobs, ordered=True, progress=False), options=CleanOptions(**options))
    stats = run_clean(job)
    assert stats.pages_read == stats.records_written + sum(stats.dropped.values())
    records = read_jsonl(out) if out.exists() else []
    return records, read_jsonl(rejects), stats


def latin1_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(FERRY, folder / "a.html")
    shutil.copy(LIBRARY, os.fsdecode(os.fsencode(folder) + b"/" + LATIN1_NAME))
    return folder


# -- file names ------------------------------------------------------------------------------------
def test_a_file_name_that_is_not_utf8_is_read_and_named_with_escapes(tmp_path: Path) -> None:
    folder = latin1_folder(tmp_path)
    records, rejects, _ = clean(tmp_path, [folder])
    assert rejects == []
    assert [r["source"] for r in records] == [f"{folder}/a.html", f"{folder}/m-\\xe9.html"]
    library, _, _ = clean(tmp_path, [LIBRARY], name="library")  # the file was read: its record
    assert records[1]["content_hash"] == library[0]["content_hash"]
    # the same file named on the command line gives the same source
    explicit = os.fsdecode(os.fsencode(folder) + b"/" + LATIN1_NAME)
    again, _, _ = clean(tmp_path, [explicit], name="explicit")
    assert [r["source"] for r in again] == [records[1]["source"]]
    # --resume recognises it: nothing is cleaned twice
    _, _, resumed = clean(tmp_path, [folder], mode=Mode.RESUME)
    assert resumed.pages_read == 0 and resumed.skipped["resume"] == 2


def test_a_list_on_stdin_with_such_a_name(tmp_path: Path) -> None:
    """A UTF-8 locale's stdin refuses a Latin-1 line; the paths are read as bytes."""
    folder = latin1_folder(tmp_path)
    listing = tmp_path / "list.txt"
    listing.write_bytes(os.fsencode(folder) + b"/a.html\n" + os.fsencode(folder) + b"/" + LATIN1_NAME + b"\r\n")
    with open(listing, encoding="utf-8", errors="strict") as stdin:
        tasks = list(Inputs(["-"], max_page_bytes=10_000_000, stdin=stdin))
    assert [(t.source, Path(t.path).exists()) for t in tasks] == [
        (f"{folder}/a.html", True), (f"{folder}/m-\\xe9.html", True)]


def test_source_of_is_stable_and_valid_utf8() -> None:
    for raw in (b"plain.html", "caf\u00e9.html".encode(), b"\xff\xfe.html", b"a\\xe9.html", bytes(range(1, 256))):
        name = os.fsdecode(raw)
        source = source_of(name)
        assert source == source_of(name)
        source.encode("utf-8")  # strict: valid
        orjson.dumps({"source": source})
        if raw.decode("utf-8", "replace") == raw.decode("utf-8", "ignore"):  # valid UTF-8: unchanged
            assert source == raw.decode("utf-8")
    assert source_of(os.fsdecode(b"m-\xe9.html")) == "m-\\xe9.html"


def test_a_jsonl_file_and_warc_with_such_a_name(tmp_path: Path) -> None:
    warc = os.fsencode(tmp_path) + b"/w-\xe9.warc"
    write_warc(tmp_path / "plain.warc")  # (warcio writes the file's name in the warcinfo record)
    os.rename(tmp_path / "plain.warc", warc)
    jsonl = os.fsencode(tmp_path) + b"/t-\xff.jsonl"
    Path(os.fsdecode(jsonl)).write_bytes(orjson.dumps({"text": "The ferry returns to the island. " * 9}) + b"\n")
    records, rejects, _ = clean(tmp_path, [os.fsdecode(warc), os.fsdecode(jsonl)])
    assert rejects == []
    assert all(str(r["source"]).startswith(f"warc:{tmp_path}/w-\\xe9.warc#") for r in records[:3])
    assert [r["source"] for r in records[3:]] == [f"jsonl:{tmp_path}/t-\\xff.jsonl#1"]


# -- what is not a regular file ---------------------------------------------------------------------
@pytest.mark.parametrize("jobs", [1, 2])
def test_fifos_sockets_devices_and_dangling_links_are_counted_rejects(tmp_path: Path, jobs: int) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(FERRY, folder / "a.html")
    os.mkfifo(folder / "b.html")
    os.mkfifo(folder / "c.jsonl")
    os.mkfifo(folder / "d.warc.gz")
    (folder / "e.html").symlink_to(tmp_path / "gone.html")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "f.sock"))
    os.mkfifo(tmp_path / "named.html")
    try:
        records, rejects, stats = clean(tmp_path, [folder, tmp_path / "named.html", "/dev/null"], jobs=jobs)
    finally:
        server.close()
    assert [r["source"] for r in records] == [f"{folder}/a.html"]
    assert [(Path(str(r["source"])).name, r["reason"]) for r in rejects] == [
        ("b.html", "not_a_file"), ("c.jsonl", "not_a_file"), ("d.warc.gz", "not_a_file"), ("e.html", "not_a_file"),
        ("f.sock", "not_a_file"), ("named.html", "not_a_file"), ("null", "not_a_file")]
    details = [str(r["detail"]) for r in rejects]
    assert details[0].startswith("a FIFO") and "dangling symbolic link" in details[3]
    assert details[4].startswith("a socket") and details[6].startswith("a character device")
    assert stats.failed == 7


def test_a_file_replaced_by_a_fifo_after_listing_is_refused_when_opened(tmp_path: Path) -> None:
    from pipelines.io.inputs import NotAFile, open_regular, read_limited

    os.mkfifo(tmp_path / "late.html")
    with pytest.raises(NotAFile):
        open_regular(str(tmp_path / "late.html"))  # no writer: a blocking open would hang here
    with pytest.raises(NotAFile):
        read_limited(str(tmp_path / "late.html"), 100)


# -- JSONL -------------------------------------------------------------------------------------------
class CountingStream(io.RawIOBase):
    """A file read through ``readinto``, remembering the largest read asked for."""

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0
        self.largest = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), len(self.data) - self.pos)
        self.largest = max(self.largest, len(buffer))
        buffer[:size] = self.data[self.pos:self.pos + size]
        self.pos += size
        return size


@pytest.mark.parametrize("packed", [False, True])
def test_a_jsonl_line_over_the_limit_is_skipped_and_the_next_read(tmp_path: Path, packed: bool) -> None:
    good = orjson.dumps({"text": "The ferry returns. " * 20, "url": "https://example.org/a"}) + b"\n"
    long = b'{"text": "' + b"x" * 300_000 + b'"}\n'
    data = good + long + b"\n" + long[:-1] + b" \n" + good.replace(b"/a", b"/b")
    path = tmp_path / ("lines.jsonl.gz" if packed else "lines.jsonl")
    path.write_bytes(gzip.compress(data) if packed else data)
    records, rejects, _ = clean(tmp_path, [path], max_page_bytes=10_000, min_words=3)
    assert [r["source"] for r in records] == [f"jsonl:{path}#1"]  # the last is a duplicate of the first
    assert [(r["source"], r["reason"]) for r in rejects] == [
        (f"jsonl:{path}#2", "too_large"), (f"jsonl:{path}#4", "too_large"), (f"jsonl:{path}#5", "duplicate_hash")]
    assert rejects[0]["detail"] == f"a line of {len(long)} bytes"


def test_a_long_line_is_never_read_whole() -> None:
    """The reader asks for at most the limit (plus its buffer) at a time, however long the line."""
    line = b'{"text": "' + b"y" * 5_000_000 + b'"}\n'
    raw = CountingStream(line + b'{"text": "short"}\n')
    stream = io.BufferedReader(raw)
    reader = Inputs([], max_page_bytes=20_000)
    tasks = list(reader.jsonl_lines("mem.jsonl", stream))
    assert [t.kind for t in tasks] == ["drop", "text_inline"]
    assert raw.largest <= 2 * (1 << 20)


def test_gunzip_stream_members_padding_and_damage() -> None:
    one, two = gzip.compress(b"first line\n"), gzip.compress(b"second line\n")
    for data, expected in (
        (one, b"first line\n"),
        (one + two, b"first line\nsecond line\n"),
        (one + bytes(3_000_000) + two + bytes(70_000), b"first line\nsecond line\n"),
    ):
        assert io.BufferedReader(GunzipStream(io.BytesIO(data), chunk=4096)).read() == expected
    for bad in (one[:-3], one + b"junk", b"not gzip at all"):
        with pytest.raises(CorruptGzip):
            io.BufferedReader(GunzipStream(io.BytesIO(bad))).read()


# -- .html.gz ----------------------------------------------------------------------------------------
def test_html_gz_with_zero_padding(tmp_path: Path) -> None:
    plain = tmp_path / "plain.html.gz"
    plain.write_bytes(gzip.compress(FERRY.read_bytes()))
    padded = tmp_path / "padded.html.gz"
    padded.write_bytes(plain.read_bytes() + bytes(1_000_000))  # under the limit: unpacked in one strip
    huge = tmp_path / "huge.html.gz"
    with open(huge, "wb") as stream:  # 64 MiB of padding (sparse): refused by its compressed size
        stream.write(plain.read_bytes())
        stream.truncate(64 << 20)
    records, rejects, _ = clean(tmp_path, [plain, huge], max_page_bytes=5_000_000)
    assert [(r["source"], r["reason"]) for r in rejects] == [(str(huge), "too_large")]
    again, _, _ = clean(tmp_path, [padded], name="padded", max_page_bytes=5_000_000)
    assert len(records) == len(again) == 1 and records[0]["text"] == again[0]["text"]
    assert rejects[0]["detail"] == "the compressed file is over 5000000 bytes"


def test_html_gz_damage_is_a_read_error(tmp_path: Path) -> None:
    packed = gzip.compress(FERRY.read_bytes())
    (tmp_path / "cut.html.gz").write_bytes(packed[: len(packed) // 2])
    (tmp_path / "plain.html.gz").write_bytes(FERRY.read_bytes())
    _, rejects, _ = clean(tmp_path, [tmp_path / "cut.html.gz", tmp_path / "plain.html.gz"])
    assert [r["reason"] for r in rejects] == ["read_error", "read_error"]
    assert all(str(r["detail"]).startswith("corrupt gzip") for r in rejects)


# -- WARC ------------------------------------------------------------------------------------------
def long_line_warc(path: Path, line: int, gz: bool = False) -> None:
    """A metadata record with one header line of ``line`` bytes, then the three pages."""
    write_warc(path.with_suffix(".tmp"), gz=gz)
    record = b"WARC/1.0\r\nWARC-Type: metadata\r\nX-Junk: " + b"a" * line + b"\r\nContent-Length: 0\r\n\r\n\r\n\r\n"
    path.write_bytes((gzip.compress(record) if gz else record) + path.with_suffix(".tmp").read_bytes())


@pytest.mark.parametrize("gz", [False, True])
def test_an_over_long_warc_header_line_is_a_reject_and_the_archive_goes_on(tmp_path: Path, gz: bool) -> None:
    warc = tmp_path / ("long.warc.gz" if gz else "long.warc")
    long_line_warc(warc, 3 * cw.MAX_HEADER_LINE, gz)
    records, rejects, _ = clean(tmp_path, [warc])
    assert len(records) == 3
    assert [(r["source"], r["reason"]) for r in rejects] == [(f"warc:{warc}#0", "corrupt_record")]
    assert "header line longer than" in str(rejects[0]["detail"])


def test_the_public_path_reads_long_lines_as_warcio_does(tmp_path: Path) -> None:
    warc = tmp_path / "long.warc"
    long_line_warc(warc, 2 * cw.MAX_HEADER_LINE)
    compat.use_public(True)
    try:
        assert type(cw.archive_iterator(io.BytesIO(b""))) is ArchiveIterator
        records, rejects, _ = clean(tmp_path, [warc])
    finally:
        compat.use_public(None)
    assert len(records) == 3 and rejects == []  # no cap: the metadata record is read, and passed over


def _lines(reader: DecompressingBufferedReader, lengths: list[int | None]) -> list[bytes]:
    out = []
    for length in lengths:
        out.append(reader.readline(length))
        if not out[-1] and length != 0:
            break
    return out


@pytest.mark.parametrize("seed", range(40))
def test_linear_readline_gives_warcios_lines(seed: int) -> None:
    """Same bytes line by line as warcio's reader, over lines shorter and longer than its buffer,
    with and without a length (warcio's way of counting it across refills included)."""
    rng = random.Random(seed)
    parts = []
    for _ in range(rng.randint(1, 30)):
        parts.append(bytes(rng.choice(b"ab\r ") for _ in range(rng.choice([0, 1, 5, 17, 40, 100, 333]))))
        parts.append(rng.choice([b"\n", b"\r\n", b"\n\n"]))
    data = b"".join(parts)
    packed = rng.random() < 0.5
    raw = gzip.compress(data) if packed else data
    block = rng.choice([4, 7, 16, 64, 1024])
    lengths = [rng.choice([None, None, 0, 1, 3, 10, 50, 200]) for _ in range(200)]
    theirs = DecompressingBufferedReader(io.BytesIO(raw), block_size=block)
    ours = cw.LinearReader(io.BytesIO(raw), block_size=block)
    assert _lines(ours, lengths) == _lines(theirs, lengths)


def test_linear_readline_caps_a_line() -> None:
    reader = cw.LinearReader(io.BytesIO(b"x" * 5000 + b"\nnext\n"), block_size=64)
    reader.max_line = 1000
    with pytest.raises(cw.HeaderLineTooLong):
        reader.readline()
    assert cw.INTERNALS.fast()  # the pinned warcio is a checked one


@pytest.mark.parametrize("gz", [True, False])
def test_a_warc_cut_anywhere_in_its_last_record_loses_no_record(tmp_path: Path, gz: bool) -> None:
    """Cut at every 3rd byte of the last page's records (its headers, its gzip member, its
    payload): the two whole pages are read and the cut one is a ``corrupt_record`` reject."""
    whole = tmp_path / ("a.warc.gz" if gz else "a.warc")
    offsets = write_warc(whole, gz=gz, extra=False)
    data = whole.read_bytes()
    cut = tmp_path / whole.name.replace("a.", "cut.")
    # (a gzip member missing only its last bytes, the end of the deflate stream and the 8-byte
    # trailer, still gives every byte of its record, digests checked: read)
    for end in range(offsets[-1] + 1, len(data) - (16 if gz else 4), 3):
        cut.write_bytes(data[:end])
        tasks = list(Inputs([str(cut)], max_page_bytes=10_000_000))
        assert [t.kind for t in tasks[:2]] == ["page", "page"], end
        assert len(tasks) == 3, end
        assert tasks[2].kind == "drop" and tasks[2].drop is not None, end
        assert tasks[2].drop.reason == "corrupt_record", end


def test_a_cut_member_in_the_middle_is_a_reject(tmp_path: Path) -> None:
    whole = tmp_path / "a.warc.gz"
    offsets = write_warc(whole, gz=True, extra=False)
    data = whole.read_bytes()
    warc = tmp_path / "mid.warc.gz"
    warc.write_bytes(data[: offsets[1] + 150] + data[offsets[2]:])
    records, rejects, _ = clean(tmp_path, [warc])
    assert len(records) == 2
    assert [(r["source"], r["reason"]) for r in rejects] == [(f"warc:{warc}#{offsets[1]}", "corrupt_record")]
    detail = str(rejects[0]["detail"])
    assert len(detail) <= 201 and detail.isprintable()


def test_every_reason_met_here_is_registered(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p.html")
    path = tmp_path / "z.jsonl"
    path.write_bytes(zlib.compress(b"not gzip"))
    _, rejects, _ = clean(tmp_path, [tmp_path])
    assert rejects and all(r["reason"] in OFFLINE_REASONS for r in rejects)
