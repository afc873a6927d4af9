"""Focused tests of the core's steps: decoding, language, hashing, dates, drops, element boundaries."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from datetime import UTC, datetime

import pytest
from conftest import ROOT

from pipelines.core.cleaner import DROP_REASONS, Cleaner, CleanOptions, Drop, Page
from pipelines.core.decode import decode_html
from pipelines.core.hashing import content_hash
from pipelines.core.record import FIELDS

LEAD = (
    "Le gouvernement a présenté mercredi un projet de loi sur la sécurité des réseaux, attendu depuis "
    "plusieurs mois par les opérateurs et les associations de consommateurs."
)
PARAS = [
    LEAD,
    "Le texte prévoit de nouvelles obligations pour les fournisseurs d’accès, qui devront signaler les "
    "incidents majeurs dans un délai de vingt-quatre heures à l’autorité de régulation.",
    "Les associations saluent une avancée, mais regrettent que les sanctions restent modestes au regard "
    "du chiffre d’affaires des grands groupes du secteur des télécommunications.",
]


def page_html(body: str, head: str = "<title>Un projet de loi sur les réseaux</title>", lang: str = "fr") -> str:
    return f"<!DOCTYPE html><html lang=\"{lang}\"><head>{head}</head><body><article>{body}</article></body></html>"


def paragraphs(extra: str = "") -> str:
    return "<h1>Un projet de loi sur les réseaux</h1>" + "".join(f"<p>{p}</p>" for p in PARAS) + extra


def clean(cleaner: Cleaner, body: bytes, **kw: object) -> dict[str, object]:
    result = cleaner.clean(Page(body=body, url="https://example.org/a", **kw))  # type: ignore[arg-type]
    assert not isinstance(result, Drop), result
    assert tuple(result) == FIELDS
    return dict(result)


# -- decoding ------------------------------------------------------------------------------------
def test_decode_windows_1252_with_header() -> None:
    body = "<p>Le café coûte 2 € à Noël</p>".encode("cp1252")
    encoding, text = decode_html(body, "text/html; charset=windows-1252")
    assert encoding == "cp1252"
    assert "café coûte 2 € à Noël" in text


def test_decode_windows_1252_without_header_or_meta() -> None:
    body = "<p>Le café coûte 2 € à Noël</p>".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    _, text = decode_html(body, None)
    assert "café coûte 2 € à Noël" in text


def test_decode_utf8_without_header_or_meta() -> None:
    _, text = decode_html("<p>Le café coûte 2 € à Noël</p>".encode(), None)
    assert "café coûte 2 € à Noël" in text


def test_decode_utf8_bom_wins_over_header() -> None:
    body = b"\xef\xbb\xbf" + "<p>Déjà vu</p>".encode()
    encoding, text = decode_html(body, "text/html; charset=iso-8859-1")
    assert encoding == "utf-8"
    assert "Déjà vu" in text
    assert "\ufeff" not in text


def test_decode_utf16_bom() -> None:
    body = "<p>Élan vital</p>".encode("utf-16")  # with its BOM
    encoding, text = decode_html(body, None)
    assert encoding.startswith("utf-16")
    assert "Élan vital" in text


@pytest.mark.parametrize("declared", [
    ("text/html; charset=iso-8859-1", ""),  # a server's default header on a UTF-8 page
    (None, '<meta charset="iso-8859-15">'),  # a page saved as UTF-8 that kept its old <meta>
    (None, '<meta http-equiv="content-type" content="text/html;charset=GB2312">'),
])
def test_decode_valid_utf8_wins_over_a_wrong_declaration(declared: tuple[str | None, str]) -> None:
    header, meta = declared
    body = f"<html><head>{meta}</head><body><p>La sanción de Verstappen · 人民网 · Œuvre</p></body></html>".encode()
    encoding, text = decode_html(body, header)
    assert encoding == "utf-8"
    assert "La sanción de Verstappen · 人民网 · Œuvre" in text


def test_decode_legacy_bytes_that_are_not_utf8_keep_their_declaration() -> None:
    samples = (("gb2312", "人民网的新闻"), ("iso-8859-15", "Œuvre à 5 €"), ("shift_jis", "日本語のニュース"))
    for charset, sample in samples:
        body = f'<html><head><meta charset="{charset}"></head><body><p>{sample}</p></body></html>'.encode(charset)
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        encoding, text = decode_html(body, None)
        assert encoding != "utf-8" and sample in text, (charset, encoding)


def test_decode_meta_charset() -> None:
    body = '<html><head><meta charset="iso-8859-15"></head><body><p>Œuvre à 5 €</p></body></html>'.encode(
        "iso-8859-15"
    )
    _, text = decode_html(body, None)
    assert "Œuvre à 5 €" in text


def test_utf16_page_is_cleaned_not_dropped_as_binary(cleaner: Cleaner) -> None:
    record = clean(cleaner, page_html(paragraphs()).encode("utf-16"))
    assert "fournisseurs d’accès" in str(record["text"])


def test_cp1252_page_without_charset_is_cleaned(cleaner: Cleaner) -> None:
    record = clean(cleaner, page_html(paragraphs()).replace("’", "'").encode("cp1252"))
    assert "Le gouvernement a présenté mercredi" in str(record["text"])


# -- language --------------------------------------------------------------------------------------
AMBIGUOUS = "Twitter Space DeSantis Musk Biden crash live stream"


@pytest.mark.parametrize("text", [LEAD, " ".join(PARAS), AMBIGUOUS])
def test_language_is_the_same_across_fresh_cleaners(text: str) -> None:
    answers = {Cleaner().detector.detect(text) for _ in range(4)}
    assert len(answers) == 1


def test_language_from_text_and_html_lang_fallback(cleaner: Cleaner) -> None:
    assert cleaner.detector.detect(LEAD).code == "fr"
    assert cleaner.detector.detect("ok", fallback="de-AT").code == "de"
    assert cleaner.detector.detect("ok").code is None


# -- content hash ----------------------------------------------------------------------------------
def test_content_hash_nfc_and_nfd_agree() -> None:
    text = "Élodie a déjà écrit à l’équipe"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert content_hash(nfd) == content_hash(text)
    assert content_hash(text).startswith("sha256:")


def test_content_hash_folds_whitespace() -> None:
    assert content_hash("un  deux\n\ttrois ") == content_hash("un deux trois")
    assert content_hash("un deux trois") != content_hash("un deux troisième")


# -- dates -----------------------------------------------------------------------------------------
def test_date_never_after_fetch(cleaner: Cleaner) -> None:
    head = (
        "<title>Un projet de loi sur les réseaux</title>"
        '<meta property="article:published_time" content="2031-05-04T10:00:00+00:00">'
    )
    fetched = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    record = clean(cleaner, page_html(paragraphs(), head).encode(), fetched_at=fetched)
    assert record["date_published"] is None or str(record["date_published"])[:10] <= "2024-03-01"
    assert record["fetched_at"] == "2024-03-01T12:00:00Z"


def test_date_before_fetch_is_kept(cleaner: Cleaner) -> None:
    head = (
        "<title>Un projet de loi sur les réseaux</title>"
        '<meta property="article:published_time" content="2023-05-04T10:00:00+00:00">'
    )
    record = clean(cleaner, page_html(paragraphs(), head).encode(), fetched_at=datetime(2024, 3, 1, tzinfo=UTC))
    assert str(record["date_published"]).startswith("2023-05-04")


# -- drops -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "not_html"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_html"),
        (b"<html>\x00\x00\x00binary</html>", "not_html"),
        (b"<html><body><div> </div><script>var x = 1;</script></body></html>", "no_content"),
    ],
)
def test_drops(cleaner: Cleaner, body: bytes, reason: str) -> None:
    result = cleaner.clean(Page(body=body, url="https://example.org/x"))
    assert isinstance(result, Drop)
    assert result.reason == reason
    assert result.reason in DROP_REASONS
    assert result.source == "https://example.org/x"


def test_too_large_is_dropped_before_parsing() -> None:
    small = Cleaner(CleanOptions(max_page_bytes=1000))
    body = page_html(paragraphs() * 3).encode()
    assert len(body) > 1000
    result = small.clean(Page(body=body, url="https://example.org/big"))
    assert isinstance(result, Drop)
    assert result.reason == "too_large"
    assert not isinstance(Cleaner().clean(Page(body=body, url="https://example.org/big")), Drop)


def test_clean_text_drops_empty_text(cleaner: Cleaner) -> None:
    result = cleaner.clean_text(" \n\n ", source="empty.txt")
    assert isinstance(result, Drop)
    assert result.reason == "empty"


# -- the core stands alone -------------------------------------------------------------------------
def test_core_imports_no_scrapy() -> None:
    code = "import pipelines.core.cleaner, support.scoring, sys; assert 'scrapy' not in sys.modules, 'scrapy loaded'"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT / "tests", capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


# -- element boundaries ----------------------------------------------------------------------------
def test_no_glued_words_at_inline_link(cleaner: Cleaner) -> None:
    extra = "<p>Plus d’informations sur la page <a href='/cookies'>Politique</a> du site, consultable en ligne.</p>"
    extra2 = "<p>Plus d’informations sur la page<a href='/p'>Politique</a> de confidentialité du réseau.</p>"
    record = clean(cleaner, page_html(paragraphs(extra + extra2)).encode())
    text = str(record["text"])
    assert "la page Politique du site" in text
    assert "pagePolitique" not in text


def test_inline_link_text_is_kept(cleaner: Cleaner) -> None:
    extra = (
        "<p>Le réseau social a suspendu brièvement mardi soir le compte de <a href='https://twitter.com/jack'>"
        "@jack</a>. Pendant une quinzaine de minutes, les internautes qui tentaient d’accéder "
        "<a href='https://twitter.com/jack'>à son profil</a>, étaient renvoyés sur un message d’erreur.</p>"
    )
    record = clean(cleaner, page_html(paragraphs(extra)).encode())
    text = str(record["text"])
    assert "le compte de @jack. Pendant" in text
    assert "tentaient d’accéder à son profil, étaient" in text


def test_no_glued_words_between_blocks(cleaner: Cleaner) -> None:
    body = (
        "<span class='tag'>INTERNET</span><h1>Twitter suspend «par erreur» le compte de son patron</h1>"
        + "".join(f"<p>{p}</p>" for p in PARAS)
        + "<p>A la reprise du service, le hashtag était le plus partagé sur le réseau social.</p>"
        "<p>Sur Facebook, des internautes ont également signalé une interruption.</p>"
    )
    record = clean(cleaner, page_html(body).encode())
    text = str(record["text"])
    assert "INTERNETTwitter" not in text and "INTERNETTwitter" not in str(record["title"])
    assert "social.Sur" not in text
    assert "réseau social." in text and "Sur Facebook, des internautes" in text
