"""Property-based tests of the core over generated and mutated HTML (hypothesis, fixed seed).

For every page: ``Cleaner.clean`` returns a record or a drop (never raises, never the ``error``
drop that stands for a cleaner bug); a drop has a reason from ``DROP_REASONS``; a record
serialises to one line of valid UTF-8 JSON whose keys are exactly ``FIELDS`` in order, with the
documented types, and whose ``content_hash`` and ``word_count`` match its text.

Examples per test: ``NEWSCLEAN_FUZZ_EXAMPLES`` (default 150; a longer campaign sets it higher).
Runs are derandomized, so CI sees the same cases every time; a campaign that wants new cases on
each run sets ``NEWSCLEAN_FUZZ_RANDOM=1``.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import types
import typing
from dataclasses import replace
from typing import Any

import orjson
import pytest
from conftest import FIXTURES
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pipelines.core.cleaner import DROP_REASONS, Cleaner, CleanOptions, Drop, Page, word_count
from pipelines.core.hashing import content_hash
from pipelines.core.record import DEBUG_FIELD, FIELDS, Record, dumps
from pipelines.core.unpack import CorruptGzip, UnpackedTooLarge, gunzip_limited
from pipelines.rules.dom import DOM_RULES

EXAMPLES = int(os.environ.get("NEWSCLEAN_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("NEWSCLEAN_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
RECORD_TYPES = typing.get_type_hints(Record)
CLEANER = Cleaner()  # one per module, as a worker holds one: state must not leak between pages

# --- the checks --------------------------------------------------------------------------------


def conforms(value: Any, tp: Any) -> bool:
    """``value`` is an instance of the annotation ``tp`` (unions, ``list[X]``, ``dict[K, V]``)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, arg) for arg in args)
    if tp is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list) and all(conforms(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(conforms(k, args[0]) and conforms(v, args[1]) for k, v in value.items())
    if tp in (int, float):
        return isinstance(value, tp) and not isinstance(value, bool)
    return isinstance(value, tp)


def check(result: Record | Drop, debug: bool = False) -> None:
    event(f"drop: {result.reason}" if isinstance(result, Drop) else "record")
    if isinstance(result, Drop):
        assert result.reason in DROP_REASONS, result
        assert result.reason != "error", result  # the cleaner hit a bug on this page
        return
    assert isinstance(result, dict), type(result)
    line = dumps(result)
    assert line.endswith(b"\n") and line.count(b"\n") == 1, "one JSON line"
    parsed = orjson.loads(line.decode("utf-8"))  # strict UTF-8, then strict JSON
    keys = (*FIELDS, DEBUG_FIELD) if debug else FIELDS
    assert tuple(result) == keys and tuple(parsed) == keys, tuple(parsed)
    if debug:
        assert conforms(parsed[DEBUG_FIELD], dict[str, list[str]]), parsed[DEBUG_FIELD]
    fields: dict[str, Any] = dict(result)
    for name, tp in RECORD_TYPES.items():
        assert conforms(fields[name], tp), (name, fields[name])
        assert conforms(parsed[name], tp), (name, parsed[name])
    assert parsed == result
    text = result["text"]
    assert text.strip(), "a record has text"
    assert result["content_hash"] == content_hash(text)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", result["content_hash"])
    assert result["word_count"] == word_count(text) > 0
    assert all(n > 0 for n in result["removed"].values()), result["removed"]


# --- generated HTML ------------------------------------------------------------------------------

SENTENCES = [
    "Le conseil municipal a voté mardi soir le budget de l’été, après trois heures de débat.",
    "Les élus de l’opposition ont dénoncé « une hausse déguisée » des tarifs de la cantine.",
    "The harbour authority said on Tuesday that the new ferry terminal would open in June.",
    "Engineers replaced most of the pilings after a survey found corrosion below the waterline.",
    "Die Bundesnetzagentur prüft, ob das Kupfernetz bis 2030 abgeschaltet werden kann.",
    "市議会は火曜日の夜、三時間の議論の末に夏の予算案を可決した。",
    "Publicité", "PUBLIER UN COMMENTAIRE", "Accueil | Monde | Europe", "(Photo : AFP)", "290",
    "Votre adresse email ne sera pas publiée.", "Article original publié sur BFMTV.com", "20 Minutes avec AFP",
    "La bourse est fermée", "CAC 40 7 345,12 +0,54 %", "Lire aussi", "Partager sur Facebook",
    "By Jane Doe", "Updated 12 March 2024", "Accept all cookies", "a",
]
ODD_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("<>&\"'=/;#\x00\x0b\x0c\r\n\t \u00a0\u200b\u2028\ufeff\ufffdé’«»\U0001f600")),
        st.characters(blacklist_categories=["Cs"]),
    ),
    max_size=40,
)
TEXT = st.one_of(st.sampled_from(SENTENCES), ODD_TEXT, st.sampled_from([
    "&amp;", "&#0;", "&#xD800;", "&nbsp;", "&#x110000;", "&bogus;", "<!--", "]]>", "&#x1b", "&#12;", "&#65535;",
    "&#x0000001F;", "&#99999999999;",
]))

_RULE_VALUES = {
    kind: st.one_of(*[
        st.from_regex(re.compile(rule.pattern, re.IGNORECASE), fullmatch=True)
        for rule in DOM_RULES if rule.kind == kind
    ])
    for kind in ("class", "id")
}
PLAIN_VALUES = st.sampled_from(["article-body", "content", "entry-content", "story", "main", "post", "text", "x"])
CLASS_VALUE = st.lists(st.one_of(_RULE_VALUES["class"], PLAIN_VALUES, ODD_TEXT), min_size=1, max_size=3).map(" ".join)
ID_VALUE = st.one_of(_RULE_VALUES["id"], PLAIN_VALUES, ODD_TEXT)
ATTRS = st.dictionaries(
    st.sampled_from(["class", "id", "href", "lang", "role", "itemprop", "data-x", "style", "hidden", "aria-label"]),
    st.one_of(CLASS_VALUE, ID_VALUE, TEXT),
    max_size=3,
)
BLOCK_TAGS = ["div", "p", "article", "section", "header", "footer", "aside", "nav", "main", "ul", "ol", "li",
              "h1", "h2", "h3", "table", "tr", "td", "figure", "figcaption", "blockquote", "form", "pre"]
INLINE_TAGS = ["span", "a", "em", "strong", "b", "i", "time", "button", "label", "small", "sup"]
VOID_TAGS = ["br", "img", "hr", "input", "meta", "wbr"]
RAW_TAGS = ["script", "style", "noscript", "template", "iframe", "svg", "textarea", "title"]


def render_attrs(attrs: dict[str, str], style: int) -> str:
    out = []
    for name, value in attrs.items():
        if style == 0:
            out.append(f' {name}="{value.replace(chr(34), "&quot;")}"')
        elif style == 1:
            out.append(f" {name}='{value}'")
        else:
            out.append(f" {name}={value}")  # unquoted, even with spaces or '>' inside: soup on purpose
    return "".join(out)


@st.composite
def node(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 9))
    if kind <= 2 or depth >= 4:
        text = draw(TEXT)
        return text if draw(st.booleans()) else text.replace("&", "&amp;").replace("<", "&lt;")
    attrs = render_attrs(draw(ATTRS), draw(st.integers(0, 2)))
    if kind == 3:
        return f"<{draw(st.sampled_from(VOID_TAGS))}{attrs}>"
    if kind == 4:
        tag = draw(st.sampled_from(RAW_TAGS))
        return f"<{tag}{attrs}>{draw(TEXT)}</{tag}>"
    tag = draw(st.sampled_from(BLOCK_TAGS if kind <= 7 else INLINE_TAGS))
    children = "".join(draw(st.lists(node(depth + 1), max_size=4)))
    close = draw(st.sampled_from([f"</{tag}>", f"</{tag}>", f"</{tag}>", "", "</div>", f"</{tag}"]))
    return f"<{tag}{attrs}>{children}{close}"


ENCODINGS = ["utf-8", "utf-8", "cp1252", "iso-8859-15", "shift_jis", "utf-16", "gb18030", "koi8-r"]


@st.composite
def generated_page(draw: st.DrawFn) -> Page:
    body = "".join(draw(st.lists(node(), min_size=1, max_size=6)))
    lang = draw(st.sampled_from(["", ' lang="fr"', ' lang="en-GB"', " lang=xx_YY", ' lang=""']))
    title = draw(st.one_of(st.just(""), TEXT.map(lambda t: f"<title>{t}</title>")))
    encoding = draw(st.sampled_from(ENCODINGS))
    declared = draw(st.sampled_from([None, encoding, "utf-8", "iso-8859-1", "x-bogus"]))
    meta = f'<meta charset="{declared}">' if declared and draw(st.booleans()) else ""
    prefix = draw(st.sampled_from(["", "<!DOCTYPE html>", '<?xml version="1.0" encoding="utf-8"?>', "\ufeff", " \n"]))
    wrap = draw(st.booleans())
    html = f"{prefix}<html{lang}><head>{meta}{title}</head><body>{body}</body></html>" if wrap else prefix + body
    data = html.encode(encoding, errors="xmlcharrefreplace")
    header = draw(st.sampled_from([None, "text/html", f"text/html; charset={declared}" if declared else None]))
    return Page(body=data, url=draw(st.sampled_from(["", "https://news.example.org/a/1.html", "not a url"])),
                content_type=header)


@FUZZ
@given(generated_page())
def test_generated_html(page: Page) -> None:
    check(CLEANER.clean(page))


@settings(FUZZ, max_examples=max(EXAMPLES // 5, 10))
@given(generated_page())
def test_generated_html_is_deterministic(page: Page) -> None:
    first, second = CLEANER.clean(page), CLEANER.clean(page)
    check(first)
    if isinstance(first, Drop):
        assert first == second
    else:
        assert isinstance(second, dict) and dumps(first) == dumps(second)


# --- mutated real pages -------------------------------------------------------------------------


def _seeds() -> list[bytes]:
    paths = sorted(p for p in FIXTURES.rglob("input.html") if p.stat().st_size < 200_000)
    return [p.read_bytes() for p in paths if p.stat().st_size > 0]


SEEDS = _seeds()
INSERTS = [
    b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"<!--", b"-->", b"<script>",
    b"</body>", b"</html>", b"<html>", b"<?xml version='1.0'?>", b"<![CDATA[", b"]]>", b"&#0;", b"&#xD800;",
    b"<div>" * 300, b"<p>", b"</p>" * 50, b"<meta charset='shift_jis'>", b"<meta charset='utf-16'>", b"\r", b"<",
    b"%PDF-1.4", b"\x1f\x8b", b"&#x1", b"&#8;", b"&#xFFFE;", b"\x0b", b"\x1f",
]


@st.composite
def mutated_page(draw: st.DrawFn) -> Page:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.integers(0, 5))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == 0 and data:  # flip bits of one byte
            data[pos] ^= draw(st.integers(1, 255))
        elif op == 1:  # truncate
            del data[pos:]
        elif op == 2:  # insert a hostile token
            data[pos:pos] = draw(st.sampled_from(INSERTS))
        elif op == 3:  # insert a slice of another page
            other = draw(st.sampled_from(SEEDS))
            start = draw(st.integers(0, len(other)))
            data[pos:pos] = other[start : start + draw(st.integers(0, 5000))]
        elif op == 4:  # delete a range
            del data[pos : pos + draw(st.integers(1, 2000))]
        else:  # duplicate a range
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 2000))]
    header = draw(st.sampled_from([None, "text/html", "text/html; charset=utf-8", "text/html; charset=windows-1252",
                                   "application/octet-stream", "text/html; charset=utf-16"]))
    return Page(body=bytes(data), url="https://news.example.org/mutated.html", content_type=header)


def test_there_are_seed_pages() -> None:
    assert len(SEEDS) >= 20


@FUZZ
@given(mutated_page())
def test_mutated_real_pages(page: Page) -> None:
    check(CLEANER.clean(page))


@settings(FUZZ, max_examples=max(EXAMPLES // 3, 10))
@given(mutated_page(), st.booleans())
def test_mutated_pages_gzip_packed(page: Page, cut: bool) -> None:
    """The same pages as a saved .html.gz (whole or cut short) handed to the core still packed."""
    packed = gzip.compress(page.body, mtime=0)
    if cut:
        packed = packed[: len(packed) // 2]
    result = CLEANER.clean(Page(packed, url=page.url, content_type=page.content_type))
    check(result)
    if cut:
        assert isinstance(result, Drop) and result.reason in {"not_html", "empty"}, result


# --- the bounded decompressor -------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=3000), st.integers(0, 5000), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                                                                max_size=4), st.integers(0, 3))
def test_gunzip_limited(payload: bytes, limit: int, flips: list[tuple[int, int]], members: int) -> None:
    """Whole streams round-trip up to the limit; damaged ones raise only the two named errors."""
    packed = bytearray(gzip.compress(payload, mtime=0) * (members + 1))
    whole = payload * (members + 1)
    for pos, mask in flips:
        packed[pos % len(packed)] ^= mask
    try:
        out = gunzip_limited(bytes(packed), limit)
    except UnpackedTooLarge:
        assert flips or len(whole) > limit
    except CorruptGzip:
        assert flips
    else:
        assert len(out) <= limit
        if not flips or bytes(packed) == gzip.compress(payload, mtime=0) * (members + 1):
            assert out == whole


DEBUG_CLEANER = Cleaner(CleanOptions(debug=True))


@settings(FUZZ, max_examples=max(EXAMPLES // 5, 10))
@given(mutated_page())
def test_mutated_pages_debug_records(page: Page) -> None:
    """Debug mode adds ``removed_text`` last; the rest of the record is the same as without it."""
    result = DEBUG_CLEANER.clean(page)
    check(result, debug=True)
    plain = CLEANER.clean(page)
    if isinstance(result, Drop):
        assert plain == result
    else:
        assert isinstance(plain, dict)
        assert {k: v for k, v in result.items() if k != DEBUG_FIELD} == plain


TIMED = Cleaner()


def _normal() -> tuple[Page, bytes]:
    """The first seed page that gives a record, and its record line."""
    for body in SEEDS:
        page = Page(body, url="https://news.example.org/normal.html")
        result = CLEANER.clean(page)
        if isinstance(result, dict):
            return page, dumps(result)
    raise AssertionError("no seed page gives a record")


NORMAL, NORMAL_LINE = _normal()


# An alarm can land in hypothesis's own garbage-collector callback, where Python reports the
# exception as "ignored" (pytest turns that into a warning); the retried alarm still ends the page.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@settings(FUZZ, max_examples=max(EXAMPLES // 3, 10))
@given(mutated_page(), st.floats(0.001, 0.1))
def test_time_limit_lands_anywhere(page: Page, limit: float) -> None:
    """A tiny time limit ends the page at a random step: a timeout drop or a whole record, the
    timer cleared, and the same cleaner then gives the same bytes for a normal page."""
    TIMED.options = replace(TIMED.options, time_limit=limit)
    result = TIMED.clean(page)
    check(result)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    TIMED.options = replace(TIMED.options, time_limit=CleanOptions().time_limit)
    again = TIMED.clean(NORMAL)
    assert isinstance(again, dict) and dumps(again) == NORMAL_LINE
