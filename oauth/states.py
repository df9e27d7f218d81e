"""Pending authorizations: a random ``state`` per sign-in, single-use, expiring, server-side.

The browser carries ``state`` to the provider and back; the database keeps its SHA-256
digest with the PKCE verifier (encrypted), the mailbox, the API token that started it and
where to go afterwards. The callback may reach any instance: taking a state is one
conditional update (unused, unexpired, token live), so of two callbacks with the same
state exactly one wins, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from tortoise import timezone

from mail.presets import ProviderCode
from models import ApiToken, OAuthState, Role
from oauth.errors import CallbackProblem

__all__ = [
    "STATE_LIFETIME",
    "Cipher",
    "PendingSignIn",
    "issue_state",
    "new_code_verifier",
    "take_state",
]

#: How long a sign-in may take, from startMailOAuth to the callback.
STATE_LIFETIME = timedelta(minutes=10)
#: Past this age a used or expired state row is deleted when new ones are issued.
KEEP_FOR = timedelta(days=1)


class Cipher(Protocol):
    """What encrypts secrets at rest (services.secrets.PasswordBox)."""

    def encrypt(self, password: str) -> str: ...

    def decrypt(self, token: str, *, account_id: int | None = None) -> str | None: ...


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    """A state taken by the callback: what it was issued for."""

    provider: ProviderCode
    address: str
    address_key: str
    code_verifier: str = field(repr=False)
    return_url: str | None
    token_id: int | None
    lang: str


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()


def new_code_verifier() -> str:
    """An RFC 7636 code verifier: 64 characters of the unreserved set (43..128 allowed)."""
    return secrets.token_urlsafe(48)


async def issue_state(
    *,
    provider: ProviderCode,
    address: str,
    address_key: str,
    code_verifier: str,
    return_url: str | None,
    token: ApiToken | None,
    lang: str,
    cipher: Cipher,
) -> str:
    """Store a new pending sign-in; the ``state`` value to put into the authorization URL."""
    now = timezone.now()
    await OAuthState.filter(expires_at__lt=now - KEEP_FOR).delete()
    state = secrets.token_urlsafe(32)
    await OAuthState.create(
        state_hash=_digest(state),
        provider=provider.value,
        address=address,
        address_key=address_key,
        verifier_encrypted=cipher.encrypt(code_verifier),
        return_url=return_url,
        token=token,
        lang=lang,
        expires_at=now + STATE_LIFETIME,
    )
    return state


async def take_state(state: str, *, cipher: Cipher) -> PendingSignIn | CallbackProblem:
    """Use up ``state``: the sign-in it belongs to, or why it cannot be used."""
    if not state or len(state) > 200:
        return CallbackProblem.STATE_UNKNOWN if state else CallbackProblem.STATE_MISSING
    digest = _digest(state)
    now = timezone.now()
    taken = await OAuthState.filter(
        state_hash=digest, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    row = await OAuthState.get_or_none(state_hash=digest)
    if row is None:
        return CallbackProblem.STATE_UNKNOWN
    if not taken:
        return CallbackProblem.STATE_EXPIRED if row.used_at is None else CallbackProblem.STATE_USED
    token_id = row.token_id  # type: ignore[attr-defined]
    if (
        token_id is not None
        and not await ApiToken.filter(
            id=token_id, revoked_at__isnull=True, role=Role.ADMIN
        ).exists()
    ):
        return CallbackProblem.STATE_REVOKED
    verifier = cipher.decrypt(row.verifier_encrypted)
    if verifier is None:
        return CallbackProblem.STATE_UNKNOWN
    return PendingSignIn(
        provider=ProviderCode(row.provider),
        address=row.address,
        address_key=row.address_key,
        code_verifier=verifier,
        return_url=row.return_url,
        token_id=token_id,
        lang=row.lang,
    )
