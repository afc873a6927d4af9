"""Work for the pool's workers that kills its own worker on request, to test recovery.

Imported by the workers (the pool sends ``die_on_request`` by reference), so it must stay
importable without pytest: no test-only imports here.
"""

from __future__ import annotations

import os
import signal
import sys

from pipelines.core.cleaner import Cleaner, Drop, Page
from pipelines.core.record import Record

#: a page whose URL ends so kills every worker that cleans it
DIE = "#die"
#: a page whose URL ends ``#die-once=<path>`` kills the first worker that cleans it (creating <path>)
DIE_ONCE = "#die-once="


def die_on_request(cleaner: Cleaner, page: Page) -> Record | Drop:
    """Clean ``page``, unless its URL asks its worker to die (SIGKILL, as the OOM killer would)."""
    _, mark, flag = page.url.partition(DIE_ONCE)
    if page.url.endswith(DIE):
        os.kill(os.getpid(), signal.SIGKILL)
    elif mark:
        try:
            os.close(os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            pass
        else:
            os.kill(os.getpid(), signal.SIGKILL)
    return cleaner.clean(page)


def cleaner_origin(cleaner: Cleaner, page: Page) -> Record | Drop:
    """Say (as a drop's detail) whether this worker's cleaner is the one its forkserver prebuilt."""
    warm = sys.modules.get("pipelines.run.warm")
    prebuilt = warm is not None and cleaner is warm.DEFAULT
    return Drop("origin", page.source, page.url, "prebuilt" if prebuilt else "own")
