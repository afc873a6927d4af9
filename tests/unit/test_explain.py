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
