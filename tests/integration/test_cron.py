"""README's cron line, as pasted, in a new folder holding only scrapy.cfg: it must make its own
folders, crawl and write records there (the demo site stands in for ``site=all``, which needs the
network; the interpreter running the tests stands in for ``.venv/bin/scrapy``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from support.crawl import read_jsonl


def cron_command(folder: Path) -> str:
    line = next(line for line in (ROOT / "README.md").read_text("utf-8").splitlines() if line.startswith("*/30 "))
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
