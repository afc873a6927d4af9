"""Saved-page fixtures and helpers that the offline tests, unit and integration, share."""

from __future__ import annotations

import gzip
import io
import random
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

OFFLINE = Path(__file__).resolve().parents[2] / "fixtures" / "offline"
PAGES = OFFLINE / "pages"
FERRY = PAGES / "ferry.html"
LIBRARY = PAGES / "library.htm"
MARKET = PAGES / "more" / "market.html.gz"



def read_jsonl(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), "a partial last line"
    return [orjson.loads(line) for line in data.splitlines()]


WARC_PAGES = [
    ("https://gazette.example/city/ferry-returns", FERRY.read_bytes(), "text/html; charset=utf-8"),
    ("https://gazette.example/culture/library-photographs", LIBRARY.read_bytes(), "text/html"),
    ("https://gazette.example/business/fish-market", gzip.decompress(MARKET.read_bytes()), "text/html; charset=utf-8"),
]


def write_warc(path: Path, pages: Sequence[tuple[str, bytes, str]] = tuple(WARC_PAGES), gz: bool = False,
               extra: bool = True) -> list[int]:
    """A WARC with a warcinfo record, a request and a response per page, and (``extra``) a 404, an
    image response and a revisit record; the offsets of the page response records."""
    offsets = []
    with open(path, "wb") as stream:
        writer = WARCWriter(stream, gzip=gz)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))
        for number, (url, body, content_type) in enumerate(pages):
            date = f"2024-03-0{number + 1}T08:30:00Z"
            request = writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""), length=0,
                http_headers=StatusAndHeaders(f"GET {url} HTTP/1.1", [("Host", "gazette.example")],
                                              is_http_request=True),
                warc_headers_dict={"WARC-Date": date})
            writer.write_record(request)
            offsets.append(stream.tell())
            http = StatusAndHeaders("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                                          http_headers=http, warc_headers_dict={"WARC-Date": date}))
        if extra:
            for status, content_type, body in (("404 Not Found", "text/html", b"<html><body>gone</body></html>"),
                                               ("200 OK", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(64))):
                http = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
                writer.write_record(writer.create_warc_record("https://gazette.example/other", "response",
                                                              payload=io.BytesIO(body), length=len(body),
                                                              http_headers=http))
            revisit = writer.create_revisit_record(
                pages[0][0], digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", refers_to_uri=pages[0][0],
                refers_to_date="2024-03-01T08:30:00Z",
                http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"))
            writer.write_record(revisit)
    return offsets


# -- every input kind --------------------------------------------------------------------------------
_VOCABULARY = (
    "harbour", "council", "ferry", "pier", "timetable", "island", "morning", "evening", "passengers",
    "tickets", "crew", "captain", "weather", "storm", "bridge", "road", "traffic", "market", "school",
    "library", "museum", "station", "river", "coast", "village", "mayor", "budget", "vote", "meeting",
    "report", "plan", "repair", "engine", "hull", "dock", "winter", "summer", "spring", "autumn", "tourists",
    "residents", "fishermen", "cargo", "trucks", "delay", "service", "route", "night", "week", "month",
    "year", "price", "fare", "season", "festival", "concert", "hospital", "clinic", "police", "fire", "works",
    "union", "strike", "agreement", "minister", "region", "funding", "grant", "contract", "builder", "design",
    "survey", "inspection", "safety",
)


def _sentences(seed: int, count: int = 6) -> str:
    """Sentences of words drawn from a small vocabulary, seeded: another text for every seed."""
    rng = random.Random(seed)
    return " ".join(" ".join(rng.choice(_VOCABULARY) for _ in range(12)).capitalize() + "." for _ in range(count))


def many_pages(folder: Path, count: int) -> None:
    """``count`` distinct pages (the ferry article with a numbered paragraph and three paragraphs of
    its own, so that no two are near-duplicates either), a sidecar each."""
    template = FERRY.read_text(encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        extra = f"<p>Correction number {number}: the ferry's timetable for pier {number} has changed again.</p>"
        extra += "".join(f"<p>{_sentences(number * 7 + part)}</p>" for part in range(3))
        page = folder / f"page-{number:03d}.html"
        page.write_text(template.replace("</article>", extra + "</article>"), encoding="utf-8")
        page.with_name(page.name + ".meta.json").write_text(
            orjson.dumps({"url": f"https://gazette.example/p/{number}", "fetched_at": "2024-03-04T08:30:00Z"}).decode())


def slow_page(path: Path, megabytes: float = 8) -> None:
    """The ferry article with ``megabytes`` of distinct paragraphs: a real page whose cleaning
    keeps a worker busy for seconds and at about 400 MB of memory (9 MB: 4 s on a 2-core
    machine), a record if it is let finish."""
    template = FERRY.read_text(encoding="utf-8")
    paragraphs = []
    size = 0
    number = 0
    while size < megabytes * 1_000_000:
        paragraph = f"<p>{_sentences(100_000 + number)}</p>"
        paragraphs.append(paragraph)
        size += len(paragraph)
        number += 1
    path.write_text(template.replace("</article>", "".join(paragraphs) + "</article>"), encoding="utf-8")


# -- real runs --------------------------------------------------------------------------------------
def count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def wait_for_lines(process: subprocess.Popen[bytes], path: Path, lines: int) -> None:
    """Wait (up to a generous bound) until ``path`` has ``lines`` lines, while the process runs."""
    deadline = time.monotonic() + 300
    while count_lines(path) < lines and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
