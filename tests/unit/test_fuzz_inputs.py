"""Property-based tests of what ``newsclean clean`` reads, and of the command (hypothesis).

* File names: any bytes a file system allows; the file is read, its ``source`` is valid UTF-8,
  the same on every listing, and serialises.
* WARC bytes: archives cut, with bytes flipped, with over-long header lines, gzip or not; reading
  never raises, every reject has a registered reason, and every record before a cut is read.
* JSONL lines: random lines around the size limit, plain or gzip; one task per line that is not
  blank, the right line numbers, ``too_large`` exactly for the lines over the limit.
* The command: ``newsclean clean`` on such inputs with random options ends with a documented exit
  code and at most one line on stderr, never an exception, and writes whole JSON lines only.

Examples per test: ``NEWSCLEAN_FUZZ_EXAMPLES`` (as ``test_fuzz.py``; the readers' default is
lower, 40, as every example writes files), derandomized unless ``NEWSCLEAN_FUZZ_RANDOM=1``.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.offline import FERRY, write_warc

from pipelines import exit_codes
from pipelines.cli.main import main
from pipelines.core.cleaner import Cleaner, CleanOptions, Drop
from pipelines.core.record import dumps
from pipelines.io.inputs import Inputs, run_task
from pipelines.reasons import OFFLINE_REASONS, reasons

EXAMPLES = int(os.environ.get("NEWSCLEAN_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("NEWSCLEAN_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
INPUT_REASONS = reasons("input")
CLEANER = Cleaner(CleanOptions(time_limit=20))
EXIT_CODES = {exit_codes.OK, exit_codes.OUTPUT, exit_codes.USAGE, exit_codes.INPUT, exit_codes.NOTHING,
              exit_codes.FAILURES}


def _base_warcs() -> dict[bool, tuple[bytes, list[int]]]:
    out = {}
    with tempfile.TemporaryDirectory() as folder:
        for gz in (False, True):
            path = Path(folder) / f"a.warc{'.gz' if gz else ''}"
            offsets = write_warc(path, gz=gz)
            out[gz] = (path.read_bytes(), offsets)
    return out


WARCS = _base_warcs()


# -- file names ------------------------------------------------------------------------------------
names = st.binary(min_size=1, max_size=60).filter(
    lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b".."))


@FUZZ
@given(stem=names, suffix=st.sampled_from([b".html", b".htm", b".txt", b".jsonl", b".warc", b"", b".html.gz"]))
def test_any_file_name(stem: bytes, suffix: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        name = (stem + suffix)[-250:]
        path = os.fsencode(folder) + b"/" + name
        body = FERRY.read_bytes()
        with open(path, "wb") as stream:
            stream.write(gzip.compress(body) if name.endswith(b".gz") else body)
        listed = list(Inputs([folder], max_page_bytes=10_000_000))
        named = list(Inputs([os.fsdecode(path)], max_page_bytes=10_000_000))
        assert [t.source for t in listed] == [t.source for t in list(Inputs([folder], max_page_bytes=10_000_000))]
        for task in listed + named:
            task.source.encode("utf-8")  # strict: valid UTF-8
            result = run_task(CLEANER, task)
            if isinstance(result, Drop):
                assert result.reason in OFFLINE_REASONS and result.reason != "error", result
                orjson.dumps({"source": result.source, "detail": result.detail})
            else:
                assert result["source"] == task.source
                orjson.loads(dumps(result))
        if listed and named and not name.endswith((b".warc", b".jsonl")):
            # a folder's file and the same file named: one source (the folder's path is the prefix)
            assert listed[0].source == named[0].source


# -- WARC bytes --------------------------------------------------------------------------------------
@FUZZ
@given(gz=st.booleans(), data=st.data(),
       flips=st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=4),
       long_line=st.sampled_from([0, 0, 100, 30_000, 1_100_000]), cut=st.one_of(st.none(), st.integers(0, 1 << 16)))
def test_damaged_archives_are_read_without_raising(gz: bool, data: st.DataObject, flips: list[tuple[int, int]],
                                                  long_line: int, cut: int | None) -> None:
    raw, offsets = WARCS[gz]
    body = bytearray(raw)
    for at, value in flips:
        body[at % len(body)] = value
    if long_line:
        at = data.draw(st.sampled_from(offsets))
        record = (b"WARC/1.0\r\nWARC-Type: metadata\r\nX-Long: " + b"l" * long_line
                  + b"\r\nContent-Length: 0\r\n\r\n\r\n\r\n")
        body[at:at] = gzip.compress(record) if gz else record
    if cut is not None:
        del body[cut % (len(body) + 1):]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"x.warc{'.gz' if gz else ''}"
        path.write_bytes(bytes(body))
        reader = Inputs([str(path)], max_page_bytes=10_000_000)
        tasks = list(reader)
    for task in tasks:
        assert task.kind in ("page", "drop")
        assert task.source.startswith(f"warc:{path}#")
        assert 0 <= int(task.source.rpartition("#")[2]) <= len(body)
        if task.drop is not None:
            assert task.drop.reason in INPUT_REASONS or task.drop.reason == "too_large", task.drop
            assert task.drop.detail.isprintable() and len(task.drop.detail) <= 201
    if not flips and not long_line:  # only cut: every page whose next page starts before the cut is read
        end = len(body)
        pages = {int(t.source.rpartition("#")[2]) for t in tasks if t.kind == "page"}
        for number, offset in enumerate(offsets[:-1]):
            if offsets[number + 1] <= end:
                assert offset in pages, (offset, end)


# -- JSONL lines -------------------------------------------------------------------------------------
lines = st.lists(st.one_of(
    st.binary(max_size=80),
    st.builds(lambda n: orjson.dumps({"text": "w " * n}), st.integers(0, 150)),
    st.sampled_from([b"", b"   ", b"\r", b"{}", b"[]", b'{"text": 1}']),
), max_size=12)


@FUZZ
@given(rows=lines, gz=st.booleans(), last_newline=st.booleans())
def test_jsonl_lines(rows: list[bytes], gz: bool, last_newline: bool) -> None:
    rows = [row.replace(b"\n", b" ") for row in rows]
    data = b"\n".join(rows) + (b"\n" if last_newline and rows else b"")
    limit = 200
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"x.jsonl{'.gz' if gz else ''}"
        path.write_bytes(gzip.compress(data) if gz else data)
        tasks = list(Inputs([str(path)], max_page_bytes=limit))
    expected = []
    for number, line in enumerate(data.splitlines(keepends=True), 1):
        if len(line) > limit:
            expected.append((number, "too_large"))
        elif line.strip():
            expected.append((number, None))
    got = [(int(t.source.rpartition("#")[2]), t.drop.reason if t.drop and t.drop.reason == "too_large" else None)
           for t in tasks]
    assert got == expected
    for task in tasks:
        assert task.kind in ("text_inline", "drop")
        assert task.drop is None or task.drop.reason in ("too_large", "bad_json")


# -- the command -------------------------------------------------------------------------------------
@FUZZ
@given(kinds=st.lists(st.sampled_from(["page", "latin1", "fifo", "missing", "warc-cut", "jsonl", "padded-gz"]),
                      min_size=1, max_size=4),
       jobs_args=st.lists(st.sampled_from([["--ordered"], ["--max-page-bytes", "3000"], ["--rejects", "REJ"],
                                           ["--force"], ["--resume"], ["--append"], ["--stats", "STATS"],
                                           ["--max-failure-share", "0.1"], ["--time-limit", "5"]]), max_size=3),
       twice=st.booleans())
def test_the_command_ends_with_a_documented_code(kinds: list[str], jobs_args: list[list[str]], twice: bool,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        inputs = []
        for number, kind in enumerate(kinds):
            path = base / f"{number}-{kind}"
            if kind == "page":
                path = path.with_suffix(".html")
                path.write_bytes(FERRY.read_bytes().replace(b"ferry", f"ferry {number}".encode()))
            elif kind == "latin1":
                path = Path(os.fsdecode(os.fsencode(path) + b"-\xe9.html"))
                path.write_bytes(FERRY.read_bytes())
            elif kind == "fifo":
                path = path.with_suffix(".html")
                os.mkfifo(path)
            elif kind == "warc-cut":
                path = path.with_suffix(".warc.gz")
                raw, offsets = WARCS[True]
                path.write_bytes(raw[: offsets[-1] + 100])
            elif kind == "jsonl":
                path = path.with_suffix(".jsonl")
                path.write_bytes(b'{"text": "' + b"z" * 5000 + b'"}\n{"text": "the ferry"}\nnot json\n')
            elif kind == "padded-gz":
                path = path.with_suffix(".html.gz")
                path.write_bytes(gzip.compress(FERRY.read_bytes()) + bytes(4000))
            inputs.append(os.fsdecode(path))
        args = [a.replace("REJ", str(base / "rej.jsonl")).replace("STATS", str(base / "stats.json"))
                for group in jobs_args for a in group]
        out = base / "out.jsonl"
        for _ in range(2 if twice else 1):
            capsys.readouterr()
            code = main(["clean", *inputs, "-o", str(out), "-j", "1", "-q", "--no-progress", *args])
            captured = capsys.readouterr()
            assert code in EXIT_CODES, code
            lines = [line for line in captured.err.splitlines() if line.strip()]
            assert len(lines) <= 1 and "Traceback" not in captured.err, captured.err
            assert (code == 0) == (not lines), (code, lines)
            for written in (out, Path(f"{out}.partial"), base / "rej.jsonl"):
                if written.exists():
                    data = written.read_bytes()
                    assert not data or data.endswith(b"\n")
                    for line in data.splitlines():
                        orjson.loads(line)
