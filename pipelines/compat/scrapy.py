"""Scrapy's internals that the crawler uses, behind an import guard.

The spider unpacks gzipped sitemaps with ``scrapy.utils.gz.gunzip(max_size=...)``, which raises
``_DecompressionMaxSizeExceeded`` (a ``ValueError``; private, in ``scrapy.utils._compression``)
when the unpacked body would pass the limit. On the fast path that class is caught by name; on the
public path (another Scrapy version, the class gone, or ``NEWSCLEAN_COMPAT=public``) any
``ValueError`` is caught and the class is recognised by its name.
"""

from __future__ import annotations

import scrapy

from pipelines.compat import Internals

#: The Scrapy versions whose ``scrapy.utils._compression`` was checked (pyproject's floor to the pinned one).
SCRAPY_VERSIONS = ("2.13.", "2.14.", "2.15.", "2.16.", "2.17.", "2.18.", "2.19.")
_TOO_LARGE_NAME = "_DecompressionMaxSizeExceeded"

INTERNALS = Internals("scrapy", scrapy.__version__, SCRAPY_VERSIONS)

try:
    from scrapy.utils._compression import _DecompressionMaxSizeExceeded
except ImportError as exc:  # pragma: no cover - a newer or patched Scrapy
    INTERNALS.missing.append(str(exc))
    _TOO_LARGE: type[Exception] = ValueError
else:
    _TOO_LARGE = _DecompressionMaxSizeExceeded


def gunzip_errors() -> tuple[type[Exception], ...]:
    """What ``gunzip`` raises for a broken gzip body or one that unpacks past its limit."""
    return (OSError, EOFError, _TOO_LARGE if INTERNALS.fast() else ValueError)


def unpacked_too_large(exc: BaseException) -> bool:
    """Is ``exc`` (one of :func:`gunzip_errors`) the unpacked-size limit?"""
    if INTERNALS.fast():
        return isinstance(exc, _TOO_LARGE)
    return any(cls.__name__ == _TOO_LARGE_NAME for cls in type(exc).__mro__)
