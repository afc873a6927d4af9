"""The run state in Redis: seen URLs and content hashes shared by every worker of a crawl.

Same API as the SQLite store (``seen_url``, ``claim``, ``close``), opened by
``open_state("redis://host:port/db?prefix=…")``. One Redis server (or a primary with
replicas) holds the state of all workers; Redis Cluster is not supported (the scripts touch
keys they compute).

Keys, under ``<prefix>`` (default ``newsclean``)::

    <prefix>:state:hashes[:<day>]   SET of content hashes written (32 raw bytes for sha256)
    <prefix>:state:urls[:<day>]     SET of seen URLs (16-byte BLAKE2b digests of the URL)
    <prefix>:state:pending          HASH member -> owner token: claims not committed yet
    <prefix>:state:owner:<token>    lease of a live store (expires ``lease`` s after its last sign)

``claim(content_hash, url)`` is one Lua script, so it is atomic across processes and
machines: of two workers claiming the same hash, exactly one gets ``True``.

Commit modes (``?commit=``):

* ``claim`` (default, as the SQLite store): a successful claim is permanent at once.
* ``export``: a claim stays *pending*, owned by this store's token, until ``commit(hash)``
  is called once its record is written (the shared crawl does it right after the feed
  export wrote the line) or until ``close()``. If the process dies, its lease expires and
  its pending claims are free again: the next run writes those articles instead of losing
  them.

Bounding (``?retention_days=N``, default 0 = keep forever): members go to one set per UTC
day, each set expiring ``N`` days after its day ends; lookups read the ``N + 1`` newest day
sets. An article seen more than ``N``–``N + 1`` days ago is written again if it reappears.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
import weakref
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "newsclean"
DEFAULT_LEASE = 60.0
COMMIT_MODES = ("claim", "export")
_DAY = 86_400

# KEYS: pending, own lease, hash sets (nh, newest first), url sets (newest first)
# ARGV: hash member, url member, token, owner-key prefix, lease ms, nh, expireat (0: never),
#       commit now (1) or leave pending (0)
_CLAIM = """
local pending, lease_key = KEYS[1], KEYS[2]
local hm, um, token, owner_prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local lease, nh, expireat, now = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
redis.call('SET', lease_key, '1', 'PX', lease)
local function held(m, first, last)
  for i = first, last do
    if redis.call('SISMEMBER', KEYS[i], m) == 1 then return true end
  end
  local owner = redis.call('HGET', pending, m)
  if not owner then return false end
  return owner == token or redis.call('EXISTS', owner_prefix .. owner) == 1
end
local function add(key, m)
  redis.call('SADD', key, m)
  if expireat > 0 then redis.call('EXPIREAT', key, expireat) end
end
local hash_key, url_key = KEYS[3], KEYS[3 + nh]
if held(hm, 3, 2 + nh) then
  if not held(um, 3 + nh, #KEYS) then add(url_key, um) end
  return 0
end
if now == '1' then
  redis.call('HDEL', pending, hm, um)
  add(hash_key, hm)
  add(url_key, um)
else
  redis.call('HSET', pending, hm, token, um, token)
end
return 1
"""

# KEYS: pending, own lease, hash set, url set; ARGV: hash member, url member, token, expireat
_COMMIT = """
local expireat, n = tonumber(ARGV[4]), 0
for i = 1, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[3] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('SADD', KEYS[i + 2], ARGV[i])
    if expireat > 0 then redis.call('EXPIREAT', KEYS[i + 2], expireat) end
    n = n + 1
  end
end
return n
"""

# KEYS: pending, url sets; ARGV: url member, owner-key prefix, token
_SEEN = """
for i = 2, #KEYS do
  if redis.call('SISMEMBER', KEYS[i], ARGV[1]) == 1 then return 1 end
end
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if not owner then return 0 end
if owner == ARGV[3] or redis.call('EXISTS', ARGV[2] .. owner) == 1 then return 1 end
return 0
"""

#: Stores open in this process (the shared crawl commits exported records through them).
LIVE_STORES: weakref.WeakSet[RedisStateStore] = weakref.WeakSet()


def hash_member(content_hash: str) -> bytes:
    """``sha256:<hex>`` as its 32 raw bytes; any other form as ``h`` + its UTF-8 bytes."""
    algorithm, _, hexdigest = content_hash.partition(":")
    if algorithm == "sha256" and len(hexdigest) == 64:
        try:
            return bytes.fromhex(hexdigest)
        except ValueError:
            pass
    return b"h" + content_hash.encode("utf-8")


def url_member(url: str) -> bytes:
    """A URL as the 16-byte BLAKE2b digest of its UTF-8 bytes (collision odds ~2⁻⁶⁴ at 2³² URLs)."""
    return hashlib.blake2b(url.encode("utf-8"), digest_size=16).digest()


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split ``redis://…?prefix=…&lease=…`` into the server URL and our own options."""
    parts = urlsplit(spec)
    ours = {"prefix", "lease", "commit", "retention_days"}
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = {k: v for k, v in query if k in ours}
    server = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query if k not in ours])))
    return server, options


def with_options(spec: str, **options: object) -> str:
    """``spec`` with our options set (the shared crawl adds ``commit=export``)."""
    parts = urlsplit(spec)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in options]
    query += [(k, str(v)) for k, v in options.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


class RedisStateStore:
    """Seen URLs and content hashes in Redis; atomic ``claim`` across processes and machines."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = DEFAULT_PREFIX,
        *,
        lease: float = DEFAULT_LEASE,
        commit: str = "claim",
        retention_days: int = 0,
    ) -> None:
        if commit not in COMMIT_MODES:
            raise ValueError(f"commit must be one of {COMMIT_MODES}, not {commit!r}")
        if lease <= 0 or retention_days < 0:
            raise ValueError("lease must be > 0 and retention_days >= 0")
        self.client = client
        self.prefix = prefix
        self.lease = lease
        self.commit_mode = commit
        self.retention_days = retention_days
        self.token = secrets.token_hex(8)
        base = f"{prefix}:state"
        self._base = base
        self._pending_key = f"{base}:pending"
        self._owner_prefix = f"{base}:owner:"
        self._lease_key = self._owner_prefix + self.token
        self._claim = client.register_script(_CLAIM)
        self._commit = client.register_script(_COMMIT)
        self._seen = client.register_script(_SEEN)
        self._held: dict[bytes, bytes] = {}  # pending claims of this store: hash member -> url member
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._renew()
        self._heart = threading.Thread(target=self._beat, name=f"redis-state-lease-{self.token}", daemon=True)
        self._heart.start()
        LIVE_STORES.add(self)

    @classmethod
    def from_url(cls, spec: str) -> RedisStateStore:
        server, options = parse_spec(spec)
        client = redis.Redis.from_url(server)
        client.ping()
        return cls(
            client,
            options.get("prefix") or DEFAULT_PREFIX,
            lease=float(options.get("lease", DEFAULT_LEASE)),
            commit=options.get("commit", "claim"),
            retention_days=int(options.get("retention_days", 0)),
        )

    # -- keys ----------------------------------------------------------------------------------
    def _sets(self, kind: str) -> list[str]:
        """The sets to look in, newest (the one written to) first."""
        if not self.retention_days:
            return [f"{self._base}:{kind}"]
        today = int(time.time()) // _DAY
        return [f"{self._base}:{kind}:{day}" for day in range(today, today - self.retention_days - 1, -1)]

    def _expireat(self) -> int:
        if not self.retention_days:
            return 0
        return (int(time.time()) // _DAY + 1 + self.retention_days) * _DAY

    # -- the store API -------------------------------------------------------------------------
    def seen_url(self, url: str) -> bool:
        """True if ``url`` was claimed or recorded before (pending claims of dead stores excepted)."""
        keys = [self._pending_key, *self._sets("urls")]
        return bool(self._seen(keys=keys, args=[url_member(url), self._owner_prefix, self.token]))

    def claim(self, content_hash: str, url: str) -> bool:
        """Atomic check-and-add of ``content_hash``: True if no worker holds it yet (keep the record).

        The URL is recorded as seen either way.
        """
        hm, um = hash_member(content_hash), url_member(url)
        hashes, urls = self._sets("hashes"), self._sets("urls")
        now = "1" if self.commit_mode == "claim" else "0"
        args: list[bytes | str | int] = [
            hm, um, self.token, self._owner_prefix, int(self.lease * 1000), len(hashes), self._expireat(), now,
        ]
        won = bool(self._claim(keys=[self._pending_key, self._lease_key, *hashes, *urls], args=args))
        if won and now == "0":
            with self._lock:
                self._held[hm] = um
        return won

    def commit(self, content_hash: str) -> bool:
        """Make a pending claim of this store permanent (its record is written). False if none."""
        hm = hash_member(content_hash)
        with self._lock:
            um = self._held.pop(hm, None)
        if um is None:
            return False
        return self._commit_members([(hm, um)]) > 0

    def _commit_members(self, members: list[tuple[bytes, bytes]]) -> int:
        if not members:
            return 0
        hash_key, url_key = self._sets("hashes")[0], self._sets("urls")[0]
        expireat = self._expireat()
        keys = [self._pending_key, self._lease_key, hash_key, url_key]
        with self.client.pipeline(transaction=False) as pipe:
            for hm, um in members:
                self._commit(keys=keys, args=[hm, um, self.token, expireat], client=pipe)
            return sum(int(n) for n in pipe.execute())

    def pending(self) -> int:
        """Claims of this store not committed yet."""
        with self._lock:
            return len(self._held)

    def close(self) -> None:
        """Commit what is still pending, end the lease. Idempotent."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            members, self._held = list(self._held.items()), {}
        try:
            self._commit_members(members)
            self.client.delete(self._lease_key)
        finally:
            LIVE_STORES.discard(self)
            self.client.close()

    def __enter__(self) -> RedisStateStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- lease ---------------------------------------------------------------------------------
    def _renew(self) -> None:
        self.client.set(self._lease_key, b"1", px=int(self.lease * 1000))

    def _beat(self) -> None:
        while not self._closed.wait(self.lease / 3):
            try:
                with self._lock:
                    if self._closed.is_set():
                        return
                    self._renew()
            except redis.RedisError as exc:  # keep beating: the server may come back
                logger.warning("could not renew the state lease %s: %s", self._lease_key, exc)


def open_redis_state(spec: str) -> RedisStateStore:
    return RedisStateStore.from_url(spec)
