"""bench/speed.py's process accounting and bench/bare_fast.py, as real processes (the benchmark's
figures themselves are not tested: nothing here is timed)."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "fixtures" / "pages" / "english").glob("*/input.html"))[:2]

# a process that forks a child and exits at once; the orphan then burns 0.5 s of CPU
ORPHAN = """
import os, time
if os.fork() == 0:
    time.sleep(0.2)
    while time.process_time() < 0.5:
        pass
    os._exit(0)
os._exit(0)
"""

MEASURE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("bench_speed", sys.argv[1])
speed = importlib.util.module_from_spec(spec)
sys.modules["bench_speed"] = speed
spec.loader.exec_module(speed)
if sys.argv[2] == "subreaper":
    assert speed.become_subreaper()
figures = speed.run_measured([sys.executable, "-c", sys.argv[3]])
print(figures.cpu_s, len(speed.own_children()))
"""


def measure_orphan(mode: str) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(ROOT / "bench" / "speed.py"), mode, ORPHAN],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    return float(out[0]), int(out[1])


def test_run_measured_counts_the_cpu_of_a_process_that_outlives_its_parent() -> None:
    cpu, children_left = measure_orphan("subreaper")
    assert cpu >= 0.5
    assert children_left == 0  # the orphan was reaped, not left a zombie


def test_without_the_subreaper_the_orphan_is_not_counted() -> None:
    """The control: what the subreaper is for (the orphan goes to another parent)."""
    cpu, _ = measure_orphan("plain")
    assert cpu < 0.4


def test_bare_fast_writes_one_line_per_page_with_the_sidecar_url(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    urls = []
    for n, path in enumerate(PAGES):
        name = f"{n:02d}.html.gz" if n % 2 else f"{n:02d}.html"
        body = path.read_bytes()
        (folder / name).write_bytes(gzip.compress(body) if name.endswith(".gz") else body)
        url = f"https://example.org/news/{n}"
        (folder / f"{name}.meta.json").write_bytes(orjson.dumps({"url": url}))
        urls.append(url)
    for flags in ([], ["--default"]):
        out = tmp_path / "out.jsonl"
        subprocess.run([sys.executable, str(ROOT / "bench" / "bare_fast.py"), str(folder), str(out), *flags],
                       check=True, cwd=ROOT)
        lines = [orjson.loads(line) for line in out.read_bytes().splitlines()]
        assert [line["url"] for line in lines] == urls
        assert all(line["text"].startswith("---\n") and len(line["text"]) > 200 for line in lines)


def test_bare_fast_over_no_page_exits_4(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "bare_fast.py"), str(tmp_path), str(tmp_path / "o")],
                         cwd=ROOT)
    assert run.returncode == 4
