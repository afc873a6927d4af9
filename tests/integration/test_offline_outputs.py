"""Real processes around ``newsclean clean``'s and ``explain``'s outputs: a replacing run killed
half-way leaves the earlier output as it was, and ``explain --html`` renders in a real browser
(headless Chromium, installed by ``scripts/test.sh``)."""

from __future__ import annotations

import shutil
import signal
import struct
import subprocess
import sys
from pathlib import Path

from lxml.html import document_fromstring
from support.offline import FERRY, LIBRARY, count_lines, many_pages, read_jsonl, wait_for_lines

ROOT = Path(__file__).resolve().parents[2]
IRIS = ROOT / "fixtures" / "corpus" / "fr" / "24-iris2-l-europe-lance-sa-constellation-de-satelli" / "input.html"
PAGE_COUNT = 120


def clean_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", "clean", "--no-progress", "-q", *map(str, args)]


def test_a_killed_replacing_run_leaves_the_earlier_output_and_resume_finishes_it(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus, PAGE_COUNT)
    out = tmp_path / "corpus.jsonl"
    partial = tmp_path / "corpus.jsonl.partial"
    subprocess.run(clean_command(FERRY, LIBRARY, "-o", out, "-j", "1"), check=True)
    earlier = out.read_bytes()
    assert len(read_jsonl(out)) == 2

    process = subprocess.Popen(clean_command(corpus, "-o", out, "-j", "1", "--ordered", "--force"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_lines(process, partial, 10)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    assert out.read_bytes() == earlier  # the earlier output, untouched
    written = count_lines(partial)
    assert 10 <= written < PAGE_COUNT

    # a new run without a word is refused; --resume goes on from the partial and replaces OUT
    refused = subprocess.run(clean_command(corpus, "-o", out), capture_output=True, text=True)
    assert refused.returncode == 2 and out.read_bytes() == earlier
    subprocess.run(clean_command(corpus, "-o", out, "-j", "2", "--resume", "--ordered"), check=True)
    assert not partial.exists()
    records = read_jsonl(out)
    assert len(records) == PAGE_COUNT
    assert sorted(r["source"] for r in records) == sorted(str(p) for p in corpus.glob("*.html"))


def test_sigterm_ends_a_run_as_ctrl_c_does(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus, PAGE_COUNT)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    process = subprocess.Popen(clean_command(corpus, "-o", out, "-j", "1"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    wait_for_lines(process, partial, 5)
    assert process.poll() is None, "the run ended before it could be stopped"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr.decode()
    assert b"--resume" in stderr and b"Traceback" not in stderr
    assert not out.exists() and len(read_jsonl(partial)) < PAGE_COUNT  # whole lines
    subprocess.run(clean_command(corpus, "-o", out, "-j", "1", "--resume"), check=True)
    assert len(read_jsonl(out)) == PAGE_COUNT


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_explain_html_renders_in_headless_chromium(tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is needed (scripts/test.sh installs it: apt-get install chromium)"
    annotated = tmp_path / "iris.explained.html"
    subprocess.run([sys.executable, "-m", "pipelines.cli", "explain", str(IRIS), "--html", str(annotated)],
                   check=True, capture_output=True)
    tree = document_fromstring(annotated.read_bytes())
    assert tree.xpath("//*[@data-newsclean-extractor='dropped']") and tree.xpath("//*[@data-newsclean-rule]")
    assert tree.get_element_by_id("newsclean-legend") is not None

    shot = tmp_path / "shot.png"
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    blank_shot = tmp_path / "blank.png"
    for page, png in ((annotated, shot), (blank, blank_shot)):
        result = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,1600",
             f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", page.as_uri()],
            capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stderr[-2000:]
    assert png_size(shot) == (1200, 1600)
    # a page with the legend, coloured outlines and text compresses far worse than a blank one
    assert shot.stat().st_size > 20_000
    assert shot.stat().st_size > 5 * blank_shot.stat().st_size
