"""E-mail over SMTP (plain text + HTML alternative), with a few retries on transient errors.

Retries cover connection failures and 4xx replies (the server asks to try again later); a 5xx
refusal (unknown mailbox) is final. Errors carry no address or text into logs.
"""

from __future__ import annotations

import smtplib
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ledgerlens.adapters.notifiers.webhook import DeliveryFailed
from ledgerlens.explain.notify import OutgoingMessage

__all__ = ["SmtpNotifier"]


class SmtpNotifier:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        starttls: bool = False,
        username: str = "",
        password: str = "",
        timeout_s: float = 10.0,
        retries: int = 2,
        backoff_s: float = 0.2,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password = starttls, username, password
        self.timeout_s, self.retries, self.backoff_s = timeout_s, retries, backoff_s

    def _build(self, msg: OutgoingMessage) -> EmailMessage:
        m = EmailMessage()
        m["From"] = self.sender
        m["To"] = msg.to
        m["Subject"] = msg.subject
        m["Date"] = formatdate(localtime=False)
        m["Message-ID"] = make_msgid(domain="ledgerlens.local")
        m["X-LedgerLens-Kind"] = msg.kind
        if msg.kind == "insight":
            m["X-LedgerLens-Insight"] = msg.insight_id
        else:
            m["X-LedgerLens-Digest"] = msg.insight_id
        m.set_content(msg.text)
        if msg.html:
            m.add_alternative(msg.html, subtype="html")
        return m

    def send(self, message: OutgoingMessage) -> int:
        if not message.to:
            raise DeliveryFailed("no recipient", 0)
        email = self._build(message)
        for attempt in range(1, self.retries + 2):
            try:
                with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                    if self.starttls:
                        smtp.starttls()
                    if self.username:
                        smtp.login(self.username, self.password)
                    smtp.send_message(email)
                return attempt
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code >= 500 or attempt > self.retries:
                    raise DeliveryFailed(f"smtp {exc.smtp_code}", attempt) from exc
            except (OSError, smtplib.SMTPException) as exc:
                if attempt > self.retries:
                    raise DeliveryFailed(type(exc).__name__, attempt) from exc
            time.sleep(self.backoff_s * attempt)
        raise DeliveryFailed("unreachable", self.retries + 1)  # pragma: no cover
