"""``newsclean clean`` as a real process: killed with SIGKILL and resumed, a worker killed mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
from support.offline import count_lines, many_pages, read_jsonl, slow_page, wait_for_lines

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



def busy_worker(process: subprocess.Popen[bytes], megabytes: int = 170) -> int | None:
    """The worker of the run (a child of its forkserver) cleaning the slow page: the one whose
    resident memory passes ``megabytes`` (a worker idle or on a small page holds about 130 MB;
    on the 9 MB page, 200 to 300 MB for seconds)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        for server in children(process.pid):
            for worker in children(server):
                try:
                    status = Path(f"/proc/{worker}/status").read_text()
                except OSError:
                    continue
                rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
                if rss > megabytes * 1024:
                    return worker
        time.sleep(0.02)
    return None


def test_a_page_that_kills_its_worker_twice_is_a_worker_died_reject(tmp_path: Path) -> None:
    """A slow page (9 MB of article text) whose worker the test kills. The run retries the page
    alone in a fresh pool; killed again there, it is recorded as ``worker_died``. (Files that are
    not regular, such as a FIFO, are refused before any worker opens them, so a page is made slow
    rather than blocking.)"""
    corpus = tmp_path / "corpus"
    many_pages(corpus, 12)
    slow = tmp_path / "slow.html"
    slow_page(slow, 9)
    out, rejects, stats = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl", tmp_path / "stats.json"
    process = subprocess.Popen(command(str(slow), str(corpus), "-o", str(out), "-j", "2", "--rejects", str(rejects),
                                       "--stats", str(stats), "--chunk-size", "1", "--time-limit", "600"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    kills = 0
    while process.poll() is None and kills < 2:
        worker = busy_worker(process)
        if worker is None:
            break
        os.kill(worker, signal.SIGKILL)
        kills += 1
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr.decode()
    assert kills == 2
    assert [(r["source"], r["reason"]) for r in read_jsonl(rejects)] == [(str(slow), "worker_died")]
    assert len(read_jsonl(out)) == 12
    data = orjson.loads(stats.read_bytes())
    assert data["offline/pool_restarts"] == 2
    assert data["offline/dropped/worker_died"] == 1
    assert b"a worker died" in stderr


def test_interrupt_does_not_wait_for_a_stuck_worker(tmp_path: Path) -> None:
    """Ctrl-C while a worker cleans a slow page (9 MB of article text, a record if let finish):
    the run ends at once with the pages before it, without the slow page's record."""
    corpus = tmp_path / "corpus"
    many_pages(corpus, 4)
    slow = tmp_path / "zz-slow.html"
    slow_page(slow, 9)
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen(command(str(corpus), str(slow), "-o", str(out), "-j", "2", "--ordered",
                                       "--time-limit", "600"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    partial = tmp_path / "out.jsonl.partial"
    wait_for_lines(process, partial, 4)  # every page before the slow one is written (ordered)
    stuck = busy_worker(process)
    assert stuck is not None and process.poll() is None
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr.decode()
    assert len(read_jsonl(partial)) == 4  # the slow page was not waited for
    assert not Path(f"/proc/{stuck}").exists() or "Z" in Path(f"/proc/{stuck}/stat").read_text().split(")")[-1][:3]
