"""Exit codes of ``newsclean clean``, ``newsclean explain`` and ``scrapy crawl news``: one table,
documented in ``docs/exit-codes.md``. A scheduler reads them; the numbers never change meaning.
"""

from __future__ import annotations

#: The run finished; every failure is accounted for as a per-page drop (counted in the summary,
#: and in ``--rejects`` offline).
OK = 0
#: The output (or the state) cannot be written, a full disk included, or an unexpected internal error.
OUTPUT = 1
#: Usage or configuration error: a bad option, an unknown site, a bad ``since``, conflicting
#: settings, an existing output file without ``--resume``/``--append``/``--force``. Nothing ran.
USAGE = 2
#: An input path does not exist or a glob matched nothing (the other inputs were still cleaned).
INPUT = 3
#: Nothing could be fetched or read: no response at all in a crawl, no readable input offline.
NOTHING = 4
#: The share of failed requests (crawl) or failed pages (offline) passed the threshold
#: (``NEWSCLEAN_MAX_FAILURE_SHARE`` / ``--max-failure-share``); what was cleaned is written.
FAILURES = 5
#: Interrupted (Ctrl-C, SIGTERM): the output is whole lines; run again (``--resume``) to go on.
INTERRUPTED = 130
#: The reader of stdout went away (``newsclean explain page.html | head``, ``clean -o - | head``):
#: the command stopped quietly, as a program the shell ends by SIGPIPE (128 + 13).
CLOSED_PIPE = 141

#: The default threshold of :data:`FAILURES`: more than half of the requests or pages failed.
DEFAULT_MAX_FAILURE_SHARE = 0.5
