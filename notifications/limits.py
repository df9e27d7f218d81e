"""Providers' daily sending caps, and how many letters an account may still send now.

The caps are data: ``dailySendLimit`` of an entry in mail/providers.json (with the page
that states it), overridden by the deployment's ``MAILTAB_PROVIDERS_FILE`` entry of the
same code. The window is the last 24 hours, counted from the account's SENT notifications;
a capped account's letters wait for the window to free instead of failing.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path

from tortoise import timezone

from models import Notification, NotificationStatus

__all__ = ["WINDOW", "Room", "daily_limits", "room"]

WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Room:
    letters: int | None
    """How many more letters may go now; None: no known cap."""
    frees_at: datetime | None = None
    """With ``letters == 0``: when the oldest letter of the window leaves it."""


def _limits_of(text: str) -> dict[str, int]:
    limits: dict[str, int] = {}
    for entry in json.loads(text).get("providers", []):
        cap = entry.get("dailySendLimit")
        if isinstance(cap, dict) and isinstance(cap.get("letters"), int) and cap["letters"] > 0:
            limits[str(entry["code"])] = int(cap["letters"])
        elif "code" in entry:
            limits.pop(str(entry["code"]), None)
    return limits


@functools.lru_cache(maxsize=4)
def daily_limits(override_file: Path | None = None) -> dict[str, int]:
    """Provider code → letters per 24 hours, the deployment's file over the shipped one."""
    shipped = resources.files("mail").joinpath("providers.json").read_text(encoding="utf-8")
    limits = _limits_of(shipped)
    if override_file is not None:
        document = json.loads(override_file.read_text(encoding="utf-8"))
        for entry in document.get("providers", []):
            code = str(entry.get("code"))
            limits.pop(code, None)
            limits.update(_limits_of(json.dumps({"providers": [entry]})))
    return limits


async def room(*, account_id: int, limit: int | None) -> Room:
    """What the account may still send within its provider's cap."""
    if limit is None:
        return Room(letters=None)
    since = timezone.now() - WINDOW
    recent = Notification.filter(
        account_id=account_id, status=NotificationStatus.SENT, sent_at__gte=since
    )
    used = await recent.count()
    if used < limit:
        return Room(letters=limit - used)
    oldest = await recent.order_by("sent_at").first().values_list("sent_at", flat=True)
    frees_at = (oldest if isinstance(oldest, datetime) else timezone.now()) + WINDOW
    return Room(letters=0, frees_at=frees_at)
