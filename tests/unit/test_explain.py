"""``newsclean explain``: every removal listed with its rule, and the annotated page."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from lxml.html import document_fromstring

from pipelines.cli.explain import explain_page, shorten
from pipelines.core.cleaner import CleanOptions

OFFLINE = Path(__file__).resolve().parents[2] / "fixtures" / "offline"
FERRY = OFFLINE / "pages" / "ferry.html"


def test_explain_lists_each_rule_category_note_and_text() -> None:
    out = io.StringIO()
    explanation = explain_page(str(FERRY), out=out, options=CleanOptions(debug=True))
    text = out.getvalue()
    assert "<https://gazette.example/city/ferry-returns>" in text  # url from the sidecar
    assert "comment_form · wp_respond (element rule, 1 removed)" in text
    assert "  - Leave a Reply" in text
    assert "ad_label · ad_slot_class" in text and "  - Advertisement" in text
    assert "breadcrumb · " in text
    assert "title_repeat · title_repeat (line rule, 1 removed)" in text
    assert "why: WordPress #respond" in text
    rules = {r.rule: r for r in explanation.removals}
    assert rules["wp_respond"].category == "comment_form" and rules["wp_respond"].level == "element"
    assert explanation.removed == {"ad_label": 1, "breadcrumb": 1, "comment_form": 1, "title_repeat": 1}
    # the article itself is not listed as removed
    assert "dry dock" not in text


def test_explain_html_marks_removed_blocks(tmp_path: Path) -> None:
    html = tmp_path / "annotated.html"
    explain_page(str(FERRY), html_out=str(html), out=io.StringIO(), options=CleanOptions(debug=True))
    tree = document_fromstring(html.read_bytes())
    marked = {el.get("data-newsclean-rule"): el for el in tree.xpath("//*[@data-newsclean-rule]")}
    assert set(marked) == {"wp_respond", "ad_slot_class", "breadcrumb_class", "title_repeat"}
    assert marked["wp_respond"].get("id") == "respond"
    assert marked["wp_respond"].get("data-newsclean-category") == "comment_form"
    assert marked["title_repeat"].tag == "h1" and marked["title_repeat"].get("data-newsclean-level") == "line"
    # removed blocks are kept (highlighted), the article too, and the style and legend are there
    assert "Leave a Reply" in tree.text_content() and "dry dock" in tree.text_content()
    assert "data-newsclean-category" in tree.findtext(".//style")
    assert tree.get_element_by_id("newsclean-legend") is not None


def test_explain_a_dropped_page_says_why() -> None:
    out = io.StringIO()
    explanation = explain_page(str(OFFLINE / "broken" / "image.html"), out=out, options=CleanOptions(debug=True))
    assert explanation.drop is not None and explanation.drop.reason == "not_html"
    assert "dropped: not_html" in out.getvalue()


def test_explain_command_with_url_option(tmp_path: Path) -> None:
    html = tmp_path / "page.html"
    result = subprocess.run([sys.executable, "-m", "pipelines.cli", "explain", str(OFFLINE / "pages" / "library.htm"),
                             "--url", "https://gazette.example/x", "--html", str(html), "--width", "20"],
                            capture_output=True, text=True, check=True)
    assert "<https://gazette.example/x>" in result.stdout
    assert "ad_label · ad_slot_class" in result.stdout
    assert f"annotated page: {html}" in result.stdout
    assert html.exists()
    missing = subprocess.run([sys.executable, "-m", "pipelines.cli", "explain", str(tmp_path / "nope.html")],
                             capture_output=True, text=True)
    assert missing.returncode == 3 and "no such file" in missing.stderr


def test_shorten() -> None:
    assert shorten("a  b\nc", 10) == "a b c"
    assert shorten("x" * 30, 10) == "x" * 9 + "…"


def test_explain_a_warc_record_by_its_source(tmp_path: Path) -> None:
    from support.offline import WARC_PAGES, write_warc

    warc = tmp_path / "crawl.warc.gz"
    offsets = write_warc(warc, gz=True)
    out = io.StringIO()
    explanation = explain_page(f"warc:{warc}#{offsets[0]}", out=out, options=CleanOptions(debug=True))
    assert explanation.url == WARC_PAGES[0][0]
    assert explanation.source == f"warc:{warc}#{offsets[0]}"
    assert "comment_form · wp_respond" in out.getvalue()
    html = tmp_path / "record.html"
    explain_page(f"warc:{warc}#{offsets[1]}", html_out=str(html), out=io.StringIO(),
                 options=CleanOptions(debug=True))
    assert "library" in html.read_text("utf-8").lower()
    # a request record is no page
    bad = subprocess.run([sys.executable, "-m", "pipelines.cli", "explain", f"warc:{warc}#0"],
                         capture_output=True, text=True)
    assert bad.returncode == 4 and "is not an HTML page" in bad.stderr


IRIS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus" / "fr" / \
    "24-iris2-l-europe-lance-sa-constellation-de-satelli" / "input.html"


def norm(text: str) -> str:
    return " ".join(text.split())


def test_explain_html_marks_what_the_extractor_kept_and_dropped(tmp_path: Path) -> None:
    html = tmp_path / "iris.html"
    explanation = explain_page(str(IRIS), html_out=str(html), out=io.StringIO(), options=CleanOptions(debug=True))
    tree = document_fromstring(html.read_bytes())
    record = norm(explanation.text) + "\n" + norm(explanation.title or "")

    def verdict(text: str) -> str | None:
        [element] = [el for el in tree.xpath("//*[@data-newsclean-extractor]") if norm(el.text_content()) == text]
        return element.get("data-newsclean-extractor")

    # what trafilatura left out, which no rule of ours names, is marked as such
    for boilerplate in ("Temps de lecture : 6 min", "Voir les 10 commentaires", "Actualités", "Mentions légales",
                        "Les plus lus"):
        assert boilerplate not in record
        assert verdict(boilerplate) == "dropped"
    assert verdict("Ariane 6 en chiffres") == "kept"
    # every mark agrees with the record: a kept block's text is in it, a dropped block's is not
    kept = tree.xpath("//*[@data-newsclean-extractor='kept']")
    dropped = tree.xpath("//*[@data-newsclean-extractor='dropped']")
    assert len(kept) >= 10 and len(dropped) >= 10
    assert all(norm(el.text_content()) in record for el in kept if not el.xpath(".//*[@data-newsclean-rule]"))
    assert not any(norm(el.text_content()) in record for el in dropped)
    assert all("dropped by the extractor" in el.get("title") for el in dropped)
    # our rules' removals carry their rule, category and note as a title, and are in the legend
    legend = tree.get_element_by_id("newsclean-legend")
    listed = {li.get("data-rule"): li for li in legend.xpath(".//li[@data-rule]")}
    for removal in explanation.removals:
        assert removal.rule in listed
        assert f"{removal.category} · {removal.rule}" in listed[removal.rule].text_content()
        assert removal.note in listed[removal.rule].text_content()
    for element in tree.xpath("//*[@data-newsclean-rule]"):
        rule, category = element.get("data-newsclean-rule"), element.get("data-newsclean-category")
        assert element.get("title").startswith(f"{category} · {rule} (")
        assert rule in listed
    keys = {li.get("data-key"): li.text_content() for li in legend.xpath(".//li[@data-key]")}
    assert set(keys) == {"element", "line", "dropped", "kept"}
    assert f"({len(dropped)} blocks)" in keys["dropped"]


def test_loose_text_and_inline_elements_are_units_of_their_own() -> None:
    from pipelines.cli.annotate import EXTRACTOR_ATTR, mark_extraction

    body = document_fromstring(
        "<html><body><div><p>The ferry returns to the harbour this spring after repairs.</p>Menu text"
        "<a href='#'>Voir les 4 commentaires</a><p>Another <b>kept</b> sentence of the article.</p>"
        "<div class='ad' data-newsclean-rule='ad_slot_class'>Publicité</div> tail words</div></body></html>"
    ).find("body")
    kept, dropped = mark_extraction(body, ["The ferry returns to the harbour this spring after repairs.\n"
                                           "Another kept sentence of the article."])
    marks = {norm(el.text_content()): el.get(EXTRACTOR_ATTR) for el in body.iter() if el.get(EXTRACTOR_ATTR)}
    assert marks == {
        "The ferry returns to the harbour this spring after repairs.": "kept",
        "Menu text": "dropped",  # loose text, wrapped in a span to carry the mark
        "Voir les 4 commentaires": "dropped",
        "Another kept sentence of the article.": "kept",
        "tail words": "dropped",
    }
    assert (kept, dropped) == (2, 3)
    assert body.xpath("//*[@data-newsclean-rule]")[0].get(EXTRACTOR_ATTR) is None  # a rule's mark stays alone


def test_a_page_too_deep_or_unreadable_is_not_rendered_back(tmp_path: Path) -> None:
    deep = tmp_path / "deep.html"
    deep.write_text("<html><body>" + "<div>" * 100_000 + "x", encoding="utf-8")
    for page in (deep, OFFLINE / "broken" / "image.html"):
        html = tmp_path / "annotated.html"
        out = io.StringIO()
        explanation = explain_page(str(page), html_out=str(html), out=out, options=CleanOptions(debug=True))
        assert explanation.drop is not None
        assert f"no annotated page: a page dropped as {explanation.drop.reason}" in out.getvalue()
        assert not html.exists()
