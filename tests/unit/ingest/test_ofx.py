"""OfxParser against the real ofxtools test files and the deviations banks actually ship."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlens.ingest.formats.ofx import OfxParser
from ledgerlens.ingest.model import ParseResult, StatementParser

SGML_HEADER = (
    "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\n"
    "CHARSET:1252\nCOMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
)


def sgml(transactions: str, *, header: str = SGML_HEADER, ledger: str = "") -> str:
    """A minimal OFX 1.x bank statement around the given <STMTTRN> blocks (SGML, leaves open)."""
    return (
        f"{header}<OFX>\n<SIGNONMSGSRSV1>\n<SONRS>\n<STATUS>\n<CODE>0\n<SEVERITY>INFO\n</STATUS>\n"
        "<DTSERVER>20240131120000\n<LANGUAGE>ENG\n</SONRS>\n</SIGNONMSGSRSV1>\n"
        "<BANKMSGSRSV1>\n<STMTTRNRS>\n<TRNUID>1\n<STMTRS>\n<CURDEF>EUR\n"
        "<BANKACCTFROM>\n<BANKID>30004\n<ACCTID>000123\n<ACCTTYPE>CHECKING\n</BANKACCTFROM>\n"
        "<BANKTRANLIST>\n<DTSTART>20240101\n<DTEND>20240131\n"
        f"{transactions}</BANKTRANLIST>\n{ledger}</STMTRS>\n</STMTTRNRS>\n</BANKMSGSRSV1>\n</OFX>\n"
    )


def trn(amount: str = "-12.50", *, extra: str = "", posted: str = "20240115") -> str:
    return (
        f"<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>{posted}\n<TRNAMT>{amount}\n"
        f"<FITID>F{amount}\n{extra}</STMTTRN>\n"
    )


def parse(text: str | bytes, path: str = "test.ofx") -> ParseResult:
    data = text.encode("ascii") if isinstance(text, str) else text
    return OfxParser().parse(data, path)


def only_statement(result: ParseResult):
    assert not result.refused, [str(i) for i in result.issues]
    assert len(result.statements) == 1
    return result.statements[0]


# --- the real files -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ofx_dir(external_data: Path) -> Path:
    folder = external_data / "csingley-ofxtools"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    return folder


@pytest.mark.parametrize("name", ["stmtrs.ofx", "stmtrs_euro.ofx"])
def test_real_bank_statement(ofx_dir: Path, name: str) -> None:
    """stmtrs_euro.ofx differs only by decimal commas: both must read identically."""
    data = (ofx_dir / name).read_bytes()
    assert OfxParser().identify(data[:512], name)
    stmt = only_statement(OfxParser().parse(data, name))
    assert stmt.account_identifier == "121099999/999988"
    assert stmt.account_type == "current"  # ACCTTYPE CHECKING
    assert stmt.currency == "USD"
    assert [t.amount_minor for t in stmt.transactions] == [-20000, -30000]
    assert [t.bank_reference for t in stmt.transactions] == ["00002", "00003"]
    assert [t.bank_tx_code for t in stmt.transactions] == ["OFX:CHECK", "OFX:ATM"]
    assert [t.line for t in stmt.transactions] == [38, 45]
    first, second = stmt.transactions
    assert first.booking_date == date(2005, 10, 4) and first.value_date is None
    assert first.description == "CHECK 1000"  # no NAME/MEMO: type and cheque number
    assert second.value_date == date(2005, 10, 20)
    assert stmt.closing_minor == 20029
    assert stmt.opening_minor is None and stmt.reconciles is None
    assert (stmt.period_start, stmt.period_end) == (date(2005, 10, 1), date(2005, 10, 28))


def test_real_nubank_credit_card(ofx_dir: Path) -> None:
    """SGML with CHARSET:1252 whose BANKTRANLIST is never closed (ofxtools refuses it)."""
    result = OfxParser().parse((ofx_dir / "br_nubank_cc.ofx").read_bytes(), "br_nubank_cc.ofx")
    stmt = only_statement(result)
    assert stmt.currency == "BRL"
    assert stmt.account_identifier == "11111111-UUID-UUID-UUID-111111111111"
    assert stmt.account_type == "credit_card"
    assert len(stmt.transactions) == 6
    assert stmt.sum_minor == -128091
    assert stmt.closing_minor == -128091  # LEDGERBAL found although BANKTRANLIST stayed open
    assert stmt.transactions[0].booking_date == date(2024, 3, 23)  # "[-3:GMT]" not applied
    assert all(t.description == "-memo-message-" for t in stmt.transactions)
    unclosed = [i for i in result.issues if "BANKTRANLIST" in i.message]
    assert len(unclosed) == 1 and not unclosed[0].fatal


def test_real_investment_statement_is_refused(ofx_dir: Path) -> None:
    result = OfxParser().parse((ofx_dir / "invstmtrs.ofx").read_bytes(), "invstmtrs.ofx")
    assert result.refused and not result.statements
    (issue,) = [i for i in result.issues if i.fatal]
    assert "investment statements are not bank statements" in issue.message
    assert issue.element.endswith("INVSTMTRS") and issue.line == 28


def test_real_profile_response_is_refused(ofx_dir: Path) -> None:
    result = OfxParser().parse((ofx_dir / "profrs.ofx").read_bytes(), "profrs.ofx")
    assert result.refused and not result.statements
    assert any("PROFRS" in i.message and i.fatal for i in result.issues)


# --- deviations, one each ----------------------------------------------------------------------


def test_parser_satisfies_protocol() -> None:
    assert isinstance(OfxParser(), StatementParser)
    assert OfxParser.format == "ofx"


def test_one_line_header_and_no_blank_line() -> None:
    header = SGML_HEADER.replace("\n", " ").strip()  # the whole header on one line, no blank
    stmt = only_statement(parse(sgml(trn(), header=header)))
    assert stmt.account_identifier == "30004/000123"
    assert [t.amount_minor for t in stmt.transactions] == [-1250]


def test_account_identifier_rules() -> None:
    iban = sgml(trn()).replace("<ACCTID>000123", "<ACCTID>FR7630004000031234567890143")
    assert only_statement(parse(iban)).account_identifier == "FR7630004000031234567890143"
    no_bank = sgml(trn()).replace("<BANKID>30004\n", "").replace("CHECKING", "CREDITLINE")
    stmt = only_statement(parse(no_bank))
    assert (stmt.account_identifier, stmt.account_type) == ("000123", "")
    result = parse(sgml(trn()).replace("<ACCTID>000123\n", ""))
    assert only_statement(result).account_identifier == ""  # the importer must be told
    (issue,) = result.issues
    assert (issue.field, issue.fatal, issue.line) == ("ACCTID", False, 27)


def test_whole_file_on_one_line() -> None:
    stmt = only_statement(parse(sgml(trn("7.00") + trn("-2.00")).replace("\n", "")))
    assert [t.amount_minor for t in stmt.transactions] == [700, -200]
    assert all(t.line == 1 for t in stmt.transactions)


@pytest.mark.parametrize(
    ("raw", "minor"),
    [("12,50", 1250), ("-12,5", -1250), ("1.234,56", 123456), ("+3", 300), ("-.5", -50)],
)
def test_amount_formats(raw: str, minor: int) -> None:
    stmt = only_statement(parse(sgml(trn(raw))))
    assert stmt.transactions[0].amount_minor == minor


def test_sub_minor_amount_is_fatal_and_names_line_and_field() -> None:
    result = parse(sgml(trn("-0.50") + trn("-12.345")))
    assert result.refused
    (issue,) = [i for i in result.issues if i.fatal]
    assert issue.field == "TRNAMT"
    assert issue.line == 44  # the <TRNAMT> line of the second <STMTTRN>
    assert issue.element.endswith("BANKTRANLIST/STMTTRN[2]")


def test_empty_tags_are_empty_leaves_not_aggregates() -> None:
    """An unclosed empty SGML <NAME> must not swallow the fields after it."""
    first_trn = "<STMTTRN>\n<TRNTYPE>DEBIT\n<NAME>\n<MEMO>\n<DTPOSTED>20240115\n<TRNAMT>-1.00\n"
    text = sgml(first_trn + "<FITID>A\n</STMTTRN>\n" + trn(extra="<MEMO></MEMO><NAME>Bob\n"))
    result = parse(text)
    assert result.issues == []  # nothing had to be closed implicitly
    first, second = only_statement(result).transactions
    assert (first.counterparty_name, first.description, first.amount_minor) == ("", "DEBIT", -100)
    assert (second.counterparty_name, second.description) == ("Bob", "Bob")
    assert only_statement(parse(text.replace("<MEMO></MEMO>", "<MEMO/>"))).transactions == [
        first,
        second,
    ]


def test_name_memo_payee_sic_dtuser() -> None:
    extra = (
        "<DTUSER>20240113\n<PAYEE>\n<NAME>Acme &amp; Co\n<ADDR1>1 Road\n</PAYEE>\n"
        "<MEMO>Invoice 77\n<SIC>5734\n<BANKACCTTO>\n<BANKID>X\n"
        "<ACCTID>DE89 3704 0044 0532 0130 00\n<ACCTTYPE>CHECKING\n</BANKACCTTO>\n"
    )
    (tx,) = only_statement(parse(sgml(trn(extra=extra)))).transactions
    assert tx.counterparty_name == "Acme & Co"
    assert tx.description == "Acme & Co / Invoice 77"
    assert tx.value_date == date(2024, 1, 13) and tx.booking_date == date(2024, 1, 15)
    assert tx.mcc == "5734"
    assert tx.counterparty_iban == "DE89370400440532013000"


@pytest.mark.parametrize(
    ("posted", "expected"),
    [
        ("20240115120000[+1:CET]", date(2024, 1, 15)),
        ("20240115230000.000[-5:EST]", date(2024, 1, 15)),  # UTC would say the 16th
        ("20240229", date(2024, 2, 29)),
        ("2024-03-01", date(2024, 3, 1)),
    ],
)
def test_dates_keep_the_printed_day(posted: str, expected: date) -> None:
    (tx,) = only_statement(parse(sgml(trn(posted=posted)))).transactions
    assert tx.booking_date == expected


def test_bad_date_is_fatal() -> None:
    result = parse(sgml(trn(posted="20240231")))
    assert result.refused
    assert [(i.field, i.line) for i in result.issues if i.fatal] == [("DTPOSTED", 37)]


def test_cp1252_bytes_are_decoded() -> None:
    data = sgml(trn(extra="<NAME>Caf\u00e9 M\u00fcller\n")).encode("cp1252")
    assert b"Caf\xe9" in data
    (tx,) = only_statement(parse(data)).transactions
    assert tx.counterparty_name == "Café Müller"


def test_utf8_content_under_a_cp1252_header_is_read_as_utf8() -> None:
    result = parse(sgml(trn(extra="<NAME>Café\n")).encode("utf-8"))
    assert only_statement(result).transactions[0].counterparty_name == "Café"
    assert any(i.field == "CHARSET" and not i.fatal for i in result.issues)


def test_latin1_content_under_a_utf8_header() -> None:
    header = SGML_HEADER.replace("ENCODING:USASCII", "ENCODING:UTF-8").replace("1252", "NONE")
    result = parse(sgml(trn(extra="<NAME>Caf\u00e9 cr\u00e8me\n"), header=header).encode("latin-1"))
    assert only_statement(result).transactions[0].counterparty_name == "Café crème"
    assert any(i.field == "ENCODING" and not i.fatal for i in result.issues)


def test_bom_and_lowercase_tags_and_crlf() -> None:
    text = sgml(trn("5.00")).lower().replace("ofxheader", "OFXHEADER").replace("\n", "\r\n")
    data = b"\xef\xbb\xbf" + text.encode("ascii")
    assert OfxParser().identify(data[:64], "export.txt")
    stmt = only_statement(parse(data))
    assert stmt.currency == "EUR"  # "<curdef>eur" is upper-cased for the code
    assert stmt.transactions[0].amount_minor == 500
    assert stmt.transactions[0].line == 35


def test_qfx_with_intuit_private_tags() -> None:
    header = SGML_HEADER.replace("NEWFILEUID:NONE", "NEWFILEUID:NONE\nINTU.BID:3000")
    text = sgml(trn(), header=header).replace(
        "<LANGUAGE>ENG\n", "<LANGUAGE>ENG\n<INTU.BID>3000\n<INTU.USERID>me\n"
    )
    stmt = only_statement(parse(text, "download.qfx"))
    assert stmt.transactions[0].amount_minor == -1250


def test_missing_ledgerbal_gives_no_closing() -> None:
    stmt = only_statement(parse(sgml(trn())))
    assert stmt.closing_minor is None and stmt.reconciles is None


def test_ledgerbal_is_the_closing_balance() -> None:
    ledger = "<LEDGERBAL>\n<BALAMT>1000,01\n<DTASOF>20240131\n</LEDGERBAL>\n"
    stmt = only_statement(parse(sgml(trn(), ledger=ledger)))
    assert stmt.closing_minor == 100001 and stmt.opening_minor is None


def test_unclosed_stmttrn_blocks_become_siblings() -> None:
    text = sgml(trn("-1.00") + trn("-2.00")).replace("</STMTTRN>\n", "")
    result = parse(text)
    stmt = only_statement(result)
    assert [t.amount_minor for t in stmt.transactions] == [-100, -200]


OFX2 = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX>
  <CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1</TRNUID>
    <STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
    <CCSTMTRS>
      <CURDEF>GBP</CURDEF>
      <CCACCTFROM><ACCTID>4111 1111 1111 1111</ACCTID></CCACCTFROM>
      <BANKTRANLIST><DTSTART>20240101</DTSTART><DTEND>20240131</DTEND>
        <STMTTRN><TRNTYPE>POS</TRNTYPE><DTPOSTED>20240110</DTPOSTED><TRNAMT>-20.00</TRNAMT>
          <FITID>a1</FITID><NAME>Hotel Roma</NAME><MEMO></MEMO>
          <ORIGCURRENCY><CURRATE>0.85</CURRATE><CURSYM>EUR</CURSYM></ORIGCURRENCY>
        </STMTTRN>
        <STMTTRN><TRNTYPE>POS</TRNTYPE><DTPOSTED>20240111</DTPOSTED><TRNAMT>-10.00</TRNAMT>
          <FITID>a2</FITID><NAME>Diner</NAME>
          <CURRENCY><CURRATE>1.25</CURRATE><CURSYM>USD</CURSYM></CURRENCY>
        </STMTTRN>
      </BANKTRANLIST>
      <LEDGERBAL><BALAMT>-32.50</BALAMT><DTASOF>20240131</DTASOF></LEDGERBAL>
    </CCSTMTRS>
  </CCSTMTTRNRS></CREDITCARDMSGSRSV1>
</OFX>
"""


def test_ofx2_xml_credit_card_with_foreign_currency() -> None:
    assert OfxParser().identify(OFX2.encode()[:300], "x.xml")
    stmt = only_statement(parse(OFX2))
    assert stmt.account_identifier == "**** 1111"  # a card number is never kept
    assert stmt.currency == "GBP" and stmt.closing_minor == -3250
    orig, foreign = stmt.transactions
    # ORIGCURRENCY: TRNAMT is already GBP; the EUR original is TRNAMT / CURRATE
    assert (orig.amount_minor, orig.original_currency, orig.original_amount_minor) == (
        -2000,
        "EUR",
        -2353,
    )
    assert orig.description == "Hotel Roma" and orig.line == 10
    # CURRENCY: TRNAMT is USD; the GBP amount is TRNAMT × CURRATE
    assert (foreign.amount_minor, foreign.original_currency, foreign.original_amount_minor) == (
        -1250,
        "USD",
        -1000,
    )


def test_bad_currate_under_currency_is_fatal() -> None:
    text = OFX2.replace("<CURRATE>1.25</CURRATE>", "<CURRATE>abc</CURRATE>")
    result = parse(text)
    assert [(i.field, i.fatal) for i in result.issues] == [("CURRATE", True)]


def test_truncated_file_is_fatal_and_names_line_and_field() -> None:
    full = sgml(trn("-1.00") + trn("-2.00"))
    cut = full[: full.index("<FITID>F-2.00")]  # ends right after <TRNAMT>-2.00
    result = parse(cut)
    assert result.refused
    (issue,) = [i for i in result.issues if i.fatal]
    assert issue.line == cut.count("\n") + 1
    assert issue.field == "TRNAMT"
    assert issue.element.endswith("STMTTRN[2]")
    assert "truncated" in issue.message


def test_missing_curdef_and_trnamt_are_fatal() -> None:
    result = parse(sgml(trn()).replace("<CURDEF>EUR\n", ""))
    assert [(i.field, i.fatal) for i in result.issues] == [("CURDEF", True)]
    result = parse(sgml(trn()).replace("<TRNAMT>-12.50\n", ""))
    assert [(i.field, i.line) for i in result.issues if i.fatal] == [
        ("TRNAMT", 35)
    ]  # missing: the <STMTTRN> line


def test_not_ofx_is_refused_without_raising() -> None:
    result = parse(b"Date;Amount\n2024-01-01;12\n", "x.csv")
    assert result.refused and "not an OFX file" in result.issues[0].message
    assert not OfxParser().identify(b"Date;Amount\n", "x.csv")


def test_server_error_without_statement_is_fatal() -> None:
    start, end = sgml("").index("<STMTRS>"), sgml("").index("</STMTTRNRS>")
    error = "<STATUS>\n<CODE>2000\n<SEVERITY>ERROR\n<MESSAGE>Account locked\n</STATUS>\n"
    result = parse(sgml("")[:start] + error + sgml("")[end:])
    assert result.refused
    (issue,) = result.issues
    assert "no bank or credit-card statement" in issue.message
    assert "2000 Account locked" in issue.message  # the failing status, not the signon's 0


def test_two_statements_in_one_file() -> None:
    one = sgml(trn("-1.00"))
    start, end = one.index("<STMTTRNRS>"), one.index("</BANKMSGSRSV1>")
    block = one[start:end]
    text = one[:end] + block.replace("000123", "000999").replace("-1.00", "4.00") + one[end:]
    result = parse(text)
    assert not result.refused
    assert [(s.account_identifier, s.sum_minor) for s in result.statements] == [
        ("30004/000123", -100),
        ("30004/000999", 400),
    ]
    assert result.statements[1].line > result.statements[0].line


def test_card_number_in_memo_is_masked() -> None:
    (tx,) = only_statement(
        parse(sgml(trn(extra="<MEMO>CARD 4000056655665556 SHOP\n")))
    ).transactions
    assert tx.description == "CARD **** 5556 SHOP"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300) | st.text(alphabet="<>/OFXSTMRN:0123.,\n -", max_size=300))
def test_parse_never_raises(junk: bytes | str) -> None:
    data = junk.encode() if isinstance(junk, str) else junk
    result = OfxParser().parse(b"OFXHEADER:100\n<OFX>" + data, "fuzz.ofx")
    assert all(i.path == "fuzz.ofx" for i in result.issues)
