"""API tokens: creation, look-up by digest, the first-start admin token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from models import ApiToken, Role
from services.errors import TokenNameTaken
from services.token_cache import CACHE, publish_revocation

__all__ = [
    "authenticate",
    "create_token",
    "default_name",
    "digest",
    "ensure_first_token",
    "revoke_token",
]

PREFIX = "mt_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


#: How many numbered variants of a default name are tried before giving up.
MAX_NUMBERED = 1000


def default_name(role: Role, at: datetime) -> str:
    """``admin token 2026-12-01 09:47:03`` (UTC, as ``mailtab token list`` shows times)."""
    return f"{role.value} token {at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


async def create_token(
    *, name: str | None = None, role: Role, at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token record and the token itself, which is shown once and never stored.

    An explicit ``name`` that a live token has is refused (``TokenNameTaken``): names tell
    tokens apart in logs and revocation. Without one, the token gets ``default_name``,
    numbered ("… (2)") when a live token has that already, so it is never refused; ``at`` is
    the time it shows (now).
    """
    if name is not None:
        if await ApiToken.exists(name=name, revoked_at__isnull=True):
            raise TokenNameTaken(name)
    else:
        name = await _free_name(default_name(role, at or datetime.now(UTC)))
    token = PREFIX + secrets.token_urlsafe(32)
    record = await ApiToken.create(name=name, role=role, token_hash=digest(token))
    return record, token


async def _free_name(base: str) -> str:
    live = ApiToken.filter(name__startswith=base, revoked_at__isnull=True).only("id", "name")
    taken = {record.name for record in await live}
    for candidate in (base, *(f"{base} ({n})" for n in range(2, MAX_NUMBERED))):
        if candidate not in taken:
            return candidate
    raise TokenNameTaken(base)


async def authenticate(token: str) -> ApiToken | None:
    """The live token record for a presented token, or None.

    A token the database confirmed is kept for a few seconds (``services.token_cache``).
    """
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    key = digest(token)
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    record = await ApiToken.get_or_none(token_hash=key)
    if record is None or record.revoked_at is not None:
        return None
    CACHE.put(key, record)
    return record


async def revoke_token(name: str, *, redis_url: str | None = None) -> int:
    """Revoke every live token with that name; the number revoked.

    This process forgets its verified tokens at once; with ``redis_url`` every instance
    listening for revocations does too (others within ``MAILTAB_TOKEN_CACHE_SECONDS``).
    """
    count = await ApiToken.filter(name=name, revoked_at__isnull=True).update(
        revoked_at=datetime.now(UTC)
    )
    CACHE.clear()
    if redis_url and count:
        await publish_revocation(redis_url)
    return count


async def ensure_first_token() -> str | None:
    """On a first start (no tokens at all), create an admin token and return it once."""
    if await ApiToken.exists():
        return None
    _, token = await create_token(name="first-start admin", role=Role.ADMIN)
    return token
