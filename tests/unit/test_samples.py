"""The five labelled French samples, re-cleaned as text: every labelled line goes where its label says.

``fixtures/samples/labels.jsonl`` labels every non-blank line of ``fixtures/samples/text/*.txt``
(see ``fixtures/samples/README.md``). ``body`` lines (their ``clean`` form where given) must be
the record's text, in order; every other line must be gone from the text and, in debug mode,
removed by a rule of its category.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import SAMPLES
from support.scoring import fold

from pipelines.core.cleaner import Cleaner
from pipelines.core.line_rules import match_form
from pipelines.rules.dom import DOM_RULES
from pipelines.rules.text import TEXT_RULES

#: Labels whose lines are boilerplate: gone from the text, counted under the category.
BOILERPLATE = {
    "cookie_banner", "ticker", "comment_form", "ad_label", "breadcrumb", "share_count", "caption",
    "byline", "syndication", "stray", "title_repeat",
}
#: The category a label's removal is counted under (the headline line itself is a title repeat).
CATEGORY_OF_LABEL = {label: label for label in BOILERPLATE} | {"title": "title_repeat"}
#: Context rules coded in the residue step, by name, with their category.
CONTEXT_RULES = {"title_repeat": "title_repeat", "author_line": "byline"}
RULE_CATEGORY = {r.name: r.category for r in (*DOM_RULES, *TEXT_RULES)} | CONTEXT_RULES


def _labels() -> dict[str, list[dict[str, Any]]]:
    by_sample: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in (SAMPLES / "labels.jsonl").read_bytes().splitlines():
        if line.strip():
            row = orjson.loads(line)
            by_sample[row["sample"]].append(row)
    return dict(sorted(by_sample.items()))


LABELS = _labels()
SAMPLE_NAMES = sorted(LABELS)


def _clean(cleaner: Cleaner, name: str) -> dict[str, Any]:
    path = SAMPLES / "text" / name
    record = cleaner.clean_text(path.read_text(encoding="utf-8"), source=str(path))
    assert isinstance(record, dict), f"{name}: dropped: {record!r}"
    return dict(record)


def _headline(rows: list[dict[str, Any]]) -> str:
    """The sample's headline: the longest line labelled ``title``, in its clean form."""
    titles = [match_form(r.get("clean", r["text"])) for r in rows if r["label"] == "title"]
    return max(titles, key=len)


def test_every_sample_is_labelled() -> None:
    on_disk = sorted(p.name for p in (SAMPLES / "text").glob("*.txt"))
    assert on_disk == SAMPLE_NAMES
    for name, rows in LABELS.items():
        text_lines = (SAMPLES / "text" / name).read_text(encoding="utf-8").splitlines()
        labelled = {r["line"] for r in rows}
        non_blank = {i for i, line in enumerate(text_lines, 1) if line.strip()}
        assert labelled == non_blank, name
        for row in rows:
            assert match_form(text_lines[row["line"] - 1]) == match_form(row["text"]), (name, row["line"])


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_body_lines_kept_in_order(cleaner: Cleaner, name: str) -> None:
    record = _clean(cleaner, name)
    want = [fold(match_form(r.get("clean", r["text"]))) for r in LABELS[name] if r["label"] == "body"]
    assert [fold(x) for x in record["text"].split("\n")] == want


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_boilerplate_lines_removed(cleaner: Cleaner, name: str) -> None:
    record = _clean(cleaner, name)
    kept = {fold(x) for x in record["text"].split("\n")}
    text = fold(record["text"])
    for row in LABELS[name]:
        if row["label"] in BOILERPLATE or row["label"] == "title":
            line = fold(match_form(row.get("clean", row["text"])))
            assert line not in kept, (row["line"], row["label"], line)
            if len(line) >= 20:  # long enough not to occur by chance inside a body sentence
                assert line not in text, (row["line"], row["label"], line)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_title_source_and_authors(cleaner: Cleaner, name: str) -> None:
    record = _clean(cleaner, name)
    rows = LABELS[name]
    headline = _headline(rows)
    # a headline glued to its standfirst ("Headline. Standfirst.") is split between the two fields
    rebuilt = f"{record['title']}. {record['description']}" if record["description"] else record["title"]
    assert fold(rebuilt).rstrip(".") == fold(headline).rstrip(".")
    assert record["title"] and not record["title"].endswith(".")
    assert record["source"] == str(SAMPLES / "text" / name)
    bylines = {match_form(r["text"]) for r in rows if r["label"] == "byline"}
    assert bylines <= set(record["authors"])
    if not bylines:
        assert record["authors"] == []
    assert record["language"] == "fr"


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_removals_counted_under_their_category(cleaner: Cleaner, name: str) -> None:
    record = _clean(cleaner, name)
    labels = {CATEGORY_OF_LABEL[r["label"]] for r in LABELS[name] if r["label"] in CATEGORY_OF_LABEL}
    if any("clean" in r for r in LABELS[name]):
        labels.add("kicker")  # the glued prefixes (section kicker, date residue)
    assert labels <= set(record["removed"])
    assert set(record["removed"]) <= labels, "a category fired that no line of the sample is labelled with"


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_each_line_removed_by_a_rule_of_its_label(debug_cleaner: Cleaner, name: str) -> None:
    record = _clean(debug_cleaner, name)
    removed_by: dict[str, set[str]] = defaultdict(set)  # folded line -> categories of the rules
    for rule_name, texts in record["removed_text"].items():
        for text in texts:
            removed_by[fold(text)].add(RULE_CATEGORY[rule_name])
    for row in LABELS[name]:
        if row["label"] not in CATEGORY_OF_LABEL:
            continue
        line = fold(match_form(row["text"]))
        if "clean" in row:  # the prefix went as a kicker; the rest of the line is judged as a whole
            line = fold(match_form(row["clean"]))
        categories = set(removed_by.get(line, set()))
        for removed, cats in removed_by.items():
            # a glued prefix (kicker) went first, the rest of the line after it
            prefix = line[: len(line) - len(removed)].strip()
            if prefix and line.endswith(removed) and "kicker" in removed_by.get(prefix, set()):
                categories |= cats
        assert CATEGORY_OF_LABEL[row["label"]] in categories, (row["line"], row["label"], line)


def test_source_path_is_kept_verbatim(cleaner: Cleaner, tmp_path: Path) -> None:
    name = SAMPLE_NAMES[0]
    copy = tmp_path / "some dir" / "é.txt"
    copy.parent.mkdir()
    copy.write_bytes((SAMPLES / "text" / name).read_bytes())
    record = cleaner.clean_text(copy.read_text(encoding="utf-8"), source=str(copy))
    assert isinstance(record, dict)
    assert record["source"] == str(copy)
