"""Known future items: what the business already knows will move, as dated expected items.

Four sources, each turned into ``KnownItem`` rows the simulation draws from:

- recurring series (``enrich.recurring.detect_recurring``) → each occurrence inside the horizon,
  with the series' amount band as spread and a day of slack for banking-day rolls;
- scheduled payments (standing orders, agreed payments) → exact, certain items;
- open invoices → paid at due date + *that customer's own* delay; a chronically late customer's
  invoice may fall outside the horizon, and one already long overdue may never come;
- tax obligations where known (a VAT return due on a fixed day) → certain items.

The lines these sources explain are removed from the residual history (``explained_ids``),
otherwise the forecast would count the rent twice: once as an item and once in the run-rate.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ledgerlens.analyze.cashflow.model import ItemKind, KnownItem

if TYPE_CHECKING:
    from ledgerlens.core.ledger import Transaction
    from ledgerlens.core.ports import KnownItemRecord
    from ledgerlens.enrich.recurring import RecurringSeries

__all__ = [
    "CustomerDelay",
    "OpenInvoice",
    "ScheduledPayment",
    "TaxObligation",
    "estimate_customer_delays",
    "invoice_items",
    "invoice_run_rates",
    "scheduled_items",
    "series_items",
    "stored_items",
    "tax_items",
    "without_covered",
]

_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "yearly": 12}


@dataclass(frozen=True, slots=True)
class ScheduledPayment:
    account_id: str
    due_date: date
    amount_minor: int
    label: str = ""
    category: str = ""
    counterparty: str = ""
    reference: str = ""
    # the id the bank's system gave it (the known-items store): the forecast item keeps it,
    # so a what-if or an explanation names the payment the way the caller does
    item_id: str = ""


@dataclass(frozen=True, slots=True)
class TaxObligation:
    account_id: str
    due_date: date
    amount_minor: int  # negative: a payment; positive: a refund
    label: str = "tax"
    category: str = "tax.other"


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    account_id: str
    customer: str
    due_date: date
    amount_minor: int  # positive: the business is owed this
    reference: str = ""
    item_id: str = ""  # the known-items store's id (unique per business, unlike a reference)


@dataclass(frozen=True, slots=True)
class CustomerDelay:
    """How late a customer pays after the due date: mean and spread in days."""

    mean_days: float
    spread_days: float
    observations: int = 0


DEFAULT_DELAY = CustomerDelay(7.0, 7.0, 0)


def _add_months(day: date, months: int) -> date:
    t = day.year * 12 + day.month - 1 + months
    y, m = divmod(t, 12)
    return date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def series_items(
    series: Sequence[RecurringSeries], as_of: date, horizon_days: int
) -> tuple[list[KnownItem], set[str]]:
    """Project each active series over the horizon; return the items and the explained lines."""
    end = as_of + timedelta(days=horizon_days)
    items: list[KnownItem] = []
    explained: set[str] = set()
    for s in series:
        explained.update(s.member_ids)
        if not s.active:
            continue
        months = _MONTHS.get(str(s.cadence), 0)
        sd = abs(s.amount_high_minor - s.amount_low_minor) / 2.56
        day, k = s.next_date, 0
        while day <= end:
            if day > as_of:
                items.append(
                    KnownItem(
                        item_id=f"{s.series_id}#{k}",
                        account_id=s.account_id,
                        due_date=day,
                        amount_minor=s.expected_amount_minor,
                        kind=ItemKind.RECURRING,
                        label=s.counterparty or s.series_id,
                        counterparty=s.counterparty,
                        probability=min(1.0, max(0.5, s.confidence)),
                        jitter_days=2 if months else 1,
                        amount_sd_minor=int(sd),
                        source=s.source,
                    )
                )
            k += 1
            day = (
                _add_months(s.next_date, months * k)
                if months
                else s.next_date + timedelta(days=round(s.period_days * k))
            )
    return items, explained


#: an invoice number shorter than this is not looked for in booked lines (too many accidents)
MIN_QUOTED_REFERENCE = 4


def stored_items(
    items: Iterable[KnownItemRecord], as_of: date, booked: Iterable[Transaction] = ()
) -> tuple[list[ScheduledPayment], list[OpenInvoice]]:
    """The store's open items (``core.ports.KnownItemRecord``) as forecast inputs at ``as_of``.

    An open invoice counts however late it is (``invoice_items`` turns lateness into a later,
    less certain date) until it is paid: a receipt among ``booked`` (up to ``as_of``, on the
    invoice's account) that quotes its reference in the description or bank reference pays
    it, as a bank reconciles receipts, even before the store is told it was settled. A
    scheduled payment due on or before ``as_of`` is dropped: it is either in the booked
    history already or did not happen, and moving it to tomorrow would count it twice.
    Settled and cancelled items never count.
    """
    quoted: dict[str, list[str]] = {}
    for t in booked:
        if t.amount_minor > 0 and t.booking_date <= as_of:
            quoted.setdefault(t.account_id, []).append(f"{t.description} {t.bank_reference}")
    quoted_text = {account: " ".join(texts).casefold() for account, texts in quoted.items()}
    scheduled: list[ScheduledPayment] = []
    invoices: list[OpenInvoice] = []
    for it in items:
        if it.status != "open":
            continue
        if it.kind == "invoice":
            ref = it.reference.strip().casefold()
            if len(ref) >= MIN_QUOTED_REFERENCE and ref in quoted_text.get(it.account_id, ""):
                continue  # a receipt quoting its number paid it
            invoices.append(
                OpenInvoice(
                    it.account_id, it.counterparty or it.item_id, it.due_date, it.amount_minor,
                    reference=it.reference or it.item_id, item_id=it.item_id,
                )
            )  # fmt: skip
        elif it.due_date > as_of:
            scheduled.append(
                ScheduledPayment(
                    it.account_id, it.due_date, it.amount_minor,
                    label=it.label or it.counterparty or it.reference or it.item_id,
                    counterparty=it.counterparty, reference=it.reference or it.item_id,
                    item_id=it.item_id,
                )
            )  # fmt: skip
    return scheduled, invoices


def without_covered(
    items: Sequence[KnownItem], payments: Sequence[ScheduledPayment], window_days: int = 5
) -> list[KnownItem]:
    """``items`` less the recurring occurrences a stated payment stands for.

    A bank's system that registers "rent, 1,800 on the 1st" states this month's occurrence of
    a series the forecast also detects: counting both would pay the rent twice. A stated
    payment covers an occurrence of the same account and counterparty due within
    ``window_days`` whose amount is within a quarter of it; anything else (a one-off extra
    payment to a regular supplier, a different amount) is a payment of its own, and the
    series' other occurrences stay. (Backtests with the world's agreed payments keep their
    own rule: ``forecast_csv.business_input`` without ``stored``.)"""
    stated = [(p.account_id, p.counterparty.casefold(), p.due_date, p.amount_minor)
              for p in payments if p.counterparty]  # fmt: skip
    if not stated:
        return list(items)

    def covered(item: KnownItem) -> bool:
        if item.kind is not ItemKind.RECURRING or not item.counterparty:
            return False
        name = item.counterparty.casefold()
        return any(
            account == item.account_id
            and who == name
            and abs((due - item.due_date).days) <= window_days
            and abs(amount - item.amount_minor) * 4 <= abs(item.amount_minor)
            for account, who, due, amount in stated
        )

    return [i for i in items if not covered(i)]


def scheduled_items(payments: Iterable[ScheduledPayment], as_of: date) -> list[KnownItem]:
    return [
        KnownItem(
            item_id=f"sched:{p.item_id}"
            if p.item_id
            else f"sched:{p.account_id}:{p.due_date.isoformat()}:{i}",
            account_id=p.account_id,
            due_date=max(p.due_date, as_of + timedelta(days=1)),
            amount_minor=p.amount_minor,
            kind=ItemKind.SCHEDULED,
            label=p.label or p.counterparty or p.reference,
            category=p.category,
            counterparty=p.counterparty,
            source="input:scheduled",
        )
        for i, p in enumerate(payments)
    ]


def tax_items(obligations: Iterable[TaxObligation], as_of: date) -> list[KnownItem]:
    return [
        KnownItem(
            item_id=f"tax:{o.account_id}:{o.due_date.isoformat()}:{i}",
            account_id=o.account_id,
            due_date=max(o.due_date, as_of + timedelta(days=1)),
            amount_minor=o.amount_minor,
            kind=ItemKind.TAX,
            label=o.label,
            category=o.category,
            source="input:tax",
        )
        for i, o in enumerate(obligations)
    ]


def estimate_customer_delays(
    paid: Iterable[tuple[str, date, date]], open_invoices: Iterable[OpenInvoice], as_of: date
) -> dict[str, CustomerDelay]:
    """Per customer: delay from past (customer, due, paid) triples, raised by overdue evidence.

    A customer whose open invoice is already 30 days overdue pays at least 30 days late, whatever
    their past says; that lower bound is what catches a payer who has just stopped.
    """
    obs: dict[str, list[float]] = {}
    for customer, due, paid_on in paid:
        obs.setdefault(customer, []).append(float((paid_on - due).days))
    out: dict[str, CustomerDelay] = {}
    for customer, vals in obs.items():
        vals.sort()
        mid = vals[len(vals) // 2]
        spread = max(2.0, (vals[-1] - vals[0]) / 2) if len(vals) > 1 else 7.0
        out[customer] = CustomerDelay(max(mid, 0.0), spread, len(vals))
    for inv in open_invoices:
        overdue = (as_of - inv.due_date).days
        if overdue > 0:
            d = out.get(inv.customer, DEFAULT_DELAY)
            if d.mean_days < overdue + 3:
                out[inv.customer] = CustomerDelay(overdue + 7.0, max(d.spread_days, 10.0), 0)
    return out


def invoice_items(
    invoices: Iterable[OpenInvoice],
    as_of: date,
    delays: Mapping[str, CustomerDelay] | None = None,
    default: CustomerDelay = DEFAULT_DELAY,
) -> list[KnownItem]:
    """Open invoices paid at due + the customer's delay; long-overdue ones may never come."""
    delays = delays or {}
    out: list[KnownItem] = []
    for i, inv in enumerate(invoices):
        d = delays.get(inv.customer, default)
        overdue = max(0, (as_of - inv.due_date).days)
        expected = inv.due_date + timedelta(days=round(d.mean_days))
        expected = max(expected, as_of + timedelta(days=1))
        # the longer an invoice is overdue, the less sure we are it will be paid at all
        probability = 0.97 if overdue <= 30 else max(0.4, 0.97 - (overdue - 30) / 120)
        out.append(
            KnownItem(
                item_id=f"inv:{inv.item_id or inv.reference or i}",
                account_id=inv.account_id,
                due_date=expected,
                amount_minor=inv.amount_minor,
                kind=ItemKind.INVOICE,
                label=f"invoice {inv.reference} from {inv.customer}".strip(),
                category="income.sales",
                counterparty=inv.customer,
                probability=probability,
                jitter_days=round(min(d.spread_days, 21)),
                source="input:open_invoices",
            )
        )
    return out


def invoice_run_rates(
    transactions: Sequence[Transaction],
    customers: set[str],
    items: Sequence[KnownItem],
    as_of: date,
    window_days: int = 182,
) -> tuple[dict[str, list[tuple[int, float, str]]], set[str]]:
    """New invoices after the open ones: each customer's daily run-rate from the first horizon
    day their open invoices no longer cover; and the history lines that are invoice payments.

    Invoice income is lumpy and known in advance for a month or two, so it is taken out of the
    residual and modelled per customer: open invoices first, the customer's run-rate after.
    """
    since = as_of - timedelta(days=window_days)
    explained: set[str] = set()
    totals: dict[tuple[str, str], int] = {}
    for t in transactions:
        if t.amount_minor > 0 and t.counterparty_name in customers and t.booking_date <= as_of:
            explained.add(t.transaction_id)
            if t.booking_date > since:
                key = (t.account_id, t.counterparty_name)
                totals[key] = totals.get(key, 0) + t.amount_minor
    last_day: dict[str, int] = {}
    for it in items:
        if it.kind is ItemKind.INVOICE:
            day = (it.due_date - as_of).days
            last_day[it.counterparty] = max(last_day.get(it.counterparty, 0), day)
    out: dict[str, list[tuple[int, float, str]]] = {}
    for (account_id, customer), total in sorted(totals.items()):
        first = last_day.get(customer, 0) + 1
        out.setdefault(account_id, []).append((first, total / window_days, customer))
    return out, explained
