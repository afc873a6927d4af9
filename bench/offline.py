"""Throughput of ``newsclean clean`` against bare trafilatura, in the same run.

    .venv/bin/python bench/offline.py DATA_DIR [--runs 3] [--jobs 1 2]

DATA_DIR holds ``html/<id>.html.gz`` and ``truth.jsonl`` (``{"id", "url", "text"}`` per line),
as ``../shared/bench/scrapinghub`` does. The pages are linked into a temporary folder with a
``.meta.json`` sidecar giving each page its URL. Then, ``--runs`` times, one after the other:

* ``newsclean clean FOLDER -o OUT -j N`` for every N of ``--jobs``: pages/s as the run counts it
  (``offline/pages_per_second``: reading, unpacking, cleaning, writing; pool start included);
* bare ``trafilatura.extract(html, url=url, with_metadata=True, include_comments=False)`` over
  the same pages in one process, the pages unpacked in memory beforehand (not timed).

Printed, as medians over the runs: pages/s; pages/s from the wall time of the whole command
(interpreter start and imports included); the ratio to bare trafilatura, taken within each run
and then the median (so a machine busy with other work skews both sides alike); CPU
milliseconds per page of the whole command, all its processes (``/proc`` sampled every 50 ms;
less sensitive than wall time to other load on the machine); the cores the command actually got
(its CPU seconds over its wall seconds: with other work on the machine and the kernel's
autogroup scheduling, all processes of one session share one fair share, so ``-j 2`` can get no
more CPU than ``-j 1``); and the peak of the summed RSS of
the command's process tree (main process, forkserver, workers). Each command runs under a small
wrapper process that samples ``/proc``. A benchmark, not a test: nothing is asserted.
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
import os, subprocess, sys, time, orjson

TICK = os.sysconf("SC_CLK_TCK")

def tree(root):
    # {pid: (cpu seconds, rss KiB)} for root and all its descendants
    parents, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / TICK
    family, frontier = {root}, {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier and pid not in family}
        family |= frontier
    out = {}
    for pid in family:
        rss = 0
        try:
            for line in open(f"/proc/{pid}/status"):
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        except OSError:
            continue
        out[pid] = (cpu.get(pid, 0.0), rss)
    return out

start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
peak_rss, cpu_seen = 0, {}
while process.poll() is None:
    sample = tree(process.pid)
    peak_rss = max(peak_rss, sum(rss for _, rss in sample.values()))
    for pid, (cpu, _) in sample.items():
        cpu_seen[pid] = max(cpu_seen.get(pid, 0.0), cpu)
    time.sleep(0.05)
out, err = process.communicate()
wall = time.perf_counter() - start
if process.returncode:
    sys.exit(err)
print(orjson.dumps({"wall": wall, "rss": peak_rss, "cpu": sum(cpu_seen.values()), "out": out}).decode())
"""


def measure(command: list[str]) -> dict[str, object]:
    """Run ``command`` under the wrapper: wall seconds, peak tree RSS (KiB), CPU seconds, stdout."""
    result = subprocess.run([sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, check=True)
    value = orjson.loads(result.stdout)
    assert isinstance(value, dict)
    return value


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
            (pages / source.name).symlink_to(source.resolve())
            (pages / (source.name + ".meta.json")).write_bytes(orjson.dumps({"url": item["url"]}))
            out.write(orjson.dumps({"path": str(source), "url": item["url"]}) + b"\n")
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if not (args.data_dir / "truth.jsonl").is_file():
        parser.error(f"{args.data_dir}/truth.jsonl not found")
    newsclean = [sys.executable, "-m", "pipelines.cli", "clean"]
    names = [*(f"newsclean -j {j}" for j in args.jobs), "bare trafilatura"]
    rate: dict[str, list[float]] = {n: [] for n in names}
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    busy: dict[str, list[float]] = {n: [] for n in names}
    rss: dict[str, int] = dict.fromkeys(names, 0)
    kept: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as tmp:
        folder = Path(tmp)
        manifest = prepare(args.data_dir, folder)
        count = len(manifest.read_bytes().splitlines())
        script = folder / "bare_trafilatura.py"
        script.write_text(_TRAFILATURA)
        for run in range(args.runs):
            for jobs, name in zip(args.jobs, names, strict=False):
                stats_file = folder / f"stats-{jobs}.json"
                got = measure([*newsclean, str(folder / "pages"), "-o", str(folder / f"out-{jobs}.jsonl"),
                               "-j", str(jobs), "--no-progress", "-q", "--force", "--stats", str(stats_file)])
                stats = orjson.loads(stats_file.read_bytes())
                rate[name].append(stats["offline/pages_read"] / stats["offline/elapsed_seconds"])
                kept[name] = stats["offline/records_written"]
                wall[name].append(count / float(got["wall"]))  # type: ignore[arg-type]
                cpu[name].append(float(got["cpu"]) / count)  # type: ignore[arg-type]
                busy[name].append(float(got["cpu"]) / float(got["wall"]))  # type: ignore[arg-type]
                rss[name] = max(rss[name], int(got["rss"]))  # type: ignore[call-overload]
            got = measure([sys.executable, str(script), str(manifest)])
            bare = orjson.loads(str(got["out"]))
            rate["bare trafilatura"].append(bare["pages"] / bare["elapsed"])
            kept["bare trafilatura"] = bare["kept"]
            wall["bare trafilatura"].append(count / float(got["wall"]))  # type: ignore[arg-type]
            cpu["bare trafilatura"].append(float(got["cpu"]) / count)  # type: ignore[arg-type]
            busy["bare trafilatura"].append(float(got["cpu"]) / float(got["wall"]))  # type: ignore[arg-type]
            rss["bare trafilatura"] = max(rss["bare trafilatura"], int(got["rss"]))  # type: ignore[call-overload]
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)

    load = os.getloadavg()[0]
    print(f"{count} pages from {args.data_dir}, {args.runs} runs, medians; {os.cpu_count()} cores, "
          f"load average {load:.1f}; Python {sys.version.split()[0]}")
    print(f"{'':18} {'pages/s':>8} {'wall p/s':>9} {'vs bare':>8} {'CPU ms/page':>12} {'cores used':>11} "
          f"{'peak RSS':>9} {'records':>8}")
    bare_rates = rate["bare trafilatura"]
    for name in names:
        ratio = statistics.median(r / b for r, b in zip(rate[name], bare_rates, strict=True))
        print(f"{name:18} {statistics.median(rate[name]):8.1f} {statistics.median(wall[name]):9.1f} {ratio:8.2f} "
              f"{statistics.median(cpu[name]) * 1000:12.0f} {statistics.median(busy[name]):11.2f} "
              f"{rss[name] / 1024:6.0f} MB {kept[name]:8d}")
    if len(args.jobs) > 1:
        first = names[0]
        for name in names[1:-1]:
            speedup = statistics.median(r / o for r, o in zip(rate[name], rate[first], strict=True))
            print(f"speed-up {name.split(' ', 1)[1]} / {first.split(' ', 1)[1]}: {speedup:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
