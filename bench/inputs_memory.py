"""Memory of ``newsclean clean``'s main process against the number of inputs.

    .venv/bin/python bench/inputs_memory.py DIR [--sizes 50000,500000] [--modes folder,glob,stdin]
                                              [--python PYTHON] [--keep]

Builds, under ``DIR``, one flat folder of N empty ``.html`` files for each N in ``--sizes`` (kept
between runs: a folder already holding N files is reused) and runs ``newsclean clean`` over it
with ``-j 1`` (one process: the peak is the main process's own) and ``--progress`` (its counting
walk runs too), reading the folder three ways:

* ``folder``: the folder named as the input;
* ``glob``: ``'FOLDER/*.html'``;
* ``stdin``: ``-`` with the N paths piped on stdin, one a line.

An empty page is an ``empty`` reject, cleaned in microseconds, so enumerating the inputs is what
the run spends its time and memory on. Each run writes its rejects file (N lines); then, on the
largest folder, the same command with ``--resume`` reads the rejects back and skips every page.

Prints, for every run, the peak RSS of the ``newsclean`` process (``ru_maxrss`` from ``wait4``:
the run has no worker processes with ``-j 1``), its wall time and its exit code. No assertions:
figures to read (docs/limits.md#memory-and-the-number-of-inputs).

``--python`` runs another installation's ``newsclean`` (``/path/to/other/.venv/bin/python``): the
command is ``PYTHON -m pipelines.cli`` run in ``DIR``, so the package comes from that
interpreter's environment, not from this checkout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def build(folder: Path, count: int) -> None:
    """``folder`` holding exactly ``count`` empty pages (made once, reused)."""
    marker = folder / ".count"
    if marker.exists() and marker.read_text() == str(count):
        return
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    started = time.monotonic()
    # created in a scrambled order, as a crawl saves pages: the listing is not already sorted
    step = 7919  # a prime not dividing count: i * step % count visits every index once
    while count % step == 0:
        step += 2
    for i in range(count):
        (folder / f"p{(i * step) % count:07d}.html").touch()
    marker.write_text(str(count))
    print(f"built {folder} ({count} files) in {time.monotonic() - started:.0f} s", flush=True)


def run(python: str, cwd: Path, args: list[str], stdin_file: Path | None = None) -> tuple[int, float, float]:
    """(exit code, seconds, peak RSS in MB) of ``python -m pipelines.cli clean ARGS``."""
    command = [python, "-m", "pipelines.cli", "clean", *args, "-j", "1", "--progress", "-q"]
    started = time.monotonic()
    with open(stdin_file or os.devnull, "rb") as stdin:
        process = subprocess.Popen(command, cwd=cwd, stdin=stdin, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, elapsed, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", help="where the folders are built (and kept)")
    parser.add_argument("--sizes", default="50000,500000", help="numbers of files, comma-separated")
    parser.add_argument("--modes", default="folder,glob,stdin", help="folder, glob, stdin (comma-separated)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter whose newsclean runs")
    parser.add_argument("--keep", action="store_true", help="keep the rejects files")
    options = parser.parse_args()
    base = Path(options.dir).resolve()
    sizes = [int(size) for size in options.sizes.split(",")]
    modes = options.modes.split(",")
    print(f"{'files':>9}  {'input':<8} {'peak RSS':>10} {'time':>8}  exit", flush=True)
    for count in sizes:
        name = f"flat-{count}"
        build(base / name, count)
        for mode in modes:
            rejects = base / f"rejects-{mode}-{count}.jsonl"
            out = base / f"out-{mode}-{count}.jsonl"
            stdin_file = None
            if mode == "folder":
                inputs = [name]
            elif mode == "glob":
                inputs = [f"{name}/*.html"]
            else:
                inputs = ["-"]
                stdin_file = base / f"list-{count}.txt"
                if not stdin_file.exists():
                    with open(stdin_file, "w") as listing:
                        for entry in os.scandir(base / name):
                            if entry.name.endswith(".html"):
                                listing.write(f"{name}/{entry.name}\n")
            args = [*inputs, "-o", out.name, "--rejects", rejects.name, "--force"]
            code, seconds, rss = run(options.python, base, args, stdin_file)
            print(f"{count:>9,}  {mode:<8} {rss:>7.0f} MB {seconds:>6.1f} s  {code}", flush=True)
            if count == max(sizes) and mode == modes[0]:
                args = [*inputs, "-o", out.name, "--rejects", rejects.name, "--resume"]
                code, seconds, rss = run(options.python, base, args, stdin_file)
                print(f"{count:>9,}  {mode + ' --resume':<8} {rss:>4.0f} MB {seconds:>6.1f} s  {code}", flush=True)
            if not options.keep:
                for path in (rejects, out):
                    path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
