"""Exact money: integer minor units plus an ISO 4217 currency.

Banks print amounts as decimal strings; we keep them as integers in the currency's minor unit so
that sums over millions of lines are exact and a statement either reconciles or it does not.
The exponent comes from ISO 4217 (JPY 0, BHD 3, CLF 4), not from locale data, because CLDR's
"digits" differ from ISO for a few currencies (e.g. it rounds ISK, HUF cash amounts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ledgerlens.core.errors import AmountError, CurrencyError

__all__ = [
    "ISO4217_CODES",
    "Money",
    "currency_exponent",
    "format_minor",
    "parse_amount",
    "to_minor",
    "validate_currency",
]

# ISO 4217 active codes (list one, 2026) whose minor unit is not 2.
# fmt: off
_EXPONENT_EXCEPTIONS: dict[str, int] = {
    # zero decimals
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # three decimals
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # four decimals
    "CLF": 4, "UYW": 4,
    # funds, metals and testing codes have no minor unit; we book them with none
    "XAG": 0, "XAU": 0, "XBA": 0, "XBB": 0, "XBC": 0, "XBD": 0, "XDR": 0, "XPD": 0, "XPT": 0,
    "XSU": 0, "XTS": 0, "XUA": 0, "XXX": 0,
}

ISO4217_CODES: frozenset[str] = frozenset("""
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF
    XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL
""".split())  # noqa: SIM905 - a readable table, not a list literal
# fmt: on

_AMOUNT_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def validate_currency(code: str) -> str:
    """Return the code if it is an ISO 4217 currency, else raise ``CurrencyError``."""
    if code not in ISO4217_CODES:
        raise CurrencyError(f"unknown ISO 4217 currency code {code!r}")
    return code


def currency_exponent(code: str) -> int:
    """Number of minor-unit digits of an ISO 4217 currency (JPY 0, EUR 2, BHD 3)."""
    validate_currency(code)
    return _EXPONENT_EXCEPTIONS.get(code, 2)


def parse_amount(text: str, *, decimal_comma: bool = False) -> Decimal:
    """Parse a bank-printed amount ("1.234,56" with ``decimal_comma``, "-12.5", "+3") exactly."""
    s = text.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    s = s.replace(".", "").replace(",", ".") if decimal_comma else s.replace(",", "")
    if not _AMOUNT_RE.match(s):
        raise AmountError(f"not an amount: {text!r}")
    try:
        return Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - guarded by the regex
        raise AmountError(f"not an amount: {text!r}") from exc


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """Convert a decimal amount to integer minor units; refuse sub-minor precision.

    ``10.50000`` EUR is fine (1050); ``10.505`` EUR is an error, never silently rounded.
    """
    if isinstance(amount, str):
        amount = parse_amount(amount)
    exp = currency_exponent(currency)
    scaled = Decimal(amount).scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise AmountError(f"{amount} has more than {exp} decimals for {currency}")
    return int(scaled)


def format_minor(amount_minor: int, currency: str) -> str:
    """Plain decimal string of minor units ("-12.50" for -1250 EUR); the canonical CSV form."""
    exp = currency_exponent(currency)
    if exp == 0:
        return str(amount_minor)
    return str(Decimal(amount_minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp)))


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An exact amount of one currency. Arithmetic across currencies is refused."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        validate_currency(self.currency)
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise AmountError("amount_minor must be an int")

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> Money:
        """Money from a decimal amount in major units ("12.50", "EUR")."""
        return cls(to_minor(amount, currency), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyError(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-currency_exponent(self.currency))

    def __str__(self) -> str:
        return f"{format_minor(self.amount_minor, self.currency)} {self.currency}"
