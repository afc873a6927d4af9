"""The cleaning core: page bytes in, one article record (or a drop with a reason) out. No Scrapy.

The public names are here; :mod:`pipelines.core.cleaner` runs the steps, one module per step
(``decode``, ``unpack``, ``metadata``, ``dom_rules``, ``extract``, ``language``,
``line_rules``, ``hashing``, ``record``).

The names are loaded on first use (PEP 562): a process that only reads inputs and writes records
(the parent of a worker pool) imports :mod:`pipelines.core.page` and :mod:`pipelines.core.record`
without trafilatura, lxml, langdetect and numpy (about 0.3 s of CPU at start).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.core.cleaner import DROP_REASONS, Cleaner, clean_page
    from pipelines.core.page import CleanOptions, Drop, Page
    from pipelines.core.record import Record

__all__ = ["DROP_REASONS", "CleanOptions", "Cleaner", "Drop", "Page", "Record", "clean_page"]

_WHERE = {
    **dict.fromkeys(("DROP_REASONS", "Cleaner", "clean_page"), "pipelines.core.cleaner"),
    **dict.fromkeys(("CleanOptions", "Drop", "Page"), "pipelines.core.page"),
    "Record": "pipelines.core.record",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
