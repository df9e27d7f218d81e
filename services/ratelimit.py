"""Per-token limits on test letters and on refused presses of Send, in memory or shared
through Redis (``limits``)."""

from __future__ import annotations

import copy
import logging
import math
import time
from typing import cast

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage as AsyncStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from config import ConfigError

__all__ = ["REFUSALS_NAMESPACE", "RateLimiter"]

log = logging.getLogger("mailtab.ratelimit")
NAMESPACE = "mailtab-test-email"
#: Refused presses of Send: a limit of their own, so they cannot flood the attempt log.
REFUSALS_NAMESPACE = "mailtab-test-email-refusals"


class RateLimiter:
    """A moving-window limit per key; ``hit`` tells how long to wait when over it.

    With Redis configured the window is shared by every instance. When Redis
    cannot be reached the letter is allowed and a warning logged: the limit
    guards against runaway scripts, and an outage of the limiter must not
    take the administrator's Send button away.
    """

    def __init__(
        self, rate: str, redis_url: str | None = None, *, namespace: str = NAMESPACE
    ) -> None:
        self.items: list[RateLimitItem] = parse_many(rate)
        self.namespace = namespace
        uri = "async+memory://"
        if redis_url:
            scheme, _, rest = redis_url.partition("://")
            uri = f"async+{scheme}://{rest}"
        self.shared = bool(redis_url)
        # Bounded waits: a Redis that does not answer must not hold the request.
        options = {"stream_timeout": 2, "connect_timeout": 2} if redis_url else {}
        try:
            # An "async+" URI always gives an asyncio storage; the factory's type is the union.
            self._storage = cast(AsyncStorage, storage_from_string(uri, **options))
        except Exception as exc:
            # Never the URL in the message: it may carry the Redis password.
            raise ConfigError(
                f"MAILTAB_REDIS_URL: cannot be used ({exc.__class__.__name__})"
            ) from None
        self._limiter = MovingWindowRateLimiter(self._storage)

    def __repr__(self) -> str:
        return f"RateLimiter({'redis' if self.shared else 'memory'}, {self.namespace})"

    def another(self, rate: str, *, namespace: str) -> RateLimiter:
        """A limit of its own kept in the same storage (with Redis: the same connections)."""
        other = copy.copy(self)
        other.items = parse_many(rate)
        other.namespace = namespace
        return other

    async def hit(self, key: str) -> int | None:
        """Count one attempt for ``key``: None when allowed, else whole seconds to wait."""
        return await self._check(key, count=True)

    async def wait(self, key: str) -> int | None:
        """Whole seconds until ``key`` may try again when its window is full, else None.

        Counts nothing: for a caller that must know before doing any work.
        """
        return await self._check(key, count=False)

    async def _check(self, key: str, *, count: bool) -> int | None:
        try:
            for item in self.items:
                check = self._limiter.hit if count else self._limiter.test
                if not await check(item, self.namespace, key):
                    stats = await self._limiter.get_window_stats(item, self.namespace, key)
                    return max(1, math.ceil(stats.reset_time - time.time()))
        except Exception as exc:  # the storage is down: fail open, loudly
            log.warning(
                "rate-limit storage unavailable (%s); attempt allowed", exc.__class__.__name__
            )
        return None

    async def available(self) -> bool:
        """Whether the storage answers (always true in memory)."""
        try:
            return bool(await self._storage.check())
        except Exception:
            return False

    async def close(self) -> None:
        """Close the connections to Redis, if any."""
        bridge = getattr(self._storage, "bridge", None)
        client = getattr(bridge, "storage", None)
        pool = getattr(client, "connection_pool", None)
        if pool is not None:
            pool.disconnect()

    async def reset(self, key: str) -> None:
        for item in self.items:
            await self._limiter.clear(item, self.namespace, key)
