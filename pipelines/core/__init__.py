"""The cleaning core: page bytes in, one article record (or a drop with a reason) out. No Scrapy.

The public names are here; :mod:`pipelines.core.cleaner` runs the steps, one module per step
(``decode``, ``unpack``, ``metadata``, ``dom_rules``, ``extract``, ``language``,
``line_rules``, ``hashing``, ``record``).
"""

from pipelines.core.cleaner import DROP_REASONS, Cleaner, CleanOptions, Drop, Page, Record, clean_page

__all__ = ["DROP_REASONS", "CleanOptions", "Cleaner", "Drop", "Page", "Record", "clean_page"]
