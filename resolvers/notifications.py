"""Resolvers of notifications: queue one, read one, read a page of them."""

from __future__ import annotations

import strawberry

from models import Notification as NotificationModel
from models import NotificationStatus
from notifications.enqueue import NotificationRequest, enqueue
from schema.errors import to_errors
from schema.notifications import (
    Notification,
    NotificationInput,
    SendNotificationError,
    SendNotificationPayload,
)
from schema.paging import DEFAULT_PAGE, Limit, Offset, page
from services.errors import SendNotificationErrorCode
from services.results import parse_id

__all__ = ["notification", "notifications", "send_notification"]


async def send_notification(
    info: strawberry.Info, input: NotificationInput
) -> SendNotificationPayload:
    lang = info.context.lang
    outcome = await enqueue(
        NotificationRequest(
            to=input.to,
            subject=input.subject,
            text=input.text,
            html=input.html,
            idempotency_key=input.idempotency_key,
        )
    )
    return SendNotificationPayload(
        notification=(
            Notification.from_model(outcome.notification, lang) if outcome.notification else None
        ),
        errors=to_errors(SendNotificationError, SendNotificationErrorCode, outcome.errors, lang),
    )


async def notification(info: strawberry.Info, id: strawberry.ID) -> Notification | None:
    """One notification by id; null when none has it."""
    key = parse_id(id)
    if key is None:
        return None
    record = await NotificationModel.get_or_none(id=key)
    return Notification.from_model(record, info.context.lang) if record else None


async def notifications(
    info: strawberry.Info,
    status: NotificationStatus | None = None,
    limit: Limit = DEFAULT_PAGE,
    offset: Offset = 0,
) -> list[Notification]:
    """Newest first, one page: one query whatever the page holds."""
    wanted = page(limit, offset)
    query = NotificationModel.all() if status is None else NotificationModel.filter(status=status)
    records = await query.order_by("-id").offset(wanted.offset).limit(wanted.limit)
    lang = info.context.lang
    return [Notification.from_model(record, lang) for record in records]
