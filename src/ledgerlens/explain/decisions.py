"""Decide's results as insight inputs: ``decide.fx_tips.FxTip`` → ``FxTipInput``.

Kept apart from the builders so the builders stay generic (any stage can hand them an
``FxTipInput`` or ``OfferInput``); this module is the one place that knows decide's shapes.
One tip per currency — the largest saving — because ranking keeps one insight per currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ledgerlens.explain.events import FxTipInput

if TYPE_CHECKING:
    from ledgerlens.decide.fx_tips import FxTip

__all__ = ["fx_tip_inputs"]

_ADVICE = {
    "currency_account": "fx_account",
    "batched_conversions": "fx_timing",
    "natural_hedging": "fx_hedge",
}


def fx_tip_inputs(tips: Sequence[FxTip]) -> list[FxTipInput]:
    out: dict[str, FxTipInput] = {}
    for t in sorted(tips, key=lambda x: -x.yearly_saving_minor):
        if t.currency in out:
            continue
        ev = t.evidence
        yearly = int(ev.get("receipts_yearly_minor", 0)) + int(ev.get("payments_yearly_minor", 0))
        days = int(ev.get("period_days", 365)) or 365
        cost = int(ev.get("conversion_cost_yearly_minor", 0))
        if yearly <= 0:
            continue
        out[t.currency] = FxTipInput(
            currency=t.currency,
            base_currency=t.account_currency,
            volume_minor=yearly * days // 365,
            margin_pct=round(100 * cost / yearly, 2),
            saving_minor=t.yearly_saving_minor,
            months=max(1, round(days / 30.44)),
            advice=_ADVICE.get(t.kind, "fx_account"),
            source=t.source,
            confidence=t.confidence,
        )
    return list(out.values())
