"""The ``newsclean`` command: ``newsclean clean`` and ``newsclean explain``.

Exit codes (:mod:`pipelines.exit_codes`, ``docs/exit-codes.md``): 0 when the run finished
(drops included), 1 when the output cannot be written, 2 for a usage error (an existing output
without ``--resume``/``--append``/``--force`` included), 3 when an input path does not exist or a
glob matched nothing (the other inputs are still cleaned and written), 4 when nothing could be
read, 5 when the share of failed pages passed ``--max-failure-share``, 130 when interrupted
(Ctrl-C; the output is whole lines, ``--resume`` goes on), 141 when the reader of stdout went
away (``| head``). When several apply, the smallest is given.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipelines import exit_codes
from pipelines.core.page import MODES, CleanOptions
from pipelines.io.output import Mode
from pipelines.run import usable_cores

if TYPE_CHECKING:
    from pipelines.run.offline import Stats

logger = logging.getLogger(__name__)

EXIT_OK = exit_codes.OK
EXIT_OUTPUT = exit_codes.OUTPUT
EXIT_USAGE = exit_codes.USAGE
EXIT_INPUT = exit_codes.INPUT
EXIT_NOTHING = exit_codes.NOTHING
EXIT_FAILURES = exit_codes.FAILURES
EXIT_INTERRUPTED = exit_codes.INTERRUPTED
EXIT_CLOSED_PIPE = exit_codes.CLOSED_PIPE


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


def _share(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a share between 0 and 1, not {value!r}") from None
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"a share between 0 and 1, not {number}")
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
    existing = clean.add_argument_group(
        "an existing output", "OUT (or the --rejects file) may not exist unless one of these says what to do with "
                              "it; a new or replaced file is written as FILE.partial and renamed at the end"
    ).add_mutually_exclusive_group()
    existing.add_argument("--resume", action="store_true",
                          help="go on after an interrupted run: skip inputs whose source is already in OUT (or "
                               "OUT.partial, or --rejects) and append the others")
    existing.add_argument("--append", action="store_true",
                          help="add this run's records to the end of OUT (no input is skipped)")
    existing.add_argument("--force", action="store_true", help="replace OUT (and --rejects) at the end of the run")
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
    clean.add_argument("--max-failure-share", type=_share, default=exit_codes.DEFAULT_MAX_FAILURE_SHARE,
                       metavar="SHARE",
                       help="exit with code 5 when more than this share of the pages failed: could not be read, "
                            "decoded or parsed, timed out, or killed their worker (default %(default)s)")
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


def _mode(args: argparse.Namespace) -> Mode:
    for mode in (Mode.RESUME, Mode.APPEND, Mode.FORCE):
        if getattr(args, mode.value):
            return mode
    return Mode.NEW


def _clean(args: argparse.Namespace) -> int:
    if args.jobs > 1:  # the workers' forkserver loads the core while this process starts the run
        from pipelines.run.pool import start_forkserver

        start_forkserver("pipelines.io.inputs")
    from pipelines.io.output import OutputExists
    from pipelines.run.offline import CleanJob, OutputError, RunOptions, StdoutClosed, run_clean
    from pipelines.store.base import StateLost, StateUnavailable

    mode = _mode(args)
    if args.output == "-" and mode in (Mode.RESUME, Mode.APPEND):
        print(f"newsclean clean: --{mode.value} needs an output file, not stdout", file=sys.stderr)
        return EXIT_USAGE
    if args.inputs.count("-") > 1:
        print("newsclean clean: - (paths on stdin) may be given once", file=sys.stderr)
        return EXIT_USAGE
    files = [(flag, os.path.realpath(path)) for flag, path in (("-o", args.output), ("--rejects", args.rejects),
                                                                ("--stats", args.stats)) if path and path != "-"]
    for number, (flag, path) in enumerate(files):
        same = [other for other, where in files[:number] if where == path]
        if same:
            print(f"newsclean clean: {same[0]} and {flag} name the same file", file=sys.stderr)
            return EXIT_USAGE
    job = CleanJob(
        inputs=args.inputs,
        output=args.output,
        options=_core_options(args, args.debug),
        run=RunOptions(jobs=args.jobs, chunk_size=args.chunk_size, ordered=args.ordered, progress=args.progress),
        mode=mode,
        rejects=args.rejects,
        stats_file=args.stats,
        text_field=args.text_field,
        stdin=sys.stdin if "-" in args.inputs else None,
        shard=args.shard,
        near=args.near_duplicates,
    )
    try:
        job.files()  # refuse an existing output before the state is opened: nothing runs
    except OutputExists as exc:
        print(f"newsclean clean: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.shard is not None and not args.state:
        print(f"newsclean clean: warning: --shard {args.shard[0] + 1}/{args.shard[1]} without --state: an article "
              "found in several shards is written once per shard; give every shard the same --state (redis://… "
              "across machines, one folder on one machine) to write it once (docs/offline.md, Shards)",
              file=sys.stderr)
    if args.state:
        from pipelines.store import open_state

        # export mode: a claim is committed once its line is written (see pipelines.run.dedup)
        try:
            job.state = open_state(args.state, commit="export")
        except StateLost as exc:
            print(f"newsclean clean: {exc}", file=sys.stderr)
            return EXIT_OUTPUT
        except Exception as exc:  # OSError, sqlite3.Error, redis' ConnectionError …: one line, no traceback
            print(f"newsclean clean: cannot open the state {args.state}: {exc}", file=sys.stderr)
            return EXIT_OUTPUT
    previous = signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM ends the run as Ctrl-C does
    try:
        stats = run_clean(job)
    except OutputExists as exc:  # appeared since the check above
        print(f"newsclean clean: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StateUnavailable as exc:
        print(f"newsclean clean: {exc}", file=sys.stderr)
        return EXIT_OUTPUT
    except OutputError as exc:  # a full disk too: one line, the whole lines so far kept
        where = "" if args.output == "-" or not exc.during_run else \
            f"; the whole lines so far are in {job.files()[0].write_path}: run again with --resume to go on"
        print(f"newsclean clean: {exc}{where}", file=sys.stderr)
        return EXIT_OUTPUT
    except StdoutClosed:
        return _closed_pipe()
    except KeyboardInterrupt:
        where = "" if args.output == "-" else f" (the lines so far are in {job.files()[0].write_path})"
        print(f"newsclean clean: interrupted; run again with --resume to go on{where}", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
        if job.state is not None:
            try:
                job.state.close()
            except Exception as exc:  # a full disk again, after the run's own error was reported
                logger.debug("cannot close the state: %s", exc)
    if not args.quiet:
        print(stats.summary(), file=sys.stderr)
    return _clean_exit(stats, args.max_failure_share, job.output)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in sorted(counts.items(), key=lambda kv: -kv[1]))


def _clean_exit(stats: Stats, max_failure_share: float, output: str) -> int:
    """The exit code of a finished run, with one line on stderr saying why when it is not 0."""
    first = stats.first_failure
    example = f"; first: {first.source}: {first.reason}" + (f" ({first.detail})" if first.detail else "") \
        if first is not None else ""
    missing = stats.dropped.get("not_found", 0)
    if missing:
        unread = "; nothing could be read, so the output was not written" if stats.nothing_read else ""
        print(f"newsclean clean: {missing} input path(s) not found, first: "
              f"{stats.first_failures['not_found'].source}{unread}", file=sys.stderr)
        return EXIT_INPUT
    if stats.nothing_read:
        what = (f"all {stats.pages_read} page(s) failed ({_counts(stats.failures)}){example}" if stats.pages_read
                else "the inputs hold no page to clean")
        written = "" if output == "-" else f"; {output} not written"
        print(f"newsclean clean: nothing could be read: {what}{written}", file=sys.stderr)
        return EXIT_NOTHING
    if stats.failure_share > max_failure_share:
        print(f"newsclean clean: {stats.failed} of {stats.pages_read} pages failed ({stats.failure_share:.0%}, over "
              f"--max-failure-share {max_failure_share:g}): {_counts(stats.failures)}{example}", file=sys.stderr)
        return EXIT_FAILURES
    return EXIT_OK


def _closed_pipe() -> int:
    """stdout's reader went away: no more output, no message (the flush at exit would fail too)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_CLOSED_PIPE


def _explain(args: argparse.Namespace) -> int:
    from pipelines.cli.explain import ExplainError, explain_page

    try:
        explain_page(args.page, url=args.url, html_out=args.html, options=_core_options(args, True),
                     width=args.width, out=sys.stdout)
        sys.stdout.flush()
    except ExplainError as exc:
        print(f"newsclean explain: {exc}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        return _closed_pipe()
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
