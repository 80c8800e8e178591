"""E-mail is delivered to a real SMTP server (aiosmtpd on 127.0.0.1, a random free port)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import pytest

from ledgerlens.adapters.notifiers import DeliveryFailed, SmtpNotifier
from ledgerlens.consent import Channel, ConsentState, Preferences, Purpose
from ledgerlens.explain.model import Figure, InsightKind, Severity, make_insight
from ledgerlens.explain.notify import OutgoingMessage, deliver
from ledgerlens.explain.render import renderer

aiosmtpd = pytest.importorskip("aiosmtpd.controller")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message_from_bytes(envelope.content, policy=policy.default),
            )
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_insight_email_reaches_a_real_smtp_server(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    ins = make_insight(
        "b1",
        InsightKind.TAX_DUE,
        Severity.WARNING,
        renderer("de"),
        title="Umsatzsteuer fällig am 10. Dezember",
        message="Wir schätzen etwa 2.850,00 €.",
        evidence=[Figure("estimated amount", 285_000, "EUR")],
        confidence=0.7,
        source="rule:tax_calendar@2026.12",
        now=now,
        valid_days=1,
        dedup_key="tax:1",
        event_date=date(2026, 12, 10),
    )
    prefs = Preferences(
        "b1",
        channels=frozenset({Channel.IN_APP, Channel.EMAIL}),
        email="inhaber@example.test",
        language="de",
    )
    notifier = SmtpNotifier("127.0.0.1", port, "insights@ledgerlens.test")
    out = deliver(
        [ins],
        prefs,
        ConsentState("b1", frozenset({Purpose.INSIGHTS})),
        now,
        {Channel.EMAIL: notifier},
    )
    assert [(d.status, d.attempts) for d in out] == [("sent", 1)]
    ((sender, rcpts, msg),) = inbox.messages
    assert sender == "insights@ledgerlens.test" and rcpts == ["inhaber@example.test"]
    assert msg["Subject"] == "Umsatzsteuer fällig am 10. Dezember"
    assert msg["X-LedgerLens-Insight"] == ins.insight_id
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in msg.walk()
        if not p.is_multipart()
    }
    assert "2.850,00 €" in parts["text/plain"] and "<h2>" in parts["text/html"]


def test_unreachable_server_fails_after_retries() -> None:
    notifier = SmtpNotifier(
        "127.0.0.1", _free_port(), "x@test", retries=1, backoff_s=0.01, timeout_s=1
    )
    with pytest.raises(DeliveryFailed) as exc:
        notifier.send(OutgoingMessage("b1", "i1", "a@test", "s", "t"))
    assert exc.value.attempts == 2
