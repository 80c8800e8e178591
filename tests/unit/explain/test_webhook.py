"""Push webhook: HMAC-signed body, retries on 5xx/429/transport errors, final on other 4xx."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from ledgerlens.adapters.notifiers import DeliveryFailed, WebhookNotifier, verify_signature
from ledgerlens.explain.notify import OutgoingMessage

SECRET = b"s3cret"
MSG = OutgoingMessage("b1", "ins_1", "", "Title", "Text", payload={"kind": "tax_due"})


def _notifier(statuses: list[int | Exception], seen: list[httpx.Request]) -> WebhookNotifier:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = statuses.pop(0)
        if isinstance(status, Exception):
            raise status
        return httpx.Response(status)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return WebhookNotifier(
        "https://push.example.test/hook", SECRET, retries=3, backoff_s=0.0, client=client
    )


def test_signed_body_verifies_and_tampering_does_not() -> None:
    seen: list[httpx.Request] = []
    assert _notifier([200], seen).send(MSG) == 1
    req = seen[0]
    ts, sig = req.headers["X-LedgerLens-Timestamp"], req.headers["X-LedgerLens-Signature"]
    assert verify_signature(SECRET, ts, req.content, sig)
    assert not verify_signature(SECRET, ts, req.content + b" ", sig)
    assert not verify_signature(b"other", ts, req.content, sig)
    assert not verify_signature(SECRET, ts, req.content, sig, now=time.time() + 3600)  # replay
    assert json.loads(req.content)["insight_id"] == "ins_1"
    assert req.headers["Idempotency-Key"] == "ins_1"


def test_retries_transient_failures_then_succeeds() -> None:
    seen: list[httpx.Request] = []
    n = _notifier([503, httpx.ConnectError("down"), 429, 200], seen)
    assert n.send(MSG) == 4 and len(seen) == 4


def test_client_error_is_final_and_exhausted_retries_fail() -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(DeliveryFailed) as exc:
        _notifier([400], seen).send(MSG)
    assert exc.value.attempts == 1
    with pytest.raises(DeliveryFailed) as exc2:
        _notifier([500, 500, 500, 500], []).send(MSG)
    assert exc2.value.attempts == 4
