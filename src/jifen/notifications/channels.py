"""Delivery channels for outbox messages (SMS / e-mail) behind one interface.

A channel is a class with ``send(message, address) -> str`` (a receipt, e.g. a gateway's
message id) that raises on failure. ``JIFEN_NOTIFY_CHANNEL`` names it: ``"outbox"`` (the
default) is :class:`OutboxLogChannel`, which writes a line to the log — the message stays in
the outbox table, marked sent; a real SMS / e-mail gateway is a dotted class path.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from jifen.identity import mask_phone

if TYPE_CHECKING:
    from jifen.notifications.models import OutboxMessage

logger = logging.getLogger("jifen.notifications.outbox")

DEFAULT_CHANNEL = "outbox"


class DeliveryChannel(Protocol):
    def send(self, message: OutboxMessage, address: str) -> str:
        """Deliver ``message`` to ``address``; return a receipt; raise on failure."""


def masked(channel: str, address: str) -> str:
    """An address fit for a log line."""
    if channel == "sms":
        return mask_phone(address)
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


class OutboxLogChannel:
    """The embedded default: log the message (masked address), keep it in the outbox table."""

    def send(self, message: OutboxMessage, address: str) -> str:
        logger.info(
            "outbox %s #%s to %s: %s",
            message.channel,
            message.pk,
            masked(message.channel, address),
            message.subject,
        )
        return f"outbox:{message.pk}"


def get_channel() -> DeliveryChannel:
    """The configured channel (``JIFEN_NOTIFY_CHANNEL``: "outbox" or a dotted class path)."""
    path = getattr(settings, "JIFEN_NOTIFY_CHANNEL", DEFAULT_CHANNEL) or DEFAULT_CHANNEL
    if path == DEFAULT_CHANNEL:
        return OutboxLogChannel()
    return import_string(path)()
