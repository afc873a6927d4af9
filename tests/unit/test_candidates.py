"""The candidate selector (pipelines/core/candidates.py): each decision fires on a fixture page
made for it, and does nothing on its negative twin."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest
from lxml.html import fromstring

from pipelines.core import Cleaner, CleanOptions, Drop, Page
from pipelines.core.candidates import (
    SELECTOR_FILE,
    Candidate,
    Candidates,
    SelectorParams,
    agreement,
    article_body,
    block_lines,
    select,
    shipped_params,
    trigram_set,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "selector"
CLEANER = Cleaner(CleanOptions(debug=True))
SINGLE = Cleaner(CleanOptions(debug=True, single_candidate=True))
PARAGRAPHS = ("The city council voted", "Under the plan", "The deputy mayor", "Opposition members",
              "Residents' associations", "The first of the new lines")
TEASERS = ("the ferry company", "car park near the station", "regional airport")
RELATED = ("Bus drivers in the northern depot", "Why the regional authority", "Ten years of night buses",
           "The mayor announces a review")


def _clean(cleaner: Cleaner, name: str) -> dict:
    before = dict(cleaner.counters)
    page = Page((FIXTURES / name).read_bytes(), url=f"https://example.org/{name}")
    record = cleaner.clean(page)
    assert not isinstance(record, Drop), record
    delta = {k: v - before.get(k, 0) for k, v in cleaner.counters.items() if v != before.get(k, 0)}
    return {"record": record, "counters": delta}


# -- end to end, on fixture pages ------------------------------------------------------------------

def test_list_not_in_second_opinion_removes_a_read_also_list() -> None:
    out = _clean(CLEANER, "read_also_list.html")
    text = out["record"]["text"]
    assert all(p in text for p in PARAGRAPHS)
    assert not any(r in text for r in RELATED)
    assert out["record"]["removed"]["related"] >= len(RELATED)
    assert len(out["record"]["removed_text"]["list_not_in_second_opinion"]) == len(RELATED)
    assert out["counters"]["extract/selector/list_not_in_second_opinion"] == 1
    # without the selector, trafilatura keeps the list: the removal is the selector's
    single = _clean(SINGLE, "read_also_list.html")["record"]["text"]
    assert all(r in single for r in RELATED)


def test_a_list_of_prose_items_readability_keeps_stays() -> None:
    out = _clean(CLEANER, "steps_list.html")
    text = out["record"]["text"]
    assert text.count("\n- ") == 4 and "owl sign" in text
    assert "extract/selector/list_not_in_second_opinion" not in out["counters"]
    assert out["counters"]["extract/asked/readability"] == 1  # asked, and it agreed
    assert text == _clean(SINGLE, "steps_list.html")["record"]["text"]


def test_article_body_referee_takes_the_candidate_that_agrees_with_the_publisher() -> None:
    out = _clean(CLEANER, "article_body_referee.html")
    text = out["record"]["text"]
    assert all(p in text for p in PARAGRAPHS)
    assert not any(t in text for t in TEASERS)
    assert out["counters"]["extract/selector/article_body_referee"] == 1
    single = _clean(SINGLE, "article_body_referee.html")["record"]["text"]
    assert any(t in single for t in TEASERS)


def test_no_article_body_no_referee() -> None:
    out = _clean(CLEANER, "article_body_referee_absent.html")
    assert any(t in out["record"]["text"] for t in TEASERS)  # nothing to referee with: trafilatura's text
    assert not any(k.startswith("extract/selector/") for k in out["counters"])


def test_an_article_body_that_agrees_asks_no_other_candidate() -> None:
    out = _clean(CLEANER, "article_body_agrees.html")
    assert not any(k.startswith(("extract/asked/", "extract/selector/")) for k in out["counters"])
    assert out["record"]["text"] == _clean(SINGLE, "article_body_agrees.html")["record"]["text"]


# -- the selector alone ----------------------------------------------------------------------------

def _lines(n: int, word: str = "word") -> list[str]:
    return [" ".join(f"{word}{i}x{j}" for j in range(12)) + "." for i in range(n)]


def _candidates(precision: list[str], balanced: list[str] | None = None, readability: list[str] | None = None,
                body: str = "") -> tuple[Candidates, list[str]]:
    asked: list[str] = []

    def make(name: str, lines: list[str] | None):  # type: ignore[no-untyped-def]
        def build() -> Candidate:
            asked.append(name)
            return Candidate(name, list(lines or []))
        return build

    return Candidates(Candidate("precision", precision), make("balanced", balanced),
                      make("readability", readability), body), asked


def test_short_fallback_needs_both_a_short_text_and_a_much_longer_balanced_one() -> None:
    params = SelectorParams(short_words=60, fallback_ratio=2.0)
    short, long = _lines(2), _lines(12)
    chosen = select(_candidates(short, long)[0], params)
    assert chosen.chosen.name == "balanced" and chosen.decisions == ["short_fallback"]
    not_longer = select(_candidates(short, _lines(3))[0], params)
    assert not_longer.chosen.name == "precision"
    long_enough, asked = _candidates(_lines(6), _lines(40))
    assert select(long_enough, params).chosen.name == "precision" and asked == []


def test_referee_margin_is_a_margin() -> None:
    truth = _lines(10)
    precision = truth[:8] + _lines(2, "noise")
    body = "\n".join(truth)
    params = SelectorParams(referee_min_words=10, referee_margin=0.05, list_min_words=10_000)
    better = select(_candidates(precision, truth, body=body)[0], params)
    assert better.chosen.name == "balanced" and better.decisions == ["article_body_referee"]
    # agreement 0.9 against 0.947: better, but by less than the margin
    close = truth[:9] + precision[8:9]
    assert select(_candidates(close, truth[:9], body=body)[0], params).chosen.name == "precision"
    short_body = SelectorParams(referee_min_words=10_000, referee_margin=0.05)
    candidates, asked = _candidates(precision, truth, body=body)
    assert select(candidates, short_body).chosen.name == "precision"
    assert "readability" not in asked


def test_pruning_keeps_code_lines_in_place() -> None:
    lines = ["An opening paragraph of the story with enough words in it.", "- one two three four five six seven",
             "    indented code", "A closing paragraph of the story with enough words too."]
    chosen = Candidate("precision", lines, {2})
    opinion = [lines[0], lines[3], *_lines(6)]
    params = SelectorParams(list_min_words=6, opinion_min_words=10)
    selection = select(Candidates(chosen, lambda: Candidate("balanced", []),
                                  lambda: Candidate("readability", opinion), ""), params)
    assert selection.pruned == [lines[1]]
    assert selection.decisions == ["list_not_in_second_opinion"]
    assert selection.chosen.lines == [lines[0], lines[2], lines[3]] and selection.chosen.verbatim == {1}


def test_a_thin_second_opinion_prunes_nothing() -> None:
    lines = ["- one two three four five six seven", "A paragraph."]
    params = SelectorParams(list_min_words=6, opinion_min_words=50)
    selection = select(Candidates(Candidate("precision", lines), lambda: Candidate("balanced", []),
                                  lambda: Candidate("readability", ["A paragraph."]), ""), params)
    assert selection.pruned == [] and selection.chosen.lines == lines and selection.decisions == []


def test_article_body_reads_graphs_and_broken_json() -> None:
    page = fromstring(
        '<html><head><script type="application/ld+json">{"@graph": [{"@type": "WebPage"}, '
        '{"@type": "NewsArticle", "articleBody": "The long body of the story."}]}</script>'
        '<script type="application/ld+json">{"articleBody": "A short \\"quoted\\" body", }</script>'
        '<script type="application/ld+json">{"headline": "no body here"}</script></head><body></body></html>')
    assert article_body(page) == "The long body of the story."
    broken = fromstring('<html><head><script type="application/ld+json">{"articleBody": "Only this \\"one\\"",'
                        '</script></head><body></body></html>')
    assert article_body(broken) == 'Only this "one"'
    assert article_body(fromstring("<html><body><p>x</p></body></html>")) == ""


def test_block_lines_marks_list_items() -> None:
    root = fromstring("<div><p>First <b>para</b>graph.</p><ul><li>An item</li><li>Another</li></ul>tail</div>")
    assert block_lines(root) == ["First paragraph.", "- An item", "- Another", "tail"]


def test_agreement_is_symmetric_and_bounded() -> None:
    a, b = trigram_set(_lines(4)), trigram_set(_lines(2))
    assert agreement(a, a) == 1.0 and agreement(a, set()) == 0.0
    assert agreement(a, b) == agreement(b, a) and 0 < agreement(a, b) < 1


# -- the data file ---------------------------------------------------------------------------------

def test_shipped_parameters_come_with_their_provenance() -> None:
    text = SELECTOR_FILE.read_text("utf-8")
    assert "Written by: python bench/selector.py" in text and "Cross-set" in text
    params = tomllib.loads(text)["params"]
    assert set(params) == {f.name for f in dataclasses.fields(SelectorParams)}
    assert shipped_params() == SelectorParams(**params)


def test_an_unknown_parameter_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "selector.toml"
    path.write_text("[params]\nshort_words = 60\nno_such_thing = 1\n")
    with pytest.raises(ValueError, match="no_such_thing"):
        SelectorParams.load(path)
