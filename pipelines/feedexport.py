"""An orjson JSON-lines exporter for Scrapy's Feed exports (formats ``jsonl`` and ``jsonlines``).

Each item is written by :class:`pipelines.io.writer.JsonlWriter` (the writer ``newsclean clean`` uses:
:func:`pipelines.core.record.dumps`, one ``write`` call, then a flush): a killed crawl leaves only whole lines
behind, and when the feed file is reopened for appending, a partial last line left by an earlier
kill is cut off first. Registered in ``FEED_EXPORTERS`` by ``crawler/settings.py``, so URI
templates, batching, compression (``postprocessing``) and storage backends all apply.
"""

from __future__ import annotations

import logging
import os
from typing import IO, Any

from itemadapter import ItemAdapter
from scrapy.exporters import BaseItemExporter

from pipelines.io.writer import JsonlWriter, truncate_partial_line

logger = logging.getLogger(__name__)

#: ``id()`` of the items an exporter failed to write, until the dedup pipeline's ``item_scraped``
#: (connected after the exporters', so it runs next) takes them: their hash is then released, not
#: committed, and the run ends with exit code 1 (:func:`failed_to_write`).
_FAILED: set[int] = set()


def failed_to_write(item: Any) -> bool:
    """Did an exporter fail to write ``item``'s line (disk full, a closed file)? Asked once."""
    try:
        _FAILED.remove(id(item))
    except KeyError:
        return False
    return True


class JsonLinesExporter(BaseItemExporter):
    """One orjson line per item (a record dict is written as is, in schema order)."""

    def __init__(self, file: IO[bytes], **kwargs: Any) -> None:
        super().__init__(dont_fail=True, **kwargs)
        self.file = file
        self.writer = JsonlWriter(file, flush=True)

    def start_exporting(self) -> None:
        drop_partial_line(self.file)

    def export_item(self, item: Any) -> None:
        record = item if isinstance(item, dict) else ItemAdapter(item).asdict()
        if self.fields_to_export:
            record = dict(self.get_serialized_fields(item, default_value=None, include_empty=True))
        try:
            self.writer.write(record)
        except BaseException:
            _FAILED.add(id(item))
            raise


def drop_partial_line(file: IO[bytes]) -> int:
    """If ``file`` is a local file whose last line was cut by a kill, truncate it after its last
    whole line (:func:`pipelines.io.writer.truncate_partial_line`). The number of bytes cut."""
    name = getattr(file, "name", None)
    if not isinstance(name, str) or not os.path.isfile(name):
        return 0
    file.flush()
    cut = truncate_partial_line(name)
    if cut:
        logger.warning("%s: cut a partial last line (%d bytes) left by an interrupted run", name, cut)
    return cut
