"""Shared mode with a real redis-server (from PATH, on 127.0.0.1, a free port, started here).

The store: atomic claims across processes, seen URLs, retention, a killed process's claims settled
from its output file. The crawl: three ``scrapy crawl news`` workers over the demo site, one Redis:
every article written exactly once; one worker killed mid-crawl, the others finish, a rerun
completes the set with no duplicate.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest
import redis
from scrapy.settings import Settings

from crawler.demo_server import DemoServer
from crawler.shared import SharedCrawl, state_conflict
from pipelines.run import neardup
from pipelines.store import open_state
from pipelines.store.redis import RedisStateStore, hash_member, hash_text

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo_site"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_port() -> Iterator[int]:
    binary = shutil.which("redis-server")
    assert binary is not None, "redis-server must be on PATH (apt-get install redis-server)"
    port = _free_port()
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", workdir],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=port)
        try:
            for _ in range(400):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.025)
            client.ping()
            yield port
        finally:
            client.close()
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture
def server(redis_port: int) -> Iterator[redis.Redis]:
    client = redis.Redis(port=redis_port)
    client.flushall()
    yield client
    client.flushall()
    client.close()


def _url(port: int, **options: object) -> str:
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return f"redis://127.0.0.1:{port}/0" + (f"?{query}" if query else "")


def _hash(i: int) -> str:
    return f"sha256:{i:064x}"


# -- the store -------------------------------------------------------------------------------------
def test_open_state_gives_the_redis_store_with_the_same_api(server: redis.Redis, redis_port: int) -> None:
    store = open_state(_url(redis_port, prefix="t"))
    try:
        assert isinstance(store, RedisStateStore)
        assert not store.seen_url("https://a.example/1")
        assert store.claim(_hash(1), "https://a.example/1") is True
        assert store.claim(_hash(1), "https://a.example/2") is False  # same text elsewhere
        assert store.seen_url("https://a.example/1") and store.seen_url("https://a.example/2")
        assert not store.seen_url("https://a.example/3")
    finally:
        store.close()
    assert server.scard("t:state:hashes") == 1
    assert server.scard("t:state:urls") == 2
    assert server.ttl("t:state:hashes") == -1  # no retention: kept


def test_members_round_trip() -> None:
    for text in (_hash(7), "md5:0123", "x" * 31):
        assert hash_text(hash_member(text)) == text
    assert len(hash_member(_hash(7))) == 32


def test_retention_puts_members_in_day_sets_that_expire(server: redis.Redis, redis_port: int) -> None:
    store = RedisStateStore.from_url(_url(redis_port, prefix="r", retention_days=7))
    try:
        assert store.claim(_hash(1), "https://a.example/1")
        assert not store.claim(_hash(1), "https://a.example/1")
        keys = sorted(k.decode() for k in server.keys("r:state:*s:*"))
        assert [k.rsplit(":", 1)[0] for k in keys] == ["r:state:hashes", "r:state:urls"]
        day = int(keys[0].rsplit(":", 1)[1])
        for key in keys:
            ttl = server.ttl(key)
            assert 7 * 86_400 < ttl <= 8 * 86_400
        # a hash in an older day set (within retention) is still a duplicate
        server.sadd(f"r:state:hashes:{day - 7}", hash_member(_hash(2)))
        assert not store.claim(_hash(2), "https://a.example/2")
        server.sadd(f"r:state:hashes:{day - 8}", hash_member(_hash(3)))  # beyond retention: new again
        assert store.claim(_hash(3), "https://a.example/3")
    finally:
        store.close()


CLAIMER = textwrap.dedent(
    """
    import os, random, sys, time
    from pipelines.store import open_state
    url, seed, out, mode, gate = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    hashes = [f"sha256:{i:064x}" for i in range(1000)]
    random.Random(seed).shuffle(hashes)
    store = open_state(url, commit=mode)
    open(out + ".ready", "w").close()
    while not os.path.exists(gate):  # all four start claiming together
        time.sleep(0.01)
    won = []
    for h in hashes:
        if store.claim(h, f"https://w{seed}.example/{h[-8:]}"):
            won.append(h)
            if mode == "export":
                store.commit(h)  # the record is written
    store.close()
    open(out, "w").write("\\n".join(won))
    """
)


@pytest.mark.parametrize("mode", ["claim", "export"])
def test_claim_is_atomic_across_processes(server: redis.Redis, redis_port: int, tmp_path: Path, mode: str) -> None:
    outs = [tmp_path / f"won{i}.txt" for i in range(4)]
    gate = tmp_path / "go"
    url = _url(redis_port, prefix="a")
    procs = [
        subprocess.Popen([sys.executable, "-c", CLAIMER, url, str(i), str(out), mode, str(gate)], cwd=ROOT)
        for i, out in enumerate(outs)
    ]
    _wait_for(lambda: all(Path(f"{out}.ready").exists() for out in outs))
    gate.touch()
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    won = Counter(h for out in outs for h in out.read_text().split())
    assert len(won) == 1000 and set(won.values()) == {1}  # each hash claimed exactly once
    assert server.scard("a:state:hashes") == 1000
    assert server.scard("a:state:urls") == 4000  # every URL recorded, claimed or not
    assert server.hlen("a:state:pending") == 0


KILLED = textwrap.dedent(
    """
    import os, signal, sys
    import orjson
    from pipelines.store import open_state
    url, out = sys.argv[1], sys.argv[2]
    store = open_state(url, commit="export")
    store.targets = [out]
    hashes = [f"sha256:{i:064x}" for i in range(3)]
    assert all(store.claim(h, f"https://k.example/{i}") for i, h in enumerate(hashes))
    with open(out, "wb") as f:  # the first record is written, the second cut short, the third never
        f.write(orjson.dumps({"content_hash": hashes[0]}) + b"\\n")
        f.write(b'{"content_hash":"' + hashes[1].encode())
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_claims_of_a_killed_process_are_settled_from_its_output(
    server: redis.Redis, redis_port: int, tmp_path: Path
) -> None:
    url = _url(redis_port, prefix="k", lease=0.5)
    out = tmp_path / "out.jsonl"
    proc = subprocess.run([sys.executable, "-c", KILLED, url, str(out)], cwd=ROOT, check=False)
    assert proc.returncode == -signal.SIGKILL
    assert server.hlen("k:state:pending") == 6  # 3 hashes + 3 URLs, pending
    _wait_for(lambda: not server.keys("k:state:owner:*"))  # its lease ran out
    store = open_state(url, commit="export")
    try:
        assert isinstance(store, RedisStateStore)
        assert store.recovered == {"committed": 1, "released": 2}
        assert not store.claim(_hash(0), "https://k.example/0")  # written: a duplicate now
        assert store.claim(_hash(1), "https://k.example/1")  # never written: to be written again
        assert store.claim(_hash(2), "https://k.example/2")
        assert store.seen_url("https://k.example/0")
    finally:
        store.close()
    assert not server.keys("k:state:info:*") and not server.keys("k:state:claims:*")


def test_a_live_owners_pending_claim_holds(server: redis.Redis, redis_port: int) -> None:
    first = open_state(_url(redis_port, prefix="p"), commit="export")
    second = open_state(_url(redis_port, prefix="p"), commit="export")
    try:
        assert first.claim(_hash(5), "https://p.example/a")
        assert not second.claim(_hash(5), "https://p.example/b")
        assert first.commit(_hash(5)) and not first.commit(_hash(5))
        assert server.sismember("p:state:hashes", hash_member(_hash(5)))
    finally:
        first.close()
        second.close()


# -- near-duplicates in the shared state ------------------------------------------------------------
NEAR_CLAIMER = textwrap.dedent(
    """
    import os, random, sys, time
    from pipelines.run import neardup
    from pipelines.store import open_state
    url, seed, out, mode, gate = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    articles = list(range(200))
    random.Random(seed).shuffle(articles)
    store = open_state(url, commit=mode)
    open(out + ".ready", "w").close()
    while not os.path.exists(gate):
        time.sleep(0.01)
    won = []
    for k in articles:  # this worker's copy of article k: 6 of its 128 values differ from the others'
        values = [random.Random(k * 1000 + i).getrandbits(32) for i in range(neardup.NUM_PERM)]
        rng = random.Random(k * 10 + seed)
        for at in rng.sample(range(neardup.NUM_PERM), 6):
            values[at] = rng.getrandbits(32)
        digest = f"sha256:{k:056x}{seed:08x}"
        claimed, match = store.claim_near(digest, "", neardup.from_values(values), digest, "drop", neardup.THRESHOLD)
        if claimed:
            won.append(str(k))
            if mode == "export":
                store.commit(digest)
        else:
            assert match is not None and match.first_id.startswith(f"sha256:{k:056x}")
    store.close()
    open(out, "w").write("\\n".join(won))
    """
)


@pytest.mark.parametrize("mode", ["claim", "export"])
def test_near_claims_are_atomic_across_processes(server: redis.Redis, redis_port: int, tmp_path: Path,
                                                 mode: str) -> None:
    """Four workers each hold a near copy of the same 200 articles: each article is kept once."""
    outs = [tmp_path / f"won{i}.txt" for i in range(4)]
    gate = tmp_path / "go"
    url = _url(redis_port, prefix="n")
    procs = [
        subprocess.Popen([sys.executable, "-c", NEAR_CLAIMER, url, str(i), str(out), mode, str(gate)], cwd=ROOT)
        for i, out in enumerate(outs)
    ]
    _wait_for(lambda: all(Path(f"{out}.ready").exists() for out in outs))
    gate.touch()
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    won = Counter(k for out in outs for k in out.read_text().split())
    assert len(won) == 200 and set(won.values()) == {1}
    assert server.hlen("n:state:near:sig") == 200 and server.hlen("n:state:pending") == 0


KILLED_NEAR = textwrap.dedent(
    """
    import os, random, signal, sys
    import orjson
    from pipelines.run import neardup
    from pipelines.store import open_state
    url, out = sys.argv[1], sys.argv[2]
    store = open_state(url, commit="export")
    store.targets = [out]
    for k in (1, 2):
        values = [random.Random(k * 1000 + i).getrandbits(32) for i in range(neardup.NUM_PERM)]
        digest = f"sha256:{k:064x}"
        assert store.claim_near(digest, "", neardup.from_values(values), digest, "drop", 0.6) == (True, None)
    with open(out, "wb") as f:  # article 1's line is written, article 2's never
        f.write(orjson.dumps({"content_hash": f"sha256:{1:064x}"}) + b"\\n")
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _near_copy(k: int) -> neardup.Signature:
    values = [random.Random(k * 1000 + i).getrandbits(32) for i in range(neardup.NUM_PERM)]
    values[:4] = [1, 2, 3, 4]
    return neardup.from_values(values)


def test_a_killed_process_unwritten_first_copy_frees_its_near_copies(
    server: redis.Redis, redis_port: int, tmp_path: Path
) -> None:
    url = _url(redis_port, prefix="kn", lease=0.5)
    out = tmp_path / "out.jsonl"
    proc = subprocess.run([sys.executable, "-c", KILLED_NEAR, url, str(out)], cwd=ROOT, check=False)
    assert proc.returncode == -signal.SIGKILL
    assert server.hlen("kn:state:near:sig") == 2
    _wait_for(lambda: not server.keys("kn:state:owner:*"))
    store = open_state(url, commit="export")
    try:
        assert store.recovered == {"committed": 1, "released": 1}
        assert server.hlen("kn:state:near:sig") == 1  # the released claim's signature is gone
        claimed, match = store.claim_near(_hash(11), "", _near_copy(1), _hash(11), "drop", neardup.THRESHOLD)
        assert not claimed and match is not None and match.first_id == _hash(1)  # written: its copies drop
        assert store.claim_near(_hash(12), "", _near_copy(2), _hash(12), "drop", neardup.THRESHOLD) == (True, None)
    finally:
        store.close()


def test_near_signatures_follow_the_retention(server: redis.Redis, redis_port: int) -> None:
    store = open_state(_url(redis_port, prefix="r", retention_days=2))
    try:
        first = _near_copy(3)
        assert store.claim_near(_hash(3), "", first, _hash(3), "mark", neardup.THRESHOLD) == (True, None)
        claimed, match = store.claim_near(_hash(4), "", _near_copy(3), _hash(4), "mark", neardup.THRESHOLD)
        assert claimed and match is not None and match == neardup.Match(_hash(3), 1.0)
        keys = [key.decode() for key in server.keys("r:state:near:*")]
        assert keys and all(key.split(":")[-1].isdigit() for key in keys if key != "r:state:near:algorithm")
        assert all(server.ttl(key) > 0 for key in keys if key != "r:state:near:algorithm")
    finally:
        store.close()


def test_shards_sharing_redis_write_one_of_a_near_pair(server: redis.Redis, redis_port: int, tmp_path: Path) -> None:
    near = ROOT / "fixtures" / "neardup"
    pages = [near / "original.html", near / "syndicated.html", near / "related.html"]
    count = next(n for n in range(2, 40) if len({zlib.crc32(str(p).encode()) % n for p in pages[:2]}) == 2)
    written = []
    for index in range(1, count + 1):  # the near pair falls in two shards
        out = tmp_path / f"shard{index}.jsonl"
        run = subprocess.run([sys.executable, "-m", "pipelines.cli", "clean", *map(str, pages), "-o", str(out),
                              "-j", "1", "-q", "--shard", f"{index}/{count}", "--state", _url(redis_port, prefix="sh")],
                             capture_output=True, text=True, cwd=ROOT)
        assert run.returncode == 0, run.stderr
        written += [Path(json.loads(line)["source"]).name for line in out.read_text().splitlines()]
    assert "related.html" in written and len(written) == 2
    assert len({"original.html", "syndicated.html"} & set(written)) == 1


# -- the switch ------------------------------------------------------------------------------------
def test_without_the_setting_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSCLEAN_REDIS_URL", raising=False)
    settings = Settings({"NEWSCLEAN_STATE_DIR": None}, priority="project")
    before = {k: settings[k] for k in ("SCHEDULER", "DUPEFILTER_CLASS", "NEWSCLEAN_STATE_DIR")}
    before_ext = settings.getdict("EXTENSIONS")
    SharedCrawl().update_settings(settings)
    assert {k: settings[k] for k in before} == before
    assert settings.getdict("EXTENSIONS") == before_ext


def test_the_setting_switches_scheduler_dupefilter_and_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSCLEAN_REDIS_URL", "redis://10.0.0.5:6379/2?prefix=nightly")
    settings = Settings({"NEWSCLEAN_STATE_DIR": None}, priority="project")
    SharedCrawl().update_settings(settings)
    assert settings["SCHEDULER"] == "crawler.shared_scheduler.SharedScheduler"
    assert settings["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert settings["REDIS_URL"] == "redis://10.0.0.5:6379/2"
    assert settings["SCHEDULER_QUEUE_KEY"] == "nightly:%(spider)s:requests"
    assert settings["NEWSCLEAN_STATE_DIR"].startswith("redis://10.0.0.5:6379/2?prefix=nightly")
    assert settings.getbool("SCHEDULER_PERSIST")
    assert "crawler.shared.SharedWorker" in settings.getdict("EXTENSIONS")


@pytest.mark.parametrize("state", ["state/", "/srv/state", "redis://10.0.0.6:6379/0"])
def test_a_local_state_with_the_setting_is_refused(monkeypatch: pytest.MonkeyPatch, state: str) -> None:
    """Each worker would dedup against its own state: the same article written by several."""
    monkeypatch.setenv("NEWSCLEAN_REDIS_URL", "redis://10.0.0.5:6379/2")
    settings = Settings({"NEWSCLEAN_STATE_DIR": None}, priority="project")
    settings.set("NEWSCLEAN_STATE_DIR", state, priority="cmdline")
    message = state_conflict(settings)
    assert message is not None and "NEWSCLEAN_REDIS_URL=redis://10.0.0.5:6379/2 (environment)" in message
    assert f"NEWSCLEAN_STATE_DIR={state} names another state" in message
    with pytest.raises(ValueError, match="conflicting settings"):
        SharedCrawl().update_settings(settings)


def test_the_same_url_as_state_is_no_conflict_and_keeps_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSCLEAN_REDIS_URL", raising=False)
    url = "redis://:secret@10.0.0.5:6379/2"
    settings = Settings({"NEWSCLEAN_STATE_DIR": None}, priority="project")
    settings.setdict({"NEWSCLEAN_REDIS_URL": url, "NEWSCLEAN_STATE_DIR": url,
                      "NEWSCLEAN_REDIS_PREFIX": "nightly"}, priority="cmdline")
    assert state_conflict(settings) is None
    SharedCrawl().update_settings(settings)
    assert settings["NEWSCLEAN_STATE_DIR"].startswith(f"{url}?prefix=nightly")
    settings.set("NEWSCLEAN_STATE_DIR", "state/", priority="cmdline")
    message = state_conflict(settings)
    assert message is not None and "secret" not in message and "redis://:***@10.0.0.5:6379/2 (setting)" in message


# -- the crawl -------------------------------------------------------------------------------------
def _wait_for(condition: object, limit: float = 120.0) -> None:
    """Poll until ``condition()`` holds (a bound on the wait, not a timed assertion)."""
    assert callable(condition)
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.1)


def _expected_paths() -> set[str]:
    manifest = json.loads((DEMO / "manifest.json").read_text("utf-8"))
    return {a["path"] for a in manifest["articles"]}


def _canonical_path(url: str) -> str:
    manifest = json.loads((DEMO / "manifest.json").read_text("utf-8"))
    aliases = {d["path"]: d["duplicate_of"] for d in manifest["duplicates"]}
    path = urlsplit(url).path
    return aliases.get(path, path)


def _records(paths: list[Path]) -> list[dict[str, object]]:
    """Whole lines of the workers' outputs (a killed worker may leave a cut last line)."""
    records = []
    for path in paths:
        if path.exists():
            for line in path.read_bytes().splitlines(keepends=True):
                if line.endswith(b"\n"):
                    records.append(orjson.loads(line))
    return records


@pytest.fixture
def demo_site() -> Iterator[str]:
    server = DemoServer(DEMO / "site").start()
    try:
        yield server.base_url
    finally:
        server.stop()


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


def _assert_exactly_once(records: list[dict[str, object]]) -> None:
    paths = Counter(_canonical_path(str(r["url"])) for r in records)
    hashes = Counter(r["content_hash"] for r in records)
    assert set(paths) == _expected_paths()
    assert [p for p, n in paths.items() if n > 1] == []
    assert [h for h, n in hashes.items() if n > 1] == []


def test_three_workers_write_every_article_once(
    server: redis.Redis, redis_port: int, demo_site: str, tmp_path: Path
) -> None:
    outs = [tmp_path / f"worker{i}.jsonl" for i in range(3)]
    # a little slower than the demo profile, so that all three have a share of the work
    slow = ("-s", "DOWNLOAD_DELAY=0.5", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    procs = [_worker(_url(redis_port, prefix="c"), demo_site, out, *slow) for out in outs]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0]
    records = _records(outs)
    _assert_exactly_once(records)
    assert sum(1 for out in outs if out.exists() and out.stat().st_size) >= 2  # the work was shared
    logs = [out.with_suffix(".log").read_text("utf-8") for out in outs]
    assert sum("'newsclean/shared/new_run': 1" in log for log in logs) == 1  # one run, joined by two
    assert sum("'newsclean/shared/run_ended': 1" in log for log in logs) == 1  # the last one out
    # the run is over: the fingerprint set and the queue are gone, the state stays
    assert server.keys("c:news:*") == []
    assert server.scard("c:state:hashes") == len(records)
    assert server.hlen("c:state:pending") == 0


def test_a_killed_worker_loses_nothing_and_a_rerun_completes_the_set(
    server: redis.Redis, redis_port: int, demo_site: str, tmp_path: Path
) -> None:
    url = _url(redis_port, prefix="kill")
    slow = ("-s", "DOWNLOAD_DELAY=0.4", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    outs = [tmp_path / f"worker{i}.jsonl" for i in range(3)]
    procs = [_worker(url, demo_site, out, *slow) for out in outs]
    victim = outs[0]
    _wait_for(lambda: victim.exists() and victim.read_bytes().count(b"\n") >= 1)
    procs[0].send_signal(signal.SIGKILL)
    assert procs[0].wait(timeout=60) == -signal.SIGKILL
    assert [p.wait(timeout=300) for p in procs[1:]] == [0, 0]
    first = _records(outs)
    _assert_no_duplicate(first)
    # the killed worker's leases run out (worker registry and state owner)
    _wait_for(lambda: not server.keys("kill:state:owner:*") and _registry_expired(server, "kill:news:workers"))
    rerun = tmp_path / "rerun.jsonl"
    assert _worker(url, demo_site, rerun).wait(timeout=300) == 0
    _assert_exactly_once(_records([*outs, rerun]))
    assert server.hlen("kill:state:pending") == 0


def _assert_no_duplicate(records: list[dict[str, object]]) -> None:
    hashes = Counter(r["content_hash"] for r in records)
    assert [h for h, n in hashes.items() if n > 1] == []


def _registry_expired(server: redis.Redis, key: str) -> bool:
    seconds, micros = server.time()
    now_ms = seconds * 1000 + micros // 1000
    return all(score < now_ms for _, score in server.zrange(key, 0, -1, withscores=True))


# -- versions (the scenario of tests/unit/test_store_versions.py, over Redis) ----------------------------
def test_versions_over_redis(server: redis.Redis, redis_port: int, tmp_path: Path) -> None:
    from support.versions import run_versions_scenario

    def open_store() -> RedisStateStore:
        store = open_state(_url(redis_port, prefix="v", commit="export", lease=2))
        assert isinstance(store, RedisStateStore)
        return store

    def kill(store: object) -> None:
        # what a SIGKILL leaves: no settling, the lease gone (as when it expires); the next store
        # settles the dead owner's claims from its output file
        assert isinstance(store, RedisStateStore)
        store._closed.set()
        store.client.delete(store._lease_key)
        store.client.close()

    run_versions_scenario(tmp_path, open_store, kill)
