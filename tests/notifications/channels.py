"""Test channels, named by dotted path in ``JIFEN_NOTIFY_CHANNEL``."""

from __future__ import annotations


class FailingChannel:
    def send(self, message, address):
        raise ConnectionError("gateway down")


class RecordingChannel:
    sent: list[tuple[int, str]] = []

    def send(self, message, address):
        RecordingChannel.sent.append((message.pk, address))
        return "gw-1"
