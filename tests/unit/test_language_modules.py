"""The language modules of ``pipelines/rules/text/``: found without a list, assembled into one
table, and the byline and author-separator patterns built from them.

The parity tests run the assembled patterns and the patterns as they were written out in
``line_rules.py`` and ``metadata.py`` before the language modules over every byline and author
string the fixtures hold (page texts and meta values, the labelled samples, expected authors).
A language module that adds byline words or separators adds them to the reference below in the
same change, and the diff of this test shows what they change on the fixtures.
"""

from __future__ import annotations

import gzip
import importlib
import pkgutil
import re
from functools import cache
from pathlib import Path

import orjson
import pytest
from conftest import FIXTURES, SAMPLES
from lxml import html as lxml_html

import pipelines.rules.text as text_rules
from pipelines.core.line_rules import TextRuleSet, byline_author, match_form
from pipelines.core.metadata import split_authors
from pipelines.rules.text import LANGUAGES, TEXT_RULES
from pipelines.rules.text.common import LAYOUT, Language, Slot

#: The patterns before the language modules (line_rules._BYLINE_PREFIX / _BYLINE_TAIL, metadata._AUTHOR_SPLIT).
REFERENCE_PREFIX = re.compile(r"^(?:Par|By|Von|Por|Written by|Écrit par)\s+", re.IGNORECASE)
REFERENCE_TAIL = re.compile(
    r"\s*(?:[|,•·-]\s*|\s)(?:publié|mis à jour|le \d|published|updated|posted|on [A-Z]|\d{1,2}[/.]\d).*$", re.IGNORECASE
)
REFERENCE_SPLIT = re.compile(r"\s*(?:;|\||\bet\b|\band\b|,)\s*")


def reference_byline_author(line: str) -> str | None:
    name = REFERENCE_TAIL.sub("", REFERENCE_PREFIX.sub("", match_form(line))).strip(" ,|-–")
    return name or None


def reference_split_authors(value: str) -> list[str]:
    parts = (p.strip() for p in REFERENCE_SPLIT.split(" ".join(value.split())))
    return list(dict.fromkeys(p for p in parts if p))


def _page_strings(path: Path) -> list[str]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    root = lxml_html.fromstring(data)
    strings = [line for text in root.itertext() for line in text.splitlines()]
    strings += [str(v) for v in root.xpath("//meta/@content")]
    return strings


@cache
def fixture_strings() -> tuple[str, ...]:
    """Every line of text and meta value of the fixture pages and samples, and the expected authors."""
    strings: list[str] = []
    for path in sorted((FIXTURES / "pages").rglob("input.html*")) + sorted((FIXTURES / "corpus").rglob("input.html*")):
        strings += _page_strings(path)
    for path in sorted((SAMPLES / "text").glob("*.txt")):
        strings += path.read_text(encoding="utf-8").splitlines()
    for line in (SAMPLES / "labels.jsonl").read_bytes().splitlines():
        if line.strip():
            strings.append(orjson.loads(line)["text"])
    for path in sorted(FIXTURES.rglob("expected.json")):
        authors = orjson.loads(path.read_bytes()).get("authors") or []
        strings += authors if isinstance(authors, list) else [authors]
    return tuple(dict.fromkeys(s for s in (match_form(x) for x in strings) if s))


def test_the_fixture_strings_hold_bylines_tails_and_author_lists() -> None:
    strings = fixture_strings()
    assert sum(bool(REFERENCE_PREFIX.match(s)) for s in strings) >= 5
    assert sum(bool(REFERENCE_TAIL.search(s)) for s in strings) >= 5
    assert sum(len(REFERENCE_SPLIT.split(s)) > 1 for s in strings) >= 5


def test_byline_author_matches_the_written_out_patterns_on_the_fixtures() -> None:
    differ = [(s, byline_author(s), reference_byline_author(s)) for s in fixture_strings()
              if byline_author(s) != reference_byline_author(s)]
    assert not differ, differ[:5]


def test_split_authors_matches_the_written_out_pattern_on_the_fixtures() -> None:
    differ = [(s, split_authors(s), reference_split_authors(s)) for s in fixture_strings()
              if split_authors(s) != reference_split_authors(s)]
    assert not differ, differ[:5]


def _language_pairs() -> list[tuple[str, str]]:
    return [(language.code, word) for language in LANGUAGES for word in language.byline_prefixes]


@pytest.mark.parametrize(("code", "word"), _language_pairs(), ids=[f"{c}-{w}" for c, w in _language_pairs()])
def test_every_byline_prefix_of_every_language_opens_a_byline(code: str, word: str) -> None:
    assert byline_author(f"{word} Léa Martin") == "Léa Martin", code
    assert byline_author(f"{word.upper()}  Léa Martin") == "Léa Martin", code


def _separator_pairs() -> list[tuple[str, str]]:
    return [(language.code, word) for language in LANGUAGES for word in language.author_separators]


@pytest.mark.parametrize(("code", "word"), _separator_pairs(), ids=[f"{c}-{w}" for c, w in _separator_pairs()])
def test_every_author_separator_of_every_language_splits_names(code: str, word: str) -> None:
    assert split_authors(f"Léa Martin {word} Paul Roux; Ana Ruiz") == ["Léa Martin", "Paul Roux", "Ana Ruiz"], code
    # a word, not a piece of a name
    assert split_authors(f"Léa {word}xyz") == [f"Léa {word}xyz"], code


def test_every_module_of_the_package_is_a_language_and_every_language_has_a_table() -> None:
    package = Path(text_rules.__file__).parent
    modules = {m.name for m in pkgutil.iter_modules([str(package)])} - {"common"}
    assert modules == {language.code for language in LANGUAGES}
    for name in modules:
        assert importlib.import_module(f"pipelines.rules.text.{name}").LANGUAGE in LANGUAGES
    assert TextRuleSet().languages == sorted(modules)


def test_the_table_is_the_layout_with_each_slot_filled_in_rank_order() -> None:
    ranks = [language.rank for language in LANGUAGES]
    assert ranks == sorted(set(ranks))
    expected = []
    for entry in LAYOUT:
        if isinstance(entry, Slot):
            expected += [r for language in LANGUAGES for r in language.rules.get(entry.name, ())]
        else:
            assert entry.lang == "*", entry.name
            expected.append(entry)
    assert list(TEXT_RULES) == expected
    by_lang = {language.code: language for language in LANGUAGES}
    for rule in TEXT_RULES:
        assert rule.lang == "*" or rule in [r for rs in by_lang[rule.lang].rules.values() for r in rs], rule.name


def test_a_language_module_with_an_unknown_slot_or_a_foreign_rule_is_refused() -> None:
    rule = next(r for r in TEXT_RULES if r.lang != "*")
    with pytest.raises(ValueError, match="unknown slot"):
        text_rules.assemble((Language(code=rule.lang, rank=1, rules={"no_such_slot": (rule,)}),))
    slot = next(e.name for e in LAYOUT if isinstance(e, Slot))
    with pytest.raises(ValueError, match="another language"):
        text_rules.assemble((Language(code="xx", rank=1, rules={slot: (rule,)}),))
