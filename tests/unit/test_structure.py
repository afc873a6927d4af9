"""Lists, tables and code blocks survive as readable text; the extraction step's repairs.

How structure appears in a record's ``text`` is documented in docs/quality.md.
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml.html import document_fromstring

from pipelines.core.cleaner import Cleaner, CleanOptions, Drop, Page
from pipelines.core.extract import merge_split_bodies, verbatim_lines
from pipelines.core.standfirst import description_is_standfirst

LEAD = (
    "We measured three popular frameworks on the same eight-core machine, with the same database and the "
    "same payloads, to see how they compare under load."
)
SETUP = "The setup was deliberately simple, and every step below can be reproduced on a laptop in an afternoon."
CLOSE = "We will repeat the measurement next year with the new releases of each framework and report the differences."

CODE = """import asyncio

async def main(url: str) -> None:
    for _ in range(10):
        await fetch(url)  # keep    the spacing

x = 1
}"""

PAGE = f"""<html lang="en"><head><title>Benchmarking Python web frameworks</title></head><body>
<header><nav><a href="/">Home</a> <a href="/tech">Tech</a></nav></header>
<article><h1>Benchmarking Python web frameworks</h1>
<div class="article-body">
<p>{LEAD}</p>
<p>{SETUP}</p>
<ul>
<li>Install the framework in a fresh virtual environment.</li>
<li>Start the server with four workers.</li>
<li>Run the load generator for sixty seconds.</li>
</ul>
<p>The results, in requests per second, are in the table below; higher is better, and lower latency is better.</p>
<table>
<thead><tr><th>Framework</th><th>Requests/s</th><th>p99 latency</th></tr></thead>
<tbody>
<tr><td>Flask</td><td>1,204</td><td>38 ms</td></tr>
<tr><td>FastAPI</td><td>3,517</td><td>12 ms</td></tr>
<tr><td>Django</td><td>986</td><td>45 ms</td></tr>
</tbody></table>
<p>The configuration of the load generator is short enough (see <code>bench.toml</code>) to quote in full here:</p>
<pre><code>{CODE}
</code></pre>
<p>The steps to reproduce the whole measurement, in the order we ran them:</p>
<ol><li>Clone the repository.</li><li>Run make bench.</li></ol>
<p>{CLOSE}</p>
</div></article>
<footer>Example Media, all rights reserved</footer>
</body></html>"""


@pytest.fixture(scope="module")
def record() -> Any:
    result = Cleaner().clean(Page(PAGE.encode(), url="https://example.com/tech/frameworks"))
    assert not isinstance(result, Drop), result
    return result


@pytest.fixture(scope="module")
def lines(record: Any) -> list[str]:
    return list(record["text"].split("\n"))


def test_paragraphs_around_the_structures_stay(lines: list[str]) -> None:
    assert lines[0] == LEAD
    assert lines[-1] == CLOSE


def test_list_items_are_lines_of_their_own(lines: list[str]) -> None:
    for item in (
        "Install the framework in a fresh virtual environment.",
        "Start the server with four workers.",
        "Run the load generator for sixty seconds.",
        "Clone the repository.",
        "Run make bench.",
    ):
        assert f"- {item}" in lines


def test_list_items_keep_their_order(lines: list[str]) -> None:
    first = lines.index("- Install the framework in a fresh virtual environment.")
    assert lines[first + 1] == "- Start the server with four workers."
    assert lines[first + 2] == "- Run the load generator for sixty seconds."


def test_table_rows_are_lines_with_cells_in_order(lines: list[str]) -> None:
    header = lines.index("| Framework | Requests/s | p99 latency |")
    assert lines[header + 1] == "|---|---|---|"
    assert lines[header + 2 : header + 5] == [
        "| Flask | 1,204 | 38 ms |",
        "| FastAPI | 3,517 | 12 ms |",
        "| Django | 986 | 45 ms |",
    ]


def test_code_block_is_verbatim(record: Any) -> None:
    # indentation, inner spacing, blank lines and a lone brace all kept
    assert CODE in record["text"]


def test_inline_code_stays_in_its_sentence(lines: list[str]) -> None:
    assert any("short enough (see bench.toml) to quote" in line for line in lines)


def test_no_line_rule_fired_on_the_structures(record: Any) -> None:
    assert "stray" not in record["removed"]
    assert "share_count" not in record["removed"]


# -- verbatim_lines ------------------------------------------------------------------------------
def test_verbatim_lines_restores_blank_lines_and_marks_the_block() -> None:
    text = ["Intro line.", "def f():", "    return 1", "f()", "Outro line."]
    out, verbatim = verbatim_lines(text, ["def f():\n    return 1\n\nf()\n"])
    assert out == ["Intro line.", "def f():", "    return 1", "", "f()", "Outro line."]
    assert verbatim == {1, 2, 3, 4}


def test_verbatim_lines_ignores_a_block_not_in_the_text() -> None:
    out, verbatim = verbatim_lines(["a", "b"], ["print('x')"])
    assert out == ["a", "b"]
    assert verbatim == set()


# -- split bodies --------------------------------------------------------------------------------
def _chunk(n: int) -> str:
    sentence = f"Paragraph {n} of the article carries enough words to count as article text in its chunk. "
    return f'<div class="article-body chunk"><p>{sentence * 3}</p></div>'


def test_split_article_body_is_merged_in_order() -> None:
    main = f"{_chunk(1)}<div class='ad'>Ad</div>{_chunk(2)}<aside>x</aside>{_chunk(3)}"
    html = f"<html><body><main>{main}</main></body></html>"
    tree = document_fromstring(html)
    assert merge_split_bodies(tree) == 2
    bodies = tree.xpath("//div[@class='article-body chunk']")
    assert len(bodies) == 1
    texts = [p.text_content() for p in bodies[0].iter("p")]
    assert [t.split()[1] for t in texts] == ["1", "2", "3"]


def test_single_body_and_short_teasers_are_not_merged() -> None:
    teaser = '<div class="article-body chunk"><p>Short teaser.</p></div>'
    tree = document_fromstring(f"<html><body>{_chunk(1)}{teaser}{teaser}</body></html>")
    assert merge_split_bodies(tree) == 0
    assert len(tree.xpath("//div[@class='article-body chunk']")) == 3


def test_next_story_below_the_article_is_not_merged() -> None:
    story = "<article><h1>{}</h1>{}</article>"
    html = f"<html><body>{story.format('First story', _chunk(1))}{story.format('Next story', _chunk(2))}</body></html>"
    tree = document_fromstring(html)
    assert merge_split_bodies(tree) == 0
    assert len(tree.xpath("//div[@class='article-body chunk']")) == 2


def test_chunks_under_two_headlines_are_not_merged() -> None:
    html = f"<html><body><div><h1>One</h1>{_chunk(1)}</div><div><h1>Two</h1>{_chunk(2)}</div></body></html>"
    assert merge_split_bodies(document_fromstring(html)) == 0


# -- standfirst or lead --------------------------------------------------------------------------
DESCRIPTION = "The city council voted on Tuesday to close the old bridge to cars from next spring."


@pytest.mark.parametrize(
    ("markup", "standfirst"),
    [
        (f'<div class="body"><p>{DESCRIPTION}</p><p>More text.</p></div>', False),
        (f'<p class="article__chapo">{DESCRIPTION}</p><div class="body"><p>More text.</p></div>', True),
        (f'<header><p>{DESCRIPTION}</p></header><div class="body"><p>More text.</p></div>', True),
        (f'<h2 class="x">{DESCRIPTION}</h2><div class="body"><p>More text.</p></div>', True),
        ('<div class="body"><p>Nothing like the description here.</p></div>', False),
    ],
)
def test_description_is_standfirst(markup: str, standfirst: bool) -> None:
    tree = document_fromstring(f"<html><body><article>{markup}</article></body></html>")
    assert description_is_standfirst(tree, DESCRIPTION) is standfirst


def test_lead_paragraph_equal_to_the_description_is_kept() -> None:
    body = " ".join(f"Sentence {i} of the report on the bridge and its history in the city." for i in range(12))
    html = f"""<html lang="en"><head><title>Old bridge to close to cars</title>
    <meta name="description" content="{DESCRIPTION}"></head><body><article><h1>Old bridge to close to cars</h1>
    <div class="article-body"><p>{DESCRIPTION}</p><p>{body}</p></div></article></body></html>"""
    result = Cleaner().clean(Page(html.encode(), url="https://example.com/bridge"))
    assert not isinstance(result, Drop)
    assert result["text"].split("\n")[0] == DESCRIPTION


def test_bare_pre_block_is_verbatim_too() -> None:
    para = "<p>" + "A paragraph of the article, long enough to count as article text for the extractor. " * 3 + "</p>"
    pre = "<pre>$ make bench\n    ok   1.2s\n}</pre>"
    html = f'<html lang="en"><body><article><div class="article-body">{para}{pre}{para}</div></article></body></html>'
    result = Cleaner().clean(Page(html.encode(), url="https://example.com/pre"))
    assert not isinstance(result, Drop)
    assert "$ make bench\n    ok   1.2s\n}" in result["text"]


def test_unknown_extraction_mode_is_refused_at_build_time() -> None:
    with pytest.raises(ValueError, match="extraction_mode"):
        Cleaner(CleanOptions(extraction_mode="fast"))


STANDFIRST = "Le réseau social aurait coupé l’accès des applications tierces sans prévenir personne."
BODY = ["Depuis jeudi soir, nombre d’applications tierces ne fonctionnent plus.",
        "Un employé aurait demandé une liste des points à discuter approuvés."]


def test_a_standfirst_at_the_top_of_the_text_is_the_lead() -> None:
    from pipelines.core.line_rules import TextRuleSet

    rules = TextRuleSet()
    kept = rules.apply([STANDFIRST, *BODY, STANDFIRST], "fr", title="Le titre", description=STANDFIRST,
                       keep_text=True)
    assert kept.lines == [STANDFIRST, *BODY]  # the copy at the end goes, the lead stays
    assert kept.counts["title_repeat"] == 1
    elsewhere = rules.apply([*BODY, STANDFIRST], "fr", title="Le titre", description=STANDFIRST)
    assert elsewhere.lines == BODY  # not at the top: a copy (an intertitle repeating it)
    headline_first = rules.apply(["Le titre", STANDFIRST, *BODY], "fr", title="Le titre", description=STANDFIRST)
    assert headline_first.lines == [STANDFIRST, *BODY]  # the headline is no text line
