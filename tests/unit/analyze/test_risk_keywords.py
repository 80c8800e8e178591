"""The one-pass keyword scan gives, line by line, what ``word in text.lower()`` gives."""

from __future__ import annotations

import pytest

from ledgerlens.analyze.risk.keywords import KeywordSet

WORDS = ("rücklast", "returned", " nsf ", "prêt", " loan", "insufficient funds")


def naive(texts: list[str], pad: str = "") -> list[bool]:
    return [any(w in f"{pad}{t}{pad}".lower() for w in WORDS) for t in texts]


def test_case_umlauts_and_padding_match_the_naive_scan() -> None:
    texts = [
        "RÜCKLASTSCHRIFT MREF 12",  # upper-case umlaut, folded through the keyword's variants
        "Rücklastschrift",
        "RUECKLASTSCHRIFT",  # a spelling the list does not hold
        "RETURNED DD",
        "NSF FEE",  # " nsf " needs a space before, only the padded scan has one
        "FEE NSF 35",
        "PRÊT IMMOBILIER",
        "LOAN PMT 4711",  # " loan" at the very start: only with pad=" "
        "BANK LOAN",
        "Insufficient Funds charge",
        "STORE 12 TRUCK RENTAL",  # common words sharing keyword starts
        "",
    ]
    for pad in ("", " "):
        assert KeywordSet(WORDS).lines_containing(texts, pad=pad).tolist() == naive(texts, pad)


def test_long_ledgers_are_scanned_in_chunks_without_losing_a_line() -> None:
    texts = [f"CARD PAYMENT {i} STORE" for i in range(1500)]
    for i in (0, 511, 512, 513, 1024, 1499):
        texts[i] = f"RETURNED ITEM {i}"
    hits = KeywordSet(WORDS).lines_containing(texts)
    assert hits.nonzero()[0].tolist() == [0, 511, 512, 513, 1024, 1499]


def test_a_text_holding_the_separator_falls_back_to_line_by_line() -> None:
    texts = ["ok\x00returned", "plain", "x nsf y"]
    assert KeywordSet(WORDS).lines_containing(texts).tolist() == [True, False, True]


def test_short_keywords_are_refused() -> None:
    with pytest.raises(ValueError):
        KeywordSet(("nsf",))


def test_latin1_and_utf8_texts_with_any_case_of_an_accent_match_the_naive_scan() -> None:
    words = ("rücklast", "returned", " nsf ")  # all ≥ 5 bytes in Latin-1: both encodings used
    texts = [
        "RÜCKLASTSCHRIFT 1",  # Latin-1 chunk, upper-case umlaut
        "rÜcklast 2",
        "plain",
        "Zahlung €12 RÜCKLAST",  # the euro sign forces the UTF-8 chunk
        "X NSF Y",
        "RUCKLAST",
    ]
    for chunk in (texts[:3], texts):  # the first three fit Latin-1, all six do not
        want = [any(w in t.lower() for w in words) for t in chunk]
        assert KeywordSet(words).lines_containing(chunk).tolist() == want
    assert KeywordSet(words).lines_containing(texts).tolist() == [
        True,
        True,
        False,
        True,
        True,
        False,
    ]
