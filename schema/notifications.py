"""Types of notifications: the input, the queued letter as clients see it, the payload."""

from __future__ import annotations

from datetime import datetime

import strawberry

from i18n import Lang
from models import Notification as NotificationModel
from models import NotificationStatus
from notifications.failure_json import load_failure
from schema.errors import UserError
from schema.mail import SmtpFailure
from services.errors import SendNotificationErrorCode

__all__ = [
    "Notification",
    "NotificationInput",
    "NotificationStatusEnum",
    "SendNotificationError",
    "SendNotificationErrorCodeEnum",
    "SendNotificationPayload",
]

NotificationStatusEnum = strawberry.enum(
    NotificationStatus,
    name="NotificationStatus",
    description="FAILED: a permanent refusal, or the retries are used up.",
)
SendNotificationErrorCodeEnum = strawberry.enum(
    SendNotificationErrorCode,
    name="SendNotificationErrorCode",
    description="Why a notification was not queued; nothing was written.",
)


@strawberry.input(description="A letter to a customer, sent through the saved account.")
class NotificationInput:
    to: str
    subject: str
    text: str
    html: str | None = None
    idempotency_key: str = strawberry.field(
        description="The same key never makes a second letter (unique per deployment)."
    )


@strawberry.type(description="A notification in the queue, or delivered, or failed.")
class Notification:
    id: strawberry.ID
    idempotency_key: str
    to: str
    subject: str
    status: NotificationStatus
    attempts: int = strawberry.field(description="Delivery attempts made so far.")
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due (QUEUED); null once SENT or FAILED."
    )
    message_id: str | None = strawberry.field(
        description="The letter's Message-ID, the same on every attempt."
    )
    last_failure: SmtpFailure | None = strawberry.field(
        description="The last failed attempt, classified as test letters are."
    )

    @classmethod
    def from_model(cls, record: NotificationModel, lang: Lang) -> Notification:
        failure = load_failure(record.last_failure)
        return cls(
            id=strawberry.ID(str(record.id)),
            idempotency_key=record.idempotency_key,
            to=record.to_address,
            subject=record.subject,
            status=record.status,
            attempts=record.attempts,
            created_at=record.created_at,
            sent_at=record.sent_at,
            next_attempt_at=record.next_attempt_at,
            message_id=record.message_id,
            last_failure=SmtpFailure.from_failure(failure, lang) if failure else None,
        )


@strawberry.type
class SendNotificationError(UserError):
    code: SendNotificationErrorCode


@strawberry.type
class SendNotificationPayload:
    notification: Notification | None = strawberry.field(
        description="The queued notification (or the existing one of the same key)."
    )
    errors: list[SendNotificationError] = strawberry.field(
        description="The input could not be used; nothing was queued."
    )
