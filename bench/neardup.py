"""Near-duplicate benchmark: precision and recall of the MinHash/LSH dedup on pairs made from real pages.

Usage::

    .venv/bin/python bench/neardup.py DATA_DIR [DATA_DIR ...] [--seed N] [--min-words N] [--json FILE]

``DATA_DIR`` is an article-extraction benchmark folder (``html/<id>.html.gz`` and ``truth.jsonl``
with ``{id, url, text}``). Pairs are made from every article's text by the edits that happen to
news copies, with a seeded random generator (the same seed gives the same pairs):

Positives (near-duplicates, should be caught)

* ``chrome``: the text newsclean cleans out of the real page, against the article's true body
  (the same body with and without what a site wraps around it);
* ``headline``: the same body under two different headline lines;
* ``credit``: a byline line before and a credit / syndication line after the body on one side;
* ``para_removed`` / ``para_added``: one paragraph removed, or one paragraph of another article added;
* ``correction``: a few words changed (a name, a figure, a word).

Negatives (different articles, should be kept)

* ``same_site``: two different articles of the same host (two captures of one URL are one article,
  not a pair);
* ``shared_quote``: two different articles of a host that quote the same paragraph;
* ``live_blog``: two updates of a live blog: the same heading paragraph, different entries.

For every threshold the script counts a pair as caught when the two texts share an LSH band
and their estimated similarity reaches the threshold (what the dedup store does), and prints
precision and recall over all pairs and recall per kind; ``exact`` is the true Jaccard
similarity of the shingle sets, for reference. Texts shorter than ``--min-words`` (default 50)
are left out: a text that short has too few shingles to be told apart from a copy by one edit.
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from pipelines.core import Drop, Page
from pipelines.core.cleaner import default_cleaner
from pipelines.run import neardup

POSITIVE = ("chrome", "headline", "credit", "para_removed", "para_added", "correction")
NEGATIVE = ("same_site", "shared_quote", "live_blog")
THRESHOLDS = [round(0.3 + 0.05 * i, 2) for i in range(14)]

_NAMES = ["Anna Keller", "Jean Dupont", "Maria García", "Tom O'Brien", "Li Wei", "Sofia Rossi", "Omar Haddad",
          "Ewa Nowak", "Kenji Sato", "Priya Nair"]
_AGENCIES = ["AFP", "Reuters", "AP", "dpa", "ANSA", "EFE", "PA Media", "Bloomberg"]
_SITES = ["lemonde.fr", "example-news.com", "bbc.co.uk", "spiegel.de", "elpais.com", "theguardian.com"]
_BYLINES = ["By {n} and {m}, {a}", "Par {n} avec {a}", "Von {n}, {a}", "{n} | {a}", "By {n}", "Por {n} ({a})"]
_CREDITS = ["Article original publié sur {s}", "This story was originally published by {a}.",
            "Photo: {n} / {a}", "© {a} 2024. All rights reserved.", "Additional reporting by {n}; editing by {m}.",
            "Dieser Artikel erschien zuerst auf {s}.", "Copyright {a}. Read more at {s}"]


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def words(text: str) -> int:
    return len(neardup._WORD.findall(text))


def load(data_dirs: list[Path], min_words: int) -> list[dict[str, Any]]:
    docs = []
    for data_dir in data_dirs:
        for line in (data_dir / "truth.jsonl").read_bytes().splitlines():
            if not line.strip():
                continue
            doc = orjson.loads(line)
            if words(doc["text"]) < min_words:
                continue
            doc["host"] = f"{data_dir.name}:{urlsplit(doc.get('url') or '').hostname or doc['id']}"
            doc["html"] = data_dir / "html" / f"{doc['id']}.html.gz"
            doc["paras"] = paragraphs(doc["text"])
            docs.append(doc)
    return docs


def cleaned(doc: dict[str, Any]) -> str:
    if not doc["html"].exists():
        return ""
    result = default_cleaner().clean(Page(gzip.decompress(doc["html"].read_bytes()), url=doc.get("url") or ""))
    return "" if isinstance(result, Drop) else result["text"]


def make_pairs(docs: list[dict[str, Any]], seed: int,
               on_page: Callable[[int], None] | None = None) -> list[tuple[str, bool, str, str]]:
    """(kind, is_near_duplicate, text a, text b) for every article and kind, seeded."""
    rng = random.Random(seed)
    pairs: list[tuple[str, bool, str, str]] = []

    def other(doc: dict[str, Any]) -> dict[str, Any]:
        while True:
            pick = rng.choice(docs)
            if pick is not doc:
                return pick

    def fill(template: str) -> str:
        n, m = rng.sample(_NAMES, 2)
        return template.format(n=n, m=m, a=rng.choice(_AGENCIES), s=rng.choice(_SITES))

    def headline() -> str:
        tokens = other_text_words()
        size = rng.randint(6, 14)
        start = rng.randrange(max(1, len(tokens) - size))
        return " ".join(tokens[start:start + size]).capitalize()

    def other_text_words() -> list[str]:
        return rng.choice(docs)["text"].split()

    for number, doc in enumerate(docs):
        paras, text = doc["paras"], "\n".join(doc["paras"])
        page_text = cleaned(doc)
        if on_page is not None:
            on_page(number)
        if page_text:
            pairs.append(("chrome", True, page_text, text))
        pairs.append(("headline", True, headline() + "\n" + text, headline() + "\n" + text))
        pairs.append(("credit", True, text, "\n".join([fill(rng.choice(_BYLINES)), *paras,
                                                        fill(rng.choice(_CREDITS))])))
        if len(paras) >= 2:
            cut = rng.randrange(len(paras))
            pairs.append(("para_removed", True, text, "\n".join(paras[:cut] + paras[cut + 1:])))
        added = rng.choice(other(doc)["paras"])
        at = rng.randrange(len(paras) + 1)
        pairs.append(("para_added", True, text, "\n".join([*paras[:at], added, *paras[at:]])))
        pairs.append(("correction", True, text, _correct(rng, text, other_text_words, 4)))

    by_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in docs:
        by_host[doc["host"]].append(doc)
    for host in sorted(by_host):
        group = by_host[host]
        if len(group) < 2:
            continue
        for i in range(len(group)):
            a, b = group[i], group[(i + 1) % len(group)]
            if a is b or (len(group) == 2 and i == 1) or a.get("url") == b.get("url"):
                continue  # one pair once; the same URL twice is one article (captured twice), not two
            text_a, text_b = "\n".join(a["paras"]), "\n".join(b["paras"])
            pairs.append(("same_site", False, text_a, text_b))
            quote = rng.choice(other(a)["paras"])
            pairs.append(("shared_quote", False, _insert(rng, a["paras"], quote), _insert(rng, b["paras"], quote)))
            head = a["paras"][0]
            entries = _entry(rng, b), _entry(rng, other(b))
            pairs.append(("live_blog", False, "\n".join([head, *entries[0]]), "\n".join([head, *entries[1]])))
    return pairs


def _correct(rng: random.Random, text: str, replacements: Callable[[], list[str]], count: int) -> str:
    """``text`` with ``count`` of its words (at random places) replaced by words of another article."""
    spans = [m.span() for m in neardup._WORD.finditer(text)]
    for start, end in sorted(rng.sample(spans, min(count, len(spans))), reverse=True):
        word = neardup._WORD.findall(" ".join(replacements())) or ["x"]
        text = text[:start] + rng.choice(word) + text[end:]
    return text


def _insert(rng: random.Random, paras: list[str], quote: str) -> str:
    at = rng.randrange(len(paras) + 1)
    return "\n".join([*paras[:at], quote, *paras[at:]])


def _entry(rng: random.Random, doc: dict[str, Any]) -> list[str]:
    """One live-blog entry: one to three paragraphs in a row of an article."""
    size = rng.randint(1, 3)
    start = rng.randrange(max(1, len(doc["paras"]) - size + 1))
    return doc["paras"][start:start + size]


def jaccard(a: str, b: str) -> float:
    sa, sb = set(neardup.shingles(a)), set(neardup.shingles(b))
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def evaluate(pairs: list[tuple[str, bool, str, str]]) -> dict[str, Any]:
    rows = []
    for kind, positive, a, b in pairs:
        sa, sb = neardup.signature(a), neardup.signature(b)
        assert sa is not None and sb is not None
        banded = bool(set(sa.bands) & set(sb.bands))
        rows.append((kind, positive, banded, neardup.similarity(sa.values, sb.values), jaccard(a, b)))
    curve = []
    for threshold in THRESHOLDS:
        tp = sum(1 for _, pos, band, est, _ in rows if pos and band and est >= threshold)
        fp = sum(1 for _, pos, band, est, _ in rows if not pos and band and est >= threshold)
        fn = sum(1 for _, pos, band, est, _ in rows if pos and not (band and est >= threshold))
        exact_tp = sum(1 for _, pos, _, _, j in rows if pos and j >= threshold)
        exact_fp = sum(1 for _, pos, _, _, j in rows if not pos and j >= threshold)
        by_kind = {}
        for kind in POSITIVE + NEGATIVE:
            mine = [r for r in rows if r[0] == kind]
            caught = sum(1 for _, _, band, est, _ in mine if band and est >= threshold)
            by_kind[kind] = (caught, len(mine))
        curve.append({
            "threshold": threshold,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
            "exact_precision": exact_tp / (exact_tp + exact_fp) if exact_tp + exact_fp else 1.0,
            "exact_recall": exact_tp / (tp + fn) if tp + fn else 1.0,
            "by_kind": by_kind,
        })
    positives = [r for r in rows if r[1]]
    negatives = [r for r in rows if not r[1]]
    return {
        "pairs": len(rows), "positives": len(positives), "negatives": len(negatives),
        "band_recall": sum(r[2] for r in positives) / len(positives),
        "worst_positives": sorted((round(r[3], 3), r[0]) for r in positives)[:8],
        "top_negatives": sorted(((round(r[3], 3), r[0]) for r in negatives), reverse=True)[:8],
        "curve": curve,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+", type=Path)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--min-words", type=int, default=50)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    docs = load(args.data, args.min_words)
    print(f"{len(docs)} articles of >= {args.min_words} words from {', '.join(map(str, args.data))}", file=sys.stderr)
    pairs = make_pairs(docs, args.seed)
    report = evaluate(pairs)
    print(f"pairs: {report['pairs']} ({report['positives']} near-duplicates, {report['negatives']} different); "
          f"shingles of {neardup.SHINGLE} words, {neardup.NUM_PERM} permutations, "
          f"{neardup.BANDS} bands x {neardup.ROWS} rows; positives sharing a band: {report['band_recall']:.4f}")
    kinds = POSITIVE + NEGATIVE
    print("threshold precision recall | exact-P exact-R | " + " ".join(kinds))
    for row in report["curve"]:
        caught = " ".join(f"{row['by_kind'][k][0]}/{row['by_kind'][k][1]}" for k in kinds)
        mark = " <- shipped" if abs(row["threshold"] - neardup.THRESHOLD) < 1e-9 else ""
        print(f"{row['threshold']:.2f} {row['precision']:.4f} {row['recall']:.4f} | "
              f"{row['exact_precision']:.4f} {row['exact_recall']:.4f} | {caught}{mark}")
    print("lowest positives:", report["worst_positives"])
    print("highest negatives:", report["top_negatives"])
    if args.json:
        args.json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
