"""Throughput of ``newsclean clean`` against bare trafilatura, in the same run.

    .venv/bin/python bench/offline.py DATA_DIR [--runs 3] [--jobs 1 2]

DATA_DIR holds ``html/<id>.html.gz`` and ``truth.jsonl`` (``{"id", "url", "text"}`` per line),
as ``../shared/bench/scrapinghub`` does. The pages are linked into a temporary folder with a
``.meta.json`` sidecar giving each page its URL, then, ``--runs`` times each:

* ``newsclean clean FOLDER -o OUT -j N`` for every N of ``--jobs``: pages/s as the run counts it
  (``offline/pages_per_second``: reading, unpacking, cleaning, writing; pool start included) and
  from the wall time of the whole command (interpreter start included);
* bare ``trafilatura.extract(html, url=url, with_metadata=True, include_comments=False)`` over
  the same pages in one process, the pages unpacked in memory beforehand (not timed).

Prints medians, the ratios to bare trafilatura, and two memory figures per command, each command
run in its own wrapper process: "RSS all", the peak of the summed RSS of the command's whole
process tree (main process, forkserver, workers; sampled every 50 ms from ``/proc``), and
"largest", the peak RSS of its largest process (``resource.getrusage(RUSAGE_CHILDREN)``).
A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

_TRAFILATURA = r"""
import gzip, sys, time, orjson, logging
import trafilatura
logging.getLogger("trafilatura").setLevel(logging.ERROR)
pages = []
for line in open(sys.argv[1], "rb"):
    item = orjson.loads(line)
    with gzip.open(item["path"], "rb") as f:
        pages.append((f.read(), item["url"]))
start = time.perf_counter()
kept = 0
for html, url in pages:
    if trafilatura.extract(html, url=url, with_metadata=True, include_comments=False):
        kept += 1
elapsed = time.perf_counter() - start
print(orjson.dumps({"pages": len(pages), "kept": kept, "elapsed": elapsed}).decode())
"""


_WRAPPER = r"""
import os, resource, subprocess, sys, time, orjson

def tree_rss(root):
    # the summed VmRSS (KiB) of root and all its descendants
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    family, frontier = {root}, [root]
    while frontier:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier and pid not in family]
        family.update(frontier)
    total = 0
    for pid in family:
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total

start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
peak_tree = 0
while process.poll() is None:
    peak_tree = max(peak_tree, tree_rss(process.pid))
    time.sleep(0.05)
out, err = process.communicate()
wall = time.perf_counter() - start
if process.returncode:
    sys.exit(err)
largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(orjson.dumps({"wall": wall, "tree": peak_tree, "largest": largest, "out": out}).decode())
"""


def measure(command: list[str]) -> tuple[float, int, int, str]:
    """Run ``command`` in a wrapper process: wall seconds, the peak summed RSS of its process tree
    (sampled every 50 ms, KiB), the peak RSS of its largest process (KiB), its stdout."""
    result = subprocess.run([sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, check=True)
    data = orjson.loads(result.stdout)
    return float(data["wall"]), int(data["tree"]), int(data["largest"]), str(data["out"])


def prepare(data_dir: Path, folder: Path) -> Path:
    """Link the pages into ``folder`` with URL sidecars; the manifest for the trafilatura run."""
    manifest = folder / "manifest.jsonl"
    pages = folder / "pages"
    pages.mkdir()
    with open(manifest, "wb") as out:
        for line in (data_dir / "truth.jsonl").read_bytes().splitlines():
            item = orjson.loads(line)
            source = data_dir / "html" / f"{item['id']}.html.gz"
            if not source.exists():
                continue
            target = pages / source.name
            target.symlink_to(source.resolve())
            (pages / (source.name + ".meta.json")).write_bytes(orjson.dumps({"url": item["url"]}))
            out.write(orjson.dumps({"path": str(source), "url": item["url"]}) + b"\n")
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if not (args.data_dir / "truth.jsonl").is_file():
        parser.error(f"{args.data_dir}/truth.jsonl not found")
    newsclean = [sys.executable, "-m", "pipelines.cli", "clean"]
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as tmp:
        folder = Path(tmp)
        manifest = prepare(args.data_dir, folder)
        count = len(manifest.read_bytes().splitlines())
        script = folder / "bare_trafilatura.py"
        script.write_text(_TRAFILATURA)
        rates: dict[str, list[float]] = {}
        walls: dict[str, list[float]] = {}
        rss: dict[str, int] = {}
        largest: dict[str, int] = {}
        records: dict[str, int] = {}
        for run in range(args.runs):
            for jobs in args.jobs:
                name = f"newsclean -j {jobs}"
                out = folder / f"out-{jobs}.jsonl"
                stats_file = folder / f"stats-{jobs}.json"
                wall, peak, big, _ = measure([*newsclean, str(folder / "pages"), "-o", str(out), "-j", str(jobs),
                                         "--no-progress", "-q", "--stats", str(stats_file)])
                stats = orjson.loads(stats_file.read_bytes())
                rates.setdefault(name, []).append(stats["offline/pages_read"] / stats["offline/elapsed_seconds"])
                walls.setdefault(name, []).append(count / wall)
                rss[name] = max(rss.get(name, 0), peak)
                largest[name] = max(largest.get(name, 0), big)
                records[name] = stats["offline/records_written"]
            wall, peak, big, output = measure([sys.executable, str(script), str(manifest)])
            bare = orjson.loads(output)
            rates.setdefault("trafilatura", []).append(bare["pages"] / bare["elapsed"])
            walls.setdefault("trafilatura", []).append(count / wall)
            rss["trafilatura"] = max(rss.get("trafilatura", 0), peak)
            largest["trafilatura"] = max(largest.get("trafilatura", 0), big)
            records["trafilatura"] = bare["kept"]
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)

    base = statistics.median(rates["trafilatura"])
    print(f"{count} pages from {args.data_dir}, {args.runs} runs, medians; {os.cpu_count()} cores; "
          f"Python {sys.version.split()[0]}")
    print(f"{'':22} {'pages/s':>8} {'wall p/s':>9} {'vs bare':>8} {'RSS all':>9} {'largest':>9} {'records':>8}")
    for name in [*(f"newsclean -j {j}" for j in args.jobs), "trafilatura"]:
        rate = statistics.median(rates[name])
        label = "bare trafilatura" if name == "trafilatura" else name
        print(f"{label:22} {rate:8.1f} {statistics.median(walls[name]):9.1f} {rate / base:8.2f} "
              f"{rss[name] / 1024:6.0f} MB {largest[name] / 1024:6.0f} MB {records[name]:8d}")
    if len(args.jobs) > 1:
        one, *more = args.jobs
        for jobs in more:
            speedup = statistics.median(rates[f"newsclean -j {jobs}"]) / statistics.median(rates[f"newsclean -j {one}"])
            print(f"speed-up -j {jobs} / -j {one}: {speedup:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
