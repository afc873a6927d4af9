"""The quality gate: corpus and sample scores must stay at or above the floors stored in the repo.

Scores (see ``docs/corpus.md``):

* ``corpus_snippet_recall`` / ``corpus_snippet_precision``: :func:`support.scoring.snippet_scores`
  over the tech-news corpus in ``fixtures/corpus`` (share of ``with`` snippets found, share of
  ``without`` snippets absent);
* ``corpus_title_accuracy`` / ``corpus_language_accuracy``: share of corpus pages whose record has
  the expected title / language;
* ``samples_body_lines_kept`` / ``samples_boilerplate_lines_removed``: over the labelled text
  samples in ``fixtures/samples``, share of ``body`` lines kept as lines of the text, and share of
  the other lines (boilerplate, headline, bylines) absent from the lines of the text.

The floors live in ``fixtures/corpus/floors.json``. Raising one is a one-line change; lowering one
fails :func:`test_floors_only_go_up` unless ``NEWSCLEAN_ALLOW_FLOOR_DROP`` is set to the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
import trafilatura
from conftest import FIXTURES, ROOT, SAMPLES
from support.scoring import Case, check_case, fold, load_cases, snippet_scores

from pipelines.core.cleaner import Cleaner
from pipelines.core.line_rules import match_form

CORPUS = FIXTURES / "corpus"
FLOORS_PATH = CORPUS / "floors.json"
FLOOR_DROP_FLAG = "NEWSCLEAN_ALLOW_FLOOR_DROP"
#: Keys of the floors file that are not floors.
NOTE_KEYS = frozenset({"_comment"})

CASES = load_cases(CORPUS)


# -- scores ---------------------------------------------------------------------------------------
@cache
def corpus_results() -> list[tuple[Case, Any]]:
    cleaner = Cleaner()
    return [(case, cleaner.clean(case.page())) for case in CASES]


def corpus_failures(limit: int = 20) -> list[str]:
    """What the corpus pages miss (snippets, titles, languages), for the failure messages."""
    out = [f"{case.id}: {f}" for case, result in corpus_results() for f in check_case(case, result)]
    return out[:limit]


@cache
def corpus_scores() -> dict[str, float]:
    results = corpus_results()
    scores = snippet_scores(results)
    records = [(case, r) for case, r in results if isinstance(r, dict)]
    title_ok = sum(r["title"] == case.expected.get("title") for case, r in records)
    language_ok = sum(r["language"] == case.expected.get("language") for case, r in records)
    return {
        "corpus_snippet_recall": scores["snippet_recall"],
        "corpus_snippet_precision": scores["snippet_precision"],
        "corpus_title_accuracy": title_ok / len(CASES),
        "corpus_language_accuracy": language_ok / len(CASES),
    }


def bare_trafilatura_scores(cases: list[Case]) -> dict[str, float]:
    pairs = []
    for case in cases:
        # bytes as served: trafilatura decodes them itself
        text = trafilatura.extract(case.read_input(), url=case.meta.get("url"), include_comments=False) or ""
        pairs.append((case, {"text": text}))
    return snippet_scores(pairs)  # type: ignore[arg-type]


def sample_line_scores(samples: Path, cleaner: Cleaner) -> dict[str, float]:
    """Share of body lines kept (as whole lines of the text) and of other lines removed."""
    rows_by_sample: dict[str, list[dict[str, Any]]] = {}
    for raw in (samples / "labels.jsonl").read_bytes().splitlines():
        if raw.strip():
            row = orjson.loads(raw)
            rows_by_sample.setdefault(row["sample"], []).append(row)
    body = kept = other = removed = 0
    for name, rows in sorted(rows_by_sample.items()):
        path = samples / "text" / name
        record = cleaner.clean_text(path.read_text(encoding="utf-8"), source=str(path))
        lines = set() if not isinstance(record, dict) else {fold(x) for x in record["text"].split("\n")}
        for row in rows:
            if row["label"] == "body":
                body += 1
                kept += fold(match_form(row.get("clean", row["text"]))) in lines
            else:
                other += 1
                removed += fold(match_form(row["text"])) not in lines
    return {
        "samples_body_lines_kept": kept / body if body else 0.0,
        "samples_boilerplate_lines_removed": removed / other if other else 0.0,
    }


@cache
def samples_scores() -> dict[str, float]:
    if not (SAMPLES / "labels.jsonl").exists():
        return {}
    return sample_line_scores(SAMPLES, Cleaner())


def all_scores() -> dict[str, float]:
    return {**corpus_scores(), **samples_scores()}


# -- floors ---------------------------------------------------------------------------------------
def read_floors(data: bytes) -> dict[str, float]:
    raw = orjson.loads(data)
    return {k: float(v) for k, v in raw.items() if k not in NOTE_KEYS}


FLOORS = read_floors(FLOORS_PATH.read_bytes())


def floor_drops(committed: Mapping[str, float], current: Mapping[str, float]) -> list[str]:
    """The floors that went down (or disappeared) from ``committed`` to ``current``."""
    drops = []
    for name, old in sorted(committed.items()):
        new = current.get(name)
        if new is None:
            drops.append(f"{name}: floor removed (was {old})")
        elif new < old:
            drops.append(f"{name}: {old} -> {new}")
    return drops


def committed_floors() -> dict[str, float] | None:
    """The floors file at ``HEAD``, or None outside a git checkout (or before its first commit)."""
    rel = FLOORS_PATH.relative_to(ROOT).as_posix()
    try:
        out = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=ROOT, capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return read_floors(out.stdout)


# -- tests ------------------------------------------------------------------------------------------
def test_corpus_is_a_real_corpus() -> None:
    assert len(CASES) >= 60
    by_language: dict[str, int] = {}
    for case in CASES:
        by_language[case.group] = by_language.get(case.group, 0) + 1
        exp = case.expected
        assert exp.get("language") == case.group, case.id
        assert exp.get("title"), case.id
        assert len(exp.get("with", [])) >= 3, case.id
        assert len(exp.get("without", [])) >= 10, case.id
        assert case.meta.get("url", "").startswith("https://") and case.meta.get("fetched_at"), case.id
        assert case.meta.get("why"), case.id
    assert by_language.get("fr", 0) >= 25 and by_language.get("en", 0) >= 25, by_language


def test_corpus_matches_its_generator() -> None:
    """The committed pages are what ``fixtures/corpus/build.py`` writes (no hand edits)."""
    out = subprocess.run([sys.executable, str(CORPUS / "build.py"), "--check"], capture_output=True, text=True,
                         check=False, timeout=300, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_floor_has_a_score_and_every_score_a_floor() -> None:
    assert set(FLOORS) == set(all_scores())
    for name, floor in FLOORS.items():
        assert 0.0 <= floor <= 1.0, name
        assert round(floor, 3) == floor, f"{name}: floors have three decimals"


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_score_at_or_above_floor(name: str) -> None:
    scores = all_scores()
    assert name in scores, f"{name}: no score (fixtures/samples missing?)"
    misses = "\n".join(corpus_failures()) if name.startswith("corpus_") else ""
    assert scores[name] >= FLOORS[name], f"{name}: {scores[name]:.4f} < floor {FLOORS[name]}\n{misses}"


def test_newsclean_cleaner_than_bare_trafilatura() -> None:
    ours = corpus_scores()
    bare = bare_trafilatura_scores(CASES)
    assert ours["corpus_snippet_precision"] > bare["snippet_precision"]
    assert ours["corpus_snippet_recall"] >= bare["snippet_recall"]


def test_floors_only_go_up() -> None:
    committed = committed_floors()
    drops = floor_drops(committed, FLOORS) if committed is not None else []
    reason = os.environ.get(FLOOR_DROP_FLAG, "").strip()
    assert not drops or reason, (
        f"floors lowered: {drops}; set {FLOOR_DROP_FLAG}='<reason>' (and give the reason in the commit message)"
    )


def test_floor_drops_are_detected() -> None:
    assert floor_drops({"a": 0.9, "b": 0.5}, {"a": 0.95, "b": 0.5}) == []
    assert floor_drops({"a": 0.9}, {"a": 0.899}) == ["a: 0.9 -> 0.899"]
    assert floor_drops({"a": 0.9}, {}) == ["a: floor removed (was 0.9)"]
    assert read_floors(b'{"_comment": "x", "a": 1}') == {"a": 1.0}


def test_sample_line_scores_count_lines(tmp_path: Path, cleaner: Cleaner) -> None:
    (tmp_path / "text").mkdir()
    body = "Le réseau social a été rétabli dans la soirée, après plusieurs heures de panne pour ses utilisateurs."
    title = "Twitter rétabli après une panne mondiale"
    (tmp_path / "text" / "a.txt").write_text(f"{title}\nPublicité\n{body}\n", encoding="utf-8")
    rows = [{"sample": "a.txt", "line": 1, "label": "title", "text": title},
            {"sample": "a.txt", "line": 2, "label": "ad_label", "text": "Publicité"},
            {"sample": "a.txt", "line": 3, "label": "body", "text": body},
            {"sample": "a.txt", "line": 4, "label": "body", "text": "Une ligne qui n'est pas dans le texte."}]
    (tmp_path / "labels.jsonl").write_bytes(b"\n".join(orjson.dumps(r) for r in rows))
    scores = sample_line_scores(tmp_path, cleaner)
    assert scores == {"samples_body_lines_kept": 0.5, "samples_boilerplate_lines_removed": 1.0}
