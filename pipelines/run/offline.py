"""``newsclean clean``: saved pages and archives to JSONL records, on every core.

The run is a stream: inputs are enumerated lazily (:mod:`pipelines.io.inputs`), sent to the
worker pool (:class:`pipelines.run.pool.ChunkPool`) in small chunks with a bounded number of
chunks in flight, and every result comes back to the main process, which alone deduplicates,
writes records and rejects, and counts (:class:`Stats`, the run's :class:`~pipelines.run.stats.RunStats`).
Memory is bounded by ``jobs * window * chunk_size`` pages, whatever the size of the input; the one
thing that grows with the corpus is the set of content hashes kept for deduplication (a 32-byte
digest a record, about 100 bytes with Python's overhead: 1 GB for ten million records), plus, with
``--resume``, the set of sources already written.

A worker that dies (killed, out of memory, a crash in a C extension) is replaced and the page it
was cleaning is tried again alone, so a page that kills its worker again is recorded as failed
(``worker_died``) and the run goes on.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from pipelines.core.cleaner import Cleaner, CleanOptions, Drop
from pipelines.core.record import Record
from pipelines.io.inputs import Inputs, Task, run_task
from pipelines.io.writer import JsonlWriter, iter_lines, truncate_partial_line
from pipelines.reasons import DUPLICATE_HASH, NEAR_DUPLICATE
from pipelines.run.dedup import Deduper, Verdict
from pipelines.run.pool import ChunkPool
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

    @property
    def pages_per_second(self) -> float:
        return self.pages_read / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Namespaced keys, as in ``docs/offline.md``."""
        out: dict[str, Any] = {
            "offline/pages_read": self.pages_read,
            "offline/records_written": self.records_written,
            "offline/dropped": self.dropped_total,
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
    """The output (or the rejects or stats file) cannot be written."""


@dataclass
class CleanJob:
    """Everything ``newsclean clean`` was asked to do."""

    inputs: list[str]
    output: str
    options: CleanOptions = field(default_factory=CleanOptions)
    run: RunOptions = field(default_factory=RunOptions)
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


def _open_append(path: str, resume: bool) -> IO[bytes]:
    try:
        if resume and os.path.exists(path):
            truncate_partial_line(path)
            return open(path, "ab")
        return open(path, "wb")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _done_sources(job: CleanJob, dedup: Deduper) -> set[str]:
    """Sources already in the output (and in the rejects file), with the hashes written."""
    done: set[str] = set()
    for path, is_output in ((job.output, True), (job.rejects, False)):
        if not path or not os.path.exists(path):
            continue
        for value in iter_lines(path):
            source = value.get("source")
            if isinstance(source, str):
                done.add(source)
            digest = value.get("content_hash")
            if is_output and isinstance(digest, str):
                dedup.restore(digest, value.get("url") or value.get("canonical_url") or "", value)
    return done


def _progress(enabled: bool | None) -> Any:
    show = sys.stderr.isatty() if enabled is None else enabled
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(unit=" pages", file=sys.stderr, dynamic_ncols=True, smoothing=0.1, mininterval=0.5)


def run_clean(job: CleanJob, on_result: Callable[[Result], None] | None = None) -> Stats:
    """Run a clean job to the end; raises :class:`OutputError` if the output cannot be written."""
    started = time.monotonic()
    stats = Stats(jobs=max(1, job.run.jobs))
    to_stdout = job.output == "-"
    if job.state is not None:  # where a pending claim's line is looked for if the run is killed
        job.state.targets = [] if to_stdout else [os.path.abspath(job.output)]
    dedup = Deduper(job.state, near=job.near)
    done = _done_sources(job, dedup) if job.resume else set()
    out = sys.stdout.buffer if to_stdout else _open_append(job.output, job.resume)
    rejects_stream = _open_append(job.rejects, job.resume) if job.rejects else None
    writer = JsonlWriter(out)
    rejects = JsonlWriter(rejects_stream) if rejects_stream else None
    own = [path for path in (job.output, job.rejects) if path and path != "-"]
    inputs = Inputs(job.inputs, max_page_bytes=job.options.max_page_bytes, text_field=job.text_field,
                    stdin=job.stdin, exclude=own, shard=job.shard)

    def pending() -> Iterator[Task]:
        for task in inputs:
            if task.source in done:
                stats.skipped["resume"] += 1
                continue
            yield task

    def reject(result: Drop) -> None:
        if rejects is not None:
            rejects.write({"source": result.source, "url": result.url or None, "reason": result.reason,
                           "detail": result.detail})

    def write_record(record: Record) -> None:
        try:
            writer.write(record)
        except OSError as exc:
            raise OutputError(f"cannot write {job.output}: {exc.strerror or exc}") from exc

    bar = _progress(job.run.progress)
    cleaned = results(pending(), job.options, job.run, stats)
    try:
        for result in cleaned:
            stats.read(result)
            if isinstance(result, Drop):
                reject(result)
            else:
                verdict = dedup.write(result, write_record)
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
            if bar is not None:
                bar.set_postfix_str(f"drops {stats.pages_read - stats.records_written}", refresh=False)
                bar.update(1)
    finally:
        cleaned.close()  # stops the worker pool now, whether the run ended or failed
        if bar is not None:
            bar.close()
        if not to_stdout:
            out.close()
        if rejects_stream is not None:
            rejects_stream.close()
        stats.skipped.update(inputs.skipped)
        stats.elapsed = time.monotonic() - started
    if job.stats_file:
        import orjson

        try:
            with open(job.stats_file, "wb") as stream:
                stream.write(orjson.dumps(stats.as_dict(), option=orjson.OPT_INDENT_2) + b"\n")
        except OSError as exc:
            raise OutputError(f"cannot write {job.stats_file}: {exc.strerror or exc}") from exc
    return stats
