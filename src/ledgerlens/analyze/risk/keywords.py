"""Which lines of a ledger contain one of a few keywords, case-insensitively, in one fast pass.

The risk features fall back to keywords when no categories are given ("RÜCKLASTSCHRIFT",
"LOAN PMT"). Bank descriptions are nearly all distinct (they carry references), so deduplicating
them saves nothing, and ``str.find`` costs a full scan of the ledger's text per keyword (~0.1 ms
for 3 600 lines, a millisecond for a dozen words; a compiled regex alternation, 3 ms). Here the
text is scanned once, whatever the number of words:

* the lines are joined and encoded as Latin-1 when they fit (a copy; UTF-8 otherwise), and
  every byte is case-folded by ``| 0x20`` (one numpy pass: ASCII letters, Latin-1 and UTF-8
  accented capitals all land on their lower-case byte; other bytes fold too, which only adds
  candidates);
* the 4-byte windows at the even offsets (two aligned ``uint32`` views, a quarter of the bytes
  each) are hashed into a 65 536-slot table of the keywords' windows at their offsets 0 and 1:
  a keyword of 5 or more bytes always covers the window at an even offset at or just after its
  start;
* the few offsets that hit are confirmed exactly (the slice decoded and lower-cased equals the
  keyword) and mapped to their lines by ``searchsorted`` on the separators.

The result is that of ``any(w in (pad + text + pad).lower() for w in words)`` per line, except
for characters that ``str.lower`` maps onto ASCII from elsewhere (the Kelvin sign to "k") or
that lower-case into several characters. Text goes through in chunks of ``_CHUNK_LINES`` lines
so that no temporary outgrows the allocator's heap: a fresh 400 kB array is an ``mmap`` that
page-faults on every call and tripled the time here.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress

import numpy as np

__all__ = ["KeywordSet"]

_SEP = "\x00"  # joins the lines: no keyword contains it, so no match spans two lines
_MULT = np.uint32(0x9E3779B1)  # multiplicative hashing of a 4-byte window into 16 bits
_SHIFT = np.uint32(16)
_KEY = 5  # shortest keyword in bytes: its windows at offsets 0 and 1 both fit
_WINDOW = 4
_FOLD = bytes(b | 0x20 for b in range(256))  # the byte fold, for ``bytes.translate``
_CHUNK_LINES = 512  # ~30 kB of text: 256 and 1024 lines measured slower


class KeywordSet:
    """A fixed set of lower-case keywords (each at least 5 bytes), built once per module."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words: tuple[str, ...] = tuple(w.lower() for w in words)
        # folded window -> (offset in the word, word, its length in bytes) per encoding
        if any(len(w.encode("utf-8")) < _KEY for w in self.words):
            raise ValueError(f"keywords need at least {_KEY} UTF-8 bytes")
        # Latin-1 only when every word keeps 5 bytes in it ("prêt" has 4: such sets read UTF-8)
        short = any(len(w.encode("latin-1", "replace")) < _KEY for w in self.words)
        self._encodings = ("utf-8",) if short else ("latin-1", "utf-8")
        self._by_window: dict[str, dict[bytes, tuple[tuple[int, str, int], ...]]] = {}
        self._table = np.zeros(1 << 16, bool)
        for encoding in self._encodings:
            windows: dict[bytes, tuple[tuple[int, str, int], ...]] = {}
            for w in self.words:
                try:
                    raw = w.encode(encoding)
                except UnicodeEncodeError:
                    continue  # a text in Latin-1 cannot hold this word
                folded = raw.translate(_FOLD)
                for off in (0, 1):
                    win = folded[off : off + _WINDOW]
                    windows[win] = (*windows.get(win, ()), (off, w, len(raw)))
                    self._table[_slot(win)] = True
            self._by_window[encoding] = windows

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
        text = f"{pad}{sep.join(texts)}{pad}"
        blob, encoding = b"", "utf-8"
        if self._encodings[0] == "latin-1":
            with suppress(UnicodeEncodeError):  # a copy for ASCII and Latin-1 text
                blob, encoding = text.encode("latin-1"), "latin-1"
        if encoding == "utf-8":
            blob = text.encode("utf-8")
        starts = self._starts(blob, encoding)
        if not starts:
            return out
        seps = np.flatnonzero(np.frombuffer(blob, np.uint8) == 0)
        if seps.size != n - 1:  # a text holds the separator itself: check line by line
            for i, t in enumerate(texts):
                low = f"{pad}{t}{pad}".lower()
                out[i] = any(w in low for w in self.words)
            return out
        out[np.searchsorted(seps, np.asarray(starts))] = True
        return out

    def _starts(self, blob: bytes, encoding: str) -> list[int]:
        """Byte offsets in ``blob`` where one of the words starts (exactly, not by hash)."""
        size = len(blob)
        if size < _KEY:
            return []
        padded = -(-size // _WINDOW) * _WINDOW + _WINDOW  # room for the odd-pair view
        folded = np.zeros(padded, np.uint8)  # zero padding: no keyword window holds a 0 byte
        np.bitwise_or(np.frombuffer(blob, np.uint8), np.uint8(0x20), out=folded[:size])
        shifted = folded[2:].copy()  # aligned copy: its uint32 view holds the windows at 4k + 2
        hits: list[int] = []
        for base, view in ((0, folded), (2, shifted)):
            words = view[: (view.size // _WINDOW) * _WINDOW].view(np.uint32)
            slot = words * _MULT
            slot >>= _SHIFT
            maybe = self._table.take(slot)
            if maybe.any():
                hits.extend((np.flatnonzero(maybe) * _WINDOW + base).tolist())
        if not hits:
            return []
        windows = self._by_window[encoding]
        found = set()
        for at in hits:
            for off, word, length in windows.get(blob[at : at + _WINDOW].translate(_FOLD), ()):
                begin = at - off
                if begin >= 0 and _lower(blob[begin : begin + length], encoding) == word:
                    found.add(begin)
        return sorted(found)


def _slot(window: bytes) -> int:
    """Table slot of a 4-byte folded window (as the scan's ``uint32`` views read it)."""
    value = int(np.frombuffer(window, np.uint32)[0])
    return ((value * int(_MULT)) & 0xFFFFFFFF) >> int(_SHIFT)


def _lower(raw: bytes, encoding: str) -> str:
    """A slice of the text, decoded and lower-cased (a slice may cut a UTF-8 character)."""
    return raw.decode(encoding, "replace").lower()
