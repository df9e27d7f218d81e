"""Verified tokens kept in memory for a few seconds, so a request costs no database look-up.

Only tokens the database confirmed as live are kept (an unknown token is looked up every
time, so a new token works at once), each for ``MAILTAB_TOKEN_CACHE_SECONDS`` (0 switches
the cache off), at most ``MAX_ENTRIES`` of them. Keys are the tokens' SHA-256 digests, never
the tokens.

Revocation: the process that revokes (``services.tokens.revoke_token``) empties its own
cache at once. Another process notices within the cache's seconds; with
``MAILTAB_REDIS_URL`` the revoking process also publishes on ``REVOKED_CHANNEL`` and every
serving process listening there (``listen_for_revocations``) empties its cache at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models import ApiToken

__all__ = [
    "CACHE",
    "MAX_ENTRIES",
    "REVOKED_CHANNEL",
    "TokenCache",
    "listen_for_revocations",
    "publish_revocation",
    "revocation_listener",
]

log = logging.getLogger("mailtab.tokens")

MAX_ENTRIES = 1024
REVOKED_CHANNEL = "mailtab:tokens:revoked"
#: How long the listener waits before reconnecting to a Redis that went away.
RECONNECT_SECONDS = 1.0
MAX_RECONNECT_SECONDS = 30.0


def _now() -> float:
    return time.monotonic()


class TokenCache:
    """Live token records by digest, each until its expiry; the oldest dropped when full."""

    def __init__(self, *, seconds: float = 5.0, max_entries: int = MAX_ENTRIES) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, ApiToken]] = OrderedDict()

    def configure(self, *, seconds: float) -> None:
        self.seconds = seconds
        self.clear()

    def get(self, digest: str) -> ApiToken | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        expires, record = entry
        if _now() >= expires:
            del self._entries[digest]
            return None
        return record

    def put(self, digest: str, record: ApiToken) -> None:
        if self.seconds <= 0:
            return
        self._entries[digest] = (_now() + self.seconds, record)
        self._entries.move_to_end(digest)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


#: The process's cache (``services.tokens`` reads and fills it).
CACHE = TokenCache()


async def publish_revocation(redis_url: str) -> bool:
    """Tell every listening instance to forget its verified tokens; False if Redis failed."""
    import coredis

    try:
        client = coredis.Redis.from_url(redis_url, stream_timeout=2, connect_timeout=2)
        async with asyncio.timeout(5):
            await client.publish(REVOKED_CHANNEL, "revoked")
    except Exception as exc:
        # Never the URL: it may carry the Redis password.
        log.warning(
            "revocation not published through Redis (%s): other instances forget the token "
            "within %s s",
            exc.__class__.__name__,
            CACHE.seconds,
        )
        return False
    return True


async def listen_for_revocations(
    redis_url: str,
    *,
    cache: TokenCache = CACHE,
    ready: asyncio.Event | None = None,
    cleared: asyncio.Event | None = None,
) -> None:
    """Empty ``cache`` whenever a revocation is published; reconnects until cancelled.

    ``ready`` is set once subscribed, ``cleared`` after each revocation received.

    The cache is emptied on every (re)connection too: a revocation published while the
    connection was down would otherwise be missed.
    """
    import coredis

    pause = RECONNECT_SECONDS
    while True:
        try:
            client = coredis.Redis.from_url(redis_url, connect_timeout=2, decode_responses=True)
            pubsub = client.pubsub(channels=[REVOKED_CHANNEL], ignore_subscribe_messages=True)
            async with pubsub:
                cache.clear()
                if pause > RECONNECT_SECONDS:
                    log.info("revocations from Redis received again")
                pause = RECONNECT_SECONDS
                if ready is not None:
                    ready.set()
                async for _message in pubsub:
                    cache.clear()
                    if cleared is not None:
                        cleared.set()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if pause == RECONNECT_SECONDS:  # once per outage, not once per retry
                log.warning(
                    "revocations from Redis not received (%s): verified tokens are kept "
                    "for at most %s s until Redis is back",
                    exc.__class__.__name__,
                    cache.seconds,
                )
        cache.clear()
        await asyncio.sleep(pause)
        pause = min(pause * 2, MAX_RECONNECT_SECONDS)


@contextlib.asynccontextmanager
async def revocation_listener(redis_url: str | None) -> AsyncIterator[None]:
    """Run ``listen_for_revocations`` for the duration of the block (nothing without Redis)."""
    if not redis_url or CACHE.seconds <= 0:
        yield
        return
    task = asyncio.create_task(listen_for_revocations(redis_url))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
