"""The one decoding boundary: page bytes to text, as Scrapy's ``TextResponse`` decodes, with one
exception: bytes that are valid UTF-8 and not plain ASCII are read as UTF-8 whatever the header or
the ``<meta>`` says.

Pages are re-encoded to UTF-8 on the way into archives and test sets while their ``<meta
charset>`` keeps the original (GB2312, ISO-8859-15 …), and servers send a default
``charset=ISO-8859-1`` for UTF-8 pages; decoded as declared, such a page is mojibake from the
first accented letter. The other way round, text in a legacy encoding (cp1252, GBK, Shift-JIS …)
with any non-ASCII character is almost never valid UTF-8 by chance: UTF-8's continuation bytes
must follow their lead byte exactly. A BOM still decides (UTF-16 bytes can be valid UTF-8).
"""

from __future__ import annotations

import codecs

from charset_normalizer import from_bytes
from w3lib.encoding import html_to_unicode, resolve_encoding

# Scrapy's TextResponse: default "ascii" (which w3lib resolves to cp1252), auto-detection trying
# the default and then UTF-8 when neither the header, a BOM nor a <meta> names a charset. Then, as
# Scrapy did up to 2.10, windows-1252 (the usual undeclared charset of Western news sites: Scrapy's
# newer statistical guess reads French cp1252 as cp1250, "à" as "ŕ"), and only for bytes that
# cp1252 cannot decode, the statistical guess.
_DEFAULT_ENCODING = "ascii"


def _auto_detect(data: bytes) -> str | None:
    for enc in (_DEFAULT_ENCODING, "utf-8", "cp1252"):
        try:
            data.decode(enc)
        except UnicodeError:
            continue
        return resolve_encoding(enc)
    match = from_bytes(data).best()
    return resolve_encoding(match.encoding) if match else None


_UTF8: str = resolve_encoding("utf-8") or "utf-8"
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return ``(encoding, text)`` for a page body and its Content-Type header value, if any."""
    encoding, text = html_to_unicode(
        content_type or "", body, default_encoding=_DEFAULT_ENCODING, auto_detect_fun=_auto_detect
    )
    if encoding != _UTF8 and not body.isascii() and not body.startswith(_BOMS):
        try:
            return _UTF8, body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return encoding, text
