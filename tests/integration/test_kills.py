"""SIGKILL at random moments, then restart: nothing lost, nothing twice, whole lines only.

Seeded (``random.Random(SEED)``) and bounded: ``KILLS`` kills of a ``scrapy crawl news -a
site=demo`` run (each restart: the same state folder, a new output file), and ``KILLS`` kills of a
``newsclean clean -j 2 --state DIR`` run over ``fixtures/corpus`` (each restart: ``--resume`` on the
same output). A kill lands at a random moment: after a random number of newly written records
(0: anywhere in start-up and discovery) plus a random delay, so it falls anywhere in the cycle of
fetching, cleaning, claiming, writing and committing. After the last, uninterrupted run: every
expected record exactly once in the union of the outputs, no partial line in any output file,
a state store that opens with nothing pending and holds exactly the written records, and no
process of a killed run left behind.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from support.crawl import MANIFEST, ROOT, alive, crawl_command, descendants, free_port, path_of
from test_crawl import expected_once

from pipelines.store import STATE_FILE, SQLiteStateStore

SEED = int(os.environ.get("NEWSCLEAN_KILL_SEED", "20261122"))  # other seeds: other kill moments
KILLS = 3
CORPUS = ROOT / "fixtures" / "corpus"


def lines_of(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def kill_at_random_moment(process: subprocess.Popen[bytes], out: Path, rng: random.Random, remaining: int,
                          start_window: float, extra: float) -> dict[str, Any]:
    """SIGKILL ``process`` after ``n`` more lines of ``out`` (random in [0, remaining / 2)) and a
    random delay (within ``start_window`` s when ``n`` is 0, else within ``extra`` s). Returns
    what happened: whether the kill found the process alive, the lines before and after."""
    before = lines_of(out)
    wanted = rng.randrange(max(remaining // 2, 1))  # at least half the work left: the run is still alive
    delay = rng.uniform(0, start_window if wanted == 0 else extra)
    deadline = time.monotonic() + 300
    while wanted and lines_of(out) < before + wanted and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(delay)
    family = descendants(process.pid)  # cleaning workers, their forkserver …
    landed = process.poll() is None
    if landed:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    return {"landed": landed, "after_lines": wanted, "delay": round(delay, 3), "family": family,
            "returncode": process.returncode}


def whole_records(path: Path) -> list[dict[str, Any]]:
    """Records of ``path``, asserting it holds only whole lines."""
    data = path.read_bytes() if path.exists() else b""
    assert not data or data.endswith(b"\n"), f"{path}: a partial last line"
    return [orjson.loads(line) for line in data.splitlines()]


def state_rows(state: Path) -> tuple[set[str], set[str], int]:
    """(hashes, urls, pending rows) of a state store, after opening it as a run would."""
    store = SQLiteStateStore(state / STATE_FILE, commit="export")  # settles what a kill left
    try:
        assert store.pending() == 0
    finally:
        store.close()
    with sqlite3.connect(f"file:{state / STATE_FILE}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        hashes = {row[0] for row in db.execute("SELECT content_hash FROM hashes")}
        urls = {row[0] for row in db.execute("SELECT url FROM urls")}
        pending = db.execute("SELECT COUNT(*) FROM pending").fetchone()[0]
    return hashes, urls, pending


def test_crawl_killed_at_random_moments_then_restarted(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    state, port = tmp_path / "state", free_port()
    expected = len(MANIFEST["articles"])
    outputs, kills, written = [], [], 0
    # one request at a time, 0.2 s apart: a run lives long enough to be killed anywhere
    slow = ("AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0.2", "CONCURRENT_REQUESTS=1")
    for run in range(KILLS + 1):
        out = tmp_path / f"run{run}.jsonl"
        outputs.append(out)
        pool = 2 if run % 2 == 0 else 0  # a pool of two workers, or cleaning in the crawl's process
        cmd = crawl_command(out, state, port, tmp_path / f"run{run}.access.log", f"NEWSCLEAN_POOL_SIZE={pool}",
                            "NEWSCLEAN_POOL_WARM_IN_PROCESS=False", *slow)
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if run < KILLS:
            kill = kill_at_random_moment(process, out, rng, expected - written, start_window=4.0, extra=0.3)
            kill["pool"] = pool
            kills.append(kill)
            assert process.stderr is not None
            process.stderr.close()
        else:
            _, log = process.communicate(timeout=300)
            assert process.returncode == 0, log.decode()[-3000:]
        written += lines_of(out)
    print(f"crawl kills: {[{k: v for k, v in x.items() if k != 'family'} for x in kills]}")
    # every kill found a live crawl (the runs are slow enough), and no process of it survived
    assert [k["landed"] for k in kills] == [True] * KILLS
    assert all(k["returncode"] == -signal.SIGKILL for k in kills)
    deadline = time.monotonic() + 60
    family = set().union(*(k["family"] for k in kills))
    while time.monotonic() < deadline and any(alive(p) for p in family):
        time.sleep(0.2)
    assert [p for p in family if alive(p)] == []
    # the union: every article exactly once, whole lines only, in every file
    records = [r for out in outputs for r in whole_records(out)]
    assert expected_once(records) == []
    assert len(records) == expected
    # the state: nothing pending, exactly the written hashes, every written URL known
    hashes, urls, pending = state_rows(state)
    assert pending == 0
    assert hashes == {r["content_hash"] for r in records}
    assert {r["url"] for r in records} <= urls
    assert {path_of(u) for u in urls} <= {a["path"] for a in MANIFEST["articles"]} | {
        d["path"] for d in MANIFEST["duplicates"]}


def clean_command(out: Path, state: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", "clean", str(CORPUS), "-o", str(out), "--state", str(state),
            "--no-progress", "-q", *extra]


def canonical(records: list[dict[str, Any]]) -> list[bytes]:
    return sorted(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in records)


def test_offline_run_killed_at_random_moments_then_resumed(tmp_path: Path) -> None:
    rng = random.Random(SEED + 1)
    reference = tmp_path / "reference.jsonl"
    subprocess.run(clean_command(reference, tmp_path / "reference-state", "-j", "2"), check=True,
                   capture_output=True, timeout=300)
    expected = whole_records(reference)
    assert len(expected) == len(list(CORPUS.glob("*/*/input.html")))
    out, state = tmp_path / "out.jsonl", tmp_path / "state"
    partial = tmp_path / "out.jsonl.partial"  # a new output's lines, until the run ends and renames it
    kills = []
    for run in range(KILLS + 1):
        args = clean_command(out, state, "-j", "2", *(["--resume"] if run else []))
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if run < KILLS:
            live = out if out.exists() and not partial.exists() else partial
            kill = kill_at_random_moment(process, live, rng, len(expected) - lines_of(live), start_window=0.6,
                                         extra=0.05)
            kills.append(kill)
            assert process.stderr is not None
            process.stderr.close()
        else:
            _, log = process.communicate(timeout=300)
            assert process.returncode == 0, log.decode()[-3000:]
    print(f"offline kills: {[{k: v for k, v in x.items() if k != 'family'} for x in kills]}")
    assert sum(k["landed"] for k in kills) >= KILLS - 1  # a resumed run with little left may end first
    assert all(k["returncode"] == -signal.SIGKILL for k in kills if k["landed"])
    # the workers, their forkserver and resource tracker notice their run is gone and exit
    family = set().union(*(k["family"] for k in kills if k["landed"]))
    assert family
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(alive(p) for p in family):
        time.sleep(0.2)
    assert [p for p in family if alive(p)] == []
    assert not partial.exists()
    records = whole_records(out)  # whole lines only (a cut line was repaired before appending)
    assert canonical(records) == canonical(expected)  # nothing lost, nothing twice, same bytes
    hashes, _, pending = state_rows(state)
    assert pending == 0
    assert hashes == {r["content_hash"] for r in records}


def test_recovery_cuts_a_partial_line_in_a_file_no_run_appends_to_again(tmp_path: Path) -> None:
    """A kill inside the write of a long line: the next store opened alone cuts that line and
    releases its claim, even though the next run writes to another file."""
    out = tmp_path / "killed.jsonl"
    store = SQLiteStateStore(tmp_path / STATE_FILE, commit="export")
    store.targets = [str(out)]
    whole = orjson.dumps({"url": "http://x/a", "content_hash": "sha256:aa"}) + b"\n"
    assert store.claim("sha256:aa", "http://x/a") and store.claim("sha256:bb", "http://x/b")
    out.write_bytes(whole + orjson.dumps({"url": "http://x/b", "content_hash": "sha256:bb", "text": "x" * 9000})[:5000])
    # killed here: neither claim committed, the second line half written; then a new run opens the state
    store.close()
    reopened = SQLiteStateStore(tmp_path / STATE_FILE, commit="export")
    try:
        assert reopened.recovered == {"committed": 1, "released": 1}
        assert reopened.pending() == 0
        assert not reopened.seen_url("http://x/b") and reopened.seen_url("http://x/a")
    finally:
        reopened.close()
    assert out.read_bytes() == whole
