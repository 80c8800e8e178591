"""BAI2 parser: the moov-io samples (parsed or refused, and why) plus small inline files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlens.ingest.formats.bai2 import Bai2Parser
from ledgerlens.ingest.model import ParseResult

EXTERNAL = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "external"
MOOV = EXTERNAL / "moov-io-bai2"


def _moov(name: str) -> tuple[Path, ParseResult]:
    path = MOOV / name
    if not path.is_file():
        pytest.skip(f"real BAI2 data not found at {path} (the shared/ folder beside the repo)")
    return path, Bai2Parser().parse(path.read_bytes(), str(path))


def _fatal(result: ParseResult) -> list[tuple[int | None, str, str]]:
    return [(i.line, i.field, i.message) for i in result.issues if i.fatal]


def test_sample1_matches_expected_summary() -> None:
    path, result = _moov("sample1.txt")
    expected = next(
        f
        for f in json.loads((MOOV / "EXPECTED_SUMMARY.json").read_text())
        if f["file"] == path.name
    )
    assert result.issues == []
    assert len(result.statements) == expected["accounts"] == 2
    assert sum(len(s.transactions) for s in result.statements) == expected["transactions"]
    assert {s.currency for s in result.statements} == set(expected["currencies"])
    # sample1 sends 040/045 balances only: no opening/closing ledger, so nothing to reconcile
    assert all(s.opening_minor is None and s.reconciles is None for s in result.statements)
    first = result.statements[0].transactions[0]
    assert (first.line, first.amount_minor, first.bank_tx_code) == (5, -2500, "BAI:409")
    assert (first.booking_date, first.value_date) == (date(2006, 3, 17), date(2006, 3, 16))
    assert first.description == "RETURNED CHEQUE"


def test_sample1_agrees_with_the_bai2_package() -> None:
    """Where the ``bai2`` package copes it is an independent reader: same details, same order."""
    from bai2 import bai2

    path, result = _moov("sample1.txt")
    theirs = bai2.parse_from_string(path.read_text(), check_integrity=True)
    lib = [
        (a.header.customer_account_number, t.type_code.code, t.amount, t.text.strip())
        for g in theirs.children
        for a in g.children
        for t in a.children
    ]
    ours = [
        (
            s.account_identifier,
            t.bank_tx_code[4:],
            abs(t.amount_minor),
            t.description,
        )
        for s in result.statements
        for t in s.transactions
    ]
    assert ours == lib
    totals = [a.trailer.account_control_total for g in theirs.children for a in g.children]
    expected = json.loads((MOOV / "EXPECTED_SUMMARY.json").read_text())[0]
    assert totals == expected["account_control_totals"]


def test_sample2_is_valid_and_read_despite_the_package_refusing_type_190() -> None:
    # the package glues "190/" and the next 88's "500000" into type code 190500000
    _, result = _moov("sample2.txt")
    assert not result.refused, _fatal(result)
    assert [s.account_identifier for s in result.statements] == [
        "0123456789",
        "9876543210",
        "4589761203",
        "0975312468",
        "7890654321",
    ]
    assert [s.opening_minor for s in result.statements] == [
        4350000,
        -500000,
        10000000,
        500000,
        800000,
    ]
    wire = result.statements[2].transactions[0]
    assert wire.description == "PROCEEDS OF LETTER OF CREDIT FROM THE ARAMCO OIL CO"
    assert (wire.bank_reference, wire.value_date) == ("SP4738//YRC065321", date(2004, 6, 22))
    # no currency anywhere: USD as the spec says, and the reader says so
    assert {s.currency for s in result.statements} == {"USD"}
    assert {i.field for i in result.issues} == {"currency"}


def test_sample3_several_records_per_line_all_totals_check_and_all_reconcile() -> None:
    _, result = _moov("sample3.txt")
    assert not result.refused, _fatal(result)
    assert len(result.statements) == 15
    assert sum(len(s.transactions) for s in result.statements) == 26
    assert all(s.reconciles is True for s in result.statements)
    # two 16 records on line 3; a text line without record code on line 19 (warned, kept)
    assert [t.line for t in result.statements[0].transactions[:3]] == [3, 3, 4]
    (warning,) = result.issues
    assert (warning.line, warning.fatal) == (19, False)


@pytest.mark.parametrize(
    "name", ["sample4-continuations-newline-delimited.txt", "sample5-issue113.txt"]
)
def test_samples_4_and_5_are_refused_because_their_trailers_do_not_add_up(name: str) -> None:
    _, result = _moov(name)
    assert result.refused and result.statements == []
    fatal = _fatal(result)
    assert (22, "number of records", "49 record count: expected 26, found 18") in fatal
    assert (
        22,
        "account control total",
        "49 account control total: expected -1260161341762, found 7999960",
    ) in fatal


def test_parse_error_sample_is_refused_naming_line_and_field() -> None:
    path, result = _moov("errors/sample-parseError.txt")
    # claimed by identify (a header-shaped "00,…,2/" line) so that it is refused with a reason
    assert Bai2Parser().identify(path.read_bytes(), path.name)
    assert result.refused
    assert _fatal(result) == [(1, "record code", "unknown record code '00'")]


# --- small inline files ---------------------------------------------------------------

VALID = """01,SENDER,RECEIVER,240105,1200,7,,,2/
02,RECEIVER,SENDER,1,240104,2400,EUR,2/
03,ACC1,,010,10000,,,015,10500,,/
16,195,1000,V,240103,,BREF1,CREF1,Incoming wire/
88,from ACME Corp
16,475,500,Z,BREF2,,Cheque paid, no 4711/
49,22000,5/
98,22000,1,7/
99,22000,1,9/
"""


def _parse(text: str) -> ParseResult:
    return Bai2Parser().parse(text.encode(), "inline.bai")


def test_inline_file_reconciles_with_signs_refs_and_continued_text() -> None:
    result = _parse(VALID)
    assert result.issues == []
    (stmt,) = result.statements
    assert (stmt.account_identifier, stmt.currency, stmt.statement_ref) == ("ACC1", "EUR", "7")
    assert (stmt.opening_minor, stmt.closing_minor, stmt.reconciles) == (10000, 10500, True)
    wire, cheque = stmt.transactions
    assert (wire.amount_minor, wire.line, wire.value_date) == (1000, 4, date(2024, 1, 3))
    assert (wire.bank_reference, wire.description) == (
        "BREF1//CREF1",
        "Incoming wire from ACME Corp",
    )
    assert (cheque.amount_minor, cheque.bank_reference) == (-500, "BREF2")
    assert cheque.description == "Cheque paid, no 4711"
    assert cheque.booking_date == date(2024, 1, 4)


def test_account_control_total_mismatch_is_fatal_on_the_trailer_line() -> None:
    result = _parse(VALID.replace("49,22000,5/", "49,22001,5/"))
    assert result.refused
    fatal = _fatal(result)
    assert fatal[0] == (
        7,
        "account control total",
        "49 account control total: expected 22001, found 22000",
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("49,22000,5/", "49,22000,6/", 7, "number of records"),
        ("98,22000,1,7/", "98,22000,2,7/", 8, "number of accounts"),
        ("99,22000,1,9/", "99,22000,1,8/", 9, "number of records"),
        ("99,22000,1,9/", "99,21000,1,9/", 9, "file control total"),
    ],
)
def test_every_trailer_check_can_refuse(old: str, new: str, line: int, field: str) -> None:
    result = _parse(VALID.replace(old, new))
    assert [(i.line, i.field) for i in result.issues if i.fatal] == [(line, field)]


def test_truncated_file_is_refused() -> None:
    result = _parse(VALID.split("49,")[0])
    assert result.refused
    assert any("truncated" in i.message and i.line == 6 for i in result.issues)


@pytest.mark.parametrize(
    ("code", "sign"), [("108", 1), ("399", 1), ("400", -1), ("699", -1), ("925", 1), ("975", -1)]
)
def test_type_code_ranges_decide_the_sign(code: str, sign: int) -> None:
    text = VALID.replace("16,475,500,Z", f"16,{code},500,Z")
    stmt = _parse(text).statements[0]
    assert stmt.transactions[1].amount_minor == sign * 500


def test_unknown_direction_is_a_warning_not_a_refusal() -> None:
    result = _parse(VALID.replace("16,475,500,Z", "16,750,500,Z"))
    assert not result.refused
    assert [(i.line, i.field, i.fatal) for i in result.issues] == [(6, "type code", False)]


def test_identify() -> None:
    assert Bai2Parser().identify(VALID.encode(), "x.txt")
    assert Bai2Parser().identify(b"\xef\xbb\xbf" + VALID.encode(), "x.bai")
    assert not Bai2Parser().identify(b":20:REF\n:25:ACC\n", "x.sta")
    assert not Bai2Parser().identify(b"01,a,b\n", "x.csv")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_parse_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    result = Bai2Parser().parse(VALID.encode()[:120] + data, "fuzz.bai")
    assert result.format == "bai2"


def test_continuation_starts_a_new_field_and_distributed_availability_is_skipped() -> None:
    # "190/" then "88,500000": the 88 carries the amount of type 190 (the bai2 package glues
    # them into "190500000"); funds type D carries a count and (days, amount) pairs
    text = """01,S,R,040621,0200,1,65,,2/
02,R,S,1,040620,2359,CAD,2/
03,0975312468,,010,500000,,,190/
88,70000000,4,D,2,0,20000000,1,50000000,400/
88,10,,/
16,115,450000,D,1,0,450000,BR,CR,lock box/
49,70950010,5/
98,70950010,1,7/
99,70950010,1,9/
"""
    result = _parse(text)
    assert result.issues == []
    (stmt,) = result.statements
    assert (stmt.currency, stmt.opening_minor) == ("CAD", 500000)
    (tx,) = stmt.transactions
    assert (tx.amount_minor, tx.bank_reference, tx.description) == (450000, "BR//CR", "lock box")
