"""The queue as numbers for the metrics: letters by status, and the age of the oldest due one.

Read from the database when /metrics is scraped, so every worker's letters count, on
every host: two queries, whatever the queue's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise import timezone
from tortoise.functions import Count

from models import Notification, NotificationStatus
from services import telemetry

__all__ = ["QueueStats", "queue_stats", "refresh_gauges"]


@dataclass(frozen=True, slots=True)
class QueueStats:
    by_status: dict[NotificationStatus, int]
    oldest_due_seconds: float
    """How long the oldest due QUEUED letter has waited past its time; 0 when none."""


async def queue_stats() -> QueueStats:
    rows = (
        await Notification.all()
        .group_by("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    by_status = {status: 0 for status in NotificationStatus}
    for status, count in rows:
        by_status[NotificationStatus(status)] = int(count)
    now = timezone.now()
    oldest = (
        await Notification.filter(status=NotificationStatus.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .first()
        .values_list("next_attempt_at", flat=True)
    )
    age = (now - oldest).total_seconds() if isinstance(oldest, datetime) else 0.0
    return QueueStats(by_status=by_status, oldest_due_seconds=max(0.0, age))


async def refresh_gauges() -> None:
    """Set the queue gauges of services.telemetry from the database."""
    stats = await queue_stats()
    for status, count in stats.by_status.items():
        telemetry.NOTIFICATIONS.labels(status=status.value).set(count)
    telemetry.OLDEST_DUE.set(stats.oldest_due_seconds)
