"""Decode bank text files whose charset nobody declared.

Banks export UTF-8 (with or without BOM) or a legacy single-byte code page: CP1252/Latin-1 in
Western Europe, CP1250 in Central Europe, CP1257 in the Baltics. Strict UTF-8 first (it almost
never decodes legacy text by accident), then charset-normalizer restricted to those code pages.
"""

from __future__ import annotations

__all__ = ["LEGACY_ENCODINGS", "decode_text"]

LEGACY_ENCODINGS = ("cp1252", "cp1250", "cp1257", "latin-1")


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return ``(text, encoding)``. A declared charset wins when it decodes cleanly."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if declared:
        try:
            return data.decode(declared), declared.lower()
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is not None:
        return str(best), best.encoding
    # latin-1 maps every byte: the last resort never fails and loses nothing
    return data.decode("latin-1"), "latin-1"
