"""Notification senders: e-mail over SMTP and push through an HMAC-signed webhook.

The in-app feed needs no sender: it is the ``insights`` table. Both senders implement
``explain.notify.Notifier`` (``send(message) -> attempts``) and are built by the composition root.
"""

from ledgerlens.adapters.notifiers.smtp import SmtpNotifier
from ledgerlens.adapters.notifiers.webhook import DeliveryFailed, WebhookNotifier, verify_signature

__all__ = ["DeliveryFailed", "SmtpNotifier", "WebhookNotifier", "verify_signature"]
