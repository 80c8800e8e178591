"""Builders for event insights: unusual and duplicate payments, card policy breaches, price
rises, late-paying customers, tax due, FX tips and product offers.

Inputs are the analyze/enrich results as they are (``AnomalyResult``, ``RecurringSeries``,
``CustomerDelay``, ``TaxDue``) plus two generic inputs for stages built elsewhere:
``OfferInput`` (decide/offers) and ``FxTipInput``. Reasons are localized by rule id
(``reason.<rule id>`` in the templates); the rule's own English sentence stays in the evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from ledgerlens.analyze.anomalies import AnomalyResult
from ledgerlens.analyze.cashflow import CustomerDelay
from ledgerlens.core.ledger import Transaction
from ledgerlens.enrich.recurring import RecurringSeries
from ledgerlens.explain.model import Action, Figure, Insight, InsightKind, Severity, make_insight
from ledgerlens.explain.render import Renderer
from ledgerlens.explain.tax_calendar import TaxDue

__all__ = [
    "FxTipInput",
    "OfferInput",
    "anomaly_insight",
    "fx_tip",
    "late_payer",
    "price_rise",
    "product_offer",
    "tax_due",
]

_PER_YEAR = {
    "weekly": 52,
    "biweekly": 26,
    "monthly": 12,
    "quarterly": 4,
    "semiannual": 2,
    "yearly": 1,
}


@dataclass(frozen=True, slots=True)
class OfferInput:
    """A product offer decided elsewhere (decide/offers): what, why, on which terms."""

    offer_id: str
    product: str
    reason: str  # plain sentence in the owner's language, from the decision's reason codes
    terms: str
    source: str
    confidence: float
    amount_minor: int | None = None
    currency: str = ""
    evidence: dict[str, str | int | float] = field(default_factory=dict)
    valid_days: int = 14


@dataclass(frozen=True, slots=True)
class FxTipInput:
    """Money lost to conversion: bank-converted volume, the margin paid, what could be saved."""

    currency: str  # the foreign currency
    base_currency: str
    volume_minor: int  # converted volume in the base currency
    margin_pct: float
    saving_minor: int  # estimated yearly saving in the base currency
    months: int
    advice: str = "fx_account"  # phrase key: fx_account | fx_timing
    source: str = "rule:fx_tip"
    confidence: float = 0.7
    transaction_ids: tuple[str, ...] = ()


def _payee(t: Transaction) -> str:
    return t.counterparty_name.strip() or " ".join(t.description.split()[:4]) or "?"


def _reasons(r: Renderer, res: AnomalyResult) -> list[str]:
    out = []
    for rid in res.rule_ids or (res.source.removeprefix("rule:"),):
        key = f"reason.{rid}"
        try:
            out.append(r.phrase(key))
        except KeyError:
            continue
    return out or [r.phrase("reason.model")]


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else ""


def anomaly_insight(
    incident: Sequence[AnomalyResult], txs: Mapping[str, Transaction], r: Renderer, now: datetime
) -> Insight | None:
    """Unusual transaction, duplicate payment or card policy breach, from one raised incident
    (a card-testing burst is one insight citing all its lines, with their total)."""
    raised = [x for x in incident if x.is_anomaly and x.transaction_id in txs]
    if not raised:
        return None
    res = max(raised, key=lambda x: (x.score, x.transaction_id))
    lines = sorted(
        (txs[x.transaction_id] for x in raised), key=lambda t: (t.booking_date, t.transaction_id)
    )
    t = txs[res.transaction_id]
    cur = t.currency
    amount = sum(abs(x.amount_minor) for x in lines)
    ev = [
        Figure("amount", amount, cur, t.booking_date.isoformat()),
        Figure("payee", None, "", _payee(t)),
        Figure("score", None, "", round(res.score, 4)),
        Figure("lines", None, "", len(lines)),
    ]
    ev += [Figure(f"reason {k + 1}", None, "", txt) for k, txt in enumerate(res.reasons)]
    ids = [x.transaction_id for x in lines]
    review = Action("review", r.phrase("action_review"), {"transaction_id": t.transaction_id})
    common = {
        "confidence": res.confidence or res.score,
        "source": res.source or "rule:anomaly",
        "now": now,
        "event_date": lines[0].booking_date,
        "score": res.score,
    }
    key = f"anomaly:{res.incident_id or res.transaction_id}"
    if res.kind == "duplicate_payment":
        earlier = dict(res.evidence).get("earlier payment", "")
        first = txs.get(earlier)
        if first is None:
            return None
        amount = abs(t.amount_minor)
        ev[0] = Figure("amount", amount, cur, t.booking_date.isoformat())
        ids = [first.transaction_id, t.transaction_id]
        ev.append(
            Figure("earlier payment", abs(first.amount_minor), cur, first.booking_date.isoformat())
        )
        v = {
            "payee": _payee(t),
            "amount": r.money(amount, cur),
            "day": r.day(first.booking_date),
            "day2": r.day(t.booking_date),
        }
        return make_insight(
            t.business_id,
            InsightKind.DUPLICATE_PAYMENT,
            Severity.WARNING,
            r,
            title=r.title("duplicate_payment", **v),
            message=r.message("duplicate_payment", **v),
            evidence=ev,
            transaction_ids=ids,
            valid_days=30,
            dedup_key=f"duplicate:{first.transaction_id}:{t.transaction_id}",
            actions=[review],
            **common,  # type: ignore[arg-type]
        )
    reasons = _reasons(r, res)
    if res.kind == "card_misuse":
        v = {
            "amount": r.money(amount, cur),
            "merchant": _payee(t),
            "day": r.day(t.booking_date),
            "reasons": " ".join(_sentence(x) for x in reasons),
        }
        return make_insight(
            t.business_id,
            InsightKind.CARD_POLICY,
            Severity.WARNING,
            r,
            title=r.title("card_policy_breach", **v),
            message=r.message("card_policy_breach", **v),
            evidence=ev,
            transaction_ids=ids,
            valid_days=14,
            dedup_key=key,
            actions=[review],
            **common,  # type: ignore[arg-type]
        )
    v = {
        "amount": r.money(amount, cur),
        "payee": _payee(t),
        "day": r.day(lines[0].booking_date),
        "reasons": r.join(reasons),
    }
    sev = Severity.WARNING if res.score >= 0.8 else Severity.NOTICE
    return make_insight(
        t.business_id,
        InsightKind.UNUSUAL_TRANSACTION,
        sev,
        r,
        title=r.title("unusual_transaction", **v),
        message=r.message("unusual_transaction", **v),
        evidence=ev,
        transaction_ids=ids,
        valid_days=14,
        dedup_key=key,
        actions=[review],
        **common,  # type: ignore[arg-type]
    )


def price_rise(
    business_id: str,
    s: RecurringSeries,
    r: Renderer,
    now: datetime,
    as_of: date,
    recent_days: int = 60,
) -> Insight | None:
    """The latest price step of an outgoing series, if it rose within ``recent_days``."""
    if s.direction != "outflow" or not s.price_changes:
        return None
    pc = s.price_changes[-1]
    rise = abs(pc.new_amount_minor) - abs(pc.old_amount_minor)
    if rise <= 0 or (as_of - pc.effective_date).days > recent_days:
        return None
    yearly = rise * _PER_YEAR.get(str(s.cadence), 12)
    cur = s.currency
    pct = r.number(rise / abs(pc.old_amount_minor) * 100)
    v = {
        "payee": s.counterparty or s.series_id,
        "old": r.money(abs(pc.old_amount_minor), cur),
        "new": r.money(abs(pc.new_amount_minor), cur),
        "day": r.day(pc.effective_date),
        "percent": pct,
        "yearly": r.money(yearly, cur),
    }
    return make_insight(
        business_id,
        InsightKind.PRICE_RISE,
        Severity.NOTICE,
        r,
        title=r.title("subscription_price_rise", **v),
        message=r.message("subscription_price_rise", **v),
        evidence=[
            Figure("old amount", abs(pc.old_amount_minor), cur),
            Figure("new amount", abs(pc.new_amount_minor), cur, pc.effective_date.isoformat()),
            Figure("yearly increase", yearly, cur, str(s.cadence)),
            Figure("change percent", None, "", round(rise / abs(pc.old_amount_minor) * 100, 2)),
        ],
        transaction_ids=[pc.transaction_id],
        confidence=s.confidence,
        source=s.source,
        now=now,
        valid_days=21,
        dedup_key=f"price_rise:{s.series_id}:{pc.effective_date.isoformat()}",
        event_date=pc.effective_date,
        score=min(1.0, yearly / 1e6),
    )


def late_payer(
    business_id: str,
    customer: str,
    delay: CustomerDelay,
    open_minor: int,
    currency: str,
    r: Renderer,
    now: datetime,
    *,
    min_days: float = 10.0,
    source: str = "rule:late_payer",
) -> Insight | None:
    """A customer who pays ``min_days`` or more after due, with what is still open."""
    if delay.mean_days < min_days or delay.observations < 2:
        return None  # "usually" needs a habit: at least two paid invoices
    days = round(delay.mean_days)
    open_text = r.raw("late_open", amount=r.money(open_minor, currency)) if open_minor > 0 else ""
    v = {"customer": customer, "days": r.number(days), "open_text": open_text}
    return make_insight(
        business_id,
        InsightKind.LATE_PAYER,
        Severity.NOTICE,
        r,
        title=r.title("late_paying_customer", **v),
        message=r.message("late_paying_customer", **v),
        evidence=[
            Figure("mean days late", None, "", days),
            Figure("invoices observed", None, "", delay.observations),
            Figure("open amount", open_minor, currency),
        ],
        actions=[
            Action("contact", r.phrase("action_contact", customer=customer), {"customer": customer})
        ],
        confidence=min(0.95, 0.5 + 0.1 * delay.observations),
        source=source,
        now=now,
        valid_days=30,
        dedup_key=f"late_payer:{customer}",
        event_date=now.date(),
        score=min(1.0, days / 60),
    )


def tax_due(business_id: str, due: TaxDue, r: Renderer, now: datetime) -> Insight | None:
    """An upcoming tax payment with its estimated amount (refunds are not warned about)."""
    if due.amount_minor <= 0:
        return None
    period = f"{r.day(due.period_start)} – {r.day(due.period_end)}"
    v = {
        "tax": due.name,
        "day": r.day(due.due_date),
        "period": period,
        "amount": r.money(due.amount_minor, due.currency),
    }
    soon = (due.due_date - now.date()).days <= 14
    ev = [
        Figure("estimated amount", due.amount_minor, due.currency, due.due_date.isoformat()),
        Figure("due date", None, "", due.due_date.isoformat()),
        Figure("period", None, "", f"{due.period_start.isoformat()}/{due.period_end.isoformat()}"),
    ]
    for k, v2 in due.evidence.items():
        if k.endswith("_minor") and isinstance(v2, int):
            ev.append(Figure(k, v2, due.currency))
        else:
            ev.append(Figure(k, None, "", v2))
    return make_insight(
        business_id,
        InsightKind.TAX_DUE,
        Severity.WARNING if soon else Severity.NOTICE,
        r,
        title=r.title("tax_due", **v),
        message=r.message("tax_due", **v),
        evidence=ev,
        confidence=due.confidence,
        source=due.source,
        now=now,
        valid_days=1,
        dedup_key=f"tax:{due.obligation}:{due.period_end.isoformat()}",
        event_date=due.due_date,
        score=0.5,
    )


def fx_tip(business_id: str, tip: FxTipInput, r: Renderer, now: datetime) -> Insight | None:
    if tip.saving_minor <= 0:
        return None
    v = {
        "saving": r.money(tip.saving_minor, tip.base_currency),
        "volume": r.money(tip.volume_minor, tip.base_currency),
        "currency": tip.currency,
        "margin": r.number(tip.margin_pct, 1),
        "months": r.count_words(tip.months),
        "tip": r.phrase(tip.advice, currency=tip.currency),
    }
    return make_insight(
        business_id,
        InsightKind.FX_TIP,
        Severity.INFO,
        r,
        title=r.title("fx_tip", **v),
        message=r.message("fx_tip", **v),
        evidence=[
            Figure("yearly saving", tip.saving_minor, tip.base_currency),
            Figure("converted volume", tip.volume_minor, tip.base_currency, tip.months),
            Figure("margin percent", None, "", tip.margin_pct),
        ],
        transaction_ids=tip.transaction_ids,
        confidence=tip.confidence,
        source=tip.source,
        now=now,
        valid_days=30,
        dedup_key=f"fx_tip:{tip.currency}",
        event_date=now.date(),
        score=0.2,
    )


def product_offer(business_id: str, offer: OfferInput, r: Renderer, now: datetime) -> Insight:
    v = {"product": offer.product, "reason": offer.reason, "terms": offer.terms}
    ev = [Figure(k, None, "", val) for k, val in offer.evidence.items()]
    if offer.amount_minor is not None:
        ev.insert(0, Figure("amount", offer.amount_minor, offer.currency))
    return make_insight(
        business_id,
        InsightKind.PRODUCT_OFFER,
        Severity.INFO,
        r,
        title=r.title("product_offer", **v),
        message=r.message("product_offer", **v),
        evidence=ev or [Figure("offer", None, "", offer.offer_id)],
        confidence=offer.confidence,
        source=offer.source,
        now=now,
        valid_days=offer.valid_days,
        dedup_key=f"offer:{offer.offer_id}",
        event_date=now.date(),
        score=0.1,
        actions=[Action("view", r.phrase("action_view"), {"offer_id": offer.offer_id})],
    )
