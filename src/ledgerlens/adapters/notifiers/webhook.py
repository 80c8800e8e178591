"""Push through a webhook: JSON body signed with HMAC-SHA256, retried with backoff.

The receiver (the bank's push service) checks ``X-LedgerLens-Signature`` =
``sha256=<hex HMAC(secret, "<timestamp>.<body>")>`` and that ``X-LedgerLens-Timestamp`` is
recent (``verify_signature``), so a replayed or forged call is refused. 5xx, 429 and transport
errors are retried (``retries`` times, exponential backoff); other 4xx are final.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from ledgerlens.explain.notify import OutgoingMessage

__all__ = ["DeliveryFailed", "WebhookNotifier", "sign", "verify_signature"]


class DeliveryFailed(Exception):
    """A notification could not be delivered; ``attempts`` says how hard we tried."""

    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(reason)
        self.attempts = attempts


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify_signature(
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance_s: int = 300,
    now: float | None = None,
) -> bool:
    """True when the signature matches and the timestamp is within ``tolerance_s``."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookNotifier:
    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        retries: int = 3,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
        client: Any = None,
    ) -> None:
        if not secret:
            raise ValueError("a webhook needs a signing secret")
        self.url, self.secret = url, secret
        self.retries, self.backoff_s, self.timeout_s = retries, backoff_s, timeout_s
        self._client = client

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.Client(timeout=self.timeout_s)
        return self._client

    def send(self, message: OutgoingMessage) -> int:
        import httpx

        content: dict[str, object] = {
            "business_id": message.business_id,
            "kind": message.kind,
            "title": message.subject,
            "text": message.text,
        }
        if message.kind == "insight":
            content |= {"insight_id": message.insight_id, "insight": message.payload}
        else:  # a digest: its id and its JSON form
            content |= {"digest_id": message.insight_id, "digest": message.payload}
        body = json.dumps(content, sort_keys=True, default=str).encode()
        url = message.to or self.url
        for attempt in range(1, self.retries + 2):
            ts = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-LedgerLens-Timestamp": ts,
                "X-LedgerLens-Signature": sign(self.secret, ts, body),
                "Idempotency-Key": message.insight_id,
            }
            try:
                resp = self._http().post(url, content=body, headers=headers)
            except httpx.TransportError as exc:
                if attempt > self.retries:
                    raise DeliveryFailed(type(exc).__name__, attempt) from exc
            else:
                if resp.status_code < 300:
                    return attempt
                final = resp.status_code < 500 and resp.status_code != 429
                if final or attempt > self.retries:
                    raise DeliveryFailed(f"http {resp.status_code}", attempt)
            time.sleep(self.backoff_s * 2 ** (attempt - 1))
        raise DeliveryFailed("unreachable", self.retries + 1)  # pragma: no cover
