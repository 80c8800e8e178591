"""Explain: insights people trust — plain language, evidence, charts, actions; ranking,
digests, tax calendars and the notification policy. Pure: no I/O (storage and senders are
adapters). See ``service.analyze_business`` for the flow and docs/insights.md."""

from ledgerlens.explain.digests import Digest, build_digest, to_html, to_json, to_text
from ledgerlens.explain.events import FxTipInput, OfferInput
from ledgerlens.explain.model import (
    Action,
    Figure,
    Insight,
    InsightKind,
    InsightStatus,
    Severity,
    insight_id,
    make_insight,
)
from ledgerlens.explain.notify import Delivery, Notifier, OutgoingMessage, deliver
from ledgerlens.explain.ranking import Ranked, RankPolicy, rank
from ledgerlens.explain.render import LANGUAGES, Renderer, renderer
from ledgerlens.explain.service import BusinessSnapshot, InsightRun, analyze_business
from ledgerlens.explain.tax_calendar import TaxDue, due_dates, estimate_due

__all__ = [
    "LANGUAGES",
    "Action",
    "BusinessSnapshot",
    "Delivery",
    "Digest",
    "Figure",
    "FxTipInput",
    "Insight",
    "InsightKind",
    "InsightRun",
    "InsightStatus",
    "Notifier",
    "OfferInput",
    "OutgoingMessage",
    "RankPolicy",
    "Ranked",
    "Renderer",
    "Severity",
    "TaxDue",
    "analyze_business",
    "build_digest",
    "deliver",
    "due_dates",
    "estimate_due",
    "insight_id",
    "make_insight",
    "rank",
    "renderer",
    "to_html",
    "to_json",
    "to_text",
]
