"""API tokens: creation, look-up by digest, the first-start admin token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from models import ApiToken, Role

__all__ = [
    "TokenNameTaken",
    "authenticate",
    "create_token",
    "digest",
    "ensure_first_token",
    "revoke_token",
]

PREFIX = "mt_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenNameTaken(ValueError):
    """A live token already has that name (names identify tokens in logs and revocation)."""


async def create_token(*, name: str, role: Role) -> tuple[ApiToken, str]:
    """A new token record and the token itself, which is shown once and never stored."""
    if await ApiToken.exists(name=name, revoked_at__isnull=True):
        raise TokenNameTaken(name)
    token = PREFIX + secrets.token_urlsafe(32)
    record = await ApiToken.create(name=name, role=role, token_hash=digest(token))
    return record, token


async def authenticate(token: str) -> ApiToken | None:
    """The live token record for a presented token, or None."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    record = await ApiToken.get_or_none(token_hash=digest(token))
    if record is None or record.revoked_at is not None:
        return None
    return record


async def revoke_token(name: str) -> int:
    """Revoke every live token with that name; the number revoked."""
    return await ApiToken.filter(name=name, revoked_at__isnull=True).update(
        revoked_at=datetime.now(UTC)
    )


async def ensure_first_token() -> str | None:
    """On a first start (no tokens at all), create an admin token and return it once."""
    if await ApiToken.exists():
        return None
    _, token = await create_token(name="first-start admin", role=Role.ADMIN)
    return token
