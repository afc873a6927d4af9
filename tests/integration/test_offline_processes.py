"""``newsclean clean`` as a real process: killed with SIGKILL and resumed, a worker killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
from support.offline import count_lines, many_pages, read_jsonl, wait_for_lines

PAGE_COUNT = 150


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", "clean", "--no-progress", *args]


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry))
    return found


def test_resume_after_sigkill_gives_the_uninterrupted_output(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus, PAGE_COUNT)
    full = tmp_path / "full.jsonl"
    subprocess.run(command(str(corpus), "-o", str(full), "-j", "1", "--ordered"), check=True, capture_output=True)
    assert count_lines(full) == PAGE_COUNT

    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"  # where a new output's lines go until the run ends
    process = subprocess.Popen(command(str(corpus), "-o", str(out), "-j", "1", "--ordered"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_lines(process, partial, 20)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert not out.exists()
    written = count_lines(partial)
    assert 20 <= written < PAGE_COUNT
    # as if the kill had landed inside a write: half a record at the end
    with open(partial, "ab") as stream:
        stream.write(full.read_bytes().splitlines(keepends=True)[written][:40])

    stats = tmp_path / "stats.json"
    result = subprocess.run(command(str(corpus), "-o", str(out), "-j", "2", "--resume", "--stats", str(stats)),
                            capture_output=True, check=True)
    assert b"records written" in result.stderr
    data = orjson.loads(stats.read_bytes())
    assert data["offline/skipped/resume"] == written
    assert data["offline/records_written"] == PAGE_COUNT - written
    assert not partial.exists()  # renamed into place at the end
    resumed = read_jsonl(out)  # no partial line anywhere
    assert len(resumed) == PAGE_COUNT
    assert resumed[:written] == read_jsonl(full)[:written]
    key = orjson.OPT_SORT_KEYS
    assert sorted(orjson.dumps(r, option=key) for r in resumed) == sorted(
        orjson.dumps(r, option=key) for r in read_jsonl(full))


def test_a_killed_worker_does_not_stop_the_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus, PAGE_COUNT)
    full = tmp_path / "full.jsonl"
    subprocess.run(command(str(corpus), "-o", str(full), "-j", "1", "--ordered"), check=True, capture_output=True)

    out = tmp_path / "out.jsonl"
    stats = tmp_path / "stats.json"
    rejects = tmp_path / "rejects.jsonl"
    process = subprocess.Popen(command(str(corpus), "-o", str(out), "-j", "2", "--ordered", "--stats", str(stats),
                                       "--rejects", str(rejects)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_lines(process, tmp_path / "out.jsonl.partial", 10)
    assert process.poll() is None, "the run ended before a worker could be killed"
    # workers are the grandchildren of the run (children of the forkserver)
    workers = [grandchild for child in children(process.pid) for grandchild in children(child)]
    assert workers
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr.decode()
    data = orjson.loads(stats.read_bytes())
    assert data["offline/pool_restarts"] >= 1
    # the pages in flight were retried one by one: nothing lost, same bytes in the same order
    assert out.read_bytes() == full.read_bytes()
    assert read_jsonl(rejects) == []


def test_interrupt_exits_130_with_whole_lines_and_resume_completes(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus, PAGE_COUNT)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    process = subprocess.Popen(command(str(corpus), "-o", str(out), "-j", "2", "--ordered"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_lines(process, partial, 10)
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 130, stderr.decode()
    assert b"--resume" in stderr and str(partial).encode() in stderr
    assert not out.exists()
    written = len(read_jsonl(partial))  # whole lines only
    assert written < PAGE_COUNT
    subprocess.run(command(str(corpus), "-o", str(out), "-j", "2", "--resume", "--ordered", "-q"), check=True)
    records = read_jsonl(out)
    assert sorted(r["source"] for r in records) == sorted(str(p) for p in corpus.glob("*.html"))


def test_output_inside_an_input_folder_is_not_read_back(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus, 3)
    out = corpus / "out.jsonl"
    stats = tmp_path / "stats.json"
    for flags in ([], ["--force"]):  # the second run finds the first run's output in the folder
        subprocess.run(command(str(corpus), "-o", str(out), "-j", "1", "-q", "--stats", str(stats), *flags),
                       check=True)
    assert len(read_jsonl(out)) == 3
    data = orjson.loads(stats.read_bytes())
    assert data["offline/skipped/own_output"] == 1
    assert data["offline/pages_read"] == 3



def holders(path: Path) -> list[int]:
    """Processes that have ``path`` open."""
    target = str(path)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{entry}/fd/{fd}") == target:
                    found.append(int(entry))
                    break
            except OSError:
                continue
    return found


def test_a_page_that_kills_its_worker_twice_is_a_worker_died_reject(tmp_path: Path) -> None:
    """A named pipe as a page: the worker reading it blocks until the test kills it. The run
    retries the page alone in a fresh pool; killed again there, it is recorded as ``worker_died``."""
    corpus = tmp_path / "corpus"
    many_pages(corpus, 12)
    fifo = tmp_path / "stuck.html"
    os.mkfifo(fifo)
    out, rejects, stats = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl", tmp_path / "stats.json"
    process = subprocess.Popen(command(str(fifo), str(corpus), "-o", str(out), "-j", "2", "--rejects", str(rejects),
                                       "--stats", str(stats)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # held open for reading and writing here: a worker's open() returns at once, its read() blocks
    holder = os.open(fifo, os.O_RDWR)
    kills = 0
    try:
        deadline = time.monotonic() + 300
        while process.poll() is None and kills < 2 and time.monotonic() < deadline:
            for pid in holders(fifo):
                if pid not in (os.getpid(), process.pid):
                    os.kill(pid, signal.SIGKILL)
                    kills += 1
            time.sleep(0.05)
    finally:
        os.close(holder)  # a reader left (there should be none) now reads end of file
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr.decode()
    assert kills == 2
    assert [(r["source"], r["reason"]) for r in read_jsonl(rejects)] == [(str(fifo), "worker_died")]
    assert len(read_jsonl(out)) == 12
    data = orjson.loads(stats.read_bytes())
    assert data["offline/pool_restarts"] == 2
    assert data["offline/dropped/worker_died"] == 1
    assert b"a worker died" in stderr


def test_interrupt_does_not_wait_for_a_stuck_worker(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus, 4)
    fifo = tmp_path / "stuck.html"
    os.mkfifo(fifo)
    holder = os.open(fifo, os.O_RDWR)  # the worker reading the pipe blocks for good
    try:
        out = tmp_path / "out.jsonl"
        process = subprocess.Popen(command(str(corpus), str(fifo), "-o", str(out), "-j", "2", "--ordered"),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 300
        while not [p for p in holders(fifo) if p != os.getpid()] and time.monotonic() < deadline:
            time.sleep(0.05)
        stuck = [p for p in holders(fifo) if p != os.getpid()]
        assert stuck and process.poll() is None
        partial = tmp_path / "out.jsonl.partial"
        wait_for_lines(process, partial, 4)  # every page before the pipe is written (ordered)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=300)
    finally:
        os.close(holder)
    assert process.returncode == 130, stderr.decode()
    assert len(read_jsonl(partial)) == 4
    assert not any(Path(f"/proc/{pid}").exists() and pid in holders(fifo) for pid in stuck)
