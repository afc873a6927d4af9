"""pipelines.compat: the fast path (library internals) and the public path give the same results.

* On every fixture page (fixtures/pages cases, fixtures/offline/pages, the demo site's articles)
  both paths give the same extraction (text, code blocks, mode), the same metadata, the same
  language and score, and the same record: the design claims equivalence everywhere (measured:
  0 of the 46 pages differ), so the tests assert equality, not a tolerance.
* A library version the internals were not checked against (the version the check reads,
  monkeypatched) or a missing internal (in a subprocess) still cleans pages, with one warning.
* No module outside pipelines/compat/ names a private or internal name of trafilatura,
  langdetect or Scrapy.
"""

from __future__ import annotations

import ast
import gzip
import logging
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from scrapy.utils.gz import gunzip
from support.scoring import load_cases

import pipelines.compat as compat
from pipelines.compat import langdetect as cl
from pipelines.compat import readability as rc
from pipelines.compat import scrapy as cs
from pipelines.compat import trafilatura as tc
from pipelines.core.candidates import readability_lines
from pipelines.core.cleaner import Cleaner, Page
from pipelines.core.decode import decode_html
from pipelines.core.extract import FIRST_BODY_XPATH, extract
from pipelines.core.language import LanguageDetector
from pipelines.core.metadata import read_metadata

ROOT = Path(__file__).resolve().parents[2]
FETCHED = datetime(2025, 6, 1, tzinfo=UTC)
T = TypeVar("T")


def _pages() -> list[tuple[str, Page]]:
    pages = [(case.id, case.page()) for case in load_cases(ROOT / "fixtures" / "pages") if not case.is_text]
    for folder in (ROOT / "fixtures" / "offline" / "pages", ROOT / "fixtures" / "demo_site" / "site" / "articles",
                   ROOT / "fixtures" / "selector"):
        for path in sorted(folder.rglob("*")):
            if path.suffix not in (".html", ".htm", ".gz"):
                continue
            body = path.read_bytes()
            body = gzip.decompress(body) if path.suffix == ".gz" else body
            url = f"https://example.org/{path.relative_to(ROOT).as_posix()}"
            pages.append((str(path.relative_to(ROOT)), Page(body=body, url=url, source=url, fetched_at=FETCHED)))
    return pages


PAGES = _pages()


@pytest.fixture(autouse=True)
def _follow_environment() -> Iterator[None]:
    compat.use_public(None)
    yield
    compat.use_public(None)


@pytest.fixture(scope="module")
def both_cleaner() -> Cleaner:
    return Cleaner()


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def _both(run: Callable[[], T]) -> tuple[T, T]:
    """``run()`` on the fast path, then on the public path."""
    compat.use_public(False)
    fast = run()
    compat.use_public(True)
    public = run()
    compat.use_public(None)
    return fast, public


def test_fixture_pages_found() -> None:
    sources = [name.split("/")[1] if name.startswith("fixtures/") else "pages" for name, _ in PAGES]
    assert sources.count("pages") >= 15
    assert sources.count("offline") >= 4
    assert sources.count("demo_site") >= 20


def test_fast_path_runs_here() -> None:
    """The installed versions are the checked ones: the parity tests compare two different paths."""
    for internals in (tc.INTERNALS, cl.INTERNALS, cs.INTERNALS):
        assert internals.problem() is None, internals.problem()
        assert internals.fast()
    compat.use_public(True)
    assert not tc.INTERNALS.fast() and not cl.INTERNALS.fast() and not cs.INTERNALS.fast()


def test_environment_forces_public(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(compat.ENV_VAR, "public")
    assert compat.public_forced() and not tc.INTERNALS.fast()
    compat.use_public(False)  # the function wins over the environment
    assert tc.INTERNALS.fast()
    monkeypatch.setenv(compat.ENV_VAR, "")
    compat.use_public(None)
    assert not compat.public_forced()


@pytest.mark.parametrize(("name", "page"), PAGES, ids=[name for name, _ in PAGES])
def test_same_record_on_both_paths(name: str, page: Page, both_cleaner: Cleaner, detector: LanguageDetector) -> None:
    tree = both_cleaner.parse(decode_html(page.body)[1])
    if tree is not None:
        fetched = page.fetched_at.date() if page.fetched_at else None
        fast_meta, public_meta = _both(lambda: read_metadata(tree, page.url or None, fetched))
        assert fast_meta == public_meta
        fast_text, public_text = _both(lambda: extract(tree, page.url or None))
        assert fast_text == public_text
        fast_lang, public_lang = _both(lambda: detector.detect(fast_text.text))
        assert fast_lang == public_lang
    fast_record, public_record = _both(lambda: both_cleaner.clean(page))
    assert fast_record == public_record


def test_language_on_both_paths(detector: LanguageDetector) -> None:
    texts = [
        "Le gouvernement a présenté mercredi un projet de loi sur la sécurité des hôpitaux.",
        "The ferry service returns to the island after a winter of repairs to the harbour wall.",
        "Die Regierung hat am Mittwoch einen Gesetzentwurf zur Sicherheit der Krankenhäuser vorgelegt.",
        "ABC DEF GHI JKL MNO PQR STU VWX 123 456 789",
    ]
    results = [_both(lambda text=text: detector.detect(text)) for text in texts]
    assert [fast for fast, _ in results] == [public for _, public in results]
    assert [fast.code for fast, _ in results[:3]] == ["fr", "en", "de"]


def test_first_body_xpath_is_trafilaturas(both_cleaner: Cleaner) -> None:
    """extract.FIRST_BODY_XPATH (the split-body repair's selector, kept on both paths) is
    trafilatura's ``BODY_XPATH[0]``: the same expression, the same elements on the fixture pages."""

    def squeeze(path: str) -> str:
        return re.sub(r"\s+", "", path)

    assert squeeze(FIRST_BODY_XPATH.path) == squeeze(tc.BODY_XPATH[0].path)
    found = 0
    for _, page in PAGES:
        tree = both_cleaner.parse(decode_html(page.body)[1])
        if tree is not None:
            ours = FIRST_BODY_XPATH(tree)
            assert ours == tc.BODY_XPATH[0](tree)
            found += len(ours)
    assert found >= 5


def test_gzip_errors_on_both_paths() -> None:
    bomb, broken = gzip.compress(b"0" * 100_000), gzip.compress(b"a short page" * 50)[:10]
    for public in (False, True):
        compat.use_public(public)
        verdicts = []
        for body in (bomb, broken):
            with pytest.raises(cs.gunzip_errors()) as caught:
                gunzip(body, max_size=1000)
            verdicts.append(cs.unpacked_too_large(caught.value))
        assert verdicts == [True, False], public


def test_unsupported_versions_still_clean(
    both_cleaner: Cleaner, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Other versions of the three libraries: the public path, the same records, one warning each."""
    pages = [page for _, page in PAGES[:6]]
    expected = [both_cleaner.clean(page) for page in pages]
    monkeypatch.setattr(compat, "_WARNED", set())
    for internals, other in ((tc.INTERNALS, "9.0.0"), (cl.INTERNALS, "2.0.0"), (cs.INTERNALS, "3.0.0")):
        monkeypatch.setattr(internals, "version", other)
    with caplog.at_level(logging.WARNING, logger="pipelines.compat"):
        records = [both_cleaner.clean(page) for page in pages]
        assert not cs.unpacked_too_large(ValueError("not the limit"))
    assert records == expected
    assert any(not hasattr(record, "reason") for record in records)  # some pages give records
    warnings = [r.getMessage() for r in caplog.records if r.name == "pipelines.compat"]
    assert len(warnings) == 3, warnings
    assert any(w.startswith("trafilatura 9.0.0 is not a version") for w in warnings), warnings
    assert {w.split()[0] for w in warnings} == {"trafilatura", "langdetect", "scrapy"}


def test_missing_internal_still_cleans() -> None:
    """trafilatura without one of the modules whose internals the fast path imports: a page still
    cleans (bare_extraction and extract_metadata answer), with one warning naming the module."""
    code = (
        "import sys, logging\n"
        "import trafilatura\n"
        "sys.modules['trafilatura.external'] = None\n"
        "logging.basicConfig(level=logging.WARNING, format='%(name)s %(message)s')\n"
        "from pipelines.compat import trafilatura as tc\n"
        "from pipelines.core.cleaner import Cleaner, Page\n"
        "body = open('fixtures/offline/pages/ferry.html', 'rb').read()\n"
        "cleaner = Cleaner()\n"
        "for _ in range(3):\n"
        "    record = cleaner.clean(Page(body=body, url='https://gazette.example/city/ferry-returns'))\n"
        "print('MISSING', tc.INTERNALS.missing)\n"
        "print('TEXT', len(record['text']))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert "MISSING ['import of trafilatura.external halted; None in sys.modules']" in run.stdout
    text = re.search(r"TEXT (\d+)", run.stdout)
    assert text is not None and int(text[1]) > 500
    warnings = [line for line in run.stderr.splitlines() if line.startswith("pipelines.compat ")]
    assert len(warnings) == 1 and "trafilatura.external" in warnings[0], run.stderr


# --- no library internals outside pipelines/compat/ ------------------------------------------------

LIBRARIES = ("trafilatura", "langdetect", "scrapy", "warcio")
#: libraries whose internals are not marked by a leading underscore: only the package's own names
TOP_LEVEL_ONLY = ("trafilatura", "langdetect")
#: the grep the check started as: a private name imported from one of the libraries
PRIVATE_IMPORT = re.compile(r"from (trafilatura|langdetect|scrapy|warcio)[.a-z_]* import .*\b_[a-z]")


def internal_uses(source: str) -> list[str]:
    """The private or internal names of the libraries that ``source`` imports or reads."""
    found = [line.strip() for line in source.splitlines() if PRIVATE_IMPORT.search(line)]
    tree = ast.parse(source)
    bound: dict[str, str] = {}  # local name -> library module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root in LIBRARIES:
                    bound[(alias.asname or alias.name).split(".")[0]] = alias.name
                    parts = alias.name.split(".")
                    if any(p.startswith("_") for p in parts) or (root in TOP_LEVEL_ONLY and len(parts) > 1):
                        found.append(f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] not in LIBRARIES:
                continue
            names = [alias.name for alias in node.names]
            if (
                any(p.startswith("_") for p in parts + names)
                or (parts[0] in TOP_LEVEL_ONLY and len(parts) > 1)
                or (parts[0] in TOP_LEVEL_ONLY and any(not hasattr(__import__(parts[0]), n) for n in names))
            ):
                found.append(f"from {node.module} import {', '.join(names)}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain = []
            current: ast.expr = node
            while isinstance(current, ast.Attribute):
                chain.append(current.attr)
                current = current.value
            if isinstance(current, ast.Name) and current.id in bound:
                chain.reverse()
                root = bound[current.id].split(".")[0]
                if any(a.startswith("_") and not a.startswith("__") for a in chain) or (
                    root in TOP_LEVEL_ONLY
                    and len(chain) > 1
                    and isinstance(getattr(__import__(root), chain[0], None), type(sys))
                ):
                    found.append(f"{current.id}.{'.'.join(chain)}")
    return sorted(set(found))


def test_the_check_finds_internals() -> None:
    """The check flags what the code used to hold (so it can fail)."""
    assert internal_uses("from scrapy.utils._compression import _DecompressionMaxSizeExceeded\n")
    assert internal_uses("from trafilatura.core import trafilatura_sequence\n")
    assert internal_uses("from langdetect.detector import Detector\n")
    assert internal_uses("import trafilatura\nx = trafilatura.external.JT_STOPLIST\n")
    assert internal_uses("import scrapy\nx = scrapy.utils._compression\n")
    assert not internal_uses(
        "import trafilatura\nfrom trafilatura import bare_extraction\ntrafilatura.extract_metadata\n"
    )
    assert not internal_uses(
        "from langdetect import DetectorFactory\nfrom scrapy.utils.gz import gunzip\nself._x = 1\n"
    )


def test_no_library_internals_outside_compat() -> None:
    compat_dir = ROOT / "pipelines" / "compat"
    files = [
        p for d in ("pipelines", "crawler") for p in sorted((ROOT / d).rglob("*.py")) if compat_dir not in p.parents
    ]
    assert len(files) > 20
    offending = {
        str(p.relative_to(ROOT)): uses for p in files if (uses := internal_uses(p.read_text(encoding="utf-8")))
    }
    assert offending == {}
    inside = [p for p in sorted(compat_dir.glob("*.py")) if internal_uses(p.read_text(encoding="utf-8"))]
    assert len(inside) >= 3  # the internals are there, behind the version checks


@pytest.mark.parametrize(("name", "page"), PAGES[::3], ids=[name for name, _ in PAGES[::3]])
def test_readability_on_both_paths(name: str, page: Page, both_cleaner: Cleaner) -> None:
    """readability-lxml with its cleaner's javascript pass (public) and without (fast): the same lines."""
    tree = both_cleaner.parse(decode_html(page.body)[1])
    if tree is None:
        return
    fast, public = _both(lambda: readability_lines(tree, page.url or None))
    assert fast == public
    assert rc.INTERNALS.fast()


def test_readability_other_version_same_lines(
    both_cleaner: Cleaner, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tree = both_cleaner.parse(decode_html((ROOT / "fixtures" / "selector" / "read_also_list.html").read_bytes())[1])
    assert tree is not None
    expected = readability_lines(tree, None)
    assert len(expected) >= 6
    monkeypatch.setattr(compat, "_WARNED", set())
    monkeypatch.setattr(rc.INTERNALS, "version", "1.0")
    with caplog.at_level(logging.WARNING, logger="pipelines.compat"):
        assert readability_lines(tree, None) == expected
        assert readability_lines(tree, None) == expected
    warnings = [r.getMessage() for r in caplog.records if r.name == "pipelines.compat"]
    assert len(warnings) == 1 and warnings[0].startswith("readability-lxml 1.0 is not a version"), warnings


def _parse_headers(lines: int) -> None:
    """Feed a status line and ``lines`` short headers to Twisted's response parser."""
    from twisted.internet.testing import StringTransport
    from twisted.web.http_headers import Headers

    from pipelines.compat.twisted import HTTPClientParser
    from pipelines.compat.twisted import Request as TxRequest

    assert HTTPClientParser is not None
    parser = HTTPClientParser(TxRequest(b"GET", b"/", Headers(), None), lambda rest: None)
    parser.makeConnection(StringTransport())
    parser.dataReceived(b"HTTP/1.1 200 OK\r\n")
    for _ in range(lines):
        parser.dataReceived(b"X-Padding: " + b"p" * 100 + b"\r\n")


def test_response_headers_capped_on_the_fast_path_only() -> None:
    from pipelines.compat import twisted as ct

    ct.uncap_response_headers()
    try:
        assert ct.cap_response_headers(max_bytes=10_000, max_count=50)
        _parse_headers(40)  # under both caps
        with pytest.raises(ct.HeadersTooLarge):
            _parse_headers(60)  # over the line cap
        ct.LIMITS.max_count = 10_000
        with pytest.raises(ct.HeadersTooLarge):
            _parse_headers(200)  # over the byte cap
        ct.uncap_response_headers()
        compat.use_public(True)
        assert not ct.cap_response_headers(max_bytes=10_000, max_count=50)  # public path: Twisted as it is
        _parse_headers(200)
    finally:
        compat.use_public(None)
        ct.uncap_response_headers()


def test_headers_too_large_is_found_through_scrapys_wrapping() -> None:
    from twisted.python.failure import Failure
    from twisted.web._newclient import ResponseFailed

    from pipelines.compat.twisted import HeadersTooLarge, is_headers_too_large

    failed = ResponseFailed([Failure(HeadersTooLarge("cap"))])
    try:
        raise RuntimeError("download failed") from failed
    except RuntimeError as wrapped:
        assert is_headers_too_large(wrapped)
    assert not is_headers_too_large(ResponseFailed([Failure(ConnectionError("reset"))]))


@pytest.mark.parametrize("gz", [False, True])
def test_warc_records_on_both_paths(tmp_path: Path, gz: bool, monkeypatch: pytest.MonkeyPatch,
                                    caplog: pytest.LogCaptureFixture) -> None:
    """The linear reader and warcio's own give the same tasks; another warcio version takes
    warcio's own, with one warning."""
    from support.offline import write_warc
    from warcio.archiveiterator import ArchiveIterator

    from pipelines.compat import warcio as cw
    from pipelines.io.inputs import Inputs

    warc = tmp_path / ("a.warc.gz" if gz else "a.warc")
    write_warc(warc, gz=gz)

    def tasks() -> list[tuple[str, str, bytes]]:
        return [(t.kind, t.source, t.page.body if t.page else b"") for t in Inputs([str(warc)], max_page_bytes=10**7)]

    assert cw.INTERNALS.fast()
    fast = tasks()
    assert len(fast) == 3
    monkeypatch.setattr(cw.INTERNALS, "version", "9.0.0")
    compat._WARNED.discard("warcio")
    with caplog.at_level(logging.WARNING), warc.open("rb") as handle:
        assert type(cw.archive_iterator(handle)) is ArchiveIterator
        assert tasks() == fast
    assert sum("warcio 9.0.0" in r.getMessage() for r in caplog.records) == 1
