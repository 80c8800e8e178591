"""FX tips for exporters and importers: what converting costs against the ECB mid rate.

Every line the bank converted (its "ORIG USD 79.00 RATE 0.7504" note or the structured original
amount) is priced at the ECB reference rate of its booking day; the difference, plus any
per-conversion fee lines, is what conversion cost. From that, per foreign currency, with the
estimated yearly saving:

- ``currency_account``: hold the currency instead of converting each receipt/payment (the
  account converts at ``account_spread_bps`` when you choose to, less its yearly fee);
- ``batched_conversions``: convert once a month, so fixed fees are paid 12 times a year;
- ``natural_hedging``: pay suppliers in the currency from the same currency's income, so the
  matched amount is never converted at all (both conversions saved).

The rates come from one ``EcbRates`` (``currencyconverter``) the caller created once; each tip's
evidence names the rate dates used. Pure otherwise.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from ledgerlens.core.ledger import Account, Transaction
from ledgerlens.core.money import currency_exponent, format_minor, to_minor
from ledgerlens.decide.model import Decision, DecisionKind
from ledgerlens.decide.signals import foreign_original
from ledgerlens.enrich.transfers import FxRates

__all__ = ["FxFlow", "FxTip", "fx_flows", "fx_tips", "tip_decision"]

VERSION = "2026.12.1"
SOURCE = f"rule:fx_tips@{VERSION}"
_FEE = re.compile(
    r"\b(NON-[A-Z]{3} TRANS(?:ACTION)? FEE|FX FEE|FOREIGN (?:EXCHANGE |TXN )?FEE)\b", re.I
)


@dataclass(frozen=True, slots=True)
class FxFlow:
    """One currency's converted flows over the period, in the account currency's minor units."""

    currency: str
    account_currency: str
    receipts_minor: int  # what was credited (after the bank's rate)
    payments_minor: int  # what was debited, positive
    receipts_cost_minor: int  # mid-rate value − credited
    payments_cost_minor: int  # debited − mid-rate value
    fee_minor: int  # explicit conversion fee lines
    conversions: int
    period_days: int
    rate_dates: tuple[str, ...] = ()

    def yearly(self, v: int) -> int:
        return v * 365 // max(self.period_days, 1)


@dataclass(frozen=True, slots=True)
class FxTip:
    kind: str  # currency_account | batched_conversions | natural_hedging
    currency: str
    yearly_saving_minor: int
    account_currency: str
    message: str
    evidence: dict[str, str | int | float] = field(default_factory=dict)
    source: str = SOURCE
    confidence: float = 0.8


def _money(amount_minor: int, currency: str) -> str:
    return f"{format_minor(amount_minor, currency)} {currency}"


def fx_flows(transactions: Sequence[Transaction], fx_rates: FxRates) -> list[FxFlow]:
    """Converted flows per foreign currency (lines without an ECB rate are left out)."""
    if not transactions:
        return []
    first = min(t.booking_date for t in transactions)
    last = max(t.booking_date for t in transactions)
    acc: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    dates: dict[tuple[str, str], set[date]] = defaultdict(set)
    fees: dict[str, int] = defaultdict(int)
    for t in transactions:
        if t.amount_minor < 0 and _FEE.search(t.description):
            fees[t.currency] -= t.amount_minor
            continue
        orig = foreign_original(t)
        if orig is None:
            continue
        ccy, amount_text, _ = orig
        hit = fx_rates.rate(ccy, t.currency, t.booking_date)
        if hit is None:
            continue
        mid, rate_day = hit
        orig_minor = abs(to_minor(amount_text, ccy))
        scale = 10 ** (currency_exponent(t.currency) - currency_exponent(ccy))
        mid_value = round(orig_minor * mid * scale)
        a = acc[(ccy, t.currency)]
        if t.amount_minor > 0:
            a["receipts"] += t.amount_minor
            a["rcost"] += mid_value - t.amount_minor
        else:
            a["payments"] += -t.amount_minor
            a["pcost"] += -t.amount_minor - mid_value
        a["n"] += 1
        dates[(ccy, t.currency)].add(rate_day)
    period = (last - first).days + 1
    out = []
    for (ccy, acct), a in sorted(acc.items()):
        # fee lines carry no currency of their own: they belong to the account's conversions
        share = a["n"] / max(sum(v["n"] for (_, ac), v in acc.items() if ac == acct), 1)
        d = sorted(dates[(ccy, acct)])
        out.append(
            FxFlow(
                ccy,
                acct,
                a["receipts"],
                a["payments"],
                a["rcost"],
                a["pcost"],
                int(fees.get(acct, 0) * share),
                a["n"],
                period,
                (d[0].isoformat(), d[-1].isoformat()),
            )
        )
    return out


def fx_tips(
    transactions: Sequence[Transaction],
    accounts: Sequence[Account],
    fx_rates: FxRates,
    *,
    account_spread_bps: int = 30,
    account_fee_major_per_year: int = 120,
    min_saving_major: int = 50,
) -> list[FxTip]:
    """Tips worth at least ``min_saving_major`` a year, biggest saving first."""
    held = {a.currency for a in accounts}
    tips: list[FxTip] = []
    for f in fx_flows(transactions, fx_rates):
        cur = f.account_currency
        unit = 10 ** currency_exponent(cur)
        ev: dict[str, str | int | float] = {
            "currency": f.currency,
            "receipts_yearly_minor": f.yearly(f.receipts_minor),
            "payments_yearly_minor": f.yearly(f.payments_minor),
            "conversion_cost_yearly_minor": f.yearly(
                f.receipts_cost_minor + f.payments_cost_minor + f.fee_minor
            ),
            "conversions": f.conversions,
            "period_days": f.period_days,
            "ecb_rate_dates": " to ".join(f.rate_dates),
        }
        if f.currency not in held:
            cost = f.yearly(f.receipts_cost_minor + f.payments_cost_minor + f.fee_minor)
            volume = f.yearly(f.receipts_minor + f.payments_minor)
            saving = (
                cost - volume * account_spread_bps // 10_000 - account_fee_major_per_year * unit
            )
            tips.append(
                FxTip(
                    "currency_account",
                    f.currency,
                    saving,
                    cur,
                    f"Converting your {f.currency} flows cost about {_money(cost, cur)} a "
                    f"year against the ECB mid rate; a {f.currency} account would "
                    f"save about {_money(saving, cur)} a year.",
                    ev,
                )
            )
        if f.fee_minor > 0 and f.yearly(f.conversions) > 12:
            per_year = f.yearly(f.conversions)
            fees = f.yearly(f.fee_minor)
            saving = fees - fees * 12 // per_year
            tips.append(
                FxTip(
                    "batched_conversions",
                    f.currency,
                    saving,
                    cur,
                    f"{per_year} conversions a year each pay a fee; converting "
                    f"once a month would save about {_money(saving, cur)} a year.",
                    ev,
                )
            )
        if f.receipts_minor > 0 and f.payments_minor > 0:
            matched = f.yearly(min(f.receipts_minor, f.payments_minor))
            r_bps = f.receipts_cost_minor / f.receipts_minor
            p_bps = f.payments_cost_minor / f.payments_minor
            saving = round(matched * (r_bps + p_bps))
            tips.append(
                FxTip(
                    "natural_hedging",
                    f.currency,
                    saving,
                    cur,
                    f"You both receive and pay {f.currency}: paying suppliers from "
                    f"{f.currency} income ({_money(matched, cur)} a year) would save "
                    f"about {_money(saving, cur)} a year.",
                    ev,
                )
            )
    keep = [
        t
        for t in tips
        if t.yearly_saving_minor >= min_saving_major * 10 ** currency_exponent(t.account_currency)
    ]
    return sorted(keep, key=lambda t: -t.yearly_saving_minor)


def tip_decision(business_id: str, tip: FxTip) -> Decision:
    """An FX tip as an auditable recommendation decision."""
    return Decision(
        business_id=business_id,
        kind=DecisionKind.RECOMMENDATION,
        subject=f"fx_tip:{tip.kind}:{tip.currency}",
        outputs={
            "shown": True,
            "yearly_saving_minor": tip.yearly_saving_minor,
            "currency": tip.account_currency,
            "message": tip.message,
        },
        inputs=dict(tip.evidence),
        reason_codes=(f"FX_TIP_{tip.kind.upper()}",),
        versions=(f"rules:fx_tips@{VERSION}", "data:ecb_reference_rates"),
        reasons=(tip.message,),
        confidence=tip.confidence,
        source=tip.source,
    )
