"""One test per fixture case under ``fixtures/pages`` (format: :mod:`support.scoring`)."""

from __future__ import annotations

import pytest
from conftest import PAGES
from support.scoring import Case, check_case, load_cases

from pipelines.core.cleaner import Cleaner, Drop

CASES = load_cases(PAGES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(cleaner: Cleaner, case: Case) -> None:
    if case.is_text:
        result = cleaner.clean_text(case.read_input().decode("utf-8"), source=str(case.input_path))
    else:
        result = cleaner.clean(case.page())
    assert check_case(case, result) == []


def test_fixture_tree_is_complete() -> None:
    groups = {c.group for c in CASES}
    assert {"samples_html", "english", "negative"} <= groups
    for case in CASES:
        assert case.meta.get("why"), f"{case.id}: meta.json says why the case exists"
        assert case.meta.get("url") and case.meta.get("fetched_at"), case.id
        keys = set(case.expected)
        known = {"with", "without", "lines", "title", "language", "authors", "fires", "not_fires", "drop"}
        assert keys <= known, case.id
        assert keys & {"with", "lines", "drop"}, f"{case.id}: expects nothing of the text"


def test_pages_are_not_dropped_as_binary_or_oversized(cleaner: Cleaner) -> None:
    for case in CASES:
        if case.is_text or "drop" in case.expected:
            continue
        result = cleaner.clean(case.page())
        assert not isinstance(result, Drop), (case.id, result)


def test_debug_mode_changes_nothing_but_the_removed_text(cleaner: Cleaner, debug_cleaner: Cleaner) -> None:
    for case in CASES:
        if case.is_text:
            text = case.read_input().decode("utf-8")
            plain, debug = (c.clean_text(text, source=str(case.input_path)) for c in (cleaner, debug_cleaner))
        else:
            plain, debug = cleaner.clean(case.page()), debug_cleaner.clean(case.page())
        assert isinstance(plain, dict) and isinstance(debug, dict), case.id
        removed_text = debug.pop("removed_text")  # type: ignore[misc]
        assert debug == plain, case.id
        assert sum(len(texts) for texts in removed_text.values()) >= 1, case.id
