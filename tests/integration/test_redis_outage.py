"""Redis failing under real components: a real redis-server (started, killed and restarted here,
on 127.0.0.1), real ``newsclean clean`` processes and real ``scrapy crawl`` workers over the demo
site.

What must hold: an outage is retried for ``?retry_seconds=`` and then ends the run with one line
and exit code 1 (never a hang); a Redis that comes back empty is caught instead of rewriting the
corpus; a worker SIGKILLed inside its lease leaves no partial and no duplicated line; ``--shard``
without a shared state warns, with one it writes each article once.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis

from pipelines.store.redis import RedisStateStore, hash_member

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo_site"
ARTICLES = sorted((DEMO / "site" / "articles").glob("*.html"))
#: distinct articles among them (one page is a duplicate of another)
DISTINCT = len(json.loads((DEMO / "manifest.json").read_text("utf-8"))["articles"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(condition: object, limit: float = 120.0) -> None:
    """Poll until ``condition()`` holds (a bound on the wait, not a timed assertion)."""
    assert callable(condition)
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


class RedisServer:
    """One redis-server on a fixed port and data folder, to kill and start again."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server must be on PATH (apt-get install redis-server)"
        self.binary = binary
        self.port = _free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, persistent: bool = True) -> None:
        """Start it; ``persistent``: AOF with appendfsync always over the same folder (what was
        written before a kill is there again), else no persistence and an empty folder."""
        folder = self.workdir if persistent else self.workdir / f"empty-{time.monotonic_ns()}"
        folder.mkdir(parents=True, exist_ok=True)
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if persistent else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", *persistence,
             "--dir", str(folder)],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        try:
            _wait_for(lambda: self._answers(client), 30)
        finally:
            client.close()

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)

    def url(self, **options: object) -> str:
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"redis://127.0.0.1:{self.port}/0" + (f"?{query}" if query else "")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    instance = RedisServer(tmp_path / "redis")
    instance.start()
    try:
        yield instance
    finally:
        if instance.proc is not None:
            instance.kill()


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True) if path.exists() else []


def _records(*paths: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for path in paths for line in _lines(path) if line.endswith(b"\n")]


def _clean(*args: str, stdin: int | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "clean", *args], cwd=ROOT, text=True,
                            stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen[str]) -> str:
    """Wait for a run fed on stdin (a bound on the wait: it must end by itself); its stderr."""
    proc.wait(timeout=120)
    assert proc.stderr is not None
    with proc.stderr:
        return proc.stderr.read()


def _one_line_error(stderr: str, start: str) -> None:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("newsclean clean: ")]
    assert len(errors) == 1 and errors[0].startswith(start), stderr


def _hashes_in_state(client: redis.Redis, prefix: str) -> int:
    try:
        return int(client.scard(f"{prefix}:state:hashes"))
    except redis.ConnectionError:
        return 0


# -- newsclean clean ---------------------------------------------------------------------------------
def test_clean_stops_with_one_line_when_redis_dies_and_resume_completes(server: RedisServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    url = server.url(prefix="c", retry_seconds=2)
    # the pages' paths come on stdin: half of them, Redis killed, then the rest
    proc = _clean("-", "-o", str(out), "-j", "1", "-q", "--state", url, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    half = len(ARTICLES) // 2
    proc.stdin.write("".join(f"{p}\n" for p in ARTICLES[:half]))
    proc.stdin.flush()
    client = server.client()
    _wait_for(lambda: _hashes_in_state(client, "c") >= 1)
    client.close()
    server.kill()
    proc.stdin.write("".join(f"{p}\n" for p in ARTICLES[half:]))
    proc.stdin.close()
    stderr = _finish(proc)
    assert proc.returncode == 1
    _one_line_error(stderr, f"newsclean clean: Redis at redis://127.0.0.1:{server.port}/0 unreachable")
    first = _records(Path(f"{out}.partial"))  # a new output stays .partial until the run ends
    assert 1 <= len(first) < len(ARTICLES)
    # Redis back with its data (AOF): --resume completes the set, each article once
    server.start()
    again = _clean(*map(str, ARTICLES), "-o", str(out), "-j", "1", "-q", "--resume", "--state", url)
    _, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr
    records = _records(out)
    assert len(records) == DISTINCT == len(_lines(out))
    assert len({r["content_hash"] for r in records}) == DISTINCT


def test_a_redis_that_comes_back_empty_is_caught(server: RedisServer, tmp_path: Path) -> None:
    first = tmp_path / "first.jsonl"
    url = server.url(prefix="e", retry_seconds=2)
    run = _clean(*map(str, ARTICLES[:6]), "-o", str(first), "-j", "1", "-q", "--state", url)
    _, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stderr
    assert len(_records(first)) == 6
    server.kill()
    server.start(persistent=False)  # restarted without persistence: the state is gone
    # a rerun to another file: this machine used the state before
    second = tmp_path / "second.jsonl"
    run = _clean(*map(str, ARTICLES[:6]), "-o", str(second), "-j", "1", "-q", "--state", url)
    _, stderr = run.communicate(timeout=300)
    assert run.returncode == 1
    _one_line_error(stderr, f"newsclean clean: the state redis://127.0.0.1:{server.port}/0 (prefix e) is empty")
    assert _records(second) == []
    # --resume over the first output: its records say the state held them
    run = _clean(*map(str, ARTICLES[:8]), "-o", str(first), "-j", "1", "-q", "--resume", "--state", url)
    _, stderr = run.communicate(timeout=300)
    assert run.returncode == 1 and "6 records are already in" in stderr, stderr
    assert len(_records(first)) == 6
    # a new state, asked for: the run goes on
    run = _clean(*map(str, ARTICLES[:8]), "-o", str(first), "-j", "1", "-q", "--resume",
                 "--state", server.url(prefix="e", retry_seconds=2, fresh=1))
    _, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stderr
    assert len(_records(first)) == 8


def test_a_redis_emptied_during_a_run_stops_it(server: RedisServer, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    url = server.url(prefix="m", retry_seconds=5)
    proc = _clean("-", "-o", str(out), "-j", "1", "-q", "--state", url, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write("".join(f"{p}\n" for p in ARTICLES[:4]))
    proc.stdin.flush()
    client = server.client()
    _wait_for(lambda: _hashes_in_state(client, "m") >= 1)
    client.close()
    server.kill()
    server.start(persistent=False)
    proc.stdin.write("".join(f"{p}\n" for p in ARTICLES[4:]))
    proc.stdin.close()
    stderr = _finish(proc)
    assert proc.returncode == 1
    _one_line_error(stderr, f"newsclean clean: the state redis://127.0.0.1:{server.port}/0 (prefix m) was emptied")
    assert 1 <= len(_records(Path(f"{out}.partial"))) < len(ARTICLES)


# -- a worker killed inside its lease ---------------------------------------------------------------
_VICTIM = textwrap.dedent("""
    import sys, time
    from pipelines.store import open_state
    url, target = sys.argv[1], sys.argv[2]
    store = open_state(url, commit="export")
    store.targets = [target]
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    assert store.claim(a, "https://example.org/a") and store.claim(b, "https://example.org/b")
    with open(target, "ab") as out:
        out.write(b'{"content_hash":"%s","url":"https://example.org/a"}\\n' % a.encode())
        out.write(b'{"content_hash":"%s","url":"https://exa' % b.encode())  # killed mid-line
        out.flush()
    print("ready", flush=True)
    time.sleep(600)
""")


def test_a_worker_killed_inside_its_lease_leaves_no_partial_or_duplicated_line(
    server: RedisServer, tmp_path: Path
) -> None:
    target = tmp_path / "out.jsonl"
    url = server.url(prefix="k", lease=600)  # the lease outlives the test: only the process's death counts
    victim = subprocess.Popen([sys.executable, "-c", _VICTIM, url, str(target)], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE)
    assert victim.stdout is not None
    with victim.stdout:
        assert victim.stdout.readline() == "ready\n"
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=30) == -signal.SIGKILL
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    store = RedisStateStore.from_url(url + "&commit=export")
    try:
        assert store.recovered == {"committed": 1, "released": 1}
        assert target.read_bytes().endswith(b"\n") and len(_lines(target)) == 1  # the partial line is cut
        store.targets = [str(target)]
        assert not store.claim(a, "https://example.org/a")  # written: committed, never again
        assert store.claim(b, "https://example.org/b")  # not written: free for this run at once
        with target.open("ab") as out:
            out.write(b'{"content_hash":"%s","url":"https://example.org/b"}\n' % b.encode())
        assert store.commit(b)
    finally:
        store.close()
    hashes = Counter(str(r["content_hash"]) for r in _records(target))
    assert hashes == Counter({a: 1, b: 1}) and len(_lines(target)) == 2
    client = server.client()
    assert client.hlen("k:state:pending") == 0 and client.sismember("k:state:hashes", hash_member(b))
    client.close()


# -- shards ------------------------------------------------------------------------------------------
def _shard_pair(tmp_path: Path) -> tuple[list[Path], int]:
    """Two copies of one page that fall in two shards of ``count``, plus two other pages."""
    from pipelines.io.inputs import in_shard

    pages = tmp_path / "pages"
    pages.mkdir()
    copies = []
    for name in ("copy-a.html", "copy-b.html", "copy-c.html", "copy-d.html"):
        copies.append(pages / name)
        shutil.copyfile(ARTICLES[0], copies[-1])
    for count in range(2, 40):
        shards = [next(i for i in range(count) if in_shard(str(p), i, count)) for p in copies]
        if len(set(shards[:2])) == 2:
            return [*copies[:2], ARTICLES[1], ARTICLES[2]], count
    raise AssertionError("no split found")


def test_shards_warn_without_a_state_and_write_each_article_once_with_one(
    server: RedisServer, tmp_path: Path
) -> None:
    pages, count = _shard_pair(tmp_path)
    for state in (None, server.url(prefix="s")):
        outs = []
        for index in range(1, count + 1):
            out = tmp_path / f"{'state' if state else 'alone'}-{index}.jsonl"
            outs.append(out)
            extra = ["--state", state] if state else []
            run = _clean(*map(str, pages), "-o", str(out), "-j", "1", "-q", "--shard", f"{index}/{count}", *extra)
            _, stderr = run.communicate(timeout=300)
            assert run.returncode == 0, stderr
            warnings = [line for line in stderr.splitlines() if "warning: --shard" in line]
            assert len(warnings) == (0 if state else 1), stderr
        hashes = Counter(r["content_hash"] for r in _records(*outs))
        if state:
            assert sorted(hashes.values()) == [1, 1, 1]  # each article once across the shards
        else:
            assert sorted(hashes.values()) == [1, 1, 2]  # the copy in two shards, twice


# -- the shared crawl --------------------------------------------------------------------------------
@pytest.fixture
def demo_site() -> Iterator[str]:
    from crawler.demo_server import DemoServer

    site = DemoServer(DEMO / "site").start()
    try:
        yield site.base_url
    finally:
        site.stop()


def _worker(redis_url: str, demo_url: str, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSCLEAN_", "SCRAPY_"))}
    log = out.with_suffix(".log").open("wb")
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "news", "-a", "site=demo", "-O", str(out),
        "-s", f"NEWSCLEAN_REDIS_URL={redis_url}", "-s", f"NEWSCLEAN_DEMO_URL={demo_url}",
        "-s", "NEWSCLEAN_IDLE_CLOSE=2", "-s", "NEWSCLEAN_WORKER_LEASE=3", "-s", "NEWSCLEAN_POOL_SIZE=0",
        "-s", "LOG_LEVEL=INFO", *extra,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return proc


def _canonical_paths(records: list[dict[str, object]]) -> Counter[str]:
    from urllib.parse import urlsplit

    manifest = json.loads((DEMO / "manifest.json").read_text("utf-8"))
    aliases = {d["path"]: d["duplicate_of"] for d in manifest["duplicates"]}
    return Counter(aliases.get(p, p) for p in (urlsplit(str(r["url"])).path for r in records))


def _registry_expired(client: redis.Redis, key: str) -> bool:
    seconds, micros = client.time()
    now_ms = seconds * 1000 + micros // 1000
    return all(score < now_ms for _, score in client.zrange(key, 0, -1, withscores=True))


def test_crawl_workers_exit_1_when_redis_dies_and_a_rerun_completes_the_set(
    server: RedisServer, demo_site: str, tmp_path: Path
) -> None:
    url = server.url(prefix="w", retry_seconds=3)
    slow = ("-s", "DOWNLOAD_DELAY=0.4", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    outs = [tmp_path / f"worker{i}.jsonl" for i in range(2)]
    procs = [_worker(url, demo_site, out, *slow) for out in outs]
    _wait_for(lambda: any(out.exists() and out.read_bytes().count(b"\n") >= 1 for out in outs))
    server.kill()
    # every worker ends by itself (the wait is a bound, not a measure), with exit code 1 and a reason
    assert [p.wait(timeout=180) for p in procs] == [1, 1]
    for out in outs:
        log = out.with_suffix(".log").read_text("utf-8")
        assert "stopping the crawl: Redis at redis://127.0.0.1:" in log, log[-3000:]
        assert "'finish_reason': 'state_unavailable'" in log
        assert "exit code 1: Redis at" in log
    first = _records(*outs)
    assert len(first) >= 1 and max(Counter(r["content_hash"] for r in first).values()) == 1
    # Redis back with its data (AOF, appendfsync always): once the stopped workers' leases are
    # over, a rerun writes what is missing and nothing twice
    server.start()
    client = server.client()
    _wait_for(lambda: not client.keys("w:state:owner:*") and _registry_expired(client, "w:news:workers"))
    rerun = tmp_path / "rerun.jsonl"
    assert _worker(url, demo_site, rerun).wait(timeout=300) == 0
    records = _records(*outs, rerun)
    paths = _canonical_paths(records)
    manifest = json.loads((DEMO / "manifest.json").read_text("utf-8"))
    assert set(paths) == {a["path"] for a in manifest["articles"]}
    assert [p for p, n in paths.items() if n > 1] == []
    assert client.hlen("w:state:pending") == 0
    client.close()


def test_a_crawl_whose_redis_is_down_at_start_exits_1_with_one_line(server: RedisServer, tmp_path: Path) -> None:
    server.kill()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSCLEAN_", "SCRAPY_"))}
    run = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "site=demo", "-O", str(tmp_path / "out.jsonl"),
         "-s", f"NEWSCLEAN_REDIS_URL={server.url(retry_seconds=1)}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("scrapy crawl: ")]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"scrapy crawl: Redis at redis://127.0.0.1:{server.port}/0 unreachable")
