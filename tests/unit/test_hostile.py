"""Hostile inputs through the core: each gives a record or a drop with a named reason, never an
exception, within the cleaner's own time limit, with bounded memory.

Small inputs are fixtures under ``fixtures/hostile/`` (written by its ``generate.py``); big ones
(50 MB, a 10 MB line, 100,000 nested elements, a 4 GiB gzip bomb) are generated here.
See ``docs/limits.md`` for the limits these tests hold the core to.
"""

from __future__ import annotations

import gzip
import inspect
import signal
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import FIXTURES

from pipelines.core.cleaner import DROP_REASONS, Cleaner, CleanOptions, Drop, Page
from pipelines.core.hashing import content_hash
from pipelines.core.record import FIELDS, Record, dumps
from pipelines.core.time_limit import PageTimeout, time_limit
from pipelines.core.unpack import CorruptGzip, UnpackedTooLarge, gunzip_limited

HOSTILE = FIXTURES / "hostile"
CASES = sorted(p for p in HOSTILE.iterdir() if (p / "expected.json").exists())
# pages that once made a rule regex backtrack for hours: run in a child process with a bound
REDOS = [p for p in CASES if p.name.startswith("redos_")]
IN_PROCESS = [p for p in CASES if p not in REDOS]
MB = 1_000_000

PARAS = [
    f"Paragraphe {i} : le conseil municipal a examiné le dossier numéro {i * 7} pendant la séance du soir, "
    f"et les élus ont posé {i % 9 + 2} questions sur le calendrier des travaux prévus."
    for i in range(2000)
]


def fixture_page(folder: Path) -> Page:
    """The fixture's bytes exactly as stored (a ``.gz`` stays packed: the core unpacks it)."""
    meta = orjson.loads((folder / "meta.json").read_bytes())
    (input_path,) = folder.glob("input.*")
    return Page(
        body=input_path.read_bytes(),
        url=meta["url"],
        source=str(input_path),
        content_type=meta.get("content_type"),
        fetched_at=datetime.fromisoformat(meta["fetched_at"]),
    )


def check_record(result: Record | Drop) -> Record:
    """A record that serialises to one valid UTF-8 JSON line with the schema's keys in order."""
    assert isinstance(result, dict), result
    line = dumps(result)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    line.decode("utf-8")  # strict: raises on invalid UTF-8
    assert tuple(orjson.loads(line)) == FIELDS
    assert result["content_hash"] == content_hash(result["text"])
    return result


def assert_drop(result: Record | Drop, reason: str) -> Drop:
    assert reason in DROP_REASONS
    assert isinstance(result, Drop), f"expected drop {reason!r}, got a record of {result['word_count']} words"
    assert result.reason == reason, result
    return result


def article(paragraphs: list[str], sep: str = "\n") -> str:
    body = sep.join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html>{sep}<html lang="fr"><head><meta charset="utf-8"><title>Le conseil municipal</title>'
        f"</head>{sep}<body><article><h1>Le conseil municipal</h1>{sep}{body}{sep}</article></body></html>{sep}"
    )


def fill(size: int, sep: str) -> bytes:
    """An article page of about ``size`` bytes: the paragraphs, repeated, each made unique."""
    paragraphs: list[str] = []
    total = 0
    n = 0
    while total < size:
        p = f"{PARAS[n % len(PARAS)]} ({n})"
        paragraphs.append(p)
        total += len(p.encode()) + 7 + len(sep)
        n += 1
    return article(paragraphs, sep).encode()


@pytest.fixture
def alarm_handler() -> Any:
    """The SIGALRM handler in place before the test (the cleaner must put it back)."""
    return signal.getsignal(signal.SIGALRM)


def assert_alarm_cleared(handler_before: Any) -> None:
    """The cleaner leaves no timer running and restores the SIGALRM handler it replaced."""
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is handler_before


# --- the fixture cases ---------------------------------------------------------------------


def check_expected(folder: Path, result: Record | Drop) -> None:
    expected: dict[str, Any] = orjson.loads((folder / "expected.json").read_bytes())
    if "drop" in expected:
        assert_drop(result, expected["drop"])
        return
    record = check_record(result)
    for snippet in expected.get("with", []):
        assert snippet in record["text"], snippet
    for snippet in expected.get("without", []):
        assert snippet not in record["text"], snippet
    if "language" in expected:
        assert record["language"] == expected["language"]


@pytest.mark.parametrize("folder", IN_PROCESS, ids=[p.name for p in IN_PROCESS])
def test_hostile_fixture(cleaner: Cleaner, folder: Path) -> None:
    check_expected(folder, cleaner.clean(fixture_page(folder)))


def test_fixture_tree_is_complete() -> None:
    names = {p.name for p in CASES}
    assert len(names) >= 20
    for folder in CASES:
        meta = orjson.loads((folder / "meta.json").read_bytes())
        assert meta.get("why") and meta.get("url") and meta.get("fetched_at"), folder.name
        expected = orjson.loads((folder / "expected.json").read_bytes())
        assert set(expected) <= {"drop", "with", "without", "language"}, folder.name
        assert ("drop" in expected) != bool(expected.get("with")), f"{folder.name}: a drop or snippets"
        assert expected.get("drop", "empty") in DROP_REASONS


def test_gzip_fixture_is_a_bomb() -> None:
    """The committed bomb is tiny packed and far over the default limit unpacked."""
    packed = (HOSTILE / "gzip_bomb" / "input.html.gz").read_bytes()
    assert len(packed) < 100_000
    with gzip.open(HOSTILE / "gzip_bomb" / "input.html.gz") as stream:
        assert len(stream.read(CleanOptions().max_page_bytes + 1)) > CleanOptions().max_page_bytes


# --- generated big inputs --------------------------------------------------------------------


def test_100k_nested_elements_is_too_deep(cleaner: Cleaner) -> None:
    """libxml2 stops at 256 levels (no recursion, no crash); the cut tree is dropped, not half-cleaned."""
    body = b"<html><body>" + b"<div>" * 100_000 + " ".join(PARAS[:5]).encode() + b"</div>" * 100_000
    drop = assert_drop(cleaner.clean(Page(body + b"</body></html>")), "too_deep")
    assert "256" in drop.detail


def test_100k_unclosed_inline_elements_is_too_deep(cleaner: Cleaner) -> None:
    body = b"<html><body><p>" + b"<b>word " * 100_000 + b"</p></body></html>"
    assert_drop(cleaner.clean(Page(body)), "too_deep")


def test_nesting_under_the_depth_cap_gives_a_record(cleaner: Cleaner) -> None:
    body = b"<html><body><article>" + b"<div>" * 240 + article(PARAS[:6]).encode() + b"</div>" * 240
    record = check_record(cleaner.clean(Page(body + b"</article></body></html>")))
    assert PARAS[5] in record["text"]


def test_recursion_error_is_too_deep(cleaner: Cleaner) -> None:
    """A stack too small for the page (a deep tree in a small thread stack) is a drop, not a crash."""
    body = b"<html><body><article>" + b"<div>" * 240 + article(PARAS[:6]).encode() + b"</div>" * 240
    page = Page(body + b"</article></body></html>")
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 15)
    try:
        result = cleaner.clean(page)
    finally:
        sys.setrecursionlimit(previous)
    drop = assert_drop(result, "too_deep")
    assert drop.detail == "recursion limit"


def test_more_elements_than_max_elements(cleaner: Cleaner) -> None:
    body = b"<html><body>" + b"<p>x</p>" * (CleanOptions().max_elements + 10) + b"</body></html>"
    drop = assert_drop(cleaner.clean(Page(body)), "too_deep")
    assert "elements" in drop.detail


def test_50mb_page_is_too_large_by_default(cleaner: Cleaner) -> None:
    body = fill(50 * MB, "\n")
    assert len(body) >= 50 * MB
    drop = assert_drop(cleaner.clean(Page(body)), "too_large")
    assert str(len(body)) in drop.detail


def test_50mb_page_allowed_is_stopped_by_the_time_limit(alarm_handler: Any) -> None:
    """With the size limit raised, the per-page time limit still ends the page (SIGALRM)."""
    body = fill(50 * MB, "\n")
    cleaner = Cleaner(CleanOptions(max_page_bytes=60 * MB, max_elements=10_000_000, time_limit=1.0))
    result = cleaner.clean(Page(body))
    # a machine fast enough to clean 50 MB in a second would give the record: both are fine
    if isinstance(result, Drop):
        assert result.reason == "timeout", result
    else:
        check_record(result)
    assert_alarm_cleared(alarm_handler)


def test_10mb_single_line_page(alarm_handler: Any) -> None:
    """A whole page on one line, just under max_page_bytes: parsed whole, then ended by the time limit.

    Cleaning 10 MB of article text takes most of the default 20 s on a 2-core machine (see
    docs/limits.md), so the test sets 2 s: the page must end as a timeout (or, on a machine fast
    enough, as a whole record), and nothing else.
    """
    body = fill(CleanOptions().max_page_bytes - 20_000, "")
    assert body.count(b"\n") == 0 and len(body) > 9_900_000
    result = Cleaner(CleanOptions(time_limit=2.0)).clean(Page(body))
    if isinstance(result, Drop):
        assert result.reason == "timeout", result
    else:
        record = check_record(result)
        assert f"({body.count(b'<p>') - 1})" in record["text"]
    assert_alarm_cleared(alarm_handler)


def test_1mb_single_line_page(cleaner: Cleaner) -> None:
    """One 1 MB line: a record with its first and last paragraphs (the line is not cut)."""
    body = fill(MB, "")
    assert body.count(b"\n") == 0
    record = check_record(cleaner.clean(Page(body)))
    assert PARAS[0] in record["text"]
    assert f"({body.count(b'<p>') - 1})" in record["text"]


def test_10mb_single_line_over_the_limit(cleaner: Cleaner) -> None:
    body = fill(10 * 1024 * 1024, "")
    assert body.count(b"\n") == 0
    assert_drop(cleaner.clean(Page(body)), "too_large")


def test_text_node_over_libxml2_limit_is_too_large() -> None:
    """One 10.5 MB text node: libxml2 stops (10 MB text limit); dropped, not cleaned half-read."""
    body = b"<html><body><p>" + b"mot " * 2_625_000 + b"</p></body></html>"
    cleaner = Cleaner(CleanOptions(max_page_bytes=12 * MB))
    drop = assert_drop(cleaner.clean(Page(body)), "too_large")
    assert drop.detail.startswith("libxml2:")


def test_cp1252_text_node_that_grows_past_libxml2_limit() -> None:
    """A 6 MB windows-1252 page whose text doubles in size as UTF-8: still a clean drop."""
    body = b"<html><body><p>" + "é".encode("cp1252") * 6 * MB + b"</p></body></html>"
    cleaner = Cleaner()
    assert len(body) < cleaner.options.max_page_bytes
    assert_drop(cleaner.clean(Page(body, content_type="text/html; charset=windows-1252")), "too_large")


# --- gzip bombs --------------------------------------------------------------------------------


def multi_member_bomb(members: int) -> bytes:
    """``members`` gzip members of 16 MiB of spaces each: 4 GiB from about 4 MB for 256."""
    member = gzip.compress(b" " * (16 * 1024 * 1024), compresslevel=9, mtime=0)
    return gzip.compress(b"<html><body><p>", mtime=0) + member * members


def test_gigabyte_gzip_bomb_through_the_core(cleaner: Cleaner) -> None:
    bomb = multi_member_bomb(256)  # 4 GiB unpacked
    assert len(bomb) < cleaner.options.max_page_bytes  # passes the packed-size check
    tracemalloc.start()
    try:
        result = cleaner.clean(Page(bomb, url="https://news.example.org/bomb.html.gz"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_drop(result, "too_large_unpacked")
    assert peak < 3 * cleaner.options.max_page_bytes + len(bomb)


def test_gunzip_limited_stops_at_the_limit() -> None:
    bomb = multi_member_bomb(256)
    tracemalloc.start()
    try:
        with pytest.raises(UnpackedTooLarge):
            gunzip_limited(bomb, 5 * MB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * 5 * MB


def test_gunzip_limited_round_trips_and_checks() -> None:
    data = "".join(PARAS[:200]).encode()
    packed = gzip.compress(data, mtime=0)
    assert gunzip_limited(packed, len(data)) == data
    with pytest.raises(UnpackedTooLarge):
        gunzip_limited(packed, len(data) - 1)
    two = packed + gzip.compress(b"<p>fin</p>", mtime=0) + b"\x00" * 8
    assert gunzip_limited(two, 10 * MB) == data + b"<p>fin</p>"
    assert gunzip_limited(gzip.compress(b"", mtime=0) * 50_000, 0) == b""
    for corrupt in (packed[:-4], packed[:10], packed + b"garbage", packed[:20] + b"\xff" * 40 + packed[60:]):
        with pytest.raises(CorruptGzip):
            gunzip_limited(corrupt, 10 * MB)


def test_corrupt_and_nested_gzip_bodies(cleaner: Cleaner) -> None:
    packed = gzip.compress(article(PARAS[:5]).encode(), mtime=0)
    assert_drop(cleaner.clean(Page(packed[: len(packed) // 2])), "not_html")
    assert_drop(cleaner.clean(Page(gzip.compress(packed, mtime=0))), "not_html")
    assert_drop(cleaner.clean(Page(gzip.compress(b"  \n ", mtime=0))), "empty")
    record = check_record(cleaner.clean(Page(packed)))
    assert PARAS[4] in record["text"]


# --- the time limit ----------------------------------------------------------------------------


def test_time_limit_is_restored_after_each_page(cleaner: Cleaner, alarm_handler: Any) -> None:
    check_record(cleaner.clean(Page(article(PARAS[:5]).encode())))
    assert_alarm_cleared(alarm_handler)


def test_time_limit_survives_a_swallowed_alarm(alarm_handler: Any) -> None:
    """An alarm lost on the way (a bare ``except:``, a garbage-collector callback, a ``__del__``)
    is raised again: the page still ends."""
    swallowed = 0
    give_up = time.monotonic() + 30  # only so a regression ends; no speed is asserted
    with pytest.raises(PageTimeout), time_limit(0.05):
        try:
            while time.monotonic() < give_up:
                sum(range(10_000))
        except PageTimeout:  # what a bare except in a library would do
            swallowed += 1
        while time.monotonic() < give_up:
            sum(range(10_000))
    assert swallowed == 1
    assert_alarm_cleared(alarm_handler)


def test_time_limit_restores_a_custom_alarm_handler(cleaner: Cleaner) -> None:
    def mine(signum: int, frame: object) -> None:
        raise AssertionError("no alarm expected")

    previous = signal.signal(signal.SIGALRM, mine)
    try:
        check_record(cleaner.clean(Page(article(PARAS[:5]).encode())))
        assert_alarm_cleared(mine)
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_time_limit_is_not_swallowed_by_except_exception(alarm_handler: Any) -> None:
    """Libraries wrap their passes in ``except Exception`` (trafilatura: readability, justext):
    the alarm must get through them, or the page runs on with no limit."""
    swallowed = 0
    give_up = time.monotonic() + 30  # only so a regression ends; no speed is asserted
    with pytest.raises(PageTimeout), time_limit(0.05):
        while time.monotonic() < give_up:
            try:
                sum(range(10_000))
            except Exception:
                swallowed += 1
    assert swallowed == 0
    assert_alarm_cleared(alarm_handler)


def test_the_run_goes_on_after_each_hostile_page(alarm_handler: Any) -> None:
    """One cleaner, as a worker holds one: every hostile page gives exactly one result, and a
    normal page cleaned after each (a timeout, a bomb, a depth cut among them) gives the same bytes."""
    cleaner = Cleaner(CleanOptions(time_limit=1.0))
    normal = Page(article(PARAS[:8]).encode(), url="https://news.example.org/normal.html")
    reference = dumps(check_record(cleaner.clean(normal)))
    hostile = [fixture_page(folder) for folder in CASES] + [
        Page(fill(CleanOptions().max_page_bytes - 20_000, "")),  # ends as a timeout at 1 s
        Page(multi_member_bomb(64)),
        Page(b"<html><body>" + b"<div>" * 100_000),
        Page(b"<html><body><p>" + b"<b>x" * 300_000),
    ]
    reasons = []
    for page in hostile:
        result = cleaner.clean(page)
        reasons.append(result.reason if isinstance(result, Drop) else "record")
        assert dumps(check_record(cleaner.clean(normal))) == reference
    assert len(reasons) == len(hostile)
    assert {"timeout", "too_large_unpacked", "too_deep", "not_html", "empty", "record"} <= set(reasons)
    assert_alarm_cleared(alarm_handler)


# --- regular expressions that backtrack --------------------------------------------------------

#: Starts of ids, classes and lines that the rules look for, and pieces repeated after them: the
#: shapes that make a pattern with nested or overlapping repeats backtrack exponentially.
ATTACK_PREFIXES = [
    "ad", "ads", "pub", "taboola", "share", "social", "cookie-banner", "didomi", "onetrust", "ticker", "market-data",
    "comment", "comments", "related", "breadcrumb", "byline", "author", "newsletter", "paywall", "caption", "credit",
    "tags", "Published ", "Updated ", "Publié le ", "Mis à jour ", "Par ", "By ", "Photo ", "(Photo : ", "Publicité",
    "Lire aussi", "Read more", "Nous utilisons des cookies", "We use cookies", "Accueil | ", "Home > ", "CAC 40 ",
]
ATTACK_PIECES = [
    "_a", "-a", "a_", " a", ".a", "a ", "1 ", "1,", "_", "-", " ", "a", "1", "à ", "'a", "’a", ",1", " 1", "% ", "a-",
    "A", "AB", "A ", "1.1.11", "1/", "le ", "11", "1:", "h1", " -", "| ", "Aa", "a.", "A.", "«", "» ", "—", "…",
]
_CHILD = """
import sys
from pathlib import Path
sys.path[:0] = [sys.argv[1], str(Path(sys.argv[1]).parent)]
from lxml.html import document_fromstring
from test_hostile import ATTACK_PIECES, ATTACK_PREFIXES, fixture_page
from pipelines.core.cleaner import Cleaner, CleanOptions, Drop
from pipelines.core.dom_rules import DomRuleSet
from pipelines.core.line_rules import TextRuleSet
cleaner = Cleaner(CleanOptions(time_limit=5.0))
for folder in sys.argv[2:]:
    result = cleaner.clean(fixture_page(Path(folder)))
    print(folder, result.reason if isinstance(result, Drop) else "record", flush=True)
attacks = [prefix + piece * 40 + "!" for prefix in ATTACK_PREFIXES for piece in ATTACK_PIECES]
html = "".join(f'<div id="{a}" class="{a}">x</div>' for a in attacks if '"' not in a)
found = DomRuleSet().find(document_fromstring("<html><body>" + html + "</body></html>"))
rules = TextRuleSet()
for lang in [*rules.languages, None]:
    rules.apply(attacks, lang)
print("attacks", len(attacks), len(found), flush=True)
"""


def test_no_rule_pattern_backtracks_for_ever() -> None:
    """The re module holds SIGALRM until a match returns, so a pattern that backtracks
    exponentially hangs a worker past any time limit. Every DOM and line rule meets ids, classes
    and lines built to trigger that, and the redos_* fixtures must clean normally, in a child
    process given 120 s for what takes about a second."""
    tests = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            [sys.executable, "-W", "error", "-c", _CHILD, str(tests), *map(str, REDOS)],
            capture_output=True, text=True, timeout=120, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"still matching after 120 s: a rule pattern backtracks ({(exc.stdout or b'')[-500:]!r})")
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[-1].startswith(f"attacks {len(ATTACK_PREFIXES) * len(ATTACK_PIECES)} ")
    outcomes = dict(line.rsplit(" ", 1) for line in lines[:-1])
    assert set(outcomes) == {str(p) for p in REDOS} and len(REDOS) >= 2
    for folder in REDOS:  # the same expectations as the in-process fixtures
        expected = orjson.loads((folder / "expected.json").read_bytes())
        assert outcomes[str(folder)] == expected.get("drop", "record"), folder.name
