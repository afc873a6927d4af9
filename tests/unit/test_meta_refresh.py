"""``crawler.middlewares.MetaRefreshMiddleware`` reads only the start of a page: its answer must
be Scrapy's ``get_meta_refresh`` answer (which decodes the whole page) on every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.response import get_meta_refresh

from crawler.middlewares import HEAD_CHARS, MetaRefreshMiddleware, head_text, meta_refresh

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
URL = "http://127.0.0.1:8642/articles/page.html"
REFRESH = '<meta http-equiv="Refresh" content="0; url=/articles/moved.html">'


def page(head: str, filler: str, tail: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}<title>t</title></head><body><p>{filler}</p>{tail}</body></html>"


def crafted() -> list[tuple[str, bytes, str | None]]:
    """(name, body, Content-Type) pages over 16 KB, where the 4,096th character falls among
    multibyte characters, with a refresh before, across and after that point."""
    many = "é中😀 " * 3000
    cases: list[tuple[str, bytes, str | None]] = []
    for name, text in (
        ("refresh_first", page(REFRESH, many)),
        ("refresh_after_4096", page("", "é" * 4200, REFRESH + many)),
        ("refresh_across_4096", page("", "中" * (HEAD_CHARS - 80), REFRESH + many)),
        ("refresh_entity_escaped", page('<meta http-equiv="&#82;efresh" content="0; url=/x.html">', many)),
        ("refresh_in_script", page("<script>//" + REFRESH + "</script>", many)),
        ("no_refresh", page('<meta charset="utf-8">', many)),
    ):
        cases.append((f"{name}/utf-8", text.encode("utf-8"), "text/html; charset=utf-8"))
        cases.append((f"{name}/undeclared", text.encode("utf-8"), "text/html"))
        cases.append((f"{name}/utf-16-bom", "\ufeff".encode("utf-16-le") + text.encode("utf-16-le"), "text/html"))
        cases.append((f"{name}/utf-16-le", text.encode("utf-16-le"), "text/html; charset=utf-16-le"))
        cases.append((f"{name}/utf-32", text.encode("utf-32-be"), "text/html; charset=utf-32-be"))
        cases.append((f"{name}/gb18030", text.encode("gb18030"), "text/html; charset=gb18030"))
        cases.append((f"{name}/utf-7", text.encode("utf-7"), "text/html; charset=utf-7"))
        broken = bytearray(text.encode("utf-8"))
        broken[HEAD_CHARS * 2 :: 997] = b"\xff" * len(broken[HEAD_CHARS * 2 :: 997])
        cases.append((f"{name}/bad-bytes", bytes(broken), "text/html; charset=utf-8"))
        cases.append((f"{name}/cp1252", text.encode("cp1252", errors="replace"), None))
    return cases


def fixture_pages() -> list[tuple[str, bytes, str | None]]:
    found = sorted(FIXTURES.rglob("*.html"))
    assert len(found) > 50
    return [(str(p.relative_to(FIXTURES)), p.read_bytes(), "text/html") for p in found]


CASES = crafted() + fixture_pages()


@pytest.mark.parametrize(("name", "body", "content_type"), CASES, ids=[c[0] for c in CASES])
def test_same_answer_as_scrapy(name: str, body: bytes, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    ours = HtmlResponse(URL, body=body, headers=headers)
    scrapys = HtmlResponse(URL, body=body, headers=headers)
    assert head_text(ours) == scrapys.text[:HEAD_CHARS]
    assert meta_refresh(ours) == get_meta_refresh(scrapys)


def test_the_crafted_pages_cover_both_answers() -> None:
    answers = {name.split("/")[0]: meta_refresh(HtmlResponse(URL, body=body, headers={"Content-Type": ct or ""}))
               for name, body, ct in crafted() if name.endswith("/utf-8")}
    assert answers["refresh_first"] == (0.0, "http://127.0.0.1:8642/articles/moved.html")
    assert answers["refresh_after_4096"] == (None, None)
    assert answers["no_refresh"] == (None, None)


def test_the_middleware_redirects_as_scrapy_does() -> None:
    from scrapy.utils.test import get_crawler

    crawler = get_crawler(settings_dict={"METAREFRESH_ENABLED": True})
    middleware = MetaRefreshMiddleware.from_crawler(crawler)
    body = page(REFRESH, "é中😀 " * 3000).encode("utf-8")
    request = Request(URL)
    headers = {"Content-Type": "text/html; charset=utf-8"}
    redirected = middleware.process_response(request, HtmlResponse(URL, body=body, headers=headers))
    assert isinstance(redirected, Request) and redirected.url == "http://127.0.0.1:8642/articles/moved.html"
    plain = HtmlResponse(URL, body=page("", "x " * 9000).encode(), headers=headers)
    assert middleware.process_response(request, plain) is plain
    # with a declared charset the whole text was never decoded (without one, Scrapy's guess of the
    # encoding decodes it all anyway)
    assert getattr(plain, "_cached_ubody", None) is None
