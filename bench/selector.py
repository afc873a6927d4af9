"""The candidate selector: each candidate alone, the per-page oracle, and cross-set fitting.

Usage::

    .venv/bin/python bench/selector.py DATA_DIR [DATA_DIR ...] [--jobs N] [--write]

``DATA_DIR`` is an article-extraction benchmark folder (``html/<id>.html.gz`` and ``truth.jsonl``
with ``{id, url, text}``). Every page goes once through the cleaner's steps up to the extraction;
there its candidates are computed (trafilatura precision, balanced, readability-lxml, and the
JSON-LD ``articleBody`` the selector uses as referee), and the rest of the cleaner (language, line
rules, record) runs on the text of every candidate and on the text the selector picks at every
point of a small grid of its parameters (:data:`GRID`). The script then prints, per set:

* each candidate alone, the per-page oracle (the best candidate of each page, by the truth),
  and newsclean with the shipped parameters (``pipelines/rules/selector.toml``);
* the cross-set figures: the parameters that score best on one set, measured on every other set;
* the parameters that score best on all the sets together (the mean of their F1), which
  ``--write`` stores in ``pipelines/rules/selector.toml`` with where they came from.

F1 is the benchmark's own metric (``support.scoring.benchmark_prf``).
"""

from __future__ import annotations

import argparse
import copy
import datetime
import gzip
import itertools
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import asdict, replace
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import orjson

from pipelines.core import Cleaner
from pipelines.core.candidates import (
    SELECTOR_FILE,
    Candidate,
    Candidates,
    Selection,
    SelectorParams,
    readability_lines,
    select,
    shipped_params,
)
from pipelines.core.cleaner import default_cleaner
from pipelines.core.extract import extract
from pipelines.core.steps.base import State
from pipelines.core.steps.tree import take_selection

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.scoring import benchmark_prf, shingle_pr

#: The grid the parameters are fitted on: few values each, so that a fit cannot learn pages.
GRID: dict[str, tuple[Any, ...]] = {
    "short_words": (60, 100, 150, 250),
    "referee_margin": (0.01, 0.02, 0.05, 1.0),  # 1.0: the referee never changes the answer
    "referee_min_words": (30, 50, 100),
    "list_min_words": (4, 6, 8, 10_000),  # 10 000: no list item is ever pruned
}
ALONE = ("precision", "balanced", "readability")

def grid_points(base: SelectorParams) -> list[SelectorParams]:
    names = list(GRID)
    return [replace(base, **dict(zip(names, values, strict=True))) for values in itertools.product(*GRID.values())]


def _finish(cleaner: Cleaner, base: State, selection: Selection) -> str:
    """The rest of the cleaner on one selection, as the extract step hands it on: the record's
    text ('' for a drop). ``base`` is the page's state before the extract step (left as it is)."""
    state = copy.copy(base)
    state.removed, state.meta = copy.copy(base.removed), copy.copy(base.meta)
    if take_selection(state, selection, debug=False) is not None:
        return ""
    tail = cleaner.page_steps[[s.name for s in cleaner.page_steps].index("extract") + 1 :]
    for step in tail:
        if step.run(state) is not None:
            return ""
    return str(state.record["text"])


def run_page(job: tuple[str, str, str, list[SelectorParams]]) -> dict[str, Any]:
    """One page: the text of each candidate alone and of the selection at every grid point."""
    page_id, path, url, points = job
    cleaner = default_cleaner()
    state = State(url, url, None, gzip.decompress(Path(path).read_bytes()))
    names = [s.name for s in cleaner.page_steps]
    for step in cleaner.page_steps[: names.index("extract")]:
        if step.run(state) is not None:
            return {"id": page_id, "alone": dict.fromkeys(ALONE, ""), "points": [""] * len(points)}
    tree, link = state.tree, url or None

    def make(name: str) -> Candidate:
        if name == "readability":
            return Candidate(name, readability_lines(tree, link))
        result = extract(tree, link, name, fallback=False)
        return Candidate(name, *result.lines()) if result.text.strip() else Candidate(name, [])

    made = {name: make(name) for name in ALONE}
    texts: dict[tuple[str, ...], str] = {}

    def text_of(selection: Selection) -> str:
        key = (selection.chosen.name, len(selection.pruned), *selection.chosen.lines)
        if key not in texts:
            texts[key] = _finish(cleaner, state, selection)
        return texts[key]

    alone = {name: text_of(Selection(made[name])) for name in ALONE}
    chosen = []
    for params in points:
        candidates = Candidates(made["precision"], lambda: made["balanced"], lambda: made["readability"],
                                state.article_body)
        selection = select(candidates, params)
        chosen.append(text_of(selection))
    return {"id": page_id, "alone": alone, "points": chosen}


def read_set(data_dir: Path) -> list[dict[str, Any]]:
    with (data_dir / "truth.jsonl").open("rb") as fh:
        return [orjson.loads(line) for line in fh if line.strip()]


def collect(data_dir: Path, points: list[SelectorParams], jobs: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    truth = read_set(data_dir)
    work = [(t["id"], str(data_dir / "html" / f"{t['id']}.html.gz"), t.get("url") or "", points) for t in truth]
    with Pool(jobs) as pool:
        results = {r["id"]: r for r in pool.imap_unordered(run_page, work, chunksize=2)}
    return truth, results


def f1(pairs: Iterable[tuple[str, str]]) -> float:
    return benchmark_prf(pairs)["f1"]


def _page_f1(predicted: str, truth: str) -> float:
    p, r = shingle_pr(predicted, truth)
    if p is None and r is None:
        return 1.0
    p, r = p or 0.0, 1.0 if r is None else r
    return 2 * p * r / (p + r) if p + r else 0.0


class SetScores:
    """F1 of one set for each candidate alone, the oracle, and every grid point."""

    def __init__(self, name: str, truth: list[dict[str, Any]], results: dict[str, Any], count: int) -> None:
        self.name = name
        self.pages = len(truth)
        self.alone = {c: f1((results[t["id"]]["alone"][c], t["text"]) for t in truth) for c in ALONE}
        best = [max((results[t["id"]]["alone"][c] for c in ALONE), key=lambda x, t=t: _page_f1(x, t["text"]))
                for t in truth]
        self.oracle = f1(zip(best, (t["text"] for t in truth), strict=True))
        self.points = [f1((results[t["id"]]["points"][i], t["text"]) for t in truth) for i in range(count)]


def best_point(scores: list[SetScores], points: list[SelectorParams]) -> int:
    """The grid point with the best mean F1 over ``scores``; ties go to the earliest point."""
    means = [sum(s.points[i] for s in scores) / len(scores) for i in range(len(points))]
    return max(range(len(points)), key=lambda i: (round(means[i], 6), -i))


def _changed(params: SelectorParams, base: SelectorParams) -> str:
    values = asdict(params)
    return ", ".join(f"{k}={values[k]}" for k in GRID) + (" (as shipped)" if params == base else "")


def write_params(params: SelectorParams, index: int, sets: list[SetScores], cross: list[str], command: str) -> None:
    """``params`` (grid point ``index``) into :data:`SELECTOR_FILE`, with where they came from."""
    lines = [
        "# The candidate selector's parameters (pipelines/core/candidates.py says what each one does).",
        f"# Written by: {command}",
        f"# on {datetime.date.today().isoformat()}, fitted on the mean F1 of: "
        + ", ".join(f"{s.name} ({s.pages} pages)" for s in sets),
        "# F1 with these parameters: " + ", ".join(f"{s.name} {s.points[index]:.4f}" for s in sets),
        "# Cross-set (fitted on one set, measured on the other):",
        *(f"#   {line}" for line in cross),
        "[params]",
    ]
    for key, value in asdict(params).items():
        lines.append(f"{key} = {value}")
    SELECTOR_FILE.write_text("\n".join(lines) + "\n", "utf-8")


def report(dirs: list[Path], jobs: int, write: bool = False, grid: bool = True) -> list[SetScores]:
    shipped = shipped_params()
    points = [shipped, *grid_points(shipped)] if grid else [shipped]
    scores = []
    for data_dir in dirs:
        truth, results = collect(data_dir, points, jobs)
        scores.append(SetScores(data_dir.name, truth, results, len(points)))
    print(f"{'set':<16}{'pages':>6}" + "".join(f"{c:>13}" for c in ALONE) + f"{'oracle':>9}{'newsclean':>11}")
    for s in scores:
        print(f"{s.name:<16}{s.pages:>6}" + "".join(f"{s.alone[c]:>13.4f}" for c in ALONE)
              + f"{s.oracle:>9.4f}{s.points[0]:>11.4f}")
    cross: list[str] = []
    if not grid:
        return scores
    if len(scores) > 1:
        print("\ncross-set: fitted on one set, measured on the others")
        for fitted in scores:
            index = best_point([fitted], points)
            for other in scores:
                if other is fitted:
                    continue
                line = (f"fitted on {fitted.name} ({fitted.points[index]:.4f} there): {other.name} "
                        f"{other.points[index]:.4f} [{_changed(points[index], shipped)}]")
                cross.append(line.replace(" (as shipped)", ""))
                print("  " + line)
    index = best_point(scores, points)
    print(f"\nfitted on {' + '.join(s.name for s in scores)}: "
          + ", ".join(f"{s.name} {s.points[index]:.4f}" for s in scores) + f" [{_changed(points[index], shipped)}]")
    if write:
        command = "python bench/selector.py " + " ".join(str(d) for d in dirs) + " --write"
        write_params(points[index], index, scores, cross, command)
        print(f"written to {SELECTOR_FILE}")
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("data_dirs", nargs="+", type=Path, help="benchmark folders: html/<id>.html.gz, truth.jsonl")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--write", action="store_true",
                        help="store the parameters fitted on all the sets in pipelines/rules/selector.toml")
    parser.add_argument("--floors", type=Path, metavar="TOML",
                        help="only the shipped parameters (no grid); exit 1 when a set's F1 is under its floor "
                             "in this file ([floors] set-name = F1, e.g. bench/floors.toml)")
    args = parser.parse_args(argv)
    if args.floors is None:
        report(args.data_dirs, args.jobs, args.write)
        return 0
    floors = tomllib.loads(args.floors.read_text("utf-8"))["floors"]
    failed = 0
    for s in report(args.data_dirs, args.jobs, grid=False):
        floor = floors.get(s.name)
        if floor is None:
            print(f"{s.name}: no floor in {args.floors}")
            failed += 1
        elif s.points[0] < floor:
            print(f"{s.name}: F1 {s.points[0]:.4f} is under its floor {floor}")
            failed += 1
        else:
            print(f"{s.name}: F1 {s.points[0]:.4f} >= floor {floor}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
