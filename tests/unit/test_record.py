"""The record's fields (docs/schema.md) and lossless re-cleaning of newsclean's own output.

Pages are cleaned as they are (inline HTML, the demo site's pages, the fixtures); JSONL and text
inputs go through ``newsclean clean``'s run loop (``run_clean``), as a user's would.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import FIXTURES, SAMPLES
from support.offline import PAGES as OFFLINE_PAGES
from support.offline import read_jsonl

from pipelines.core import metadata as metadata_module
from pipelines.core.cleaner import Cleaner, Page
from pipelines.core.record import FIELDS, record_id
from pipelines.core.steps.lines import looks_like_headline
from pipelines.run.offline import CleanJob, RunOptions, run_clean

DEMO = FIXTURES / "demo_site"
FETCHED = datetime(2024, 3, 5, 12, 0, tzinfo=UTC)
URL = "https://gazette.example/city/ferry"
BODY = "".join(
    f"<p>Paragraph {i} of the harbour story tells how the ferry came back after its repairs, with new "
    "engines and a repainted hull for the summer season.</p>" for i in range(4)
)
#: what every fixture folder cleaned into one JSONL holds: pages, a demo site, text samples
CORPUS_INPUTS = [DEMO / "site", OFFLINE_PAGES, FIXTURES / "pages", SAMPLES / "text"]


def page(head: str = "", byline: str = "", url: str = URL) -> Page:
    html = (f'<html lang="en"><head><title>Harbour ferry returns</title>{head}</head><body><article>'
            f"<h1>Harbour ferry returns</h1>{byline}{BODY}</article></body></html>")
    return Page(body=html.encode(), url=url, fetched_at=FETCHED)


def cleaned(cleaner: Cleaner, item: Page) -> dict[str, Any]:
    record = cleaner.clean(item)
    assert isinstance(record, dict), record
    assert tuple(record) == FIELDS
    return dict(record)


def clean_files(tmp_path: Path, inputs: list[Path], name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``newsclean clean`` of ``inputs`` into ``<name>.jsonl``: its records and its rejects."""
    out = tmp_path / f"{name}.jsonl"
    job = CleanJob(inputs=[str(x) for x in inputs], output=str(out), rejects=str(tmp_path / f"{name}.rejects.jsonl"),
                   run=RunOptions(jobs=1, ordered=True, progress=False))
    run_clean(job)
    return read_jsonl(out), read_jsonl(tmp_path / f"{name}.rejects.jsonl")


# -- date_published, date_modified --------------------------------------------------------------------
@pytest.mark.parametrize(("head", "byline", "want"), [
    ('<meta property="article:published_time" content="2024-03-01T09:15:00+01:00">', "",
     "2024-03-01T09:15:00+01:00"),
    ('<script type="application/ld+json">{"@type":"NewsArticle","headline":"Harbour ferry returns",'
     '"datePublished":"2024-03-01T08:15:00Z"}</script>', "", "2024-03-01T08:15:00Z"),
    ('<meta name="date" content="2024-03-01">', '<p class="byline">Publié le <time>01/03/2024 à 07h45</time></p>',
     "2024-03-01T07:45:00"),
    ('<meta name="date" content="2024-03-01">', '<p><time datetime="2024-03-01T18:05:00-05:00">March 1</time></p>',
     "2024-03-01T18:05:00-05:00"),
    ('<meta name="date" content="2024-03-01">', "", "2024-03-01"),
], ids=["meta-offset", "json-ld-utc", "written-local", "time-datetime", "day-only"])
def test_date_published_keeps_the_time_and_the_pages_zone(cleaner: Cleaner, head: str, byline: str,
                                                          want: str) -> None:
    assert cleaned(cleaner, page(head, byline))["date_published"] == want


def test_a_time_of_another_day_is_not_given_to_the_date(cleaner: Cleaner) -> None:
    head = ('<meta name="date" content="2024-03-01">'
            '<meta property="article:modified_time" content="2024-03-02T10:00:00+02:00">')
    record = cleaned(cleaner, page(head, '<p><time datetime="2024-02-20T10:00:00Z">earlier</time></p>'))
    assert record["date_published"] == "2024-03-01"
    assert record["date_modified"] == "2024-03-02T10:00:00+02:00"


def test_date_modified_after_the_fetch_is_dropped(cleaner: Cleaner) -> None:
    head = '<meta property="article:modified_time" content="2024-03-09T10:00:00Z">'
    assert cleaned(cleaner, page(head))["date_modified"] is None


def test_demo_articles_dates_are_the_manifests(cleaner: Cleaner) -> None:
    manifest = json.loads((DEMO / "manifest.json").read_text("utf-8"))
    wrong = []
    for article in manifest["articles"]:
        body = (DEMO / "site" / article["path"].lstrip("/")).read_bytes()
        record = cleaned(cleaner, Page(body=body, url="http://127.0.0.1:8000" + article["path"],
                                       fetched_at=datetime(2026, 11, 22, tzinfo=UTC)))
        if record["date_published"] != article["date"]:
            wrong.append((article["path"], record["date_published"], article["date"]))
    assert wrong == []


# -- image, license ----------------------------------------------------------------------------------
def test_image_from_og_json_ld_then_twitter_made_absolute(cleaner: Cleaner) -> None:
    og = '<meta property="og:image" content="/img/og.jpg"><meta name="twitter:image" content="https://cdn.example/t.jpg">'
    assert cleaned(cleaner, page(og))["image"] == "https://gazette.example/img/og.jpg"
    ld = ('<script type="application/ld+json">{"@type":"NewsArticle","headline":"x","image":[{"@type":"ImageObject",'
          '"url":"https://cdn.example/ld.jpg"}]}</script><meta name="twitter:image" content="https://cdn.example/t.jpg">')
    assert cleaned(cleaner, page(ld))["image"] == "https://cdn.example/ld.jpg"
    twitter = '<meta name="twitter:image" content="https://cdn.example/t.jpg">'
    assert cleaned(cleaner, page(twitter))["image"] == "https://cdn.example/t.jpg"
    assert cleaned(cleaner, page('<meta property="og:image" content="data:image/png;base64,AAAA">'))["image"] is None
    assert cleaned(cleaner, page())["image"] is None


@pytest.mark.parametrize(("head", "want"), [
    ('<link rel="license" href="/licence.html">', "https://gazette.example/licence.html"),
    ('<script type="application/ld+json">{"@type":"NewsArticle","headline":"x",'
     '"license":"https://creativecommons.org/licenses/by-sa/4.0/"}</script>',
     "https://creativecommons.org/licenses/by-sa/4.0/"),
    ('<meta name="dc.rights" content="CC BY-SA 4.0">', "CC BY-SA 4.0"),
    ('<meta name="copyright" content="Licence Ouverte / Open Licence">', "Licence Ouverte / Open Licence"),
    ('<meta name="copyright" content="© 2024 The Gazette. All rights reserved.">', None),
    ("", None),
], ids=["rel-license", "json-ld", "dc-rights-name", "licence-ouverte", "copyright-notice", "none"])
def test_license_is_a_url_or_a_known_licence_name(cleaner: Cleaner, head: str, want: str | None) -> None:
    assert cleaned(cleaner, page(head))["license"] == want


def test_json_ld_is_parsed_once_for_every_field(cleaner: Cleaner, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = json.loads

    def counting(text: str, **kw: Any) -> Any:
        calls.append(text)
        return real(text, **kw)

    monkeypatch.setattr(metadata_module.json, "loads", counting)
    head = ('<script type="application/ld+json">{"@type":"NewsArticle","headline":"Harbour ferry returns",'
            '"datePublished":"2024-03-01T08:15:00Z","dateModified":"2024-03-02T08:15:00Z",'
            '"image":"https://cdn.example/ld.jpg","license":"https://creativecommons.org/licenses/by/4.0/"}</script>'
            '<script type="application/ld+json">{"@type":"Organization","name":"The Gazette"}</script>')
    record = cleaned(cleaner, page(head))
    assert (record["date_published"], record["date_modified"]) == ("2024-03-01T08:15:00Z", "2024-03-02T08:15:00Z")
    assert record["image"] == "https://cdn.example/ld.jpg"
    assert record["license"] == "https://creativecommons.org/licenses/by/4.0/"
    # the fast path parses each block once, for every field; the public fallback lets trafilatura
    # parse them inside extract_metadata, then parses them once more for the fields it does not give
    assert len(calls) == (2 if metadata_module.tc.INTERNALS.fast() else 4)


# -- id, url -----------------------------------------------------------------------------------------
def test_id_from_the_canonical_url_else_the_content_hash(cleaner: Cleaner) -> None:
    canonical = "https://gazette.example/city/ferry-returns"
    record = cleaned(cleaner, page(f'<link rel="canonical" href="{canonical}">', url="http://mirror.example/x"))
    assert record["canonical_url"] == canonical
    assert record["id"] == hashlib.sha256(canonical.encode()).hexdigest()[:32]
    bare = cleaned(cleaner, page(url=""))
    assert bare["canonical_url"] is None and bare["url"] is None
    assert bare["id"] == bare["content_hash"].removeprefix("sha256:")[:32]
    assert record_id(None, bare["content_hash"]) == bare["id"]


def test_a_saved_page_without_sidecar_takes_its_url_from_og_url(cleaner: Cleaner) -> None:
    record = cleaned(cleaner, page('<meta property="og:url" content="https://gazette.example/city/ferry-og">', url=""))
    assert record["url"] == record["canonical_url"] == "https://gazette.example/city/ferry-og"


# -- re-cleaning -------------------------------------------------------------------------------------
def test_recleaning_our_own_jsonl_gives_the_same_records(tmp_path: Path) -> None:
    first, _ = clean_files(tmp_path, CORPUS_INPUTS, "first")  # pages with no article are rejects
    assert len(first) >= 50
    assert any(r["date_published"] and "T" in r["date_published"] for r in first)
    again, rejects = clean_files(tmp_path, [tmp_path / "first.jsonl"], "again")
    assert rejects == []
    assert [r["source"] for r in again] == [f"jsonl:{tmp_path / 'first.jsonl'}#{n}" for n in range(1, len(first) + 1)]
    changed = [(a["source"], [k for k in FIELDS if k != "source" and a[k] != b[k]])
               for a, b in zip(first, again, strict=True) if {**a, "source": ""} != {**b, "source": ""}]
    assert changed == []


def test_recleaning_our_text_as_txt_keeps_the_first_paragraph(tmp_path: Path) -> None:
    articles = [r for r in clean_files(tmp_path, [DEMO / "site" / "articles"], "demo")[0] if r["word_count"] > 100]
    assert len(articles) >= 20
    folder = tmp_path / "txt"
    folder.mkdir()
    for number, record in enumerate(articles):
        (folder / f"{number:03d}.txt").write_text(record["text"] + "\n", "utf-8")
    again, rejects = clean_files(tmp_path, [folder], "txt")
    assert rejects == []
    assert [r["text"] for r in again] == [r["text"] for r in articles]
    assert [r["title"] for r in again] == [None] * len(articles)


def test_a_jsonl_line_keeps_its_fields_and_its_first_line(tmp_path: Path) -> None:
    line = {
        "id": "theirs-1", "title": None, "url": "https://gazette.example/a",
        "date_published": "2024-03-01T09:00:00+01:00", "authors": "Ann Lee and Bo Chen", "tags": ["ferries"],
        "site_name": "The Gazette", "language": "en", "language_score": 0.97, "license": "CC BY 4.0",
        "removed": {"ad_label": 2}, "fetched_at": "2024-03-02T10:00:00Z",
        "extra": "not a record field",
        "text": "Ferry back in service\n\nAdvertisement\n\nThe ferry returned to service on Monday after repairs.",
    }
    path = tmp_path / "theirs.jsonl"
    path.write_bytes(orjson.dumps(line) + b"\n")
    [record], _ = clean_files(tmp_path, [path], "out")
    assert tuple(record) == FIELDS
    assert record["title"] is None  # a title field, even null: the text's first line is text
    assert record["text"] == "Ferry back in service\nThe ferry returned to service on Monday after repairs."
    assert record["removed"] == {"ad_label": 3}
    assert {k: record[k] for k in ("id", "url", "date_published", "authors", "tags", "site_name", "language",
                                   "language_score", "license", "fetched_at")} == {
        "id": "theirs-1", "url": "https://gazette.example/a", "date_published": "2024-03-01T09:00:00+01:00",
        "authors": ["Ann Lee", "Bo Chen"], "tags": ["ferries"], "site_name": "The Gazette", "language": "en",
        "language_score": 0.97, "license": "CC BY 4.0", "fetched_at": "2024-03-02T10:00:00Z"}


@pytest.mark.parametrize(("line", "later", "want"), [
    ("Twitter paralysé mardi matin dans de nombreux pays", [], True),
    ("Une panne a touché Twitter mardi matin dans de nombreux pays.", [], False),
    ("Pourquoi Twitter est-il en panne ?", [], True),
    ("x" * 151, [], False),
    ("La panne serait intentionnelle. Mais aucune communication officielle.", [], False),
    ("La panne serait intentionnelle. Mais aucune communication officielle.", ["La panne serait intentionnelle"], True),
], ids=["headline", "sentence", "question", "too-long", "two-sentences", "two-sentences-repeated"])
def test_a_text_files_first_line_is_a_headline_only_when_it_looks_like_one(line: str, later: list[str],
                                                                          want: bool) -> None:
    from pipelines.core.line_rules import split_title_standfirst

    title, standfirst = split_title_standfirst(line)
    assert looks_like_headline(line, title, standfirst, later) is want
