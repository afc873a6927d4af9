"""Near-duplicate store cost: size per million first copies, and lookup time from 10k to 1M stored.

    .venv/bin/python bench/neardup_store.py [--store sqlite|redis|both] [--sizes 10000,100000,1000000]
                                            [--probes 2000] [--url redis://…] [--dir DIR] [--json FILE]

Fills a store through its real ``claim_near`` (``commit="claim"``, policy ``drop``) with
signatures of distinct articles: random 32-bit MinHash values (what rensa gives for unrelated
texts: they agree on a value with odds 2⁻³²), their bands and a ``sha256:…`` id, as the dedup
step stores a first copy. At every size in ``--sizes`` it times ``--probes`` more ``claim_near``
calls of new signatures (each is a lookup of 20 bands and a write, as for a new article), and
``--probes`` calls of near-duplicates of stored ones (a lookup that finds a match and compares
signatures), and reads the store's size:

* SQLite: the database file after a WAL checkpoint (``state.sqlite3``, the URL and hash tables
  included: what a state folder holds per million articles);
* Redis: ``INFO memory`` ``used_memory`` growth (``bench/redis_memory.py`` has the per-kind
  figures of the other state keys). Starts its own redis-server unless ``--url`` is given.

The cost of a signature itself (shingles + MinHash) is the ``dedup`` stage of ``bench/speed.py``.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipelines.core.hashing import content_hash
from pipelines.run import neardup
from pipelines.store import DedupStore, SQLiteStateStore


def random_signature(rng: random.Random) -> neardup.Signature:
    return neardup.from_values([rng.getrandbits(32) for _ in range(neardup.NUM_PERM)])


def near_copy(rng: random.Random, values: list[int], changed: int = 12) -> neardup.Signature:
    """A near-duplicate: the same values but ``changed`` of them (estimated similarity ~0.9)."""
    copy = list(values)
    for at in rng.sample(range(len(copy)), changed):
        copy[at] = rng.getrandbits(32)
    return neardup.from_values(copy)


@contextmanager
def opened(kind: str, url: str | None, folder_in: str | None = None) -> Iterator[tuple[DedupStore, Any]]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(dir=folder_in) as folder:
            store = SQLiteStateStore(Path(folder) / "state.sqlite3")
            try:
                yield store, Path(folder) / "state.sqlite3"
            finally:
                store.close()
        return
    import redis
    from redis_memory import redis_server

    from pipelines.store.redis import RedisStateStore

    with redis_server() if url is None else _given(url) as server:
        client = redis.Redis.from_url(server)
        client.flushdb()
        store = RedisStateStore(redis.Redis.from_url(server), "nb")
        try:
            yield store, client
        finally:
            store.close()
            client.flushdb()
            client.close()


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


def size_of(kind: str, handle: Any) -> int:
    if kind == "sqlite":
        with sqlite3.connect(handle) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(Path(handle).stat().st_size)
    return int(handle.info("memory")["used_memory"])


def run(kind: str, sizes: list[int], probes: int, url: str | None, folder: str | None = None) -> list[dict[str, Any]]:
    rng = random.Random(11)
    rows = []
    with opened(kind, url, folder) as (store, handle):
        base = size_of(kind, handle)
        stored = 0
        kept: list[list[int]] = []
        for size in sizes:
            started = time.perf_counter()
            while stored < size:
                values = [rng.getrandbits(32) for _ in range(neardup.NUM_PERM)]
                if len(kept) < probes:
                    kept.append(values)
                digest = content_hash(f"article {stored}")
                claimed, match = store.claim_near(digest, f"https://news.example/{stored}", neardup.from_values(values),
                                                  digest, "drop", neardup.THRESHOLD)
                assert claimed and match is None
                stored += 1
            fill = time.perf_counter() - started
            size_bytes = size_of(kind, handle) - base
            new_ms, near_ms = [], []
            for i in range(probes):
                sig = random_signature(rng)
                digest = content_hash(f"probe {size} {i}")
                t = time.perf_counter()
                store.claim_near(digest, "", sig, digest, "drop", neardup.THRESHOLD)
                new_ms.append((time.perf_counter() - t) * 1000)
                copy = near_copy(rng, kept[i % len(kept)])
                digest = content_hash(f"copy {size} {i}")
                t = time.perf_counter()
                claimed, match = store.claim_near(digest, "", copy, digest, "drop", neardup.THRESHOLD)
                near_ms.append((time.perf_counter() - t) * 1000)
                assert not claimed and match is not None
            stored += probes  # the new probes were stored too
            row = {
                "store": kind, "stored": stored, "bytes_per_article": size_bytes / stored,
                "mb_per_million": size_bytes / stored,
                "new_ms_median": statistics.median(new_ms), "new_ms_p99": sorted(new_ms)[int(0.99 * probes)],
                "near_ms_median": statistics.median(near_ms), "near_ms_p99": sorted(near_ms)[int(0.99 * probes)],
                "fill_s": fill,
            }
            rows.append(row)
            print(f"{kind:6} {size:>9,} stored  {row['bytes_per_article']:7.0f} B/article "
                  f"({row['mb_per_million']:6.0f} MB per million)  claim of a new article "
                  f"{row['new_ms_median']:.3f} ms (p99 {row['new_ms_p99']:.3f})  of a near copy "
                  f"{row['near_ms_median']:.3f} ms (p99 {row['near_ms_p99']:.3f})", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("sqlite", "redis", "both"), default="both")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--probes", type=int, default=2000)
    parser.add_argument("--url", help="an existing Redis (its current database is FLUSHED); default: start one")
    parser.add_argument("--dir", help="where the SQLite state is made (default: the system's temporary folder; "
                                      "/dev/shm leaves the disk's write latency out)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    kinds = ("sqlite", "redis") if args.store == "both" else (args.store,)
    rows = [row for kind in kinds for row in run(kind, sizes, args.probes, args.url, args.dir)]
    if args.json:
        args.json.write_bytes(orjson.dumps(rows, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
