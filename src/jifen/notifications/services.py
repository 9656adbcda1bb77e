"""Notifying people: an inbox row, an outbox message, and its delivery as a job.

:func:`notify` runs inside the caller's transaction: the inbox row, the outbox message and the
``notifications.deliver`` job commit (or roll back) with the business change, and the message
is delivered only after the commit, by a worker. A failing channel never reaches the business
transaction: the message stays pending (retried with the job's backoff) and ends failed after
the job's last attempt.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from jifen.jobs.queue import enqueue
from jifen.notifications.channels import get_channel
from jifen.notifications.models import Channel, Notification, OutboxMessage, OutboxStatus

DELIVER_JOB = "notifications.deliver"
DELIVERY_ATTEMPTS = 5

# Messages are kept for years and pass through gateways: no identity or phone numbers in them.
_IDENTITY_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_MOBILE_NUMBER = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
#: Object ids in links: a UUID's hex groups can hold a run of digits shaped like a phone number
#: (``…-a13812345678``); they are ours, not personal data, so they are left out of the check.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class DeliveryFailed(Exception):
    """The channel refused a message; the job is retried (the message stays pending)."""

    code = "notifications.delivery_failed"


def _check_text(*texts: str) -> None:
    for text in texts:
        if _IDENTITY_NUMBER.search(text) or _MOBILE_NUMBER.search(text):
            raise ValueError("a notification must not contain an identity or phone number")


def notify(
    *,
    user: Any = None,
    resident: Any = None,
    kind: str,
    subject: str,
    body: str,
    link: str = "",
    now: dt.datetime,
    sms: bool = True,
) -> Notification:
    """Tell ``user`` (or ``resident``, through their account if they have one).

    Writes the inbox row and, with ``sms``, an outbox message (SMS for a resident, e-mail for
    staff) whose delivery job starts after the caller's transaction commits.
    """
    if user is None and resident is None:
        raise ValueError("notify() needs a user or a resident")
    _check_text(subject, body, _UUID.sub("", link))
    if user is None:
        user = getattr(resident, "account", None) if _has_account(resident) else None
    if resident is None and user is not None and user.resident_id:
        resident = user.resident
    notification = Notification.objects.create(
        user=user,
        resident=resident,
        kind=kind,
        subject=subject[:200],
        body=body,
        link=link[:500],
        created_at=now,
    )
    if sms:
        message = OutboxMessage.objects.create(
            notification=notification,
            channel=Channel.SMS if resident is not None else Channel.EMAIL,
            user=user,
            resident=resident,
            kind=kind,
            subject=subject[:200],
            body=body,
            created_at=now,
        )
        enqueue(DELIVER_JOB, {"message": message.pk}, now=now, max_attempts=DELIVERY_ATTEMPTS)
    return notification


def _has_account(resident: Any) -> bool:
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return resident.account is not None
    except ObjectDoesNotExist:
        return False


def address_of(message: OutboxMessage) -> str:
    """The recipient's address, read at delivery time (decrypted phone, or e-mail)."""
    if message.channel == Channel.SMS:
        resident = message.resident or (message.user.resident if message.user else None)
        return resident.phone if resident is not None else ""
    return message.user.email if message.user is not None else ""


def deliver(message_id: int, *, now: dt.datetime, last_attempt: bool = False) -> str:
    """Send one outbox message through the configured channel; returns its status.

    A message already sent (or failed for good) is left alone, so a repeated job is harmless.
    A channel error is recorded (attempts, last error); the message stays pending — or failed
    on ``last_attempt`` — and ``DeliveryFailed`` is raised so the job records the failure and
    is retried.
    """
    error = ""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(of=("self",))
            .select_related("user", "resident")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.status != OutboxStatus.PENDING:
            return message.status if message is not None else "missing"
        message.attempts += 1
        address = address_of(message)
        if not address:
            message.status = OutboxStatus.FAILED
            message.last_error = f"no {message.get_channel_display()} address for the recipient"
        else:
            try:
                receipt = get_channel().send(message, address)
            except Exception as exc:  # any gateway failure: keep the message for a retry
                error = f"{type(exc).__name__}: {exc}"[:2000]
                message.last_error = error
                if last_attempt:
                    message.status = OutboxStatus.FAILED
            else:
                message.status = OutboxStatus.SENT
                message.sent_at = now
                message.receipt = str(receipt or "")[:200]
                message.last_error = ""
        message.save(update_fields=["attempts", "status", "last_error", "sent_at", "receipt"])
    if error:  # the job records the failure (and retries unless this was its last attempt)
        raise DeliveryFailed(error)
    return message.status


# --- the inbox ------------------------------------------------------------------------------


def inbox_for(user: Any) -> QuerySet[Notification]:
    """The notifications addressed to ``user`` (or to the resident behind their account)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Notification.objects.none()
    condition = Q(user=user)
    if getattr(user, "resident_id", None):
        condition |= Q(user__isnull=True, resident_id=user.resident_id)
    return Notification.objects.filter(condition)


def unread_count(user: Any) -> int:
    return inbox_for(user).filter(read_at__isnull=True).count()


def mark_read(notification: Notification, *, now: dt.datetime) -> bool:
    """Mark one notification read (the first reading counts); True if it changed."""
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=now
    )
    if changed:
        notification.read_at = now
    return bool(changed)


def mark_all_read(user: Any, *, now: dt.datetime) -> int:
    return inbox_for(user).filter(read_at__isnull=True).update(read_at=now)
