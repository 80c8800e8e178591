"""Tailored lending offers priced on the business's real performance, within the rule caps.

Five products: overdraft, credit line, invoice financing, seasonal line, term loan. For each:
eligibility (``product_eligibility``), the largest amount the risk cap (``risk_caps``: a share
of monthly operating inflow, or of invoice receipts) and the regulator (``regulatory_caps``:
an absolute ceiling and a debt-service share) allow, the business's own need (the forecast's
gap, its seasonal dip, its invoices), a price (``pricing``). A declined product is a decision
too, with its reason code: every offer decision goes to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledgerlens.core.money import currency_exponent, format_minor
from ledgerlens.decide.model import BusinessSignals, Decision, DecisionKind, RiskAssessment
from ledgerlens.decide.rules import DecisionRules, RuleHit

__all__ = ["MIN_OFFER_MAJOR", "PRODUCTS", "decide_offer", "decide_offers", "monthly_payment"]

PRODUCTS: tuple[str, ...] = (
    "overdraft",
    "credit_line",
    "invoice_financing",
    "seasonal_line",
    "term_loan",
)
MIN_OFFER_MAJOR = 1000  # smaller facilities cost more to run than they help
_AMORTIZING = {"term_loan"}  # the others are revolving: interest only while drawn
SOURCE = "rule:offers@2026.12.1"


def _money(amount_minor: int, currency: str) -> str:
    return f"{format_minor(amount_minor, currency)} {currency}"


def monthly_payment(amount_minor: int, rate_bps: int, term_months: int, amortizing: bool) -> int:
    """Monthly service of a facility fully drawn: annuity for loans, interest for lines."""
    r = rate_bps / 10_000 / 12
    if not amortizing:
        return round(amount_minor * r)
    if r == 0:
        return -(-amount_minor // max(term_months, 1))
    return round(amount_minor * r / (1 - (1 + r) ** -term_months))


def _round_down(v: float, currency: str, step_major: int = 500) -> int:
    step = step_major * 10 ** currency_exponent(currency)
    return int(max(v, 0) // step * step)


def _need(product: str, s: BusinessSignals) -> tuple[int | None, str, str]:
    """(need in minor units or None = up to the cap, reason code, reason text)."""
    cur = s.base_currency
    if product == "overdraft":
        if s.forecast_gap_minor > 0:
            return (
                s.forecast_gap_minor * 6 // 5,
                "NEED_FORECAST_GAP",
                f"the forecast sees your balance fall to -{_money(s.forecast_gap_minor, cur)} "
                "within 13 weeks; the overdraft covers it with a 20 % margin",
            )
        return (
            s.monthly_outflow_minor // 4,
            "NEED_BUFFER",
            f"a buffer of a week of outflows ({_money(s.monthly_outflow_minor // 4, cur)})",
        )
    if product == "credit_line":
        basis = s.card_takings_minor or s.monthly_inflow_minor
        what = "card takings" if s.card_takings_minor else "operating inflows"
        return (None, "NEED_WORKING_CAPITAL", f"your {what} average {_money(basis, cur)} a month")
    if product == "invoice_financing":
        return (
            None,
            "NEED_RECEIVABLES",
            f"customer invoices paid to you average {_money(s.invoice_inflow_minor, cur)} a month",
        )
    if product == "seasonal_line":
        dip = int(s.monthly_inflow_minor * (1 - s.seasonality_ratio)) * max(len(s.low_months), 1)
        months = ", ".join(str(m) for m in s.low_months)
        return (
            dip,
            "NEED_SEASONAL_DIP",
            f"in low months ({months}) inflows fall to {s.seasonality_ratio:.0%} of the "
            f"average {_money(s.monthly_inflow_minor, cur)}",
        )
    return (
        None,
        "NEED_INVESTMENT",
        f"net operating capacity of {_money(max(s.net_capacity_minor, 0), cur)} a month",
    )


def _precondition(product: str, s: BusinessSignals) -> str | None:
    """A reason code when the business's own figures rule the product out."""
    if s.monthly_inflow_minor <= 0:
        return "OFFER_NO_INFLOW"
    if product == "invoice_financing" and s.invoice_inflow_minor <= 0:
        return "OFFER_NO_INVOICES"
    if product == "seasonal_line" and not s.low_months:
        return "OFFER_NOT_SEASONAL"
    if product == "term_loan" and s.net_capacity_minor <= 0:
        return "OFFER_NO_NET_CAPACITY"
    return None


def decide_offer(
    product: str, s: BusinessSignals, risk: RiskAssessment, rules: DecisionRules
) -> Decision:
    """Offer or decline one product; the decision carries amount, term, price and why."""
    cur = s.base_currency
    hits: list[RuleHit] = [
        rules.evaluate(
            "product_eligibility",
            {"product": product, "risk_band": risk.risk_band, "history_months": s.history_months},
        )
    ]
    codes: list[str] = [str(hits[0].outputs["reason_code"]), f"RISK_BAND_{risk.risk_band}"]
    reasons: list[str] = []
    out: dict[str, Any] = {"offered": False, "product": product, "currency": cur}
    blocked = None if hits[0].outputs["eligible"] else "OFFER_NOT_ELIGIBLE"
    blocked = blocked or _precondition(product, s)
    if blocked is None:
        cap = rules.evaluate("risk_caps", {"product": product, "risk_band": risk.risk_band})
        reg = rules.evaluate("regulatory_caps", {"currency": cur})
        price = rules.evaluate("pricing", {"product": product, "risk_band": risk.risk_band})
        hits += [cap, reg, price]
        codes += [str(h.outputs["reason_code"]) for h in (cap, reg, price)]
        basis = s.invoice_inflow_minor if product == "invoice_financing" else s.monthly_inflow_minor
        term = int(cap.outputs["max_term_months"])
        rate, fee = int(price.outputs["rate_bps"]), int(price.outputs["fee_bps"])
        amort = product in _AMORTIZING
        limits = {
            "risk_cap": basis * int(cap.outputs["max_pct_of_basis"]) // 100,
            "regulatory_cap": int(reg.outputs["max_exposure_major"]) * 10 ** currency_exponent(cur),
        }
        room = s.monthly_inflow_minor * int(reg.outputs["max_debt_service_pct"]) // 100
        room -= s.debt_service_minor
        per_unit = monthly_payment(10**6, rate, term, amort) / 10**6
        limits["debt_service_room"] = int(room / per_unit) if per_unit > 0 and room > 0 else 0
        need, need_code, need_text = _need(product, s)
        if need is not None:
            limits["need"] = need
        binding = min(limits, key=lambda k: limits[k])
        amount = _round_down(limits[binding], cur)
        codes += [need_code, f"BOUND_BY_{binding.upper()}"]
        reasons.append(need_text)
        if amount < MIN_OFFER_MAJOR * 10 ** currency_exponent(cur):
            blocked = "OFFER_TOO_SMALL"
            reasons.append(
                f"at most {_money(amount, cur)} is possible ({binding.replace('_', ' ')})"
            )
        else:
            pay = monthly_payment(amount, rate, term, amort)
            out.update(
                offered=True,
                amount_minor=amount,
                term_months=term,
                rate_bps=rate,
                fee_bps=fee,
                monthly_payment_minor=pay,
                basis_minor=basis,
                bound_by=binding,
                limits_minor=limits,
            )
            reasons.insert(
                0,
                f"{product.replace('_', ' ')} of {_money(amount, cur)} over {term} "
                f"months at {rate / 100:.2f} % a year ({_money(pay, cur)} a month "
                f"{'repayment' if amort else 'interest when fully drawn'})",
            )
            codes.append("OFFER_MADE")
    if blocked is not None:
        codes.append(blocked)
        reasons.insert(0, f"no {product.replace('_', ' ')} offer: {blocked}")
    out["rule_ids"] = [h.rule_id for h in hits]
    return Decision(
        business_id=s.business_id,
        kind=DecisionKind.OFFER,
        subject=product,
        outputs=out,
        inputs={
            **s.facts(),
            "risk_band": risk.risk_band,
            "probability_of_distress": risk.probability_of_distress,
            "risk_reasons": list(risk.reasons),
        },
        reason_codes=tuple(dict.fromkeys(codes)),
        versions=tuple(
            dict.fromkeys(
                [h.version_ref for h in hits]
                + [v for v in (risk.model_version, s.forecast_version) if v]
            )
        ),
        reasons=tuple(reasons),
        confidence=round(1.0 - risk.probability_of_distress / 2, 4),
        source=SOURCE,
    )


def decide_offers(
    s: BusinessSignals,
    risk: RiskAssessment,
    rules: DecisionRules,
    products: Sequence[str] = PRODUCTS,
) -> list[Decision]:
    return [decide_offer(p, s, risk, rules) for p in products]
