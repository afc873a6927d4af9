"""Speed benchmark (not a test): newsclean against bare trafilatura, per core, in the same run.

    .venv/bin/python bench/speed.py DATA_DIR [--runs 3] [--limit N] [--offline-runs 3]
                                    [--offline-pages 2000] [--memory-pages 10000] [--no-offline]
                                    [--crawl-runs 3] [--no-crawl] [--crawl-only] [--json FILE]

DATA_DIR holds ``html/<id>.html.gz`` and ``truth.jsonl`` (``{"id", "url", "text"}`` per line), as
``../shared/bench/scrapinghub`` does. Four parts, each printing medians over the runs:

1. **Per core, in this process.** The pages are unpacked in memory first (not timed). Each run
   times, one after the other and alternating which goes first, bare
   ``trafilatura.extract(html, url=url, with_metadata=True, include_comments=False)`` and the
   whole newsclean pipeline (``Cleaner.clean`` then ``pipelines.core.record.dumps``: decode, parse,
   metadata, DOM rules, trafilatura, language, residue rules, hash, JSON) over every page.
   pages/s per core = pages / CPU seconds of this process (``time.process_time``: the figure
   holds on a busy machine); wall pages/s are printed beside it. The ratio is taken run by run.
   One more newsclean pass with a :class:`pipelines.core.stage_clock.StageClock` on CPU time gives each
   stage's share (the timed runs keep the default no-op clock); that pass also runs every record
   through the dedup step (``dedup``: content-hash claim, near-duplicate signature and lookup, in
   a fresh SQLite state, policy ``drop``). Peak RSS is this process's.
2. **Offline, ``newsclean clean -j 1`` and ``-j 2``** on the same pages repeated to
   ``--offline-pages`` (symlinks with URL sidecars; enough pages that starting the worker pool
   does not dominate; repeats are cleaned, then dropped as duplicates): pages/s as the run
   counts it (``offline/pages_per_second``), the peak summed RSS of the command's process tree
   (sampled every 50 ms from ``/proc``), and the speed-up.
   ``bench/offline.py`` gives more offline figures (CPU per page, cores actually used).
3. **Memory over a long input**: ``newsclean clean -j 2`` over the pages repeated to
   ``--memory-pages`` (a folder of symlinks; repeats are cleaned, then dropped as duplicates) and
   over a tenth of that: the two peaks show whether RSS grows with the input.
4. **The crawl against ``newsclean clean -j 2`` on the very same pages** (``--no-crawl`` skips
   it, ``--crawl-only`` runs it alone; ``--no-offline`` skips it too). The pages, repeated to
   ``--offline-pages`` (each copy under its own URL, unpacked once into a temporary site folder:
   one file per page, the copies are symlinks), are served from
   127.0.0.1 by ``crawler/demo_server.py`` in its own process, with a ``robots.txt`` naming a
   sitemap that lists every copy, and ``Content-Type: text/html`` (no charset, as a page saved
   to disk). Each run is a real ``scrapy crawl news`` subprocess (a temporary ``bench`` profile
   like the demo one, ``NEWSCLEAN_DEMO_URL`` pointing at the server, a fresh state folder,
   AutoThrottle off, the real pipelines and feed export) and ``newsclean clean -j 2`` over
   symlinks to the same files, with sidecars giving the URLs the crawl fetches, in alternating
   order. Crawl pages/s = pages cleaned (``newsclean/clean/total``) / spider open to close
   (``elapsed_time_seconds``), and / the command's wall time; offline pages/s as in part 2. The
   ratio crawl / offline is taken run by run. CPU of the crawl = user + system seconds of its
   process tree (the crawl's process, the pool's forkserver and workers, read from ``/proc``
   every 50 ms) / wall / cores: 1.0 means both cores busy all along; the crawl's own process
   and the server's CPU are shown apart. Both runs must give the same content hashes.

``bench/crawl.py`` measures the crawl of the small demo site (with and without the pool).
"""

from __future__ import annotations

import argparse
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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import trafilatura

from pipelines.core.cleaner import Cleaner, Drop, Page
from pipelines.core.record import dumps
from pipelines.core.stage_clock import STAGES, StageClock
from pipelines.run.dedup import Deduper
from pipelines.store import open_state

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


def run_newsclean(cleaner: Cleaner, pages: Pages, dedup: Deduper | None = None) -> int:
    kept = 0
    clock = cleaner.clock
    for html, url in pages:
        result = cleaner.clean(Page(html, url=url))
        if not isinstance(result, Drop):
            dumps(result)
            kept += 1
            clock.lap("json")
            if dedup is not None:
                dedup.claim(result)
                clock.lap("dedup")
        else:
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
    with tempfile.TemporaryDirectory() as state:  # the dedup stage: a fresh SQLite state, near-duplicates dropped
        store = open_state(state)
        run_newsclean(cleaner, pages, Deduper(store, near="drop"))
        store.close()
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


def tree_rss_kib(root: int) -> tuple[int, int]:
    """The summed VmRSS (KiB) of ``root`` and all its descendants, and the largest of them."""
    sizes = []
    for pid in tree_pids(root):
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


# -- part 4: the crawl against offline -j 2 on the same pages -----------------------------------
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
    for path in (out, stats_file):
        path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pipelines.cli", "clean", str(folder), "-o", str(out), "-j", "2",
               "--no-progress", "-q", "--stats", str(stats_file)]
    wall, tree, main, _ = measure_cpu(command)
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


def report(figures: dict[str, Any], data_dir: Path, runs: int) -> None:
    print(f"pages from {data_dir}, medians; Python {sys.version.split()[0]}, "
          f"trafilatura {trafilatura.__version__}, {os.cpu_count()} cores")
    if "per_core" in figures:
        report_per_core(figures["per_core"], runs)
    report_rest(figures)


def report_per_core(core: dict[str, Any], runs: int) -> None:
    print()
    print(f"per core (one process, CPU time, {core['pages']} pages, {runs} runs)  pages/s   wall p/s   records")
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


def report_rest(figures: dict[str, Any]) -> None:
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
    if "crawl" in figures:
        crawl, off = figures["crawl"]["crawl"], figures["crawl"]["offline"]
        print()
        print(f"crawl of the same {figures['crawl']['pages']} pages served from 127.0.0.1, against offline -j 2 "
              f"(load average {crawl['load']:.1f} at the crawls' start)")
        print("                                    pages/s   wall p/s   CPU cores busy   records")
        print(f"  scrapy crawl news (pool)          {crawl['pages_per_s']:8.1f}  {crawl['wall_pages_per_s']:9.1f}"
              f"   {crawl['cpu_cores_busy']:14.2f}   {crawl['records']:7.0f}")
        print(f"  newsclean clean -j 2              {off['pages_per_s']:8.1f}  {off['wall_pages_per_s']:9.1f}"
              f"   {off['cpu_cores_busy']:14.2f}   {off['records']:7.0f}")
        ratio, wall_ratio = figures["crawl"]["ratio"], figures["crawl"]["wall_ratio"]
        print(f"  ratio crawl / offline -j 2        {ratio:8.2f}  {wall_ratio:9.2f}")
        print(f"  crawl's own process               {crawl['main_cpu_ms_per_page']:8.2f} CPU ms/page"
              f" (offline's: {off['main_cpu_ms_per_page']:.2f}); spider open to close {crawl['elapsed_s']:.1f} s,"
              f" wall {crawl['wall_s']:.1f} s")
        print(f"  demo server (its own process)     {crawl['server_cpu_s']:8.1f} CPU s;"
              f" pages cleaned in the crawl's process while the pool started: {crawl['in_process']:.0f}")
        print(f"  same content hashes in both       {'yes' if figures['crawl']['same_hashes'] else 'NO'}")
        if not figures["crawl"]["same_hashes"]:
            for n, drops in enumerate(figures["crawl"]["crawl_drops"], 1):
                print(f"    crawl run {n} drops: {', '.join(f'{k} {v:.0f}' for k, v in sorted(drops.items()))}")
    print()
    print("demo-site crawl: .venv/bin/python bench/crawl.py --scale K")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--offline-runs", type=int, default=3)
    parser.add_argument("--offline-pages", type=int, default=2000, help="pages of the -j runs (0: each page once)")
    parser.add_argument("--memory-pages", type=int, default=10_000, help="0: skip the long-input memory run")
    parser.add_argument("--no-offline", action="store_true", help="per-core figures only (no offline, no crawl)")
    parser.add_argument("--crawl-runs", type=int, default=3, help="runs of the crawl part (pages: --offline-pages)")
    parser.add_argument("--no-crawl", action="store_true", help="skip the crawl against offline -j 2")
    parser.add_argument("--crawl-only", action="store_true", help="only the crawl against offline -j 2")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    if not (args.data_dir / "truth.jsonl").is_file():
        parser.error(f"{args.data_dir}/truth.jsonl not found")
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)
    figures: dict[str, Any] = {}
    if not args.crawl_only:
        figures["per_core"] = per_core(load_pages(args.data_dir, args.limit), args.runs)
    has_cli = subprocess.run([sys.executable, "-m", "pipelines.cli", "clean", "--help"], capture_output=True,
                             cwd=ROOT).returncode == 0
    if has_cli and not args.no_offline and not args.crawl_only:
        figures["offline"] = offline(args.data_dir, args.offline_runs, args.offline_pages, args.memory_pages)
    if has_cli and not args.no_offline and not args.no_crawl and args.crawl_runs > 0:
        figures["crawl"] = crawl_vs_offline(args.data_dir, args.crawl_runs, args.offline_pages)
    report(figures, args.data_dir, args.runs)
    if args.json:
        args.json.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
