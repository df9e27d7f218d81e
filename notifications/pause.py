"""The paused queue of an account whose own failure stopped delivery, and its resume.

A pause is a row per account with the failure that caused it. It ends when the account
is saved again (Save writes ``updated_at``) or a test letter through it is delivered after
the pause began: both say the administrator has dealt with the account. That is read here
when the queue asks, so Save and the test letter need not know about notifications.
"""

from __future__ import annotations

from tortoise import timezone
from tortoise.exceptions import IntegrityError

from mail.failures import SmtpFailure
from models import DeliveryPause, EmailAccount, TestEmailAttempt
from notifications.failure_json import dump_failure, load_failure

__all__ = ["active_pause", "pause_account", "paused_failure"]


async def pause_account(account_id: int, failure: SmtpFailure) -> None:
    """Pause the account's queue with ``failure`` (a pause already there is renewed)."""
    now, text = timezone.now(), dump_failure(failure)
    updated = await DeliveryPause.filter(account_id=account_id).update(paused_at=now, failure=text)
    if updated:
        return
    try:
        await DeliveryPause.create(account_id=account_id, paused_at=now, failure=text)
    except IntegrityError:  # another worker paused it meanwhile
        await DeliveryPause.filter(account_id=account_id).update(paused_at=now, failure=text)


async def active_pause(account: EmailAccount) -> DeliveryPause | None:
    """The account's pause while it lasts; a pause that was resumed is removed."""
    pause = await DeliveryPause.get_or_none(account_id=account.id)
    if pause is None:
        return None
    resumed = account.updated_at > pause.paused_at or await TestEmailAttempt.exists(
        account_id=account.id, delivered=True, created_at__gt=pause.paused_at
    )
    if not resumed:
        return pause
    await DeliveryPause.filter(id=pause.id, paused_at=pause.paused_at).delete()
    return None


async def paused_failure(account: EmailAccount) -> SmtpFailure | None:
    """Why the account's queue is paused, or None when it is not."""
    pause = await active_pause(account)
    return load_failure(pause.failure) if pause is not None else None
