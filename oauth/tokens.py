"""OAuth2 connections: the encrypted tokens, and the access token refreshed one at a time.

An access token is used until ``REFRESH_MARGIN`` before it expires, by every instance (it
is stored, encrypted, beside the refresh token). When it must be refreshed, one caller
refreshes and the others wait for its result instead of asking the provider too:

- within one process an ``asyncio.Lock`` per connection queues the callers;
- across processes and hosts the refresher first takes a lease on the row with a
  conditional update (compare-and-set: the row still as it was read — same refresh count,
  tokens and expiry — and ``refresh_lease_until`` empty or past). Exactly one
  update matches, on PostgreSQL (row-level write lock, condition re-checked after a
  concurrent writer) as on SQLite (one writer at a time for the whole file). The others
  re-read the row until the new token is there or the lease has run out. No database lock
  is held while the provider is asked.

A refresh the provider refuses with ``invalid_grant`` marks the connection
REAUTHORIZATION_REQUIRED (``ReauthorizationRequired``); an outage leaves it as it was
(``ProviderUnavailable``, retryable).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from cryptography.fernet import InvalidToken
from tortoise import timezone
from tortoise.expressions import F, Q

from mail.presets import ProviderCode
from models import OAuthConnection
from oauth import exchange
from oauth.clients import OAuthClient
from oauth.errors import (
    NotConnected,
    ProviderRefused,
    ProviderUnavailable,
    ReauthorizationRequired,
)
from oauth.exchange import Grant
from oauth.kinds import ConnectionStatus
from oauth.states import Cipher

__all__ = [
    "LEASE",
    "REFRESH_MARGIN",
    "RotatingCipher",
    "TokenStore",
    "disconnect",
    "find_connection",
    "rotate",
    "store_connection",
]

log = logging.getLogger("mailtab.oauth")
#: An access token is refreshed this long before it expires.
REFRESH_MARGIN = timedelta(seconds=60)
#: How long a refresher holds its lease: longer than one refresh may take.
LEASE = timedelta(seconds=30)
#: How often a waiting instance looks at the row again.
WAIT_STEP = 0.05


class RotatingCipher(Cipher, Protocol):
    def rotate(self, token: str) -> str: ...


async def store_connection(
    *,
    provider: ProviderCode,
    address: str,
    address_key: str,
    grant: Grant,
    token_id: int | None,
    cipher: Cipher,
) -> OAuthConnection:
    """Save (or replace) the mailbox's connection: CONNECTED, with the new tokens."""
    assert grant.refresh_token is not None
    now = timezone.now()
    values = {
        "provider": provider.value,
        "address": address,
        "address_key": address_key,
        "status": ConnectionStatus.CONNECTED.value,
        "refresh_token_encrypted": cipher.encrypt(grant.refresh_token),
        "access_token_encrypted": cipher.encrypt(grant.access_token),
        "access_expires_at": grant.expires_at,
        "refresh_lease_id": None,
        "refresh_lease_until": None,
        "token_id": token_id,
        "connected_at": now,
    }
    update = [name for name in values if name not in ("provider", "address_key")]
    await OAuthConnection.bulk_create(
        [OAuthConnection(**values)],
        on_conflict=["provider", "address_key"],
        update_fields=[*update, "updated_at"],
    )
    return await OAuthConnection.get(provider=provider.value, address_key=address_key)


async def find_connection(provider: ProviderCode, address_key: str) -> OAuthConnection | None:
    return await OAuthConnection.get_or_none(provider=provider.value, address_key=address_key)


async def disconnect(address_key: str) -> list[tuple[ProviderCode, str | None]]:
    """Remove every connection of the mailbox: (provider, encrypted refresh token) of each."""
    rows = await OAuthConnection.filter(address_key=address_key)
    removed: list[tuple[ProviderCode, str | None]] = []
    for row in rows:
        if await OAuthConnection.filter(id=row.id).delete():
            removed.append((ProviderCode(row.provider), row.refresh_token_encrypted))
    return removed


@dataclass
class TokenStore:
    """Hands out access tokens of stored connections, refreshing them one at a time."""

    cipher: Cipher
    clock: Callable[[], float] = field(default=lambda: asyncio.get_running_loop().time())
    _locks: dict[tuple[str, str], asyncio.Lock] = field(default_factory=dict)

    async def access_token(self, client: OAuthClient, *, address_key: str) -> str:
        """A valid access token for the mailbox, refreshed if it is about to expire."""
        key = (client.provider.value, address_key)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            return await self._access_token(client, address_key=address_key)

    async def _access_token(self, client: OAuthClient, *, address_key: str) -> str:
        give_up = self.clock() + LEASE.total_seconds() + client.timeout
        while True:
            row = await find_connection(client.provider, address_key)
            if row is None:
                raise NotConnected
            if row.status != ConnectionStatus.CONNECTED:
                raise ReauthorizationRequired
            current = self._current(row)
            if current is not None:
                return current
            lease = await self._take_lease(row)
            if lease is not None:
                return await self._refresh(client, row, lease)
            if self.clock() > give_up:
                # The refresher never finished nor let go: treat as an outage, retry later.
                raise ProviderUnavailable("refresh lease held too long")
            await asyncio.sleep(WAIT_STEP)

    async def forget(self, client: OAuthClient, *, address_key: str, token: str) -> None:
        """The SMTP server refused ``token`` (revoked early): drop it from the cache, so that
        the next ``access_token`` refreshes. Only that token: a newer one stays."""
        row = await find_connection(client.provider, address_key)
        if row is None or row.access_token_encrypted is None:
            return
        if self.cipher.decrypt(row.access_token_encrypted) != token:
            return
        await OAuthConnection.filter(
            id=row.id, access_token_encrypted=row.access_token_encrypted
        ).update(access_token_encrypted=None, access_expires_at=None)

    def _current(self, row: OAuthConnection) -> str | None:
        if row.access_token_encrypted is None or row.access_expires_at is None:
            return None
        if row.access_expires_at <= timezone.now() + REFRESH_MARGIN:
            return None
        return self.cipher.decrypt(row.access_token_encrypted)

    async def _take_lease(self, row: OAuthConnection) -> str | None:
        now = timezone.now()
        lease = secrets.token_hex(8)
        # Still the row that was read (no refresh finished, no new sign-in stored since),
        # and nobody else's lease running: else another caller has been first.
        same = OAuthConnection.filter(
            id=row.id,
            status=ConnectionStatus.CONNECTED.value,
            refresh_count=row.refresh_count,
            refresh_token_encrypted=row.refresh_token_encrypted,
        )
        same = (
            same.filter(access_expires_at=row.access_expires_at)
            if row.access_expires_at is not None
            else same.filter(access_expires_at__isnull=True)
        )
        taken = await same.filter(
            Q(refresh_lease_until__isnull=True) | Q(refresh_lease_until__lt=now)
        ).update(refresh_lease_id=lease, refresh_lease_until=now + LEASE)
        return lease if taken else None

    async def _refresh(self, client: OAuthClient, row: OAuthConnection, lease: str) -> str:
        mine = OAuthConnection.filter(id=row.id, refresh_lease_id=lease)
        refresh_token = self.cipher.decrypt(row.refresh_token_encrypted)
        if refresh_token is None:
            await mine.update(refresh_lease_id=None, refresh_lease_until=None)
            raise ReauthorizationRequired  # no key opens it: only a new sign-in helps
        try:
            grant = await exchange.refresh(client, refresh_token=refresh_token)
        except ProviderRefused as exc:
            if not exc.grant_invalid:
                await mine.update(refresh_lease_id=None, refresh_lease_until=None)
                raise
            await mine.update(
                status=ConnectionStatus.REAUTHORIZATION_REQUIRED.value,
                access_token_encrypted=None,
                access_expires_at=None,
                refresh_lease_id=None,
                refresh_lease_until=None,
            )
            log.warning(
                "%s: the provider refused the refresh token of connection %s: "
                "the mailbox must be connected again",
                client.provider,
                row.id,
            )
            raise ReauthorizationRequired from None
        except BaseException:
            await asyncio.shield(mine.update(refresh_lease_id=None, refresh_lease_until=None))
            raise
        values: dict[str, object] = {
            "access_token_encrypted": self.cipher.encrypt(grant.access_token),
            "access_expires_at": grant.expires_at,
            "refresh_lease_id": None,
            "refresh_lease_until": None,
            "refresh_count": F("refresh_count") + 1,
        }
        if grant.refresh_token is not None and grant.refresh_token != refresh_token:
            values["refresh_token_encrypted"] = self.cipher.encrypt(grant.refresh_token)
        await mine.update(**values)
        return grant.access_token


async def rotate(cipher: RotatingCipher) -> tuple[int, int]:
    """Re-encrypt every stored OAuth2 token under the newest key: (rotated, unreadable).

    Like the passwords' rotation, a row is replaced only if it still holds what was read.
    """
    rotated = unreadable = 0
    rows = await OAuthConnection.all().values_list(
        "id", "refresh_token_encrypted", "access_token_encrypted"
    )
    for connection_id, refresh_token, access_token in rows:
        try:
            new_refresh = cipher.rotate(refresh_token)
            new_access = cipher.rotate(access_token) if access_token else None
        except InvalidToken:
            unreadable += 1
            continue
        same = OAuthConnection.filter(id=connection_id, refresh_token_encrypted=refresh_token)
        same = (
            same.filter(access_token_encrypted=access_token)
            if access_token
            else same.filter(access_token_encrypted__isnull=True)
        )
        rotated += await same.update(
            refresh_token_encrypted=new_refresh, access_token_encrypted=new_access
        )
    return rotated, unreadable
