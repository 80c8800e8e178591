"""``detect_recurring``: find the series in one business's transactions.

Per candidate stream (see ``streams``): drop same-day duplicates and lines that break the rhythm,
fit a cadence, then decide. A series must be regular in time; in amount it must be either fixed
(a subscription, rent, a salary — price steps allowed), or a committed payment whose amount may
move (a direct debit for stock, a tax bill), or a monthly-or-longer payment that keeps its day of
the month without a miss. Money coming in is held to a stricter bar (fixed amounts): regular
marketplace payouts or card takings are income flows, not series. When a stream as a whole is
not a series (a merchant where one buys at random *and* pays a subscription), its tight amount
clusters are tried on their own.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from datetime import date
from operator import attrgetter

from ledgerlens.core.ledger import Transaction
from ledgerlens.enrich.recurring.cadence import (
    CADENCES,
    CadenceFit,
    fit_cadence,
    month_length,
    next_date,
)
from ledgerlens.enrich.recurring.model import PriceChange, RecurringSeries
from ledgerlens.enrich.recurring.streams import (
    commitment_words,
    constant_reference,
    description_shape,
    party_key,
)
from ledgerlens.enrich.transfers import TransferMatch

__all__ = ["MIN_MEMBERS", "detect_recurring"]

MIN_MEMBERS = 4  # three points make one coincidence too many among thousands of lines
MIN_CLUSTER_MEMBERS = 6  # a series picked out of a busier stream by amount needs more support
FIXED_DISPERSION = 0.06  # (p90 - p10) / median of amounts within a price segment
FIXED_INFLOW_DISPERSION = 0.02  # salary or rent received is exact; interest and payouts are not
STEP_TOLERANCE = 0.01  # amounts within 1 % are "the same price"
_NO_DIGITS = str.maketrans("", "", "0123456789")
_ORDER = attrgetter("booking_date", "transaction_id")
_PERCENT_FEE = re.compile(r"\d\s?%")
_Key = tuple[str, int, str, str]  # account, sign, counterparty, description shape


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of a sorted sequence (numpy's default method); plain Python
    because series are short and numpy's per-call overhead would dominate."""
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _median(values: Sequence[float]) -> float:
    return _quantile(sorted(values), 0.5)


def _price_changes(rows: list[Transaction], amounts: list[int]) -> list[PriceChange]:
    """Steps where the 3 lines before agree within 1 %, the (up to) 3 after too, and differ."""
    out: list[PriceChange] = []
    a = [abs(x) for x in amounts]
    n = len(a)
    tol = 1 + STEP_TOLERANCE
    for k in range(2, n):
        if a[k] == a[k - 1] or min(a[k], a[k - 1]) * tol > max(a[k], a[k - 1]):
            continue
        before, after = a[max(0, k - 3) : k], a[k : k + 3]
        if len(after) < min(2, n - k) or max(before) > min(before) * tol:
            continue
        if max(after) > min(after) * tol:
            continue
        old, new = _median(before), _median(after)
        pct = round(100 * (new / old - 1), 2)
        out.append(
            PriceChange(
                rows[k].booking_date, rows[k].transaction_id, amounts[k - 1], amounts[k], pct
            )
        )
    return out


def _segment_ratios(amounts: list[int], cuts: list[int]) -> list[float]:
    """Each amount over its price segment's median (so a price step is not "dispersion")."""
    out: list[float] = []
    bounds = [0, *cuts, len(amounts)]
    for lo, hi in itertools.pairwise(bounds):
        seg = amounts[lo:hi]
        if seg:
            med = _median(seg) or 1.0
            out.extend(x / med for x in seg)
    return out


def _dedupe(rows: list[Transaction]) -> tuple[list[Transaction], int]:
    """Keep one line per day (the one nearest the median amount): a same-day repeat of a
    series payment is a duplicate (an anomaly), not a second member."""
    med = _median([r.amount_minor for r in rows])
    by_day: dict[date, Transaction] = {}
    for r in rows:
        kept = by_day.get(r.booking_date)
        if kept is None or abs(r.amount_minor - med) < abs(kept.amount_minor - med):
            by_day[r.booking_date] = r
    if len(by_day) == len(rows):
        return rows, 0
    out = sorted(by_day.values(), key=lambda r: (r.booking_date, r.transaction_id))
    return out, len(rows) - len(out)


def _prune(rows: list[Transaction], fit: CadenceFit) -> list[Transaction]:
    """Drop lines that come too early for the rhythm (a one-off to the same payee)."""
    period, tol, _ = CADENCES[fit.cadence]
    med = _median([r.amount_minor for r in rows])
    out = list(rows)
    budget = max(1, len(rows) // 5)
    while budget > 0 and len(out) > MIN_MEMBERS:
        days = [r.booking_date.toordinal() for r in out]
        short = [i for i in range(1, len(out)) if days[i] - days[i - 1] < period - tol]
        if not short:
            break
        i = short[0]
        a, b = out[i - 1], out[i]
        drop = i if abs(b.amount_minor - med) >= abs(a.amount_minor - med) else i - 1
        del out[drop]
        budget -= 1
    return out


def _roll_backward(rows: list[Transaction], anchor: int) -> bool:
    back = fwd = 0
    for r in rows:
        d = r.booking_date
        nominal = min(anchor, month_length(d.year, d.month))
        back += 0 < nominal - d.day <= 3
        fwd += 0 < d.day - nominal <= 3
    return back > fwd


def _try_series(rows: list[Transaction], key: _Key, as_of: date,
                country: str) -> RecurringSeries | None:  # fmt: skip
    if len(rows) < MIN_MEMBERS:
        return None
    rows, duplicates = _dedupe(rows)
    if len(rows) < MIN_MEMBERS:
        return None
    fit = _fit(rows)
    if fit is None:
        return None
    if fit.off_schedule:  # one-offs to the same payee break the rhythm: try without them
        pruned = _prune(rows, fit)
        if len(pruned) < len(rows):
            refit = _fit(pruned)
            if refit is not None:
                found = _decide(pruned, refit, key, as_of, country, duplicates)
                if found is not None:
                    return found
    return _decide(rows, fit, key, as_of, country, duplicates)


def _fit(rows: list[Transaction]) -> CadenceFit | None:
    dates = [r.booking_date for r in rows]
    return fit_cadence([d.toordinal() for d in dates], dates)


def _decide(rows: list[Transaction], fit: CadenceFit, key: _Key, as_of: date, country: str,
            duplicates: int) -> RecurringSeries | None:  # fmt: skip
    n = len(rows)
    months = CADENCES[fit.cadence][2]
    if n < MIN_MEMBERS:
        return None
    regular = (fit.regular_share >= 0.7 and fit.coverage >= 0.75
               and fit.off_schedule <= max(1, (n - 1) // 10))  # fmt: skip
    # a fixed amount under a mandate or tax/rent wording may follow an uneven calendar
    # (US estimated tax: Apr, Jun, Sep, Jan; English quarter days) — checked below
    uneven = months >= 3 and fit.regular_share >= 0.5 and fit.off_schedule <= 0.4 * (n - 1)
    inflow = key[1] > 0
    if not (regular or uneven) or (inflow and fit.regular_share < 0.85):
        return None
    amounts = [r.amount_minor for r in rows]
    changes = _price_changes(rows, amounts)
    ids = [r.transaction_id for r in rows]
    cuts = [ids.index(c.transaction_id) for c in changes]
    ratios = sorted(_segment_ratios(amounts, cuts))
    disp = _quantile(ratios, 0.9) - _quantile(ratios, 0.1)
    fixed = disp <= FIXED_DISPERSION
    if (inflow or not regular) and not fixed:
        return None
    if inflow and disp > FIXED_INFLOW_DISPERSION:
        return None  # income that merely recurs (payouts, interest) is a flow, not a series
    card = any(r.card_id or r.mcc for r in rows)
    texts = [r.description for r in rows]
    words = commitment_words(texts)
    reference = not words and not card and bool(constant_reference(texts))
    committed = words or reference
    if not regular and not committed:
        return None
    # without a commitment, a monthly payment must keep its day of the month: "about every
    # 30 days" by hand drifts, a contract does not
    if months == 1 and not committed and fit.anchor_share < 0.8:
        return None
    steady_day = bool(months) and fit.anchor_share >= 0.9 and fit.missed == 0
    # a card merchant that charges on the same day every month bills usage (cloud hosting)
    if not (inflow or fixed or committed or (steady_day and (disp <= 0.4 or card))):
        return None
    recent = sorted(amounts[cuts[-1] if cuts else 0 :][-6:])
    low, high = round(_quantile(recent, 0.1)), round(_quantile(recent, 0.9))
    last = rows[-1].booking_date
    backward = bool(months) and _roll_backward(rows, fit.anchor_day)
    nxt = next_date(fit, last, as_of, country, backward)
    lapsed = (as_of - last).days > 1.5 * fit.period_days + 3
    confidence = (0.4 + 0.25 * fit.regular_share + 0.1 * fit.coverage + 0.1 * fixed
                  + 0.1 * committed + 0.05 * min(1.0, n / 6) + 0.05 * steady_day)  # fmt: skip
    digest = hashlib.sha1("|".join((*map(str, key), rows[0].transaction_id)).encode()).hexdigest()
    evidence: dict[str, str | int | float] = {
        "members": n,
        "regular_share": round(fit.regular_share, 3),
        "coverage": round(fit.coverage, 3),
        "missed_occurrences": fit.missed,
        "amount_dispersion": round(disp, 4),
        "fixed_amount": int(fixed),
        "commitment_words": int(words),
        "constant_reference": int(reference),
        "anchor": fit.anchor_day,
        "anchor_share": round(fit.anchor_share, 3),
        "roll": "backward" if backward else "forward",
        "duplicates_excluded": duplicates,
        "description_shape": key[3],
    }
    return RecurringSeries(
        series_id=f"rs_{digest[:12]}",
        account_id=rows[0].account_id,
        counterparty=rows[-1].counterparty_name or key[2] or key[3],
        direction="inflow" if inflow else "outflow",
        cadence=fit.cadence,
        period_days=fit.period_days,
        member_ids=tuple(r.transaction_id for r in rows),
        first_date=rows[0].booking_date,
        last_date=last,
        next_date=nxt,
        expected_amount_minor=round(_quantile(recent, 0.5)),
        amount_low_minor=low,
        amount_high_minor=high,
        currency=rows[0].currency,
        active=not lapsed,
        confidence=round(min(confidence, 0.99), 3),
        price_changes=tuple(changes),
        evidence=evidence,
    )


def _amount_clusters(rows: list[Transaction]) -> list[list[Transaction]]:
    """Groups of lines whose amounts lie within 3 % of their neighbours (sorted by amount)."""
    ordered = sorted(rows, key=lambda r: abs(r.amount_minor))
    clusters: list[list[Transaction]] = [[ordered[0]]]
    for r in ordered[1:]:
        prev = abs(clusters[-1][-1].amount_minor)
        if abs(r.amount_minor) <= prev * 1.03:
            clusters[-1].append(r)
        else:
            clusters.append([r])
    return [sorted(c, key=lambda r: (r.booking_date, r.transaction_id))
            for c in clusters if len(c) >= MIN_MEMBERS]  # fmt: skip


def _regular_enough(rows: list[Transaction]) -> bool:
    """Cheap gate before fitting: most gaps near a median gap of 5+ days (random purchases at
    one shop have exponential gaps and fail here, before any fitting). ``rows`` are sorted."""
    span = (rows[-1].booking_date - rows[0].booking_date).days
    if span < 2.4 * (len(rows) - 1):  # 60 % of gaps >= 4 days need a mean gap >= 2.4 days
        return False
    ords = sorted({r.booking_date.toordinal() for r in rows})
    if len(ords) < MIN_MEMBERS:
        return False
    gaps = sorted(b - a for a, b in itertools.pairwise(ords))
    g = gaps[len(gaps) // 2]
    if g < 5:
        return False
    tol = max(2.0, 0.2 * g)
    near = sum(1 for x in gaps if abs(x - g) <= tol)
    return near >= 0.6 * len(gaps)


def _several_shapes(rows: list[Transaction], party: str) -> bool:
    """Do the lines read differently? Checked first on lines that share a day with another
    (where two series to one payee collide) and a spread sample, before shaping them all."""
    step = max(1, len(rows) // 12)
    probe = rows[::step]
    for a, b in itertools.pairwise(rows):
        if a.booking_date == b.booking_date:
            probe += (a, b)
            if len(probe) > 40:
                break
    return len({description_shape(r.description, party) for r in probe}) > 1


def _search(rows: list[Transaction], key: _Key, as_of: date, country: str,
            out: list[RecurringSeries]) -> None:  # fmt: skip
    """The whole stream; else its description shapes; else its tight amount clusters.

    When two lines of a stream share a day, the stream likely holds two series to one payee
    (VAT and wage tax to the same tax office on the 10th): shapes are tried first then.
    """
    plain = not key[3] and not any(r.card_id or r.mcc for r in rows)
    same_day = len({r.booking_date for r in rows}) < len(rows)
    if not (plain and same_day) and _regular_enough(rows):
        found = _try_series(rows, key, as_of, country)
        if found is not None:
            out.append(found)
            return
    if plain and _several_shapes(rows, key[2]):
        by_shape: dict[str, list[Transaction]] = {}
        for r in rows:
            by_shape.setdefault(description_shape(r.description, key[2]), []).append(r)
        for shape, part in by_shape.items():
            if len(part) >= MIN_MEMBERS:
                _search(part, (*key[:3], shape or "-"), as_of, country, out)
        return
    if plain and same_day and _regular_enough(rows):  # one series with a duplicated line
        found = _try_series(rows, key, as_of, country)
        if found is not None:
            out.append(found)
            return
    # a card merchant where one buys at random and also pays a subscription: try the tight
    # amount clusters (transfers to one payee in clusters proved coincidences, not series)
    if not plain and len(rows) >= 2 * MIN_CLUSTER_MEMBERS:
        for cluster in _amount_clusters(rows):
            if MIN_CLUSTER_MEMBERS <= len(cluster) < len(rows) and _regular_enough(cluster):
                found = _try_series(cluster, key, as_of, country)
                if found is not None:
                    out.append(found)


def detect_recurring(
    transactions: Sequence[Transaction],
    *,
    as_of: date,
    country: str = "",
    transfers: Iterable[TransferMatch] = (),
) -> list[RecurringSeries]:
    """Recurring series in ONE business's lines booked up to ``as_of``.

    ``country`` (ISO 3166 alpha-2) adds its public holidays to the weekend when the next date
    is rolled onto a banking day. ``transfers`` (from ``match_transfers``): the receiving legs
    of own-account moves are skipped — a monthly sweep to savings is one series (the standing
    order that sends it), not also an "income" series on the savings account. Lines that are a
    percentage of another payment ("NON-GBP TRANS FEE 2.75%") follow that payment and are not
    series of their own. Results are ordered by account, first date and id.
    """
    skip = {m.in_transaction_id for m in transfers}
    # group on the raw fields first (a tuple and a dict lookup per line), then merge the raw
    # groups under their normalized key: normalizing once per distinct payee, not per line
    raw: dict[tuple[str, bool, str, str], list[Transaction]] = {}
    for t in transactions:
        if t.amount_minor == 0 or t.booking_date > as_of or t.transaction_id in skip:
            continue
        desc = t.description
        if "%" in desc and _PERCENT_FEE.search(desc):
            continue
        name = t.counterparty_name or desc.translate(_NO_DIGITS)  # nameless: fees, interest, ATM
        k = (t.account_id, t.amount_minor > 0, name, t.counterparty_iban)
        group = raw.get(k)
        if group is None:
            raw[k] = [t]
        else:
            group.append(t)
    streams: dict[tuple[str, int, str, str], list[Transaction]] = {}
    for rows in raw.values():
        k = party_key(rows[0])
        group = streams.get(k)
        if group is None:
            streams[k] = rows
        else:
            group.extend(rows)
    out: list[RecurringSeries] = []
    for key, rows in streams.items():
        if len(rows) < MIN_MEMBERS:
            continue
        rows.sort(key=_ORDER)
        _search(rows, (*key[:3], ""), as_of, country, out)
    out.sort(key=lambda s: (s.account_id, s.first_date, s.series_id))
    return out
