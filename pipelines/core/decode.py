"""The one decoding boundary: page bytes to text, exactly as Scrapy's ``TextResponse`` decodes."""

from __future__ import annotations

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


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return ``(encoding, text)`` for a page body and its Content-Type header value, if any."""
    encoding, text = html_to_unicode(
        content_type or "", body, default_encoding=_DEFAULT_ENCODING, auto_detect_fun=_auto_detect
    )
    return encoding, text
