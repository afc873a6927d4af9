"""``newsclean clean`` and ``explain`` as a person runs them, as real processes on real files: an
existing output is never lost by accident, failures give their exit code, a closed pipe and a bad
argument give one line (or none), never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from support.offline import FERRY, LIBRARY, MARKET, WARC_PAGES, many_pages, read_jsonl, write_warc

from pipelines import exit_codes
from pipelines.reasons import FAILURE_REASONS, REGISTRY

ROOT = Path(__file__).resolve().parents[2]


def newsclean(*args: str | Path, stdin: str | None = None, stdout: int | None = subprocess.PIPE,
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *map(str, args)], input=stdin, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=300)


def clean(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return newsclean("clean", "-j", "1", "--no-progress", "-q", *args)


def sources(path: Path) -> list[str]:
    return [r["source"] for r in read_jsonl(path)]


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_second_run_is_refused_and_the_first_output_stays(tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    state = tmp_path / "state"
    assert clean(FERRY, LIBRARY, "-o", out, "--state", state).returncode == 0
    before = out.read_bytes()
    assert len(read_jsonl(out)) == 2
    second = clean(FERRY, LIBRARY, "-o", out, "--state", state)
    assert second.returncode == exit_codes.USAGE
    line = one_line(second.stderr)
    assert str(out) in line and "--resume" in line and "--append" in line and "--force" in line
    assert out.read_bytes() == before
    assert not Path(f"{out}.partial").exists()
    # the same for the rejects file alone
    rejects = tmp_path / "rejects.jsonl"
    rejects.write_bytes(b"")
    refused = clean(FERRY, "-o", tmp_path / "other.jsonl", "--rejects", rejects)
    assert refused.returncode == exit_codes.USAGE and str(rejects) in one_line(refused.stderr)
    assert not (tmp_path / "other.jsonl").exists()


def test_append_adds_records_and_skips_nothing(tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    assert clean(FERRY, "-o", out).returncode == 0
    first = out.read_bytes()
    appended = clean(LIBRARY, FERRY, "-o", out, "--append")
    assert appended.returncode == 0, appended.stderr
    data = out.read_bytes()
    assert data.startswith(first)
    assert sources(out) == [str(FERRY), str(LIBRARY), str(FERRY)]  # no skipping: FERRY again


def test_append_with_state_adds_only_new_articles(tmp_path: Path) -> None:
    out, state = tmp_path / "corpus.jsonl", tmp_path / "state"
    assert clean(FERRY, "-o", out, "--state", state).returncode == 0
    assert clean(FERRY, LIBRARY, "-o", out, "--state", state, "--append").returncode == 0
    assert sources(out) == [str(FERRY), str(LIBRARY)]


def test_force_replaces_at_the_end(tmp_path: Path) -> None:
    out, rejects = tmp_path / "corpus.jsonl", tmp_path / "rejects.jsonl"
    assert clean(FERRY, LIBRARY, "-o", out, "--rejects", rejects).returncode == 0
    assert len(read_jsonl(out)) == 2 and read_jsonl(rejects) == []
    bad = tmp_path / "bad.html"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    forced = clean(MARKET, bad, "-o", out, "--rejects", rejects, "--force")
    assert forced.returncode == 0, forced.stderr
    assert sources(out) == [str(MARKET)]
    assert [(r["source"], r["reason"]) for r in read_jsonl(rejects)] == [(str(bad), "not_html")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.html", "corpus.jsonl", "rejects.jsonl"]


def test_resume_goes_on_from_the_partial_of_a_run_that_did_not_end(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus, 6)
    full = tmp_path / "full.jsonl"
    assert clean(corpus, "-o", full, "--ordered").returncode == 0
    # what a fresh run killed after three records leaves: OUT.partial, no OUT
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    lines = full.read_bytes().splitlines(keepends=True)
    partial.write_bytes(b"".join(lines[:3]) + lines[3][:50])
    refused = clean(corpus, "-o", out)
    assert refused.returncode == exit_codes.USAGE and "out.jsonl.partial exists" in one_line(refused.stderr)
    stats = tmp_path / "stats.json"
    resumed = clean(corpus, "-o", out, "--resume", "--ordered", "--stats", stats)
    assert resumed.returncode == 0, resumed.stderr
    assert not partial.exists()
    assert out.read_bytes() == full.read_bytes()
    data = orjson.loads(stats.read_bytes())
    assert data["offline/skipped/resume"] == 3 and data["offline/records_written"] == 3
    # resume of a finished file: everything skipped, the file unchanged
    again = clean(corpus, "-o", out, "--resume")
    assert again.returncode == 0 and out.read_bytes() == full.read_bytes()


def test_mode_flags_exclude_each_other_and_stdout(tmp_path: Path) -> None:
    both = clean(FERRY, "-o", tmp_path / "o.jsonl", "--append", "--force")
    assert both.returncode == exit_codes.USAGE and "not allowed with" in both.stderr
    for flag in ("--resume", "--append"):
        result = clean(FERRY, "-o", "-", flag)
        assert result.returncode == exit_codes.USAGE and flag in one_line(result.stderr)
    forced = clean(FERRY, "-o", "-", "--force")  # stdout: nothing to replace, nothing refused
    assert forced.returncode == 0 and orjson.loads(forced.stdout)["source"] == str(FERRY)


def unreadable(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        (folder / f"broken-{number}.html").write_bytes(b"\x00\x01PK\x03\x04" + bytes(range(256)) * 8)


def test_nothing_readable_is_exit_4_and_no_output_is_written(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    unreadable(broken, 3)
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    result = clean(broken, "-o", out, "--rejects", rejects)
    assert result.returncode == exit_codes.NOTHING
    line = one_line(result.stderr)
    assert "nothing could be read" in line and "not_html 3" in line and "out.jsonl not written" in line
    assert not out.exists() and not Path(f"{out}.partial").exists()
    assert [r["reason"] for r in read_jsonl(rejects)] == ["not_html"] * 3  # the rejects say why
    # --force over a good corpus with nothing readable: the corpus stays
    good = tmp_path / "good.jsonl"
    assert clean(FERRY, "-o", good).returncode == 0
    before = good.read_bytes()
    assert clean(broken, "-o", good, "--force").returncode == exit_codes.NOTHING
    assert good.read_bytes() == before
    # an empty folder holds nothing to read
    (tmp_path / "empty").mkdir()
    empty = clean(tmp_path / "empty", "-o", tmp_path / "e.jsonl")
    assert empty.returncode == exit_codes.NOTHING and "no page" in one_line(empty.stderr)
    # every path missing: 3, the smaller code, and still nothing written
    missing = clean(tmp_path / "nosuch", "-o", tmp_path / "m.jsonl")
    assert missing.returncode == exit_codes.INPUT and "not found" in one_line(missing.stderr)
    assert not (tmp_path / "m.jsonl").exists()


def test_more_than_the_share_failing_is_exit_5_and_what_was_cleaned_is_written(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    unreadable(pages, 3)
    shutil.copy(FERRY, pages / "ferry.html")
    shutil.copy(LIBRARY, pages / "library.htm")
    (pages / "short.html").write_text("<html><body><p>Two words.</p></body></html>", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = clean(pages, "-o", out, "--min-words", "5")
    # 3 failures (not_html) of 6 pages read; too_short is a drop, not a failure: 50% is not over 0.5
    assert result.returncode == 0, result.stderr
    (pages / "broken-more.html").write_bytes((pages / "broken-0.html").read_bytes())
    over = clean(pages, "-o", out, "--min-words", "5", "--force")
    assert over.returncode == exit_codes.FAILURES  # 4 of 7
    line = one_line(over.stderr)
    assert "4 of 7 pages failed" in line and "--max-failure-share 0.5" in line and "not_html 4" in line
    assert sorted(sources(out)) == sorted([str(pages / "ferry.html"), str(pages / "library.htm")])
    allowed = clean(pages, "-o", out, "--min-words", "5", "--force", "--max-failure-share", "0.6")
    assert allowed.returncode == 0 and allowed.stderr == ""
    bad = clean(pages, "-o", out, "--max-failure-share", "2")
    assert bad.returncode == exit_codes.USAGE and "between 0 and 1" in bad.stderr


def test_failures_and_drops_are_told_apart_in_one_place() -> None:
    assert {"not_html", "parse_error", "timeout", "error", "read_error", "corrupt_record", "bad_json",
            "worker_died", "not_found", "not_a_file"} == FAILURE_REASONS
    assert set(REGISTRY) > FAILURE_REASONS
    for drop in ("too_short", "duplicate_hash", "language", "too_large", "no_content", "empty"):
        assert not REGISTRY[drop].failure


def closed_pipe() -> int:
    """The write end of a pipe whose reader is gone (``| head`` that has exited)."""
    read, write = os.pipe()
    os.close(read)
    return write


def test_a_closed_stdout_ends_quietly() -> None:
    write = closed_pipe()
    try:
        explain = newsclean("explain", FERRY, stdout=write)
        cleaned = newsclean("clean", FERRY, LIBRARY, MARKET, "-o", "-", "-j", "1", "--no-progress", stdout=write)
    finally:
        os.close(write)
    for result in (explain, cleaned):
        assert result.returncode == exit_codes.CLOSED_PIPE
        assert result.stderr == ""


def test_explain_piped_into_head_says_nothing_on_stderr() -> None:
    command = f"{sys.executable} -m pipelines.cli explain {FERRY} --width 2000 | head -n 1"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0
    assert result.stdout.startswith(str(FERRY)) and result.stdout.count("\n") == 1
    assert result.stderr == ""


def test_explain_bad_arguments_are_one_line_with_their_code(tmp_path: Path) -> None:
    folder = newsclean("explain", ROOT / "fixtures" / "offline" / "pages")
    assert folder.returncode == exit_codes.USAGE and "is a folder" in one_line(folder.stderr)
    missing = newsclean("explain", tmp_path / "nope.html")
    assert missing.returncode == exit_codes.INPUT and "no such file" in one_line(missing.stderr)
    for gz in (True, False):
        warc = tmp_path / ("a.warc.gz" if gz else "a.warc")
        offsets = write_warc(warc, WARC_PAGES, gz=gz)
        good = newsclean("explain", f"warc:{warc}#{offsets[0]}")
        assert good.returncode == 0 and WARC_PAGES[0][0] in good.stdout
        for offset in (offsets[0] + 37, offsets[1] - 5):  # inside a record
            bad = newsclean("explain", f"warc:{warc}#{offset}")
            assert bad.returncode == exit_codes.NOTHING, bad.stderr
            line = one_line(bad.stderr)
            assert f"no WARC record starts at byte {offset}" in line
            assert line.isprintable() and bad.stdout == ""
        past = newsclean("explain", f"warc:{warc}#{warc.stat().st_size + 10}")
        assert past.returncode == exit_codes.NOTHING and "the archive has" in one_line(past.stderr)


@pytest.mark.parametrize("where", ["file", "folder"])
def test_stats_file_is_a_report_replaced_whole(tmp_path: Path, where: str) -> None:
    stats = tmp_path / "stats.json"
    stats.write_text("{}")
    out = tmp_path / "o.jsonl"
    assert clean(FERRY if where == "file" else FERRY.parent, "-o", out, "--stats", stats).returncode == 0
    assert orjson.loads(stats.read_bytes())["offline/records_written"] >= 1
    assert not Path(f"{stats}.partial").exists()


def test_outputs_that_cannot_be_told_apart_are_usage_errors(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    for flag in ("--rejects", "--stats"):
        result = clean(FERRY, "-o", out, flag, tmp_path / "." / "out.jsonl")
        assert result.returncode == exit_codes.USAGE and f"-o and {flag} name the same file" in one_line(result.stderr)
    folder = clean(FERRY, "-o", tmp_path, "--force")
    assert folder.returncode == exit_codes.USAGE and "is a folder" in one_line(folder.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_plan_by_mode(tmp_path: Path) -> None:
    from pipelines.io.output import Mode, OutputExists, plan

    path = str(tmp_path / "out.jsonl")
    partial = path + ".partial"
    assert (plan(path, Mode.NEW).write_path, plan(path, Mode.RESUME).write_path) == (partial, partial)
    racing = plan(path, Mode.NEW)
    Path(partial).write_text("")  # another run started at the same moment
    with pytest.raises(OutputExists):
        racing.open()
    Path(partial).unlink()
    Path(path).write_text("")
    for mode, write_path, keep in ((Mode.FORCE, partial, False), (Mode.APPEND, path, True),
                                   (Mode.RESUME, path, True)):
        planned = plan(path, mode)
        assert (planned.write_path, planned.keep, planned.renamed) == (write_path, keep, write_path != path)
    with pytest.raises(OutputExists):
        plan(path, Mode.NEW)
    Path(partial).write_text("")  # a run that did not end
    assert plan(path, Mode.RESUME).write_path == partial and plan(path, Mode.RESUME).keep
    assert plan(path, Mode.FORCE).write_path == partial and not plan(path, Mode.FORCE).keep
    for mode in (Mode.NEW, Mode.APPEND):
        with pytest.raises(OutputExists):
            plan(path, mode)


def test_a_resume_that_reads_nothing_keeps_the_partial_it_went_on_from(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    assert clean(FERRY, "-o", partial).returncode == 0  # stands for the lines of a run that did not end
    lines = partial.read_bytes()
    broken = tmp_path / "broken"
    unreadable(broken, 2)
    result = clean(broken, "-o", out, "--resume")
    assert result.returncode == exit_codes.NOTHING
    assert partial.read_bytes() == lines and not out.exists()


def test_a_state_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    result = clean(FERRY, "-o", tmp_path / "out.jsonl", "--state", tmp_path / "a-file" / "state")
    assert result.returncode == exit_codes.OUTPUT
    assert "cannot open the state" in one_line(result.stderr)
    assert not (tmp_path / "out.jsonl").exists()
