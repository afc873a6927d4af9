"""The one walker of folders and glob patterns: its documented order, its bounded sort, and the run
and the progress count agreeing on what it gives."""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.offline import many_pages

from pipelines.core.cleaner import Cleaner, CleanOptions
from pipelines.io.inputs import Inputs, run_task
from pipelines.io.output import WrittenSources
from pipelines.io.walk import LinkLoop, NoMatch, entries, globbed, sorted_names, walk
from pipelines.run.progress import InputCounter

# a file name's bytes: anything but NUL and /
names = st.binary(min_size=1, max_size=12).filter(lambda b: b"\0" not in b and b"/" not in b)


@settings(max_examples=200, deadline=None)
@given(st.lists(names.map(os.fsdecode), unique=True, max_size=60), st.integers(min_value=1, max_value=9))
def test_a_sort_in_runs_gives_the_order_of_a_full_sort(items: list[str], chunk: int) -> None:
    assert list(sorted_names(iter(items), chunk)) == sorted(items)


def test_a_sort_in_runs_without_temporary_space_sorts_in_memory(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    items = [f"p{n:03d}" for n in range(50, 0, -1)]
    assert list(sorted_names(iter(items), 7)) == sorted(items)


def touch(folder: Path, *names: str | bytes) -> None:
    for name in names:
        path = os.path.join(os.fsencode(folder), name if isinstance(name, bytes) else name.encode())
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb"):
            pass


def walked(root: Path, chunk: int = 50_000) -> list[str]:
    return [os.path.relpath(entry.path, root) for entry in walk(str(root), chunk)]


# the documented order: depth first, each directory's names as text, which for UTF-8 names is the
# order of their bytes ("a" < "a-b" < "a.html": "-" is 0x2d, "." 0x2e; capitals before small
# letters; "é" after "z"); a byte 0x80 that is not UTF-8 counts as U+DC80, after "é"
TREE = ["z.html", "a.html", "B.html", "é.html", "a-b/x.html", "a/y.html", "a/sub/q.html", "m/n/o/deep.html"]
ORDER = ["B.html", "a/sub/q.html", "a/y.html", "a-b/x.html", "a.html", "m/n/o/deep.html", "z.html", "é.html",
         os.fsdecode(b"\x80.html")]


@pytest.mark.parametrize("chunk", [50_000, 1, 2, 3])
def test_a_folder_is_walked_in_the_documented_order(tmp_path: Path, chunk: int) -> None:
    touch(tmp_path / "d", *TREE, b"\x80.html")
    assert walked(tmp_path / "d", chunk) == ORDER


def test_the_order_does_not_depend_on_the_order_files_were_made(tmp_path: Path) -> None:
    names = [f"p{(n * 37) % 101:03d}.html" for n in range(101)]
    touch(tmp_path / "one", *names)
    touch(tmp_path / "two", *reversed(names))
    assert walked(tmp_path / "one", 10) == walked(tmp_path / "two") == sorted(names)


def test_links_are_followed_but_not_back_into_the_walk(tmp_path: Path) -> None:
    touch(tmp_path / "d", "a.html", "sub/b.html")
    (tmp_path / "d" / "sub" / "up").symlink_to(tmp_path / "d")
    (tmp_path / "other").mkdir()
    touch(tmp_path / "other", "c.html")
    (tmp_path / "d" / "other").symlink_to(tmp_path / "other")
    found = list(walk(str(tmp_path / "d"), 1))
    relative = [os.path.relpath(e.path, tmp_path / "d") for e in found]
    assert relative == ["a.html", "other/c.html", "sub/b.html", "sub/up"]
    assert isinstance(found[-1].status, LinkLoop)


def files_under(paths: list[str]) -> set[str]:
    """What ``glob.glob``'s matches hold: a file, or every file under a folder."""
    out = set()
    for path in paths:
        if os.path.isdir(path):
            out |= {os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs}
        else:
            out.add(path)
    return {os.path.normpath(p) for p in out}


PATTERNS = ["d/*.html", "d/**/*.html", "d/**", "d/*/", "d/a*/*.html", "d/[ab]*", "d/?.html", "d/*/**",
            "d/**/sub/*", "d/.*", "**/*.html", "d/m/**/deep.*", "*/a/*"]


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("chunk", [50_000, 2])
def test_a_glob_finds_what_glob_glob_finds_in_walk_order_once_each(tmp_path: Path, pattern: str, chunk: int,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    touch(tmp_path / "d", *TREE, ".hidden.html", "a/.dot/h.html", "c.html", "b.txt")
    monkeypatch.chdir(tmp_path)
    found = [e.path for e in globbed(pattern, chunk) if not isinstance(e.status, OSError)]
    assert found, pattern
    assert {os.path.normpath(p) for p in found} == files_under(glob.glob(pattern, recursive=True))
    assert len(found) == len(set(found))  # a file under two matches is given once
    order = [os.path.normpath(os.path.join("d", p)) for p in walked(tmp_path / "d")]
    assert sorted(found, key=lambda p: order.index(os.path.normpath(p))) == found


def test_an_absolute_pattern_and_one_that_matches_nothing(tmp_path: Path) -> None:
    touch(tmp_path / "d", "b.html", "a.html")
    assert [e.path for e in globbed(f"{tmp_path}/d/*.html")] == [f"{tmp_path}/d/a.html", f"{tmp_path}/d/b.html"]
    [nothing] = list(globbed(f"{tmp_path}/d/*.htm"))
    assert isinstance(nothing.status, NoMatch) and nothing.path == f"{tmp_path}/d/*.htm"
    [missing] = list(entries(str(tmp_path / "missing.html")))
    assert missing.explicit and isinstance(missing.status, FileNotFoundError)


def test_sidecars_are_passed_over_and_still_read_with_their_page(tmp_path: Path) -> None:
    many_pages(tmp_path / "corpus", 7)  # a .meta.json sidecar beside each page
    tasks = list(Inputs([str(tmp_path / "corpus")], max_page_bytes=10_000_000, sort_chunk=3))
    assert [Path(t.path).name for t in tasks] == [f"page-{n:03d}.html" for n in range(7)]
    record = run_task(Cleaner(CleanOptions()), tasks[5])
    assert not hasattr(record, "reason"), record
    assert record["url"] == "https://gazette.example/p/5"


def test_the_progress_count_is_what_the_run_enumerates(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus / "a", 5)
    touch(corpus, *TREE, "notes.pdf", ".hidden.html")
    (corpus / "x.jsonl").write_text('{"text": "one"}\n\n{"text": "two"}\n', encoding="utf-8")
    (corpus / "m" / "loop").symlink_to(corpus)
    (corpus / "dangling.html").symlink_to(tmp_path / "gone")
    args = [str(corpus), f"{corpus}/**/*.html", f"{corpus}/a/*", f"{corpus}/nothing-*", str(tmp_path / "missing")]
    tasks = list(Inputs(args, max_page_bytes=10_000_000, sort_chunk=2))
    # the folder: pages, TREE and .hidden.html, 2 JSONL lines, the dangling link (a reject); the
    # pattern: the same pages but the hidden one; a/*: its pages and TREE's two under a/ (a/sub
    # walked whole); then the two not_found
    assert len(tasks) == (5 + 9 + 2 + 1) + (5 + 8 + 1) + (5 + 2) + 1 + 1
    assert InputCounter(args).count() == len(tasks)


def test_resume_passes_over_written_sources_and_jsonl_lines_unparsed(tmp_path: Path) -> None:
    touch(tmp_path / "d", "a.html", "b.html", "c.html")
    lines = tmp_path / "d" / "x.jsonl"
    lines.write_bytes(b'{"text": "one"}\nnot json, written as a reject already\n{"text": "three"}\n')
    done = WrittenSources()
    for source in (f"{tmp_path}/d/b.html", f"jsonl:{lines}#2"):
        done.add(source)
    inputs = Inputs([str(tmp_path / "d")], max_page_bytes=10_000_000, done=done.freeze())
    sources = [t.source for t in inputs]
    assert sources == [f"{tmp_path}/d/a.html", f"{tmp_path}/d/c.html", f"jsonl:{lines}#1", f"jsonl:{lines}#3"]
    assert inputs.skipped["resume"] == 2  # the bad line was not parsed again (no bad_json reject)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), unique=True, max_size=80), st.lists(st.text(max_size=30)))
def test_written_sources_hold_what_was_added_and_nothing_else(written: list[str], others: list[str]) -> None:
    done = WrittenSources()
    for source in written:
        done.add(source)
    done.freeze()
    assert len(done) == len(written)
    assert all(source in done for source in written)
    assert not any(source in done for source in others if source not in written)


def test_a_resumed_run_reads_back_sources_not_records(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"".join(orjson.dumps({"source": f"s{n}", "reason": "empty"}) + b"\n" for n in range(3)))
    from pipelines.run.dedup import Deduper
    from pipelines.run.offline import _done_sources

    done = _done_sources([(str(out), False), (str(tmp_path / "absent.jsonl"), False)], Deduper(None))
    assert len(done) == 3 and "s2" in done and "s3" not in done


_NAMES = ["a", "b", ".h", "a.html", "b.html", ".x.html", "a-b"]
_SEGMENTS = ["*", "**", "a*", "?", "[ab]*", "*.html", ".*", "a", "b", "a.html"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3), min_size=1, max_size=12),
       st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=3), st.booleans())
def test_any_glob_finds_what_glob_glob_finds(paths: list[list[str]], segments: list[str], slash: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for parts in paths:  # a file at each path, unless a folder of that name is there already
            target = root.joinpath(*parts)
            if all(not p.is_file() for p in [*target.parents][: len(parts) - 1]) and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.touch()
        pattern = str(root.joinpath(*segments)) + ("/" if slash else "")
        found = [e.path for e in globbed(pattern, 2) if not isinstance(e.status, OSError)]
        assert {os.path.normpath(p) for p in found} == files_under(glob.glob(pattern, recursive=True))
        assert len(found) == len(set(found))
