"""``newsclean clean`` as a user runs it, on hostile inputs and a full disk (issue 18): the command
ends with its documented exit code and at most one line on stderr, never a traceback, and loses
nothing it had written.

Memory bounds are shown with an address-space limit on the child (``RLIMIT_AS``): the run fails
with ``MemoryError`` if it holds a line whole. A full disk is a file-size limit (``RLIMIT_FSIZE``;
Python ignores ``SIGXFSZ``, so a write past it fails with ``EFBIG`` as one past a full disk fails
with ``ENOSPC``).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import orjson
from support.offline import FERRY, LIBRARY, many_pages, read_jsonl

from pipelines import exit_codes

#: a generous bound so a hang fails the test instead of the suite; no test measures time
BOUND = 300


def newsclean(*args: str | Path, limit: Callable[[], None] | None = None,
              cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipelines.cli", "clean", "-q", *(os.fsdecode(a) for a in args)]
    return subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=BOUND,
                          preexec_fn=limit, cwd=cwd)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 1, result.stderr
    return lines[0] if lines else ""


def address_space(megabytes: int) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))
    return limit


def file_size(size: int) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


def test_fifo_on_the_command_line_is_refused_with_one_and_two_jobs(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.html")
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}.jsonl"
        rejects = tmp_path / f"rejects-{jobs}.jsonl"
        result = newsclean(tmp_path / "pipe.html", FERRY, "-o", out, "--rejects", rejects, "-j", jobs)
        assert result.returncode == exit_codes.OK, result.stderr
        one_line(result)
        assert len(read_jsonl(out)) == 1
        assert [r["reason"] for r in read_jsonl(rejects)] == ["not_a_file"]
    only = newsclean(tmp_path / "pipe.html", "-o", tmp_path / "only.jsonl", "-j", "1")
    assert only.returncode == exit_codes.NOTHING
    assert "not_a_file 1" in one_line(only)


def test_a_file_name_that_is_not_utf8_then_resume(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(FERRY, folder / "a.html")
    shutil.copy(LIBRARY, os.fsdecode(os.fsencode(folder) + b"/m-\xe9.html"))
    out = tmp_path / "out.jsonl"
    first = newsclean("pages", "-o", out, "-j", "2", cwd=tmp_path)
    assert first.returncode == exit_codes.OK, first.stderr
    one_line(first)
    assert sorted(r["source"] for r in read_jsonl(out)) == ["pages/a.html", "pages/m-\\xe9.html"]
    again = newsclean("pages", "-o", out, "--resume", "--stats", tmp_path / "stats.json", cwd=tmp_path)
    assert again.returncode == exit_codes.OK, again.stderr
    stats = orjson.loads((tmp_path / "stats.json").read_bytes())
    assert stats["offline/skipped/resume"] == 2 and stats["offline/pages_read"] == 0


def test_a_jsonl_line_larger_than_memory_allows_is_skipped(tmp_path: Path) -> None:
    """768 MiB lines (a sparse file, and one unpacked from a 0.8 MB ``.jsonl.gz``) under a 512 MiB
    address space: each is a ``too_large`` reject and the line after it is cleaned."""
    good = orjson.dumps({"text": "The ferry returns to the island after the storm. " * 10}) + b"\n"
    sparse = tmp_path / "sparse.jsonl"
    with open(sparse, "wb") as stream:
        stream.write(b'{"text": "')
        stream.truncate(768 << 20)
        stream.seek(0, os.SEEK_END)
        stream.write(b'"}\n' + good)
    packed = tmp_path / "packed.jsonl.gz"
    with open(packed, "wb") as stream:
        deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
        stream.write(deflate.compress(b'{"text": "'))
        block = b"a" * (16 << 20)
        for _ in range(48):
            stream.write(deflate.compress(block))
        stream.write(deflate.compress(b'"}\n' + good.replace(b"storm", b"flood")) + deflate.flush())
    for path in (sparse, packed):
        out, rejects = tmp_path / f"{path.name}.out", tmp_path / f"{path.name}.rejects"
        result = newsclean(path, "-o", out, "--rejects", rejects, "-j", "1", limit=address_space(512))
        assert result.returncode == exit_codes.OK, result.stderr
        one_line(result)
        assert [(r["source"], r["reason"]) for r in read_jsonl(rejects)] == [(f"jsonl:{path}#1", "too_large")]
        assert [r["source"] for r in read_jsonl(out)] == [f"jsonl:{path}#2"]


def test_a_full_disk_ends_with_one_line_and_resume_finishes_the_job(tmp_path: Path) -> None:
    many_pages(tmp_path / "pages", 30)
    reference = tmp_path / "reference.jsonl"
    assert newsclean(tmp_path / "pages", "-o", reference, "-j", "1").returncode == 0
    out = tmp_path / "out.jsonl"
    full = newsclean(tmp_path / "pages", "-o", out, "-j", "2", "--stats", tmp_path / "stats.json",
                     limit=file_size(20_000))
    assert full.returncode == exit_codes.OUTPUT
    line = one_line(full)
    assert line.startswith(f"newsclean clean: cannot write {out}: File too large")
    assert f"the whole lines so far are in {out}.partial" in line and "--resume" in line
    partial = Path(f"{out}.partial")
    written = read_jsonl(partial)  # whole lines only: the one that did not fit is gone
    assert 0 < len(written) < 30 and partial.stat().st_size <= 20_000
    assert not out.exists() and not (tmp_path / "stats.json").exists()
    assert not (tmp_path / "stats.json.partial").exists()
    resumed = newsclean(tmp_path / "pages", "-o", out, "--resume", "-j", "2")
    assert resumed.returncode == exit_codes.OK, resumed.stderr
    assert sorted(orjson.dumps(r) for r in read_jsonl(out)) == sorted(orjson.dumps(r) for r in read_jsonl(reference))


def test_a_full_disk_under_the_state_ends_with_one_line(tmp_path: Path) -> None:
    many_pages(tmp_path / "pages", 30)
    out = tmp_path / "out.jsonl"
    state = tmp_path / "state"
    assert newsclean(FERRY, "-o", tmp_path / "first.jsonl", "--state", state).returncode == 0  # the store exists
    size = sum(p.stat().st_size for p in state.iterdir())
    full = newsclean(tmp_path / "pages", "-o", out, "-j", "1", "--state", state, limit=file_size(size + 4096))
    assert full.returncode == exit_codes.OUTPUT, full.stderr
    line = one_line(full)
    assert line.startswith("newsclean clean: cannot write")
    assert all(isinstance(r["id"], str) for r in read_jsonl(Path(f"{out}.partial")))
