"""OpenBankingParser: a response built from the OBIE v4 OpenAPI spec, plus inline edge cases.

The spec carries field-level ``example`` values, not whole payloads, so ``spec_response`` builds
a complete ``OBReadTransaction6`` response from the schema at test time (example, else first enum
value, else a typed placeholder). Nothing from the spec is copied into the repository.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlens.ingest.formats.obie import OpenBankingParser
from ledgerlens.ingest.model import ParseResult, StatementParser

SPEC = "openbankinguk-codesets/account-info-openapi.v4.0.0.json"
PLACEHOLDER = {"date-time": "2024-05-29T10:43:07+00:00", "uri": "https://example.test/x"}


def instance(schema: dict[str, Any], schemas: dict[str, Any], depth: int = 0) -> Any:
    """One value valid for ``schema``: its example, else its first enum value, else a dummy."""
    if "$ref" in schema:
        return instance(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas, depth)
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: instance(v, schemas, depth + 1) for k, v in props.items()} if depth < 8 else {}
    if kind == "array":
        return [instance(schema.get("items", {}), schemas, depth + 1)]
    if kind in {"number", "integer"}:
        return 1
    if kind == "boolean":
        return True
    return PLACEHOLDER.get(schema.get("format", ""), "text")


@pytest.fixture(scope="module")
def spec_response(external_data: Path) -> dict[str, Any]:
    path = external_data / SPEC
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    schemas = json.loads(path.read_text(encoding="utf-8"))["components"]["schemas"]
    response = instance(schemas["OBReadTransaction6"], schemas)
    assert set(response) == {"Data", "Links", "Meta"}
    return response


def parse(doc: Any, path: str = "tx.json") -> ParseResult:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return OpenBankingParser().parse(data, path)


def entry(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "AccountId": "acc-1",
        "TransactionId": "t1",
        "CreditDebitIndicator": "Debit",
        "Status": "Booked",
        "BookingDateTime": "2024-03-01T09:30:00+00:00",
        "Amount": {"Amount": "12.50", "Currency": "GBP"},
        "TransactionInformation": "Cash from ATM",
    }
    base.update(fields)
    return base


def response(*entries: Any) -> dict[str, Any]:
    return {"Data": {"Transaction": list(entries)}, "Links": {"Self": "x"}, "Meta": {}}


# --- the spec-derived response -----------------------------------------------------------------


def test_spec_example_response(spec_response: dict[str, Any]) -> None:
    tx_example = spec_response["Data"]["Transaction"][0]
    assert tx_example["Status"] == "BOOK" and tx_example["CreditDebitIndicator"] == "Credit"
    data = json.dumps(spec_response, indent=2).encode()
    assert OpenBankingParser().identify(data[:2048], "transactions.json")
    result = OpenBankingParser().parse(data, "spec.json")
    assert not result.refused, [str(i) for i in result.issues]
    (stmt,) = result.statements
    assert stmt.account_identifier == tx_example["AccountId"] == "22289"
    assert stmt.currency == "GBP"
    assert stmt.opening_minor is None and stmt.closing_minor is None and stmt.reconciles is None
    (tx,) = stmt.transactions
    assert tx.amount_minor == 120906  # example "1209.06", Credit → money in
    assert tx.balance_after_minor == 120906  # Balance example: Credit 1209.06
    assert tx.booking_date == date(2024, 5, 29) and tx.line == 1
    assert tx.purpose_code == tx_example["PaymentPurposeCode"]


def test_spec_example_as_debit_with_iban_merchant_and_card(spec_response: dict[str, Any]) -> None:
    doc = copy.deepcopy(spec_response)
    tx = doc["Data"]["Transaction"][0]
    tx["CreditDebitIndicator"] = "Debit"
    tx["CreditorAccount"].update(
        SchemeName="UK.OBIE.IBAN", Identification="GB29 NWBK 6016 1331 9268 19"
    )
    tx["MerchantDetails"] = {"MerchantName": "Tesco Stores", "MerchantCategoryCode": "5411"}
    tx["CardInstrument"]["Identification"] = "4111111111111111"
    tx["BankTransactionCode"] = {
        "Code": "IssuedCreditTransfers",
        "SubCode": "DomesticCreditTransfer",
    }
    (stmt,) = parse(doc).statements
    (parsed,) = stmt.transactions
    assert parsed.amount_minor == -120906
    assert parsed.counterparty_iban == "GB29NWBK60161331926819"
    assert (parsed.counterparty_name, parsed.mcc) == ("Tesco Stores", "5411")
    assert parsed.card_id == "**** 1111"
    assert "4111111111111111" not in repr(parsed)
    assert parsed.bank_tx_code == "IssuedCreditTransfers/DomesticCreditTransfer"


# --- inline edge cases -------------------------------------------------------------------------


def test_parser_satisfies_protocol() -> None:
    assert isinstance(OpenBankingParser(), StatementParser)
    assert OpenBankingParser.format == "obie"


def test_sign_dates_reference_and_description() -> None:
    doc = response(
        entry(ValueDateTime="2024-03-02T00:00:00Z", TransactionReference="INV-9"),
        entry(
            TransactionId="t2",
            CreditDebitIndicator="Credit",
            Amount={"Amount": "100", "Currency": "GBP"},
        ),
    )
    (stmt,) = parse(doc).statements
    debit, credit = stmt.transactions
    assert (debit.amount_minor, credit.amount_minor) == (-1250, 10000)
    assert debit.value_date == date(2024, 3, 2) and credit.value_date is None
    assert debit.bank_reference == "t1" and credit.bank_reference == "t2"
    assert debit.description == "Cash from ATM / INV-9"
    assert (stmt.period_start, stmt.period_end) == (date(2024, 3, 1), date(2024, 3, 1))


def test_booking_date_is_the_printed_day_not_utc() -> None:
    (stmt,) = parse(response(entry(BookingDateTime="2024-03-01T23:30:00-05:00"))).statements
    assert stmt.transactions[0].booking_date == date(2024, 3, 1)


def test_one_statement_per_account_in_order_of_appearance() -> None:
    doc = response(
        entry(AccountId="B", Amount={"Amount": "1.00", "Currency": "EUR"}),
        entry(AccountId="A"),
        entry(AccountId="B", Amount={"Amount": "2.00", "Currency": "EUR"}),
    )
    result = parse(doc)
    assert [(s.account_identifier, s.currency, s.line) for s in result.statements] == [
        ("B", "EUR", 1),
        ("A", "GBP", 2),
    ]
    assert [t.line for t in result.statements[0].transactions] == [1, 3]


@pytest.mark.parametrize("status", ["Pending", "PDNG", "FUTR", "INFO", "Rejected", "RJCT"])
def test_unbooked_entries_are_skipped_with_a_warning(status: str) -> None:
    result = parse(response(entry(), entry(Status=status, TransactionId="p")))
    assert not result.refused
    assert [t.bank_reference for t in result.statements[0].transactions] == ["t1"]
    (issue,) = result.issues
    assert (issue.line, issue.element, issue.field) == (2, "Data.Transaction[1].Status", "Status")


def test_balance_after_is_signed_by_its_own_indicator() -> None:
    bal = {
        "Amount": {"Amount": "40.00", "Currency": "GBP"},
        "CreditDebitIndicator": "Debit",
        "Type": "ITBD",
    }
    (stmt,) = parse(response(entry(Balance=bal))).statements
    assert stmt.transactions[0].balance_after_minor == -4000


def test_bad_balance_is_not_fatal() -> None:
    bal = {"Amount": {"Amount": "x", "Currency": "GBP"}, "CreditDebitIndicator": "Credit"}
    result = parse(response(entry(Balance=bal)))
    assert not result.refused and result.statements[0].transactions[0].balance_after_minor is None
    assert [i.element for i in result.issues] == ["Data.Transaction[0].Balance.Amount.Amount"]


def test_currency_exchange_keeps_the_instructed_amount() -> None:
    fx = {
        "SourceCurrency": "EUR",
        "ExchangeRate": 0.85,
        "InstructedAmount": {"Amount": "20.00", "Currency": "EUR"},
    }
    (stmt,) = parse(response(entry(CurrencyExchange=fx))).statements
    tx = stmt.transactions[0]
    assert (tx.amount_minor, tx.original_amount_minor, tx.original_currency) == (
        -1250,
        -2000,
        "EUR",
    )


def test_counterparty_of_a_credit_is_the_debtor() -> None:
    doc = response(
        entry(
            CreditDebitIndicator="Credit",
            DebtorAccount={
                "SchemeName": "UK.OBIE.IBAN",
                "Identification": "DE89370400440532013000",
                "Name": "Kunde GmbH",
            },
            CreditorAccount={
                "SchemeName": "UK.OBIE.SortCodeAccountNumber",
                "Identification": "80200112344562",
            },
        )
    )
    tx = parse(doc).statements[0].transactions[0]
    assert (tx.counterparty_name, tx.counterparty_iban) == ("Kunde GmbH", "DE89370400440532013000")
    own = {
        "SchemeName": "UK.OBIE.IBAN",
        "Identification": "GB29NWBK60161331926819",
        "Name": "Us Ltd",
    }
    tx = parse(response(entry(DebtorAccount=own))).statements[0].transactions[0]
    assert (tx.counterparty_name, tx.counterparty_iban) == ("", "")  # a debit's debtor is us


def test_numbers_where_the_spec_says_string() -> None:
    doc = response(
        entry(
            TransactionId=17,
            Amount={"Amount": 12.5, "Currency": "GBP"},
            MerchantDetails={"MerchantCategoryCode": 742},
        )
    )
    tx = parse(doc).statements[0].transactions[0]
    assert (tx.bank_reference, tx.amount_minor, tx.mcc) == ("17", -1250, "0742")


def test_sort_code_scheme_is_not_an_iban() -> None:
    acct = {
        "SchemeName": "UK.OBIE.SortCodeAccountNumber",
        "Identification": "80200112344562",
        "Name": "Landlord",
    }
    tx = parse(response(entry(CreditorAccount=acct))).statements[0].transactions[0]
    assert (tx.counterparty_name, tx.counterparty_iban) == ("Landlord", "")


def test_card_numbers_never_survive() -> None:
    doc = response(
        entry(
            CardInstrument={"CardSchemeName": "VISA", "Identification": "4000 0566 5566 5556"},
            TransactionInformation="CARD 4000056655665556 TESCO",
        )
    )
    tx = parse(doc).statements[0].transactions[0]
    assert tx.card_id == "**** 5556"
    assert tx.description == "CARD **** 5556 TESCO"
    (tx,) = (
        parse(response(entry(TransactionInformation="order 12345678901234")))
        .statements[0]
        .transactions
    )
    assert tx.description == "order 12345678901234"  # not Luhn-valid: an order number stays


@pytest.mark.parametrize(
    ("change", "element"),
    [
        ({"Amount": {"Amount": "-12.50", "Currency": "GBP"}}, "Data.Transaction[0].Amount.Amount"),
        ({"Amount": {"Amount": "12.505", "Currency": "GBP"}}, "Data.Transaction[0].Amount.Amount"),
        ({"Amount": {"Amount": "12.50", "Currency": "XYZ"}}, "Data.Transaction[0].Amount.Currency"),
        ({"CreditDebitIndicator": "Both"}, "Data.Transaction[0].CreditDebitIndicator"),
        ({"BookingDateTime": "yesterday"}, "Data.Transaction[0].BookingDateTime"),
        ({"Status": "Weird"}, "Data.Transaction[0].Status"),
        ({"AccountId": ""}, "Data.Transaction[0].AccountId"),
    ],
)
def test_bad_entry_is_fatal_and_located(change: dict[str, Any], element: str) -> None:
    result = parse(response(entry(**change)))
    assert result.refused
    fatal = [i for i in result.issues if i.fatal]
    assert [(i.line, i.element, i.field) for i in fatal] == [(1, element, element.rsplit(".")[-1])]


def test_mixed_currencies_in_one_account_are_fatal() -> None:
    result = parse(response(entry(), entry(Amount={"Amount": "1", "Currency": "EUR"})))
    assert result.refused
    assert [i.element for i in result.issues] == ["Data.Transaction[1].Amount.Currency"]


def test_invalid_json_gives_line_and_column() -> None:
    result = parse(b'{"Data": {"Transaction": [\n  {"AccountId": "1",}\n]}}')
    (issue,) = result.issues
    assert issue.fatal and issue.line == 2 and "column" in issue.message
    assert not result.statements


@pytest.mark.parametrize("doc", [[], {"Data": {}}, {"Data": {"Transaction": {}}}, "x", 1])
def test_not_a_transactions_response(doc: Any) -> None:
    result = parse(doc)
    assert result.refused and "no Data.Transaction list" in result.issues[0].message


def test_v4_plural_key_and_empty_list() -> None:
    result = parse({"Data": {"Transactions": []}})
    assert not result.refused and not result.statements
    assert result.issues[0].element == "Data.Transactions"


def test_identify() -> None:
    ident = OpenBankingParser().identify
    assert ident(b'\xef\xbb\xbf {\n "Data": {\n  "Transaction": [', "a.json")
    assert not ident(b'{"Data": {"Account": [', "accounts.json")
    assert not ident(b"OFXHEADER:100", "a.json")


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.text(max_size=5) | st.integers(),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    ["Amount", "Currency", "Status", "AccountId", "Balance", "CreditDebitIndicator"]
                ),
                c,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
)
def test_parse_never_raises(junk: Any) -> None:
    result = parse(response(junk, entry(Balance=junk, CurrencyExchange=junk, MerchantDetails=junk)))
    assert isinstance(result.issues, list)
