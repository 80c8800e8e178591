"""Decode bank text files whose charset nobody declared.

Banks export UTF-8 (with or without BOM) or a legacy single-byte code page: CP1252/Latin-1 in
Western Europe, CP1250 in Central Europe, CP1257 in the Baltics. Strict UTF-8 first (it almost
never decodes legacy text by accident), then a small letter-frequency vote between the code pages.

Why not a general detector: on bank files the only non-ASCII bytes are a few accented letters in
names, and charset-normalizer (measured here) read a CP1250 "Łódź" as CP1252 "£ódŸ" and CP1257
"Rīga" as CP1250. The vote below ignores bytes that decode to the same letter in every candidate
(ä, ö, ü, é, ß carry no information), scores each remaining byte by how common its letter is in
the languages the code page serves, punishes symbols decoded inside text, and lets CP1250/CP1257
win only by a clear margin over CP1252, the common case. One ambiguous name ("Příbram" vs
"Pøíbram") can still fool it; a whole file of names from one region does not.
"""

from __future__ import annotations

from collections import Counter
from functools import cache

__all__ = ["LEGACY_ENCODINGS", "decode_text", "guess_legacy_encoding"]

LEGACY_ENCODINGS = ("cp1252", "cp1250", "cp1257", "latin-1")

# letter → weight: roughly how common the letter is in the languages each code page serves
# (Western: de fr es pt it nl nordic; Central: pl cs sk hu hr sl ro; Baltic: lv lt et).
_LETTER_WEIGHTS: dict[str, str] = {
    "cp1252": "é3 è3 à3 á2 ó2 ñ3 ç2 ø3 å3 ä2 ö2 ü2 ß2 æ2 ã2 ê2 í2 ú2 ë2 ô1 â1 õ1 ò1 ì1 ù1 "
    "î1 û1 ï1 ý.5 œ1 š.5 ž.5 ð.5 þ.5 ÿ.3",
    "cp1250": "ą3 ę3 ł3 ś2 ć2 ń2 ź2 ż2 ó2 č3 ř3 š3 ž3 ě3 ů2 á2 í2 ý2 é2 ú1.5 ő1.5 ű1.5 ň1 "
    "ť1 ď1 ľ1 ĺ.5 ŕ.5 ă1 ş1 ţ1 đ1 â.5 î.5 ô.5 ä2 ö2 ü2 ß2",
    "cp1257": "ā3 ē3 ī3 ū3 š3 ž3 č2 ļ2 ķ2 ņ2 ģ2 ą2 ę2 ė2 į2 ų2 õ1.5 ä2 ö2 ü2 ó1 ł1 ń1 ś1 "
    "ź1 ż1 ć1 ø.5 å.5 æ.5",
}
_UNKNOWN_LETTER = -1.0  # a letter none of the code page's languages uses much
_SYMBOL = -3.0  # "£" or "¹" decoded where text has letters: almost surely the wrong code page
_MARGIN = 2.0  # how much a Central/Baltic code page must beat CP1252 by


@cache
def _byte_scores() -> dict[str, dict[int, float]]:
    """Per code page, the score of each informative high byte (computed once)."""
    pages = list(_LETTER_WEIGHTS)
    high = range(0x80, 0x100)
    decoded = {cp: {b: bytes([b]).decode(cp, errors="replace") for b in high} for cp in pages}
    scores: dict[str, dict[int, float]] = {cp: {} for cp in pages}
    for cp, spec in _LETTER_WEIGHTS.items():
        weights = {item[0]: float(item[1:]) for item in spec.split()}
        for b in high:
            ch = decoded[cp][b]
            if ch == "\ufffd":
                scores[cp][b] = float("-inf")  # undefined in this code page
            elif len({decoded[p][b] for p in pages}) == 1:
                continue  # same letter in every candidate: no evidence either way
            elif ch.isalpha():
                scores[cp][b] = weights.get(ch.lower(), _UNKNOWN_LETTER)
            else:
                scores[cp][b] = _SYMBOL
    return scores


def guess_legacy_encoding(data: bytes) -> str:
    """The most plausible of CP1252, CP1250 and CP1257 for non-UTF-8 bytes; Latin-1 if none fits."""
    counts = Counter(data.translate(None, bytes(range(0x80))))
    totals: dict[str, float] = {}
    for cp, table in _byte_scores().items():
        totals[cp] = sum(n * table.get(b, 0.0) for b, n in counts.items())
    best = "cp1252"
    for cp in ("cp1250", "cp1257"):
        if totals[cp] > totals["cp1252"] + _MARGIN and totals[cp] > totals[best]:
            best = cp
    if totals[best] == float("-inf"):
        # a byte undefined in every code page: latin-1 maps every byte and loses nothing
        return "latin-1"
    return best


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
    encoding = guess_legacy_encoding(data)
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:  # pragma: no cover - the guess checked every byte
        return data.decode("latin-1"), "latin-1"
