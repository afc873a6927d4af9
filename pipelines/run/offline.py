"""``newsclean clean``: saved pages and archives to JSONL records, on every core.

The run is a stream: inputs are enumerated lazily (:mod:`pipelines.io.inputs`), sent to the
worker pool (:class:`pipelines.run.pool.ChunkPool`) in small chunks with a bounded number of
chunks in flight, and every result comes back to the main process, which alone deduplicates,
writes records and rejects, and counts (:class:`Stats`, the run's :class:`~pipelines.run.stats.RunStats`).
Memory is bounded by ``jobs * window * chunk_size`` pages, whatever the size of the input; the one
thing that grows with the corpus is the set of content hashes kept for deduplication (a 32-byte
digest a record, about 100 bytes with Python's overhead: 1 GB for ten million records), plus, with
``--resume``, the sources already written (a 16-byte hash each). The inputs are enumerated as a
stream (:mod:`pipelines.io.walk`): their number does not count.

A worker that dies (killed, out of memory, a crash in a C extension) is replaced and the page it
was cleaning is tried again alone, so a page that kills its worker again is recorded as failed
(``worker_died``) and the run goes on.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from pipelines.core.page import CleanOptions, Drop
from pipelines.core.record import Record
from pipelines.io.inputs import Inputs, Task, in_shard, run_task
from pipelines.io.output import Mode, OutputExists, OutputFile, WrittenSources, plan, write_report
from pipelines.io.writer import JsonlWriter, iter_lines, truncate_partial_line
from pipelines.reasons import DUPLICATE_HASH, FAILURE_REASONS, NEAR_DUPLICATE
from pipelines.run.dedup import Deduper, Verdict
from pipelines.run.pool import ChunkPool
from pipelines.run.progress import Progress
from pipelines.run.stats import CountsSince, RunStats
from pipelines.store.base import DedupStore

logger = logging.getLogger(__name__)

Result = Record | Drop

#: Tries of a page whose worker dies: once more, alone, before it is a ``worker_died`` reject.
ATTEMPTS = 2


@dataclass
class RunOptions:
    jobs: int = 1
    chunk_size: int = 4
    window: int = 4
    ordered: bool = False
    progress: bool | None = None  # None: when stderr is a terminal


@dataclass
class Stats(RunStats):
    """The run's counts (:class:`RunStats`: ``pages_read == records_written + sum(dropped)``
    always holds at the end), what the inputs passed over, and the run's shape."""

    skipped: Counter[str] = field(default_factory=Counter)
    pool_restarts: int = 0
    jobs: int = 1
    elapsed: float = 0.0
    #: the first page or input that failed, by reason (``FAILURE_REASONS``), for the messages
    first_failures: dict[str, Drop] = field(default_factory=dict)

    @property
    def first_failure(self) -> Drop | None:
        return next(iter(self.first_failures.values()), None)

    @property
    def failed(self) -> int:
        """Pages and inputs that failed (``FAILURE_REASONS``), not the ones dropped on purpose."""
        return sum(count for reason, count in self.dropped.items() if reason in FAILURE_REASONS)

    @property
    def failures(self) -> Counter[str]:
        return Counter({reason: count for reason, count in self.dropped.items() if reason in FAILURE_REASONS})

    @property
    def nothing_read(self) -> bool:
        """No page could be read: every input failed or there was none (inputs skipped because
        ``--resume`` found them written, or in another ``--shard``, were read)."""
        passed = self.skipped["resume"] + self.skipped["other_shard"]
        return self.pages_read == self.failed and passed == 0

    @property
    def failure_share(self) -> float:
        return self.failed / self.pages_read if self.pages_read else 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages_read / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Namespaced keys, as in ``docs/offline.md``."""
        out: dict[str, Any] = {
            "offline/pages_read": self.pages_read,
            "offline/records_written": self.records_written,
            "offline/dropped": self.dropped_total,
            "offline/failed": self.failed,
        }
        out.update({f"offline/dropped/{k}": v for k, v in sorted(self.dropped.items())})
        out.update({f"offline/language/{k}": v for k, v in sorted(self.languages.items())})
        out.update({f"offline/removed/{k}": v for k, v in sorted(self.removed.items())})
        out.update({f"offline/skipped/{k}": v for k, v in sorted(self.skipped.items())})
        out.update({f"offline/steps/{k}": v for k, v in sorted(self.steps.items())})
        out["offline/near_duplicates_marked"] = self.near_marked
        out["offline/pool_restarts"] = self.pool_restarts
        out["offline/jobs"] = self.jobs
        out["offline/elapsed_seconds"] = round(self.elapsed, 3)
        out["offline/pages_per_second"] = round(self.pages_per_second, 2)
        return out

    def summary(self) -> str:
        lines = [
            f"pages read       {self.pages_read}",
            f"records written  {self.records_written}",
            f"dropped          {self.dropped_total}"
            + ("  (" + ", ".join(f"{k} {v}" for k, v in self.dropped.most_common()) + ")" if self.dropped else ""),
        ]
        if self.languages:
            lines.append("languages        " + ", ".join(f"{k} {v}" for k, v in self.languages.most_common(10)))
        if self.skipped:
            lines.append("skipped          " + ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items())))
        lines.append(f"time             {self.elapsed:.1f} s, {self.pages_per_second:.1f} pages/s, {self.jobs} jobs")
        return "\n".join(lines)


def results(tasks: Iterable[Task], options: CleanOptions, run: RunOptions,
            stats: Stats) -> Generator[Result, None, None]:
    """Clean every task: in this process for ``jobs == 1``, else in a pool of worker processes.
    The cleaners' step counters go to ``stats.steps``."""
    if run.jobs <= 1:
        from pipelines.core.cleaner import Cleaner  # only here: a pool's parent cleans nothing

        cleaner = Cleaner(options)
        counts = CountsSince(cleaner.counters)
        for task in tasks:
            result = run_task(cleaner, task)
            stats.add_steps(counts.take())
            yield result
        return
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ChunkPool(run.jobs, options, method, os.getpid(), work=run_task, attempts=ATTEMPTS,
                     on_counts=stats.add_steps)
    try:
        yield from pool.imap(tasks, run.chunk_size, run.window, run.ordered)
    finally:
        stats.pool_restarts = pool.restarts


# -- the run -------------------------------------------------------------------------------------
class OutputError(Exception):
    """The output (or the rejects or stats file, or the state) cannot be written."""

    def __init__(self, message: str, *, during_run: bool = False) -> None:
        super().__init__(message)
        #: the run had started: the whole lines so far are kept, ``--resume`` goes on from them
        self.during_run = during_run


#: What the state store raises when it cannot write (a full disk: ``database or disk is full``).
STATE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, OSError)


class StdoutClosed(Exception):
    """``-o -`` and the reader of stdout went away (``| head``): the run stops quietly."""


@dataclass
class CleanJob:
    """Everything ``newsclean clean`` was asked to do."""

    inputs: list[str]
    output: str
    options: CleanOptions = field(default_factory=CleanOptions)
    run: RunOptions = field(default_factory=RunOptions)
    #: what to do with an output (and rejects) file that exists: :mod:`pipelines.io.output`
    mode: Mode = Mode.NEW
    #: same as ``mode=Mode.RESUME``
    resume: bool = False
    rejects: str | None = None
    stats_file: str | None = None
    text_field: str = "text"
    #: the dedup store shared with crawls (``--state``), opened in ``export`` commit mode
    state: DedupStore | None = None
    stdin: IO[str] | None = None
    #: (I, N): clean only shard I (0-based) of N, by a stable hash of each page's source
    shard: tuple[int, int] | None = None
    #: near-duplicate policy: ``drop``, ``mark`` or ``off`` (:mod:`pipelines.run.neardup`)
    near: str = "drop"
    _planned: list[OutputFile] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.resume:
            self.mode = Mode.RESUME
        self.resume = self.mode is Mode.RESUME

    def files(self) -> list[OutputFile]:
        """The output (unless stdout) and rejects files as the mode has them written, planned at
        the first call (the run's start); :class:`pipelines.io.output.OutputExists` when one
        exists and the mode is ``new``."""
        if self._planned is None:
            planned = []
            if self.output != "-":
                planned.append(plan(self.output, self.mode, "output"))
            if self.rejects:
                planned.append(plan(self.rejects, self.mode, "rejects file"))
            self._planned = planned
        return self._planned


def _open(file: OutputFile) -> IO[bytes]:
    try:
        return file.open()  # OutputExists when a new file appeared since it was planned
    except OSError as exc:
        raise OutputError(f"cannot write {file.path}: {exc.strerror or exc}") from exc


def _close_whole(file: OutputFile, stream: IO[bytes]) -> None:
    """Close a file the run stopped writing: whole lines only (a line cut by a full disk, left in
    the buffer or half on disk, is dropped), quietly (the run's error is already being reported)."""
    try:
        stream.close()
    except OSError:  # the buffered end of a line that did not fit
        logger.debug("cannot flush %s", file.write_path)
        with contextlib.suppress(OSError):
            stream.close()  # the buffer is given up on the second close
    try:
        truncate_partial_line(file.write_path)
    except OSError as exc:
        logger.debug("cannot cut the last line of %s: %s", file.write_path, exc)


def _done_sources(paths: list[tuple[str, bool]], dedup: Deduper) -> WrittenSources:
    """Sources already in the output (and in the rejects file), as compact hashes
    (:class:`~pipelines.io.output.WrittenSources`), with the hashes written restored to ``dedup``;
    ``paths`` are (path, is the output) pairs. Each file is read once, a line at a time."""
    done = WrittenSources()
    for path, is_output in paths:
        if not os.path.exists(path):
            continue
        for value in iter_lines(path):
            source = value.get("source")
            if isinstance(source, str):
                done.add(source)
            digest = value.get("content_hash")
            if is_output and isinstance(digest, str):
                dedup.restore(digest, value.get("url") or value.get("canonical_url") or "", value)
    return done.freeze()


def run_clean(job: CleanJob, on_result: Callable[[Result], None] | None = None) -> Stats:
    """Run a clean job to the end. Raises :class:`pipelines.io.output.OutputExists` before
    anything runs when an output exists and the mode does not say what to do with it,
    :class:`OutputError` if an output cannot be written, :class:`StdoutClosed` when stdout is the
    output and its reader went away.

    When the run ends, the output and rejects files are in place (a new or replaced one renamed
    from its ``.partial``), except when nothing could be read (:attr:`Stats.nothing_read`): then
    the output is not created or replaced (the rejects and stats files say why). When it stops
    early (an exception, Ctrl-C), the lines so far stay where they were written, for ``--resume``.
    """
    started = time.monotonic()
    stats = Stats(jobs=max(1, job.run.jobs))
    to_stdout = job.output == "-"
    files = job.files()
    output_file = None if to_stdout else files[0]
    rejects_file = files[-1] if job.rejects else None
    if job.state is not None:  # where a pending claim's line is looked for if the run is killed
        job.state.targets = [] if output_file is None else [os.path.abspath(output_file.write_path)]
    dedup = Deduper(job.state, near=job.near)
    done: WrittenSources | None = None
    if job.mode is Mode.RESUME:
        done = _done_sources([(file.write_path, file is output_file) for file in files], dedup)
    opened: list[tuple[OutputFile, IO[bytes]]] = []
    try:
        for file in files:
            opened.append((file, _open(file)))
    except (OutputError, OutputExists):
        for _, stream in opened:
            stream.close()
        raise
    out = sys.stdout.buffer if output_file is None else opened[0][1]
    rejects_stream = opened[-1][1] if rejects_file is not None else None
    writer = JsonlWriter(out)
    rejects = JsonlWriter(rejects_stream) if rejects_stream else None
    own = [path for file in files for path in (file.path, file.write_path)]
    inputs = Inputs(job.inputs, max_page_bytes=job.options.max_page_bytes, text_field=job.text_field,
                    stdin=job.stdin, exclude=own, shard=job.shard, done=done)

    def reject(result: Drop) -> None:
        if result.reason in FAILURE_REASONS:
            stats.first_failures.setdefault(result.reason, result)
        if rejects is not None:
            try:
                rejects.write({"source": result.source, "url": result.url or None, "reason": result.reason,
                               "detail": result.detail})
            except OSError as exc:
                raise OutputError(f"cannot write {job.rejects}: {exc.strerror or exc}", during_run=True) from exc

    def write_record(record: Record) -> None:
        try:
            writer.write(record)
        except BrokenPipeError as exc:
            if to_stdout:
                raise StdoutClosed from exc
            raise OutputError(f"cannot write {job.output}: {exc.strerror or exc}", during_run=True) from exc
        except OSError as exc:
            raise OutputError(f"cannot write {job.output}: {exc.strerror or exc}", during_run=True) from exc

    progress = Progress(job.run.progress)
    if progress.shown and job.stdin is None:
        shard = job.shard

        def counted(source: str) -> bool:
            return (done is None or source not in done) and (shard is None or in_shard(source, *shard))

        progress.count_in_background(job.inputs, exclude=own, keep=counted)
    cleaned = results(iter(inputs), job.options, job.run, stats)
    finished = False
    try:
        for result in cleaned:
            stats.read(result)
            if isinstance(result, Drop):
                reject(result)
            else:
                try:
                    verdict = dedup.write(result, write_record)
                except STATE_ERRORS as exc:  # OutputError (the output's own) is not one of them
                    raise OutputError(f"cannot write the state: {exc}", during_run=True) from exc
                if verdict is Verdict.NEAR_DUPLICATE and dedup.match is not None:
                    detail = f"near-duplicate of {dedup.match.first_id} (similarity {dedup.match.similarity:.3f})"
                    result = Drop(NEAR_DUPLICATE, result["source"], result["url"] or "", detail)
                    stats.drop(NEAR_DUPLICATE)
                    reject(result)
                elif verdict is not Verdict.NEW:
                    detail = ("claimed in --state" if verdict is Verdict.DUPLICATE_IN_STORE
                              else f"same text as an earlier record ({result['content_hash'][:19]}…)")
                    result = Drop(DUPLICATE_HASH, result["source"], result["url"] or "", detail)
                    stats.drop(DUPLICATE_HASH)
                    reject(result)
                else:
                    stats.write(result)
                    if dedup.match is not None:
                        stats.mark_near()
            if on_result is not None:
                on_result(result)
            progress.update(stats.pages_read - stats.records_written)
        finished = True
    finally:
        cleaned.close()  # stops the worker pool now, whether the run ended or failed
        progress.close()
        stats.skipped.update(inputs.skipped)
        stats.elapsed = time.monotonic() - started
        if not finished:  # the whole lines so far stay where they are, for --resume
            for file, stream in opened:
                _close_whole(file, stream)
    for file, stream in opened:
        try:
            if stats.nothing_read and file is output_file:
                file.discard(stream)
            else:
                file.commit(stream)
        except OSError as exc:
            _close_whole(file, stream)
            raise OutputError(f"cannot write {file.path}: {exc.strerror or exc}", during_run=True) from exc
    if job.stats_file:
        import orjson

        try:
            write_report(job.stats_file, orjson.dumps(stats.as_dict(), option=orjson.OPT_INDENT_2) + b"\n")
        except OSError as exc:
            raise OutputError(f"cannot write {job.stats_file}: {exc.strerror or exc}") from exc
    return stats
