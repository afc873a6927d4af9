"""Bytes Redis holds per million seen URLs, content hashes and request fingerprints.

Starts its own redis-server (from PATH) on 127.0.0.1 on a free port, unless ``--url`` is given,
inserts ``--count`` realistic members of each kind in the form the shared crawl stores them,
reads ``INFO memory`` ``used_memory`` before and after each kind, and prints the figure per
member and per million (extrapolated linearly; a Redis SET's bucket array grows by doubling,
so the true figure for other counts is within about ±10 %).

    .venv/bin/python bench/redis_memory.py [--count 200000] [--url redis://127.0.0.1:6379/15]

Kinds measured:

* ``state urls``: the state store's seen-URL set (16-byte BLAKE2b digests of the URL);
* ``state hashes``: the state store's content-hash set (the 32 bytes of a sha256);
* ``claim (url + hash)``: both, written by ``RedisStateStore.claim`` itself (the real path);
* ``claim_near (url + hash + signature)``: the same through ``claim_near`` (near-duplicates on):
  a distinct article's signature and its 20 band entries too (``bench/neardup_store.py`` shows
  how the figure per article falls as the store grows, up to a million);
* ``dupefilter``: scrapy-redis's request fingerprint set (40-character hex SHA-1 strings);
* ``raw urls``: for comparison, a SET of the URL strings themselves;
* ``queue``: scrapy-redis's priority queue, per waiting request (a pickled request in a ZSET).
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.core.hashing import content_hash
from pipelines.run import neardup
from pipelines.store.redis import RedisStateStore, hash_member, url_member

WORDS = [
    "processeur", "portables", "autonomie", "smartphone", "pliable", "batterie", "europe", "regulation",
    "intelligence", "artificielle", "donnees", "cloud", "souverain", "cybersecurite", "rancongiciel", "hopital",
    "fibre", "optique", "deploiement", "operateurs", "satellite", "constellation", "lancement", "voiture",
    "electrique", "recharge", "bornes", "jeux", "video", "console", "abonnement", "streaming", "prix", "hausse",
    "semi-conducteurs", "usine", "puces", "memoire", "startup", "levee", "fonds", "licenciements", "reseau",
    "social", "moderation",
]
SITES = ("www.numerama.com", "www.01net.com", "www.frandroid.com", "www.lemondeinformatique.fr", "www.zdnet.fr")


def realistic_urls(count: int, seed: int = 7) -> Iterator[str]:
    rng = random.Random(seed)
    for i in range(count):
        slug = "-".join(rng.choice(WORDS) for _ in range(rng.randint(5, 10)))
        section = rng.choice(("tech", "high-tech", "actualites", "mobilite", "business", "sciences"))
        yield f"https://{rng.choice(SITES)}/{section}/{2020 + i % 7}/{1 + i % 12:02d}/{slug}-{100000 + i}.html"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not on PATH (apt-get install redis-server), or pass --url")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", workdir],
            stdout=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(port=port)
            for _ in range(200):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            client.close()
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def measure(client: redis.Redis, fill: Callable[[], None]) -> int:
    client.flushdb()
    before = used_memory(client)
    fill()
    return used_memory(client) - before


def sadd_all(client: redis.Redis, key: str, members: Iterator[bytes | str], batch: int = 5000) -> None:
    chunk: list[bytes | str] = []
    for member in members:
        chunk.append(member)
        if len(chunk) == batch:
            client.sadd(key, *chunk)
            chunk = []
    if chunk:
        client.sadd(key, *chunk)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--url", help="an existing Redis (its current database is FLUSHED); default: start one")
    args = parser.parse_args(argv)
    with redis_server() if args.url is None else _given(args.url) as url:
        version = server_version(url)
        results = run(url, args.count)
    width = max(len(name) for name in results)
    print(f"{args.count} members per kind, redis-server {version}")
    print(f"{'kind':<{width}}  bytes/member  MB per million")
    for name, delta in results.items():
        per = delta / args.count
        print(f"{name:<{width}}  {per:12.1f}  {per:14.1f}")
    return 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


def server_version(url: str) -> str:
    client = redis.Redis.from_url(url)
    try:
        return str(client.info("server")["redis_version"])
    finally:
        client.close()


def run(url: str, count: int) -> dict[str, int]:
    from scrapy import Request
    from scrapy_redis.dupefilter import RFPDupeFilter
    from scrapy_redis.queue import PriorityQueue

    client = redis.Redis.from_url(url)
    urls = list(realistic_urls(count))
    results: dict[str, int] = {}
    results["state urls"] = measure(client, lambda: sadd_all(client, "b:urls", (url_member(u) for u in urls)))
    hashes = [content_hash(f"article {i}: {u}") for i, u in enumerate(urls)]
    results["state hashes"] = measure(client, lambda: sadd_all(client, "b:hashes", (hash_member(h) for h in hashes)))

    def claim_all() -> None:
        store = RedisStateStore(redis.Redis.from_url(url), "b")
        try:
            for h, u in zip(hashes, urls, strict=True):
                store.claim(h, u)
        finally:
            store.close()

    results["claim (url + hash)"] = measure(client, claim_all)

    def claim_near_all() -> None:
        store = RedisStateStore(redis.Redis.from_url(url), "b")
        rng = random.Random(5)
        try:
            for h, u in zip(hashes, urls, strict=True):
                sig = neardup.from_values([rng.getrandbits(32) for _ in range(neardup.NUM_PERM)])
                store.claim_near(h, u, sig, h, "drop", neardup.THRESHOLD)
        finally:
            store.close()

    results["claim_near (url + hash + signature)"] = measure(client, claim_near_all)
    dupefilter = RFPDupeFilter(client, "b:dupefilter")
    results["dupefilter"] = measure(
        client, lambda: sadd_all(client, "b:dupefilter", (dupefilter.request_fingerprint(Request(u)) for u in urls))
    )
    results["raw urls"] = measure(client, lambda: sadd_all(client, "b:raw", iter(urls)))

    class _Spider:
        name = "news"

        def parse(self, response: object) -> None:
            return None

    def queue_all() -> None:
        spider = _Spider()
        queue = PriorityQueue(client, spider, "b:requests")
        with client.pipeline(transaction=False) as pipe:
            queue.server = pipe
            for i, u in enumerate(urls):
                queue.push(Request(u, callback=spider.parse, meta={"site": "demo"}))
                if i % 5000 == 4999:
                    pipe.execute()
            pipe.execute()

    results["queue"] = measure(client, queue_all)
    client.flushdb()
    client.close()
    return results


if __name__ == "__main__":
    raise SystemExit(main())
