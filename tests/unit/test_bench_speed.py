"""bench/speed.py's pure helpers: ratios run by run, the order of the runs, the texts it scores and
the F1 wiring (the benchmark itself is timed and asserts nothing)."""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType

import pytest
import trafilatura
from support.scoring import benchmark_prf

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "fixtures" / "pages" / "english").glob("*/input.html"))[:4]


def load_speed() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_speed", ROOT / "bench" / "speed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


speed = load_speed()


def test_median_ratio_is_taken_run_by_run() -> None:
    # ratios 2, 4, 3: median 3; the ratio of the medians would be 4 / 1 = 4
    assert speed.median_ratio([2.0, 4.0, 9.0], [1.0, 1.0, 3.0]) == 3.0
    assert speed.median_ratio([1.0, 3.0], [1.0, 1.0]) == 2.0
    with pytest.raises(ValueError):
        speed.median_ratio([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        speed.median_ratio([], [])


def test_run_order_puts_each_first_in_turn() -> None:
    names = ("default", "fast", "newsclean")
    orders = [speed.run_order(names, run) for run in range(3)]
    assert [order[0] for order in orders] == list(names)
    assert all(sorted(order) == sorted(names) for order in orders)
    assert speed.run_order(names, 3) == orders[0]
    assert speed.run_order((1, 2), 1) == [2, 1]


def test_body_text_drops_the_metadata_header() -> None:
    assert speed.body_text(None) == ""
    assert speed.body_text("") == ""
    assert speed.body_text("---\ntitle: A\nauthor: B\n---\n  Body line.\nSecond.\n") == "Body line.\nSecond."
    assert speed.body_text("Plain text --- with dashes\n---\nmore") == "Plain text --- with dashes\n---\nmore"
    assert speed.body_text("---\nno end of header") == "---\nno end of header"


@pytest.mark.parametrize("path", PAGES, ids=[p.parent.name for p in PAGES])
def test_body_text_is_the_text_without_metadata(path: Path) -> None:
    """What is scored for ``with_metadata=True`` is trafilatura's text without metadata."""
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    html, url = path.read_bytes(), "https://example.org/news/article"
    for fast in (False, True):
        with_header = trafilatura.extract(html, url=url, with_metadata=True, include_comments=False, fast=fast)
        plain = trafilatura.extract(html, url=url, include_comments=False, fast=fast)
        assert with_header and with_header.startswith("---\n")
        assert speed.body_text(with_header) == (plain or "").strip()


def test_f1_scores_per_system() -> None:
    truths = ["one two three four five six seven", "alpha beta gamma delta epsilon"]
    texts = {
        "same": list(truths),
        "empty": ["", ""],
        "half": [truths[0], ""],
    }
    scores = speed.f1_scores(texts, truths)
    assert scores["same"]["f1"] == 1.0
    assert scores["empty"]["f1"] == 0.0
    assert scores["half"] == benchmark_prf(zip(texts["half"], truths, strict=True))
    assert scores["half"]["recall"] == 0.5 and scores["half"]["precision"] == 1.0
    with pytest.raises(ValueError):
        speed.f1_scores({"short": ["x"]}, truths)


def test_verdict() -> None:
    assert speed.verdict(1.5, 1.5) == "met"
    assert speed.verdict(1.49, 1.5) == "NOT met"
    assert speed.verdict(0.3, 0.3, at_most=True) == "met"
    assert speed.verdict(0.31, 0.3, at_most=True) == "NOT met"
