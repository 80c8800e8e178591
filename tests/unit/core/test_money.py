from decimal import Decimal

import pytest

from ledgerlens.core.errors import AmountError, CurrencyError
from ledgerlens.core.money import (
    Money,
    currency_exponent,
    format_minor,
    parse_amount,
    to_minor,
)


@pytest.mark.parametrize(
    ("code", "exp"),
    [("EUR", 2), ("GBP", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("KWD", 3), ("CLF", 4)],
)
def test_iso4217_exponents(code: str, exp: int) -> None:
    assert currency_exponent(code) == exp


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(CurrencyError):
        currency_exponent("EURO")
    with pytest.raises(CurrencyError):
        Money(100, "ABC")


@pytest.mark.parametrize(
    ("amount", "ccy", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("1234", "JPY", 1234),
        ("1.234", "BHD", 1234),
        ("10.50000", "EUR", 1050),
        ("-0.01", "USD", -1),
    ],
)
def test_to_minor_exact(amount: str, ccy: str, minor: int) -> None:
    assert to_minor(amount, ccy) == minor


@pytest.mark.parametrize(("amount", "ccy"), [("10.505", "EUR"), ("1.5", "JPY"), ("0.0001", "BHD")])
def test_sub_minor_precision_is_refused_not_rounded(amount: str, ccy: str) -> None:
    with pytest.raises(AmountError):
        to_minor(amount, ccy)


@pytest.mark.parametrize(
    ("text", "comma", "value"),
    [
        ("1.234,56", True, "1234.56"),
        ("1,234.56", False, "1234.56"),
        ("-12,5", True, "-12.5"),
        ("+3", False, "3"),
        ("1 000,00", True, "1000.00"),
    ],
)
def test_parse_amount(text: str, comma: bool, value: str) -> None:
    assert parse_amount(text, decimal_comma=comma) == Decimal(value)


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "12-", "--1"])
def test_parse_amount_rejects_garbage(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text)


def test_format_minor_round_trips() -> None:
    assert format_minor(-1250, "EUR") == "-12.50"
    assert format_minor(5, "EUR") == "0.05"
    assert format_minor(1234, "JPY") == "1234"
    assert format_minor(1234, "BHD") == "1.234"
    for minor in (-100001, -1, 0, 7, 99, 123456789):
        assert to_minor(format_minor(minor, "EUR"), "EUR") == minor


def test_money_arithmetic_is_single_currency() -> None:
    a = Money.of("10.00", "EUR")
    b = Money.of("2.55", "EUR")
    assert (a - b).amount_minor == 745
    assert str(a + b) == "12.55 EUR"
    assert (-a).amount_minor == -1000
    with pytest.raises(CurrencyError):
        _ = a + Money.of("1", "USD")


def test_money_refuses_float_minor_units() -> None:
    with pytest.raises(AmountError):
        Money(12.5, "EUR")  # type: ignore[arg-type]
