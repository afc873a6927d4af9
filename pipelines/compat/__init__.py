"""Every use of a library's private API, each behind a version check with the public API as the
fallback: an upgrade of trafilatura, langdetect or Scrapy may slow newsclean down, never stop it.

Each library has one module here (:mod:`pipelines.compat.trafilatura`, :mod:`pipelines.compat.langdetect`,
:mod:`pipelines.compat.scrapy`) that imports its internals behind an import guard and says, per
call, whether the fast path may run (:meth:`Internals.fast`): the installed version is one the
internals were checked against, every internal imported, and the public path is not forced. When
it may not, the step takes the library's public API and one warning per library is logged in the
process.

The public path is forced by ``NEWSCLEAN_COMPAT=public`` in the environment (worker processes
inherit it) or by :func:`use_public` (tests run both paths in one process).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

logger = logging.getLogger(__name__)

#: The environment variable that forces the public path when it says ``public``.
ENV_VAR = "NEWSCLEAN_COMPAT"

_forced: bool | None = None
#: libraries whose fallback has been announced in this process
_WARNED: set[str] = set()


def installed(distribution: str) -> str:
    """The installed version of ``distribution`` ("unknown" when it is not installed as a package)."""
    try:
        return version(distribution)
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def use_public(flag: bool | None = True) -> None:
    """Force the public path (``True``), allow the fast path (``False``), or follow
    ``NEWSCLEAN_COMPAT`` again (``None``)."""
    global _forced
    _forced = flag


def public_forced() -> bool:
    """Is the public path forced, by :func:`use_public` or by ``NEWSCLEAN_COMPAT=public``?"""
    if _forced is not None:
        return _forced
    return os.environ.get(ENV_VAR, "").strip().lower() == "public"


def warn_once(library: str, problem: str) -> None:
    """Log that ``library``'s steps take its public API, once per library and process."""
    if library in _WARNED:
        return
    _WARNED.add(library)
    logger.warning("%s; newsclean uses %s's public API instead (same results, slower)", problem, library)


@dataclass
class Internals:
    """What one library's fast path needs: a checked version, and every internal imported."""

    library: str
    #: the installed version (read by :meth:`problem`; tests change it to simulate an upgrade)
    version: str
    #: the version prefixes whose internals the fast path was checked against
    checked: tuple[str, ...]
    #: the internals that failed to import, one message each
    missing: list[str] = field(default_factory=list)

    def problem(self) -> str | None:
        """Why the fast path cannot run, or None."""
        if not self.version.startswith(self.checked):
            return (
                f"{self.library} {self.version} is not a version newsclean's fast path was checked against "
                f"({', '.join(v + 'x' if v.endswith('.') else v for v in self.checked)})"
            )
        if self.missing:
            return f"{self.library} {self.version} lacks internals newsclean uses ({'; '.join(self.missing)})"
        return None

    def fast(self) -> bool:
        """May this library's fast path run now? (When it may not for its version, warn once.)"""
        if public_forced():
            return False
        problem = self.problem()
        if problem is not None:
            warn_once(self.library, problem)
            return False
        return True
