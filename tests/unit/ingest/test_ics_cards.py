"""IcsCardsParser: the real ICS Cards statement texts (ofxstatement-dutch samples) and made-up ones.

Expected numbers for the real files were derived by hand from the files (and agree with what the
upstream plugin's tests assert: 25 lines, balances -1311.73 → -1320.55 for icscards.txt; -893.31
→ -1156.34 from 2018-12-21 for icscards_big.txt; -1753.69 → -1325.11 for icscards_error.txt).
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from ledgerlens.ingest.dedupe import transaction_keys
from ledgerlens.ingest.formats.ics_cards import IcsCardsParser
from ledgerlens.ingest.model import ImportIssue, ParsedStatement, ParseResult, StatementParser

SAMPLES = "ofxstatement-plugin-samples/dutch-gpaulissen"

# a made-up statement in the ICS layout (names, numbers and amounts invented)
HEAD = (
    "International Card Services BV                      www.icscards.nl\n"
    "Postbus 1                                           BIC: ABNANL2A\n\n"
    "Datum                 ICS-klantnummer       Volgnummer      Bladnummer\n"
    "17 maart 2024         12345678901           3               1 van 1\n"
    "Vorig openstaand saldo   Totaal ontvangen betalingen   Totaal nieuwe uitgaven   "
    "Nieuw openstaand saldo\n"
)
SUMMARY = "€ 100,00        Af   € 100,00       Bij   € 57,40        Af   € 57,40       Af\n"
TABLE = (
    "\nDatum      Datum      Omschrijving                              Bedrag in        Bedrag\n"
    "transactie boeking                                                vreemde valuta   in euro's\n"
)
PAYMENT = "02 mrt     02 mrt     IDEAL BETALING, DANK U                            100,00   Bij\n"
CARD = "Uw Card met als laatste vier cijfers 1234\nJ. JANSEN\n"
BAKERY = (
    "28 feb     01 mrt     BAKKERIJ DE ZON          UTRECHT         NL               12,40   Af\n"
)
HOTEL = (
    "03 mrt     05 mrt     HOTEL ALPINA             ZERMATT         CH   43,00 CHF   45,00   Af\n"
    "                      Wisselkoers CHF          0,95556\n"
)
FOOT = "\n Bestedingslimiet      Minimaal te betalen bedrag\n € 2.500               € 57,40\n\f"


def made_up(
    *,
    summary: str = SUMMARY,
    payment: str = PAYMENT,
    bakery: str = BAKERY,
    hotel: str = HOTEL,
    head: str = HEAD,
    extra: str = "",
) -> str:
    return head + summary + TABLE + payment + "\n" + CARD + bakery + hotel + extra + FOOT


def parse(text: str | bytes, path: str = "ics.txt") -> ParseResult:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return IcsCardsParser().parse(data, path)


def line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.split("\n"), start=1) if needle in ln)


def only(result: ParseResult) -> ParsedStatement:
    assert not result.refused, [str(i) for i in result.issues]
    [statement] = result.statements
    return statement


def fatal(result: ParseResult) -> ImportIssue:
    assert result.refused and result.statements == []
    [issue] = [i for i in result.issues if i.fatal]
    return issue


def notes(result: ParseResult) -> list[ImportIssue]:
    return [i for i in result.issues if not i.fatal]


@pytest.fixture(scope="module")
def samples(external_data: Path) -> Path:
    folder = external_data / SAMPLES
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    return folder


# -- the real statements -----------------------------------------------------------------------

# file → (lines, opening, closing, Σ, period start, statement date, Volgnummer)
REAL = {
    "icscards.txt": (25, -131173, -132055, -882, date(2019, 8, 21), date(2019, 9, 17), "9"),
    "icscards_equal_transactions.txt": (
        25, -131173, -132055, -882, date(2019, 8, 21), date(2019, 9, 17), "9",
    ),
    "icscards_big.txt": (38, -89331, -115634, -26303, date(2018, 12, 21), date(2019, 1, 17), "1"),
    "icscards_error.txt": (18, -175369, -132511, 42858, date(2019, 3, 20), date(2019, 4, 17), "4"),
    "icscards_no_balance.txt": (1, -1308, 0, 1308, date(2024, 5, 1), date(2024, 5, 17), "5"),
    "icscards-2025-03.txt": (1, -99, -198, -99, date(2025, 2, 22), date(2025, 3, 17), "3"),
    "icscards-2025-04.txt": (1, -198, -297, -99, date(2025, 3, 22), date(2025, 4, 17), "4"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_statements_reconcile(samples: Path, name: str) -> None:
    n, opening, closing, total, start, end, seq = REAL[name]
    data = (samples / name).read_bytes()
    assert IcsCardsParser().identify(data[:65536], name)
    result = parse(data, name)
    assert result.issues == []
    st = only(result)
    assert (len(st.transactions), st.opening_minor, st.closing_minor) == (n, opening, closing)
    assert st.sum_minor == total and st.reconciles is True
    assert (st.period_start, st.period_end) == (start, end)
    assert st.statement_ref == f"{end.year}/{seq}"
    assert (st.account_identifier, st.currency, st.account_type) == (
        "99999999999",
        "EUR",
        "credit_card",
    )
    assert st.line == 10  # the first page's header values
    assert all(t.booking_date <= end and t.value_date <= t.booking_date for t in st.transactions)  # type: ignore[operator]


def test_payments_purchases_cards_and_pages(samples: Path) -> None:
    st = only(parse((samples / "icscards.txt").read_bytes()))
    tx = st.transactions
    assert (tx[0].amount_minor, tx[0].description, tx[0].card_id) == (
        131173,
        "IDEAL BETALING, DANK U",
        "",
    )  # the payment, before any card section: money in for the card holder
    assert (tx[1].booking_date, tx[1].value_date, tx[1].amount_minor) == (
        date(2019, 8, 21),
        date(2019, 8, 20),
        -799,
    )
    assert tx[1].card_id == "**** 0467" and tx[1].line == 24
    assert (tx[12].counterparty_name, tx[12].description) == (
        "HOTEL MERCURE",
        "HOTEL MERCURE, MONTIGNY LE B (FR)",
    )
    # the merchant fills its 25-character column and the city follows without a gap
    assert tx[13].description == "NEWREST WAGONS LITS FRANC, PARIS (FR)"
    assert tx[14].description == "SNCF, PARIS 8 (FR)"
    assert (tx[24].amount_minor, tx[24].line) == (-615, 75)  # the only line of page 2
    assert all(t.original_currency == "" for t in tx)


def test_december_lines_of_a_january_statement_and_foreign_amounts(samples: Path) -> None:
    st = only(parse((samples / "icscards_big.txt").read_bytes()))
    by_line = {t.line: t for t in st.transactions}
    egypt, avis, natural, petite = by_line[28], by_line[32], by_line[36], by_line[94]
    assert (egypt.original_amount_minor, egypt.original_currency, egypt.amount_minor) == (
        23501,
        "EGP",
        -1182,
    )
    assert egypt.description == "SSP EGYPT, CAIRO E. -07C (EG)"
    assert (avis.value_date, avis.booking_date) == (date(2018, 12, 23), date(2019, 1, 4))
    assert (natural.original_amount_minor, natural.original_currency) == (144000, "ZAR")
    assert (petite.original_amount_minor, petite.original_currency) == (None, "")
    assert sum(1 for t in st.transactions if t.original_currency) == 26  # one per Wisselkoers line


def test_upstream_error_sample_is_a_consistent_statement(samples: Path) -> None:
    """Its name is historic (upstream once failed on it); it reconciles, and upstream parses it."""
    st = only(parse((samples / "icscards_error.txt").read_bytes()))
    thy, total = st.transactions[6], st.transactions[16]
    assert (thy.counterparty_name, thy.description) == (
        "THY 2357312380512",  # a two-space gap inside the merchant column
        "THY 2357312380512, Istanbul (US)",
    )
    assert (thy.original_amount_minor, thy.original_currency, thy.amount_minor) == (
        38393,
        "USD",
        -34530,
    )
    assert total.description == "TOTAL 4375462, 33PESSAC (FR)"
    # 7420830342989 passes the Luhn check: masked like a card number rather than kept
    assert st.transactions[5].counterparty_name == "EXPEDIA **** 2989"


def test_equal_lines_stay_two_transactions(samples: Path) -> None:
    st = only(parse((samples / "icscards_equal_transactions.txt").read_bytes()))
    a, b = st.transactions[7], st.transactions[8]
    assert (a.amount_minor, a.description, a.booking_date) == (
        b.amount_minor,
        b.description,
        b.booking_date,
    )
    assert a.amount_minor == -505 and a.line + 1 == b.line
    keys = transaction_keys(st.transactions)
    assert len(set(keys)) == len(keys) == 25


def test_zero_new_balance_has_no_marker_and_reads_as_zero(samples: Path) -> None:
    """icscards_no_balance.txt: '€0,00' without Af/Bij is a zero balance, not a missing one."""
    st = only(parse((samples / "icscards_no_balance.txt").read_bytes()))
    assert (st.opening_minor, st.closing_minor, st.reconciles) == (-1308, 0, True)


def test_real_other_files_are_not_claimed(samples: Path) -> None:
    for name in ("ing_ok.csv", "Account_20190101_20200317.csv", "Knab_transactieoverzicht_ok.csv"):
        assert not IcsCardsParser().identify((samples / name).read_bytes(), name)


def test_import_service_books_the_statement_once(samples: Path, tmp_path: Path) -> None:
    from tests.fakes import InMemoryStore, in_memory_uow_factory

    from ledgerlens.core.ledger import AccountType, Business
    from ledgerlens.ingest.service import StatementImporter

    store = InMemoryStore()
    store.businesses["acme"] = Business("acme", "Acme BV", "NL", "EUR")
    importer = StatementImporter(in_memory_uow_factory(store), [IcsCardsParser()])
    path = tmp_path / "icscards_equal_transactions.txt"
    path.write_bytes((samples / path.name).read_bytes())
    first = importer.import_file(path, "acme")
    assert not first.refused, [str(i) for i in first.issues]
    assert (first.format, first.new, first.reconciled) == ("ics", 25, 1)
    [account] = store.accounts.values()
    assert account.account_type is AccountType.CREDIT_CARD
    assert importer.import_file(path, "acme").new == 0


# -- made-up statements: layout variants and refusals -------------------------------------------


def test_made_up_statement() -> None:
    text = made_up()
    st = only(parse(text))
    assert [t.amount_minor for t in st.transactions] == [10000, -1240, -4500]
    assert [t.value_date for t in st.transactions] == [
        date(2024, 3, 2),
        date(2024, 2, 28),
        date(2024, 3, 3),
    ]
    hotel = st.transactions[2]
    assert (hotel.original_amount_minor, hotel.original_currency) == (4300, "CHF")
    assert hotel.line == line_of(text, "HOTEL ALPINA") and hotel.card_id == "**** 1234"
    assert (st.opening_minor, st.closing_minor, st.reconciles) == (-10000, -5740, True)
    assert st.account_identifier == "12345678901" and st.statement_ref == "2024/3"


def test_windows_text_in_cp1252_reads_the_same() -> None:
    text = made_up()
    a = only(parse(text))
    b = only(parse(text.replace("\n", "\r\n").encode("cp1252")))
    assert a == b


def test_2025_layout_months_with_a_period_and_euro_without_space() -> None:
    text = made_up(
        summary=SUMMARY.replace("€ ", "€"),
        payment=PAYMENT.replace("02 mrt ", "02 mrt."),
        bakery=BAKERY.replace("28 feb ", "28 feb.").replace("01 mrt ", "01 mrt."),
    )
    st = only(parse(text))
    assert st.transactions[1].value_date == date(2024, 2, 28)
    assert st.reconciles is True


def test_amounts_without_thousands_separator() -> None:
    hotel = HOTEL.replace("43,00 CHF   45,00", "998,50 CHF 1045,00").replace("0,95556", "0,9555")
    text = made_up(summary=SUMMARY.replace("57,40", "1057,40"), hotel=hotel)
    st = only(parse(text))
    assert st.transactions[2].amount_minor == -104500 and st.reconciles is True
    assert st.transactions[2].original_amount_minor == 99850


def test_year_rollover() -> None:
    head = HEAD.replace("17 maart 2024", "17 januari 2024")
    text = made_up(head=head, bakery=BAKERY.replace("28 feb     01 mrt", "28 dec     02 jan"))
    bakery = only(parse(text)).transactions[1]
    assert (bakery.value_date, bakery.booking_date) == (date(2023, 12, 28), date(2024, 1, 2))


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("12,40   Af", "12,40     ", "Af/Bij", "no Af/Bij"),
        ("28 feb     01 mrt", "28 xyz     01 mrt", "Datum transactie", "unknown month 'xyz'"),
        ("28 feb     01 mrt", "28 feb     31 apr", "Datum boeking", "not a date 31 apr"),
        ("12,40   Af", "12,4O   Af", "Bedrag in euro's", "no amount"),
    ],
)
def test_unreadable_transaction_line_refuses_the_file(
    old: str, new: str, field: str, words: str
) -> None:
    text = made_up(bakery=BAKERY.replace(old, new))
    issue = fatal(parse(text))
    assert (issue.line, issue.field) == (line_of(text, "BAKKERIJ"), field)
    assert words in issue.message


def test_garbled_page_header_refuses_the_file() -> None:
    text = made_up(head=HEAD.replace("17 maart 2024", "17 mars 2024"))
    issue = fatal(parse(text))
    assert (issue.line, issue.field) == (line_of(text, "17 mars 2024"), "Datum")


def test_two_statements_glued_together_are_refused() -> None:
    second = HEAD.replace("3               1 van 1", "4               1 van 1").split("\n\n")[1]
    text = made_up(extra="\f" + second.replace("17 maart", "17 april"))
    issue = fatal(parse(text))
    assert issue.field == "Volgnummer" and issue.line == line_of(text, "17 april 2024")
    assert "one file must hold one statement" in issue.message


def test_text_without_the_page_header_is_refused() -> None:
    issue = fatal(parse("International Card Services BV\nICS-klantnummer 123\n"))
    assert issue.field == "Datum" and "not an ICS statement" in issue.message


def test_a_pdf_is_refused_with_how_to_convert_it() -> None:
    issue = fatal(parse(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"))
    assert "pdftotext -layout" in issue.message


def test_missing_summary_leaves_balances_empty() -> None:
    text = made_up(head=HEAD.rsplit("Vorig", 1)[0], summary="")
    result = parse(text)
    st = only(result)
    assert (st.opening_minor, st.closing_minor, st.reconciles) == (None, None, None)
    assert len(st.transactions) == 3
    [note] = notes(result)
    assert "no balance summary" in note.message


def test_non_zero_balance_without_marker_is_left_empty() -> None:
    text = made_up(summary=SUMMARY.replace("€ 57,40       Af", "€ 57,40         "))
    result = parse(text)
    st = only(result)
    assert (st.opening_minor, st.closing_minor) == (-10000, None)
    [note] = notes(result)
    assert (note.field, note.line) == ("Nieuw openstaand saldo", line_of(text, "€ 100,00"))


def test_a_missed_line_is_reported_and_does_not_reconcile() -> None:
    text = made_up(bakery="")  # the totals still count the bakery's 12,40
    result = parse(text)
    st = only(result)
    assert st.reconciles is False
    [note] = notes(result)
    assert (note.field, note.line) == ("Totaal nieuwe uitgaven", line_of(text, "€ 100,00"))
    assert "lines add up to 55.00" in note.message and "give 42.60" in note.message


def test_zero_amount_notice_is_skipped() -> None:
    notice = "04 mrt     04 mrt     KAARTVERVANGING                                   0,00\n"
    text = made_up(extra=notice)
    result = parse(text)
    assert len(only(result).transactions) == 3
    [note] = notes(result)
    assert note.line == line_of(text, "KAARTVERVANGING") and "notice" in note.message


def test_inconsistent_exchange_rate_is_noted() -> None:
    text = made_up(hotel=HOTEL.replace("0,95556", "0,85556"))
    result = parse(text)
    assert only(result).transactions[2].original_amount_minor == 4300
    [note] = notes(result)
    assert note.field == "Wisselkoers" and note.line == line_of(text, "Wisselkoers")


def test_identify() -> None:
    parser: StatementParser = IcsCardsParser()
    assert isinstance(parser, StatementParser) and parser.format == "ics"
    assert parser.identify(made_up().encode(), "statement.txt")
    assert not parser.identify(b"International Card Services BV\nsome letter\n", "x.txt")
    assert not parser.identify(b":20:REF\n:25:NL99INGB9999999999\n", "x.txt")


def test_mutated_statements_never_raise() -> None:
    """Bad input becomes issues, never exceptions (seeded byte-level mutations)."""
    original = made_up().encode("utf-8")
    alphabet = b"0123456789,.\n \fAfBij\xe2\x82\xacmrtdecWisselkoers"
    rnd = random.Random(20261204)
    parser = IcsCardsParser()
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rnd.randint(1, 8)):
            pos = rnd.randrange(len(data) + 1)
            data[pos:pos] = bytes([rnd.choice(alphabet)])
            if rnd.random() < 0.5:
                del data[rnd.randrange(len(data))]
        result = parser.parse(bytes(data), "mutant.txt")
        if result.refused:
            assert result.statements == [] and all(i.message for i in result.issues)
        else:
            assert len(result.statements) == 1
