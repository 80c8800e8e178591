"""Employee-card misuse: each employee compared with their own history and with colleagues.

An owner does not mind a driver buying fuel on a Tuesday; they want to hear about the card at a
casino on a Saturday night, purchases split to stay under a limit, fuel every weekend when
colleagues never do, and cash withdrawals far above what this employee usually takes out.

All four have kind ``card_misuse``:

* ``misuse.personal_merchant``: a personal-type merchant (``PERSONAL_MCC_GROUPS``); stronger
  when nobody at the business ever bought there, at night, at the weekend;
* ``misuse.split_purchase``: ≥ 2 purchases at one merchant and place on one day (within the
  hour when printed), each 40–100 % of the per-purchase limit, together over it;
* ``misuse.weekend_fuel`` (weak): weekend fuel when this employee's weekend share is far above
  colleagues';
* ``misuse.round_cash`` (weak): a round cash withdrawal ≥ 3 × this employee's (or colleagues')
  usual withdrawal.

Limits come from the card policy (``decide.card_policies``) as plain numbers per card or
employee, because analyze must not import decide; without one, a split is only suspected when
every part sits just under a round threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ledgerlens.analyze.anomalies.features import DEFAULT_CONFIG, AnomalyConfig, AnomalyFeatures
from ledgerlens.analyze.anomalies.rules import RuleHit, money_text, payee_name
from ledgerlens.core.ledger import Transaction

__all__ = [
    "FUEL_MCCS",
    "PERSONAL_MCC_GROUPS",
    "EmployeeProfile",
    "detect_misuse",
    "profile_employees",
]

# MCC -> (group shown to the owner, base strength). Written from the ISO 18245 group names.
PERSONAL_MCC_GROUPS: dict[int, tuple[str, float]] = {
    **{m: ("gambling", 0.6) for m in (7800, 7801, 7802, 7995, 9406)},
    5944: ("jewellery", 0.5),
    5933: ("pawn shop", 0.5),
    7273: ("dating service", 0.6),
    7297: ("massage parlour", 0.5),
    5311: ("department store", 0.4),
    **{m: ("clothing and fashion", 0.35)
       for m in (5611, 5621, 5631, 5641, 5651, 5655, 5661, 5681, 5691, 5697, 5698, 5699)},
    5977: ("cosmetics", 0.35),
    5816: ("digital games", 0.35),
    7994: ("video game arcade", 0.35),
    5945: ("toy and game shop", 0.35),
    5921: ("liquor store", 0.35),
    5993: ("tobacco shop", 0.35),
    5813: ("bar or nightclub", 0.3),
    7230: ("beauty and barber", 0.3),
    5995: ("pet shop", 0.3),
}  # fmt: skip
FUEL_MCCS = frozenset({5541, 5542, 5983})
_CASH_MCCS = frozenset({6010, 6011})


def _lookup(codes: frozenset[int] | Mapping[int, object]) -> np.ndarray:
    """A membership table over MCC codes (index ``mcc + 1``; -1 = no MCC, never a member)."""
    table = np.zeros(10_002, dtype=bool)
    table[[c + 1 for c in codes]] = True
    return table


# built once: ``np.isin`` sorts its arguments on every call, which on the handful of lines a
# real-time POST scores costs more than the rules themselves
_PERSONAL = _lookup(PERSONAL_MCC_GROUPS)
_FUEL = _lookup(FUEL_MCCS)
_CASH = _lookup(_CASH_MCCS)


def _member(mcc: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``np.isin(mcc, codes)`` through ``table`` (codes outside 0–9999 are members of none)."""
    return table.take(mcc.astype(np.int64) + 1, mode="clip") & (mcc <= 9_999)


_ROUND_LIMITS_MAJOR = (50, 100, 150, 200, 250, 300, 500, 750, 1000, 1500, 2000, 2500, 5000)


@dataclass(frozen=True, slots=True)
class EmployeeProfile:
    """One employee's card habits next to their colleagues' (shares of card purchases)."""

    employee_id: str
    purchases: int
    personal_share: float
    weekend_fuel_share: float  # of this employee's fuel purchases
    peers_weekend_fuel_share: float
    median_cash_minor: int
    peers_median_cash_minor: int


def _personal(f: AnomalyFeatures, txs: Sequence[Transaction], c: AnomalyConfig) -> list[RuleHit]:
    hits = []
    small = np.abs(f.amount_minor) <= c.small_charge_major * np.power(10.0, f.exponent)
    cand = f.out & f.is_card & ~small & _member(f.mcc, _PERSONAL)
    for i in np.flatnonzero(cand).tolist():
        group, strength = PERSONAL_MCC_GROUPS[int(f.mcc[i])]
        why = [f"a {group} merchant ({payee_name(txs[i])})"]
        if f.payee_prior[i] == 0 and f.age_days[i] >= c.warmup_days:
            strength += 0.25 + (0.1 if f.mcc_prior[i] == 0 else 0.0)
            why.append("nobody at this business ever bought there before")
        if f.weekday[i] >= 5:
            strength += 0.1
            why.append("on a " + ("Saturday" if f.weekday[i] == 5 else "Sunday"))
        if f.hour[i] >= 21 or 0 <= f.hour[i] < 6:
            strength += 0.15
            why.append(f"at {int(f.hour[i]):02d}:00")
        amount = money_text(-f.amount_minor[i], f.currency[i])
        who = txs[i].employee_id or txs[i].card_id
        hits.append(RuleHit(
            i, "misuse.personal_merchant", "card_misuse", round(min(strength, 0.95), 3),
            f"Employee card spent {amount} at " + ", ".join(why) + ".",
            (("merchant group", group), ("mcc", f"{int(f.mcc[i]):04d}"), ("amount", amount),
             ("employee", who)),
        ))  # fmt: skip
    return hits


def _splits(
    f: AnomalyFeatures,
    txs: Sequence[Transaction],
    limits: Mapping[str, int],
) -> list[RuleHit]:
    """Purchases at one merchant within a day, each under the limit, together over it."""
    idx = np.flatnonzero(f.out & f.is_card)
    if len(idx) < 2:
        return []
    order = idx[np.lexsort((f.day[idx], f.place[idx], f.payee[idx], f.card[idx]))]
    same = (
        (f.card[order[1:]] == f.card[order[:-1]])  # one card, one merchant, one place …
        & (f.payee[order[1:]] == f.payee[order[:-1]])
        & (f.place[order[1:]] == f.place[order[:-1]])
        & (f.day[order[1:]] == f.day[order[:-1]])  # … on one day
    )
    hits: list[RuleHit] = []
    k = 0
    links = np.flatnonzero(same).tolist()
    while k < len(links):
        start = links[k]
        end = start + 1
        while k + 1 < len(links) and links[k + 1] == end:
            k += 1
            end += 1
        k += 1
        run = [int(x) for x in order[start : end + 1]]
        hits.extend(_split_run(f, txs, run, limits))
    return hits


def _split_run(f: AnomalyFeatures, txs: Sequence[Transaction], run: list[int],
               limits: Mapping[str, int]) -> list[RuleHit]:  # fmt: skip
    t0 = txs[run[0]]
    limit = limits.get(t0.card_id) or limits.get(t0.employee_id)
    strength, how = 0.7, "the card's per-purchase limit"
    lo = 0.4  # a split keeps every part near the limit; ordinary small buys are not parts
    if limit is None:  # no policy: only parts just under one round threshold are suspicious
        scale = 10 ** int(f.exponent[run[0]])
        amounts = [-int(f.amount_minor[k]) for k in run]
        fits = [
            lim * scale for lim in _ROUND_LIMITS_MAJOR
            if sum(0.8 * lim * scale <= p < lim * scale for p in amounts) >= 2
        ]  # fmt: skip
        if not fits:
            return []
        # evidence only: without a policy this never raises an alert on its own
        limit, strength, how, lo = fits[0], 0.25, "a round amount", 0.8
    run = [k for k in run if lo * limit <= -int(f.amount_minor[k]) <= limit]
    parts = [-int(f.amount_minor[k]) for k in run]
    if len(run) < 2 or sum(parts) <= limit:
        return []
    hours = [int(f.hour[k]) for k in run if f.hour[k] >= 0]
    if len(hours) == len(run) and max(hours) - min(hours) > 1:
        return []  # hours apart: two errands, not one purchase cut in pieces
    cur = f.currency[run[0]]
    total, lim_text = money_text(sum(parts), cur), money_text(limit, cur)
    return [
        RuleHit(
            k, "misuse.split_purchase", "card_misuse", strength,
            f"{len(run)} purchases at {payee_name(txs[k])} on one day total {total}, each "
            f"under {how} of {lim_text}: possibly one purchase split to dodge the limit.",
            (("parts", str(len(run))), ("total", total), ("limit", lim_text)),
            incident=run[0],
        )
        for k in run
    ]  # fmt: skip


def profile_employees(f: AnomalyFeatures) -> dict[str, EmployeeProfile]:
    """Each employee's habits and their colleagues' (everyone else at the business)."""
    out: dict[str, EmployeeProfile] = {}
    buys = f.out & (f.employee >= 0) & f.is_card
    fuel = buys & _member(f.mcc, _FUEL)
    cash = f.out & _member(f.mcc, _CASH) & (f.employee >= 0)
    personal = _member(f.mcc, _PERSONAL)
    weekend = f.weekday >= 5
    for code, emp in enumerate(f.employee_ids):
        me = f.employee == code
        peers = ~me

        def share(num: np.ndarray, den: np.ndarray) -> float:
            d = int(den.sum())
            return float(num.sum()) / d if d else 0.0

        def median_cash(mask: np.ndarray) -> int:
            vals = -f.amount_minor[cash & mask]
            return int(np.median(vals)) if len(vals) else 0

        out[emp] = EmployeeProfile(
            employee_id=emp,
            purchases=int((buys & me).sum()),
            personal_share=share(buys & me & personal, buys & me),
            weekend_fuel_share=share(fuel & me & weekend, fuel & me),
            peers_weekend_fuel_share=share(fuel & peers & weekend, fuel & peers),
            median_cash_minor=median_cash(me),
            peers_median_cash_minor=median_cash(peers),
        )
    return out


def _weekend_fuel(f: AnomalyFeatures, profiles: Mapping[str, EmployeeProfile]) -> list[RuleHit]:
    hits = []
    fuel = f.out & f.is_card & _member(f.mcc, _FUEL) & (f.employee >= 0)
    fuel_per_employee = np.bincount(f.employee[fuel], minlength=len(f.employee_ids))
    for i in np.flatnonzero(fuel & (f.weekday >= 5)).tolist():
        p = profiles[f.employee_ids[int(f.employee[i])]]
        fuel_n = int(fuel_per_employee[int(f.employee[i])])
        if fuel_n < 3 or p.weekend_fuel_share < p.peers_weekend_fuel_share + 0.3:
            continue
        hits.append(RuleHit(
            i, "misuse.weekend_fuel", "card_misuse", 0.45,
            f"Weekend fuel: {p.weekend_fuel_share:.0%} of this employee's fuel is bought at "
            f"weekends, against {p.peers_weekend_fuel_share:.0%} for colleagues.",
            (("employee", p.employee_id), ("weekend share", f"{p.weekend_fuel_share:.0%}"),
             ("colleagues", f"{p.peers_weekend_fuel_share:.0%}")),
        ))  # fmt: skip
    return hits


def _round_cash(f: AnomalyFeatures, profiles: Mapping[str, EmployeeProfile]) -> list[RuleHit]:
    hits = []
    cand = f.out & _member(f.mcc, _CASH) & (f.employee >= 0)
    for i in np.flatnonzero(cand).tolist():
        amount = -int(f.amount_minor[i])
        scale = 10 ** int(f.exponent[i])
        if amount % (10 * scale):
            continue
        p = profiles[f.employee_ids[int(f.employee[i])]]
        usual = p.median_cash_minor if p.median_cash_minor else p.peers_median_cash_minor
        if usual <= 0 or amount < 3 * usual:
            continue
        hits.append(RuleHit(
            i, "misuse.round_cash", "card_misuse", 0.45,
            f"Round cash withdrawal of {money_text(amount, f.currency[i])}, "
            f"{amount / usual:.1f} times this employee's usual {money_text(usual, f.currency[i])}.",
            (("employee", p.employee_id), ("usual withdrawal", money_text(usual, f.currency[i]))),
        ))  # fmt: skip
    return hits


def detect_misuse(
    f: AnomalyFeatures,
    txs: Sequence[Transaction],
    *,
    limits: Mapping[str, int] | None = None,
    config: AnomalyConfig = DEFAULT_CONFIG,
    has_cards: bool | None = None,
) -> list[RuleHit]:
    """Misuse hits on one business; ``limits`` maps card or employee id to a per-purchase
    limit in minor units (from the card policy). ``has_cards``: whether the business has any
    card line (the scoring context passes it when ``f`` holds only some of its lines)."""
    if not (f.is_card.any() if has_cards is None else has_cards):
        return []
    profiles = profile_employees(f) if (f.employee >= 0).any() else {}
    return [
        *_personal(f, txs, config),
        *_splits(f, txs, limits or {}),
        *_weekend_fuel(f, profiles),
        *_round_cash(f, profiles),
    ]
