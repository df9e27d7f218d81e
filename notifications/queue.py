"""The queue's operations on the notification table: claim, extend, release, outcomes.

A claim marks due letters SENDING with this worker as ``lease_owner`` until
``lease_until``. Due means QUEUED with ``next_attempt_at`` reached, or SENDING with a lease
that ran out (its worker died). On PostgreSQL the claim is one UPDATE over
``SELECT … FOR UPDATE SKIP LOCKED``: workers on several hosts take disjoint letters without
waiting for each other. SQLite has no row locks (Tortoise drops ``select_for_update``
there); its claim is an UPDATE that re-checks the due condition row by row, and SQLite runs
one writer at a time, so two claims cannot take one letter either. The embedded default
runs one worker.

Every outcome is written in its own transaction, only while this worker still holds the
lease: a worker that lost its letter (lease ran out, taken over) writes nothing over the
new owner's work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from tortoise import connections, timezone
from tortoise.expressions import Q

from mail.failures import SmtpFailure
from models import Notification, NotificationStatus
from notifications.failure_json import dump_failure

__all__ = [
    "claim",
    "defer_due",
    "extend",
    "mark_failed",
    "mark_retry",
    "mark_sent",
    "release",
]

_PG_CLAIM = """
UPDATE notification SET status = 'SENDING', lease_owner = $1, lease_until = $2
WHERE id IN (
    SELECT id FROM notification
    WHERE (status = 'QUEUED' AND next_attempt_at <= $3)
       OR (status = 'SENDING' AND lease_until < $3)
    ORDER BY next_attempt_at, id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
)
RETURNING id
"""


def _due(now: datetime) -> Q:
    return Q(status=NotificationStatus.QUEUED, next_attempt_at__lte=now) | Q(
        status=NotificationStatus.SENDING, lease_until__lt=now
    )


def _is_postgres() -> bool:
    return str(connections.get("default").capabilities.dialect) == "postgres"


async def claim(*, owner: str, limit: int, lease: float) -> list[Notification]:
    """Up to ``limit`` due letters, now leased to ``owner`` for ``lease`` seconds; oldest first."""
    now = timezone.now()
    until = now + timedelta(seconds=lease)
    if _is_postgres():
        rows = await connections.get("default").execute_query_dict(
            _PG_CLAIM, [owner, until, now, limit]
        )
        ids = [int(row["id"]) for row in rows]
    else:
        candidates: list[int] = await (
            Notification.filter(_due(now))
            .order_by("next_attempt_at", "id")
            .limit(limit)
            .values_list("id", flat=True)  # type: ignore[assignment]
        )
        if not candidates:
            return []
        await Notification.filter(_due(now), id__in=list(candidates)).update(
            status=NotificationStatus.SENDING, lease_owner=owner, lease_until=until
        )
        ids = list(candidates)
    if not ids:
        return []
    claimed = await Notification.filter(
        id__in=ids, lease_owner=owner, status=NotificationStatus.SENDING
    ).order_by("next_attempt_at", "id")
    return list(claimed)


def _held(ids: Sequence[int], owner: str) -> Q:
    return Q(id__in=list(ids), lease_owner=owner, status=NotificationStatus.SENDING)


async def extend(ids: Sequence[int], *, owner: str, lease: float) -> set[int]:
    """Renew the lease of the letters still held; the ids that are."""
    if not ids:
        return set()
    until = timezone.now() + timedelta(seconds=lease)
    await Notification.filter(_held(ids, owner)).update(lease_until=until)
    held: list[int] = await Notification.filter(_held(ids, owner)).values_list("id", flat=True)  # type: ignore[assignment]
    return set(held)


async def release(ids: Sequence[int], *, owner: str) -> int:
    """Give letters back to the queue untried (shutdown, a paused account); the number."""
    if not ids:
        return 0
    return await Notification.filter(_held(ids, owner)).update(
        status=NotificationStatus.QUEUED, lease_owner=None, lease_until=None
    )


_MARK_SENT = (
    "UPDATE notification SET status = 'SENT', sent_at = {0}, attempts = {1}, account_id = {2},"
    " lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL"
    " WHERE id = {3} AND lease_owner = {4} AND status = 'SENDING'"
)
_MARK_SENT_SQL = {
    "postgres": _MARK_SENT.format("$1", "$2", "$3", "$4", "$5"),
    "sqlite": _MARK_SENT.format("?", "?", "?", "?", "?"),
}


async def mark_sent(letter: Notification, *, owner: str, account_id: int) -> bool:
    """SENT, right after the server's 250; False when the lease was lost meanwhile.

    One statement written out: it runs once per letter, and the query builder would cost
    more than the statement itself.
    """
    connection = connections.get("default")
    sql = _MARK_SENT_SQL.get(str(connection.capabilities.dialect))
    if sql is None:
        updated = await Notification.filter(_held([letter.id], owner)).update(
            status=NotificationStatus.SENT,
            sent_at=timezone.now(),
            attempts=letter.attempts + 1,
            account_id=account_id,
            lease_owner=None,
            lease_until=None,
            next_attempt_at=None,
        )
        return bool(updated)
    values = [timezone.now(), letter.attempts + 1, account_id, letter.id, owner]
    count, _ = await connection.execute_query(sql, values)
    return bool(count)


async def mark_retry(
    letter: Notification, *, owner: str, failure: SmtpFailure, at: datetime, account_id: int
) -> bool:
    updated = await Notification.filter(_held([letter.id], owner)).update(
        status=NotificationStatus.QUEUED,
        attempts=letter.attempts + 1,
        next_attempt_at=at,
        last_failure=dump_failure(failure),
        account_id=account_id,
        lease_owner=None,
        lease_until=None,
    )
    return bool(updated)


async def mark_failed(
    letter: Notification, *, owner: str, failure: SmtpFailure, account_id: int
) -> bool:
    updated = await Notification.filter(_held([letter.id], owner)).update(
        status=NotificationStatus.FAILED,
        attempts=letter.attempts + 1,
        next_attempt_at=None,
        last_failure=dump_failure(failure),
        account_id=account_id,
        lease_owner=None,
        lease_until=None,
    )
    return bool(updated)


async def defer_due(*, until: datetime) -> int:
    """Move every due queued letter to ``until`` (a capped account's next window)."""
    now = timezone.now()
    return await Notification.filter(
        status=NotificationStatus.QUEUED, next_attempt_at__lte=now
    ).update(next_attempt_at=until)
