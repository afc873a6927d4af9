"""The crawl's cleaning pool (``pipelines.cleanpool.LoopPool``): real worker processes driven from
an asyncio loop, records byte-identical to the in-process cleaner, a killed worker replaced."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from pipelines.cleanpool import LoopPool
from pipelines.core import Cleaner, CleanOptions, Drop, Page
from pipelines.record import dumps

ARTICLES = Path(__file__).resolve().parents[1] / "fixtures" / "demo_site" / "site" / "articles"


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
    async def run() -> tuple[object, list[object], int, list[int]]:
        pool = LoopPool(2, CleanOptions(), "forkserver", os.getpid())
        pool.start(asyncio.get_running_loop())
        try:
            await wait_ready(pool)
            first = pool.clean(pages()[0])  # dispatched at once to an idle worker
            busy = [w for w in pool.workers if w.job is not None]
            assert len(busy) == 1
            victim = busy[0].process.pid
            os.kill(victim, signal.SIGKILL)  # before it can have cleaned the page
            died = await first
            later = list(await asyncio.gather(*(pool.clean(page) for page in pages())))
            pids = [w.process.pid for w in pool.workers]
            assert victim not in pids
            return died, later, pool.restarts, pids
        finally:
            pool.close()

    died, later, restarts, pids = asyncio.run(run())
    assert isinstance(died, Drop) and died.reason == "worker_died"
    assert restarts == 1
    cleaner = Cleaner(CleanOptions())
    assert [dumps(r) for r in later if isinstance(r, dict)] == [
        dumps(r) for r in (cleaner.clean(page) for page in pages()) if isinstance(r, dict)
    ]
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
