"""The progress bar's total: a first walk counts what the run will read, without reading pages."""

from __future__ import annotations

import gzip
import io
import os
import shutil
from pathlib import Path

import pytest
from support.offline import FERRY, LIBRARY, OFFLINE, many_pages, write_warc

from pipelines.io.inputs import Inputs, in_shard
from pipelines.run.progress import InputCounter, Progress, Unknown


def tasks(args: list[str], **kw: object) -> list[str]:
    """The sources the run itself enumerates."""
    return [task.source for task in Inputs(args, max_page_bytes=10_000_000, **kw)]  # type: ignore[arg-type]


def test_the_count_is_what_the_run_enumerates(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus / "a", 7)
    many_pages(corpus / "b" / "c", 4)
    (corpus / "notes.pdf").write_bytes(b"%PDF")  # not an input
    (corpus / "b" / "text.txt").write_text("A line of text.\n", encoding="utf-8")
    jsonl = corpus / "old.jsonl"
    jsonl.write_text('{"text": "one"}\n\n{"text": "two"}\nnot json\n', encoding="utf-8")
    with gzip.open(corpus / "older.jsonl.gz", "wt", encoding="utf-8") as stream:
        stream.write('{"text": "three"}\n{"text": "four"}\n')
    (corpus / "loop").symlink_to(corpus)  # a link back into the walk is not followed
    args = [str(corpus), str(FERRY), str(tmp_path / "missing.html"), str(corpus / "a" / "page-00*.html"),
            str(tmp_path / "nomatch-*.html")]
    expected = tasks(args)
    assert len(expected) == 7 + 4 + 1 + 3 + 2 + 1 + 1 + 7 + 1
    assert InputCounter(args).count() == len(expected)


def test_resume_and_shard_are_left_out_of_the_count(tmp_path: Path) -> None:
    many_pages(tmp_path / "corpus", 20)
    args = [str(tmp_path / "corpus")]
    everything = tasks(args)
    done = set(everything[:6])
    assert InputCounter(args, keep=lambda source: source not in done).count() == 14
    shard = (1, 3)
    in_it = tasks(args, shard=shard)
    assert 0 < len(in_it) < 20
    assert InputCounter(args, keep=lambda source: in_shard(source, *shard)).count() == len(in_it)


def test_own_output_is_not_counted(tmp_path: Path) -> None:
    shutil.copy(FERRY, tmp_path / "ferry.html")
    out = tmp_path / "out.jsonl"
    out.write_text('{"text": "a record"}\n' * 5, encoding="utf-8")
    assert InputCounter([str(tmp_path)], exclude=[str(out)]).count() == 1
    assert InputCounter([str(tmp_path)]).count() == 6


@pytest.mark.parametrize("what", ["warc", "stdin"])
def test_no_total_for_archives_and_stdin_lists(tmp_path: Path, what: str) -> None:
    if what == "warc":
        write_warc(tmp_path / "crawl.warc.gz", gz=True)
        args = [str(tmp_path), str(LIBRARY)]
    else:
        args = ["-", str(LIBRARY)]
    with pytest.raises(Unknown):
        InputCounter(args).count()


def test_the_bar_gets_its_total_when_the_walk_ends(tmp_path: Path) -> None:
    progress = Progress(True)
    stream = io.StringIO()
    progress.bar.fp = stream  # type: ignore[union-attr]
    progress.count_in_background([str(OFFLINE / "pages")])
    assert progress._thread is not None
    progress._thread.join(timeout=60)
    count = len(tasks([str(OFFLINE / "pages")]))
    for _ in range(count):
        progress.update(drops=1)
    assert progress.bar.total == count
    progress.close()


def test_an_unreadable_folder_counts_as_its_reject(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    shutil.copy(FERRY, locked / "ferry.html")
    os.chmod(locked, 0)
    try:  # one task either way: the page (root reads anything) or the folder's read_error reject
        assert InputCounter([str(locked)]).count() == len(tasks([str(locked)])) == 1
    finally:
        os.chmod(locked, 0o755)


def test_the_count_of_hostile_inputs_is_what_the_run_enumerates(tmp_path: Path) -> None:
    """FIFOs, a dangling link, a name that is not UTF-8, a line over the page limit: counted as
    the run gives them (one task or reject each), nothing opened that is not a regular file."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(FERRY, folder / "a.html")
    shutil.copy(LIBRARY, os.fsdecode(os.fsencode(folder) + b"/m-\xe9.html"))
    os.mkfifo(folder / "b.html")
    os.mkfifo(folder / "c.jsonl")
    (folder / "d.html").symlink_to(tmp_path / "gone")
    lines = b'{"text": "' + b"x" * 3_000_000 + b'"}\n\n   \n{"text": "one"}\n{"text": "no newline"}'
    (folder / "e.jsonl").write_bytes(lines)
    (folder / "f.jsonl.gz").write_bytes(gzip.compress(lines) + bytes(100_000))
    os.mkfifo(tmp_path / "named.jsonl")
    args = [str(folder), str(tmp_path / "named.jsonl")]
    expected = tasks(args)
    assert len(expected) == 12
    assert InputCounter(args).count() == len(expected)
    done = set(expected[:5])
    assert InputCounter(args, keep=lambda source: source not in done).count() == len(expected) - 5
