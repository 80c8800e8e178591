"""Rules over the engineered features: each names what is unusual, in words an owner reads.

Every rule has an id (``anomaly.<name>``; the fused result's source is ``rule:<id>``), a kind,
a strength in [0, 1] (how sure the rule is on its own) and a plain-language reason with the
figures that back it. Strength ≥ 0.5 means "worth an alert by itself"; weaker rules (a new
place, an odd hour) only add weight to other evidence.

* ``anomaly.duplicate_payment`` (duplicate_payment): same payee, amount and reference (the
  text without printed dates) within N days;
* ``anomaly.new_payee_large`` (new_payee_large): first payment to a payee after the warm-up,
  large for this business (share of a month, rank among outflows);
* ``anomaly.amount_above_history`` (amount_spike): far above a steady payee's usual amount;
* ``anomaly.category_outlier`` (category_outlier, weak): far above the category's usual;
* ``anomaly.card_testing`` (card_testing): several tiny charges, one card, merchant and day;
* ``anomaly.unusual_hour`` (unusual_time, weak): a card used at night, unlike its history;
* ``anomaly.unusual_place`` (unusual_place, weak): a card used where it never was before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from ledgerlens.analyze.anomalies.features import (
    DEFAULT_CONFIG,
    AnomalyConfig,
    AnomalyFeatures,
    is_night,
)
from ledgerlens.core.ledger import Transaction
from ledgerlens.core.money import format_minor

__all__ = ["RULE_IDS", "RuleHit", "money_text", "payee_name", "run_rules"]

RULE_IDS: tuple[str, ...] = (
    "anomaly.duplicate_payment",
    "anomaly.new_payee_large",
    "anomaly.amount_above_history",
    "anomaly.category_outlier",
    "anomaly.card_testing",
    "anomaly.unusual_hour",
    "anomaly.unusual_place",
)


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One rule firing on one line. ``incident`` groups lines raised as one alert (a burst)."""

    index: int
    rule_id: str
    kind: str
    strength: float
    reason: str
    evidence: tuple[tuple[str, str], ...] = ()
    incident: int = -1  # index of the incident's first line; -1 = the line itself


def money_text(minor: float | int, currency: str) -> str:
    """An amount for a reason ("1,234.50 EUR"): exact text from integer minor units."""
    text = format_minor(round(minor), currency)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, frac = digits.partition(".")
    return f"{sign}{int(whole):,}{'.' + frac if frac else ''} {currency}"


def payee_name(tx: Transaction) -> str:
    """The payee as the owner knows it (printed name, else the start of the description)."""
    return tx.counterparty_name.strip() or " ".join(tx.description.split()[:4]) or "a payee"


def _iso(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def _duplicates(f: AnomalyFeatures, txs: Sequence[Transaction]) -> list[RuleHit]:
    hits = []
    for i in np.flatnonzero(f.duplicate_of >= 0).tolist():
        j = int(f.duplicate_of[i])
        gap = int(f.day[i] - f.day[j])
        amount = money_text(-f.amount_minor[i], f.currency[i])
        when = "the same day" if gap == 0 else f"{gap} day{'s' if gap > 1 else ''} after"
        hits.append(RuleHit(
            i, "anomaly.duplicate_payment", "duplicate_payment", 0.9,
            f"{amount} paid to {payee_name(txs[i])} {when} an identical payment "
            f"(same amount and reference) — possibly paid twice.",
            (("earlier payment", f.transaction_ids[j]), ("amount", amount),
             ("days apart", str(gap))),
        ))  # fmt: skip
    return hits


def _new_payees(f: AnomalyFeatures, txs: Sequence[Transaction], c: AnomalyConfig) -> list[RuleHit]:
    cand = (
        f.out
        & ~f.internal
        & ~f.is_card
        & ~f.statutory
        & (f.payee_prior == 0)
        & (f.age_days >= c.warmup_days)
        & (f.month_share >= c.new_payee_min_share)
        & (f.out_rank >= c.new_payee_min_rank)
    )
    hits = []
    for i in np.flatnonzero(cand).tolist():
        share = float(f.month_share[i])
        strength = 0.6 + 0.3 * min(1.0, share / 0.5)
        later = int(f.payee_count[i]) - 1
        if later >= 2:  # paid again and again afterwards: a new regular supplier, not a surprise
            strength *= 0.6
        if f.payee_keys[int(f.payee[i])].startswith("brand:"):  # a known insurer, lender, utility
            strength *= 0.6
        amount = money_text(-f.amount_minor[i], f.currency[i])
        hits.append(RuleHit(
            i, "anomaly.new_payee_large", "new_payee_large", round(strength, 3),
            f"First ever payment to {payee_name(txs[i])}: {amount}, "
            f"{share:.0%} of a typical month's spending.",
            (("amount", amount), ("share of a typical month", f"{share:.0%}"),
             ("earlier payments to this payee", "0"), ("later payments", str(later))),
        ))  # fmt: skip
    return hits


def _spikes(f: AnomalyFeatures, txs: Sequence[Transaction], c: AnomalyConfig) -> list[RuleHit]:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(f.amount_minor) / np.maximum(f.payee_median_minor, 1.0)
    cand = (
        f.out
        & ~f.internal
        & ~f.statutory
        & (f.payee_count >= c.spike_min_history)
        & (f.payee_spread <= c.spike_max_spread)
        # a steady bill, or far off the chart of a payee with a real history
        & (f.payee_regular | ((f.payee_z >= 2 * c.spike_min_z) & (f.payee_count >= 8)))
        & (f.payee_z >= c.spike_min_z)
        & (ratio >= c.spike_min_ratio)
        & (f.payee_high <= np.maximum(1, 0.1 * f.payee_count))  # one spike, not a bimodal payee
    )
    excess_major = (np.abs(f.amount_minor) - f.payee_median_minor) / np.power(10.0, f.exponent)
    excess_share = f.month_share * (1.0 - 1.0 / np.maximum(ratio, 1.0))
    cand &= (excess_major >= c.spike_min_excess_major) & (excess_share >= c.spike_min_excess_share)
    hits = []
    for i in np.flatnonzero(cand).tolist():
        r = float(ratio[i])
        strength = 0.55 + 0.35 * min(1.0, (r - c.spike_min_ratio) / 3.0)
        amount = money_text(-f.amount_minor[i], f.currency[i])
        usual = money_text(f.payee_median_minor[i], f.currency[i])
        hits.append(RuleHit(
            i, "anomaly.amount_above_history", "amount_spike", round(strength, 3),
            f"{amount} to {payee_name(txs[i])} is {r:.1f} times its usual {usual}.",
            (("amount", amount), ("usual amount", usual), ("times usual", f"{r:.1f}"),
             ("payments to this payee", str(int(f.payee_count[i])))),
        ))  # fmt: skip
    return hits


def _category_outliers(f: AnomalyFeatures, txs: Sequence[Transaction]) -> list[RuleHit]:
    cand = f.out & ~f.internal & (f.category_z >= 5.0) & (f.out_rank >= 0.99)
    hits = []
    for i in np.flatnonzero(cand).tolist():
        cat = f.category[i].split(".")[-1].replace("_", " ")
        hits.append(RuleHit(
            i, "anomaly.category_outlier", "category_outlier", 0.25,
            f"Much larger than this business's usual {cat} spending.",
            (("category", f.category[i]), ("robust z", f"{float(f.category_z[i]):.1f}")),
        ))  # fmt: skip
    return hits


def _card_testing(
    f: AnomalyFeatures, txs: Sequence[Transaction], c: AnomalyConfig
) -> list[RuleHit]:
    hits = []
    for i in np.flatnonzero(f.burst_first >= 0).tolist():
        k = int(f.burst_size[i])
        first = int(f.burst_first[i])
        ceiling = money_text(c.small_charge_major * 10 ** int(f.exponent[i]), f.currency[i])
        hits.append(RuleHit(
            i, "anomaly.card_testing", "card_testing", 0.9 if k < 6 else 0.95,
            f"{k} charges of at most {ceiling} at {payee_name(txs[i])} on one card on "
            f"{_iso(int(f.day[i]))}: the pattern of someone testing a stolen card number.",
            (("charges", str(k)), ("card", txs[i].card_id), ("merchant", payee_name(txs[i]))),
            incident=first,
        ))  # fmt: skip
    return hits


def _unusual_hours(f: AnomalyFeatures, txs: Sequence[Transaction]) -> list[RuleHit]:
    night = is_night(f.hour)
    if not night.any():
        return []
    hits = []
    for i in np.flatnonzero(night & f.out).tolist():
        usual = int(f.card_known_hours[i]) - 1  # this card's other lines with a printed hour
        nights = int(f.card_night_uses[i]) - 1
        if usual >= 10 and nights / usual > 0.05:
            continue  # this card is often used at night: a night shift, not a surprise
        hits.append(RuleHit(
            i, "anomaly.unusual_hour", "unusual_time", 0.35,
            f"Card used at {int(f.hour[i]):02d}:00, outside its usual hours.",
            (("hour", f"{int(f.hour[i]):02d}"), ("earlier night uses", str(max(nights, 0)))),
        ))  # fmt: skip
    return hits


def _unusual_places(f: AnomalyFeatures, txs: Sequence[Transaction]) -> list[RuleHit]:
    return [
        RuleHit(i, "anomaly.unusual_place", "unusual_place", 0.15,
                "First time this card was used at this place.", (("card", txs[i].card_id),))
        for i in np.flatnonzero(f.new_place & f.out).tolist()
    ]  # fmt: skip


def run_rules(
    f: AnomalyFeatures, txs: Sequence[Transaction], config: AnomalyConfig = DEFAULT_CONFIG
) -> list[RuleHit]:
    """All hits of the anomaly rules on one business (misuse rules live in ``misuse``)."""
    return [
        *_duplicates(f, txs),
        *_new_payees(f, txs, config),
        *_spikes(f, txs, config),
        *_category_outliers(f, txs),
        *_card_testing(f, txs, config),
        *_unusual_hours(f, txs),
        *_unusual_places(f, txs),
    ]
