"""CamtParser: camt.052/053/054 against real files and their independent oracles.

Oracles: genkgo/camt's serialized parse (*.json beside each *.xml), the Subite LT/BE summary
(EXPECTED_SUMMARY.json, computed by an independent XML walk), and the kedder samples' stated
counts and reconciliation (PROVENANCE.md). Synthetic documents pin down each rule on its own.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlens.ingest.formats.camt import CamtParser
from ledgerlens.ingest.model import ImportIssue, ParseResult, StatementParser

EXTERNAL = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "external"
GENKGO = EXTERNAL / "genkgo-camt"
SUBITE = EXTERNAL / "subite-camt-to-coda"
KEDDER = EXTERNAL / "ofxstatement-plugin-samples" / "iso20022-kedder"

NS53 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def _need(folder: Path) -> None:
    if not folder.is_dir():
        pytest.skip(f"external test data not present: {folder}")


def _parse_file(path: Path) -> ParseResult:
    return CamtParser().parse(path.read_bytes(), str(path))


def _parse(xml: str) -> ParseResult:
    return CamtParser().parse(xml.encode(), "test.xml")


def _fatal(result: ParseResult) -> list[ImportIssue]:
    return [i for i in result.issues if i.fatal]


def _warnings(result: ParseResult) -> list[ImportIssue]:
    return [i for i in result.issues if not i.fatal]


# --- a small builder for synthetic camt.053 documents -------------------------------------


def _ntry(
    amount: str = "10.00",
    cd: str = "CRDT",
    *,
    ccy: str = "EUR",
    status: str = "<Sts><Cd>BOOK</Cd></Sts>",
    booking: str = "<BookgDt><Dt>2024-03-07</Dt></BookgDt>",
    extra: str = "",
    details: str = "",
) -> str:
    dtls = f"<NtryDtls>{details}</NtryDtls>" if details else ""
    return (
        f'<Ntry><Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>{cd}</CdtDbtInd>{status}{booking}'
        f"{extra}{dtls}</Ntry>"
    )


def _bal(
    code: str, amount: str, cd: str = "CRDT", ccy: str = "EUR", day: str = "2024-03-07"
) -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>{cd}</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>'
    )


def _doc(*records: str, ns: str = NS53, message: str = "BkToCstmrStmt") -> str:
    xmlns = f' xmlns="{ns}"' if ns else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document{xmlns}>\n<{message}>\n'
        "<GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-03-08T10:00:00+02:00</CreDtTm></GrpHdr>\n"
        + "\n".join(records)
        + f"\n</{message}>\n</Document>\n"
    )


def _stmt(
    *entries: str,
    balances: str = "",
    ccy: str | None = "EUR",
    tag: str = "Stmt",
    header: str = "",
) -> str:
    acct_ccy = f"<Ccy>{ccy}</Ccy>" if ccy else ""
    return (
        f"<{tag}><Id>S1</Id>{header}<Acct><Id><IBAN>LT601010012345678901</IBAN></Id>"
        f"{acct_ccy}</Acct>{balances}\n" + "\n".join(entries) + f"\n</{tag}>"
    )


# --- protocol and identify ----------------------------------------------------------------


def test_is_a_statement_parser() -> None:
    parser = CamtParser()
    assert isinstance(parser, StatementParser)
    assert parser.format == "camt"


@pytest.mark.parametrize(
    ("head", "filename", "expected"),
    [
        (_doc(_stmt()).encode()[:400], "x.xml", True),
        (b"\xef\xbb\xbf" + _doc(_stmt()).encode()[:400], "x.xml", True),
        (_doc(_stmt(tag="Rpt"), message="BkToCstmrAcctRpt").encode()[:400], "x.xml", True),
        (b'<?xml version="1.0"?><Document><BkToCstmrDbtCdtNtfctn>', "n.xml", True),
        (b'<?xml version="1.0"?><Document xmlns="urn:x"><Other/></Document>', "x.xml", False),
        (b'<?xml version="1.0"?><Document><Stuff/></Document>', "CAMT053_2024.xml", True),
        (b"OFXHEADER:100\nDATA:OFXSGML\n", "camt.ofx", False),
        (b"date;amount;text\n2024-01-01;1,00;x\n", "camt_export.csv", False),
        (b":20:STARTUMSE\n:25:10020030/1234567\n", "statement.sta", False),
    ],
    ids=["camt053", "bom", "camt052", "camt054", "other-xml", "by-name", "ofx", "csv", "mt940"],
)
def test_identify(head: bytes, filename: str, expected: bool) -> None:
    assert CamtParser().identify(head, filename) is expected


# --- genkgo/camt: the PHP library's parse as the oracle -----------------------------------


def _genkgo_records(doc: dict[str, Any]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(record, its fully serialized entries) pairs. The serializer writes each object once and
    "__RECURSIVITY__" afterwards, so an entry whose record is a marker belongs to the last one.
    """
    pairs: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
        (r, []) for r in doc["getRecords"] if isinstance(r, dict)
    ]
    for entry in doc["getEntries"]:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry["getRecord"], dict):
            pairs.append((entry["getRecord"], []))
        pairs[-1][1].append(entry)
    return pairs


def _genkgo_cases() -> list[Any]:
    if not GENKGO.is_dir():
        return [pytest.param(None, id="genkgo-absent")]
    return [
        pytest.param(p, id=p.stem)
        for p in sorted(GENKGO.glob("*.xml"))
        if p.with_suffix(".json").exists()
    ]


@pytest.mark.parametrize("xml_path", _genkgo_cases())
def test_genkgo_agrees_with_upstream_parse(xml_path: Path | None) -> None:
    if xml_path is None:
        pytest.skip(f"external test data not present: {GENKGO}")
    doc = json.loads(xml_path.with_suffix(".json").read_text())
    result = _parse_file(xml_path)
    assert not result.refused, [str(i) for i in result.issues]
    assert len(result.statements) == len(doc["getRecords"])
    by_ref = {s.statement_ref: s for s in result.statements}
    pairs = _genkgo_records(doc)
    assert pairs, "oracle describes no record"
    for record, entries in pairs:
        stmt = by_ref[record["getId"]]
        assert stmt.account_identifier == record["getAccount"]["getIdentification"]
        assert len(record["getEntries"]) == len(entries)  # the oracle shows every entry
        booked = [e for e in entries if e["getStatus"] != "PDNG"]
        assert len(stmt.transactions) == len(booked)
        assert stmt.sum_minor == sum(int(e["getAmount"]["getAmount"]) for e in booked)
        for entry, tx in zip(booked, stmt.transactions, strict=True):
            assert entry["getAmount"]["getCurrency"]["getCode"] == stmt.currency
            if entry["getBookingDate"]:
                assert tx.booking_date == date.fromisoformat(entry["getBookingDate"]["0"][:10])
            if entry["getValueDate"]:
                assert tx.value_date == date.fromisoformat(entry["getValueDate"]["0"][:10])
        for kind, ours in (("opening", stmt.opening_minor), ("closing", stmt.closing_minor)):
            theirs = next((b for b in record.get("getBalances", []) if b["getType"] == kind), None)
            if theirs is None:
                continue
            if theirs["getAmount"]["getCurrency"]["getCode"] == stmt.currency:
                assert ours == int(theirs["getAmount"]["getAmount"]), kind
            else:  # a balance in another currency cannot be an opening of this account
                assert ours is None, kind


def test_genkgo_wrong_file_is_refused() -> None:
    _need(GENKGO)
    result = _parse_file(GENKGO / "camt053.v2.wrong.xml")
    assert result.refused
    assert any("holds no Stmt" in i.message for i in _fatal(result))


def test_genkgo_five_decimals_are_exact_when_the_extra_digits_are_zero() -> None:
    _need(GENKGO)
    result = _parse_file(GENKGO / "camt053.v2.five.decimals.xml")
    assert not result.refused
    (stmt,) = result.statements
    assert (stmt.opening_minor, stmt.sum_minor, stmt.closing_minor) == (1815, 885, 2705)
    assert stmt.reconciles is False  # upstream's illustrative balances do not add up


def test_genkgo_pending_entry_is_left_out_with_a_warning() -> None:
    _need(GENKGO)
    result = _parse_file(GENKGO / "camt052.v4.xml")
    assert not result.refused
    assert result.statements[0].transactions == ()
    (issue,) = [i for i in _warnings(result) if "PDNG" in i.message]
    assert issue.element == "Rpt[1]/Ntry[1]/Sts"
    assert issue.line == 70


def test_genkgo_version_1_message_names_are_read() -> None:
    _need(GENKGO)
    result = _parse_file(GENKGO / "camt052.v1.xml")
    assert not result.refused
    assert result.statements[0].account_identifier == "CH2801234000123456789"
    assert result.statements[0].sum_minor == -20000000


def test_genkgo_multi_statement_reconciles_each_statement() -> None:
    _need(GENKGO)
    result = _parse_file(GENKGO / "camt053.v2.multi.statement.xml")
    assert [s.statement_ref for s in result.statements] == [
        "253EURNL26VAYB8060476890",
        "254EURNL26VAYB8060476890",
    ]
    assert [s.reconciles for s in result.statements] == [True, True]
    assert result.statements[1].transactions[0].counterparty_name == "Company Name 2"


# --- Subite: hundreds of real LT and BE statements ----------------------------------------


def _minor(text: str) -> int:
    return int(Decimal(text) * 100)  # every Subite statement is in EUR


def _subite_mismatches(entry: dict[str, Any], parser: CamtParser) -> list[str]:
    result = parser.parse((SUBITE / entry["file"]).read_bytes(), entry["file"])
    if result.refused:
        return [f"{entry['file']}: refused: {[str(i) for i in _fatal(result)]}"]
    if len(result.statements) != len(entry["statements"]):
        return [f"{entry['file']}: {len(result.statements)} statements"]
    problems = []
    for n, (ours, theirs) in enumerate(zip(result.statements, entry["statements"], strict=True)):
        where = f"{entry['file']} #{n + 1}"
        checks = {
            "account": (ours.account_identifier, theirs["account"]),
            # a batch whose TxDtls add up is split, so the count is the TxDtls count
            "count": (len(ours.transactions), theirs["tx_details"]),
            "net": (ours.sum_minor, _minor(theirs["net"])),
            "reconciles": (ours.reconciles, theirs.get("balance_identity_holds")),
        }
        balances = theirs["balances"]
        if "OPBD" in balances:
            checks["opening"] = (ours.opening_minor, _minor(balances["OPBD"]))
        if "CLBD" in balances:
            checks["closing"] = (ours.closing_minor, _minor(balances["CLBD"]))
        problems += [f"{where} {k}: {a!r} != {b!r}" for k, (a, b) in checks.items() if a != b]
    return problems


def test_subite_every_statement_agrees_with_the_summary() -> None:
    _need(SUBITE)
    summary = json.loads((SUBITE / "EXPECTED_SUMMARY.json").read_text())
    parser = CamtParser()
    problems: list[str] = []
    statements = 0
    for entry in summary["files"]:
        problems += _subite_mismatches(entry, parser)
        statements += len(entry["statements"])
    assert statements == 558
    assert problems == [], f"{len(problems)} mismatches of {statements}:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "name",
    [
        "LT625883379695428516/CAMT_053/2024-03-07.xml",
        "LT809872649478701594/CAMT_052/2024-03-11.xml",
        "LT809872649478701594/CAMT_054_subset/2024-03-07.xml",
        "Other/BE68793230773034-202411.xml",
        "Other/account_statement.xml",
    ],
    ids=["lt-053", "lt-052", "lt-054-batch", "be-053-month", "be-053-small"],
)
def test_subite_file(name: str) -> None:
    _need(SUBITE)
    summary = json.loads((SUBITE / "EXPECTED_SUMMARY.json").read_text())
    (entry,) = [f for f in summary["files"] if f["file"] == name]
    assert _subite_mismatches(entry, CamtParser()) == []


def test_subite_lt_statement_without_dates_or_balance_signs_is_read_with_warnings() -> None:
    _need(SUBITE)
    result = _parse_file(SUBITE / "LT625883379695428516/CAMT_053/2024-03-07.xml")
    first = result.statements[0]
    assert first.account_identifier == "LT625883379695428516"
    assert [t.amount_minor for t in first.transactions] == [82853198, -20, -579397]
    assert {t.booking_date for t in first.transactions} == {date(2024, 3, 7)}
    assert first.transactions[0].bank_reference == "REF000000025239"
    assert first.transactions[0].bank_tx_code == "ATSISK"
    messages = [i.message for i in _warnings(result)]
    assert any("3 entries have no BookgDt" in m for m in messages)
    assert any("OPBD balance without CdtDbtInd" in m for m in messages)


def test_subite_notification_batch_is_split_into_its_transactions() -> None:
    _need(SUBITE)
    result = _parse_file(SUBITE / "LT809872649478701594/CAMT_054_subset/2024-03-07.xml")
    (notification,) = result.statements
    assert len(notification.transactions) == 31
    assert notification.sum_minor == 632900
    first = notification.transactions[0]
    assert (first.amount_minor, first.bank_reference) == (30000, "495110")
    assert first.booking_date == date(2024, 3, 6)  # its settlement date: the entry has none
    assert len({t.line for t in notification.transactions}) == 31
    assert (notification.opening_minor, notification.closing_minor) == (None, None)
    assert notification.reconciles is None


def test_subite_belgian_statement_fields() -> None:
    _need(SUBITE)
    result = _parse_file(SUBITE / "Other/BE68793230773034-202411.xml")
    (stmt,) = result.statements
    assert all(t.bank_tx_code for t in stmt.transactions)
    assert sum(1 for t in stmt.transactions if t.counterparty_name) > len(stmt.transactions) // 2
    assert all(t.description for t in stmt.transactions)
    # a credit names the debtor, a debit the creditor: never the account holder itself
    assert not any(t.counterparty_iban == "BE68793230773034" for t in stmt.transactions)


# --- kedder samples: counts and reconciliation stated in PROVENANCE.md --------------------


@pytest.mark.parametrize(
    ("name", "entries", "reconciles", "currency"),
    [
        ("camt052.xml", 5, True, "EUR"),
        ("camt053.xml", 1, True, "CHF"),
        ("davider80.xml", 16, True, "CHF"),
        ("gcamp6.xml", 5, False, "XXX"),
        ("simple.xml", 4, True, "EUR"),
    ],
    ids=["camt052", "camt053", "davider80", "gcamp6", "simple"],
)
def test_kedder_sample(name: str, entries: int, reconciles: bool, currency: str) -> None:
    _need(KEDDER)
    result = _parse_file(KEDDER / name)
    assert not result.refused, [str(i) for i in result.issues]
    (stmt,) = result.statements
    assert len(stmt.transactions) == entries
    assert stmt.reconciles is reconciles
    assert stmt.currency == currency


def test_kedder_placeholder_currency_is_kept_and_flagged() -> None:
    _need(KEDDER)
    result = _parse_file(KEDDER / "gcamp6.xml")
    (stmt,) = result.statements
    assert (stmt.opening_minor, stmt.sum_minor, stmt.closing_minor) == (0, 13010, 10000)
    assert any("XXX" in i.message for i in _warnings(result))


def test_kedder_camt052_previous_closing_opens_the_report() -> None:
    _need(KEDDER)
    (stmt,) = _parse_file(KEDDER / "camt052.xml").statements
    assert (stmt.opening_minor, stmt.closing_minor) == (26835, 1695)
    assert (stmt.period_start, stmt.period_end) == (date(2021, 2, 5), date(2021, 2, 5))
    assert stmt.transactions[0].bank_reference == ""  # "NONREF" is no reference


def test_kedder_v8_debtor_party_name() -> None:
    _need(KEDDER)
    (stmt,) = _parse_file(KEDDER / "camt053.xml").statements
    (tx,) = stmt.transactions
    assert tx.counterparty_name == "PAYEE"
    assert tx.bank_tx_code == "PMNT/RCDT/DMCT"
    assert stmt.account_identifier == "0035-2915203-10-000"
    assert (stmt.period_start, stmt.period_end) == (date(2023, 1, 25), date(2023, 1, 25))


def test_kedder_unsupported_namespace_is_refused() -> None:
    _need(KEDDER)
    result = _parse_file(KEDDER / "unsupported.xml")
    assert result.refused
    assert result.statements == []
    (issue,) = result.issues
    assert "urn:weird-namespace" in issue.message
    assert issue.line == 2


# --- rules, one at a time -----------------------------------------------------------------


def test_entry_fields() -> None:
    details = (
        "<TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs>"
        '<AmtDtls><InstdAmt><Amt Ccy="USD">11.00</Amt></InstdAmt></AmtDtls>'
        "<RltdPties><Dbtr><Nm>ACME  Ltd</Nm></Dbtr><DbtrAcct><Id><IBAN>DE89 3704 0044 0532 0130 00"
        "</IBAN></Id></DbtrAcct><Cdtr><Nm>Us</Nm></Cdtr></RltdPties>"
        "<Purp><Cd>SUPP</Cd></Purp>"
        "<RmtInf><Ustrd>Invoice 17</Ustrd><Ustrd>and 18</Ustrd></RmtInf>"
        "<AddtlTxInf>SEPA credit</AddtlTxInf></TxDtls>"
    )
    extra = (
        "<ValDt><DtTm>2024-03-09T23:30:00+02:00</DtTm></ValDt>"
        "<AcctSvcrRef>BANK-REF-1</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>"
        "<Prtry><Cd>X1</Cd></Prtry></BkTxCd><AddtlNtryInf>Incoming</AddtlNtryInf>"
    )
    result = _parse(_doc(_stmt(_ntry("10.00", extra=extra, details=details))))
    assert not result.refused
    (tx,) = result.statements[0].transactions
    assert tx.amount_minor == 1000
    assert tx.booking_date == date(2024, 3, 7)
    assert tx.value_date == date(2024, 3, 9)  # the printed day, not converted to UTC
    assert tx.bank_reference == "BANK-REF-1"
    assert tx.bank_tx_code == "PMNT/RCDT/ESCT"
    assert tx.counterparty_name == "ACME Ltd"
    assert tx.counterparty_iban == "DE89370400440532013000"
    assert tx.purpose_code == "SUPP"
    assert tx.description == "Invoice 17 and 18 / SEPA credit / Incoming"
    assert (tx.original_amount_minor, tx.original_currency) == (1100, "USD")
    assert tx.line == 6


def test_card_number_is_masked_and_account_type_mapped() -> None:
    details = (
        "<TxDtls><CardTx><Card><PlainCardData><PAN>4111111111111111</PAN></PlainCardData>"
        "</Card></CardTx></TxDtls>"
    )
    xml = _doc(_stmt(_ntry("9.99", "DBIT", details=details))).replace(
        "<Ccy>EUR</Ccy></Acct>", "<Tp><Cd>CARD</Cd></Tp><Ccy>EUR</Ccy></Acct>"
    )
    stmt = _parse(xml).statements[0]
    assert stmt.account_type == "credit_card"
    assert stmt.transactions[0].card_id == "**** 1111"
    assert _parse(_doc(_stmt(_ntry()))).statements[0].account_type == ""


def test_declared_legacy_encoding_is_honoured() -> None:
    details = "<TxDtls><RltdPties><Dbtr><Nm>Bäckerei Müller</Nm></Dbtr></RltdPties></TxDtls>"
    xml = _doc(_stmt(_ntry(details=details))).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    result = CamtParser().parse(xml.encode("latin-1"), "latin1.xml")
    assert result.statements[0].transactions[0].counterparty_name == "Bäckerei Müller"


def test_truncated_real_file_is_refused_and_never_raises() -> None:
    _need(SUBITE)
    data = (SUBITE / "Other/account_statement.xml").read_bytes()
    for cut in range(1, len(data) - 40, max(1, len(data) // 60)):
        result = CamtParser().parse(data[:cut], "cut.xml")
        assert result.refused, cut


def test_debit_is_negative_and_names_the_creditor() -> None:
    details = (
        "<TxDtls><RltdPties><Dbtr><Pty><Nm>Us</Nm></Pty></Dbtr><Cdtr><Pty><Nm>Landlord</Nm></Pty>"
        "</Cdtr><CdtrAcct><Id><IBAN>LT121000011101001000</IBAN></Id></CdtrAcct></RltdPties>"
        "<RmtInf><Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>"
        "</TxDtls>"
    )
    result = _parse(_doc(_stmt(_ntry("1200.50", "DBIT", details=details))))
    (tx,) = result.statements[0].transactions
    assert tx.amount_minor == -120050
    assert (tx.counterparty_name, tx.counterparty_iban) == ("Landlord", "LT121000011101001000")
    assert tx.description == "RF18539007547034"
    assert tx.original_amount_minor is None


def test_proprietary_bank_code_and_booking_datetime() -> None:
    entry = _ntry(
        booking="<BookgDt><DtTm>2024-03-07T23:59:59.123456789+01:00</DtTm></BookgDt>",
        extra="<BkTxCd><Prtry><Cd>NTRF+116</Cd><Issr>DK</Issr></Prtry></BkTxCd>",
    )
    (tx,) = _parse(_doc(_stmt(entry))).statements[0].transactions
    assert tx.booking_date == date(2024, 3, 7)
    assert tx.bank_tx_code == "NTRF+116"


def _tx(amount: str, cd: str, ref: str, name: str, where: str = "Amt") -> str:
    amt = f'<Amt Ccy="EUR">{amount}</Amt>'
    if where == "TxAmt":
        amt = f"<AmtDtls><TxAmt>{amt}</TxAmt></AmtDtls>"
    role = "Dbtr" if cd == "CRDT" else "Cdtr"
    return (
        f"<TxDtls><Refs><TxId>{ref}</TxId></Refs>{amt}<CdtDbtInd>{cd}</CdtDbtInd>"
        f"<RltdPties><{role}><Nm>{name}</Nm></{role}></RltdPties></TxDtls>"
    )


def test_batch_whose_details_add_up_is_split() -> None:
    details = "\n".join(
        [
            _tx("60.00", "CRDT", "T1", "Anna"),
            _tx("50.00", "CRDT", "T2", "Ben", where="TxAmt"),
            _tx("10.00", "DBIT", "T3", "Refund Co"),
        ]
    )
    result = _parse(_doc(_stmt(_ntry("100.00", details=details))))
    assert not result.issues
    txs = result.statements[0].transactions
    assert [t.amount_minor for t in txs] == [6000, 5000, -1000]
    assert [t.counterparty_name for t in txs] == ["Anna", "Ben", "Refund Co"]
    assert [t.bank_reference for t in txs] == ["T1", "T2", "T3"]
    assert [t.line for t in txs] == [6, 7, 8]  # each TxDtls's own line
    assert result.statements[0].sum_minor == 10000


def test_batch_whose_details_do_not_add_up_stays_one_transaction() -> None:
    details = _tx("60.00", "CRDT", "T1", "Anna") + _tx("30.00", "CRDT", "T2", "Ben")
    result = _parse(_doc(_stmt(_ntry("100.00", details=details))))
    (tx,) = result.statements[0].transactions
    assert tx.amount_minor == 10000
    assert tx.counterparty_name == ""  # a batch has no single counterparty
    (issue,) = _warnings(result)
    assert "add up to 9000" in issue.message
    assert issue.element == "Stmt[1]/Ntry[1]/NtryDtls"


def test_batch_without_detail_amounts_stays_one_transaction_silently() -> None:
    details = "<TxDtls><Refs><TxId>A</TxId></Refs></TxDtls>" * 3
    result = _parse(_doc(_stmt(_ntry("100.00", details=details))))
    assert len(result.statements[0].transactions) == 1
    assert result.issues == []


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


_ENTRY = st.tuples(
    st.booleans(),  # credit?
    st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=4),  # parts
)


@settings(max_examples=60, deadline=None)
@given(entries=st.lists(_ENTRY, max_size=12), opening=st.integers(-(10**9), 10**9))
def test_any_statement_sums_exactly_and_reconciles(
    entries: list[tuple[bool, list[int]]], opening: int
) -> None:
    xml_entries, expected = [], []
    for credit, parts in entries:
        sign = 1 if credit else -1
        cd = "CRDT" if credit else "DBIT"
        details = ""
        if len(parts) > 1:  # a batch that adds up: split into its parts
            details = "".join(_tx(_money(p), cd, f"T{i}", "X") for i, p in enumerate(parts))
            expected += [sign * p for p in parts]
        else:
            expected.append(sign * parts[0])
        xml_entries.append(_ntry(_money(sum(parts)), cd, details=details))
    closing = opening + sum(expected)
    balances = _bal("OPBD", _money(abs(opening)), "DBIT" if opening < 0 else "CRDT") + _bal(
        "CLBD", _money(abs(closing)), "DBIT" if closing < 0 else "CRDT"
    )
    result = _parse(_doc(_stmt(*xml_entries, balances=balances)))
    assert not result.refused
    (stmt,) = result.statements
    assert [t.amount_minor for t in stmt.transactions] == expected
    assert (stmt.opening_minor, stmt.closing_minor, stmt.reconciles) == (opening, closing, True)


def test_sub_minor_amount_is_refused_naming_the_element() -> None:
    xml = _doc(_stmt(_ntry("1.00"), _ntry("10.505")))
    result = _parse(xml)
    assert result.refused
    (issue,) = _fatal(result)
    assert issue.element == "Stmt[1]/Ntry[2]/Amt"
    assert issue.line == xml.splitlines().index(_ntry("10.505")) + 1
    assert "more than 2 decimals" in issue.message


def test_zero_decimal_currency() -> None:
    xml = _doc(_stmt(_ntry("1500", ccy="JPY"), balances=_bal("OPBD", "100", ccy="JPY"), ccy="JPY"))
    stmt = _parse(xml).statements[0]
    assert (stmt.opening_minor, stmt.sum_minor) == (100, 1500)


def test_entry_in_another_currency_than_the_account_is_refused() -> None:
    result = _parse(_doc(_stmt(_ntry("5.00", ccy="USD"))))
    assert result.refused
    assert _fatal(result)[0].field == "Ccy"


def test_missing_credit_debit_indicator_is_refused() -> None:
    result = _parse(_doc(_stmt(_ntry("5.00", cd=""))))
    assert result.refused
    assert _fatal(result)[0].element == "Stmt[1]/Ntry[1]/CdtDbtInd"


def test_balances_are_signed_and_prcd_opens() -> None:
    balances = _bal("PRCD", "50.00", "DBIT", day="2024-03-06") + _bal("CLBD", "40.00", "DBIT")
    stmt = _parse(_doc(_stmt(_ntry("10.00"), balances=balances))).statements[0]
    assert (stmt.opening_minor, stmt.closing_minor) == (-5000, -4000)
    assert stmt.reconciles is True
    assert stmt.period_start == date(2024, 3, 7)  # the day after the previous closing


def test_opbd_wins_over_prcd() -> None:
    balances = _bal("PRCD", "1.00") + _bal("OPBD", "2.00") + _bal("CLBD", "12.00")
    stmt = _parse(_doc(_stmt(_ntry("10.00"), balances=balances))).statements[0]
    assert (stmt.opening_minor, stmt.closing_minor, stmt.reconciles) == (200, 1200, True)


def test_report_closes_on_interim_booked_balance() -> None:
    balances = _bal("OPBD", "1.00") + _bal("ITBD", "11.00")
    xml = _doc(_stmt(_ntry("10.00"), balances=balances, tag="Rpt"), message="BkToCstmrAcctRpt")
    stmt = _parse(xml).statements[0]
    assert (stmt.opening_minor, stmt.closing_minor) == (100, 1100)


def test_statement_does_not_close_on_interim_balance() -> None:
    balances = _bal("OPBD", "1.00") + _bal("ITBD", "11.00")
    stmt = _parse(_doc(_stmt(_ntry("10.00"), balances=balances))).statements[0]
    assert stmt.closing_minor is None


def test_currency_from_entries_when_the_account_has_none() -> None:
    stmt = _parse(_doc(_stmt(_ntry("3.00", ccy="CHF"), ccy=None))).statements[0]
    assert stmt.currency == "CHF"


def test_period_and_reference_from_the_header() -> None:
    header = (
        "<ElctrncSeqNb>42</ElctrncSeqNb><FrToDt><FrDtTm>2024-03-01T00:00:00</FrDtTm>"
        "<ToDtTm>2024-03-31T23:59:59</ToDtTm></FrToDt>"
    )
    stmt = _parse(_doc(_stmt(_ntry(), header=header))).statements[0]
    assert (stmt.period_start, stmt.period_end) == (date(2024, 3, 1), date(2024, 3, 31))
    assert stmt.statement_ref == "S1"
    assert stmt.line == 5


def test_undated_entry_takes_the_statement_end_with_one_warning() -> None:
    entries = [_ntry(booking="") for _ in range(3)]
    result = _parse(_doc(_stmt(*entries, balances=_bal("CLBD", "30.00", day="2024-03-31"))))
    assert {t.booking_date for t in result.statements[0].transactions} == {date(2024, 3, 31)}
    (issue,) = _warnings(result)
    assert issue.message.startswith("3 entries have no BookgDt")
    assert not result.refused


def test_transactions_summary_disagreement_is_reported() -> None:
    header = (
        "<TxsSummry><TtlNtries><NbOfNtries>3</NbOfNtries><TtlNetNtry><Amt>5.00</Amt>"
        "<CdtDbtInd>CRDT</CdtDbtInd></TtlNetNtry></TtlNtries></TxsSummry>"
    )
    xml = _doc(_stmt(_ntry("10.00"), _ntry("4.00", "DBIT"), balances=header))
    messages = [i.message for i in _warnings(_parse(xml))]
    assert any("counts 3 entries" in m for m in messages)
    assert any("net 500 differs" in m for m in messages)


def test_document_without_namespace_is_read_with_a_warning() -> None:
    result = _parse(_doc(_stmt(_ntry()), ns=""))
    assert not result.refused
    assert len(result.statements[0].transactions) == 1
    assert any(i.field == "xmlns" for i in _warnings(result))


@pytest.mark.parametrize(
    ("xml", "needle"),
    [
        (_doc(_stmt(_ntry()), ns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"), "namespace"),
        (_doc(_stmt(_ntry()), ns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.99"), "namespace"),
        ("<Stmt><Ntry/></Stmt>", "not an ISO 20022 Document"),
        (f'<Document xmlns="{NS53}"><FIToFICstmrCdtTrf/></Document>', "not one of"),
        ("", "not well-formed"),
        ("<Document><BkToCstmrStmt><Stmt>", "not well-formed"),
    ],
    ids=["pain-namespace", "future-version", "wrong-root", "wrong-message", "empty", "truncated"],
)
def test_unsupported_or_broken_input_is_refused(xml: str, needle: str) -> None:
    result = _parse(xml)
    assert result.refused
    assert any(needle in i.message for i in _fatal(result))


def test_malformed_xml_names_the_line() -> None:
    xml = _doc(_stmt(_ntry(), "<Ntry><Amt>1</Amtx></Ntry>"))
    result = _parse(xml)
    (issue,) = _fatal(result)
    assert issue.line == xml.splitlines().index("<Ntry><Amt>1</Amtx></Ntry>") + 1
    assert "not well-formed" in issue.message


def test_dtd_and_entities_are_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE Document [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        f'<Document xmlns="{NS53}"><BkToCstmrStmt><Stmt><Id>&b;</Id></Stmt></BkToCstmrStmt>'
        "</Document>"
    )
    result = _parse(bomb)
    assert result.refused
    assert result.statements == []
    assert _fatal(result)[0].field == "DOCTYPE"


def test_message_number_and_namespace_disagreeing_is_a_warning() -> None:
    xml = _doc(_stmt(_ntry(), tag="Rpt"), message="BkToCstmrAcctRpt")
    result = _parse(xml)  # camt.053 namespace, camt.052 message
    assert not result.refused
    assert any("namespace says camt.053" in i.message for i in _warnings(result))


def test_issues_are_capped() -> None:
    entries = [_ntry("1.00", status="<Sts>PDNG</Sts>") for _ in range(600)]
    result = _parse(_doc(_stmt(*entries)))
    assert len(result.issues) == 501
    assert result.issues[-1].message == "100 further issues not listed"
    assert not result.refused


# --- streaming ----------------------------------------------------------------------------


def _big_document(statements: int, entries: int) -> Iterator[bytes]:
    """A camt.053 of ``statements`` × ``entries`` generated chunk by chunk (never held)."""
    yield (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{NS53}"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>BIG</MsgId><CreDtTm>2024-03-08T10:00:00</CreDtTm></GrpHdr>"
    ).encode()
    for s in range(statements):
        amounts = [100 + (s * 7 + e * 13) % 9000 for e in range(entries)]
        net = sum(-c if e % 3 == 0 else c for e, c in enumerate(amounts))
        sign = "DBIT" if net < 0 else "CRDT"
        parts = [
            f"<Stmt><Id>S{s}</Id><Acct><Id><IBAN>LT{s:018d}</IBAN></Id><Ccy>EUR</Ccy></Acct>",
            _bal("OPBD", "0.00"),
            _bal("CLBD", f"{abs(net) // 100}.{abs(net) % 100:02d}", sign),
        ]
        for e, cents in enumerate(amounts):
            cd = "DBIT" if e % 3 == 0 else "CRDT"
            parts.append(
                f'<Ntry><Amt Ccy="EUR">{cents // 100}.{cents % 100:02d}</Amt><CdtDbtInd>{cd}'
                f"</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2024-03-07</Dt></BookgDt>"
                f"<AcctSvcrRef>R{s}-{e}</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Ustrd>Inv {e}"
                "</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
            )
        parts.append("</Stmt>")
        yield "".join(parts).encode()
    yield b"</BkToCstmrStmt></Document>"


class _ChunkStream(io.RawIOBase):
    """A read-only stream over generated chunks; counts the bytes handed out."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while len(self._buffer) < len(target):
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        self.consumed += size
        return size


def _rss_mb() -> float | None:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_stream_of_200_statements_by_500_entries() -> None:
    stream = _ChunkStream(_big_document(200, 500))
    issues: list[ImportIssue] = []
    statements = transactions = 0
    rss_early = None
    for stmt in CamtParser().iter_parse(io.BufferedReader(stream), "big.xml", issues):
        statements += 1
        transactions += len(stmt.transactions)
        assert stmt.reconciles is True, stmt.statement_ref
        if statements == 20:
            rss_early = _rss_mb()
    assert issues == []
    assert (statements, transactions) == (200, 100_000)
    rss_late = _rss_mb()
    if rss_early is not None and rss_late is not None:
        # ~60 MB of XML went through after the early mark; a kept tree would cost far more
        assert rss_late - rss_early < 40, (rss_early, rss_late)


def test_statements_are_yielded_before_the_file_is_read_to_the_end() -> None:
    stream = _ChunkStream(_big_document(50, 100))
    iterator = CamtParser().iter_parse(io.BufferedReader(stream, 8192), "big.xml", [])
    first = next(iterator)
    assert first.statement_ref == "S0"
    assert stream.consumed < 200_000  # the whole document is ~1.5 MB
    assert sum(1 for _ in iterator) == 49
