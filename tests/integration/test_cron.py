"""README's cron line, as pasted, in a new folder holding only scrapy.cfg: it must make its own
folders, crawl and write records there (the demo site stands in for ``site=all``, which needs the
network; the interpreter running the tests stands in for ``.venv/bin/scrapy``). The crawl it runs
makes its folders itself too (``state/``, the log file's ``logs/``), and docs/crawl.md shows the
same line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from support.crawl import read_jsonl


def cron_line(doc: Path) -> str:
    return next(line for line in doc.read_text("utf-8").splitlines() if line.startswith("*/30 "))


def cron_command(folder: Path) -> str:
    line = cron_line(ROOT / "README.md")
    command = line.split(None, 5)[5]  # what follows the five time fields
    for pasted, here in (("/srv/newsclean", str(folder)), (".venv/bin/scrapy", f"{sys.executable} -m scrapy"),
                         ("site=all", "site=demo"), ("\\%", "%")):  # cron reads \% as %
        assert pasted in command
        command = command.replace(pasted, here)
    return command


def test_readme_cron_line_runs_as_pasted_in_a_new_folder(tmp_path: Path) -> None:
    shutil.copy(ROOT / "scrapy.cfg", tmp_path)
    done = subprocess.run(["bash", "-c", cron_command(tmp_path)], capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    logs = list((tmp_path / "logs").glob("crawl-*.log"))
    assert len(logs) == 1 and "Spider closed (finished)" in logs[0].read_text("utf-8")
    feeds = list((tmp_path / "output" / "news").glob("*.jsonl"))
    assert len(feeds) == 1 and len(read_jsonl(feeds[0])) >= 20
    assert (tmp_path / "state" / "state.sqlite3").is_file()  # the state in the folder, not in the package


def test_the_crawl_of_the_cron_line_makes_its_own_folders(tmp_path: Path) -> None:
    """What the line runs under flock, alone: no state/ or logs/ made beforehand."""
    shutil.copy(ROOT / "scrapy.cfg", tmp_path)
    command = cron_command(tmp_path)
    lock = "flock -n state/.crawl.lock "
    assert lock in command
    crawl = f"cd {tmp_path} && " + command.split(lock, 1)[1]
    done = subprocess.run(["bash", "-c", crawl], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr == ""  # everything went to the log file; stderr (cron's mail) only for a failed run
    logs = list((tmp_path / "logs").glob("crawl-*.log"))
    assert len(logs) == 1 and "exit code 0: " in logs[0].read_text("utf-8")
    assert (tmp_path / "state" / "state.sqlite3").is_file()


def test_docs_show_the_readme_cron_line() -> None:
    assert cron_line(ROOT / "docs" / "crawl.md") == cron_line(ROOT / "README.md")
