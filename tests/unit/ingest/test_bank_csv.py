"""Bank CSV dialects: real exports (ING, Knab, ASN, Lloyds, Revolut), encodings, refusals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ledgerlens.ingest.formats.bank_csv import (
    BankCsvParser,
    _dialect_from_toml,
    detect_dialect,
    load_dialects,
)
from ledgerlens.ingest.model import ImportIssue, ParseResult

SAMPLES = "ofxstatement-plugin-samples"
ING_HEADER = (
    '"Datum","Naam / Omschrijving","Rekening","Tegenrekening","Code","Af Bij","Bedrag (EUR)",'
    '"Mutatiesoort","Mededelingen"\n'
)


def ing_row(name: str, amount: str = "12,50", sign: str = "Af", day: str = "20240105") -> str:
    return (
        f'"{day}","{name}","NL99INGB9999999999","NL99ASNB9999999999","OV","{sign}","{amount}",'
        f'"Overschrijving","Naam: {name} Omschrijving: factuur 2024-01"\n'
    )


def parse(data: bytes | str, name: str = "f.csv") -> ParseResult:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return BankCsvParser().parse(raw, name)


def fatal(result: ParseResult) -> list[ImportIssue]:
    return [i for i in result.issues if i.fatal]


@pytest.fixture(scope="module")
def samples(external_data: Path) -> Path:
    folder = external_data / SAMPLES
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    return folder


# -- real exports ---------------------------------------------------------------------------

# file → (dialect, statements, transactions, Σ minor, opening, closing)
REAL_OK = {
    "dutch-gpaulissen/ing_ok.csv": ("ing_nl", 1, 6, 1938, None, None),
    "dutch-gpaulissen/ing_ok_Mutatiesoort.csv": ("ing_nl", 1, 6, 1938, None, None),
    "dutch-gpaulissen/ing_ok_Mutatiesoort_Extra.csv": ("ing_nl", 1, 6, 1938, None, None),
    "dutch-gpaulissen/ing_ok_Mutatiesoort_Extra_Unquoted.csv": ("ing_nl", 1, 6, 1938, None, None),
    "dutch-gpaulissen/Knab_transactieoverzicht_ok.csv": ("knab_nl", 1, 28, 701, None, None),
    "dutch-gpaulissen/transactie-historie_NL00ASNB9999999999_20220717204133.csv": (
        "asn_nl", 1, 11, -4620, 13044, 8424,
    ),
    "lloyds-metasaura/sample-statement.csv": ("lloyds_uk", 1, 12, -388199, None, None),
    "revolut-mlaitinen/2021-october.csv": ("revolut", 1, 7, 16531, 41552, 58083),
    "revolut-mlaitinen/2022-january.csv": ("revolut", 1, 7, 8656, None, None),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(REAL_OK))
def test_real_exports_import(samples: Path, name: str) -> None:
    dialect, n_st, n_tx, total, opening, closing = REAL_OK[name]
    data = (samples / name).read_bytes()
    assert BankCsvParser().identify(data[:65536], name)
    text = data.decode("utf-8-sig")
    assert detect_dialect(text).name == dialect  # type: ignore[union-attr]
    result = parse(data, name)
    assert fatal(result) == []
    assert len(result.statements) == n_st
    [st] = result.statements
    assert (len(st.transactions), st.sum_minor) == (n_tx, total)
    assert (st.opening_minor, st.closing_minor) == (opening, closing)
    if opening is not None:
        assert st.reconciles is True
        assert st.transactions[-1].balance_after_minor == closing
    dates = [t.booking_date for t in st.transactions]
    assert dates == sorted(dates), "statements run oldest first"


@pytest.mark.parametrize(
    ("name", "line", "field", "words"),
    [
        ("dutch-gpaulissen/ing_fail.csv", 3, "Mededelingen", "malformed quoting"),
        (
            "dutch-gpaulissen/transactie-historie_fail.csv",
            12,
            "opdrachtgeversrekening",
            "holds one account only",
        ),
        ("dutch-gpaulissen/Knab_transactieoverzicht_no_lines.csv", 2, "", "no transactions"),
        (
            "dutch-gpaulissen/Knab_transactieoverzicht_no_header2.csv",
            1,
            "header",
            "Knab export ('KNAB EXPORT' on line 1) without its header line",
        ),
        (
            "dutch-gpaulissen/NL99INGB9999999999_25-11-2019_30-05-2020.csv",
            1,
            "header",
            "ING balance history: balances only, no transactions to import",
        ),
        ("dutch-gpaulissen/empty.csv", None, "", "empty file"),
    ],
)
def test_broken_real_exports_are_refused(
    samples: Path, name: str, line: int | None, field: str, words: str
) -> None:
    result = parse((samples / name).read_bytes(), name)
    assert result.refused and result.statements == []
    [issue] = fatal(result)
    assert (issue.line, issue.field) == (line, field)
    assert words in issue.message


@pytest.mark.parametrize(
    "name",
    [
        "dutch-gpaulissen/icscards.txt",
        "dutch-gpaulissen/empty.csv",
    ],
)
def test_other_files_are_not_claimed(samples: Path, name: str) -> None:
    assert not BankCsvParser().identify((samples / name).read_bytes()[:65536], name)


def test_ing_amounts_signs_and_text(samples: Path) -> None:
    [st] = parse((samples / "dutch-gpaulissen/ing_ok.csv").read_bytes()).statements
    assert st.account_identifier == "NL99INGB9999999999" and st.currency == "EUR"
    # the export is newest first; the statement runs oldest first, lines keep the file's order
    assert [t.line for t in st.transactions] == [7, 6, 5, 4, 3, 2]
    assert [t.amount_minor for t in st.transactions] == [-31, -31, 2000, 0, 125, -125]
    payment = st.transactions[2]
    assert payment.counterparty_name == "PAULISSEN G J L M"
    assert payment.counterparty_iban == "NL99ASNB9999999999"
    assert payment.bank_tx_code == "OV"
    assert payment.description.startswith("PAULISSEN G J L M Naam: PAULISSEN")
    assert st.transactions[-1].booking_date == date(2020, 2, 13)


def test_lloyds_debit_credit_and_broken_balance_chain(samples: Path) -> None:
    result = parse((samples / "lloyds-metasaura/sample-statement.csv").read_bytes())
    [st] = result.statements
    assert st.account_identifier == "99-88-74 1515152252" and st.currency == "GBP"
    first, last = st.transactions[0], st.transactions[-1]
    assert (first.line, first.amount_minor, first.bank_tx_code) == (13, 50000, "BGC")
    assert (last.line, last.amount_minor) == (2, -899)
    # the sample's balances break between INS1 and INS2 (line 6): reported, never repaired
    [issue] = result.issues
    assert not issue.fatal and (issue.line, issue.field) == (6, "Balance")
    assert "6029.49" in issue.message and "6033.61" in issue.message
    assert st.opening_minor is None and st.closing_minor is None
    assert all(t.balance_after_minor is None for t in st.transactions)


def test_lloyds_style_file_that_chains_gets_balances() -> None:
    text = (
        "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
        "Debit Amount,Credit Amount,Balance,\n"
        '03/01/2024,DEB,\'11-22-33,12345678,CARD 1,"1,000.00",,99.00\n'
        "02/01/2024,FPI,'11-22-33,12345678,CLIENT,,1099.00,1099.00\n"
        "02/01/2024,DD,'11-22-33,12345678,RENT,1.00,,0.00\n"
    )
    [st] = parse(text).statements
    assert [t.amount_minor for t in st.transactions] == [-100, 109900, -100000]
    assert (st.opening_minor, st.closing_minor, st.reconciles) == (100, 9900, True)
    assert [t.balance_after_minor for t in st.transactions] == [0, 109900, 9900]
    assert st.account_identifier == "11-22-33 12345678"


def test_same_day_order_is_taken_from_the_balances() -> None:
    head = (
        "Transaction Date,Transaction Type,Sort Code,Account Number,Transaction Description,"
        "Debit Amount,Credit Amount,Balance\n"
    )
    # all on one day, listed oldest first: only the balances can tell
    rows = "02/01/2024,DD,'1,2,A,1.00,,9.00\n02/01/2024,DD,'1,2,B,2.00,,7.00\n"
    [st] = parse(head + rows).statements
    assert [t.description for t in st.transactions] == ["A", "B"]
    assert (st.opening_minor, st.closing_minor) == (1000, 700)
    newest_first = "02/01/2024,DD,'1,2,B,2.00,,7.00\n02/01/2024,DD,'1,2,A,1.00,,9.00\n"
    [st] = parse(head + newest_first).statements
    assert [t.description for t in st.transactions] == ["A", "B"]
    assert st.reconciles is True


def test_revolut_fee_state_and_running_balance(samples: Path) -> None:
    [st] = parse((samples / "revolut-mlaitinen/2021-october.csv").read_bytes()).statements
    assert st.account_identifier == "" and st.statement_ref == "Current"
    assert st.transactions[1].description == "company äöå"
    assert st.transactions[0].booking_date == date(2021, 9, 5)
    text = (
        "Type,Product,Started Date,Completed Date,Description,Amount,Fee,Currency,State,Balance\n"
        "EXCHANGE,Current,2024-01-01 10:00:00,2024-01-01 10:00:01,To USD,-100.00,1.50,EUR,"
        "COMPLETED,398.50\n"
        "CARD_PAYMENT,Current,2024-01-02 09:00:00,,Shop,-5.00,0.00,EUR,PENDING,\n"
        "CARD_PAYMENT,Current,2024-01-02 09:00:00,2024-01-03 9:00:00,Shop,-5.00,0.00,EUR,"
        "REVERTED,\n"
        "TOPUP,Savings,2024-01-02 09:00:00,2024-01-02 09:00:00,Top-up,50.00,0.00,USD,"
        "COMPLETED,50.00\n"
    )
    result = parse(text)
    assert not result.refused
    eur, usd = result.statements
    assert (eur.currency, eur.statement_ref, eur.transactions[0].amount_minor) == (
        "EUR",
        "Current",
        -10150,  # Amount − Fee: the fee is booked too
    )
    assert (eur.opening_minor, eur.closing_minor, eur.reconciles) == (50000, 39850, True)
    assert (usd.currency, usd.statement_ref, usd.opening_minor) == ("USD", "Savings", 0)
    skipped = [(i.line, i.field, i.fatal) for i in result.issues]
    assert skipped == [(3, "State", False), (4, "State", False)]


def test_asn_headerless_fields(samples: Path) -> None:
    name = "dutch-gpaulissen/transactie-historie_NL00ASNB9999999999_20220717204133.csv"
    [st] = parse((samples / name).read_bytes()).statements
    first, third, sixth = st.transactions[0], st.transactions[2], st.transactions[5]
    assert (first.amount_minor, first.balance_after_minor, first.bank_reference) == (
        22377,
        35421,
        "51392971",
    )
    assert first.counterparty_name == "XXXXXXXXX Z Z Z Z"
    assert third.description == "Kosten gebruik betaalrekening inclusief 1 betaalpas"
    assert third.counterparty_iban == ""
    assert (sixth.booking_date, sixth.value_date) == (date(2022, 6, 29), date(2022, 6, 28))
    assert st.transactions[3].bank_reference == ""  # "00000000" is a placeholder


def test_broken_asn_balance_chain_is_reported() -> None:
    row = "{d},NL00ASNB9999999999,,,,,,EUR,{before},EUR,{amount},{d},{d},1,NGM,1{n},,'x',1\n"
    text = row.format(d="01-02-2024", before="10.00", amount="-1.00", n=1) + row.format(
        d="02-02-2024", before="8.00", amount="1.00", n=2
    )
    result = parse(text)
    [st] = result.statements
    [issue] = result.issues
    assert not issue.fatal and (issue.line, issue.field) == (2, "saldo rekening voor mutatie")
    assert st.opening_minor is None


# -- validation on synthetic ING files -------------------------------------------------------


@pytest.mark.parametrize(
    ("bad_row", "field", "words"),
    [
        (ing_row("X", amount="1,2,5"), "Bedrag (EUR)", 'not an amount "1,2,5"'),
        (ing_row("X", amount="1,255"), "Bedrag (EUR)", "more than 2 decimals"),
        (ing_row("X", amount=""), "Bedrag (EUR)", "missing amount"),
        (ing_row("X", day="2024-01-05"), "Datum", "not a date (%Y%m%d)"),
        (ing_row("X", day="20240230"), "Datum", "not a date"),
        (ing_row("X", sign="Debet"), "Af Bij", "unknown debit/credit marker 'Debet'"),
        ('"20240105","too","few"\n', "", "expected 9 fields like the header, found 3"),
    ],
)
def test_bad_rows_refuse_the_file_naming_line_and_field(
    bad_row: str, field: str, words: str
) -> None:
    text = ING_HEADER + ing_row("A") + ing_row("B") + ing_row("C") + bad_row
    result = parse(text)
    assert result.refused and result.statements == []
    [issue] = fatal(result)
    assert (issue.line, issue.field) == (5, field)
    assert words in issue.message


def test_thousands_and_english_headers() -> None:
    english = (
        '"Date";"Name / Description";"Account";"Counterparty";"Code";"Debit/credit";'
        '"Amount (EUR)";"Transaction type";"Notifications"\n'
        '"20240105";"Big";"NL99INGB9999999999";"";"OV";"Credit";"1.234,56";"x";"y"\n'
        '"20240106";"Small";"NL99INGB9999999999";"";"OV";"Debit";"0,01";"x";"y"\n'
    )
    assert detect_dialect(english).name == "ing_nl"  # type: ignore[union-attr]
    [st] = parse(english).statements
    assert [t.amount_minor for t in st.transactions] == [123456, -1]
    assert st.transactions[0].description == "Big y"


def test_one_statement_per_account() -> None:
    other = ing_row("B").replace("NL99INGB9999999999", "NL11INGB0000000001")
    result = parse(ING_HEADER + ing_row("A") + other + ing_row("C"))
    assert [(s.account_identifier, len(s.transactions)) for s in result.statements] == [
        ("NL99INGB9999999999", 2),
        ("NL11INGB0000000001", 1),
    ]


# -- encodings ----------------------------------------------------------------------------------

NAMES = {
    "cp1252": ["Bürobedarf Müller", "Café Zoë", "Señor Pérez S.L.", "Boulangerie Lefèvre"],
    "latin-1": ["Bürobedarf Müller", "Café Zoë", "Ærø Købmand"],
    "cp1250": ["Łódź Sp. z o.o.", "Bürobedarf Müller", "Zakład Usług Świętokrzyskich"],
    "cp1257": ["Rīga SIA", "Bürobedarf Müller", "Liepājas Ceļi", "UAB Šviesa Kaunas"],
    "utf-8": ["Bürobedarf Müller", "Łódź Sp. z o.o.", "Rīga SIA"],
    "utf-8-sig": ["Bürobedarf Müller", "Łódź Sp. z o.o.", "Rīga SIA"],
}


@pytest.mark.parametrize("encoding", sorted(NAMES))
def test_counterparty_text_survives_each_encoding(encoding: str) -> None:
    names = NAMES[encoding]
    data = (ING_HEADER + "".join(ing_row(n) for n in names)).encode(encoding)
    assert BankCsvParser().identify(data, "export.csv")
    result = parse(data)
    assert not result.issues
    [st] = result.statements
    assert [t.counterparty_name for t in st.transactions] == names


@pytest.mark.parametrize(
    ("encoding", "name"), [("cp1250", "Łódź Sp. z o.o."), ("cp1257", "Rīga SIA")]
)
def test_a_single_telling_name_is_enough(encoding: str, name: str) -> None:
    [st] = parse((ING_HEADER + ing_row(name)).encode(encoding)).statements
    assert st.transactions[0].counterparty_name == name


# -- dialects as data ---------------------------------------------------------------------------


def test_packaged_dialects_load() -> None:
    names = {d.name for d in load_dialects()}
    assert {"ing_nl", "knab_nl", "asn_nl", "lloyds_uk", "revolut"} <= names
    assert all(d.bank and d.country and d.date_formats for d in load_dialects())


def test_detect_dialect_rejects_unknown_text() -> None:
    assert detect_dialect("a,b,c\n1,2,3\n") is None
    assert detect_dialect("") is None


def test_forced_dialect() -> None:
    text = ING_HEADER + ing_row("A")
    assert BankCsvParser("ing_nl").identify(text.encode(), "x.csv")
    assert not BankCsvParser("knab_nl").identify(text.encode(), "x.csv")
    with pytest.raises(ValueError, match="unknown bank CSV dialect"):
        BankCsvParser("nope").identify(text.encode(), "x.csv")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"colour": "blue"}, "unknown keys"),
        ({"columns": {"amount": "A"}}, "booking_date"),
        ({"columns": {"booking_date": "D", "amount": "A", "debit": "X", "credit": "Y"}}, "either"),
        ({"currency": "EURO"}, "fixed ISO currency"),
        ({"columns": {"booking_date": "D", "amount": "A", "sign": "S"}}, "[sign]"),
        ({"header": {}}, "required names"),
    ],
)
def test_malformed_dialects_are_refused_at_load(change: dict[str, object], words: str) -> None:
    doc: dict[str, object] = {
        "name": "t",
        "date_formats": ["%Y-%m-%d"],
        "currency": "EUR",
        "header": {"required": ["D", "A"]},
        "columns": {"booking_date": "D", "amount": "A"},
    }
    _dialect_from_toml(doc, "ok.toml")
    with pytest.raises(ValueError, match=r"bank CSV dialect bad\.toml") as err:
        _dialect_from_toml({**doc, **change}, "bad.toml")
    assert words in str(err.value)


def test_legacy_guess_defaults_to_cp1252_and_falls_back_to_latin1() -> None:
    from ledgerlens.ingest.encoding import decode_text, guess_legacy_encoding

    assert guess_legacy_encoding("Bürobedarf Müller".encode("cp1252")) == "cp1252"
    assert guess_legacy_encoding(b"abc\x81\x90def") == "latin-1"  # undefined in every code page
    assert decode_text("Łódź Sp. z o.o.".encode("cp1250")) == ("Łódź Sp. z o.o.", "cp1250")
    assert decode_text("Rīga".encode()) == ("Rīga", "utf-8")


def test_mutated_real_exports_never_raise(samples: Path) -> None:
    """Bad input becomes issues, never exceptions (a seeded sample of byte-level mutations)."""
    import random

    originals = [p.read_bytes() for p in sorted(samples.glob("*/*.csv"))]
    alphabet = b"0123456789,;.\"'\n\r -+abcEURAfBijDC/:\xc3\xa9\xe9\x81"
    rnd = random.Random(20261204)
    parser = BankCsvParser()
    for _ in range(400):
        data = bytearray(rnd.choice(originals))
        for _ in range(rnd.randint(1, 6)):
            pos = rnd.randrange(len(data) + 1)
            data[pos:pos] = bytes([rnd.choice(alphabet)])
            if data and rnd.random() < 0.5:
                del data[rnd.randrange(len(data))]
        result = parser.parse(bytes(data), "mutant.csv")
        parser.identify(bytes(data), "mutant.csv")
        if result.refused:
            assert result.statements == [] and all(i.message for i in result.issues)
