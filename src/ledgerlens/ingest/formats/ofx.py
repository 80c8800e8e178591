"""OFX 1.x (SGML), OFX 2.x (XML) and QFX statements: bank (STMTRS) and credit card (CCSTMTRS).

Why our own tolerant reader rather than ``ofxtools.Parser.OFXTree``: ofxtools validates against
the OFX schema and refuses what banks really ship (the Nubank export leaves BANKTRANLIST open and
ofxtools then fails on the "missing" LEDGERBAL; profile responses out of order; over-long ids). It
also keeps no line numbers, which every ``ImportIssue`` and ``ParsedTransaction.line`` needs, and
converts times to UTC, which moves a 23:00 "[-5:EST]" posting onto the next day. We use ofxtools
for what it knows best, the OFX vocabulary: its model classes tell which tags are aggregates, and
that settles SGML's one real ambiguity (an empty, unclosed ``<NAME>`` is a leaf, ``<STMTTRN>`` is
not).

Choices, documented here because the import service relies on them:
- ``account_identifier`` is ``"BANKID/ACCTID"`` for bank accounts, ``ACCTID`` alone when BANKID is
  absent or ACCTID is already an IBAN; ``ACCTID`` for cards, masked to ``"**** 1234"`` when it is
  a card number (a PAN is never kept; card numbers in memos are masked too).
- Dates are the date part as printed; the timezone suffix is ignored, never applied.
- ``closing_minor`` is LEDGERBAL. OFX has no opening balance, so ``opening_minor`` stays None and
  reconciliation is "not checkable": computing it from the closing would only restate the sum.
- Investment statements (INVSTMTRS) and profile responses (PROFRS) are refused with a fatal
  issue: they carry no bank-account transactions we can book.
- Amounts accept a decimal comma (the OFX spec allows "," or "."); sub-minor precision is refused.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from ledgerlens.core.errors import AmountError, LedgerLensError
from ledgerlens.core.money import currency_exponent, parse_amount, to_minor, validate_currency
from ledgerlens.core.privacy import mask_card_id, mask_pans_in_text
from ledgerlens.ingest.encoding import decode_text
from ledgerlens.ingest.model import ImportIssue, ParsedStatement, ParsedTransaction, ParseResult

__all__ = ["OfxParser"]

_TOKEN_RE = re.compile(
    r"<!--.*?-->|<\?.*?\?>"  # comments and processing instructions: skipped
    r"|<(/?)([A-Za-z][\w.:-]*)\s*(/?)>"  # open, close or self-closing tag
    r"|([^<]+|<[^<]*)",  # text (a "<" that opens no tag is the remnant of a cut-off tag)
    re.S,
)
_SGML_HEADER_RE = re.compile(r"([A-Z]+)\s*:\s*([^\s<]*)")
_XML_ATTR_RE = re.compile(r'([A-Za-z]+)\s*=\s*["\']([^"\']*)["\']')
_DATE_RE = re.compile(r"^\s*(\d{4})-?(\d{2})-?(\d{2})")
_IBAN_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
# fmt: off
_CHARSETS = {"1252": "cp1252", "WINDOWS-1252": "cp1252", "1250": "cp1250", "1257": "cp1257",
             "ISO-8859-1": "latin-1", "8859-1": "latin-1", "ISO-8859-15": "iso8859-15",
             "UTF-8": "utf-8"}
_NOT_BANK = {"INVSTMTRS": "OFX investment statements are not bank statements",
             "PROFRS": "an OFX profile response (PROFRS) holds no transactions"}
# fmt: on
# OFX ACCTTYPE → ledger AccountType value; CREDITLINE has no equivalent and stays unknown ("")
_ACCOUNT_TYPES = {
    "CHECKING": "current",
    "SAVINGS": "savings",
    "MONEYMRKT": "savings",
    "CD": "savings",
}


@cache
def _aggregate_tags() -> frozenset[str]:
    """Tags that ofxtools models as aggregates (the import costs ~0.3 s, so it runs once, late)."""
    import ofxtools.models as models
    from ofxtools.models.base import Aggregate

    found = {n: getattr(models, n) for n in dir(models) if n.isupper()}
    return frozenset(
        n for n, c in found.items() if isinstance(c, type) and issubclass(c, Aggregate)
    )


@dataclass(slots=True)
class _Node:
    """One OFX element: a leaf with ``text`` or an aggregate with ``children``."""

    tag: str
    line: int
    path: str
    text: str | None = None
    children: list[_Node] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)  # children per tag, for XPath indices

    def child(self, tag: str) -> _Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def value(self, tag: str) -> str:
        """Text of the first child leaf ``tag`` ("" when absent or empty)."""
        node = self.child(tag)
        return (node.text or "").strip() if node is not None else ""

    def iter(
        self, tags: frozenset[str] | set[str], stop: frozenset[str] = frozenset()
    ) -> Iterator[_Node]:
        """Descendants whose tag is in ``tags``, not looking inside ``stop`` aggregates."""
        for c in self.children:
            if c.tag in tags:
                yield c
            if c.tag not in stop:
                yield from c.iter(tags, stop)


def _declared_charset(head: str) -> str | None:
    """The charset the OFX header declares (SGML ENCODING/CHARSET or the XML declaration)."""
    if "OFXHEADER" in head.upper():
        fields = {k.upper(): v.upper() for k, v in _SGML_HEADER_RE.findall(head.upper())}
        if fields.get("ENCODING") in {"UTF-8", "UTF8"}:
            return "utf-8"
        if charset := _CHARSETS.get(fields.get("CHARSET", "")):
            return charset
    xml_decl = re.search(r"<\?xml([^>]*)\?>", head, re.I)
    if xml_decl:
        attrs = dict(_XML_ATTR_RE.findall(xml_decl.group(1)))
        return attrs.get("encoding") or "utf-8"
    return None


def _decode(data: bytes, path: str, issues: list[ImportIssue]) -> str:
    """Decode the file. Valid UTF-8 wins over a legacy declaration (banks often mislabel it)."""
    head = data[:4096].decode("latin-1")  # the header is ASCII and ends where <OFX> starts
    declared = _declared_charset(re.split(r"<OFX\s*>", head, maxsplit=1, flags=re.I)[0])
    if data.startswith(b"\xef\xbb\xbf"):
        return decode_text(data)[0]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text, encoding = decode_text(data, None if declared in {None, "utf-8"} else declared)
        if declared == "utf-8":
            msg = f"header declares UTF-8 but the bytes are not; read as {encoding}"
            issues.append(ImportIssue(path, msg, 1, "", "ENCODING", fatal=False))
        return text
    if declared not in {None, "utf-8"} and not text.isascii():
        msg = f"header declares {declared} but the content is UTF-8; read as UTF-8"
        issues.append(ImportIssue(path, msg, 1, "", "CHARSET", fatal=False))
    return text


def _tokens(text: str, start: int) -> list[tuple[str, str, str, int]]:
    """``(kind, TAG, text, offset)`` with kind open/empty/close/text; blank text is dropped."""
    out: list[tuple[str, str, str, int]] = []
    for m in _TOKEN_RE.finditer(text, start):
        slash, tag, self_closing, chunk = m.groups()
        if tag:
            kind = "close" if slash else ("empty" if self_closing else "open")
            out.append((kind, tag.upper(), "", m.start()))
        elif chunk is not None and chunk.strip():
            out.append(("text", "", chunk.strip(), m.start()))
    return out


class _TreeBuilder:
    """Builds the element tree, closing what SGML leaves open and noting what it had to guess."""

    def __init__(self, text: str, path: str, issues: list[ImportIssue]) -> None:
        self.path = path
        self.issues = issues
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.n_lines = text.count("\n") + 1
        self.root = _Node("ROOT", 1, "")
        self.stack = [self.root]
        self.last_leaf: _Node | None = None

    def note(
        self, message: str, line: int, element: str, fld: str = "", fatal: bool = False
    ) -> None:
        self.issues.append(ImportIssue(self.path, message, line, element, fld, fatal))

    def add(self, tag: str, line: int, text: str | None) -> _Node:
        parent = self.stack[-1]
        same = parent.seen[tag] = parent.seen.get(tag, 0) + 1
        where = f"{parent.path}/{tag}" if parent is not self.root else tag
        node = _Node(tag, line, where + (f"[{same}]" if same > 1 else ""), text)
        parent.children.append(node)
        if text is not None:
            self.last_leaf = node
        return node

    def close(self, tag: str, line: int) -> None:
        if tag not in [n.tag for n in self.stack[1:]]:
            return  # the close of a leaf we already ended: harmless
        while self.stack[-1].tag != tag:
            lost = self.stack.pop()
            msg = f"<{lost.tag}> opened at line {lost.line} is never closed; closed by </{tag}>"
            self.note(msg, line, lost.path)
        self.stack.pop()

    def build(self, tokens: list[tuple[str, str, str, int]]) -> _Node | None:
        aggregates = _aggregate_tags()
        closed_somewhere = {tag for kind, tag, _, _ in tokens if kind == "close"}
        i = 0
        while i < len(tokens):
            kind, tag, chunk, offset = tokens[i]
            line = bisect_left(self.newlines, offset) + 1
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ("", "", "", 0)
            i += 1
            if kind == "text":
                if len(self.stack) > 1:
                    self.note(f"unexpected text {chunk[:30]!r}", line, self.stack[-1].path)
            elif kind == "close":
                self.close(tag, line)
            elif kind == "empty":
                self.add(tag, line, "")
            elif nxt[0] == "text":  # <TRNAMT>-12.50 with or without </TRNAMT>
                self.add(tag, line, html.unescape(nxt[2]))
                i += 1
                if i < len(tokens) and tokens[i][:2] == ("close", tag):
                    i += 1
            elif nxt[:2] == ("close", tag):  # <MEMO></MEMO>
                self.add(tag, line, "")
                i += 1
            elif tag in aggregates or tag == "OFX" or ("." in tag and tag in closed_somewhere):
                if self.stack[-1].tag == tag:  # <STMTTRN> while the previous one is still open
                    self.close(tag, line)
                self.stack.append(self.add(tag, line, None))
            else:  # an empty, unclosed SGML leaf such as "<NAME>"
                self.add(tag, line, "")
        if len(self.stack) > 1:
            inner = self.stack[-1]
            fld = self.last_leaf.tag if self.last_leaf is not None else inner.tag
            msg = f"file ends inside <{inner.tag}> opened at line {inner.line}: truncated"
            self.note(f"{msg} (last element read: <{fld}>)", self.n_lines, inner.path, fld, True)
        return self.root.child("OFX")


def _build_tree(text: str, path: str, issues: list[ImportIssue]) -> _Node | None:
    """Read OFX elements into a tree; None when there is no <OFX> element at all."""
    start = re.search(r"<OFX\s*>", text, re.I)
    if start is None:
        issues.append(ImportIssue(path, "no <OFX> element: not an OFX file", 1, "OFX"))
        return None
    return _TreeBuilder(text, path, issues).build(_tokens(text, start.start()))


def _parse_date(text: str) -> date | None:
    """Date part of an OFX datetime ("20240115120000.000[-5:EST]" → 2024-01-15)."""
    m = _DATE_RE.match(text)
    if m is None:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _parse_decimal(text: str) -> Decimal:
    """An OFX amount: "." or "," as the decimal mark (the spec allows both), optional sign."""
    s = text.strip().replace(" ", "")
    comma = s.rfind(",") > s.rfind(".") if ("," in s and "." in s) else "," in s
    return parse_amount(s, decimal_comma=comma)


class _StatementReader:
    """Turns one STMTRS/CCSTMTRS node into a ParsedStatement, collecting issues."""

    def __init__(self, path: str, issues: list[ImportIssue]) -> None:
        self.path = path
        self.issues = issues

    def issue(self, node: _Node, fld: str, message: str, *, fatal: bool = True) -> None:
        at = node.child(fld) or node  # the field's own line when it is there
        self.issues.append(ImportIssue(self.path, message, at.line, node.path, fld, fatal))

    def minor(self, node: _Node, fld: str, currency: str, *, required: bool = True) -> int | None:
        raw = node.value(fld)
        if not raw:
            if required:
                self.issue(node, fld, f"<{fld}> is missing or empty")
            return None
        try:
            return to_minor(_parse_decimal(raw), currency)
        except LedgerLensError as exc:
            self.issue(node, fld, f"bad amount {raw!r}: {exc}")
            return None

    def date_of(self, node: _Node, fld: str, *, required: bool) -> date | None:
        raw = node.value(fld)
        parsed = _parse_date(raw) if raw else None
        if parsed is None and (raw or required):
            why = f"is not a date: {raw!r}" if raw else "is missing"
            self.issue(node, fld, f"<{fld}> {why}", fatal=required)
        return parsed

    def statement(self, rs: _Node) -> ParsedStatement | None:
        curdef = rs.value("CURDEF").upper()
        try:
            validate_currency(curdef)
        except LedgerLensError:
            self.issue(rs, "CURDEF", f"missing or unknown statement currency {curdef!r}")
            return None
        is_card = rs.tag == "CCSTMTRS"
        acct = rs.child("CCACCTFROM" if is_card else "BANKACCTFROM") or _Node("", rs.line, rs.path)
        acctid, bankid = acct.value("ACCTID"), acct.value("BANKID")
        if not acctid:
            msg = "no account id: the account must be chosen on import"
            self.issue(acct, "ACCTID", msg, fatal=False)
        if is_card:
            identifier = mask_card_id(acctid)
        elif bankid and acctid and not _IBAN_RE.match(acctid.replace(" ", "").upper()):
            identifier = f"{bankid}/{acctid}"
        else:
            identifier = acctid
        tranlist = next(rs.iter({"BANKTRANLIST"}), None)
        txns = [
            t
            for node in rs.iter({"STMTTRN"}, stop=frozenset({"STMTTRN"}))
            if (t := self.transaction(node, curdef)) is not None
        ]
        ledger = next(rs.iter({"LEDGERBAL"}, stop=frozenset({"STMTTRN"})), None)
        closing = self.minor(ledger, "BALAMT", curdef) if ledger is not None else None
        start = self.date_of(tranlist, "DTSTART", required=False) if tranlist else None
        end = self.date_of(tranlist, "DTEND", required=False) if tranlist else None
        kind = "credit_card" if is_card else _ACCOUNT_TYPES.get(acct.value("ACCTTYPE").upper(), "")
        return ParsedStatement(
            identifier, curdef, txns, None, closing, start, end, line=rs.line, account_type=kind
        )

    def transaction(self, tx: _Node, curdef: str) -> ParsedTransaction | None:
        booked = self.date_of(tx, "DTPOSTED", required=True)
        trnamt = tx.value("TRNAMT")
        try:
            amount = _parse_decimal(trnamt) if trnamt else None
        except LedgerLensError as exc:
            self.issue(tx, "TRNAMT", f"bad amount {trnamt!r}: {exc}")
            return None
        if amount is None:
            self.issue(tx, "TRNAMT", "<TRNAMT> is missing or empty")
        if booked is None or amount is None:
            return None
        fitid = tx.value("FITID")
        if not fitid:
            msg = "no FITID: a re-import of this transaction cannot be recognised"
            self.issue(tx, "FITID", msg, fatal=False)
        original_minor, original_ccy, amount = self.fx(tx, amount, curdef)
        try:
            amount_minor = to_minor(amount, curdef)
        except LedgerLensError as exc:
            self.issue(tx, "TRNAMT", f"bad amount {trnamt!r}: {exc}")
            return None
        payee = tx.child("PAYEE")
        name = tx.value("NAME") or (
            (payee.text or payee.value("NAME")).strip() if payee is not None else ""
        )
        memo = tx.value("MEMO")
        trntype = tx.value("TRNTYPE").upper()
        parts = [name] if name and not memo.startswith(name) else []
        parts += [memo] if memo else []
        description = mask_pans_in_text(" / ".join(parts))
        description = description or f"{trntype} {tx.value('CHECKNUM')}".strip()
        to_acct = tx.child("BANKACCTTO") or tx.child("CCACCTTO")
        to_id = to_acct.value("ACCTID").replace(" ", "").upper() if to_acct is not None else ""
        sic = tx.value("SIC")
        return ParsedTransaction(
            booking_date=booked,
            amount_minor=amount_minor,
            description=description,
            line=tx.line,
            value_date=self.date_of(tx, "DTUSER", required=False),
            counterparty_name=name,
            counterparty_iban=to_id if _IBAN_RE.match(to_id) else "",
            bank_reference=fitid,
            bank_tx_code=f"OFX:{trntype}" if trntype else "",
            mcc=sic if sic.isdigit() and len(sic) == 4 else "",
            original_amount_minor=original_minor,
            original_currency=original_ccy,
        )

    def fx(self, tx: _Node, amount: Decimal, curdef: str) -> tuple[int | None, str, Decimal]:
        """Apply CURRENCY (TRNAMT is foreign) or ORIGCURRENCY (TRNAMT already converted).

        OFX CURRATE is the ratio of CURDEF to CURSYM: CURDEF amount = CURSYM amount × CURRATE,
        rounded half-up to the currency's minor unit. Returns ``(original_minor,
        original_currency, amount_in_curdef)``.
        """
        cur = tx.child("CURRENCY") or tx.child("ORIGCURRENCY")
        cursym = cur.value("CURSYM").upper() if cur is not None else ""
        if cur is None or not cursym or cursym == curdef:
            return None, "", amount
        try:
            rate = _parse_decimal(cur.value("CURRATE"))
            if rate <= 0:
                raise AmountError(f"exchange rate {rate} is not positive")
            if cur.tag == "CURRENCY":
                return to_minor(amount, cursym), cursym, _round(amount * rate, curdef)
            return to_minor(_round(amount / rate, cursym), cursym), cursym, amount
        except LedgerLensError as exc:
            # under CURRENCY the amount is foreign: booking it unconverted would be wrong
            self.issue(cur, "CURRATE", f"{cursym} conversion: {exc}", fatal=cur.tag == "CURRENCY")
            return None, "", amount


def _round(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-currency_exponent(currency)), ROUND_HALF_UP)


class OfxParser:
    """OFX/QFX bank and credit-card statements → one ParsedStatement per STMTRS/CCSTMTRS."""

    format = "ofx"

    def identify(self, head: bytes, filename: str) -> bool:
        body = head.removeprefix(b"\xef\xbb\xbf").lstrip().upper()
        if body.startswith(b"OFXHEADER") or b"<OFX>" in body:
            return True
        if body.startswith(b"<?XML") and b"<OFX" in body:
            return True
        return filename.lower().endswith((".ofx", ".qfx", ".qbo"))

    def parse(self, data: bytes, path: str) -> ParseResult:
        result = ParseResult(path=path, format=self.format)
        issues = result.issues
        text = _decode(data, path, issues).replace("\r\n", "\n").replace("\r", "\n")
        root = _build_tree(text, path, issues)
        if root is None:
            return result
        reader = _StatementReader(path, issues)
        bank = frozenset({"STMTRS", "CCSTMTRS"})
        for rs in root.iter(bank, stop=bank):
            stmt = reader.statement(rs)
            if stmt is not None:
                result.statements.append(stmt)
        others = {n.tag: n for n in root.iter({"INVSTMTRS", "PROFRS"}, stop=bank)}
        for tag, node in others.items():
            reader.issue(node, tag, f"{_NOT_BANK[tag]}: skipped", fatal=not result.statements)
        if not result.statements and not others and not result.refused:
            failed = (n for n in root.iter({"STATUS"}) if n.value("CODE") not in {"", "0"})
            st = next(failed, None)
            why = f" (status {st.value('CODE')} {st.value('MESSAGE')})".rstrip() if st else ""
            reader.issue(root, "STMTRS", f"no bank or credit-card statement in the file{why}")
        return result
