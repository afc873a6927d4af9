"""``scrapy crawl``, as Scrapy's, with what a scheduler needs (listed in ``COMMANDS_MODULE``).

* Before anything starts: the spider's arguments are checked (``NewsSpider.check_arguments``: an
  unknown or missing ``-a site``, a bad ``-a since``) and so are conflicting settings (shared mode
  with a local state, :func:`crawler.shared.state_conflict`). Each problem is one line on stderr
  and exit code 2, nothing runs. An unknown spider name too.
* The folders it writes to are made if they do not exist (``LOG_FILE``'s, a cron line's
  ``logs/``; the state's; each local feed's); one that cannot be made is one line on stderr and
  exit code 1, before anything starts.
* When the crawl ends, :func:`crawler.outcomes.crawl_verdict` over its stats gives the exit code
  (``docs/exit-codes.md``): 4 when nothing could be fetched, 5 when more than
  ``NEWSCLEAN_MAX_FAILURE_SHARE`` of the requests failed, 0 for a run whose failures are all
  counted drops. The reason is logged; when the log does not go to stderr (``LOG_FILE``), a run
  that did not exit 0 also says it on stderr, one line, so cron mails it.

``-o`` (append) and ``-O`` (overwrite) are Scrapy's own.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.spiderloader import get_spider_loader

from crawler.outcomes import SHARE_SETTING, Verdict, crawl_verdict
from crawler.profiles import ProfileError
from crawler.shared import redis_url, state_conflict
from pipelines import exit_codes
from pipelines.store import require_redis

if TYPE_CHECKING:
    import argparse

logger = logging.getLogger(__name__)


class Command(ScrapyCrawlCommand):
    def long_desc(self) -> str:
        return (
            "Run a spider of the current project, by name (scrapy crawl news -a site=NAME). Exit codes: "
            "0 ran, 2 usage or conflicting settings, 4 nothing fetched, 5 too many failed requests "
            f"({SHARE_SETTING}); see docs/exit-codes.md."
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        if len(args) == 1:  # else Scrapy's own messages, from run()
            problem = self.problem(args[0], opts.spargs)
            if problem is not None:  # before the crawler process exists: nothing logged, nothing run
                sys.stderr.write(f"scrapy crawl: {problem}\n")
                raise SystemExit(exit_codes.USAGE)
            unwritable = self.unwritable()
            if unwritable is not None:
                sys.stderr.write(f"scrapy crawl: {unwritable}\n")
                raise SystemExit(exit_codes.OUTPUT)
            unreachable = self.unreachable()
            if unreachable is not None:
                sys.stderr.write(f"scrapy crawl: {unreachable}\n")
                raise SystemExit(exit_codes.OUTPUT)

    def folders(self) -> list[tuple[str, Path]]:
        """The local folders the crawl will write to: the log file's, each local feed's (up to its
        first URI placeholder, as ``%(time)s``), the state's."""
        assert self.settings is not None
        found: list[tuple[str, Path]] = []
        log_file = self.settings.get("LOG_FILE")
        if log_file and self.settings.getbool("LOG_ENABLED", True):
            found.append((f"the log file {log_file}", Path(log_file).parent))
        for uri in self.settings.getdict("FEEDS"):
            text = str(uri)
            parts = urlsplit(text)
            if text == "-" or (parts.scheme not in ("", "file") and len(parts.scheme) > 1):  # stdout, s3:// …
                continue
            path = parts.path if parts.scheme == "file" else text
            fixed = path.split("%(", 1)[0]
            folder = Path(fixed) if fixed.endswith(("/", "\\")) else Path(fixed).parent
            found.append((f"the feed {text}", folder))
        state = str(self.settings.get("NEWSCLEAN_STATE_DIR") or "")
        if (self.settings.getbool("NEWSCLEAN_STATE_ENABLED", True) and redis_url(self.settings) is None
                and not state.startswith(("redis://", "rediss://", "unix://"))):
            found.append((f"the state {state or 'state/'}", Path(state or "state")))
        return found

    def unwritable(self) -> str | None:
        """Make the folders the crawl writes to (a cron line's ``logs/`` and ``state/``); one line
        naming the first that cannot be made, else None."""
        for what, folder in self.folders():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                return f"cannot write {what}: {exc.strerror or exc} ({folder})"
            if not folder.is_dir():
                return f"cannot write {what}: {folder} is not a folder"
        return None

    def unreachable(self) -> str | None:
        """Shared mode or a Redis state: one line when that Redis does not answer within its
        retry bound (``?retry_seconds=``), else None."""
        assert self.settings is not None
        state = str(self.settings.get("NEWSCLEAN_STATE_DIR") or "")
        url = redis_url(self.settings) or (state if state.startswith(("redis://", "rediss://", "unix://")) else None)
        if url is None:
            return None
        require_redis()
        import redis

        from pipelines.store.redis import DEFAULT_RETRY_SECONDS, bounded_client, parse_spec, unavailable

        server, options = parse_spec(url)
        client = bounded_client(server, float(options.get("retry_seconds") or DEFAULT_RETRY_SECONDS))
        try:
            client.ping()
        except redis.RedisError as exc:
            return str(unavailable(exc, server.split("@")[-1]))
        finally:
            client.close()
        return None

    def problem(self, spider_name: str, spider_args: dict[str, str]) -> str | None:
        """What stops the crawl from starting, in one line; None when it may start."""
        assert self.settings is not None
        loader = get_spider_loader(self.settings)
        try:
            spider_class = loader.load(spider_name)
        except KeyError:
            return f"unknown spider {spider_name!r} (known: {', '.join(sorted(loader.list()))})"
        check = getattr(spider_class, "check_arguments", None)
        if check is not None:
            try:
                check(spider_args, self.settings.get("NEWSCLEAN_SITES_DIR"))
            except (ProfileError, ValueError) as exc:
                return str(exc)
        conflict = state_conflict(self.settings)
        if conflict is not None:
            return conflict
        try:
            share = self.settings.getfloat(SHARE_SETTING, exit_codes.DEFAULT_MAX_FAILURE_SHARE)
        except ValueError:
            share = -1.0
        if not 0.0 <= share <= 1.0:
            return f"{SHARE_SETTING}={self.settings.get(SHARE_SETTING)}: a share between 0 and 1 (e.g. 0.5)"
        return None

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:  # Scrapy's messages
            super().run(args, opts)
            return
        assert self.settings is not None and self.crawler_process is not None
        crawler = self.crawler_process.create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        stats = crawler.stats.get_stats() if crawler.stats is not None else {}
        try:  # the crawl's own settings: a site profile's [settings] may set it too
            share = crawler.settings.getfloat(SHARE_SETTING, exit_codes.DEFAULT_MAX_FAILURE_SHARE)
        except ValueError:
            share = self.settings.getfloat(SHARE_SETTING, exit_codes.DEFAULT_MAX_FAILURE_SHARE)
        verdict = crawl_verdict(stats, share, started=not self.crawler_process.bootstrap_failed)
        self.report(verdict)
        self.exitcode = verdict.code

    def report(self, verdict: Verdict) -> None:
        level = logging.INFO if verdict.code == exit_codes.OK else logging.ERROR
        logger.log(level, "exit code %s: %s", verdict.code, verdict.reason)
        assert self.settings is not None
        log_on_stderr = self.settings.getbool("LOG_ENABLED", True) and not self.settings.get("LOG_FILE")
        if verdict.code != exit_codes.OK and not log_on_stderr:
            sys.stderr.write(f"scrapy crawl: exit code {verdict.code}: {verdict.reason}\n")


__all__ = ["Command"]
