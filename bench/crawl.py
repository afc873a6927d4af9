"""Benchmark (not a test): the demo crawl's pages/s with the cleaning process pool and without it.

    .venv/bin/python bench/crawl.py [SITE_FOLDER] [--runs 3] [--pool N] [--scale K] [--no-throttle]

Each run is a real ``scrapy crawl news -a site=demo`` subprocess on a fresh state folder, serving
SITE_FOLDER (default: fixtures/demo_site/site). With ``--scale K`` the site is first copied to a
temporary folder where every article is served K times under K URLs (each copy's text differs by
one word, so none is a duplicate), linked from the French section page. pages/s = responses
received / elapsed seconds, as Scrapy's stats give them (spider open to close, pool start-up
included); "wall" is the whole command, interpreter start to exit. Prints the median over the
runs of each configuration.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_STAT = re.compile(r"^ '([^']+)': (\d+(?:\.\d+)?),?}?$", re.MULTILINE)


def scaled_site(source: Path, scale: int, target: Path) -> Path:
    """A copy of the demo site where each article is served ``scale`` times under distinct URLs."""
    shutil.copytree(source, target)
    links = []
    start = b'<div class="entry-content">\n<p>'
    for page in sorted((target / "articles").glob("*.html")):
        data = page.read_bytes()
        if start not in data:  # the broken page
            continue
        for k in range(2, scale + 1):
            copy = page.with_name(f"{page.stem}-{k}.html")
            copy.write_bytes(data.replace(start, start + f"({k}) ".encode(), 1))
            links.append(f'<li><a href="/articles/{copy.name}">{copy.stem}</a></li>')
    section = target / "sections" / "fr.html"
    section.write_text(section.read_text("utf-8").replace("</ul>", "\n".join(links) + "\n</ul>", 1), "utf-8")
    return target


def one_run(site_folder: Path, pool: int, throttle: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable, "-m", "scrapy", "crawl", "news", "-a", "site=demo",
            "-o", f"{tmp}/out.jsonl",
            "-s", f"NEWSCLEAN_STATE_DIR={tmp}/state",
            "-s", f"NEWSCLEAN_DEMO_ROOT={site_folder}",
            "-s", "NEWSCLEAN_DEMO_PORT=0",
            "-s", f"NEWSCLEAN_POOL_SIZE={pool}",
        ]
        if not throttle:
            cmd += ["-s", "AUTOTHROTTLE_ENABLED=False"]
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"crawl failed:\n{proc.stderr[-3000:]}")
    stats = {k: float(v) for k, v in _STAT.findall(proc.stderr)}
    elapsed = stats["elapsed_time_seconds"]
    return {
        "pages_per_s": stats["response_received_count"] / elapsed,
        "articles_per_s": stats.get("newsclean/spider/articles", 0) / elapsed,
        "records": stats.get("item_scraped_count", 0),
        "elapsed": elapsed,
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site_folder", nargs="?", type=Path, default=ROOT / "fixtures" / "demo_site" / "site")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pool", type=int, default=os.cpu_count() or 1, help="pool size of the pool runs")
    parser.add_argument("--scale", type=int, default=1, help="serve every article this many times")
    parser.add_argument("--no-throttle", action="store_true", help="AutoThrottle off (the demo profile keeps it on)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site_folder.resolve()
        if args.scale > 1:
            site = scaled_site(site, args.scale, Path(tmp) / "site")
        print(f"demo crawl of {args.site_folder} x{args.scale}, {args.runs} runs each, {os.cpu_count()} cores,"
              f" AutoThrottle {'off' if args.no_throttle else 'on'}")
        configs = ((f"process pool ({args.pool} workers)", args.pool), ("in-process (NEWSCLEAN_POOL_SIZE=0)", 0))
        for label, pool in configs:
            results = [one_run(site, pool, not args.no_throttle) for _ in range(args.runs)]
            med = {k: statistics.median(r[k] for r in results) for k in results[0]}
            print(f"{label:36s} {med['pages_per_s']:6.1f} pages/s {med['articles_per_s']:6.1f} articles/s"
                  f"  crawl {med['elapsed']:5.2f} s  wall {med['wall']:5.2f} s  {med['records']:.0f} records")


if __name__ == "__main__":
    main()
