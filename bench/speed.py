"""Speed benchmark (not a test): newsclean against bare trafilatura, per core, in the same run.

    .venv/bin/python bench/speed.py DATA_DIR [--runs 3] [--limit N] [--offline-runs 3]
                                    [--offline-pages 2000] [--memory-pages 10000] [--no-offline]
                                    [--json FILE]

DATA_DIR holds ``html/<id>.html.gz`` and ``truth.jsonl`` (``{"id", "url", "text"}`` per line), as
``../shared/bench/scrapinghub`` does. Three parts, each printing medians over the runs:

1. **Per core, in this process.** The pages are unpacked in memory first (not timed). Each run
   times, one after the other and alternating which goes first, bare
   ``trafilatura.extract(html, url=url, with_metadata=True, include_comments=False)`` and the
   whole newsclean pipeline (``Cleaner.clean`` then ``pipelines.record.dumps``: decode, parse,
   metadata, DOM rules, trafilatura, language, residue rules, hash, JSON) over every page.
   pages/s per core = pages / CPU seconds of this process (``time.process_time``: the figure
   holds on a busy machine); wall pages/s are printed beside it. The ratio is taken run by run.
   One more newsclean pass with a :class:`pipelines.timing.StageClock` on CPU time gives each
   stage's share (the timed runs keep the default no-op clock). Peak RSS is this process's.
2. **Offline, ``newsclean clean -j 1`` and ``-j 2``** on the same pages repeated to
   ``--offline-pages`` (symlinks with URL sidecars; enough pages that starting the worker pool
   does not dominate; repeats are cleaned, then dropped as duplicates): pages/s as the run
   counts it (``offline/pages_per_second``), the peak summed RSS of the command's process tree
   (sampled every 50 ms from ``/proc``), and the speed-up.
   ``bench/offline.py`` gives more offline figures (CPU per page, cores actually used).
3. **Memory over a long input**: ``newsclean clean -j 2`` over the pages repeated to
   ``--memory-pages`` (a folder of symlinks; repeats are cleaned, then dropped as duplicates) and
   over a tenth of that: the two peaks show whether RSS grows with the input.

The crawl has its own benchmark: ``.venv/bin/python bench/crawl.py --scale K`` (see its docstring).
"""

from __future__ import annotations

import argparse
import gc
import gzip
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import trafilatura

from pipelines.core import Cleaner, Drop, Page
from pipelines.record import dumps
from pipelines.timing import STAGES, StageClock

ROOT = Path(__file__).resolve().parent.parent

Pages = list[tuple[bytes, str]]


def load_pages(data_dir: Path, limit: int | None) -> Pages:
    pages: Pages = []
    for line in (data_dir / "truth.jsonl").read_bytes().splitlines():
        item = orjson.loads(line)
        path = data_dir / "html" / f"{item['id']}.html.gz"
        if path.exists():
            pages.append((gzip.decompress(path.read_bytes()), item["url"]))
        if limit and len(pages) >= limit:
            break
    return pages


def run_bare(pages: Pages) -> int:
    kept = 0
    for html, url in pages:
        if trafilatura.extract(html, url=url, with_metadata=True, include_comments=False):
            kept += 1
    return kept


def run_newsclean(cleaner: Cleaner, pages: Pages) -> int:
    kept = 0
    clock = cleaner.clock
    for html, url in pages:
        result = cleaner.clean(Page(html, url=url))
        if not isinstance(result, Drop):
            dumps(result)
            kept += 1
        clock.lap("json")
    return kept


def timed(fn: Callable[[], int]) -> tuple[float, float, int]:
    """CPU seconds, wall seconds, and what ``fn`` returned."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    kept = fn()
    return time.process_time() - cpu, time.perf_counter() - wall, kept


def per_core(pages: Pages, runs: int) -> dict[str, Any]:
    cleaner = Cleaner()
    warm = pages[: min(10, len(pages))]
    run_bare(warm)
    run_newsclean(cleaner, warm)
    cpu: dict[str, list[float]] = {"bare": [], "newsclean": []}
    wall: dict[str, list[float]] = {"bare": [], "newsclean": []}
    kept: dict[str, int] = {}
    ratios: list[float] = []
    systems: dict[str, Callable[[], int]] = {
        "bare": lambda: run_bare(pages),
        "newsclean": lambda: run_newsclean(cleaner, pages),
    }
    for run in range(runs):
        order = ["bare", "newsclean"] if run % 2 == 0 else ["newsclean", "bare"]
        for name in order:
            c, w, k = timed(systems[name])
            cpu[name].append(c)
            wall[name].append(w)
            kept[name] = k
        ratios.append(cpu["bare"][-1] / cpu["newsclean"][-1])
        print(f"per core: run {run + 1}/{runs} done", file=sys.stderr)
    clock = StageClock(time.process_time)
    cleaner.clock = clock
    run_newsclean(cleaner, pages)
    n = len(pages)
    return {
        "pages": n,
        "bare_pages_per_s": n / statistics.median(cpu["bare"]),
        "newsclean_pages_per_s": n / statistics.median(cpu["newsclean"]),
        "bare_wall_pages_per_s": n / statistics.median(wall["bare"]),
        "newsclean_wall_pages_per_s": n / statistics.median(wall["newsclean"]),
        "ratio": statistics.median(ratios),
        "kept": kept,
        "stage_ms_per_page": {s: 1000 * clock.seconds.get(s, 0.0) / n for s in STAGES},
        "stage_shares": clock.shares(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def link_pages(data_dir: Path, folder: Path, count: int | None = None) -> None:
    """``count`` symlinks to the benchmark pages (each once by default, repeated as needed), each
    with a URL sidecar."""
    items = [orjson.loads(line) for line in (data_dir / "truth.jsonl").read_bytes().splitlines()]
    items = [i for i in items if (data_dir / "html" / f"{i['id']}.html.gz").exists()]
    folder.mkdir(parents=True)
    for n in range(len(items) if count is None else count):
        item = items[n % len(items)]
        name = f"{n:06d}-{item['id'][:16]}.html.gz"
        (folder / name).symlink_to((data_dir / "html" / f"{item['id']}.html.gz").resolve())
        (folder / f"{name}.meta.json").write_bytes(orjson.dumps({"url": item["url"]}))


def tree_rss_kib(root: int) -> tuple[int, int]:
    """The summed VmRSS (KiB) of ``root`` and all its descendants, and the largest of them."""
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
    sizes = []
    for pid in family:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]))
        except OSError:
            pass
    return sum(sizes), max(sizes, default=0)


def measure(command: list[str]) -> tuple[float, int, int]:
    """Run ``command``: wall seconds, peak summed RSS of its process tree and peak RSS of its
    largest process (KiB), both sampled every 50 ms from ``/proc``."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    peak_sum = peak_one = 0
    while process.poll() is None:
        total, largest = tree_rss_kib(process.pid)
        peak_sum, peak_one = max(peak_sum, total), max(peak_one, largest)
        time.sleep(0.05)
    _, err = process.communicate()
    if process.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {err.decode(errors='replace')[-2000:]}")
    return time.perf_counter() - start, peak_sum, peak_one


def offline_run(folder: Path, jobs: int, work: Path) -> dict[str, Any]:
    out, stats_file = work / f"out-{jobs}.jsonl", work / f"stats-{jobs}.json"
    for path in (out, stats_file):
        path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pipelines.cli", "clean", str(folder), "-o", str(out), "-j", str(jobs),
               "--no-progress", "-q", "--stats", str(stats_file)]
    wall, tree_kib, largest_kib = measure(command)
    stats = orjson.loads(stats_file.read_bytes())
    return {
        "pages_per_s": stats["offline/pages_read"] / stats["offline/elapsed_seconds"],
        "wall_s": wall,
        "rss_all_mb": tree_kib / 1024,
        "rss_largest_mb": largest_kib / 1024,
        "pages": stats["offline/pages_read"],
        "records": stats["offline/records_written"],
    }


def offline(
    data_dir: Path, runs: int, pages: int, memory_pages: int, jobs: tuple[int, ...] = (1, 2)
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        work = Path(tmp)
        link_pages(data_dir, work / "once", pages or None)
        rates: dict[int, list[float]] = {j: [] for j in jobs}
        rss: dict[int, float] = dict.fromkeys(jobs, 0.0)
        for run in range(runs):
            for j in jobs:
                figures = offline_run(work / "once", j, work)
                rates[j].append(figures["pages_per_s"])
                rss[j] = max(rss[j], figures["rss_all_mb"])
            print(f"offline: run {run + 1}/{runs} done", file=sys.stderr)
        result["pages"] = figures["pages"]
        result["jobs"] = {j: {"pages_per_s": statistics.median(rates[j]), "rss_all_mb": rss[j]} for j in jobs}
        if len(jobs) > 1:
            result["speedup"] = result["jobs"][jobs[-1]]["pages_per_s"] / result["jobs"][jobs[0]]["pages_per_s"]
        if memory_pages:
            memory: dict[int, dict[str, Any]] = {}
            for count in (max(1, memory_pages // 10), memory_pages):
                folder = work / f"repeat-{count}"
                link_pages(data_dir, folder, count)
                memory[count] = offline_run(folder, jobs[-1], work)
                print(f"memory: {count} pages done", file=sys.stderr)
            result["memory"] = memory
    return result


def report(figures: dict[str, Any], data_dir: Path, runs: int) -> None:
    core = figures["per_core"]
    print(f"{core['pages']} pages from {data_dir}, {runs} runs, medians; Python {sys.version.split()[0]}, "
          f"trafilatura {trafilatura.__version__}, {os.cpu_count()} cores")
    print()
    print("per core (one process, CPU time)     pages/s   wall p/s   records")
    print(f"  bare trafilatura.extract          {core['bare_pages_per_s']:8.1f}  {core['bare_wall_pages_per_s']:9.1f}"
          f"   {core['kept']['bare']:7d}")
    print(f"  newsclean (clean + dumps)         {core['newsclean_pages_per_s']:8.1f}"
          f"  {core['newsclean_wall_pages_per_s']:9.1f}   {core['kept']['newsclean']:7d}")
    print(f"  ratio newsclean / bare            {core['ratio']:8.2f}")
    print(f"  peak RSS of this process          {core['peak_rss_mb']:6.0f} MB")
    print()
    print("newsclean stages                  ms/page   share")
    for stage in STAGES:
        share = 100 * core["stage_shares"].get(stage, 0.0)
        print(f"  {stage:30}  {core['stage_ms_per_page'][stage]:7.2f}  {share:5.1f} %")
    if "offline" in figures:
        off = figures["offline"]
        print()
        print(f"offline newsclean clean ({off['pages']} pages)  pages/s   RSS all")
        for jobs, row in off["jobs"].items():
            print(f"  -j {jobs}                           {row['pages_per_s']:8.1f}  {row['rss_all_mb']:6.0f} MB")
        if "speedup" in off:
            print(f"  speed-up -j 2 / -j 1              {off['speedup']:8.2f}")
        for count, row in off.get("memory", {}).items():
            print(f"  -j 2 over {count:6d} pages          {row['pages_per_s']:8.1f}  {row['rss_all_mb']:6.0f} MB"
                  f"  (largest process {row['rss_largest_mb']:.0f} MB, {row['records']} records)")
    print()
    print("crawl: .venv/bin/python bench/crawl.py --scale K (its own benchmark)")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--offline-runs", type=int, default=3)
    parser.add_argument("--offline-pages", type=int, default=2000, help="pages of the -j runs (0: each page once)")
    parser.add_argument("--memory-pages", type=int, default=10_000, help="0: skip the long-input memory run")
    parser.add_argument("--no-offline", action="store_true", help="per-core figures only")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    if not (args.data_dir / "truth.jsonl").is_file():
        parser.error(f"{args.data_dir}/truth.jsonl not found")
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)
    figures: dict[str, Any] = {"per_core": per_core(load_pages(args.data_dir, args.limit), args.runs)}
    has_cli = subprocess.run([sys.executable, "-m", "pipelines.cli", "clean", "--help"], capture_output=True,
                             cwd=ROOT).returncode == 0
    if has_cli and not args.no_offline:
        figures["offline"] = offline(args.data_dir, args.offline_runs, args.offline_pages, args.memory_pages)
    report(figures, args.data_dir, args.runs)
    if args.json:
        args.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
