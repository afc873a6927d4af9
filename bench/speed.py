"""Speed benchmark (not a test): newsclean against bare trafilatura, per core and as whole processes.

    .venv/bin/python bench/speed.py DATA_DIR [DATA_DIR ...] [--quick] [--runs 3] [--limit N]
                                    [--offline-pages 2000] [--offline-runs 3] [--memory-pages 10000]
                                    [--crawl-pages N] [--crawl-runs 3] [--no-offline] [--no-crawl]
                                    [--crawl-only] [--json FILE]

Each DATA_DIR holds ``html/<id>.html.gz`` and ``truth.jsonl`` (``{"id", "url", "text"}`` per
line), as ``../shared/bench/scrapinghub`` and ``../shared/bench/fundus_tests`` do. Every figure is a
median over alternating runs; every ratio is taken run by run, then the median. For each DATA_DIR:

1. **Per core, in this process.** The pages are unpacked in memory first (not timed). Each run
   times, in rotating order, four systems over every page: bare
   ``trafilatura.extract(html, url=url, with_metadata=True, include_comments=False)`` (its
   default), the same with ``fast=True``, and newsclean (``Cleaner.clean``,
   ``pipelines.core.record.dumps``, then the dedup step as ``newsclean clean`` runs it without
   ``--state``: a fresh in-memory ``Deduper``, near-duplicates dropped), and newsclean with
   ``--single-candidate`` (trafilatura's precision text alone: the speed-first option, shown
   without a target). pages/s per core = pages /
   CPU seconds of this process (``time.process_time``: the figure holds on a busy machine); wall
   pages/s beside it. The texts of the first run are scored afterwards (not timed) with the
   benchmark's metric (``tests/support/scoring.py``'s ``benchmark_prf``, as ``bench/quality.py``):
   trafilatura's text without the metadata header ``with_metadata=True`` puts before it,
   newsclean's record ``text`` (a dropped page is an empty text). One more newsclean pass with a
   :class:`pipelines.core.stage_clock.StageClock` on CPU time gives each stage's share (the timed
   runs keep the default no-op clock).
2. **Whole processes** over the pages as files (symlinks, each with a ``.meta.json`` URL
   sidecar): ``newsclean clean FOLDER -o OUT -j 1``, the same with ``-j 2``, and
   ``bench/bare_fast.py FOLDER OUT`` (``fast=True``, one orjson line per text), in rotating
   order, each writing a new output in a temporary folder. CPU seconds = user + system of the
   command's whole process tree (``getrusage(RUSAGE_CHILDREN)`` before and after; this process is
   made a child subreaper, so workers and a forkserver that outlive the command are reaped here
   and counted); wall seconds from start to exit, interpreter start included.

Then, once:

3. **Start-up**: ``newsclean clean`` over an empty folder (nothing to clean: exit code 4) and over
   one page, ``-j 1``; ``python -c "import trafilatura"`` and ``bench/bare_fast.py`` over the same
   page for reference. CPU and wall seconds as in part 2.
4. **A long input** (the first DATA_DIR's pages repeated to ``--offline-pages`` files; repeats are
   cleaned, then dropped as duplicates): ``newsclean clean -j 1`` against ``-j 2``, CPU and wall
   seconds, pages/s as the run counts it (``offline/pages_read`` / ``offline/elapsed_seconds``),
   the peak summed RSS of the command's process tree (``/proc`` read every 100 ms).
5. **Memory**: ``-j 2`` over the pages repeated to ``--memory-pages`` and to a tenth of that: the
   two peaks show whether RSS grows with the input.
6. **The crawl against ``newsclean clean -j 2`` on the very same pages** (``--crawl-pages``,
   ``--offline-pages`` by default). The pages, repeated (each copy under its own URL, unpacked
   once into a temporary site folder: one file per page, the copies are symlinks), are served
   from 127.0.0.1 by ``crawler/demo_server.py`` in its own process, with a ``robots.txt`` naming
   a sitemap that lists every copy, and ``Content-Type: text/html`` (no charset, as a page saved
   to disk). Each run is a real ``scrapy crawl news`` subprocess (a temporary ``bench`` profile
   like the demo one, ``NEWSCLEAN_DEMO_URL`` pointing at the server, a fresh state folder,
   AutoThrottle off, the real pipelines and feed export) and ``newsclean clean -j 2`` over
   symlinks to the same files, with sidecars giving the URLs the crawl fetches, in alternating
   order. Crawl pages/s = pages cleaned (``newsclean/clean/total``) / spider open to close
   (``elapsed_time_seconds``), and / the command's wall time; offline pages/s as in part 4. CPU
   of the crawl = user + system seconds of its process tree (read from ``/proc`` every 50 ms) /
   wall / cores: 1.0 means both cores busy all along; the crawl's own process and the server's
   CPU are shown apart. Both runs must give the same content hashes.

``--quick`` (about 3 minutes for one DATA_DIR on 2 cores) keeps parts 1 to 3 as they are and
shortens the rest: the long input is 800 pages run once, no memory part, the crawl 400 pages
run once; every ratio is still printed (the shortened ones say so). ``--no-offline`` runs part 1
only, ``--crawl-only`` part 6 only, ``--no-crawl`` all but part 6, ``--memory-pages 0`` skips
part 5. Targets are printed beside the figures and gathered at the end, with the run's duration.

``bench/crawl.py`` measures the crawl of the small demo site; ``bench/offline.py`` gives more
offline figures (CPU per page, cores used).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import gzip
import logging
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import orjson
import trafilatura

from pipelines.core.cleaner import Cleaner, Drop, Page
from pipelines.core.page import CleanOptions
from pipelines.core.record import dumps
from pipelines.core.stage_clock import STAGES, StageClock
from pipelines.run.dedup import Deduper, Verdict

ROOT = Path(__file__).resolve().parent.parent

# the benchmark's metric, shared with the tests (tests/support/scoring.py): not part of the installed package
sys.path.insert(0, str(ROOT / "tests"))
from support.scoring import benchmark_prf  # noqa: E402

Pages = list[tuple[bytes, str]]
T = TypeVar("T")

#: The per-core systems, in the order of the first run.
SYSTEMS = ("default", "fast", "newsclean", "single")
LABELS = {
    "default": "trafilatura.extract(with_metadata=True)",
    "fast": "trafilatura.extract(with_metadata=True, fast=True)",
    "newsclean": "newsclean (clean + dumps + dedup)",
    "single": "the same, --single-candidate",
}
#: The targets of issue 17 ("speed, round two"), printed beside the figures.
TARGETS = {
    "per_core_fast": 1.5,  # newsclean / fast=True, per core, with a higher F1
    "per_core_default": 1.3,  # newsclean / default, per core
    "process_fast": 1.4,  # newsclean clean -j 1 / bare fast=True script, whole processes
    "startup_cpu_s": 0.3,  # newsclean clean over no page, CPU seconds
    "jobs_files": 1.7,  # -j 2 / -j 1 on the set's files, wall
    "jobs_long": 1.9,  # -j 2 / -j 1 on 2,000 pages, wall
    "crawl": 0.85,  # crawl / offline -j 2 on the same pages
}
QUICK = {"offline_pages": 800, "offline_runs": 1, "memory_pages": 0, "crawl_pages": 400, "crawl_runs": 1}
FULL = {"offline_pages": 2000, "offline_runs": 3, "memory_pages": 10_000, "crawl_pages": None, "crawl_runs": 3}


# -- pure helpers (tests/unit/test_bench_speed.py) ------------------------------------------------------
def median_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median of the run-by-run ratios ``numerators[i] / denominators[i]``."""
    if not numerators or len(numerators) != len(denominators):
        raise ValueError("one numerator and one denominator per run")
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def run_order(names: Sequence[T], run: int) -> list[T]:
    """The order of run ``run`` (0-based): ``names`` rotated, so each goes first in turn."""
    shift = run % len(names)
    return [*names[shift:], *names[:shift]]


def body_text(extracted: str | None) -> str:
    """trafilatura's text output without the ``---``-fenced metadata header ``with_metadata=True``
    puts before the body, stripped as the output without metadata is ("" for None)."""
    if not extracted:
        return ""
    if extracted.startswith("---\n"):
        end = extracted.find("\n---\n", 3)
        if end != -1:
            return extracted[end + 5:].strip()
    return extracted.strip()


def f1_scores(texts: dict[str, list[str]], truths: list[str]) -> dict[str, dict[str, float]]:
    """The benchmark's precision, recall and F1 of each system's texts (one per page, in the order
    of ``truths``)."""
    scores = {}
    for name, predicted in texts.items():
        if len(predicted) != len(truths):
            raise ValueError(f"{name}: {len(predicted)} texts for {len(truths)} pages")
        scores[name] = benchmark_prf(zip(predicted, truths, strict=True))
    return scores


def verdict(value: float, target: float, at_most: bool = False) -> str:
    met = value <= target if at_most else value >= target
    return "met" if met else "NOT met"


# -- part 1: per core, in this process ---------------------------------------------------------------
def load_pages(data_dir: Path, limit: int | None) -> tuple[Pages, list[str]]:
    """The pages (bytes, URL) and their true texts."""
    pages: Pages = []
    truths: list[str] = []
    for line in (data_dir / "truth.jsonl").read_bytes().splitlines():
        if not line.strip():
            continue
        item = orjson.loads(line)
        path = data_dir / "html" / f"{item['id']}.html.gz"
        if path.exists():
            pages.append((gzip.decompress(path.read_bytes()), item["url"]))
            truths.append(item.get("text") or "")
        if limit and len(pages) >= limit:
            break
    return pages, truths


def run_trafilatura(pages: Pages, texts: list[str], fast: bool) -> int:
    kept = 0
    for html, url in pages:
        text = trafilatura.extract(html, url=url, with_metadata=True, include_comments=False, fast=fast)
        texts.append(text or "")
        if text:
            kept += 1
    return kept


def run_newsclean(cleaner: Cleaner, pages: Pages, texts: list[str]) -> int:
    """Clean, serialise and claim every page as ``newsclean clean`` does without ``--state``; the
    records kept."""
    dedup = Deduper(None, near="drop")
    kept = 0
    clock = cleaner.clock
    for html, url in pages:
        result = cleaner.clean(Page(html, url=url))
        if isinstance(result, Drop):
            texts.append("")
            clock.lap("json")
            continue
        dumps(result)
        texts.append(result["text"])
        clock.lap("json")
        if dedup.claim(result) is Verdict.NEW:
            kept += 1
        clock.lap("dedup")
    return kept


def run_system(name: str, cleaners: dict[str, Cleaner], pages: Pages, texts: list[str]) -> int:
    if name in cleaners:
        return run_newsclean(cleaners[name], pages, texts)
    return run_trafilatura(pages, texts, fast=name == "fast")


def timed(fn: Callable[[], int]) -> tuple[float, float, int]:
    """CPU seconds, wall seconds, and what ``fn`` returned."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    kept = fn()
    return time.process_time() - cpu, time.perf_counter() - wall, kept


def per_core(pages: Pages, truths: list[str], runs: int) -> dict[str, Any]:
    cleaner = Cleaner()
    # newsclean's speed-first option: trafilatura's precision text alone, no other candidate
    cleaners = {"newsclean": cleaner, "single": Cleaner(CleanOptions(single_candidate=True))}
    warm = pages[: min(10, len(pages))]
    run_trafilatura(warm, [], fast=False)
    run_trafilatura(warm, [], fast=True)
    for each in cleaners.values():
        run_newsclean(each, warm, [])
    cpu: dict[str, list[float]] = {name: [] for name in SYSTEMS}
    wall: dict[str, list[float]] = {name: [] for name in SYSTEMS}
    kept: dict[str, int] = {}
    texts: dict[str, list[str]] = {name: [] for name in SYSTEMS}
    for run in range(runs):
        for name in run_order(SYSTEMS, run):
            out: list[str] = []
            c, w, kept[name] = timed(partial(run_system, name, cleaners, pages, out))
            cpu[name].append(c)
            wall[name].append(w)
            if run == 0:
                texts[name] = out
        print(f"per core: run {run + 1}/{runs} done", file=sys.stderr)
    clock = StageClock(time.process_time)
    cleaner.clock = clock
    run_newsclean(cleaner, pages, [])
    n = len(pages)
    for name in ("default", "fast"):
        texts[name] = [body_text(t) for t in texts[name]]
    return {
        "pages": n,
        "runs": runs,
        "systems": {
            name: {
                "pages_per_s": n / statistics.median(cpu[name]),
                "wall_pages_per_s": n / statistics.median(wall[name]),
                "cpu_ms_per_page": 1000 * statistics.median(cpu[name]) / n,
                "kept": kept[name],
                "cpu_s": cpu[name],
            }
            for name in SYSTEMS
        },
        "ratio_default": median_ratio(cpu["default"], cpu["newsclean"]),
        "ratio_fast": median_ratio(cpu["fast"], cpu["newsclean"]),
        "ratio_single_fast": median_ratio(cpu["fast"], cpu["single"]),
        "quality": f1_scores(texts, truths),
        "stage_ms_per_page": {s: 1000 * clock.seconds.get(s, 0.0) / n for s in STAGES},
        "stage_shares": clock.shares(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# -- whole processes ------------------------------------------------------------------------------
def become_subreaper() -> bool:
    """Make this process the child subreaper of its descendants (Linux ``PR_SET_CHILD_SUBREAPER``):
    a process whose parent exits without waiting for it (a forkserver, its workers) is then
    re-parented here, reaped by :func:`run_measured` and counted in ``RUSAGE_CHILDREN``."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(36, 1, 0, 0, 0)) == 0  # 36: PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def own_children() -> set[int]:
    """The processes whose parent is this one (zombies included), from ``/proc``."""
    me, children = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                children.add(int(entry))
    return children


def reap(keep: set[int], timeout: float = 30.0) -> None:
    """Wait for every child of this process but ``keep`` (orphans re-parented here included)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = own_children() - keep
        if not left:
            return
        for pid in left:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.01)
    print(f"bench/speed.py: processes still running after {timeout:.0f} s: {sorted(own_children() - keep)}",
          file=sys.stderr)


def tree_pids(root: int) -> set[int]:
    """``root`` and all its descendants, from ``/proc``."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    family, frontier = {root}, {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier and pid not in family}
        family |= frontier
    return family


def tree_rss_kib(pids: set[int]) -> tuple[int, int]:
    """The summed VmRSS (KiB) of ``pids``, and the largest of them."""
    sizes = []
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]))
        except OSError:
            pass
    return sum(sizes), max(sizes, default=0)


class RssSampler(threading.Thread):
    """The peak summed RSS of a process tree and of its largest process, read every 100 ms (the
    tree itself every 500 ms)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.done = threading.Event()
        self.peak_sum = self.peak_one = 0

    def run(self) -> None:
        tick, pids = 0, {self.root}
        while not self.done.wait(0.1):
            if tick % 5 == 0:
                pids = tree_pids(self.root)
            total, largest = tree_rss_kib(pids)
            self.peak_sum, self.peak_one = max(self.peak_sum, total), max(self.peak_one, largest)
            tick += 1

    def stop(self) -> None:
        self.done.set()
        self.join()


@dataclass
class Measured:
    cpu_s: float  # user + system seconds of the whole process tree
    wall_s: float
    returncode: int
    rss_all_mb: float = 0.0  # peak summed RSS of the tree (when sampled)
    rss_largest_mb: float = 0.0


def run_measured(command: list[str], ok: tuple[int, ...] = (0,), sample_rss: bool = False) -> Measured:
    """Run ``command`` (stdout discarded): the CPU seconds of its process tree, from this process's
    ``RUSAGE_CHILDREN`` before and after (everything it started reaped here), and its wall time."""
    keep = own_children()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        sampler = RssSampler(process.pid) if sample_rss else None
        if sampler is not None:
            sampler.start()
        returncode = process.wait()
        wall = time.perf_counter() - start
        if sampler is not None:
            sampler.stop()
        reap(keep)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if returncode not in ok:
            err.seek(0)
            raise RuntimeError(f"{' '.join(command)} exited with {returncode}: "
                               f"{err.read().decode(errors='replace')[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = Measured(cpu, wall, returncode)
    if sampler is not None:
        result.rss_all_mb, result.rss_largest_mb = sampler.peak_sum / 1024, sampler.peak_one / 1024
    return result


def newsclean_command() -> list[str]:
    """The ``newsclean`` console script of this environment (what a user runs)."""
    script = Path(sys.executable).with_name("newsclean")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipelines.cli"]


def clean_command(folder: Path, out: Path, jobs: int, stats: Path | None = None) -> list[str]:
    for path in (out, stats):
        if path is not None:
            path.unlink(missing_ok=True)
    command = [*newsclean_command(), "clean", str(folder), "-o", str(out), "-j", str(jobs), "--no-progress", "-q"]
    return command + (["--stats", str(stats)] if stats is not None else [])


def bare_command(folder: Path, out: Path) -> list[str]:
    out.unlink(missing_ok=True)
    return [sys.executable, str(ROOT / "bench" / "bare_fast.py"), str(folder), str(out)]


def count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def link_pages(data_dir: Path, folder: Path, count: int | None = None) -> int:
    """``count`` symlinks to the benchmark pages (each once by default, repeated as needed), each
    with a URL sidecar. The number of files."""
    items = [orjson.loads(line) for line in (data_dir / "truth.jsonl").read_bytes().splitlines() if line.strip()]
    items = [i for i in items if (data_dir / "html" / f"{i['id']}.html.gz").exists()]
    folder.mkdir(parents=True)
    total = len(items) if count is None else count
    for n in range(total):
        item = items[n % len(items)]
        name = f"{n:06d}-{item['id'][:16]}.html.gz"
        (folder / name).symlink_to((data_dir / "html" / f"{item['id']}.html.gz").resolve())
        (folder / f"{name}.meta.json").write_bytes(orjson.dumps({"url": item["url"]}))
    return total


PROCESSES = ("bare", "j1", "j2")


def processes(data_dir: Path, runs: int, limit: int | None) -> dict[str, Any]:
    """Part 2: ``newsclean clean -j 1`` and ``-j 2`` against ``bench/bare_fast.py`` over the set's files."""
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        work = Path(tmp)
        count = len(load_pages(data_dir, limit)[0]) if limit else None
        files = link_pages(data_dir, work / "pages", count)
        cpu: dict[str, list[float]] = {name: [] for name in PROCESSES}
        wall: dict[str, list[float]] = {name: [] for name in PROCESSES}
        records: dict[str, int] = {}
        for run in range(runs):
            for name in run_order(PROCESSES, run):
                out = work / f"{name}.jsonl"
                command = bare_command(work / "pages", out) if name == "bare" else \
                    clean_command(work / "pages", out, int(name[1:]))
                figures = run_measured(command)
                cpu[name].append(figures.cpu_s)
                wall[name].append(figures.wall_s)
                records[name] = count_lines(out)
            print(f"whole processes: run {run + 1}/{runs} done", file=sys.stderr)
    return {
        "files": files,
        "runs": runs,
        "commands": {
            name: {"cpu_s": statistics.median(cpu[name]), "wall_s": statistics.median(wall[name]),
                   "records": records[name], "cpu_s_runs": cpu[name], "wall_s_runs": wall[name]}
            for name in PROCESSES
        },
        "ratio_fast_cpu": median_ratio(cpu["bare"], cpu["j1"]),
        "ratio_fast_wall": median_ratio(wall["bare"], wall["j1"]),
        "jobs_wall": median_ratio(wall["j1"], wall["j2"]),
    }


STARTUP = ("no_page", "one_page", "import_trafilatura", "bare_one_page")


def startup(data_dir: Path, runs: int) -> dict[str, Any]:
    """Part 3: the CPU a process pays before (and for) its first page."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        work = Path(tmp)
        (work / "empty").mkdir()
        link_pages(data_dir, work / "one", 1)
        commands = {
            "no_page": (clean_command(work / "empty", work / "none.jsonl", 1), (0, 4)),
            "one_page": (clean_command(work / "one", work / "one.jsonl", 1), (0,)),
            "import_trafilatura": ([sys.executable, "-c", "import trafilatura"], (0,)),
            "bare_one_page": (bare_command(work / "one", work / "bare.jsonl"), (0,)),
        }
        cpu: dict[str, list[float]] = {name: [] for name in STARTUP}
        wall: dict[str, list[float]] = {name: [] for name in STARTUP}
        for run in range(runs):
            for name in run_order(STARTUP, run):
                command, ok = commands[name]
                for path in (work / "none.jsonl", work / "one.jsonl", work / "bare.jsonl"):
                    path.unlink(missing_ok=True)
                figures = run_measured(command, ok)
                cpu[name].append(figures.cpu_s)
                wall[name].append(figures.wall_s)
        print("start-up: done", file=sys.stderr)
    return {name: {"cpu_s": statistics.median(cpu[name]), "wall_s": statistics.median(wall[name])}
            for name in STARTUP}


def offline_run(folder: Path, jobs: int, work: Path) -> dict[str, Any]:
    out, stats_file = work / f"out-{jobs}.jsonl", work / f"stats-{jobs}.json"
    figures = run_measured(clean_command(folder, out, jobs, stats_file), sample_rss=True)
    stats = orjson.loads(stats_file.read_bytes())
    return {
        "pages_per_s": stats["offline/pages_read"] / stats["offline/elapsed_seconds"],
        "wall_s": figures.wall_s,
        "cpu_s": figures.cpu_s,
        "rss_all_mb": figures.rss_all_mb,
        "rss_largest_mb": figures.rss_largest_mb,
        "pages": stats["offline/pages_read"],
        "records": stats["offline/records_written"],
    }


def long_input(data_dir: Path, runs: int, pages: int, memory_pages: int) -> dict[str, Any]:
    """Parts 4 and 5: ``-j 1`` against ``-j 2`` over the pages repeated to ``pages``; then ``-j 2``
    over ``memory_pages`` and a tenth of that."""
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        work = Path(tmp)
        if pages:
            link_pages(data_dir, work / "long", pages)
            rows: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
            for run in range(runs):
                for jobs in run_order((1, 2), run):
                    rows[jobs].append(offline_run(work / "long", jobs, work))
                print(f"long input: run {run + 1}/{runs} done", file=sys.stderr)
            result["pages"] = rows[1][0]["pages"]
            result["runs"] = runs
            result["jobs"] = {
                jobs: {
                    "pages_per_s": statistics.median(r["pages_per_s"] for r in rows[jobs]),
                    "wall_s": statistics.median(r["wall_s"] for r in rows[jobs]),
                    "cpu_s": statistics.median(r["cpu_s"] for r in rows[jobs]),
                    "rss_all_mb": max(r["rss_all_mb"] for r in rows[jobs]),
                    "records": rows[jobs][-1]["records"],
                }
                for jobs in (1, 2)
            }
            result["jobs_wall"] = median_ratio([r["wall_s"] for r in rows[1]], [r["wall_s"] for r in rows[2]])
            result["jobs_counted"] = median_ratio([r["pages_per_s"] for r in rows[2]],
                                                  [r["pages_per_s"] for r in rows[1]])
        if memory_pages:
            memory: dict[int, dict[str, Any]] = {}
            for count in (max(1, memory_pages // 10), memory_pages):
                folder = work / f"repeat-{count}"
                link_pages(data_dir, folder, count)
                memory[count] = offline_run(folder, 2, work)
                print(f"memory: {count} pages done", file=sys.stderr)
            result["memory"] = memory
    return result


# -- part 6: the crawl against offline -j 2 on the same pages -----------------------------------
BENCH_PROFILE = """# written by bench/speed.py: the benchmark pages served on 127.0.0.1 (as the demo profile)
description = "benchmark pages served on 127.0.0.1"
base_url = "http://127.0.0.1"
allowed_domains = ["127.0.0.1"]
serve = "{folder}"
allow_private_addresses = true
robots_sitemaps = true
article_allow = ['/articles/[\\w-]+\\.html$']

[settings]
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_START_DELAY = 0.0
AUTOTHROTTLE_MAX_DELAY = 1.0
CONCURRENT_REQUESTS_PER_DOMAIN = 8
AUTOTHROTTLE_TARGET_CONCURRENCY = 8.0
RETRY_TIMES = 1
"""


def bench_site(data_dir: Path, root: Path, count: int) -> list[str]:
    """A site folder serving the benchmark pages repeated to ``count`` articles: each page unpacked
    once under ``_pages/`` (never served by that name), ``articles/<n>-<id>.html`` symlinks to it,
    ``robots.txt`` naming ``sitemap.xml``, which lists every article. The article names."""
    items = [orjson.loads(line) for line in (data_dir / "truth.jsonl").read_bytes().splitlines()]
    items = [i for i in items if (data_dir / "html" / f"{i['id']}.html.gz").exists()]
    (root / "_pages").mkdir(parents=True)
    (root / "articles").mkdir()
    for item in items:
        (root / "_pages" / f"{item['id']}.html").write_bytes(
            gzip.decompress((data_dir / "html" / f"{item['id']}.html.gz").read_bytes()))
    names = []
    for n in range(count or len(items)):
        item = items[n % len(items)]
        name = f"{n:06d}-{item['id'][:16]}.html"
        (root / "articles" / name).symlink_to(Path("..") / "_pages" / f"{item['id']}.html")
        names.append(name)
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\nSitemap: __BASE_URL__/sitemap.xml\n")
    urls = "".join(f"<url><loc>__BASE_URL__/articles/{name}</loc></url>\n" for name in names)
    (root / "sitemap.xml").write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}</urlset>\n')
    # no charset in the header: the page's own declaration decides, as for a page saved to disk
    (root / "_headers.json").write_bytes(orjson.dumps({f"/articles/{name}": "text/html" for name in names}))
    return names


def start_server(root: Path) -> tuple[subprocess.Popen[str], str]:
    """``python -m crawler.demo_server ROOT 0`` in its own process; the process and its base URL."""
    process = subprocess.Popen([sys.executable, "-m", "crawler.demo_server", str(root), "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if " at " not in line:
        process.kill()
        raise RuntimeError(f"demo server did not start: {line!r}")
    return process, line.split(" at ", 1)[1].split()[0].rstrip("/")


_TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 when gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def measure_cpu(command: list[str]) -> tuple[float, float, float, str]:
    """Run ``command``: wall seconds, CPU seconds of its whole process tree and of its own process
    (user + system, each process's last reading, read every 50 ms from ``/proc``), and its stderr."""
    keep = own_children()
    start = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        cpu: dict[int, float] = {}
        pids, tick = {process.pid}, 0
        while process.poll() is None:
            if tick % 10 == 0:  # the tree changes only when the pool starts: look every 0.5 s
                pids = tree_pids(process.pid)
            for pid in pids:
                cpu[pid] = max(cpu.get(pid, 0.0), proc_cpu(pid))
            tick += 1
            time.sleep(0.05)
        wall = time.perf_counter() - start
        reap(keep)  # a forkserver or worker re-parented here (see become_subreaper)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {stderr[-3000:]}")
    return wall, sum(cpu.values()), cpu.get(process.pid, 0.0), stderr


_STAT = re.compile(r"^ '([^']+)': (\d+(?:\.\d+)?),?}?$", re.MULTILINE)


def crawl_run(sites: Path, base_url: str, work: Path, server: int) -> dict[str, Any]:
    out, state = work / "crawl.jsonl", work / "crawl-state"
    out.unlink(missing_ok=True)
    shutil.rmtree(state, ignore_errors=True)
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "site=bench", "-a", f"sites_dir={sites}",
               "-O", str(out), "-s", f"NEWSCLEAN_STATE_DIR={state}", "-s", f"NEWSCLEAN_DEMO_URL={base_url}",
               "-s", "AUTOTHROTTLE_ENABLED=False"]
    server_cpu = proc_cpu(server)
    load = os.getloadavg()[0]
    wall, tree, main, stderr = measure_cpu(command)
    stats = {k: float(v) for k, v in _STAT.findall(stderr)}
    cleaned, elapsed = stats.get("newsclean/clean/total", 0.0), stats["elapsed_time_seconds"]
    cores = os.cpu_count() or 1
    return {
        "pages_per_s": cleaned / elapsed,
        "wall_pages_per_s": cleaned / wall,
        "elapsed_s": elapsed,
        "wall_s": wall,
        "pages": cleaned,
        "records": stats.get("item_scraped_count", 0.0),
        "cpu_cores_busy": tree / wall / cores,
        "cpu_s": tree,
        "main_cpu_s": main,
        "main_cpu_ms_per_page": 1000 * main / cleaned if cleaned else 0.0,
        "server_cpu_s": proc_cpu(server) - server_cpu,
        "in_process": stats.get("newsclean/clean/in_process_while_pool_starts", 0.0),
        "load": load,
        "hashes": hashes_of(out),
        "drops": {k.split("/", 2)[2]: v for k, v in stats.items() if "/dropped/" in k or "/article_error/" in k},
    }


def hashes_of(path: Path) -> set[str]:
    return {orjson.loads(line)["content_hash"] for line in path.read_bytes().splitlines() if line}


def offline_same_pages(folder: Path, work: Path) -> dict[str, Any]:
    out, stats_file = work / "offline.jsonl", work / "offline-stats.json"
    wall, tree, main, _ = measure_cpu(clean_command(folder, out, 2, stats_file))
    stats = orjson.loads(stats_file.read_bytes())
    pages = stats["offline/pages_read"]
    return {
        "pages_per_s": pages / stats["offline/elapsed_seconds"],
        "wall_pages_per_s": pages / wall,
        "wall_s": wall,
        "pages": pages,
        "records": stats["offline/records_written"],
        "cpu_cores_busy": tree / wall / (os.cpu_count() or 1),
        "main_cpu_ms_per_page": 1000 * main / pages if pages else 0.0,
        "hashes": hashes_of(out),
    }


def crawl_vs_offline(data_dir: Path, runs: int, pages: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        work = Path(tmp)
        site = work / "site"
        names = bench_site(data_dir, site, pages)
        sites = work / "sites"
        sites.mkdir()
        (sites / "bench.toml").write_text(BENCH_PROFILE.format(folder=site), "utf-8")
        server, base_url = start_server(site)
        try:
            folder = work / "offline"
            folder.mkdir()
            for name in names:
                (folder / name).symlink_to(os.readlink(site / "articles" / name).replace("..", str(site), 1))
                (folder / f"{name}.meta.json").write_bytes(orjson.dumps({"url": f"{base_url}/articles/{name}"}))
            crawls: list[dict[str, Any]] = []
            offlines: list[dict[str, Any]] = []
            for run in range(runs):
                order = ["crawl", "offline"] if run % 2 == 0 else ["offline", "crawl"]
                for name in order:
                    if name == "crawl":
                        crawls.append(crawl_run(sites, base_url, work, server.pid))
                    else:
                        offlines.append(offline_same_pages(folder, work))
                print(f"crawl: run {run + 1}/{runs} done ({crawls[-1]['pages_per_s']:.1f} against "
                      f"{offlines[-1]['pages_per_s']:.1f} pages/s)", file=sys.stderr)
        finally:
            server.kill()
            server.wait()
    same = all(c["hashes"] == o["hashes"] for c, o in zip(crawls, offlines, strict=True))
    for row in crawls + offlines:
        row.pop("hashes")
    drops = [row.pop("drops") for row in crawls]

    def med(rows: list[dict[str, Any]]) -> dict[str, float]:
        return {k: statistics.median(r[k] for r in rows) for k in rows[0]}

    return {
        "pages": pages or len(names),
        "crawl": med(crawls),
        "offline": med(offlines),
        "ratio": statistics.median(c["pages_per_s"] / o["pages_per_s"] for c, o in zip(crawls, offlines, strict=True)),
        "wall_ratio": statistics.median(
            c["wall_pages_per_s"] / o["wall_pages_per_s"] for c, o in zip(crawls, offlines, strict=True)),
        "same_hashes": same,
        "crawl_drops": drops,
        "runs": {"crawl": crawls, "offline": offlines},
    }


# -- the report ----------------------------------------------------------------------------------
def report_per_core(core: dict[str, Any]) -> None:
    print(f"per core (one process, CPU time; {core['pages']} pages, medians of {core['runs']} rotating runs)")
    print(f"  {'':52}{'pages/s':>8}{'wall p/s':>10}{'CPU ms':>8}{'texts':>7}{'P':>8}{'R':>8}{'F1':>8}")
    for name in SYSTEMS:
        row, q = core["systems"][name], core["quality"][name]
        print(f"  {LABELS[name]:52}{row['pages_per_s']:8.1f}{row['wall_pages_per_s']:10.1f}"
              f"{row['cpu_ms_per_page']:8.2f}{row['kept']:7d}{q['precision']:8.4f}{q['recall']:8.4f}{q['f1']:8.4f}")
    f1 = {name: core["quality"][name]["f1"] for name in SYSTEMS}
    fast_ok = core["ratio_fast"] >= TARGETS["per_core_fast"] and f1["newsclean"] > f1["fast"]
    print(f"  ratio newsclean / fast=True    {core['ratio_fast']:6.2f}   target ≥ {TARGETS['per_core_fast']}"
          f" with a higher F1 ({f1['newsclean']:.4f} against {f1['fast']:.4f}): {'met' if fast_ok else 'NOT met'}")
    print(f"  ratio newsclean / default      {core['ratio_default']:6.2f}   target ≥ {TARGETS['per_core_default']}: "
          f"{verdict(core['ratio_default'], TARGETS['per_core_default'])}"
          f" (F1 {f1['newsclean']:.4f} against {f1['default']:.4f})")
    print(f"  ratio --single-candidate / fast=True {core['ratio_single_fast']:6.2f}   (no target; F1 "
          f"{f1['single']:.4f} against {f1['fast']:.4f})")
    print(f"  peak RSS of this process       {core['peak_rss_mb']:6.0f} MB")
    print("  newsclean stages (one more pass)   ms/page   share")
    for stage in STAGES:
        share = 100 * core["stage_shares"].get(stage, 0.0)
        print(f"    {stage:30}  {core['stage_ms_per_page'][stage]:7.2f}  {share:5.1f} %")


def report_processes(proc: dict[str, Any]) -> None:
    print(f"whole processes over the {proc['files']} files (start-up included; medians of {proc['runs']}"
          " rotating runs)")
    print(f"  {'':52}{'CPU s':>8}{'wall s':>8}{'cores':>7}{'records':>9}")
    labels = {"bare": "bench/bare_fast.py (extract, fast=True)", "j1": "newsclean clean -j 1",
              "j2": "newsclean clean -j 2"}
    for name in PROCESSES:
        row = proc["commands"][name]
        print(f"  {labels[name]:52}{row['cpu_s']:8.2f}{row['wall_s']:8.2f}{row['cpu_s'] / row['wall_s']:7.2f}"
              f"{row['records']:9d}")
    print(f"  ratio newsclean -j 1 / bare fast=True, CPU   {proc['ratio_fast_cpu']:6.2f}   (wall"
          f" {proc['ratio_fast_wall']:.2f})   target ≥ {TARGETS['process_fast']}: "
          f"{verdict(proc['ratio_fast_cpu'], TARGETS['process_fast'])}")
    print(f"  speed-up -j 2 / -j 1, wall                   {proc['jobs_wall']:6.2f}   target ≥"
          f" {TARGETS['jobs_files']}: {verdict(proc['jobs_wall'], TARGETS['jobs_files'])}")


def report_startup(start: dict[str, Any], runs: int) -> None:
    print(f"start-up (CPU of the process tree; medians of {runs} rotating runs)     CPU s   wall s")
    labels = {"no_page": "newsclean clean -j 1 over no page (exit code 4)",
              "one_page": "newsclean clean -j 1 over one page",
              "import_trafilatura": 'python -c "import trafilatura"',
              "bare_one_page": "bench/bare_fast.py over the same page"}
    for name in STARTUP:
        print(f"  {labels[name]:60}{start[name]['cpu_s']:7.2f}{start[name]['wall_s']:9.2f}")
    print(f"  target: newsclean over no page ≤ {TARGETS['startup_cpu_s']} CPU s: "
          f"{verdict(start['no_page']['cpu_s'], TARGETS['startup_cpu_s'], at_most=True)}")


def report_long(long: dict[str, Any], quick: bool) -> None:
    if "jobs" in long:
        short = f" (shortened: {long['pages']} pages, target set for 2,000)" if long["pages"] < 2000 else ""
        print(f"long input: newsclean clean over {long['pages']} pages (the first set repeated; medians of"
              f" {long['runs']} runs){short}")
        print(f"  {'':30}{'pages/s':>8}{'wall s':>8}{'CPU s':>8}{'cores':>7}{'RSS all':>10}{'records':>9}")
        for jobs, row in long["jobs"].items():
            print(f"  -j {jobs:<27}{row['pages_per_s']:8.1f}{row['wall_s']:8.2f}{row['cpu_s']:8.2f}"
                  f"{row['cpu_s'] / row['wall_s']:7.2f}{row['rss_all_mb']:7.0f} MB{row['records']:9d}")
        print(f"  speed-up -j 2 / -j 1, wall    {long['jobs_wall']:6.2f}   (as the run counts it:"
              f" {long['jobs_counted']:.2f})   target ≥ {TARGETS['jobs_long']}: "
              f"{verdict(long['jobs_wall'], TARGETS['jobs_long'])}")
    for count, row in long.get("memory", {}).items():
        print(f"  -j 2 over {count:6d} pages          {row['pages_per_s']:8.1f} pages/s  {row['rss_all_mb']:6.0f} MB"
              f"  (largest process {row['rss_largest_mb']:.0f} MB, {row['records']} records)")
    if quick and not long.get("memory"):
        print("  (quick mode: no memory part)")


def report_crawl(crawl_figures: dict[str, Any]) -> None:
    crawl, off = crawl_figures["crawl"], crawl_figures["offline"]
    runs = crawl_figures["crawl_runs"]
    print(f"crawl of the same {crawl_figures['pages']} pages served from 127.0.0.1, against offline -j 2 "
          f"({runs} run{'s' if runs > 1 else ''}; load average {crawl['load']:.1f} at the crawls' start)")
    print("                                    pages/s   wall p/s   CPU cores busy   records")
    print(f"  scrapy crawl news (pool)          {crawl['pages_per_s']:8.1f}  {crawl['wall_pages_per_s']:9.1f}"
          f"   {crawl['cpu_cores_busy']:14.2f}   {crawl['records']:7.0f}")
    print(f"  newsclean clean -j 2              {off['pages_per_s']:8.1f}  {off['wall_pages_per_s']:9.1f}"
          f"   {off['cpu_cores_busy']:14.2f}   {off['records']:7.0f}")
    ratio, wall_ratio = crawl_figures["ratio"], crawl_figures["wall_ratio"]
    print(f"  ratio crawl / offline -j 2        {ratio:8.2f}  {wall_ratio:9.2f}   target ≥ {TARGETS['crawl']}: "
          f"{verdict(ratio, TARGETS['crawl'])}")
    print(f"  crawl's own process               {crawl['main_cpu_ms_per_page']:8.2f} CPU ms/page"
          f" (offline's: {off['main_cpu_ms_per_page']:.2f}); spider open to close {crawl['elapsed_s']:.1f} s,"
          f" wall {crawl['wall_s']:.1f} s")
    print(f"  demo server (its own process)     {crawl['server_cpu_s']:8.1f} CPU s;"
          f" pages cleaned in the crawl's process while the pool started: {crawl['in_process']:.0f}")
    print(f"  same content hashes in both       {'yes' if crawl_figures['same_hashes'] else 'NO'}")
    if not crawl_figures["same_hashes"]:
        for n, drops in enumerate(crawl_figures["crawl_drops"], 1):
            print(f"    crawl run {n} drops: {', '.join(f'{k} {v:.0f}' for k, v in sorted(drops.items()))}")


def target_rows(figures: dict[str, Any]) -> list[tuple[str, list[str], str]]:
    """The summary: one row per target, one column per set (figures taken once in the first)."""
    sets = figures["sets"]
    rows: list[tuple[str, list[str], str]] = []

    def per_set(key: str, fn: Callable[[dict[str, Any]], str]) -> list[str]:
        return [fn(s[key]) if key in s else "-" for s in sets.values()]

    def ratio_f1(core: dict[str, Any], other: str) -> str:
        return f"{core['ratio_' + other]:.2f} (F1 {core['quality']['newsclean']['f1']:.3f}/" \
               f"{core['quality'][other]['f1']:.3f})"

    if any("per_core" in s for s in sets.values()):
        rows.append(("per core, newsclean / fast=True (F1 ours/theirs)",
                     per_set("per_core", lambda c: ratio_f1(c, "fast")), f"≥ {TARGETS['per_core_fast']}, F1 higher"))
        rows.append(("per core, newsclean / default (F1 ours/theirs)",
                     per_set("per_core", lambda c: ratio_f1(c, "default")), f"≥ {TARGETS['per_core_default']}"))
        rows.append(("per core, --single-candidate / fast=True (F1)",
                     per_set("per_core", lambda c: f"{c['ratio_single_fast']:.2f} (F1 "
                             f"{c['quality']['single']['f1']:.3f}/{c['quality']['fast']['f1']:.3f})"), "(no target)"))
    if any("processes" in s for s in sets.values()):
        rows.append(("process, newsclean -j 1 / bare fast=True, CPU",
                     per_set("processes", lambda p: f"{p['ratio_fast_cpu']:.2f} (wall {p['ratio_fast_wall']:.2f})"),
                     f"≥ {TARGETS['process_fast']}"))
        rows.append(("process, -j 2 / -j 1 over the set's files, wall",
                     per_set("processes", lambda p: f"{p['jobs_wall']:.2f} ({p['files']} files)"),
                     f"≥ {TARGETS['jobs_files']}"))
    first = [""] * (len(sets) - 1)
    if "startup" in figures:
        rows.append(("start-up, newsclean over no page, CPU s",
                     [f"{figures['startup']['no_page']['cpu_s']:.2f}", *first], f"≤ {TARGETS['startup_cpu_s']}"))
    if "jobs" in figures.get("long", {}):
        long = figures["long"]
        rows.append((f"-j 2 / -j 1 over {long['pages']} pages, wall",
                     [f"{long['jobs_wall']:.2f}", *first], f"≥ {TARGETS['jobs_long']} (2,000 pages)"))
    if "crawl" in figures:
        crawl = figures["crawl"]
        rows.append((f"crawl / offline -j 2, {crawl['pages']} pages",
                     [f"{crawl['ratio']:.2f} (wall {crawl['wall_ratio']:.2f})", *first], f"≥ {TARGETS['crawl']}"))
    return rows


def report(figures: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"bench/speed.py{' --quick' if args.quick else ''}: Python {sys.version.split()[0]}, trafilatura "
          f"{trafilatura.__version__}, {os.cpu_count()} cores, load average {figures['load_before']:.1f}"
          " before the run")
    for data_dir, figs in figures["sets"].items():
        print()
        print(f"== {data_dir}")
        if "per_core" in figs:
            report_per_core(figs["per_core"])
        if "processes" in figs:
            print()
            report_processes(figs["processes"])
    if "startup" in figures:
        print()
        report_startup(figures["startup"], figures["startup_runs"])
    if figures.get("long"):
        print()
        report_long(figures["long"], args.quick)
    if "crawl" in figures:
        print()
        report_crawl(figures["crawl"])
    rows = target_rows(figures)
    if rows:
        names = [Path(d).name for d in figures["sets"]]
        widths = [max(len(name), *(len(r[1][i]) for r in rows)) + 3 for i, name in enumerate(names)]
        print()
        print(f"targets (issue 17){'':32}" + "".join(f"{n:>{w}}" for n, w in zip(names, widths, strict=True))
              + "   target")
        for label, values, target in rows:
            print(f"  {label:48}" + "".join(f"{v:>{w}}" for v, w in zip(values, widths, strict=True)) + f"   {target}")
        if len(names) > 1:
            print("  (start-up, the long input and the crawl are measured once, on the first set)")
    print()
    if figures.get("long") or any("processes" in s for s in figures["sets"].values()):
        print("cores = CPU s / wall s of the command: when -j 2 gets about 1, other work took the other core (the "
              "kernel shares the cores between sessions), and its ratio to -j 1 says little")
    parts = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in figures["durations_s"].items())
    print(f"bench/speed.py{' --quick' if args.quick else ''} took {figures['duration_s'] / 60:.1f} min"
          f" ({figures['duration_s']:.0f} s: {parts})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("data_dirs", nargs="+", type=Path, metavar="DATA_DIR")
    parser.add_argument("--quick", action="store_true",
                        help="about 3 minutes: a shorter long input and crawl, no memory part")
    parser.add_argument("--runs", type=int, default=3, help="runs of the per-core, whole-process and start-up parts")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages of each set")
    parser.add_argument("--offline-pages", type=int, default=None,
                        help="pages of the long input, -j 1 against -j 2 (2000; quick 1000; 0 skips it)")
    parser.add_argument("--offline-runs", type=int, default=None, help="runs of the long input (3; quick 1)")
    parser.add_argument("--memory-pages", type=int, default=None,
                        help="the memory part's longest input (10000; quick 0, which skips it)")
    parser.add_argument("--crawl-pages", type=int, default=None,
                        help="pages of the crawl part (--offline-pages; quick 500)")
    parser.add_argument("--crawl-runs", type=int, default=None, help="runs of the crawl part (3; quick 1; 0 skips it)")
    parser.add_argument("--no-offline", action="store_true", help="per-core figures only")
    parser.add_argument("--no-crawl", action="store_true", help="skip the crawl against offline -j 2")
    parser.add_argument("--crawl-only", action="store_true", help="only the crawl against offline -j 2")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    for data_dir in args.data_dirs:
        if not (data_dir / "truth.jsonl").is_file():
            parser.error(f"{data_dir}/truth.jsonl not found")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.crawl_pages is None:
        args.crawl_pages = args.offline_pages
    started = time.perf_counter()
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)
    if not become_subreaper():
        print("bench/speed.py: cannot become a child subreaper: the CPU of processes that outlive their "
              "parent is not counted", file=sys.stderr)
    figures: dict[str, Any] = {"quick": args.quick, "load_before": os.getloadavg()[0], "sets": {}}
    durations: dict[str, float] = {}
    figures["durations_s"] = durations

    def part(name: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = fn()
        durations[name] = durations.get(name, 0.0) + time.perf_counter() - start
        return result

    first = args.data_dirs[0]
    for data_dir in args.data_dirs:
        figs: dict[str, Any] = {}
        figures["sets"][str(data_dir)] = figs
        if args.crawl_only:
            continue
        pages, truths = load_pages(data_dir, args.limit)
        figs["per_core"] = part("per core", partial(per_core, pages, truths, args.runs))
        del pages
        if not args.no_offline:
            figs["processes"] = part("whole processes", partial(processes, data_dir, args.runs, args.limit))
    if not args.no_offline and not args.crawl_only:
        figures["startup"] = part("start-up", lambda: startup(first, args.runs))
        figures["startup_runs"] = args.runs
        if args.offline_pages or args.memory_pages:
            figures["long"] = part("long input and memory", lambda: long_input(
                first, args.offline_runs, args.offline_pages, args.memory_pages))
    if (args.crawl_only or not (args.no_offline or args.no_crawl)) and args.crawl_runs > 0:
        figures["crawl"] = part("crawl", lambda: crawl_vs_offline(first, args.crawl_runs, args.crawl_pages))
        figures["crawl"]["crawl_runs"] = args.crawl_runs
    figures["duration_s"] = time.perf_counter() - started
    report(figures, args)
    if args.json:
        args.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
