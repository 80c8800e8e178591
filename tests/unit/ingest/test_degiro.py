"""The DEGIRO cash account CSV and the other Dutch exports that are recognised only to be refused.

DEGIRO's "Account.csv" needs three generic dialect declarations (``"Mutatie>1"`` for a nameless
column, ``skip_blank_amount``; see ``bank_csv``); ING's balance history needs ``refuse``, and a
Knab export without its header ``[header] preamble``. Expected numbers were summed by hand from
the sample (26 EUR rows with an amount: +798.81; one USD row: -0.02).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ledgerlens.ingest.formats.bank_csv import BankCsvParser, _dialect_from_toml, detect_dialect
from ledgerlens.ingest.formats.bank_csv_rows import _resolve
from ledgerlens.ingest.model import ImportIssue, ParseResult

SAMPLES = "ofxstatement-plugin-samples/dutch-gpaulissen"
DEGIRO = "Account_20190101_20200317.csv"
NL_HEADER = "Datum,Tijd,Valutadatum,Product,ISIN,Omschrijving,FX,Mutatie,,Saldo,,Order Id\n"
EN_HEADER = "Date,Time,Value date,Product,ISIN,Description,FX,Change,,Balance,,Order Id\n"


def parse(data: bytes | str, name: str = "Account.csv") -> ParseResult:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return BankCsvParser().parse(raw, name)


def fatal(result: ParseResult) -> list[ImportIssue]:
    return [i for i in result.issues if i.fatal]


def notes(result: ParseResult) -> list[ImportIssue]:
    return [i for i in result.issues if not i.fatal]


@pytest.fixture(scope="module")
def samples(external_data: Path) -> Path:
    folder = external_data / SAMPLES
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    return folder


# -- DEGIRO --------------------------------------------------------------------------------------


def test_degiro_real_export(samples: Path) -> None:
    data = (samples / DEGIRO).read_bytes()
    assert BankCsvParser().identify(data, DEGIRO)
    assert detect_dialect(data.decode("latin-1")).name == "degiro_nl"  # type: ignore[union-attr]
    result = parse(data, DEGIRO)
    assert fatal(result) == []
    eur, usd = result.statements
    assert (eur.currency, len(eur.transactions), eur.sum_minor) == ("EUR", 26, 79881)
    assert (usd.currency, len(usd.transactions), usd.sum_minor) == ("USD", 1, -2)
    assert eur.account_identifier == usd.account_identifier == ""  # the export names no account
    dates = [t.booking_date for t in eur.transactions]
    assert dates == sorted(dates)
    assert (dates[0], dates[-1]) == (date(2019, 1, 2), date(2019, 12, 27))
    first = eur.transactions[0]
    assert (first.booking_date, first.value_date, first.amount_minor, first.description) == (
        date(2019, 1, 2),
        date(2018, 12, 31),
        -2,
        "Rente",
    )
    sale = next(t for t in eur.transactions if t.amount_minor == 33648)
    assert sale.description == "Verkoop 4 @ 84,12 EUR VANECK ESG EW NL0010408704"
    assert sale.bank_reference == "c4e0e965-a35e-4a34-a16c-17a8b4a95745"
    assert sum(1 for t in eur.transactions if t.amount_minor == -33435) == 2  # twins stay two


def test_degiro_rows_without_amount_are_skipped_and_the_broken_chain_is_noted(
    samples: Path,
) -> None:
    result = parse((samples / DEGIRO).read_bytes(), DEGIRO)
    skipped = [i for i in notes(result) if "no amount" in i.message]
    assert [i.line for i in skipped] == [2, 5, 8]
    assert {i.field for i in skipped} == {"column 9, right of Mutatie"}
    [chain] = [i for i in notes(result) if "does not chain" in i.message]
    # the sample's 04-03-2019 row was relabelled USD upstream, so the EUR balances skip a step
    assert (chain.line, chain.field) == (28, "column 11, right of Saldo")
    assert "-5.07 + 1.97 = -3.10" in chain.message
    eur, usd = result.statements
    assert (eur.opening_minor, eur.closing_minor, eur.reconciles) == (None, None, None)
    assert all(t.balance_after_minor is None for t in eur.transactions)
    assert (usd.opening_minor, usd.closing_minor, usd.reconciles) == (-507, -509, True)


def test_degiro_english_export_whose_balances_chain() -> None:
    text = EN_HEADER + (
        '02-01-2024,09:00,02-01-2024,,,Deposit,,EUR,"1.000,00",EUR,"1.000,00",\n'
        "03-01-2024,10:00,03-01-2024,ACME CORP,US0000000001,Money Market fund conversion,"
        ',,,EUR,"1.000,00",\n'
        '04-01-2024,11:00,04-01-2024,ACME CORP,US0000000001,"Buy 2 @ 100 USD",,USD,"-200,00",'
        'USD,"-200,00",abc-1\n'
        '04-01-2024,11:00,04-01-2024,,,DEGIRO Transaction fee,,EUR,"-2,00",EUR,"998,00",abc-1\n'
    )
    result = parse(text)
    assert fatal(result) == [] and len(notes(result)) == 1
    eur, usd = result.statements
    assert (eur.opening_minor, eur.closing_minor, eur.reconciles) == (0, 99800, True)
    assert [t.balance_after_minor for t in eur.transactions] == [100000, 99800]
    assert (usd.sum_minor, usd.transactions[0].bank_reference) == (-20000, "abc-1")


def test_degiro_amount_without_currency_refuses_the_file() -> None:
    text = NL_HEADER + '02-01-2024,09:00,02-01-2024,,,iDEAL storting,,,"10,00",EUR,"10,00",\n'
    [issue] = fatal(parse(text))
    assert (issue.line, issue.field) == (2, "Mutatie") and "currency" in issue.message


def test_nameless_column_reference() -> None:
    header = ["Datum", "Mutatie", "", "Saldo", "", "Order Id"]
    assert _resolve("Mutatie>1", header) == 2
    assert _resolve("Change>1|Mutatie>1", header) == 2
    assert _resolve("Saldo>1", header) == 4
    assert _resolve("Datum>1", header) is None  # the column right of Datum has a name
    assert _resolve("Order Id>1", header) is None  # nothing right of the last column
    assert _resolve("Mutatie", header) == 1


# -- recognised, then refused with the reason --------------------------------------------------


def test_ing_balance_history_is_refused_with_the_reason(samples: Path) -> None:
    name = "NL99INGB9999999999_25-11-2019_30-05-2020.csv"
    data = (samples / name).read_bytes()
    assert BankCsvParser().identify(data, name)
    result = parse(data, name)
    [issue] = fatal(result)
    assert result.statements == [] and (issue.line, issue.field) == (1, "header")
    assert issue.message == "ING balance history: balances only, no transactions to import"


def test_ing_balance_history_with_semicolons_too() -> None:
    text = "Datum;Boeksaldo;Valutair saldo\n2024-01-02;13,20;13,20\n"
    assert "balances only" in fatal(parse(text))[0].message


def test_knab_preamble_without_header(samples: Path) -> None:
    name = "Knab_transactieoverzicht_no_header2.csv"
    [issue] = fatal(parse((samples / name).read_bytes(), name))
    assert (issue.line, issue.field) == (1, "header")
    assert "Knab export ('KNAB EXPORT' on line 1) without its header line" in issue.message
    assert "Rekeningnummer;Transactiedatum" in issue.message


def test_knab_mangled_header_names_what_is_missing() -> None:
    text = (
        "KNAB EXPORT;;;;;;\n"
        "Rekeningnummer;Transactiedatum;Valutacode;CreditDebet;Bedrag;Omschrijving;Boek datum;\n"
        '"NL99KNAB9999999999";"21-06-2019";"EUR";"D";"8,75";"x";"21-06-2019";\n'
    )
    [issue] = fatal(parse(text))
    assert (issue.line, issue.field) == (2, "header")
    assert issue.message.endswith("the header on line 2 lacks Boekdatum")


def test_preamble_alone_does_not_claim_other_text() -> None:
    assert not BankCsvParser().identify(b"KNAB EXPORTS are great\nhello\n", "x.csv")
    assert not BankCsvParser().identify(b"Datum,Boeksaldo\n2024-01-02,1\n", "x.csv")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"refuse": "no", "columns": {"booking_date": "D", "amount": "A"}}, "maps no [columns]"),
        ({"header": {"first_line": "^x", "preamble": "^y", "columns": ["D", "A"]}}, "preamble"),
    ],
)
def test_new_dialect_keys_are_checked_at_load(change: dict[str, object], words: str) -> None:
    doc: dict[str, object] = {
        "name": "t",
        "date_formats": ["%Y-%m-%d"],
        "currency": "EUR",
        "header": {"required": ["D", "A"]},
        "columns": {"booking_date": "D", "amount": "A"},
    }
    assert _dialect_from_toml({**doc, "skip_blank_amount": True}, "ok.toml").skip_blank_amount
    refusing = {k: v for k, v in doc.items() if k not in ("columns", "currency")}
    assert _dialect_from_toml({**refusing, "refuse": "why"}, "ok.toml").refuse == "why"
    with pytest.raises(ValueError, match=r"bank CSV dialect bad\.toml") as err:
        _dialect_from_toml({**doc, **change}, "bad.toml")
    assert words in str(err.value)
