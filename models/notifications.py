"""The notification queue: letters to customers, and the accounts whose delivery is paused."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

__all__ = ["DeliveryPause", "Notification", "NotificationStatus"]


class NotificationStatus(StrEnum):
    QUEUED = "QUEUED"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class Notification(Model):
    """One letter to a customer: what to send, its state in the queue, and its last failure.

    The table is the queue (a transactional outbox): workers claim due rows with a lease
    (``lease_owner`` until ``lease_until``); a row whose lease ran out is due again.
    """

    id = fields.BigIntField(primary_key=True)
    # Unique per deployment: the constraint is what makes racing enqueues return one row.
    idempotency_key = fields.CharField(max_length=200, unique=True)
    content_hash = fields.CharField(max_length=64)
    to_address = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=500)
    text = fields.TextField()
    html = fields.TextField(null=True)
    message_id = fields.CharField(max_length=300)
    status = fields.CharEnumField(NotificationStatus, max_length=16)
    attempts = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    next_attempt_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    lease_owner = fields.CharField(max_length=64, null=True)
    lease_until = fields.DatetimeField(null=True)
    account_id = fields.IntField(null=True)
    """The Email account that sent it (or last tried to)."""
    last_failure = fields.TextField(null=True)
    """The classified failure as JSON (mail.failures.SmtpFailure, both languages)."""

    _no_comments = True  # Tortoise would parse this file to find "#:" field comments

    class Meta:
        table = "notification"
        indexes = (("status", "next_attempt_at"), ("account_id", "sent_at"))


class DeliveryPause(Model):
    """An account whose own failure (login, app password …) stopped its queue.

    The queue stays paused until the account is saved again or a test letter through it is
    delivered after ``paused_at`` (services read that from the account and the attempts).
    """

    id = fields.IntField(primary_key=True)
    account_id = fields.IntField(unique=True)
    paused_at = fields.DatetimeField()
    failure = fields.TextField()

    _no_comments = True  # Tortoise would parse this file to find "#:" field comments

    class Meta:
        table = "notification_pause"
