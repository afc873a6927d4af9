"""The crawl's cleaning pool (``pipelines.run.pool.LoopPool``): real worker processes driven from
an asyncio loop, records byte-identical to the in-process cleaner, a killed worker replaced."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from pipelines.core.cleaner import Cleaner, CleanOptions, Drop, Page
from pipelines.core.record import dumps
from pipelines.run.pool import LoopPool

ARTICLES = Path(__file__).resolve().parents[2] / "fixtures" / "demo_site" / "site" / "articles"


def pages() -> list[Page]:
    found = sorted(p for p in ARTICLES.glob("*.html"))[:6]
    assert len(found) == 6
    return [Page(p.read_bytes(), url=f"http://127.0.0.1/articles/{p.name}", content_type="text/html") for p in found]


async def wait_ready(pool: LoopPool) -> None:
    for _ in range(1200):
        if pool.ready:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("pool workers never became ready")


def test_pool_records_equal_the_in_process_cleaner() -> None:
    async def run() -> list[object]:
        pool = LoopPool(2, CleanOptions(), "forkserver", os.getpid())
        pool.start(asyncio.get_running_loop())
        try:
            # more pages than workers, submitted at once: queued, each answered once, in any order
            return list(await asyncio.gather(*(pool.clean(page) for page in pages())))
        finally:
            pool.close()

    results = asyncio.run(run())
    cleaner = Cleaner(CleanOptions())
    expected = [cleaner.clean(page) for page in pages()]
    assert [type(r) for r in results] == [type(e) for e in expected]
    for got, want in zip(results, expected, strict=True):
        if isinstance(want, Drop):
            assert got == want
        else:
            assert isinstance(got, dict) and dumps(got) == dumps(want)


def test_a_killed_worker_costs_its_page_and_is_replaced() -> None:
    """Three pages on two workers: one worker holds two (the one it cleans, the next in its pipe).
    Killed at once, it costs the first (``worker_died``); the second is cleaned by a worker."""

    async def run() -> tuple[list[Any], int, int, list[Any], list[int]]:
        pool = LoopPool(2, CleanOptions(), "forkserver", os.getpid())
        pool.start(asyncio.get_running_loop())
        try:
            await wait_ready(pool)
            futures = [pool.clean(page) for page in pages()[:3]]  # dispatched at once
            doubled = [w for w in pool.workers if len(w.jobs) == 2]
            assert len(doubled) == 1
            victim = doubled[0].process.pid
            first = futures.index(doubled[0].jobs[0][1])
            os.kill(victim, signal.SIGKILL)  # before it can have cleaned its first page
            results = list(await asyncio.gather(*futures))
            later = list(await asyncio.gather(*(pool.clean(page) for page in pages())))
            pids = [w.process.pid for w in pool.workers]
            assert victim not in pids
            return results, first, pool.restarts, later, pids
        finally:
            pool.close()

    results, first, restarts, later, pids = asyncio.run(run())
    died = results[first]
    assert isinstance(died, Drop) and died.reason == "worker_died"
    assert restarts == 1
    cleaner = Cleaner(CleanOptions())
    expected: list[Any] = [cleaner.clean(page) for page in pages()]
    for n, result in enumerate(results):
        if n != first:
            assert dumps(result) == dumps(expected[n])
    assert [dumps(r) for r in later if isinstance(r, dict)] == [dumps(r) for r in expected if isinstance(r, dict)]
    for pid in pids:  # closed: every worker has ended
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_close_cancels_pages_not_started() -> None:
    async def run() -> list[bool]:
        pool = LoopPool(1, CleanOptions(), "forkserver", os.getpid())
        pool.start(asyncio.get_running_loop())
        futures = [pool.clean(page) for page in pages()]
        pool.close()
        return [f.cancelled() for f in futures]

    cancelled = asyncio.run(run())
    assert all(cancelled[1:])  # the first was handed to the worker; the others never started
