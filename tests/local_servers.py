"""Real local servers for tests: SMTP (aiosmtpd), an HTTP webhook receiver that checks the
HMAC signature the way the bank's push service would, and an identity provider's JWKS
endpoint (``PyJWKClient`` fetches over HTTP). All bind 127.0.0.1 on a free port; nothing
reaches the network."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ledgerlens.adapters.notifiers import verify_signature

__all__ = ["SmtpInbox", "WebhookReceiver", "free_port", "serve_jwks"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpInbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"

    def start(self) -> tuple[Any, int]:
        from aiosmtpd.controller import Controller

        port = free_port()
        controller = Controller(self, hostname="127.0.0.1", port=port)
        controller.start()
        return controller, port


class WebhookReceiver:
    """``POST /hook``: answers ``statuses`` in turn (then 200); records each call with whether
    its signature verified. A call with a bad signature is answered 401."""

    def __init__(self, secret: bytes, statuses: list[int] | None = None) -> None:
        self.secret = secret
        self.statuses = list(statuses or [])
        self.calls: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = verify_signature(
                    receiver.secret,
                    self.headers.get("X-LedgerLens-Timestamp", ""),
                    body,
                    self.headers.get("X-LedgerLens-Signature", ""),
                )
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.calls.append(
                    {
                        "verified": ok,
                        "status": status if ok else 401,
                        "body": json.loads(body),
                        "idempotency_key": self.headers.get("Idempotency-Key"),
                    }
                )
                self.send_response(status if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def delivered(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["verified"] and c["status"] < 300]


@contextmanager
def serve_jwks(keys: list[dict[str, Any]]) -> Iterator[str]:
    """A JWKS document with ``keys`` (public JWKs) served until the block ends; its URL."""
    body = json.dumps({"keys": keys}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()
