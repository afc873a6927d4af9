"""``newsclean clean`` on every input kind, run in this process (``run_clean``), and its writer."""

from __future__ import annotations

import gzip
import io
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from support.offline import FERRY, LIBRARY, MARKET, OFFLINE, PAGES, WARC_PAGES, many_pages, read_jsonl, write_warc

from pipelines.core.cleaner import DROP_REASONS, CleanOptions
from pipelines.core.record import FIELDS
from pipelines.core.steps import Step
from pipelines.io.writer import JsonlWriter, iter_lines, truncate_partial_line
from pipelines.reasons import OFFLINE_REASONS
from pipelines.rules import CATEGORIES
from pipelines.run.offline import CleanJob, RunOptions, Stats, run_clean

STEP_NAMES = {step.name for step in Step.__subclasses__()}


def clean(tmp_path: Path, inputs: Sequence[str | Path], name: str = "out", **kw: Any) -> tuple[list[dict[str, Any]],
                                                                                                list[dict[str, Any]],
                                                                                                Stats]:
    run = RunOptions(jobs=kw.pop("jobs", 1), ordered=kw.pop("ordered", True), progress=False,
                     chunk_size=kw.pop("chunk_size", 4))
    out = tmp_path / f"{name}.jsonl"
    rejects = tmp_path / f"{name}.rejects.jsonl"
    job = CleanJob(inputs=[str(x) for x in inputs], output=str(out), rejects=str(rejects), run=run, **kw)
    stats = run_clean(job)
    if stats.nothing_read:  # then no output is created (an earlier one would stay as it was)
        assert not out.exists()
        return [], read_jsonl(rejects), stats
    return read_jsonl(out), read_jsonl(rejects), stats


def by_source(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["source"]: r for r in records}


# -- WARC archives, written with warcio --------------------------------------------------------------
def test_html_files_take_url_from_sidecar_or_canonical(tmp_path: Path) -> None:
    records, rejects, _ = clean(tmp_path, [FERRY, LIBRARY, MARKET])
    assert rejects == []
    got = by_source(records)
    assert list(got) == [str(FERRY), str(LIBRARY), str(MARKET)]
    ferry = got[str(FERRY)]
    assert tuple(ferry) == FIELDS
    assert ferry["url"] == "https://gazette.example/city/ferry-returns"  # sidecar
    assert ferry["fetched_at"] == "2024-03-04T08:30:00Z"
    assert ferry["title"] == "Harbour ferry returns after a winter of repairs"
    assert "Leave a Reply" not in ferry["text"] and "Advertisement" not in ferry["text"]
    assert ferry["removed"]["comment_form"] == 1
    library = got[str(LIBRARY)]
    assert library["fetched_at"] is None  # no sidecar: not the file's mtime
    assert library["canonical_url"] == "https://gazette.example/culture/library-photographs"
    assert library["url"] == library["canonical_url"]  # no sidecar: the page's own canonical URL
    market = got[str(MARKET)]  # .html.gz, og:url only
    assert market["canonical_url"] == "https://gazette.example/business/fish-market"
    assert market["url"] == market["canonical_url"]
    assert "east quay" in market["text"]


def test_folder_is_walked_recursively_in_sorted_order(tmp_path: Path) -> None:
    records, rejects, stats = clean(tmp_path, [PAGES])
    sources = [r["source"] for r in records]
    assert sources == [str(FERRY), str(LIBRARY), str(MARKET), str(PAGES / "more" / "reclean.txt")]
    # the copy of the ferry page has the same text: dropped as a duplicate, the sidecar is no input
    copy = str(PAGES / "more" / "ferry-copy.html")
    assert [(r["source"], r["reason"]) for r in rejects] == [(copy, "duplicate_hash")]
    assert stats.pages_read == 5 and stats.records_written == 4
    assert stats.skipped == {}


def test_glob_pattern_and_stdin_list(tmp_path: Path) -> None:
    records, rejects, _ = clean(tmp_path, [str(PAGES / "**" / "*.htm*")], name="glob")  # sidecars too: passed over
    assert {r["source"] for r in records} == {str(FERRY), str(LIBRARY), str(MARKET)}
    assert [r["source"] for r in rejects] == [str(PAGES / "more" / "ferry-copy.html")]
    listing = io.StringIO(f"{LIBRARY}\n\n{MARKET}\n")
    records, _, _ = clean(tmp_path, ["-"], name="stdin", stdin=listing)
    assert [r["source"] for r in records] == [str(LIBRARY), str(MARKET)]


def test_txt_file_is_recleaned_by_the_line_rules(tmp_path: Path) -> None:
    txt = PAGES / "more" / "reclean.txt"
    records, _, _ = clean(tmp_path, [txt])
    [record] = records
    assert record["source"] == str(txt)
    assert record["language"] == "fr"
    assert record["url"] is None and record["fetched_at"] is None
    assert sum(record["removed"].values()) >= 1
    assert len(record["text"]) < len(txt.read_text(encoding="utf-8"))


def test_jsonl_text_field_and_bad_lines(tmp_path: Path) -> None:
    path = OFFLINE / "articles.jsonl"
    records, rejects, _ = clean(tmp_path, [path])
    assert [r["source"] for r in records] == [f"jsonl:{path}#1", f"jsonl:{path}#2"]
    assert records[0]["url"] == "https://gazette.example/weather/storm"
    assert records[0]["fetched_at"] == "2024-02-01T10:00:00Z"
    assert records[1]["title"] == "Regatta draws a record fleet"
    assert "Advertisement" not in records[1]["text"].splitlines()
    assert [(r["source"], r["reason"]) for r in rejects] == [(f"jsonl:{path}#3", "bad_json"),
                                                             (f"jsonl:{path}#4", "bad_json")]
    # another field name
    other = tmp_path / "other.jsonl"
    other.write_bytes(orjson.dumps({"body": "Tide tables\n\nThe spring tides will reach their highest on Thursday."})
                      + b"\n")
    records, rejects, _ = clean(tmp_path, [other], name="field", text_field="body")
    assert len(records) == 1 and rejects == []


@pytest.mark.parametrize("gz", [False, True], ids=["warc", "warc.gz"])
def test_warc_response_records(tmp_path: Path, gz: bool) -> None:
    warc = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    offsets = write_warc(warc, gz=gz)
    records, rejects, stats = clean(tmp_path, [warc])
    assert rejects == []
    assert [r["source"] for r in records] == [f"warc:{warc}#{offset}" for offset in offsets]
    assert [r["url"] for r in records] == [url for url, _, _ in WARC_PAGES]
    assert [r["fetched_at"] for r in records] == ["2024-03-01T08:30:00Z", "2024-03-02T08:30:00Z",
                                                  "2024-03-03T08:30:00Z"]
    assert stats.skipped == {"warc_status": 1, "warc_not_html": 1, "warc_revisit": 1}
    # the same page from a file with the same url and fetch time gives the same record but for source
    files, _, _ = clean(tmp_path, [FERRY], name="file")
    assert {**files[0], "source": "", "fetched_at": ""} == {**records[0], "source": "", "fetched_at": ""}


def _corrupt(data: bytearray, offsets: list[int], how: str) -> None:
    second = offsets[1]
    if how == "header":
        assert data[second:second + 5] == b"WARC/"
        data[second:second + 5] = b"XXXX/"
    elif how == "payload":
        at = data.index(b"Volunteers", second)
        data[at:at + 10] = b"Vandalised"
    elif how == "gzip":
        middle = (second + offsets[2]) // 2
        data[middle:middle + 40] = bytes(40)


@pytest.mark.parametrize(("how", "gz"), [("header", False), ("payload", False), ("gzip", True)])
def test_corrupt_record_in_the_middle_is_a_reject_and_the_archive_goes_on(tmp_path: Path, how: str,
                                                                            gz: bool) -> None:
    warc = tmp_path / ("bad.warc.gz" if gz else "bad.warc")
    offsets = write_warc(warc, gz=gz)
    data = bytearray(warc.read_bytes())
    _corrupt(data, offsets, how)
    warc.write_bytes(bytes(data))
    records, rejects, stats = clean(tmp_path, [warc])
    assert [r["url"] for r in records] == [WARC_PAGES[0][0], WARC_PAGES[2][0]]
    assert records[1]["source"] == f"warc:{warc}#{offsets[2]}"
    assert [r["reason"] for r in rejects] == ["corrupt_record"]
    assert rejects[0]["source"].startswith(f"warc:{warc}#")
    assert stats.dropped == {"corrupt_record": 1}


def test_truncated_last_record(tmp_path: Path) -> None:
    warc = tmp_path / "cut.warc"
    offsets = write_warc(warc, extra=False)
    data = warc.read_bytes()
    warc.write_bytes(data[: offsets[2] + (len(data) - offsets[2]) // 2])
    records, rejects, _ = clean(tmp_path, [warc])
    assert len(records) == 2
    assert [(r["source"], r["reason"]) for r in rejects] == [(f"warc:{warc}#{offsets[2]}", "corrupt_record")]


def test_broken_inputs_are_rejects_with_reasons(tmp_path: Path) -> None:
    missing = tmp_path / "missing.html"
    records, rejects, stats = clean(tmp_path, [OFFLINE / "broken", missing, str(tmp_path / "nothing-*.html")])
    assert records == []
    reasons = {Path(r["source"]).name: r["reason"] for r in rejects}
    assert reasons == {"empty.html": "empty", "image.html": "not_html", "not-gzip.html.gz": "read_error",
                       "missing.html": "not_found", "nothing-*.html": "not_found"}
    assert all(r["reason"] in OFFLINE_REASONS for r in rejects)
    assert stats.pages_read == len(rejects) == sum(stats.dropped.values())


def test_limits_from_options(tmp_path: Path) -> None:
    packed, unpacked = MARKET.stat().st_size, len(gzip.decompress(MARKET.read_bytes()))
    assert packed < 800 < unpacked
    records, rejects, _ = clean(tmp_path, [FERRY, MARKET], options=CleanOptions(max_page_bytes=800))
    assert records == []
    assert [r["reason"] for r in rejects] == ["too_large", "too_large_unpacked"]
    # a .gz file larger than the limit is refused before it is unpacked
    records, rejects, _ = clean(tmp_path, [MARKET], name="packed", options=CleanOptions(max_page_bytes=packed - 1))
    expected = [("too_large", f"the compressed file is over {packed - 1} bytes")]
    assert [(r["reason"], r["detail"]) for r in rejects] == expected
    records, rejects, _ = clean(tmp_path, [FERRY], name="words", options=CleanOptions(min_words=10_000))
    assert [r["reason"] for r in rejects] == ["too_short"]


def test_debug_keeps_removed_text(tmp_path: Path) -> None:
    records, _, _ = clean(tmp_path, [FERRY], options=CleanOptions(debug=True))
    removed = records[0]["removed_text"]
    assert any("Leave a Reply" in text for texts in removed.values() for text in texts)


# -- processes, order, dedup -------------------------------------------------------------------------
def test_two_workers_give_the_same_records_as_one(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus, 24)
    shutil.copy(PAGES / "more" / "reclean.txt", corpus / "reclean.txt")
    warc = corpus / "archive.warc.gz"
    write_warc(warc, gz=True)
    one, one_rejects, one_stats = clean(tmp_path, [corpus], name="one", jobs=1)
    two, two_rejects, two_stats = clean(tmp_path, [corpus], name="two", jobs=2, ordered=False, chunk_size=3)
    assert len(one) == 24 + 1 + 3  # the pages, the text file, the archive's three pages
    key = orjson.OPT_SORT_KEYS
    assert sorted(orjson.dumps(r, option=key) for r in one) == sorted(orjson.dumps(r, option=key) for r in two)
    assert sorted(r["source"] for r in one_rejects) == sorted(r["source"] for r in two_rejects)
    assert one_stats.as_dict()["offline/records_written"] == two_stats.as_dict()["offline/records_written"]
    assert two_stats.jobs == 2
    # the workers' step counters come back with their results: summed, they are one cleaner's
    assert two_stats.steps == one_stats.steps
    assert one_stats.steps["record/forwarded"] == one_stats.cleaned == len(one) + len(one_rejects) - sum(
        r["reason"] != "duplicate_hash" for r in one_rejects) > 0
    for stats in (one_stats, two_stats):
        assert stats.balanced and stats.pages_read == len(one) + len(one_rejects)


def test_step_counters_are_a_cleaners_over_the_same_inputs(tmp_path: Path) -> None:
    from pipelines.core.cleaner import Cleaner
    from pipelines.io.inputs import Inputs, run_task

    cleaner = Cleaner()
    for task in Inputs([str(OFFLINE)], max_page_bytes=CleanOptions().max_page_bytes):
        run_task(cleaner, task)
    expected = {key: count for key, count in cleaner.counters.items() if count}
    _, _, stats = clean(tmp_path, [OFFLINE], jobs=2, chunk_size=2)
    assert dict(stats.steps) == expected
    data = stats.as_dict()
    assert {k.removeprefix("offline/steps/"): v for k, v in data.items() if k.startswith("offline/steps/")} == expected


def test_ordered_output_follows_input_order(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus, 16)
    records, _, _ = clean(tmp_path, [corpus], jobs=2, ordered=True, chunk_size=1)
    assert [r["source"] for r in records] == [str(corpus / f"page-{n:03d}.html") for n in range(16)]


def test_duplicates_dropped_by_content_hash(tmp_path: Path) -> None:
    records, rejects, stats = clean(tmp_path, [FERRY, PAGES / "more" / "ferry-copy.html", FERRY])
    assert [r["source"] for r in records] == [str(FERRY)]
    assert [r["reason"] for r in rejects] == ["duplicate_hash", "duplicate_hash"]
    assert stats.dropped == {"duplicate_hash": 2}


# -- stats, writer, resume ---------------------------------------------------------------------------
def test_stats_file_adds_up(tmp_path: Path) -> None:
    stats_file = tmp_path / "stats.json"
    records, rejects, stats = clean(tmp_path, [OFFLINE], stats_file=str(stats_file))
    data = orjson.loads(stats_file.read_bytes())
    assert data["offline/pages_read"] == len(records) + len(rejects) == stats.pages_read
    assert data["offline/records_written"] == len(records)
    dropped = {k.rsplit("/", 1)[1]: v for k, v in data.items() if k.startswith("offline/dropped/")}
    assert sum(dropped.values()) == data["offline/dropped"] == len(rejects)
    assert dropped == {"bad_json": 2, "duplicate_hash": 1, "empty": 1, "not_html": 1, "read_error": 1}
    assert data["offline/language/en"] == 5 and data["offline/language/fr"] == 1
    assert data["offline/removed/comment_form"] >= 1
    assert data["offline/skipped/not_an_input"] == 1  # the fixtures' README.md
    assert data["offline/pages_per_second"] > 0


def test_writer_lines_and_truncation(tmp_path: Path) -> None:
    path = tmp_path / "w.jsonl"
    with open(path, "wb") as stream:
        writer = JsonlWriter(stream)
        writer.write({"source": "a", "text": "é"})
        writer.write({"source": "b"})
        assert path.read_bytes() == '{"source":"a","text":"é"}\n{"source":"b"}\n'.encode()
        stream.write(b'{"source":"c","te')
    assert writer.count == 2
    assert truncate_partial_line(path) == len(b'{"source":"c","te')
    assert [x["source"] for x in iter_lines(path)] == ["a", "b"]
    assert truncate_partial_line(path) == 0
    path.write_bytes(b"no newline at all")
    assert truncate_partial_line(path) == len(b"no newline at all") and path.read_bytes() == b""


def test_resume_skips_written_sources_and_cuts_a_partial_line(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    many_pages(corpus, 8)
    full, _, _ = clean(tmp_path, [corpus], name="full")
    out = tmp_path / "part.jsonl"
    lines = (tmp_path / "full.jsonl").read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:3]) + lines[3][:25])
    job = CleanJob(inputs=[str(corpus)], output=str(out), resume=True, run=RunOptions(progress=False))
    stats = run_clean(job)
    assert stats.skipped["resume"] == 3
    assert stats.pages_read == 5
    assert read_jsonl(out) == full


def test_inputs_are_read_lazily_and_at_most_a_window_is_in_flight() -> None:
    """Endless inputs: the first results come back, having read only a bounded number of tasks."""
    import itertools

    from pipelines.io.inputs import Inputs, Task
    from pipelines.run.offline import results

    endless_list = Inputs(["-"], max_page_bytes=1000, stdin=itertools.repeat(f"{FERRY}\n"))  # type: ignore[arg-type]
    assert next(iter(endless_list)).source == str(FERRY)

    consumed = 0

    def endless() -> Any:
        nonlocal consumed
        while True:
            consumed += 1
            yield Task("html", f"{FERRY}#{consumed}", path=str(FERRY))

    stream = results(endless(), CleanOptions(), RunOptions(jobs=2, chunk_size=2, window=2), Stats())
    first = list(itertools.islice(stream, 6))
    stream.close()
    assert len(first) == 6 and all(isinstance(r, dict) for r in first)
    # yielded + at most jobs * window chunks in flight + the chunk being read
    assert consumed <= 6 + 2 * 2 * 2 + 2


@pytest.mark.parametrize("gz", [False, True], ids=["warc", "warc.gz"])
def test_randomly_damaged_archives_never_stop_the_run(tmp_path: Path, gz: bool) -> None:
    import random

    warc = tmp_path / ("damaged.warc.gz" if gz else "damaged.warc")
    write_warc(warc, gz=gz)
    original = warc.read_bytes()
    urls = {url for url, _, _ in WARC_PAGES}
    for seed in range(10):
        rng = random.Random(seed)
        data = bytearray(original)
        for _ in range(rng.randint(1, 5)):
            at, size = rng.randrange(len(data)), rng.randint(1, 30)
            data[at:at + size] = bytes(rng.randrange(256) for _ in range(size))
        warc.write_bytes(bytes(data))
        records, rejects, stats = clean(tmp_path, [warc], name=f"seed{seed}")
        assert {r["url"] for r in records} <= urls
        assert stats.pages_read == len(records) + len(rejects)
        assert all(r["reason"] in OFFLINE_REASONS for r in rejects)


def test_folder_walk_follows_links_but_not_loops(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    shutil.copy(FERRY, root / "sub" / "ferry.html")
    (root / "sub" / "library.htm").symlink_to(LIBRARY)  # a linked page is read
    (root / "sub" / "back").symlink_to(root)  # a loop back to the top
    (root / "dangling.html").symlink_to(tmp_path / "gone.html")
    records, rejects, stats = clean(tmp_path, [root])
    assert [r["source"] for r in records] == [str(root / "sub" / "ferry.html"), str(root / "sub" / "library.htm")]
    # a dangling link is counted, not passed over in silence
    assert [(r["source"], r["reason"]) for r in rejects] == [(str(root / "dangling.html"), "not_a_file")]
    assert "dangling symbolic link" in rejects[0]["detail"]
    assert stats.skipped == {"link_loop": 1}


def test_every_stats_key_and_reject_reason_is_documented(tmp_path: Path) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "offline.md").read_text("utf-8")
    warc = tmp_path / "a.warc"
    write_warc(warc)
    _, _, stats = clean(tmp_path, [OFFLINE, warc, tmp_path / "missing.html"])
    keys = stats.as_dict()
    assert len(keys) > 15
    for key in keys:
        parts = key.split("/")
        if f"`{key}`" in docs:
            continue
        if parts[1] == "steps":  # a cleaner's counter: <step>/<counter>[/<reason>], as in docs/stats.md
            assert "`offline/steps/<step>/<counter>`" in docs, key
            assert parts[2] in STEP_NAMES, key
            assert parts[3] != "dropped" or parts[4] in DROP_REASONS, key
            continue
        assert len(parts) == 3, key
        assert f"`offline/{parts[1]}/<" in docs, key
        if parts[1] == "removed":
            assert parts[2] in CATEGORIES, key  # the rule categories, documented with the rules
        elif parts[1] != "language":
            assert f"`{parts[2]}`" in docs, key
    for reason in OFFLINE_REASONS:
        assert f"`{reason}`" in docs, reason
