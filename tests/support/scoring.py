"""Fixture cases and quality scores, shared by the tests and the benchmark scripts.

A case is a folder ``<root>/<group>/<case>/`` holding:

* ``input.html`` (or ``input.html.gz``, or ``input.txt`` for re-cleaning text): bytes as served;
* ``meta.json``: ``url``, ``fetched_at`` (ISO 8601), optional ``content_type``, and ``why`` the
  case exists;
* ``expected.json``, every key optional:
  ``with`` / ``without`` (snippets that must / must not be in ``text``), ``lines`` (the exact
  list of text lines), ``title``, ``language``, ``authors`` (each must be among the record's),
  ``fires`` (rule categories that must have removed something), ``not_fires`` (categories that
  must have removed nothing), ``drop`` (the expected drop reason instead of a record).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from pipelines.core.cleaner import Drop, Page
from pipelines.core.record import Record

INPUT_NAMES = ("input.html", "input.html.gz", "input.txt")


@dataclass(frozen=True)
class Case:
    path: Path
    group: str
    name: str
    input_path: Path
    meta: dict[str, Any]
    expected: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.group}/{self.name}"

    @property
    def is_text(self) -> bool:
        return self.input_path.name == "input.txt"

    def read_input(self) -> bytes:
        data = self.input_path.read_bytes()
        return gzip.decompress(data) if self.input_path.suffix == ".gz" else data

    def page(self) -> Page:
        fetched = self.meta.get("fetched_at")
        return Page(
            body=self.read_input(),
            url=self.meta.get("url", ""),
            source=self.meta.get("url") or str(self.input_path),
            content_type=self.meta.get("content_type"),
            fetched_at=datetime.fromisoformat(fetched.replace("Z", "+00:00")) if fetched else None,
        )


def load_cases(root: str | Path) -> list[Case]:
    """Every case folder under ``root`` (any depth), sorted by id."""
    cases = []
    for expected_path in sorted(Path(root).rglob("expected.json")):
        folder = expected_path.parent
        inputs = [folder / n for n in INPUT_NAMES if (folder / n).exists()]
        if not inputs:
            raise FileNotFoundError(f"{folder}: no input file ({', '.join(INPUT_NAMES)})")
        meta_path = folder / "meta.json"
        meta = orjson.loads(meta_path.read_bytes()) if meta_path.exists() else {}
        cases.append(
            Case(
                path=folder,
                group=folder.parent.name,
                name=folder.name,
                input_path=inputs[0],
                meta=meta,
                expected=orjson.loads(expected_path.read_bytes()),
            )
        )
    return cases


def fold(text: str) -> str:
    """Snippet comparison form: whitespace folded, typographic apostrophes as ASCII."""
    return " ".join(text.replace("\u2019", "'").split())


def check_case(case: Case, result: Record | Drop) -> list[str]:
    """The ways ``result`` misses the case's expectations (empty when it meets them all)."""
    exp = case.expected
    if "drop" in exp:
        if isinstance(result, Drop) and result.reason == exp["drop"]:
            return []
        return [f"expected drop {exp['drop']!r}, got {result!r:.200}"]
    if isinstance(result, Drop):
        return [f"dropped: {result.reason} {result.detail}"]
    failures: list[str] = []
    text = fold(result["text"])
    failures += [f"missing snippet: {s!r}" for s in exp.get("with", []) if fold(s) not in text]
    failures += [f"boilerplate left: {s!r}" for s in exp.get("without", []) if fold(s) in text]
    if "lines" in exp:
        got = [fold(x) for x in result["text"].split("\n")]
        want = [fold(x) for x in exp["lines"]]
        if got != want:
            failures.append(f"lines differ:\n  got  {got}\n  want {want}")
    for name in ("title", "language"):
        if name in exp and (result[name] or "") != exp[name]:
            failures.append(f"{name}: got {result[name]!r}, want {exp[name]!r}")
    failures += [f"author missing: {a!r}" for a in exp.get("authors", []) if a not in result["authors"]]
    removed = result["removed"]
    failures += [f"no removal by category {c!r}" for c in exp.get("fires", []) if not removed.get(c)]
    failures += [f"category {c!r} removed {removed[c]}" for c in exp.get("not_fires", []) if removed.get(c)]
    return failures


def snippet_scores(pairs: Iterable[tuple[Case, Record | Drop]]) -> dict[str, float]:
    """Snippet recall (share of ``with`` found) and precision (share of ``without`` absent)."""
    found = wanted = absent = unwanted = 0
    for case, result in pairs:
        text = "" if isinstance(result, Drop) else fold(result["text"])
        for s in case.expected.get("with", []):
            wanted += 1
            found += fold(s) in text
        for s in case.expected.get("without", []):
            unwanted += 1
            absent += fold(s) not in text
    return {
        "snippet_recall": found / wanted if wanted else 1.0,
        "snippet_precision": absent / unwanted if unwanted else 1.0,
        "with": wanted,
        "without": unwanted,
    }


# -- the article-extraction benchmark's metric --------------------------------------------------
_TOKEN = re.compile(r"\w+")


def shingles(text: str, size: int = 4) -> dict[tuple[str, ...], int]:
    tokens = _TOKEN.findall(text or "")
    counts: dict[tuple[str, ...], int] = {}
    for i in range(max(len(tokens) - size + 1, 0)):
        gram = tuple(tokens[i : i + size])
        counts[gram] = counts.get(gram, 0) + 1
    return counts


def shingle_pr(predicted: str, truth: str) -> tuple[float | None, float | None]:
    """Per-document precision and recall over 4-token shingles (multisets), as the benchmark
    defines them; ``None`` where undefined (empty prediction / empty truth)."""
    p, t = shingles(predicted), shingles(truth)
    tp = sum(min(n, t.get(g, 0)) for g, n in p.items())
    n_pred, n_true = sum(p.values()), sum(t.values())
    precision = tp / n_pred if n_pred else None
    recall = (tp / n_true if n_true else None) if n_pred else (0.0 if n_true else None)
    return precision, recall


def benchmark_prf(pairs: Iterable[tuple[str, str]]) -> dict[str, float]:
    """Average precision over non-empty predictions, average recall over non-empty truths,
    F1 as their harmonic mean. ``pairs`` are (predicted, truth) texts."""
    precisions: list[float] = []
    recalls: list[float] = []
    for predicted, truth in pairs:
        p, r = shingle_pr(predicted, truth)
        if p is not None:
            precisions.append(p)
        if r is not None:
            recalls.append(r)
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "documents": float(len(recalls))}


def run_cases(cases: Iterable[Case], clean: Callable[[Case], Record | Drop]) -> list[tuple[Case, Record | Drop]]:
    return [(case, clean(case)) for case in cases]


def as_mapping(record: Record | Drop) -> Mapping[str, Any]:
    return record if isinstance(record, dict) else {"drop": record.reason}
