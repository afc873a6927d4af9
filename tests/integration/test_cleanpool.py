"""The cleaning pool of both paths (``pipelines.run.pool``): real worker processes, driven from an
asyncio loop (``LoopPool``, the crawl's) or iterated over chunks (``ChunkPool``, ``newsclean
clean``'s); records byte-identical to the in-process cleaner, step counters sent back with each
result, a killed worker replaced, a page that kills its worker retried alone or dropped."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from support.pool import DIE, DIE_ONCE, cleaner_origin, die_on_request

from pipelines.core.cleaner import Cleaner, CleanOptions, Drop, Page
from pipelines.core.record import dumps
from pipelines.run.pool import ChunkPool, LoopPool

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


def test_step_counters_come_back_with_the_results() -> None:
    """Each result carries what its page added to its worker's step counters: summed, they are
    the counters of one cleaner that cleaned the same pages."""
    counted: Counter[str] = Counter()

    async def run() -> None:
        pool = LoopPool(2, CleanOptions(), "forkserver", os.getpid(), on_counts=counted.update)
        pool.start(asyncio.get_running_loop())
        try:
            await asyncio.gather(*(pool.clean(page) for page in pages()))
        finally:
            pool.close()

    asyncio.run(run())
    cleaner = Cleaner(CleanOptions())
    for page in pages():
        cleaner.clean(page)
    assert counted == {key: count for key, count in cleaner.counters.items() if count}
    assert counted["unpack/in"] == len(pages())


def test_workers_that_cannot_start_are_not_restarted() -> None:
    """A cleaner that cannot be built (an unknown extraction mode): no endless restarts; the crawl's
    pages are ``error`` drops, ``newsclean clean``'s run fails."""
    bad = CleanOptions(extraction_mode="fast")

    async def run() -> tuple[list[Any], int]:
        pool = LoopPool(2, bad, "forkserver", os.getpid())
        pool.start(asyncio.get_running_loop())
        try:
            return list(await asyncio.gather(*(pool.clean(page) for page in pages()[:3]))), pool.restarts
        finally:
            pool.close()

    results, restarts = asyncio.run(run())
    assert [r.reason for r in results] == ["error"] * 3
    assert all("cannot start" in r.detail and "extraction_mode" in r.detail for r in results)
    assert restarts == 0
    chunk_pool = ChunkPool(2, bad, "forkserver", os.getpid())
    with pytest.raises(RuntimeError, match="cannot start"):
        list(chunk_pool.imap(pages(), chunk_size=2))
    assert chunk_pool.workers == []


# -- newsclean clean's front-end ------------------------------------------------------------------------
def expected_lines(items: list[Page]) -> list[bytes]:
    cleaner = Cleaner(CleanOptions())
    return [dumps(cleaner.clean(page)) for page in items]  # type: ignore[arg-type]


def with_url(page: Page, url: str) -> Page:
    return Page(page.body, url=url, content_type=page.content_type)


@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "unordered"])
def test_chunks_give_every_result_once(ordered: bool) -> None:
    items = pages() * 3
    pool = ChunkPool(2, CleanOptions(), "forkserver", os.getpid())
    got = [dumps(r) for r in pool.imap(items, chunk_size=4, window=1, ordered=ordered)]  # type: ignore[arg-type]
    want = expected_lines(items)
    assert (got if ordered else sorted(got)) == (want if ordered else sorted(want))
    assert pool.workers == [] and pool.restarts == 0


def test_a_page_whose_worker_dies_once_is_cleaned_again_alone(tmp_path: Path) -> None:
    """The worker dies on the second page of a chunk: that page is tried again alone and gives
    its record; the pages after it in the chunk, never started, are cleaned as usual."""
    items = pages()
    items[1] = with_url(items[1], f"http://127.0.0.1/second{DIE_ONCE}{tmp_path / 'died'}")
    pool = ChunkPool(2, CleanOptions(), "forkserver", os.getpid(), work=die_on_request, attempts=2)
    got = [dumps(r) for r in pool.imap(items, chunk_size=3, ordered=True)]  # type: ignore[arg-type]
    assert (tmp_path / "died").exists()
    assert got == expected_lines(items)
    assert pool.restarts == 1


def test_a_page_that_kills_every_worker_is_a_worker_died_drop() -> None:
    items = pages()
    items[4] = with_url(items[4], f"http://127.0.0.1/fatal{DIE}")
    counted: Counter[str] = Counter()
    pool = ChunkPool(2, CleanOptions(), "forkserver", os.getpid(), work=die_on_request, attempts=2,
                     on_counts=counted.update)
    results = list(pool.imap(items, chunk_size=3, ordered=True))
    died = results[4]
    assert isinstance(died, Drop) and died.reason == "worker_died" and died.url.endswith(DIE)
    assert pool.restarts == 2  # the first try, then the second, alone
    others = items[:4] + items[5:]
    assert [dumps(r) for r in results[:4] + results[5:]] == expected_lines(others)  # type: ignore[arg-type]
    cleaner = Cleaner(CleanOptions())  # the page that killed its workers is in no step counter
    for page in others:
        cleaner.clean(page)
    assert counted == {key: count for key, count in cleaner.counters.items() if count}


def test_workers_start_with_the_forkservers_cleaner_for_default_options() -> None:
    """The forkserver builds a cleaner with the default options once (pipelines.run.warm); a
    worker for the default options uses its copy, one for other options builds its own."""
    default = ChunkPool(2, CleanOptions(), "forkserver", os.getpid(), work=cleaner_origin)
    assert {r.detail for r in default.imap(pages()[:4], chunk_size=1)} == {"prebuilt"}  # type: ignore[union-attr]
    other = ChunkPool(1, CleanOptions(min_words=2), "forkserver", os.getpid(), work=cleaner_origin)
    assert {r.detail for r in other.imap(pages()[:2], chunk_size=1)} == {"own"}  # type: ignore[union-attr]
