"""The ``newsclean clean`` command line: exit codes, stdin lists, stdout, summary, progress."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
from support.offline import FERRY, LIBRARY, MARKET, OFFLINE, PAGES, read_jsonl


def newsclean(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], input=stdin, capture_output=True,
                          text=True)


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "newsclean"
    assert script.exists()
    result = subprocess.run([str(script), "clean", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for option in ("--ordered", "--resume", "--state", "--stats", "--rejects", "--debug", "--max-page-bytes",
                   "--time-limit", "--text-field", "-j"):
        assert option in result.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert newsclean("clean", str(FERRY)).returncode == 2  # no -o
    assert newsclean("clean", str(FERRY), "-o", str(tmp_path / "o.jsonl"), "-j", "0").returncode == 2
    assert newsclean("clean", str(FERRY), "-o", str(tmp_path / "o.jsonl"), "--time-limit", "-1").returncode == 2
    resume_stdout = newsclean("clean", str(FERRY), "-o", "-", "--resume")
    assert resume_stdout.returncode == 2 and "--resume" in resume_stdout.stderr
    assert newsclean("frobnicate").returncode == 2


def test_unwritable_output_exits_1(tmp_path: Path) -> None:
    result = newsclean("clean", str(FERRY), "-o", str(tmp_path / "no-such-dir" / "out.jsonl"))
    assert result.returncode == 1
    assert "cannot write" in result.stderr
    result = newsclean("clean", str(FERRY), "-o", str(tmp_path / "out.jsonl"),
                       "--stats", str(tmp_path / "no-such-dir" / "s.json"))
    assert result.returncode == 1


def test_rejects_still_exit_0_with_summary_and_no_progress_bar(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    rejects = tmp_path / "rejects.jsonl"
    result = newsclean("clean", str(OFFLINE), "-o", str(out), "-j", "2", "--rejects", str(rejects))
    assert result.returncode == 0, result.stderr
    assert len(read_jsonl(out)) == 6
    reasons = sorted(r["reason"] for r in read_jsonl(rejects))
    assert reasons == ["bad_json", "bad_json", "duplicate_hash", "empty", "not_html", "read_error"]
    assert all(set(r) == {"source", "url", "reason", "detail"} for r in read_jsonl(rejects))
    # stderr is a pipe, not a terminal: the summary only, no progress bar
    assert "pages read       12" in result.stderr
    assert "records written  6" in result.stderr
    assert "duplicate_hash 1" in result.stderr
    assert "languages        en 5, fr 1" in result.stderr
    assert "pages/s" in result.stderr
    assert "pages/s]" not in result.stderr  # tqdm's bar format
    quiet = newsclean("clean", str(FERRY), "-o", str(tmp_path / "q.jsonl"), "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_progress_bar_when_asked(tmp_path: Path) -> None:
    # a folder: counted by a first walk, so the bar has a total (a percentage and an ETA)
    result = newsclean("clean", str(PAGES), "-o", str(tmp_path / "out.jsonl"), "--progress", "-q", "-j", "1")
    assert result.returncode == 0
    assert "100%" in result.stderr and "| 5/5 [" in result.stderr and "drops 1]" in result.stderr  # ferry-copy
    # paths on stdin are read once: a count and a rate, no total
    listed = "\n".join(str(p) for p in sorted(PAGES.rglob("*")) if p.is_file() and not p.name.endswith(".json"))
    result = newsclean("clean", "-", "-o", str(tmp_path / "out2.jsonl"), "--progress", "-q", "-j", "1", stdin=listed)
    assert result.returncode == 0
    assert "5 pages [" in result.stderr and "pages/s" in result.stderr and "%" not in result.stderr


def test_paths_on_stdin_and_output_on_stdout() -> None:
    result = newsclean("clean", "-", "-o", "-", "-j", "1", "--ordered", "-q", stdin=f"{MARKET}\n{LIBRARY}\n")
    assert result.returncode == 0, result.stderr
    records = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in records] == [str(MARKET), str(LIBRARY)]


def test_debug_flag_and_limits(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert newsclean("clean", str(FERRY), "-o", str(out), "--debug", "-q").returncode == 0
    [record] = read_jsonl(out)
    assert "removed_text" in record and "wp_respond" in record["removed_text"]
    rejects = tmp_path / "rejects.jsonl"
    assert newsclean("clean", str(FERRY), "-o", str(out), "--max-page-bytes", "100", "--rejects", str(rejects),
                     "-q", "--force").returncode == 0
    assert read_jsonl(out) == []
    assert [r["reason"] for r in read_jsonl(rejects)] == ["too_large"]


def test_offline_modules_do_not_import_scrapy() -> None:
    code = ("import sys, pipelines.cli.main, pipelines.run.offline, pipelines.io.inputs, pipelines.io.writer, "
            "pipelines.cli.explain; "
            "print(sorted(m for m in sys.modules if m == 'scrapy' or m.startswith('scrapy.')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
