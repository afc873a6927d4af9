# Over 300 lines: the worker side, the pool with its recovery of dead workers, and its two front-ends.
"""The one cleaning pool of both paths: the crawl's ``CleanPipeline`` and ``newsclean clean``.

Worker processes (``forkserver`` by default, the core preloaded) build one :class:`Cleaner` each,
then read chunks of work from a task pipe and answer every item on a result pipe: the record or
drop, and what the item added to the cleaner's step counters (:class:`~pipelines.run.stats.CountsSince`),
handed to ``on_counts``. Each worker holds :data:`DEPTH` chunks at most: the one it cleans and the
next, waiting in its pipe. No helper threads: the caller drives the pool, through one of two
front-ends:

* :class:`LoopPool`, for the crawl: ``await pool.clean(page)`` on the asyncio loop the reactor
  runs, which watches the result pipes (``add_reader``);
* :class:`ChunkPool`, for ``newsclean clean``: ``pool.imap(tasks, ...)`` sends chunks with a bounded
  number in flight and yields the results, in input order or as they come, waiting on the result
  pipes (:func:`multiprocessing.connection.wait`).

A worker that dies (killed, out of memory, a crash in a C extension) is replaced. The item it was
cleaning is tried again alone while it has ``attempts`` left, else it is dropped as
``worker_died``; the items behind it, never started, go back to the front of the queue. A worker
ends by itself when its parent process is gone. No Scrapy import.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any, NamedTuple

from pipelines.core.page import CleanOptions, Drop, Page
from pipelines.core.record import Record
from pipelines.reasons import WORKER_DIED
from pipelines.run.stats import CountsSince

if TYPE_CHECKING:
    import asyncio

    from pipelines.core.cleaner import Cleaner

logger = logging.getLogger(__name__)

#: What the forkserver imports before it forks a worker: the cleaning core (trafilatura, lxml,
#: langdetect, the rules) and a cleaner with the default options (:mod:`pipelines.run.warm`), so
#: that a worker starts with both (the parent never loads them).
CORE_MODULES = ("pipelines.run.warm",)

Result = Record | Drop
#: what a worker does with one item: ``work(cleaner, item) -> record or drop``
Work = Callable[["Cleaner", Any], Result]

_CLEANER: Cleaner | None = None


# -- the worker side ------------------------------------------------------------------------------
def init_worker(options: CleanOptions, parent_pid: int | None = None) -> None:
    """One cleaner per worker (rules compiled, language detector seeded).

    With ``parent_pid``, a watchdog thread ends the worker when that process is gone: a run
    killed with SIGKILL cannot stop its pool.
    """
    global _CLEANER
    from pipelines.core.cleaner import Cleaner  # loaded already in a forkserver's worker

    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    warm = sys.modules.get("pipelines.run.warm")  # the forkserver's prebuilt cleaner, if any
    prebuilt = warm.cleaner_for(options) if warm is not None else None
    _CLEANER = prebuilt if prebuilt is not None else Cleaner(options)
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
    """This worker's cleaner (built by :func:`init_worker`)."""
    assert _CLEANER is not None, "worker not initialised"
    return _CLEANER


def clean_page(cleaner: Cleaner, page: Page) -> Result:
    """The crawl's work: one page."""
    return cleaner.clean(page)


def _dumps(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def worker_main(tasks: Connection, results: Connection, options: CleanOptions, parent_pid: int | None,
                work: Work) -> None:
    """A worker: build the cleaner, say ready, then answer every item of every chunk read from
    ``tasks`` with ``("ok", result, counts)`` (``("error", text, counts)`` if ``work`` raised: a
    bug, not a bad page), until ``tasks`` is closed."""
    try:
        init_worker(options, parent_pid)
    except Exception as exc:
        results.send_bytes(_dumps(("failed", f"{type(exc).__name__}: {exc}", None)))
        return
    counts = CountsSince(worker_cleaner().counters)
    results.send_bytes(_dumps(("ready", os.getpid(), None)))
    cleaner = worker_cleaner()
    while True:
        try:
            items = pickle.loads(tasks.recv_bytes())
        except (EOFError, OSError):
            return
        for item in items:
            try:
                reply = _dumps(("ok", work(cleaner, item), counts.take()))
            except Exception as exc:
                reply = _dumps(("error", f"{type(exc).__name__}: {exc}", counts.take()))
            try:
                results.send_bytes(reply)
            except OSError:  # the pool is gone
                return


def preload_modules(work: Work = clean_page) -> list[str]:
    """What the forkserver imports before forking: this module, ``work``'s, and the core."""
    return sorted({__name__, work.__module__, *CORE_MODULES})


def start_forkserver(work_module: str = __name__) -> None:
    """Start the forkserver now, loading the core (about 0.3 s of CPU) while the caller goes on
    with its own start; a pool made later (whose work function is in ``work_module``) forks its
    workers from it. A no-op where there is no
    forkserver, or when it runs already."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(sorted({__name__, work_module, *CORE_MODULES}))
    forkserver.ensure_running()


# -- the pool -------------------------------------------------------------------------------------
#: Pipe buffer asked for (Linux ``F_SETPIPE_SZ``): a chunk that fits is written at once, even while
#: its worker is busy with the one before, so the caller never waits for a worker.
PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031
#: Chunks handed to a worker at once: the one it cleans and the next, waiting in its pipe, so a
#: worker that finishes starts the next without waiting for the caller to be scheduled
#: (docs/speed.md measures both).
DEPTH = 2


def _grow_pipe(fd: int) -> int:
    """Ask for a :data:`PIPE_BYTES` buffer; the buffer size obtained (64 KiB if refused)."""
    try:
        import fcntl

        return int(fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_BYTES))
    except (ImportError, OSError):  # not Linux, or over /proc/sys/fs/pipe-max-size
        return 1 << 16


def where(item: Any) -> tuple[str, str]:
    """(source, url) of a page or a ``newsclean clean`` task, for the drops the pool makes."""
    page = item if isinstance(item, Page) else getattr(item, "page", None)
    url = page.url if page is not None else getattr(item, "url", "")
    return getattr(item, "source", "") or url, url


class Job(NamedTuple):
    """Items sent to a worker in one message; ``tag`` is the front-end's (a future, a chunk number)."""

    items: list[Any]
    tag: Any
    #: the index of ``items[0]`` among the items submitted with ``tag``
    first: int
    #: workers that died while cleaning ``items[0]``
    tries: int
    data: bytes


class _Worker:
    def __init__(self, process: Any, tasks: Connection, results: Connection, pipe_bytes: int) -> None:
        self.process = process
        self.tasks = tasks
        self.results = results
        self.pipe_bytes = pipe_bytes
        self.ready = False
        #: jobs sent and not fully answered, the one being cleaned first
        self.jobs: deque[Job] = deque()
        #: items of ``jobs[0]`` answered
        self.answered = 0
        #: bytes of the jobs sent and not fully answered (at most what waits in the task pipe)
        self.held = 0

    def can_take(self, job: Job) -> bool:
        """Idle, or busy with one job and the next fits in the task pipe besides what may still be
        there (sending it cannot block the caller while the worker is busy)."""
        if not self.jobs:
            return True
        return len(self.jobs) < DEPTH and self.held + len(job.data) + 65536 <= self.pipe_bytes


class WorkerPool:
    """Worker processes fed over pipes; see the module's documentation. Front-ends override
    :meth:`_deliver` (and the ``_watch``/``_unwatch``/``_wanted``/``_cancel`` hooks)."""

    def __init__(self, size: int, options: CleanOptions, start_method: str = "forkserver",
                 parent_pid: int | None = None, *, work: Work = clean_page, attempts: int = 1,
                 on_counts: Callable[[Mapping[str, int]], None] | None = None) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one worker")
        self.size = size
        self.options = options
        self.work = work
        #: workers an item may see die under it before it is dropped as ``worker_died``
        self.attempts = max(1, attempts)
        self.on_counts = on_counts
        self.context: Any = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            self.context.set_forkserver_preload(preload_modules(work))
        self.parent_pid = parent_pid
        self.workers: list[_Worker] = []
        self.queue: deque[Job] = deque()
        self.restarts = 0
        self.closed = False
        #: why the workers cannot start (their cleaner failed to build), if they cannot
        self.broken: str | None = None

    def start(self) -> None:
        """Start every worker (they build their cleaners while the caller goes on)."""
        for _ in range(self.size):
            self.workers.append(self._spawn())

    @property
    def ready(self) -> bool:
        """Every worker has built its cleaner."""
        return all(w.ready for w in self.workers)

    def submit(self, items: list[Any], tag: Any) -> None:
        """Queue ``items`` as one job; each result goes to :meth:`_deliver` with ``tag``."""
        assert not self.closed, "pool closed"
        self.queue.append(Job(items, tag, 0, 0, _dumps(items)))
        if self.broken is not None:
            self._fail_all()
        self._dispatch()

    # -- hooks of the front-ends ----------------------------------------------------------------
    def _deliver(self, tag: Any, index: int, item: Any, result: Result) -> None:
        raise NotImplementedError

    def _watch(self, worker: _Worker) -> None:
        """A worker was started: watch its result pipe."""

    def _unwatch(self, worker: _Worker) -> None:
        """A worker is gone or stopped: stop watching its result pipe."""

    def _wanted(self, job: Job) -> bool:
        """Is the job still awaited (not cancelled)?"""
        return True

    def _cancel(self, job: Job) -> None:
        """The pool closes before the job is done."""

    # -- workers ------------------------------------------------------------------------------
    def _spawn(self) -> _Worker:
        task_reader, task_writer = self.context.Pipe(duplex=False)
        result_reader, result_writer = self.context.Pipe(duplex=False)
        pipe_bytes = _grow_pipe(task_writer.fileno())
        _grow_pipe(result_writer.fileno())
        process = self.context.Process(
            target=worker_main, args=(task_reader, result_writer, self.options, self.parent_pid, self.work),
            name="newsclean-clean", daemon=True,
        )
        process.start()
        task_reader.close()
        result_writer.close()
        worker = _Worker(process, task_writer, result_reader, pipe_bytes)
        self._watch(worker)
        return worker

    def _dispatch(self) -> None:
        # idle workers first, then a second job to each busy one
        for depth in range(DEPTH):
            for worker in self.workers:
                while self.queue and not self._wanted(self.queue[0]):
                    self.queue.popleft()
                if not self.queue:
                    return
                if len(worker.jobs) == depth and worker.can_take(self.queue[0]):
                    job = self.queue.popleft()
                    worker.jobs.append(job)
                    worker.held += len(job.data)
                    with contextlib.suppress(OSError):  # the worker is gone: its result pipe tells
                        worker.tasks.send_bytes(job.data)

    def _receive(self, worker: _Worker) -> None:
        """Read one message from ``worker`` (its result pipe is readable)."""
        try:
            kind, value, counts = pickle.loads(worker.results.recv_bytes())
        except (EOFError, OSError):
            self._replace(worker)
            return
        if kind == "ready":
            worker.ready = True
            return
        if kind == "failed":
            self.broken = f"the cleaning workers cannot start: {value}"
            return  # its end of file follows
        if counts and self.on_counts is not None:
            self.on_counts(counts)
        job = worker.jobs[0]
        index = worker.answered
        item = job.items[index]
        worker.answered += 1
        if worker.answered == len(job.items):
            worker.jobs.popleft()
            worker.answered = 0
            worker.held -= len(job.data)
        if kind == "ok":
            result = value
        else:
            source, url = where(item)
            logger.error("cleaning %s failed in its worker: %s", source, value)
            result = Drop("error", source, url, value)
        self._deliver(job.tag, job.first + index, item, result)
        if not worker.answered:
            self._dispatch()

    def _replace(self, worker: _Worker) -> None:
        """``worker`` died: the item it was cleaning is tried again alone (or dropped as
        ``worker_died``), the rest go back to the front of the queue, a new worker takes its place."""
        self._unwatch(worker)
        worker.results.close()
        worker.tasks.close()
        worker.process.join(timeout=1)
        back = list(worker.jobs)
        if back and self.broken is None:  # (a worker that could not start cleaned nothing)
            head, done = back.pop(0), worker.answered
            index, item = head.first + done, head.items[done]
            rest = head.items[done + 1:]
            if rest:
                back.insert(0, Job(rest, head.tag, index + 1, 0, _dumps(rest)))
            source, url = where(item)
            tries = (head.tries if done == 0 else 0) + 1
            if tries >= self.attempts:
                logger.error("a worker died while cleaning %s: dropped as %s", source, WORKER_DIED)
                self._deliver(head.tag, index, item,
                              Drop(WORKER_DIED, source, url, "the worker process died while cleaning this page"))
            else:
                logger.warning("a worker died while cleaning %s: tried again alone", source)
                back.insert(0, Job([item], head.tag, index, tries, _dumps([item])))
        worker.jobs.clear()
        worker.answered = worker.held = 0
        self.queue.extendleft(reversed(back))
        if self.closed:
            return
        if self.broken is not None:
            self.workers.remove(worker)
            self._fail_all()
            return
        self.restarts += 1
        self.workers[self.workers.index(worker)] = self._spawn()
        self._dispatch()

    def _fail_all(self) -> None:
        """Once no worker is left of a pool whose workers cannot start: every item queued is an
        ``error`` drop."""
        if self.workers:
            return
        while self.queue:
            job = self.queue.popleft()
            for offset, item in enumerate(job.items):
                source, url = where(item)
                self._deliver(job.tag, job.first + offset, item, Drop("error", source, url, str(self.broken)))

    def close(self, timeout: float = 10.0, abort: bool = False) -> None:
        """Stop the workers: jobs not done are cancelled, workers end when their task pipe closes
        (those still busy after ``timeout`` seconds, or at once with ``abort``, are terminated)."""
        self.closed = True
        while self.queue:
            self._cancel(self.queue.popleft())
        for worker in self.workers:
            self._unwatch(worker)
            worker.tasks.close()
            if abort and worker.process.is_alive():
                worker.process.terminate()
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(1)
            worker.results.close()
            for job in worker.jobs:
                self._cancel(job)
            worker.jobs.clear()
        self.workers = []


# -- the crawl's front-end: an awaitable per page ---------------------------------------------------
class LoopPool(WorkerPool):
    """``await pool.clean(page)`` from the asyncio loop the reactor runs: the loop watches the
    result pipes (``add_reader``), so neither a helper thread nor the reactor waits for a worker.
    A page whose worker dies is a ``worker_died`` drop (``attempts=1``)."""

    def __init__(self, size: int, options: CleanOptions, start_method: str = "forkserver",
                 parent_pid: int | None = None, **kw: Any) -> None:
        super().__init__(size, options, start_method, parent_pid, **kw)
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        import asyncio  # the crawl's front-end only: the offline pool's processes never load it

        self.loop = loop or asyncio.get_running_loop()
        super().start()

    def clean(self, page: Page) -> asyncio.Future[Result]:
        assert self.loop is not None and not self.closed, "pool not started, or closed"
        future: asyncio.Future[Result] = self.loop.create_future()
        self.submit([page], future)
        return future

    def _deliver(self, tag: Any, index: int, item: Any, result: Result) -> None:
        if not tag.done():
            tag.set_result(result)

    def _watch(self, worker: _Worker) -> None:
        assert self.loop is not None
        self.loop.add_reader(worker.results.fileno(), self._receive, worker)

    def _unwatch(self, worker: _Worker) -> None:
        if self.loop is not None and not worker.results.closed:
            self.loop.remove_reader(worker.results.fileno())

    def _wanted(self, job: Job) -> bool:
        return not job.tag.cancelled()  # the crawl stopped waiting

    def _cancel(self, job: Job) -> None:
        job.tag.cancel()


# -- newsclean clean's front-end: an iterator over chunks ---------------------------------------------
class _Chunk:
    __slots__ = ("left", "results")

    def __init__(self, size: int) -> None:
        self.results: list[Any] = [None] * size
        self.left = size


class ChunkPool(WorkerPool):
    """:meth:`imap` over an iterable of items, read lazily: at most ``size * window`` chunks in
    flight (sent, queued, or done and waiting for an earlier one in ordered mode)."""

    def __init__(self, size: int, options: CleanOptions, start_method: str = "forkserver",
                 parent_pid: int | None = None, **kw: Any) -> None:
        super().__init__(size, options, start_method, parent_pid, **kw)
        self.chunks: dict[int, _Chunk] = {}
        self.finished: deque[int] = deque()

    def imap(self, items: Iterable[Any], chunk_size: int = 4, window: int = 4,
             ordered: bool = False) -> Iterator[Result]:
        """The results of ``items``, in their order with ``ordered``, else as chunks finish. The
        workers are stopped when the iterator ends or is closed (terminated at once if it fails)."""
        source = iter(items)
        limit = max(1, self.size * window)
        number = 0
        ended = completed = False
        self.start()
        try:
            while True:
                while not ended and len(self.chunks) < limit:
                    chunk = list(islice(source, chunk_size))
                    if not chunk:
                        ended = True
                        break
                    self.chunks[number] = _Chunk(len(chunk))
                    self.submit(chunk, number)
                    number += 1
                if not self.chunks:
                    completed = True
                    return
                ready = self._take_ready(ordered)
                if not ready:
                    self._wait()
                    if self.broken is not None:
                        raise RuntimeError(self.broken)
                    continue
                for chunk_results in ready:
                    yield from chunk_results
        finally:
            self.close(abort=not completed)
            self.chunks.clear()

    def _take_ready(self, ordered: bool) -> list[list[Result]]:
        if ordered:
            ready, head = [], min(self.chunks)
            while head in self.chunks and not self.chunks[head].left:
                ready.append(self.chunks.pop(head).results)
                head += 1
            self.finished.clear()
            return ready
        ready = [self.chunks.pop(n).results for n in self.finished]
        self.finished.clear()
        return ready

    def _wait(self) -> None:
        by_pipe: dict[Any, _Worker] = {worker.results: worker for worker in self.workers}
        for pipe in wait(list(by_pipe)):
            worker = by_pipe[pipe]
            if worker in self.workers:  # not replaced by an earlier message of this round
                self._receive(worker)

    def _deliver(self, tag: Any, index: int, item: Any, result: Result) -> None:
        chunk = self.chunks[tag]
        chunk.results[index] = result
        chunk.left -= 1
        if not chunk.left:
            self.finished.append(tag)
