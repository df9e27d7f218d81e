"""Per-token limits on test letters, in memory or shared through Redis (``limits``)."""

from __future__ import annotations

import logging
import math
import time
from typing import cast

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage as AsyncStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from config import ConfigError

__all__ = ["RateLimiter"]

log = logging.getLogger("mailtab.ratelimit")
NAMESPACE = "mailtab-test-email"


class RateLimiter:
    """A moving-window limit per key; ``hit`` tells how long to wait when over it.

    With Redis configured the window is shared by every instance. When Redis
    cannot be reached the letter is allowed and a warning logged: the limit
    guards against runaway scripts, and an outage of the limiter must not
    take the administrator's Send button away.
    """

    def __init__(self, rate: str, redis_url: str | None = None) -> None:
        self.items: list[RateLimitItem] = parse_many(rate)
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
        return f"RateLimiter({'redis' if self.shared else 'memory'})"

    async def hit(self, key: str) -> int | None:
        """Count one attempt for ``key``: None when allowed, else whole seconds to wait."""
        try:
            for item in self.items:
                if not await self._limiter.hit(item, NAMESPACE, key):
                    stats = await self._limiter.get_window_stats(item, NAMESPACE, key)
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
            await self._limiter.clear(item, NAMESPACE, key)
