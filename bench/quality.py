"""Quality benchmark: newsclean against bare trafilatura, in the same run.

Usage::

    .venv/bin/python bench/quality.py DATA_DIR [DATA_DIR ...] [--limit N] [--jobs N] [--worst N] [--no-candidates]
    .venv/bin/python bench/quality.py --corpus fixtures/corpus [--jobs N]

``DATA_DIR`` is an article-extraction benchmark folder (``html/<id>.html.gz`` and
``truth.jsonl`` with ``{id, url, text}``). Every page goes through

* ``newsclean``: ``Cleaner().clean(Page(body, url=url))``, its ``text`` (a drop is an empty
  prediction);
* ``trafilatura``: ``trafilatura.extract(body, url=url, include_comments=False)``, default settings;
* ``trafilatura-precision``: the same with ``favor_precision=True``;

and the script prints precision, recall and F1 per system with the benchmark's own metric
(:func:`support.scoring.benchmark_prf`), then the pages where newsclean does worst against
bare trafilatura. Then, for all the sets together (``bench/selector.py``): each of newsclean's
extraction candidates alone, the per-page oracle of the candidates, newsclean with the shipped
selector parameters, and the cross-set figures (the parameters fitted on one set, measured on
the other). ``--no-candidates`` leaves that part out.

``--corpus`` scores a folder of fixture cases (:func:`support.scoring.load_cases`) by
snippets instead: snippet recall (share of ``with`` found) and snippet precision (share of
``without`` absent), for newsclean and bare trafilatura.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import orjson
import trafilatura

from pipelines.core import Drop, Page
from pipelines.core.cleaner import default_cleaner

# the scoring helpers the tests use (tests/support/scoring.py): not part of the installed package
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.scoring import Case, benchmark_prf, load_cases, shingle_pr, snippet_scores

SYSTEMS = ("newsclean", "trafilatura", "trafilatura-precision")

def _timed(fn: Callable[[], str]) -> tuple[str, float]:
    start = time.perf_counter()
    text = fn()
    return text, time.perf_counter() - start


_LANGUAGE: dict[str, str] = {}


def _newsclean(body: bytes, url: str) -> str:
    result = default_cleaner().clean(Page(body, url=url))
    if isinstance(result, Drop):
        return ""
    _LANGUAGE[url] = result["language"] or "?"
    return result["text"]


def _trafilatura(body: bytes, url: str, precision: bool = False) -> str:
    return trafilatura.extract(body, url=url or None, include_comments=False, favor_precision=precision) or ""


def run_page(job: tuple[str, str, str]) -> dict[str, Any]:
    """One benchmark page through every system: the texts and the seconds each took."""
    page_id, path, url = job
    body = gzip.decompress(Path(path).read_bytes())
    runs = {
        "newsclean": lambda: _newsclean(body, url),
        "trafilatura": lambda: _trafilatura(body, url),
        "trafilatura-precision": lambda: _trafilatura(body, url, precision=True),
    }
    texts: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for name, fn in runs.items():
        texts[name], seconds[name] = _timed(fn)
    return {"id": page_id, "texts": texts, "seconds": seconds, "language": _LANGUAGE.pop(url, "?")}


def read_truth(data_dir: Path) -> list[dict[str, Any]]:
    with (data_dir / "truth.jsonl").open("rb") as fh:
        return [orjson.loads(line) for line in fh if line.strip()]


def _f1(predicted: str, truth: str) -> float:
    p, r = shingle_pr(predicted, truth)
    p, r = p or 0.0, r or 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def benchmark(data_dir: Path, limit: int | None, jobs: int, worst: int) -> dict[str, dict[str, float]]:
    truth = read_truth(data_dir)
    if limit:
        truth = truth[:limit]
    work = [(t["id"], str(data_dir / "html" / f"{t['id']}.html.gz"), t.get("url") or "") for t in truth]
    with Pool(jobs) as pool:
        results = {r["id"]: r for r in pool.imap_unordered(run_page, work, chunksize=2)}
    scores: dict[str, dict[str, float]] = {}
    print(f"{len(truth)} pages from {data_dir}")
    print(f"{'system':<24}{'precision':>10}{'recall':>10}{'F1':>10}{'empty':>7}{'s/page':>9}")
    for name in SYSTEMS:
        pairs = [(results[t["id"]]["texts"][name], t["text"]) for t in truth]
        prf = benchmark_prf(pairs)
        empty = sum(1 for predicted, _ in pairs if not predicted.strip())
        per_page = sum(results[t["id"]]["seconds"][name] for t in truth) / max(len(truth), 1)
        scores[name] = prf
        print(f"{name:<24}{prf['precision']:>10.4f}{prf['recall']:>10.4f}{prf['f1']:>10.4f}{empty:>7}{per_page:>9.4f}")
    _by_language(truth, results)
    if worst:
        rows = []
        for t in truth:
            texts = results[t["id"]]["texts"]
            ours, theirs = _f1(texts["newsclean"], t["text"]), _f1(texts["trafilatura"], t["text"])
            p, r = shingle_pr(texts["newsclean"], t["text"])
            rows.append((ours - theirs, t["id"], ours, theirs, p or 0.0, r or 0.0, t.get("url") or ""))
        rows.sort()
        print(f"\nworst {worst} pages, newsclean against trafilatura (F1 per page):")
        print(f"{'id':<14}{'ours':>7}{'theirs':>8}{'P':>7}{'R':>7}  url")
        for delta, page_id, ours, theirs, p, r, url in rows[:worst]:
            if delta >= 0:
                break
            print(f"{page_id[:12]:<14}{ours:>7.3f}{theirs:>8.3f}{p:>7.3f}{r:>7.3f}  {url[:90]}")
    return scores


def _by_language(truth: list[dict[str, Any]], results: dict[str, dict[str, Any]]) -> None:
    """F1 per page group (the language newsclean found; languages with few pages together)."""
    counts: dict[str, int] = {}
    for t in truth:
        counts[results[t["id"]]["language"]] = counts.get(results[t["id"]]["language"], 0) + 1
    group = {lang: (lang if n >= 10 else "other") for lang, n in counts.items()}
    names = sorted(set(group.values()), key=lambda g: (g == "other", g))
    print(f"\nF1 by language group{'':<4}" + "".join(f"{name:>12}" for name in names))
    for system in SYSTEMS:
        row = []
        for name in names:
            pairs = [(results[t["id"]]["texts"][system], t["text"]) for t in truth
                     if group[results[t["id"]]["language"]] == name]
            row.append(benchmark_prf(pairs)["f1"])
        print(f"{system:<24}" + "".join(f"{f1:>12.4f}" for f1 in row))
    sizes = {name: sum(1 for t in truth if group[results[t["id"]]["language"]] == name) for name in names}
    print(f"{'pages':<24}" + "".join(f"{sizes[name]:>12}" for name in names))


# -- fixture corpus: snippet scores ----------------------------------------------------------------
def run_case(case: Case) -> tuple[str, str]:
    """One fixture case through newsclean and bare trafilatura: the two texts."""
    if case.is_text:
        result = default_cleaner().clean_text(case.read_input().decode("utf-8"), str(case.input_path))
        ours = "" if isinstance(result, Drop) else result["text"]
        return ours, case.read_input().decode("utf-8")
    page = case.page()
    result = default_cleaner().clean(page)
    ours = "" if isinstance(result, Drop) else result["text"]
    return ours, _trafilatura(page.body, page.url)


def corpus(root: Path, jobs: int) -> dict[str, dict[str, float]]:
    cases = load_cases(root)
    with Pool(jobs) as pool:
        texts = pool.map(run_case, cases, chunksize=2)
    print(f"{len(cases)} cases from {root}")
    print(f"{'system':<24}{'snippet P':>10}{'snippet R':>10}{'without':>9}{'with':>7}")
    scores: dict[str, dict[str, float]] = {}
    for index, name in enumerate(("newsclean", "trafilatura")):
        pairs: list[tuple[Case, Any]] = [(case, {"text": t[index]}) for case, t in zip(cases, texts, strict=True)]
        s = snippet_scores(pairs)
        scores[name] = s
        print(f"{name:<24}{s['snippet_precision']:>10.4f}{s['snippet_recall']:>10.4f}"
              f"{int(s['without']):>9}{int(s['with']):>7}")
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("data_dirs", nargs="*", type=Path, help="benchmark folders: html/<id>.html.gz, truth.jsonl")
    parser.add_argument("--corpus", type=Path, help="a folder of fixture cases, scored by snippets")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pages")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--worst", type=int, default=15, help="list the N pages where newsclean loses most")
    parser.add_argument("--no-candidates", action="store_true",
                        help="leave out the candidates, oracle and cross-set part (bench/selector.py)")
    args = parser.parse_args(argv)
    if not args.data_dirs and args.corpus is None:
        parser.error("give benchmark folders, --corpus FOLDER, or both")
    for index, data_dir in enumerate(args.data_dirs):
        if index:
            print()
        benchmark(data_dir, args.limit, args.jobs, args.worst)
    if args.data_dirs and not args.no_candidates:
        import selector  # bench/selector.py, beside this script

        print("\ncandidates, per-page oracle and cross-set figures (bench/selector.py):")
        selector.report(args.data_dirs, args.jobs)
    if args.corpus is not None:
        if args.data_dirs:
            print()
        corpus(args.corpus, args.jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
