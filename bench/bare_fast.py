"""Bare trafilatura as a whole process, for bench/speed.py's comparison with ``newsclean clean -j 1``.

    .venv/bin/python bench/bare_fast.py FOLDER OUT.jsonl [--default]

The smallest fair equivalent of ``newsclean clean FOLDER -o OUT.jsonl -j 1``: every saved page of
``FOLDER`` (``*.html``, ``*.html.gz``; not recursive), in name order, read and unpacked, its URL
taken from its ``.meta.json`` sidecar, through
``trafilatura.extract(html, url=url, with_metadata=True, include_comments=False, fast=True)``
(``--default``: without ``fast=True``), one orjson line ``{"url", "text"}`` written per text.
"""

from __future__ import annotations

import gzip
import logging
import os
import sys

import orjson
import trafilatura


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[2:] not in ([], ["--default"]):
        print(__doc__, file=sys.stderr)
        return 2
    folder, out = argv[0], argv[1]
    fast = not argv[2:]
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("htmldate").setLevel(logging.ERROR)
    written = 0
    with open(out, "wb") as stream:
        for name in sorted(os.listdir(folder)):
            if not name.endswith((".html", ".html.gz")):
                continue
            path = os.path.join(folder, name)
            with open(path, "rb") as page:
                body = page.read()
            if name.endswith(".gz"):
                body = gzip.decompress(body)
            url = None
            if os.path.isfile(path + ".meta.json"):
                with open(path + ".meta.json", "rb") as sidecar:
                    url = orjson.loads(sidecar.read()).get("url")
            text = trafilatura.extract(body, url=url, with_metadata=True, include_comments=False, fast=fast)
            if text:
                stream.write(orjson.dumps({"url": url, "text": text}) + b"\n")
                written += 1
    return 0 if written else 4


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
