"""Canonical CSV: the contract (header, strict validation), round trip and streaming."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from ledgerlens.core.ledger import Transaction
from ledgerlens.ingest.formats.canonical_csv import (
    CANONICAL_COLUMNS,
    CHUNK_SIZE,
    MAX_ISSUES,
    CanonicalCsvParser,
    canonical_row,
    read_canonical_transactions,
    write_canonical_csv,
)
from ledgerlens.ingest.model import ImportIssue, ParsedTransaction

HEADER = ",".join(CANONICAL_COLUMNS) + "\n"
GOOD = "t1,biz_1,acc_eur,EUR,2024-01-05,2024-01-06,-12.50,EUR,Coffee,Café Zoë,NL91ABNA0417164300,5814,**** 1234,emp_1,987.50,REF1\n"  # noqa: E501


def parse(text: str | bytes) -> tuple[list, list[ImportIssue]]:
    data = text.encode("utf-8") if isinstance(text, str) else text
    result = CanonicalCsvParser().parse(data, "f.csv")
    return result.statements, result.issues


def only_issue(text: str) -> ImportIssue:
    _, issues = parse(text)
    assert len(issues) == 1, issues
    assert issues[0].fatal
    return issues[0]


def to_transaction(t: ParsedTransaction, currency: str) -> Transaction:
    return Transaction(
        transaction_id=t.transaction_id,
        business_id=t.business_id,
        account_id=t.account_id,
        booking_date=t.booking_date,
        value_date=t.value_date,
        amount_minor=t.amount_minor,
        currency=currency,
        description=t.description,
        counterparty_name=t.counterparty_name,
        counterparty_iban=t.counterparty_iban,
        mcc=t.mcc,
        card_id=t.card_id,
        employee_id=t.employee_id,
        balance_after_minor=t.balance_after_minor,
        bank_reference=t.bank_reference,
    )


def test_good_row_reads_every_field() -> None:
    statements, issues = parse(HEADER + GOOD)
    assert issues == []
    [st] = statements
    assert (st.account_identifier, st.currency, st.opening_minor, st.closing_minor) == (
        "acc_eur",
        "EUR",
        None,
        None,
    )
    [t] = st.transactions
    assert t == ParsedTransaction(
        booking_date=date(2024, 1, 5),
        amount_minor=-1250,
        description="Coffee",
        line=2,
        value_date=date(2024, 1, 6),
        counterparty_name="Café Zoë",
        counterparty_iban="NL91ABNA0417164300",
        bank_reference="REF1",
        mcc="5814",
        card_id="**** 1234",
        balance_after_minor=98750,
        transaction_id="t1",
        business_id="biz_1",
        account_id="acc_eur",
        employee_id="emp_1",
    )


def test_round_trip_is_byte_for_byte() -> None:
    txs = [
        Transaction("t1", "b", "acc_eur", date(2024, 1, 5), None, -1250, "EUR", 'He said "hi", ok'),
        Transaction(
            "t2", "b", "acc_eur", date(2024, 1, 6), date(2024, 1, 7), 100000, "EUR",
            "multi\nline", counterparty_name="Łódź Sp. z o.o.", mcc="5411",
            card_id="**** 9876", balance_after_minor=-5, bank_reference="R-2",
        ),
        Transaction("t3", "b", "acc_jpy", date(2024, 2, 1), None, -1500, "JPY", "¥",
                    balance_after_minor=7),
        Transaction("t4", "b", "acc_bhd", date(2024, 2, 2), None, 1, "BHD", "fils"),
    ]  # fmt: skip
    currencies = {"acc_eur": "EUR", "acc_jpy": "JPY", "acc_bhd": "BHD"}
    first = io.StringIO(newline="")
    assert write_canonical_csv(txs, currencies, first) == 4
    data = first.getvalue().encode("utf-8")
    assert b"\r" not in data and data.startswith(HEADER.encode())
    result = CanonicalCsvParser().parse(data, "f.csv")
    assert result.issues == []
    again = io.StringIO(newline="")
    back = [to_transaction(t, s.currency) for s in result.statements for t in s.transactions]
    write_canonical_csv(back, lambda account_id: currencies[account_id], again)
    assert again.getvalue().encode("utf-8") == data
    assert canonical_row(txs[2], "JPY")[6] == "-1500" and canonical_row(txs[3], "BHD")[6] == "0.001"


def test_identify_needs_the_exact_header() -> None:
    parser = CanonicalCsvParser()
    assert parser.identify((HEADER + GOOD).encode(), "x.csv")
    assert parser.identify(b"\xef\xbb\xbf" + HEADER.encode(), "x.csv")
    assert parser.identify(HEADER.replace("\n", "\r\n").encode(), "x.csv")
    assert not parser.identify(HEADER.replace("mcc,", "").encode(), "x.csv")
    assert not parser.identify(b'"Datum","Naam / Omschrijving"\n', "x.csv")


def test_bom_is_accepted() -> None:
    statements, issues = parse(b"\xef\xbb\xbf" + (HEADER + GOOD).encode())
    assert issues == [] and len(statements) == 1


def test_header_mismatch_names_the_columns() -> None:
    issue = only_issue(HEADER.replace("mcc", "merchant_code") + GOOD)
    assert issue.line == 1 and issue.field == "header"
    assert "missing columns: mcc" in issue.message and "'merchant_code'" in issue.message
    swapped = HEADER.replace("booking_date,value_date", "value_date,booking_date")
    assert "out of order" in only_issue(swapped).message


@pytest.mark.parametrize(
    ("old", "new", "fld", "words"),
    [
        ("2024-01-05", "05-01-2024", "booking_date", "not a date"),
        ("2024-01-05", "2024-02-30", "booking_date", "not a date"),
        ("2024-01-06", "20240106", "value_date", "not a date"),
        ("-12.50", "-12.5.0", "amount", "not an amount"),
        ("-12.50", "1e3", "amount", "not an amount"),
        ("-12.50", "", "amount", "not an amount"),
        ("-12.50", "-12.505", "amount", "more than 2 decimals"),
        ("987.50", "abc", "balance_after", "not an amount"),
        ("EUR,2024-01-05", "EUX,2024-01-05", "account_currency", "unknown ISO 4217"),
        ("-12.50,EUR", "-12.50,USD", "currency", "must be in the account currency EUR"),
        ("-12.50,EUR", "-12.50,XYZ", "currency", "unknown ISO 4217"),
        (",5814,", ",541,", "mcc", "four digits"),
        ("**** 1234", "4111 1111 1111 1111", "card_id", "card numbers must be masked"),
        ("**** 1234", "4111111111111", "card_id", "card numbers must be masked"),
    ],
)
def test_bad_values_are_refused_naming_line_and_field(
    old: str, new: str, fld: str, words: str
) -> None:
    bad = GOOD.replace("t1", "t2").replace(old, new, 1)
    issue = only_issue(HEADER + GOOD + bad)
    assert (issue.line, issue.field) == (3, fld)
    assert words in issue.message


def test_sub_minor_precision_depends_on_the_currency() -> None:
    jpy = GOOD.replace("EUR,2024-01-05", "JPY,2024-01-05").replace("-12.50,EUR", "-12.5,JPY")
    issue = only_issue(HEADER + jpy.replace(",987.50,", ",,"))
    assert issue.field == "amount" and "more than 0 decimals for JPY" in issue.message
    ok = jpy.replace("-12.5,JPY", "-12.000,JPY").replace(",987.50,", ",,")
    statements, issues = parse(HEADER + ok)
    assert issues == [] and statements[0].transactions[0].amount_minor == -12


def test_masked_or_opaque_card_ids_pass() -> None:
    for card in ("XXXX-XXXX-XXXX-1234", "card_07", "**** 1234", ""):
        _, issues = parse(HEADER + GOOD.replace("**** 1234", card))
        assert issues == [], card


def test_duplicate_transaction_ids_are_refused_with_both_lines() -> None:
    rows = [GOOD.replace("t1", f"t{i}") for i in range(1, 5)] + [GOOD.replace("t1", "t2")]
    issue = only_issue(HEADER + "".join(rows))
    assert (issue.line, issue.field) == (6, "transaction_id")
    assert "first on line 3" in issue.message


def test_empty_transaction_ids_are_absent_not_duplicates() -> None:
    rows = GOOD.replace("t1", "") * 3
    statements, issues = parse(HEADER + rows)
    assert issues == [] and len(statements[0].transactions) == 3


def test_wrong_field_count_names_the_line() -> None:
    issue = only_issue(HEADER + GOOD + "a,b,c\n")
    assert issue.line == 3 and "expected 16 fields, found 3" in issue.message


def test_line_numbers_count_physical_lines() -> None:
    multi = GOOD.replace("Coffee", '"two\nlines"').replace("t1", "t2")
    bad = GOOD.replace("t1", "t3").replace("5814", "58")
    statements, issues = parse(HEADER + GOOD + multi + bad)
    assert [i.line for i in issues] == [5]
    statements, issues = parse(HEADER + GOOD + multi + GOOD.replace("t1", "t3"))
    assert [t.line for t in statements[0].transactions] == [2, 3, 5]
    assert statements[0].transactions[1].description == "two\nlines"


def test_empty_and_header_only_files_are_refused() -> None:
    assert "empty file" in only_issue("").message
    assert "no transactions" in only_issue(HEADER).message


def test_non_utf8_is_refused() -> None:
    _, issues = parse((HEADER + GOOD).encode("utf-8") + GOOD.encode("cp1252"))
    assert issues and issues[0].fatal and "not UTF-8" in issues[0].message
    late = (HEADER + _rows(3000)).encode() + GOOD.replace("t1", "x").encode("cp1252")
    _, issues = parse(late)
    assert len(issues) == 1 and "not UTF-8" in issues[0].message
    assert issues[0].line is not None and issues[0].line > 1


def test_blank_lines_are_ignored() -> None:
    statements, issues = parse(HEADER + GOOD + "\n" + GOOD.replace("t1", "t2") + "\n")
    assert issues == [] and [t.line for t in statements[0].transactions] == [2, 4]


def _rows(n: int, account: str = "acc_1", start: int = 0) -> str:
    return "".join(
        f"tx{start + i},b,{account},EUR,2024-01-01,,{i}.00,EUR,row {i},,,,,,,\n" for i in range(n)
    )


class _CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def read1(self, size: int = -1) -> bytes:
        chunk = super().read1(size)
        self.bytes_read += len(chunk)
        return chunk

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
        n = super().readinto(buffer)
        self.bytes_read += n
        return n


def test_iter_parse_streams_in_bounded_chunks() -> None:
    data = (HEADER + _rows(CHUNK_SIZE + 5) + _rows(3, "acc_2", CHUNK_SIZE + 5)).encode()
    data += _rows(CHUNK_SIZE * 2, "acc_1", CHUNK_SIZE + 8).encode()
    stream = _CountingStream(data)
    issues: list[ImportIssue] = []
    chunks = CanonicalCsvParser().iter_parse(stream, "f.csv", issues)
    first = next(chunks)
    assert len(first.transactions) == CHUNK_SIZE
    assert stream.bytes_read < len(data)  # read incrementally, not slurped
    rest = list(chunks)
    sizes = [(s.account_identifier, len(s.transactions)) for s in [first, *rest]]
    assert sizes == [
        ("acc_1", CHUNK_SIZE),
        ("acc_1", 5),
        ("acc_2", 3),
        ("acc_1", CHUNK_SIZE),
        ("acc_1", CHUNK_SIZE),
    ]
    assert issues == []
    assert not stream.closed  # the caller's stream is left open
    merged = CanonicalCsvParser().parse(data, "f.csv").statements
    assert [(s.account_identifier, len(s.transactions)) for s in merged] == [
        ("acc_1", CHUNK_SIZE * 3 + 5),
        ("acc_2", 3),
    ]


def test_a_large_stream_parses_in_chunks_without_issues() -> None:
    """Speed is measured by benchmarks/bench_import.py, never here; this checks the chunking."""
    n = 50_000
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CANONICAL_COLUMNS)
    for i in range(n):
        writer.writerow(
            [f"tx{i}", "biz", "acc", "EUR", "2024-03-01", "2024-03-02", f"-{i % 997}.{i % 100:02d}",
             "EUR", f"Shop {i}", "Shop", "NL91ABNA0417164300", "5411", "", "", "", f"r{i}"]
        )  # fmt: skip
    issues: list[ImportIssue] = []
    sizes = [
        len(s.transactions)
        for s in CanonicalCsvParser().iter_parse(io.BytesIO(buf.getvalue().encode()), "f", issues)
    ]
    assert issues == [] and sum(sizes) == n
    assert max(sizes) <= CHUNK_SIZE and len(sizes) == -(-n // CHUNK_SIZE)


def test_a_broken_file_reports_a_bounded_number_of_issues() -> None:
    bad = "".join(GOOD.replace("t1", f"t{i}").replace("5814", "58") for i in range(MAX_ISSUES + 50))
    _, issues = parse(HEADER + bad)
    assert len(issues) == MAX_ISSUES + 1
    assert all(i.field == "mcc" for i in issues[:-1])
    assert "more than" in issues[-1].message and issues[-1].fatal


def test_duplicates_far_apart_in_a_streamed_file_are_found_in_fixed_memory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # 30,000 distinct ids: none may be a false suspect reported as a duplicate, and the one real
    # repeat (line 30,002 repeats line 2) is named with both lines after a second read
    rows = [GOOD.replace("t1", f"id{i:06d}") for i in range(30_000)]
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "".join(rows) + GOOD.replace("t1", "id000000"))
    issues: list = []  # type: ignore[type-arg]
    with path.open("rb") as fh:
        n = sum(len(s.transactions) for s in CanonicalCsvParser().iter_parse(fh, str(path), issues))
    assert n == 30_001
    assert [(i.line, i.field) for i in issues] == [(30_002, "transaction_id")]
    assert "first on line 2" in issues[0].message


def test_read_canonical_transactions_gives_stored_form_or_refuses_naming_the_file(
    tmp_path,
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(HEADER + GOOD, encoding="utf-8")
    (t,) = read_canonical_transactions(good)
    assert (t.transaction_id, t.account_id, t.currency, t.amount_minor) == (
        "t1", "acc_eur", "EUR", -1250,
    )  # fmt: skip
    assert (t.mcc, t.card_id, t.employee_id, t.balance_after_minor) == (
        "5814", "**** 1234", "emp_1", 98750,
    )  # fmt: skip
    assert (t.source_path, t.source_line) == (str(good), 2)

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + GOOD.replace("2024-01-05", "2024-13-05"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.csv: canonical CSV refused"):
        read_canonical_transactions(bad)
