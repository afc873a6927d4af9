"""The ``newsclean`` command: ``newsclean clean`` and ``newsclean explain``.

Exit codes: 0 when the run finished (rejects included), 1 when the output cannot be written,
2 for a usage error, 3 when an input path does not exist or a glob matched nothing (the other
inputs are still cleaned and written), 130 when interrupted (Ctrl-C; the output is whole lines,
``--resume`` goes on).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pipelines.core.cleaner import CleanOptions
from pipelines.core.extract import MODES
from pipelines.run import usable_cores

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_OUTPUT = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INTERRUPTED = 130


def _version() -> str:
    from pipelines.compat import installed

    return installed("newsclean")


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number of 1 or more, not {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number above 0, not {value!r}") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {number}")
    return number


def _shard(value: str) -> tuple[int, int]:
    """``I/N`` with 1 <= I <= N, as a user counts; kept 0-based."""
    try:
        index, count = (int(x) for x in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N such as 1/4, not {value!r}") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"I must be between 1 and N in I/N, not {value!r}")
    return index - 1, count


def _add_core_options(parser: argparse.ArgumentParser) -> None:
    defaults = CleanOptions()
    group = parser.add_argument_group("cleaning limits")
    group.add_argument("--max-page-bytes", type=_positive_int, default=defaults.max_page_bytes, metavar="N",
                       help="drop pages larger than N bytes, decompressed (default %(default)s)")
    group.add_argument("--time-limit", type=_positive_float, default=defaults.time_limit, metavar="SECONDS",
                       help="drop a page whose cleaning takes longer (default %(default)s)")
    group.add_argument("--min-words", type=_positive_int, default=defaults.min_words, metavar="N",
                       help="drop records with fewer words (default %(default)s)")
    group.add_argument("--extraction-mode", choices=MODES, default=defaults.extraction_mode,
                       help="trafilatura's mode: favor_precision, its default, or favor_recall (default %(default)s)")
    group.add_argument("--favor-precision", action="store_true", help="same as --extraction-mode precision")
    group.add_argument("--max-elements", type=_positive_int, default=defaults.max_elements, metavar="N",
                       help="drop pages whose tree has more nodes (default %(default)s)")
    group.add_argument("--extensive-dates", action="store_true",
                       help="let htmldate search the page text for a date when the markup gives none (slower)")
    group.add_argument("--language-sample", type=_positive_int, default=defaults.language_sample, metavar="CHARS",
                       help="characters of text the language is detected on (default %(default)s)")
    group.add_argument("--single-candidate", action="store_true",
                       help="take trafilatura's text as it is: no other candidate (trafilatura's balanced mode, "
                            "readability, the page's JSON-LD articleBody) is asked")


def _core_options(args: argparse.Namespace, debug: bool) -> CleanOptions:
    return CleanOptions(max_page_bytes=args.max_page_bytes, max_elements=args.max_elements, time_limit=args.time_limit,
                        min_words=args.min_words, debug=debug, favor_precision=args.favor_precision,
                        extraction_mode=args.extraction_mode, extensive_dates=args.extensive_dates,
                        language_sample=args.language_sample, single_candidate=args.single_candidate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsclean", description="Boilerplate-free article records from news pages.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    clean = sub.add_parser(
        "clean", help="clean saved pages, WARC archives, text or JSONL into JSONL records",
        description="Clean saved pages into the same records the crawl writes. INPUT is a file (.html, .htm, "
                    ".html.gz, .warc, .warc.gz, .txt, .jsonl), a folder (recursive), a glob pattern, or - for "
                    "a list of paths on stdin.")
    clean.add_argument("inputs", nargs="+", metavar="INPUT")
    clean.add_argument("-o", "--output", required=True, metavar="OUT.jsonl", help="output file, - for stdout")
    clean.add_argument("-j", "--jobs", type=_positive_int, default=usable_cores(), metavar="N",
                       help="worker processes (default: all cores, %(default)s here); 1 cleans in this process")
    clean.add_argument("--ordered", action="store_true", help="write records in input order")
    clean.add_argument("--resume", action="store_true",
                       help="append to OUT, skipping inputs whose source is already in OUT (or in --rejects)")
    clean.add_argument("--state", metavar="DIR", help="persistent dedup store shared with scheduled crawls")
    clean.add_argument("--near-duplicates", choices=("drop", "mark", "off"), default="drop", metavar="POLICY",
                       help="drop (default), mark (write with near_duplicate_of) or off: records whose text is "
                            "nearly that of a record written earlier (also in --state)")
    clean.add_argument("--stats", metavar="FILE", help="write the run's counters as JSON")
    clean.add_argument("--rejects", metavar="FILE", help="write one JSON line per dropped or failed page")
    clean.add_argument("--debug", action="store_true", help="keep the removed text per rule in each record")
    clean.add_argument("--shard", type=_shard, default=None, metavar="I/N",
                       help="clean only shard I of N (1-based), by a stable hash of each page's source: run "
                            "the same command with 1/N … N/N on N machines to split a corpus")
    clean.add_argument("--text-field", default="text", metavar="NAME", help="JSONL field to re-clean (default text)")
    clean.add_argument("--chunk-size", type=_positive_int, default=4, metavar="N",
                       help="pages sent to a worker at a time (default %(default)s)")
    progress = clean.add_mutually_exclusive_group()
    progress.add_argument("--progress", dest="progress", action="store_true", default=None,
                          help="show the progress bar even when stderr is not a terminal")
    progress.add_argument("--no-progress", dest="progress", action="store_false")
    clean.add_argument("-q", "--quiet", action="store_true", help="no summary at the end")
    _add_core_options(clean)
    clean.set_defaults(handler=_clean)

    explain = sub.add_parser("explain", help="show what each rule removed from a page, and why",
                             description="Clean one page in debug mode and print every removal: rule, category, "
                                         "the removed text shortened.")
    explain.add_argument("page", metavar="PAGE",
                         help="a saved page (.html, .html.gz) or a WARC record as warc:<path>#<offset>")
    explain.add_argument("--url", default=None, help="the page's URL (default: from its .meta.json sidecar)")
    explain.add_argument("--html", metavar="FILE", help="write the page with removed blocks highlighted")
    explain.add_argument("--width", type=_positive_int, default=100, metavar="N",
                         help="shorten removed text to N characters (default %(default)s)")
    _add_core_options(explain)
    explain.set_defaults(handler=_explain)
    return parser


def _clean(args: argparse.Namespace) -> int:
    from pipelines.run.offline import CleanJob, OutputError, RunOptions, run_clean

    if args.resume and args.output == "-":
        print("newsclean clean: --resume needs an output file, not stdout", file=sys.stderr)
        return EXIT_USAGE
    if args.inputs.count("-") > 1:
        print("newsclean clean: - (paths on stdin) may be given once", file=sys.stderr)
        return EXIT_USAGE
    state = None
    if args.state:
        from pipelines.store import open_state

        # export mode: a claim is committed once its line is written (see pipelines.run.dedup)
        state = open_state(args.state, commit="export")
    job = CleanJob(
        inputs=args.inputs,
        output=args.output,
        options=_core_options(args, args.debug),
        run=RunOptions(jobs=args.jobs, chunk_size=args.chunk_size, ordered=args.ordered, progress=args.progress),
        resume=args.resume,
        rejects=args.rejects,
        stats_file=args.stats,
        text_field=args.text_field,
        state=state,
        stdin=sys.stdin if "-" in args.inputs else None,
        shard=args.shard,
        near=args.near_duplicates,
    )
    try:
        stats = run_clean(job)
    except OutputError as exc:
        print(f"newsclean clean: {exc}", file=sys.stderr)
        return EXIT_OUTPUT
    except KeyboardInterrupt:
        print("newsclean clean: interrupted; run again with --resume to go on", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if state is not None:
            state.close()
    if not args.quiet:
        print(stats.summary(), file=sys.stderr)
    missing = stats.dropped.get("not_found", 0)
    if missing:
        print(f"newsclean clean: {missing} input path(s) not found (see the log above)", file=sys.stderr)
        return EXIT_INPUT
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    from pipelines.cli.explain import ExplainError, explain_page

    try:
        explain_page(args.page, url=args.url, html_out=args.html, options=_core_options(args, True),
                     width=args.width, out=sys.stdout)
    except ExplainError as exc:
        print(f"newsclean explain: {exc}", file=sys.stderr)
        return EXIT_OUTPUT
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        logging.getLogger("trafilatura").setLevel(logging.ERROR)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
