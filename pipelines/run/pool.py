"""The crawl's cleaning pool (:class:`LoopPool`) and its worker side. No Scrapy import: a worker
process loads only the cleaning core (and, under ``forkserver``, forks from a server that
preloaded it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

from pipelines.core.cleaner import Cleaner, CleanOptions, Drop, Page
from pipelines.core.record import Record
from pipelines.reasons import WORKER_DIED

_CLEANER: Cleaner | None = None


def init_worker(options: CleanOptions, parent_pid: int | None = None) -> None:
    """Pool initializer: one cleaner per worker (rules compiled, language detector seeded).

    With ``parent_pid``, a watchdog thread ends the worker when that process is gone: a crawl
    killed with SIGKILL cannot stop its pool, and the workers would otherwise wait for work
    forever (they hold both ends of the task queue).
    """
    global _CLEANER
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    _CLEANER = Cleaner(options)
    if parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True).start()


def _watch_parent(pid: int, interval: float = 1.0) -> None:
    while True:
        time.sleep(interval)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # the pid was reused by another user's process: ours is gone
            os._exit(1)


def worker_cleaner() -> Cleaner:
    """This worker's cleaner (built by :func:`init_worker`; both pools' workers use it)."""
    assert _CLEANER is not None, "worker not initialised"
    return _CLEANER


def clean(page: Page) -> Record | Drop:
    return worker_cleaner().clean(page)


# -- the pool: workers fed over pipes from the event loop ------------------------------------------
#: Pipe buffer asked for (Linux ``F_SETPIPE_SZ``): a page that fits is written at once, even while
#: its worker is busy with the previous one, so the event loop never waits for a worker.
PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031
#: Pages handed to a worker at once: the one it cleans and the next, waiting in its pipe, so a
#: worker that finishes starts the next page without waiting for the crawl's process to be
#: scheduled (docs/speed.md measures both).
DEPTH = 2


def _grow_pipe(fd: int) -> int:
    """Ask for a :data:`PIPE_BYTES` buffer; the buffer size obtained (64 KiB if refused)."""
    try:
        import fcntl

        return int(fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_BYTES))
    except (ImportError, OSError):  # not Linux, or over /proc/sys/fs/pipe-max-size
        return 1 << 16


def worker_main(tasks: Connection, results: Connection, options: CleanOptions, parent_pid: int | None) -> None:
    """A pool worker: build the cleaner, say ready, then clean every page read from ``tasks`` and
    send back ``(True, record or Drop)`` or ``(False, error text)``, until ``tasks`` is closed."""
    init_worker(options, parent_pid)
    results.send((True, ("ready", os.getpid())))
    while True:
        try:
            page = tasks.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[bool, Any] = (True, clean(page))
        except Exception as exc:  # not a bad page (the core never raises for one): a bug, reported
            reply = (False, f"{type(exc).__name__}: {exc}")
        results.send(reply)


class _Worker:
    def __init__(self, process: Any, tasks: Connection, results: Connection, pipe_bytes: int) -> None:
        self.process = process
        self.tasks = tasks
        self.results = results
        self.pipe_bytes = pipe_bytes
        self.ready = False
        #: pages sent and not answered yet, the one being cleaned first
        self.jobs: deque[tuple[Page, asyncio.Future[Record | Drop]]] = deque()

    def can_take(self, page: Page) -> bool:
        """Idle, or busy with one page and the next fits in the task pipe (sending it cannot
        block the event loop while the worker is busy)."""
        if not self.jobs:
            return True
        return len(self.jobs) < DEPTH and len(page.body) + 65536 <= self.pipe_bytes


class LoopPool:
    """Cleaning worker processes driven from an asyncio event loop, without helper threads.

    Each worker has a task pipe and a result pipe; the loop watches the result pipes
    (``add_reader``) and hands pages out from a FIFO queue, :data:`DEPTH` per worker (the one it
    cleans and the next). A :class:`concurrent.futures.ProcessPoolExecutor` does the same with a
    queue-feeding thread and a result thread per pool, which cost the crawl's process CPU per
    page and contend for its GIL. A worker that dies costs the page it was
    cleaning (``Drop("worker_died")``) and is replaced; the other workers go on.
    """

    def __init__(self, size: int, options: CleanOptions, start_method: str = "forkserver",
                 parent_pid: int | None = None) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        self.size = size
        self.options = options
        self.context: Any = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            self.context.set_forkserver_preload(["pipelines.run.pool"])
        self.parent_pid = parent_pid
        self.loop: asyncio.AbstractEventLoop | None = None
        self.workers: list[_Worker] = []
        self.queue: deque[tuple[Page, asyncio.Future[Record | Drop]]] = deque()
        self.restarts = 0
        self.closed = False

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start every worker (they build their cleaners while the crawl discovers pages)."""
        self.loop = loop
        for _ in range(self.size):
            self.workers.append(self._spawn())

    def _spawn(self) -> _Worker:
        assert self.loop is not None
        task_reader, task_writer = self.context.Pipe(duplex=False)
        result_reader, result_writer = self.context.Pipe(duplex=False)
        pipe_bytes = _grow_pipe(task_writer.fileno())
        _grow_pipe(result_writer.fileno())
        process = self.context.Process(
            target=worker_main, args=(task_reader, result_writer, self.options, self.parent_pid),
            name="newsclean-clean", daemon=True,
        )
        process.start()
        task_reader.close()
        result_writer.close()
        worker = _Worker(process, task_writer, result_reader, pipe_bytes)
        self.loop.add_reader(result_reader.fileno(), self._on_result, worker)
        return worker

    @property
    def ready(self) -> bool:
        """Every worker has built its cleaner."""
        return all(w.ready for w in self.workers)

    def clean(self, page: Page) -> asyncio.Future[Record | Drop]:
        assert self.loop is not None and not self.closed, "pool not started, or closed"
        future: asyncio.Future[Record | Drop] = self.loop.create_future()
        self.queue.append((page, future))
        self._dispatch()
        return future

    def _dispatch(self) -> None:
        # idle workers first, then a second page to each busy one
        for depth in range(DEPTH):
            for worker in self.workers:
                while self.queue and self.queue[0][1].cancelled():  # the crawl stopped waiting
                    self.queue.popleft()
                if not self.queue:
                    return
                if len(worker.jobs) == depth and worker.can_take(self.queue[0][0]):
                    job = self.queue.popleft()
                    worker.jobs.append(job)
                    with contextlib.suppress(OSError):  # the worker is gone: its result pipe tells
                        worker.tasks.send(job[0])

    def _on_result(self, worker: _Worker) -> None:
        try:
            ok, value = worker.results.recv()
        except (EOFError, OSError):
            self._replace(worker)
            return
        if ok and isinstance(value, tuple) and value[:1] == ("ready",):
            worker.ready = True
            return
        job = worker.jobs.popleft() if worker.jobs else None
        if job is not None and not job[1].done():
            if ok:
                job[1].set_result(value)
            else:
                job[1].set_exception(RuntimeError(f"cleaning {job[0].url} failed: {value}"))
        self._dispatch()

    def _replace(self, worker: _Worker) -> None:
        """``worker`` died (killed, out of memory): its page is a ``worker_died`` drop; a new
        worker takes its place."""
        assert self.loop is not None
        self.loop.remove_reader(worker.results.fileno())
        worker.results.close()
        worker.tasks.close()
        worker.process.join(timeout=1)
        job = worker.jobs.popleft() if worker.jobs else None
        if job is not None and not job[1].done():
            page = job[0]
            logging.getLogger(__name__).error("a cleaning worker died on %s; starting another", page.url)
            job[1].set_result(Drop(WORKER_DIED, page.source, page.url, "the worker process died while cleaning it"))
        # the page waiting behind it was never started: back to the front of the queue
        self.queue.extendleft(reversed(worker.jobs))
        worker.jobs.clear()
        if self.closed:
            return
        self.restarts += 1
        self.workers[self.workers.index(worker)] = self._spawn()
        self._dispatch()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the workers: pages not started are cancelled, workers end when their task pipe
        closes (those still busy after ``timeout`` seconds are terminated)."""
        self.closed = True
        while self.queue:
            self.queue.popleft()[1].cancel()
        for worker in self.workers:
            if self.loop is not None:
                self.loop.remove_reader(worker.results.fileno())
            worker.tasks.close()
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(1)
            worker.results.close()
            for _, future in worker.jobs:
                if not future.done():
                    future.cancel()
            worker.jobs.clear()
        self.workers = []
