# Over 300 lines: the claim, commit and recovery scripts (Lua) and the store that runs them belong together.
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
    <prefix>:state:versions         HASH url member -> the URL's noted versions (docs/dedup.md#versions)
    <prefix>:state:fetched          HASH url member -> last refetch that wrote nothing (epoch seconds)

``claim(content_hash, url)`` is one Lua script, so it is atomic across processes and
machines: of two workers claiming the same hash, exactly one gets ``True``.

Commit modes (``?commit=``):

* ``claim`` (default, as the SQLite store): a successful claim is permanent at once.
* ``export``: a claim stays *pending*, owned by this store's token, until ``commit(hash)``
  is called once its record is written (the shared crawl does it right after the feed
  export wrote the line) or until ``close()``. If the process dies, its lease expires and
  its pending claims are free again: the next run writes those articles instead of losing
  them. On the dead process's own host (same host name and PID namespace, its pid gone) the
  next store settles them at once, lease or not, after cutting a partial last line the process
  left in its output files (as the SQLite store does).

Outages (``?retry_seconds=S``, default 30): every call retries a lost connection with an
exponential backoff (0.05 s doubling up to 2 s) for at most ``S`` seconds in all, then raises
:class:`StateUnavailable` (one line; the run exits 1). A Redis that comes back *empty* (restarted
without persistence, flushed) is caught by the state's marker key ``<prefix>:state:marker``,
written when the state is first used and checked by every claim: a claim on a state whose
marker is gone, or a first use of an empty state whose output files already hold records,
raises :class:`StateLost` instead of writing every earlier article again. ``?fresh=1`` starts a
new state over existing outputs on purpose.

Bounding (``?retention_days=N``, default 0 = keep forever): members go to one set per UTC
day, each set expiring ``N`` days after its day ends; lookups read the ``N + 1`` newest day
sets. An article seen more than ``N``–``N + 1`` days ago is written again if it reappears.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import secrets
import socket
import struct
import threading
import time
import weakref
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from pipelines.run.neardup import NUM_PERM, Match, Signature, doc_ref
from pipelines.store.base import (
    COMMIT_MODES,
    StateLost,
    StateUnavailable,
    UrlVersion,
    cut_partial_line,
    hashes_in,
    near_algorithm_checked,
    records_in,
)

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "newsclean"
DEFAULT_LEASE = 60.0
#: Seconds a call keeps retrying a lost connection before the run stops (``?retry_seconds=``).
DEFAULT_RETRY_SECONDS = 30.0
_DAY = 86_400

# KEYS: pending, own lease, own claims, hash sets (nh, newest first), url sets (newest first), marker
# ARGV: hash member, url member, token, owner-key prefix, lease ms, nh, expireat (0: never),
#       commit now (1) or leave pending (0), treat pending claims of dead owners as free (1) or not
# Returns 1 (claimed), 0 (held by someone), 2 (held by a dead owner: settle it, then call again),
# -1 (the marker is gone: the state was emptied)
# Shared by _CLAIM and _CLAIM_NEAR: is a member written (1), free (0) or pending with a dead owner (2);
# add a member to a (day) set.
_HELD_AND_ADD = """
local function held(m, first, last)
  for i = first, last do
    if redis.call('SISMEMBER', KEYS[i], m) == 1 then return 1 end
  end
  local owner = redis.call('HGET', pending, m)
  if not owner then return 0 end
  if owner == token or redis.call('EXISTS', owner_prefix .. owner) == 1 then return 1 end
  if force == '1' then return 0 end
  return 2
end
local function add(key, m)
  redis.call('SADD', key, m)
  if expireat > 0 then redis.call('EXPIREAT', key, expireat) end
end
"""

_CLAIM = """
local pending, lease_key, claims = KEYS[1], KEYS[2], KEYS[3]
local hm, um, token, owner_prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local lease, nh, expireat, now, force = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8], ARGV[9]
if redis.call('EXISTS', KEYS[#KEYS]) == 0 then return -1 end
redis.call('SET', lease_key, '1', 'PX', lease)
""" + _HELD_AND_ADD + """local hash_key, url_key = KEYS[4], KEYS[4 + nh]
local h = held(hm, 4, 3 + nh)
if h == 2 then return 2 end
if h == 1 then
  if held(um, 4 + nh, 3 + 2 * nh) == 0 then add(url_key, um) end
  return 0
end
if now == '1' then
  redis.call('HDEL', pending, hm, um)
  add(hash_key, hm)
  add(url_key, um)
else
  redis.call('HSET', pending, hm, token, um, token)
  redis.call('HSET', claims, hm, um)
end
return 1
"""

# _CLAIM with near-duplicate detection. KEYS: as _CLAIM (nh hash sets, nh url sets), then the nh
# signature hashes, then nh x bands band buckets (day by day, band by band; newest day first), marker.
# ARGV: as _CLAIM, then doc ref, signature, first id, policy, equal values needed, band count,
# the band fields. Returns {1|0|2, first id or '', equal values} (0 with an id: dropped near-duplicate).
_CLAIM_NEAR = """
local pending, lease_key, claims = KEYS[1], KEYS[2], KEYS[3]
local hm, um, token, owner_prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local lease, nh, expireat, now, force = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8], ARGV[9]
local ref, sig, first_id, policy = ARGV[10], ARGV[11], ARGV[12], ARGV[13]
local need, nb = tonumber(ARGV[14]), tonumber(ARGV[15])
if redis.call('EXISTS', KEYS[#KEYS]) == 0 then return {-1, '', 0} end
redis.call('SET', lease_key, '1', 'PX', lease)
""" + _HELD_AND_ADD + """local hash_key, url_key = KEYS[4], KEYS[4 + nh]
local h = held(hm, 4, 3 + nh)
if h == 2 then return {2, '', 0} end
if h == 1 then
  if held(um, 4 + nh, 3 + 2 * nh) == 0 then add(url_key, um) end
  return {0, '', 0}
end
local sig_base, band_base, siglen = 4 + 2 * nh, 4 + 3 * nh, #sig
local best_n, best_id, seen = -1, '', {}
for d = 0, nh - 1 do
  for b = 1, nb do
    local refs = redis.call('HGET', KEYS[band_base + d * nb + b - 1], ARGV[15 + b])
    if refs then
      for i = 1, #refs, 8 do
        local r = string.sub(refs, i, i + 7)
        if not seen[r] then
          seen[r] = true
          for dd = 0, nh - 1 do
            local v = redis.call('HGET', KEYS[sig_base + dd], r)
            if v then
              local n = 0
              for j = 1, siglen, 2 do
                if string.byte(v, j) == string.byte(sig, j) and string.byte(v, j + 1) == string.byte(sig, j + 1) then
                  n = n + 1
                end
              end
              if n >= need and n > best_n then best_n, best_id = n, string.sub(v, siglen + 1) end
              break
            end
          end
        end
      end
    end
  end
end
if best_n >= 0 and policy == 'drop' then
  if held(um, 4 + nh, 3 + 2 * nh) == 0 then add(url_key, um) end
  return {0, best_id, best_n}
end
if now == '1' then
  redis.call('HDEL', pending, hm, um)
  add(hash_key, hm)
  add(url_key, um)
else
  redis.call('HSET', pending, hm, token, um, token)
  redis.call('HSET', claims, hm, um)
end
if best_n < 0 then
  redis.call('HSET', KEYS[sig_base], ref, sig .. first_id)
  if expireat > 0 then redis.call('EXPIREAT', KEYS[sig_base], expireat) end
  for b = 1, nb do
    local key = KEYS[band_base + b - 1]
    local refs = redis.call('HGET', key, ARGV[15 + b]) or ''
    redis.call('HSET', key, ARGV[15 + b], refs .. ref)
    if expireat > 0 then redis.call('EXPIREAT', key, expireat) end
  end
end
return {1, best_id, best_n}
"""

# KEYS: pending, owner's claims, hash set, url set, signature hashes (newest first); ARGV: hash
# member, url member, owner token, expireat, commit (1) or release (0), doc ref. Acts only on
# members the owner still holds; a release also forgets the claim's signature.
_SETTLE = """
local expireat, n = tonumber(ARGV[4]), 0
redis.call('HDEL', KEYS[2], ARGV[1])
for i = 1, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[3] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    if ARGV[5] == '1' then
      redis.call('SADD', KEYS[i + 2], ARGV[i])
      if expireat > 0 then redis.call('EXPIREAT', KEYS[i + 2], expireat) end
    elseif i == 1 then
      for k = 5, #KEYS do redis.call('HDEL', KEYS[k], ARGV[6]) end
    end
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

class BoundedRetry(redis.retry.Retry):
    """redis-py's :class:`~redis.retry.Retry` with a bound in *seconds*: a lost connection is
    retried with an exponential backoff (0.05 s doubling, at most 2 s apart) until ``seconds``
    have passed since Redis stopped answering, then the error is raised.

    "Since Redis stopped answering" is one moment for the whole process (reset by any call that
    succeeds): the connect retries redis-py nests inside a command's retry, the other threads and
    the other clients (the state store's, the shared crawl's queue) all count from it, so a
    process whose Redis is gone gives up ``seconds`` after the outage began, not once per call."""

    ERRORS: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError, socket.timeout)
    #: monotonic time of the first failure of the outage going on (None: Redis answers)
    down_since: float | None = None
    last_failure: float = 0.0

    def __init__(self, seconds: float = DEFAULT_RETRY_SECONDS) -> None:
        self.delays = redis.backoff.ExponentialBackoff(cap=2.0, base=0.05)
        super().__init__(self.delays, -1, self.ERRORS)
        self.seconds = seconds

    def __deepcopy__(self, memo: dict[int, Any]) -> BoundedRetry:  # redis-py copies it per connection
        return BoundedRetry(self.seconds)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BoundedRetry) and other.seconds == self.seconds

    __hash__ = redis.retry.Retry.__hash__

    def update_supported_errors(self, specified_errors: Any) -> None:
        """Keep :attr:`ERRORS` (redis-py adds ``retry_on_error`` here)."""

    def call_with_retry(self, do: Any, fail: Any, is_retryable: Any = None, with_failure_count: bool = False) -> Any:
        failures = 0
        while True:
            try:
                result = do()
            except self.ERRORS as error:
                failures += 1
                if with_failure_count:
                    fail(error, failures)
                else:
                    fail(error)
                if is_retryable is not None and not is_retryable(error):
                    raise
                now = time.monotonic()
                BoundedRetry.last_failure = now
                since = BoundedRetry.down_since
                if since is None:
                    BoundedRetry.down_since = since = now
                    logger.warning("Redis unreachable (%s): retrying for up to %g s", error, self.seconds)
                if now >= since + self.seconds:
                    raise
                time.sleep(min(self.delays.compute(failures), since + self.seconds - now))
            else:
                # Redis answers again: this call got through after failing, or no call failed for
                # longer than the backoff's longest step (a connect() that finds its socket still
                # set "succeeds" without asking the server: no evidence while others still fail)
                if BoundedRetry.down_since is not None and (
                        failures or time.monotonic() - BoundedRetry.last_failure > 2.5):
                    BoundedRetry.down_since = None
                return result


def bounded_client(server: str, retry_seconds: float = DEFAULT_RETRY_SECONDS, **kwargs: Any) -> redis.Redis:
    """A client of ``server`` whose calls retry a lost connection for ``retry_seconds`` at most
    (see :class:`BoundedRetry`); a server that stops answering times out after that long too."""
    return BoundedRedis.from_url(server, retry_seconds=retry_seconds, **kwargs)


class BoundedRedis(redis.Redis):
    """:class:`redis.Redis` built by :func:`bounded_client`'s rules: the shared crawl's scheduler
    gets it from scrapy-redis (``REDIS_PARAMS["redis_cls"]``, the bound as ``retry_seconds``)."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.Redis:
        seconds = float(kwargs.pop("retry_seconds", DEFAULT_RETRY_SECONDS))
        kwargs.pop("retry_on_timeout", None)
        kwargs.update(
            retry=BoundedRetry(seconds),
            socket_timeout=max(seconds, 1.0),
            socket_connect_timeout=min(max(seconds, 0.5), 5.0),
        )
        return super().from_url(url, **kwargs)


def _shown(url: str) -> str:
    """``url`` with its password, if any, masked (for a message)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


def _guarded(method: Any) -> Any:
    """Turn a Redis error that outlived the retry bound into :class:`StateUnavailable`."""

    @functools.wraps(method)
    def call(self: RedisStateStore, *args: Any, **kwargs: Any) -> Any:
        if self._broken:  # it failed once past the bound: fail at once, the run is stopping
            raise self._failure or unavailable(redis.ConnectionError("gave up earlier"), self.where)
        try:
            try:
                return method(self, *args, **kwargs)
            except redis.exceptions.NoScriptError:
                # a Redis restarted (empty) between the pipeline's script check and its commands:
                # none of them ran; once more, with the scripts loaded again (the marker then
                # tells whether the state was lost)
                return method(self, *args, **kwargs)
        except redis.RedisError as exc:
            self._broken = True
            self._failure = unavailable(exc, self.where)
            raise self._failure from None
        except StateLost as exc:
            self._broken, self._failure = True, exc
            raise
    return call


def unavailable(exc: BaseException, where: str) -> StateUnavailable:
    """The one line a run stops with when Redis stayed unreachable."""
    return StateUnavailable(f"Redis at {where} unreachable: {exc} (gave up after the retry bound, "
                            "?retry_seconds=); the outputs hold whole lines: run again once Redis is back")


# KEYS: versions; ARGV: url member, entry. Appends the entry to the URL's noted versions.
_NOTE_VERSION = """
local old = redis.call('HGET', KEYS[1], ARGV[1]) or ''
redis.call('HSET', KEYS[1], ARGV[1], old .. ARGV[2])
return 1
"""

# KEYS: versions; ARGV: url member, entry. Removes the entry from the URL's noted versions.
_FORGET_VERSION = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
local i = string.find(old, ARGV[2], 1, true)
if not i then return 0 end
local rest = string.sub(old, 1, i - 1) .. string.sub(old, i + #ARGV[2])
if rest == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], rest) end
return 1
"""

#: A noted version: version, claim time, hash member length, signature length; then the two.
_ENTRY = struct.Struct(">IdHH")


def version_entry(hm: bytes, version: int, noted_at: float, sig: bytes) -> bytes:
    return _ENTRY.pack(version, noted_at, len(hm), len(sig)) + hm + sig


def version_entries(value: bytes) -> list[tuple[bytes, int, float, bytes]]:
    """The noted versions of a URL: (hash member, version, claim time, signature)."""
    entries, at = [], 0
    while at + _ENTRY.size <= len(value):
        version, noted_at, hlen, slen = _ENTRY.unpack_from(value, at)
        at += _ENTRY.size
        entries.append((value[at:at + hlen], version, noted_at, value[at + hlen:at + hlen + slen]))
        at += hlen + slen
    return entries


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
    member = b"h" + content_hash.encode("utf-8")
    return member + b"\x00" if len(member) == 32 else member  # 32 bytes is a raw sha256


def near_ref(member: bytes) -> bytes:
    """The 8-byte reference a claim's near-duplicate signature is filed under."""
    return doc_ref(hash_text(member))


def url_member(url: str) -> bytes:
    """A URL as the 16-byte BLAKE2b digest of its UTF-8 bytes (collision odds ~2⁻⁶⁴ at 2³² URLs)."""
    return hashlib.blake2b(url.encode("utf-8"), digest_size=16).digest()


def parse_spec(spec: str) -> tuple[str, dict[str, str]]:
    """Split ``redis://…?prefix=…&lease=…`` into the server URL and our own options."""
    parts = urlsplit(spec)
    ours = {"prefix", "lease", "commit", "retention_days", "retry_seconds", "fresh"}
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
        fresh: bool = False,
        where: str = "",
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
        self.fresh = fresh
        self.where = where or prefix
        self.host = socket.gethostname()
        self.token = secrets.token_hex(8)
        #: Output files the records of new claims go to (set by the writer; used to settle the
        #: pending claims of a killed process: a whole line with the hash there means written).
        self.targets: list[str] = []
        self.recovered = {"committed": 0, "released": 0}
        base = f"{prefix}:state"
        self._base = base
        self._pending_key = f"{base}:pending"
        self._owners_key = f"{base}:owners"
        self._owner_prefix = f"{base}:owner:"
        self._lease_key = self._owner_prefix + self.token
        self._marker_key = f"{base}:marker"
        self._marked = False  # the marker was found or written by this store
        self._broken = False  # Redis stayed unreachable or was lost: close() touches it no more
        self._failure: StateUnavailable | None = None
        self._claim = client.register_script(_CLAIM)
        self._settle = client.register_script(_SETTLE)
        self._claim_near = client.register_script(_CLAIM_NEAR)
        self._near_checked = False
        self._seen = client.register_script(_SEEN)
        self._note_version = client.register_script(_NOTE_VERSION)
        self._forget_version = client.register_script(_FORGET_VERSION)
        self._versions_key = f"{base}:versions"
        self._fetched_key = f"{base}:fetched"
        self._noted: tuple[str, str, bytes] | None = None  # the last entry noted here (url, hash, entry)
        self._held: dict[bytes, bytes] = {}  # pending claims of this store: hash member -> url member
        self._announced: str | None = None  # the targets last written to this owner's info
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._renew()
        self.recover()
        self._heart = threading.Thread(target=self._beat, name=f"redis-state-lease-{self.token}", daemon=True)
        self._heart.start()
        LIVE_STORES.add(self)

    @classmethod
    def from_url(cls, spec: str) -> RedisStateStore:
        server, options = parse_spec(spec)
        seconds = float(options.get("retry_seconds", DEFAULT_RETRY_SECONDS))
        where = _shown(server)
        client = bounded_client(server, seconds)
        try:
            client.ping()
            return cls(
                client,
                options.get("prefix") or DEFAULT_PREFIX,
                lease=float(options.get("lease", DEFAULT_LEASE)),
                commit=options.get("commit", "claim"),
                retention_days=int(options.get("retention_days", 0)),
                fresh=options.get("fresh", "") in ("1", "true", "yes"),
                where=where,
            )
        except redis.RedisError as exc:
            client.close()
            raise unavailable(exc, where) from None

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

    def _claims_key(self, token: str) -> str:
        return f"{self._base}:claims:{token}"

    def _info_key(self, token: str) -> str:
        return f"{self._base}:info:{token}"

    # -- the store API -------------------------------------------------------------------------
    @_guarded
    def seen_url(self, url: str) -> bool:
        """True if ``url`` was claimed or recorded before (pending claims of dead stores excepted)."""
        keys = [self._pending_key, *self._sets("urls")]
        return bool(self._seen(keys=keys, args=[url_member(url), self._owner_prefix, self.token]))

    @_guarded
    def claim(self, content_hash: str, url: str) -> bool:
        """Atomic check-and-add of ``content_hash``: True if no worker holds it yet (keep the record).

        The URL is recorded as seen either way.
        """
        hm, um = hash_member(content_hash), url_member(url)
        deferred = self.commit_mode == "export"
        self._mark()
        if deferred:
            self._announce()
        result = self._run_claim(hm, um, deferred, force=False)
        if result == -1:
            raise self._lost()
        if result == 2:  # a killed process held it: settle what can be settled here, then decide
            self.recover()
            result = self._run_claim(hm, um, deferred, force=True)
        if result == 1 and deferred:
            with self._lock:
                self._held[hm] = um
        return result == 1

    def _run_claim(self, hm: bytes, um: bytes, deferred: bool, *, force: bool) -> int:
        hashes, urls = self._sets("hashes"), self._sets("urls")
        args: list[bytes | str | int] = [
            hm, um, self.token, self._owner_prefix, int(self.lease * 1000), len(hashes), self._expireat(),
            "0" if deferred else "1", "1" if force else "0",
        ]
        keys = [self._pending_key, self._lease_key, self._claims_key(self.token), *hashes, *urls, self._marker_key]
        return int(self._claim(keys=keys, args=args))

    @_guarded
    def claim_near(
        self, content_hash: str, url: str, sig: Signature, first_id: str, policy: str, threshold: float,
    ) -> tuple[bool, Match | None]:
        """:meth:`claim` with near-duplicate detection, in one script (atomic across workers);
        the rules are those of the SQLite store's ``claim_near``."""
        self._check_algorithm()
        hm, um = hash_member(content_hash), url_member(url)
        deferred = self.commit_mode == "export"
        self._mark()
        if deferred:
            self._announce()
        result = self._run_claim_near(hm, um, deferred, sig, first_id, policy, threshold, force=False)
        if int(result[0]) == -1:
            raise self._lost()
        if result[0] == 2:
            self.recover()
            result = self._run_claim_near(hm, um, deferred, sig, first_id, policy, threshold, force=True)
        status, found, equal = int(result[0]), _text(result[1]), int(result[2])
        match = Match(found, equal / NUM_PERM) if equal >= 0 and status in (0, 1) and found else None
        if status == 1 and deferred:
            with self._lock:
                self._held[hm] = um
        return status == 1, match

    def _run_claim_near(self, hm: bytes, um: bytes, deferred: bool, sig: Signature, first_id: str, policy: str,
                        threshold: float, *, force: bool) -> list[Any]:
        hashes, urls, sigs = self._sets("hashes"), self._sets("urls"), self._sets("near:sig")
        days = [key.removeprefix(f"{self._base}:hashes") for key in hashes]
        buckets = [f"{self._base}:near:b:{band[:3].hex()}{day}" for day in days for band in sig.bands]
        args: list[bytes | str | int] = [
            hm, um, self.token, self._owner_prefix, int(self.lease * 1000), len(hashes), self._expireat(),
            "0" if deferred else "1", "1" if force else "0",
            near_ref(hm), sig.values, first_id, policy, math.ceil(threshold * NUM_PERM - 1e-9), len(sig.bands),
            *(band[3:] for band in sig.bands),
        ]
        keys = [self._pending_key, self._lease_key, self._claims_key(self.token), *hashes, *urls, *sigs, *buckets,
                self._marker_key]
        return list(self._claim_near(keys=keys, args=args))

    def _mark(self) -> None:
        """Before the first claim: find the state's marker, or write it if the state is new.

        The marker's value is also kept on this machine (:func:`marker_file`). A state found empty
        although this machine used it before, or although the output files already hold records,
        was lost (unless ``?fresh=1``): :class:`StateLost`."""
        if self._marked:
            return
        local = marker_file(self.where, self.prefix)
        stored = self.client.get(self._marker_key)
        if stored is None:
            records = sum(records_in(target) for target in self.targets)
            known = local.is_file()
            if records or known:  # another process of this machine may have just created it
                stored = self.client.get(self._marker_key)  # (it keeps the file after its SET)
        if stored is None:
            if (records or known) and not self.fresh:
                why = (f"{records} records are already in {', '.join(self.targets)}" if records
                       else f"this machine used it before ({local})")
                raise StateLost(
                    f"the state {self.where} (prefix {self.prefix}) is empty but {why}: Redis lost its data "
                    "(restarted without persistence? see docs/shared-crawl.md); writing on would write every "
                    "earlier article again. Restore Redis, or add ?fresh=1 to the state URL to start a new state")
            mine = json.dumps({"created": time.time(), "host": self.host, "token": self.token})
            self.client.set(self._marker_key, mine, nx=True)
            stored = self.client.get(self._marker_key) or mine.encode()
        try:
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(_bytes(stored))
        except OSError as exc:  # the Redis marker still guards the run
            logger.warning("could not keep the state marker in %s: %s", local, exc)
        self._marked = True

    def _lost(self) -> StateLost:
        self._broken = True
        return StateLost(
            f"the state {self.where} (prefix {self.prefix}) was emptied while in use (Redis restarted without "
            "persistence, or flushed; see docs/shared-crawl.md): stopped so that no article is written twice. "
            "Restore Redis, or run again with ?fresh=1 to start a new state")

    # -- versions (docs/dedup.md#versions; the rules of the SQLite store) ------------------------
    @_guarded
    def url_version(self, url: str) -> UrlVersion | None:
        """The URL's last written record: the highest noted version whose hash is committed."""
        um = url_member(url)
        value = self.client.hget(self._versions_key, um)
        if not value:
            return None
        touched = self.client.hget(self._fetched_key, um)
        hashes = self._sets("hashes")
        for hm, version, noted_at, sig in sorted(version_entries(_bytes(value)), key=lambda e: -e[1]):
            with self.client.pipeline(transaction=False) as pipe:
                for key in hashes:
                    pipe.sismember(key, hm)  # type: ignore[arg-type]  # redis-py takes bytes members
                if not any(pipe.execute()):
                    continue
            fetched = max(noted_at, float(_text(touched)) if touched else 0.0)
            return UrlVersion(hash_text(hm), version, sig, fetched)
        return None

    @_guarded
    def note_version(self, url: str, content_hash: str, version: int, sig: bytes) -> None:
        """Note the version a record is about to be claimed as (it counts once committed)."""
        entry = version_entry(hash_member(content_hash), version, time.time(), sig)
        with self._lock:
            self._noted = (url, content_hash, entry)
        self._note_version(keys=[self._versions_key], args=[url_member(url), entry])

    @_guarded
    def forget_version(self, url: str, content_hash: str) -> None:
        """Forget a noted version whose claim failed (its hash was held)."""
        with self._lock:
            noted, self._noted = self._noted, None
        if noted is not None and noted[:2] == (url, content_hash):
            self._forget_version(keys=[self._versions_key], args=[url_member(url), noted[2]])

    @_guarded
    def touch(self, url: str) -> None:
        """The URL was fetched again and nothing was written: its fetch time is now."""
        self.client.hset(self._fetched_key, url_member(url), repr(time.time()))

    def _check_algorithm(self) -> None:
        if self._near_checked:
            return
        key = f"{self._base}:near:algorithm"
        stored = self.client.get(key)
        mine = near_algorithm_checked(_text(stored) if stored is not None else None, self._base)
        if stored is None:
            self.client.set(key, mine, nx=True)
        self._near_checked = True

    def _announce(self) -> None:
        """Register this owner (host, output files) so a killed process's claims can be settled."""
        targets = json.dumps(self.targets)
        if targets == self._announced:
            return
        with self.client.pipeline() as pipe:
            pipe.hset(self._info_key(self.token),
                      mapping={"host": self.host, "pid": os.getpid(), "pidns": _pid_namespace(),
                               "targets": targets})
            pipe.sadd(self._owners_key, self.token)
            pipe.execute()
        self._announced = targets

    @_guarded
    def commit(self, content_hash: str) -> bool:
        """Make a pending claim of this store permanent (its record is written). False if none."""
        hm = hash_member(content_hash)
        with self._lock:
            um = self._held.pop(hm, None)
        if um is None:
            return False
        return self._settle_members(self.token, [(hm, um)], commit=True) > 0

    @_guarded
    def release(self, content_hash: str) -> bool:
        """Forget a pending claim whose record will not be written. False if there is none."""
        hm = hash_member(content_hash)
        with self._lock:
            um = self._held.pop(hm, None)
        if um is None:
            return False
        return self._settle_members(self.token, [(hm, um)], commit=False) > 0

    def _settle_members(self, token: str, members: list[tuple[bytes, bytes]], *, commit: bool) -> int:
        if not members:
            return 0
        hash_key, url_key = self._sets("hashes")[0], self._sets("urls")[0]
        expireat = self._expireat()
        keys = [self._pending_key, self._claims_key(token), hash_key, url_key, *self._sets("near:sig")]
        flag = "1" if commit else "0"
        with self.client.pipeline(transaction=False) as pipe:
            for hm, um in members:
                self._settle(keys=keys, args=[hm, um, token, expireat, flag, near_ref(hm)], client=pipe)
            return sum(int(n) for n in pipe.execute())

    def pending(self) -> int:
        """Claims of this store not committed yet."""
        with self._lock:
            return len(self._held)

    # -- recovery ------------------------------------------------------------------------------
    @_guarded
    def recover(self) -> dict[str, int]:
        """Settle the pending claims of dead owners that ran on this host: commit those whose
        line is in one of their output files, release the others. Dead owners of other hosts are
        left to their host; a claim meeting one of their hashes takes it over."""
        live_targets: set[str] = set()
        dead: list[tuple[str, list[str]]] = []
        for raw in self.client.smembers(self._owners_key):
            token = raw.decode() if isinstance(raw, bytes) else str(raw)
            if token == self.token:
                continue
            info = {_text(k): _text(v) for k, v in self.client.hgetall(self._info_key(token)).items()}
            targets = json.loads(info.get("targets", "[]"))
            here = info.get("host", self.host) == self.host
            alive = bool(self.client.exists(self._owner_prefix + token))
            if alive and here and info.get("pidns") == _pid_namespace() and not _pid_alive(info.get("pid")):
                # its process is gone though its lease runs on: close the window now (as the
                # SQLite store, whose lock goes with its process), not a lease later
                self.client.delete(self._owner_prefix + token)
                alive = False
            if alive or not here:
                live_targets.update(targets)
                continue
            dead.append((token, targets))
        for token, targets in dead:
            for target in targets:
                if target not in live_targets:  # no live writer appends to it: cut what a kill left
                    cut_partial_line(target)
            self._settle_owner(token, targets)
        return self.recovered

    def _settle_owner(self, token: str, targets: list[str]) -> None:
        claims = self.client.hgetall(self._claims_key(token))
        by_text = {hash_text(_bytes(hm)): (_bytes(hm), _bytes(um)) for hm, um in claims.items()}
        written: set[str] = set()
        for target in targets:
            written |= hashes_in(target, by_text)
        done = [by_text[text] for text in written]
        rest = [pair for text, pair in by_text.items() if text not in written]
        committed = self._settle_members(token, done, commit=True)
        released = self._settle_members(token, rest, commit=False)
        with self.client.pipeline() as pipe:
            pipe.delete(self._claims_key(token), self._info_key(token))
            pipe.srem(self._owners_key, token)
            pipe.execute()
        if claims:
            self.recovered["committed"] += len(done)
            self.recovered["released"] += len(rest)
            logger.info(
                "state %s: %d pending claims of %s committed (line written), %d released (%d, %d members)",
                self._base, len(done), token, len(rest), committed, released,
            )

    def close(self) -> None:
        """End the lease; settle what is still pending from the output files. Idempotent."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            self._held = {}
        try:
            if not self._broken:
                self.client.delete(self._lease_key)
                self._settle_owner(self.token, self.targets)
        except redis.RedisError as exc:  # the pending claims stay: the next run settles them
            logger.warning("state %s: could not settle this run's claims at close: %s", self.where, exc)
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
        # the lock is not held while renewing: a renewal retrying an outage must not hold up the
        # claims (they have their own bound) nor close()
        while not self._closed.wait(self.lease / 3):
            if self._broken:
                return
            try:
                self._renew()
            except redis.RedisError as exc:  # keep beating: the server may come back
                if not self._closed.is_set() and not self._broken:
                    logger.warning("could not renew the state lease %s: %s", self._lease_key, exc)


def marker_file(where: str, prefix: str) -> Path:
    """Where this machine keeps the marker of the state ``prefix`` on server ``where``:
    ``$NEWSCLEAN_MARKER_DIR``, else ``$XDG_STATE_HOME/newsclean/redis`` (``~/.local/state/…``)."""
    base = os.environ.get("NEWSCLEAN_MARKER_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"), "newsclean", "redis")
    name = hashlib.blake2b(f"{where}\n{prefix}".encode(), digest_size=12).hexdigest()
    return Path(base) / f"{name}.marker"


def _pid_namespace() -> str:
    """This process's PID namespace (two containers may share a host name, not their pids)."""
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


def _pid_alive(pid: str | None) -> bool:
    """Whether process ``pid`` of this host runs (True when unknown: the lease decides)."""
    if not pid:
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def hash_text(member: bytes) -> str:
    """The content hash a member stands for (inverse of :func:`hash_member`)."""
    if len(member) == 32:
        return "sha256:" + member.hex()
    return member[1:].rstrip(b"\x00").decode("utf-8")


def open_redis_state(spec: str) -> RedisStateStore:
    return RedisStateStore.from_url(spec)
