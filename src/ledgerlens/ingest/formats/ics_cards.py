"""ICS Cards (International Card Services BV, NL) credit-card statements, read from their text.

ICS sends a monthly PDF statement; we read its text layer as ``pdftotext -layout`` prints it (the
same input the ofxstatement-dutch plugin reads). Each page repeats a header and the summary::

    Datum              ICS-klantnummer   Volgnummer   Bladnummer
    17 september 2019  99999999999       9            1 van 2
    Vorig openstaand saldo  Totaal ontvangen betalingen  Totaal nieuwe uitgaven  Nieuw openst…
    € 1.311,73  Af          € 1.311,73  Bij              € 1.320,55  Af          € 1.320,55  Af
    01 sep   01 sep   IDEAL BETALING, DANK U                             1.311,73   Bij
    Uw Card met als laatste vier cijfers 0467          <- the lines below belong to this card
    G.J.L.M. PAULISSEN                                 <- the card holder: not kept
    22 dec   24 dec   SSP EGYPT   CAIRO E. -07C   EG   235,01 EGP    11,82   Af
                      Wisselkoers EGP   19,88240       <- the rate of the line above

Choices, documented here because the import service and reconciliation rely on them:

* Signs from the holder's view, as in an OFX credit-card statement: money owed is negative. "Af"
  (purchases, fees) is negative, "Bij" (payments received, refunds) positive, and "Vorig openstaand
  saldo € 1.311,73 Af" is an opening balance of -1311.73. A consistent statement then reconciles:
  opening + Σ amounts = closing ("Nieuw openstaand saldo").
* A zero balance is printed without Af/Bij (``icscards_no_balance.txt``) and reads as 0; a non-zero
  balance without a marker has no known sign and is left None with a non-fatal issue.
* Only day and month are printed; the year is the statement date's, or the year before when that
  would put the day after the statement date (a January statement lists December purchases).
* ``booking_date`` is "Datum boeking" (the date the balance follows); "Datum transactie" goes to
  ``value_date``, the model's only second date.
* ``account_identifier`` is the ICS customer number (the account; several cards may share it);
  ``card_id`` is "**** 0467" for the lines in that card's section, whose merchant becomes the
  counterparty. Card numbers in merchant text are masked (``core.privacy``).
* A foreign-currency line keeps ``original_amount_minor``/``original_currency``. The printed rate
  (foreign units per euro) is implied by the two amounts, so it is only checked: off by more than a
  cent, it is a non-fatal issue.
* A zero-euro line is a notice, skipped with a non-fatal issue. A line that starts like a
  transaction (two day-month dates) but cannot be read exactly refuses the file, naming the line and
  the column. So does a later page that names another statement (date, customer number, Volgnummer).
* Where Σ amounts differs from the printed totals (payments less new spending) a non-fatal issue
  names the summary line: a line was missed or misread, and the statement will not reconcile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from ledgerlens.core.errors import LedgerLensError
from ledgerlens.core.money import currency_exponent, format_minor, to_minor
from ledgerlens.core.privacy import mask_card_id, mask_pans_in_text
from ledgerlens.ingest.encoding import decode_text
from ledgerlens.ingest.model import ImportIssue, ParsedStatement, ParsedTransaction, ParseResult

__all__ = ["IcsCardsParser"]

CURRENCY = "EUR"
# fmt: off
_MONTHS = {"jan": 1, "feb": 2, "mrt": 3, "maa": 3, "mar": 3, "apr": 4, "mei": 5, "may": 5,
           "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "okt": 10, "oct": 10, "nov": 11,
           "dec": 12}
_LONG_MONTHS = {"januari": 1, "februari": 2, "maart": 3, "april": 4, "mei": 5, "juni": 6,
                "juli": 7, "augustus": 8, "september": 9, "oktober": 10, "november": 11,
                "december": 12}
# fmt: on
_SUMMARY_FIELDS = (
    "Vorig openstaand saldo",
    "Totaal ontvangen betalingen",
    "Totaal nieuwe uitgaven",
    "Nieuw openstaand saldo",
)
_PAGE_HEADER_RE = re.compile(r"^Datum\s+ICS-klantnummer\s+Volgnummer\s+Bladnummer$")
_PAGE_VALUES_RE = re.compile(r"^(\d{1,2}) ([a-z]+) (\d{4})\s+(\d+)\s+(\d+)\s+(\d+) van (\d+)$")
_SUMMARY_RE = re.compile(
    r"^Vorig openstaand saldo\s+Totaal ontvangen betalingen\s+Totaal nieuwe uitgaven\s+"
    r"(?:Totaal )?[Nn]ieuw openstaand saldo$"
)
_SUMMARY_AMOUNT_RE = re.compile(r"(?:€|EUR)\s*(\d[\d.]*,\d\d)(?:\s+(Af|Bij)\b)?")
_TX_RE = re.compile(r"^(\d{1,2}) ([A-Za-z]{3,4})\.?\s+(\d{1,2}) ([A-Za-z]{3,4})\.?\s+(.*)$")
_NUMBER = r"(?:\d{1,3}(?:\.\d{3})+|\d+)"  # "1.311" or "1311"
_TAIL_RE = re.compile(rf"^(.*?)\s*(?<![\d.,])({_NUMBER},\d\d)(?:\s+(Af|Bij))?$")
_FOREIGN_RE = re.compile(rf"^(.*?)\s{{2,}}({_NUMBER},\d{{1,3}}) ([A-Z]{{3}})$")
_RATE_RE = re.compile(r"^Wisselkoers ([A-Z]{3})\s+(\d[\d.]*,\d+)$")
_CARD_RE = re.compile(r"^Uw Card met als laatste vier cijfers (\d{4})$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_MERCHANT_WIDTH = 25  # the merchant column's width; a longer run has the city glued on


def _decimal(text: str) -> Decimal:
    """A Dutch-printed amount ("1.311,73") exactly."""
    return Decimal(text.replace(".", "").replace(",", "."))


def _signed_minor(amount: str, marker: str) -> int:
    value = to_minor(_decimal(amount), CURRENCY)
    return -value if marker == "Af" else value


@dataclass(frozen=True, slots=True)
class _Page:
    """The header values every page repeats: they identify the statement."""

    statement_date: date
    customer: str
    sequence: str
    line: int


class _Reader:
    """Walks the text once; collects pages, balances, lines and issues."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.issues: list[ImportIssue] = []
        self.page: _Page | None = None
        self.balances: list[int | None] | None = None
        self.summary_line = 0
        self.card = ""
        self.lines: list[ParsedTransaction] = []

    def issue(self, message: str, line: int | None, field: str = "", fatal: bool = True) -> None:
        self.issues.append(ImportIssue(self.path, message, line=line, field=field, fatal=fatal))

    def read(self, lines: list[str]) -> None:
        after = ""  # the label line whose values line comes next
        for no, raw in enumerate(lines, start=1):
            text = raw.replace("\f", "").strip()
            if not text:
                continue
            if after:
                label, after = after, ""
                if label == "page":
                    self.page_values(text, no)
                else:
                    self.summary_values(text, no)
                continue
            if _PAGE_HEADER_RE.match(text):
                after = "page"
            elif _SUMMARY_RE.match(text):
                after = "summary"
            elif m := _CARD_RE.match(text):
                self.card = f"**** {m.group(1)}"
            elif m := _RATE_RE.match(text):
                self.rate(m.group(1), m.group(2), no)
            elif m := _TX_RE.match(text):
                self.transaction(m, no)

    def page_values(self, text: str, no: int) -> None:
        m = _PAGE_VALUES_RE.match(text)
        month = _LONG_MONTHS.get(m.group(2)) if m else None
        if m is None or month is None:
            self.issue(
                f"expected the statement date, ICS customer number, Volgnummer and page "
                f"('17 september 2019  99999999999  9  1 van 2'), found {text[:60]!r}",
                no,
                "Datum",
            )
            return
        try:
            when = date(int(m.group(3)), month, int(m.group(1)))
        except ValueError:
            self.issue(f"not a date: {m.group(1)} {m.group(2)} {m.group(3)}", no, "Datum")
            return
        page = _Page(when, m.group(4), m.group(5), no)
        if self.page is None:
            self.page = page
        elif (page.statement_date, page.customer, page.sequence) != (
            self.page.statement_date,
            self.page.customer,
            self.page.sequence,
        ):
            self.issue(
                f"page {m.group(6)} belongs to another statement ({page.statement_date}, "
                f"customer {page.customer}, nr {page.sequence}) than line {self.page.line} "
                f"({self.page.statement_date}, customer {self.page.customer}, nr "
                f"{self.page.sequence}): one file must hold one statement",
                no,
                "Volgnummer",
            )

    def summary_values(self, text: str, no: int) -> None:
        found = _SUMMARY_AMOUNT_RE.findall(text)
        if len(found) != len(_SUMMARY_FIELDS):
            self.issue(
                f"expected four euro amounts under the balance summary, found {len(found)}: "
                f"{text[:80]!r}; balances left empty",
                no,
                _SUMMARY_FIELDS[min(len(found), 3)],
                fatal=False,
            )
            return
        values: list[int | None] = []
        for (amount, marker), name in zip(found, _SUMMARY_FIELDS, strict=True):
            value = _signed_minor(amount, marker)
            if value and not marker:
                self.issue(
                    f"€ {amount} has no Af/Bij: its sign is unknown, so it is left empty",
                    no,
                    name,
                    fatal=False,
                )
                values.append(None)
            else:
                values.append(value)
        if self.balances is None:
            self.balances, self.summary_line = values, no
        elif values != self.balances:
            self.issue(
                f"this page's balance summary differs from the one on line {self.summary_line}",
                no,
                _SUMMARY_FIELDS[0],
            )

    def day(self, d: str, mon: str, no: int, field: str) -> date | None:
        """A printed day-month in the statement's year, or the year before (see the docstring)."""
        month = _MONTHS.get(mon.casefold())
        if month is None or self.page is None:
            if month is None or not any(i.fatal for i in self.issues):  # else: said once already
                why = f"unknown month {mon!r}" if month is None else "no statement date above it"
                self.issue(f"not a date {d} {mon}: {why}", no, field)
            return None
        end = self.page.statement_date
        for year in (end.year, end.year - 1):
            try:
                when = date(year, month, int(d))
            except ValueError:
                continue
            if when <= end:
                return when
        self.issue(f"not a date {d} {mon} on or before the statement date {end}", no, field)
        return None

    def transaction(self, m: re.Match[str], no: int) -> None:
        transaction = self.day(m.group(1), m.group(2), no, "Datum transactie")
        booking = self.day(m.group(3), m.group(4), no, "Datum boeking")
        tail = _TAIL_RE.match(m.group(5))
        if tail is None:
            self.issue("no amount in euros at the end of the line", no, "Bedrag in euro's")
            return
        body, amount, marker = tail.groups()
        minor = _signed_minor(amount, marker)
        if minor == 0:
            self.issue("a zero amount is a notice, not a transaction: skipped", no, fatal=False)
            return
        if not marker:
            self.issue(f"{amount} has no Af/Bij (debit/credit marker)", no, "Af/Bij")
            return
        foreign_minor, foreign_ccy = None, ""
        if fx := _FOREIGN_RE.match(body):
            body, foreign, foreign_ccy = fx.groups()
            try:
                foreign_minor = to_minor(_decimal(foreign), foreign_ccy)
            except LedgerLensError as exc:
                self.issue(f"{foreign} {foreign_ccy}: {exc}", no, "Bedrag in vreemde valuta")
                return
        if transaction is None or booking is None:
            return
        merchant, description = _describe(body)
        self.lines.append(
            ParsedTransaction(
                booking_date=booking,
                amount_minor=minor,
                description=description,
                line=no,
                value_date=transaction,
                counterparty_name=merchant if self.card else "",
                card_id=self.card,
                original_amount_minor=foreign_minor,
                original_currency=foreign_ccy,
            )
        )

    def rate(self, currency: str, printed: str, no: int) -> None:
        last = self.lines[-1] if self.lines else None
        if last is None or last.original_amount_minor is None or last.original_currency != currency:
            shown = f"{last.original_currency or 'euros'} (line {last.line})" if last else "nothing"
            self.issue(
                f"exchange rate for {currency} follows a line in {shown}",
                no,
                "Wisselkoers",
                fatal=False,
            )
            return
        rate = _decimal(printed)
        if rate <= 0:
            self.issue(f"exchange rate {printed} is not positive", no, "Wisselkoers", fatal=False)
            return
        foreign = Decimal(last.original_amount_minor).scaleb(-currency_exponent(currency))
        implied = (foreign / rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
        booked = Decimal(abs(last.amount_minor)).scaleb(-2)
        if abs(implied - booked) > Decimal("0.01"):
            self.issue(
                f"{foreign} {currency} at {printed} is € {implied}, but line "
                f"{last.line} books € {booked}",
                no,
                "Wisselkoers",
                fatal=False,
            )


def _describe(body: str) -> tuple[str, str]:
    """(merchant, description) from "MERCHANT  CITY  CC" or a payment's text.

    Columns are separated by two or more spaces; a merchant may itself hold such a gap ("THY
    2357312380512"), so everything before the city is the merchant. When the merchant fills its
    25-character column the city follows without a gap ("NEWREST WAGONS LITS FRANCPARIS").
    """
    tokens = [t for t in re.split(r"\s{2,}", body.strip()) if t]
    if len(tokens) >= 2 and _COUNTRY_RE.match(tokens[-1]):
        country = tokens.pop()
        if len(tokens) >= 2:
            merchant, city = " ".join(tokens[:-1]), tokens[-1]
        elif len(tokens[0]) > _MERCHANT_WIDTH:
            merchant = tokens[0][:_MERCHANT_WIDTH].rstrip()
            city = tokens[0][_MERCHANT_WIDTH:].strip()
        else:
            merchant, city = tokens[0], ""
        merchant = mask_pans_in_text(merchant)
        where = f"{city} ({country})" if city else f"({country})"
        return merchant, f"{merchant}, {where}"
    text = mask_pans_in_text(" ".join(tokens))
    return text, text


class IcsCardsParser:
    """ICS Cards credit-card statement text (``pdftotext -layout``) → one ParsedStatement."""

    format = "ics"

    def identify(self, head: bytes, filename: str) -> bool:
        """The letterhead and the page header or balance summary ICS prints on every statement."""
        return b"International Card Services" in head and (
            b"ICS-klantnummer" in head or b"openstaand saldo" in head
        )

    def parse(self, data: bytes, path: str) -> ParseResult:
        """Read the whole statement; never raises for bad content (see the module docstring)."""
        result = ParseResult(path=path, format=self.format)
        if data.lstrip()[:5] == b"%PDF-":
            why = "a PDF: convert it with `pdftotext -layout statement.pdf statement.txt` first"
            result.issues.append(ImportIssue(path, why, line=1))
            return result
        text, _ = decode_text(data)
        reader = _Reader(path)
        reader.read(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        result.issues = reader.issues
        page = reader.page
        if page is None:
            if not result.refused:
                reader.issue(
                    "not an ICS statement: no page header 'Datum  ICS-klantnummer  Volgnummer  "
                    "Bladnummer' with the statement date (the year of every line comes from it)",
                    None,
                    "Datum",
                )
            return result
        if result.refused:
            return result
        opening = closing = None
        if reader.balances is None:
            reader.issue(
                "no balance summary ('Vorig openstaand saldo …'): opening and closing left empty",
                None,
                _SUMMARY_FIELDS[0],
                fatal=False,
            )
        else:
            opening, paid, spent, closing = reader.balances
            self_sum = sum(t.amount_minor for t in reader.lines)
            if paid is not None and spent is not None and paid + spent != self_sum:
                eur = CURRENCY
                reader.issue(
                    f"the lines add up to {format_minor(self_sum, eur)} but the printed totals "
                    f"(payments {format_minor(paid, eur)}, new spending {format_minor(spent, eur)})"
                    f" give {format_minor(paid + spent, eur)}: a line was missed or misread",
                    reader.summary_line,
                    _SUMMARY_FIELDS[2],
                    fatal=False,
                )
        end = page.statement_date
        result.statements.append(
            ParsedStatement(
                account_identifier=mask_card_id(page.customer),
                currency=CURRENCY,
                transactions=reader.lines,
                opening_minor=opening,
                closing_minor=closing,
                period_start=min(
                    (t.booking_date for t in reader.lines), default=page.statement_date
                ),
                period_end=end,
                statement_ref=f"{end.year}/{page.sequence}",
                line=page.line,
                account_type="credit_card",
            )
        )
        return result
