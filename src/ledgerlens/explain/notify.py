"""Notification policy: which published insights go out on which channel, now or later.

The in-app feed is the insights table itself (every published insight is in it while the
insights consent holds). Email and push are *interrupting* channels: each insight goes out on
each channel the owner chose, only if ``consent.allowed`` says so at that moment (consent, mute,
channel choice, quiet hours); otherwise it is logged as ``held`` with the reason. What quiet
hours hold is not lost: the pipeline queues it in the outbox (``explain.outbox``) and the
dispatcher (``pipeline_dispatch``) sends it when the window ends, after deciding again with the
owner's choices of that moment. Senders are injected (``Notifier``): SMTP and an
HMAC-signed webhook live in ``adapters/notifiers``. A sender's failure is logged as ``failed``
with the error's class name only — no address, no message text (personal data stays out of logs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ledgerlens.consent.model import Channel, ConsentState, Preferences
from ledgerlens.consent.policy import allowed
from ledgerlens.explain.model import Insight

__all__ = ["Delivery", "Notifier", "OutgoingMessage", "deliver", "message_for"]


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message for one channel. ``insight_id`` is the reference receivers deduplicate on:
    the insight's id, or the digest's id when ``kind`` is ``digest_daily``/``digest_weekly``."""

    business_id: str
    insight_id: str
    to: str  # e-mail address or webhook target ("" = the notifier's configured default)
    subject: str
    text: str
    html: str = ""
    payload: dict[str, object] = field(default_factory=dict)
    kind: str = "insight"  # insight | digest_daily | digest_weekly


class Notifier(Protocol):
    def send(self, message: OutgoingMessage) -> int:
        """Deliver; return the number of attempts it took. Raise when it finally fails."""
        ...


@dataclass(frozen=True, slots=True)
class Delivery:
    insight_id: str
    channel: str
    status: str  # sent | held | failed
    reason: str
    attempts: int = 0


def message_for(insight: Insight, prefs: Preferences, channel: Channel) -> OutgoingMessage:
    from html import escape

    to = prefs.email if channel is Channel.EMAIL else prefs.push_url
    html = f"<h2>{escape(insight.title)}</h2><p>{escape(insight.message)}</p>"
    return OutgoingMessage(
        insight.business_id,
        insight.insight_id,
        to,
        insight.title,
        insight.message,
        html,
        insight.to_dict(),
    )


def deliver(
    items: Sequence[Insight],
    prefs: Preferences,
    consent: ConsentState,
    now: datetime,
    notifiers: Mapping[Channel | str, Notifier],
    log: Callable[[Delivery], None] | None = None,
) -> list[Delivery]:
    """Send each insight on each interrupting channel the owner chose, as the policy allows."""
    out: list[Delivery] = []
    for ins in items:
        for channel in sorted(prefs.channels - {Channel.IN_APP}):
            verdict = allowed(prefs, consent, str(ins.kind), channel, now)
            sender = notifiers.get(channel) or notifiers.get(str(channel))
            if not verdict.ok:
                d = Delivery(ins.insight_id, str(channel), "held", verdict.reason)
            elif sender is None:
                d = Delivery(ins.insight_id, str(channel), "held", "no_notifier")
            else:
                try:
                    attempts = sender.send(message_for(ins, prefs, channel))
                    d = Delivery(ins.insight_id, str(channel), "sent", "ok", attempts)
                except Exception as exc:  # noqa: BLE001 - one channel down must not stop the others
                    d = Delivery(
                        ins.insight_id,
                        str(channel),
                        "failed",
                        type(exc).__name__,
                        getattr(exc, "attempts", 1),
                    )
            out.append(d)
            if log is not None:
                log(d)
    return out
