"""Which lines of a ledger contain one of a few keywords, case-insensitively, in one fast pass.

The risk features fall back to keywords when no categories are given ("RÜCKLASTSCHRIFT",
"LOAN PMT"). Bank descriptions are nearly all distinct (they carry references), so deduplicating
them saves nothing, and ``str.find`` costs a full scan of the ledger's text per keyword (~0.1 ms
for 3 600 lines, a millisecond for a dozen words). Here the text is scanned once, whatever the
number of words: the 5 bytes at every offset of the UTF-8 text (ASCII-folded by ``bytes.lower``)
are hashed into a 65 536-slot table holding the words' first five bytes (strided numpy views,
no copy), and the few offsets that hit are confirmed with an exact ``bytes.startswith``. The result
is that of ``any(w in text.lower() for w in words)`` per line (see ``_case_variants`` for the one
exotic exception). Text goes through in chunks of ``_CHUNK_LINES`` lines so that no temporary
outgrows the allocator's heap: a fresh 400 kB index array is an ``mmap`` that page-faults on
every call and tripled the time here.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import numpy as np

__all__ = ["KeywordSet"]

_SEP = "\x00"  # joins the lines: no keyword contains it, so no match spans two lines
_MULT = np.uint32(0x9E3779B1)  # multiplicative hashing of two overlapping 4-byte windows
_MULT2 = np.uint32(0x85EBCA77)
_SHIFT = np.uint32(16)  # into 16 bits
_KEY = 5  # bytes of a keyword's start that the table holds (the shortest, " loan", has 5)
_CHUNK_LINES = 512  # ~30 kB of text: every temporary stays well under 128 kB


class KeywordSet:
    """A fixed set of lower-case keywords (each at least 5 UTF-8 bytes), built once per module."""

    def __init__(self, words: Sequence[str]) -> None:
        encoded = sorted({v for w in words for v in _case_variants(w.lower())})
        if any(len(w) < _KEY for w in encoded):
            raise ValueError(f"keywords need at least {_KEY} bytes (the width of the hashed key)")
        self.words: tuple[str, ...] = tuple(w.lower() for w in words)
        self._by_prefix: dict[bytes, tuple[bytes, ...]] = {}
        for w in encoded:
            self._by_prefix[w[:_KEY]] = (*self._by_prefix.get(w[:_KEY], ()), w)
        self._table = np.zeros(1 << 16, bool)
        for key in self._by_prefix:
            self._table[_slots(key)] = True

    def lines_containing(self, texts: Sequence[str], *, pad: str = "") -> np.ndarray:
        """Boolean per text: does ``pad + text.lower() + pad`` contain one of the words?

        ``pad=" "`` lets a word such as ``" loan"`` match at the very start of a text.
        """
        out = np.zeros(len(texts), bool)
        for first in range(0, len(texts), _CHUNK_LINES):
            chunk = texts[first : first + _CHUNK_LINES]
            out[first : first + len(chunk)] = self._chunk(chunk, pad)
        return out

    def _chunk(self, texts: Sequence[str], pad: str) -> np.ndarray:
        n = len(texts)
        out = np.zeros(n, bool)
        sep = f"{pad}{_SEP}{pad}"
        blob = f"{pad}{sep.join(texts)}{pad}".encode().lower()  # ASCII fold, fast
        hits = self._offsets(blob)
        if not hits:
            return out
        seps = np.flatnonzero(np.frombuffer(blob, np.uint8) == 0)
        if seps.size != n - 1:  # a text holds the separator itself: check line by line
            for i, t in enumerate(texts):
                low = f"{pad}{t.lower()}{pad}"
                out[i] = any(w in low for w in self.words)
            return out
        out[np.searchsorted(seps, np.asarray(hits))] = True
        return out

    def _offsets(self, blob: bytes) -> list[int]:
        """Byte offsets in ``blob`` where one of the words starts (exactly, not by hash)."""
        if len(blob) < _KEY:
            return []
        maybe = self._table.take(_slots(blob))
        if not maybe.any():
            return []
        found = []
        for at in np.flatnonzero(maybe).tolist():
            words = self._by_prefix.get(blob[at : at + _KEY], ())
            if any(blob.startswith(w, at) for w in words):
                found.append(at)
        return found


def _slots(data: bytes) -> np.ndarray:
    """Table slot of the 5 bytes starting at each offset ``0 .. len(data) - 5``.

    The two overlapping 4-byte windows at ``p`` and ``p + 1`` (strided uint32 views of the
    bytes, no copy) are hashed together: a 5-byte key keeps common words ("STORE", "TRUCK",
    "GUTSCHRIFT") from colliding with keyword starts as often as 4 bytes did (280 candidates a
    business to confirm in Python, then a handful).
    """
    grams = np.ndarray((len(data) - 3,), np.uint32, data, 0, (1,))
    slot = grams[:-1] * _MULT
    slot ^= grams[1:] * _MULT2
    slot >>= _SHIFT
    return slot


def _case_variants(word: str) -> list[bytes]:
    """UTF-8 forms of a lower-case word as ``bytes.lower()`` leaves a text: ASCII letters
    folded, each non-ASCII letter either as written or upper-case ("rücklast", "rÜcklast").

    ``bytes.lower`` is ~4x faster than ``str.lower`` on text with any non-ASCII character;
    listing the keyword's own accented letters in both cases keeps the match case-insensitive.
    (Exotic mappings into ASCII, such as the Kelvin sign to "k", are not folded.)
    """
    options = [
        (c, c.upper()) if not c.isascii() and len(c.upper()) == 1 and c.upper() != c else (c,)
        for c in word
    ]
    return ["".join(combo).encode("utf-8") for combo in product(*options)]
