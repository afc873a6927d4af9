"""``scrapy crawl``, as Scrapy's, with what a scheduler needs (listed in ``COMMANDS_MODULE``).

* Before anything starts: the spider's arguments are checked (``NewsSpider.check_arguments``: an
  unknown or missing ``-a site``, a bad ``-a since``) and so are conflicting settings (shared mode
  with a local state, :func:`crawler.shared.state_conflict`). Each problem is one line on stderr
  and exit code 2, nothing runs. An unknown spider name too.
* The folder of ``LOG_FILE`` is made if it does not exist (a cron line's ``logs/``).
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

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.spiderloader import get_spider_loader

from crawler.outcomes import SHARE_SETTING, Verdict, crawl_verdict
from crawler.profiles import ProfileError
from crawler.shared import state_conflict
from pipelines import exit_codes

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
        log_file = self.settings.get("LOG_FILE")
        if log_file and self.settings.getbool("LOG_ENABLED", True):
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)

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
        verdict = crawl_verdict(
            stats,
            self.settings.getfloat(SHARE_SETTING, exit_codes.DEFAULT_MAX_FAILURE_SHARE),
            started=not self.crawler_process.bootstrap_failed,
        )
        self.report(verdict)
        self.exitcode = verdict.code

    def report(self, verdict: Verdict) -> None:
        level = logging.INFO if verdict.code == exit_codes.OK else logging.ERROR
        logger.log(level, "exit code %s: %s", verdict.code, verdict.reason)
        to_stderr = self.settings is not None and self.settings.getbool("LOG_ENABLED", True) and not self.settings.get(
            "LOG_FILE"
        )
        if verdict.code != exit_codes.OK and not to_stderr:
            sys.stderr.write(f"scrapy crawl: exit code {verdict.code}: {verdict.reason}\n")


__all__ = ["Command"]
