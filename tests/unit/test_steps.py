"""The cleaner as counted steps, and its options as flags and settings.

* Over the fixture pages (HTML and text) and the hostile inputs, every step's counters add up
  (``in = forwarded + Σ dropped/*``), a step's ``in`` is what the step before it forwarded, and
  the counted drops and records are the results the cleaner returned.
* A page that times out is dropped by the step it was in; the DOM rules' safety valve is counted.
* Every :class:`CleanOptions` field is a ``newsclean clean`` flag and a ``NEWSCLEAN_<FIELD>``
  crawl setting: checked field by field from ``dataclasses.fields``, so a new field cannot miss one.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter
from typing import Any

import pytest
from conftest import PAGES
from scrapy.settings import Settings
from support.scoring import load_cases
from test_hostile import IN_PROCESS, fixture_page

import crawler.settings
from pipelines.cli.main import _core_options, build_parser
from pipelines.core.cleaner import DROP_REASONS, Cleaner, CleanOptions, Drop, Page
from pipelines.core.extract import MODES
from pipelines.core.steps import Step
from pipelines.item_pipelines import clean_options

FIELDS = dataclasses.fields(CleanOptions)
CASES = load_cases(PAGES)


def _dropped(counters: dict[str, int], step: Step) -> dict[str, int]:
    prefix = f"{step.name}/dropped/"
    return {key.removeprefix(prefix): n for key, n in counters.items() if key.startswith(prefix)}


def _check_sums(cleaner: Cleaner) -> None:
    counters = cleaner.counters
    for step in (*cleaner.page_steps, *cleaner.text_steps):
        dropped = _dropped(counters, step)
        assert set(dropped) <= set(DROP_REASONS), step.name
        assert counters[f"{step.name}/in"] == counters[f"{step.name}/forwarded"] + sum(dropped.values()), step.name
    # the two lists meet at the step after ``extract`` (pages) and ``text`` (re-cleaned text)
    meet = cleaner.text_steps[1]
    for steps in (cleaner.page_steps, cleaner.text_steps):
        for before, after in itertools.pairwise(steps):
            if after is not meet:
                assert counters[f"{after.name}/in"] == counters[f"{before.name}/forwarded"], after.name
    assert cleaner.page_steps[cleaner.page_steps.index(meet) - 1].name == "extract"
    assert counters[f"{meet.name}/in"] == counters["extract/forwarded"] + counters["text/forwarded"]


def test_step_counters_add_up_over_the_fixtures() -> None:
    cleaner = Cleaner()
    results = []
    for case in CASES:
        if case.is_text:
            results.append(cleaner.clean_text(case.read_input().decode("utf-8"), source=str(case.input_path)))
        else:
            results.append(cleaner.clean(case.page()))
    pages = sum(not case.is_text for case in CASES)
    for folder in IN_PROCESS:
        results.append(cleaner.clean(fixture_page(folder)))
    # control characters only: text once decoded, nothing once they are removed
    results.append(cleaner.clean(Page(b"\x01\x02\x03 \x04", url="https://example.org/controls")))
    pages += len(IN_PROCESS) + 1
    _check_sums(cleaner)
    counters = cleaner.counters
    drops = Counter(r.reason for r in results if isinstance(r, Drop))
    counted: Counter[str] = Counter()
    for step in (*cleaner.page_steps, cleaner.text_steps[0]):
        counted.update(_dropped(counters, step))
    assert counted == drops
    assert counters["record/forwarded"] == sum(not isinstance(r, Drop) for r in results) > 0
    assert counters["unpack/in"] == pages
    assert counters["text/in"] == sum(case.is_text for case in CASES) > 0
    # the fixtures drop pages at several steps, not only at the last ones
    assert {step.name for step in cleaner.page_steps if _dropped(counters, step)} >= {"unpack", "parse", "extract"}


def test_a_timeout_is_dropped_by_the_step_it_was_in() -> None:
    cleaner = Cleaner(CleanOptions(time_limit=0.002))
    body = ("<html><body><article>" + "<p>Un paragraphe de texte assez long pour du travail.</p>" * 20_000
            + "</article></body></html>").encode()
    result = cleaner.clean(Page(body, url="https://example.org/slow"))
    assert isinstance(result, Drop) and result.reason == "timeout"
    _check_sums(cleaner)
    timed_out = [step.name for step in cleaner.page_steps if _dropped(cleaner.counters, step)]
    assert len(timed_out) == 1
    assert cleaner.counters[f"{timed_out[0]}/dropped/timeout"] == 1
    assert cleaner.counters["record/forwarded"] == 0


def test_the_dom_rules_safety_valve_is_counted() -> None:
    fresh = Cleaner()
    lead = "A long paragraph of the article, kept because the consent rule would take it with the banner. "
    html = (f'<html><body><div id="onetrust-banner"><h1>The headline</h1><p>{lead * 5}</p></div>'
            f'<div class="cookie-banner">Accept all cookies</div></body></html>')
    record = fresh.clean(Page(html.encode(), url="https://example.org/valve"))
    assert not isinstance(record, Drop)
    assert "consent rule" in record["text"] and "Accept all cookies" not in record["text"]
    assert fresh.counters["dom_rules/reverted"] == 1
    assert record["removed"] == {"cookie_banner": 1}
    _check_sums(fresh)


def _other_value(field: dataclasses.Field[Any]) -> Any:
    """A valid value of the field that is not its default."""
    default = field.default
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 7
    if isinstance(default, float):
        return default + 1.5
    if field.name == "extraction_mode":
        return next(mode for mode in MODES if mode != default)
    raise AssertionError(f"CleanOptions.{field.name}: no test value for {type(default).__name__}")


@pytest.mark.parametrize("field", FIELDS, ids=[f.name for f in FIELDS])
def test_every_option_is_a_clean_flag(field: dataclasses.Field[Any]) -> None:
    value = _other_value(field)
    flag = "--" + field.name.replace("_", "-")
    argv = ["clean", "page.html", "-o", "out.jsonl", flag]
    if not isinstance(value, bool):
        argv.append(str(value))
    args = build_parser().parse_args(argv)
    options = _core_options(args, args.debug)
    assert getattr(options, field.name) == value
    others = {f.name for f in FIELDS} - {field.name}
    assert all(getattr(options, name) == getattr(CleanOptions(), name) for name in others)


@pytest.mark.parametrize("field", FIELDS, ids=[f.name for f in FIELDS])
def test_every_option_is_a_crawl_setting(field: dataclasses.Field[Any]) -> None:
    name = f"NEWSCLEAN_{field.name.upper()}"
    assert getattr(crawler.settings, name) == field.default, f"{name} missing from crawler/settings.py"
    settings = Settings()
    settings.setmodule(crawler.settings)
    assert clean_options(settings) == CleanOptions()
    value = _other_value(field)
    settings.set(name, str(value) if not isinstance(value, bool) else value)
    assert getattr(clean_options(settings), field.name) == value
