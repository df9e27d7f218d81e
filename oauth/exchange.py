"""Talking to the provider with Authlib's async httpx2 client: URL, code, refresh, revoke.

Every request is bounded by the client's timeout. An OAuth2 error answer becomes
``ProviderRefused`` with its code; no usable answer (network, timeout, 5xx, a body that is
not a JSON object) becomes ``ProviderUnavailable``. Neither carries what was sent.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise import timezone

from oauth.clients import OAuthClient
from oauth.errors import ProviderRefused, ProviderUnavailable

if TYPE_CHECKING:
    from authlib.integrations.httpx_client import AsyncOAuth2Client

__all__ = ["Grant", "authorization_url", "exchange_code", "refresh", "revoke"]

log = logging.getLogger("mailtab.oauth")
#: Assumed lifetime of an access token whose answer gave no ``expires_in``.
DEFAULT_LIFETIME = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token endpoint gave: an access token, when it expires, maybe a refresh token."""

    access_token: str = field(repr=False)
    expires_at: datetime
    refresh_token: str | None = field(repr=False)


def _session(client: OAuthClient, *, scopes: tuple[str, ...] | None = None) -> AsyncOAuth2Client:
    # Authlib and httpx2 are imported on the first OAuth request, not at start-up.
    from authlib.integrations.httpx_client import AsyncOAuth2Client

    return AsyncOAuth2Client(
        client_id=client.client_id,
        client_secret=client.client_secret,
        # HTTP Basic, which Google and Microsoft both take (and RFC 6749 requires servers to);
        # a public client proves itself with PKCE only.
        token_endpoint_auth_method="client_secret_basic" if client.client_secret else "none",
        revocation_endpoint_auth_method="client_secret_basic" if client.client_secret else "none",
        scope=" ".join(client.endpoints.scopes if scopes is None else scopes),
        redirect_uri=client.redirect_uri,
        code_challenge_method="S256",
        timeout=client.timeout,
        follow_redirects=False,
        trust_env=False,
    )


def authorization_url(
    client: OAuthClient, *, state: str, code_verifier: str, login_hint: str | None
) -> str:
    """Where to send the browser: the code flow with PKCE S256 and the preset's parameters."""
    extra: dict[str, Any] = dict(client.endpoints.authorization_params)
    if login_hint:
        extra["login_hint"] = login_hint
    session = _session(client)
    url, _ = session.create_authorization_url(
        client.endpoints.authorization_url, state=state, code_verifier=code_verifier, **extra
    )
    return str(url)


@asynccontextmanager
async def _asking(client: OAuthClient, what: str) -> AsyncIterator[None]:
    import httpx2
    from authlib.integrations.httpx_client import OAuthError

    try:
        yield
    except OAuthError as exc:
        log.info("%s: %s refused with %s", client.provider, what, exc.error)
        raise ProviderRefused(str(exc.error or "unknown_error")) from None
    except (httpx2.HTTPError, ValueError, KeyError, TypeError) as exc:
        # The exception's text may hold the URL with a code: name the kind only.
        log.warning("%s: %s failed (%s)", client.provider, what, type(exc).__name__)
        raise ProviderUnavailable(what) from None


def _grant(token: dict[str, Any]) -> Grant:
    access = token["access_token"]
    if not isinstance(access, str) or not access:
        raise ValueError("no access token")
    expires_in = token.get("expires_in")
    lifetime = (
        timedelta(seconds=int(expires_in))
        if isinstance(expires_in, int | float | str) and str(expires_in).isdigit()
        else DEFAULT_LIFETIME
    )
    refresh_token = token.get("refresh_token")
    return Grant(
        access_token=access,
        expires_at=timezone.now() + lifetime,
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
    )


async def exchange_code(client: OAuthClient, *, code: str, code_verifier: str) -> Grant:
    """The authorization code (with its PKCE verifier) exchanged for tokens."""
    async with _asking(client, "code exchange"), _session(client) as session:
        token = await session.fetch_token(
            client.endpoints.token_url,
            grant_type="authorization_code",
            code=code,
            code_verifier=code_verifier,
        )
        return _grant(dict(token))


async def refresh(client: OAuthClient, *, refresh_token: str) -> Grant:
    """A new access token for the refresh token (and a new refresh token, if rotated)."""
    async with (
        _asking(client, "refresh"),
        _session(client, scopes=client.refresh_scopes) as session,
    ):
        token = await session.refresh_token(client.endpoints.token_url, refresh_token=refresh_token)
        return _grant(dict(token))


async def revoke(client: OAuthClient, *, refresh_token: str) -> bool:
    """Revoke the refresh token where the provider offers it (RFC 7009); whether it did."""
    import httpx2

    url = client.endpoints.revocation_url
    if url is None:
        return False
    try:
        async with _session(client) as session:
            response = await session.revoke_token(
                url,
                token=refresh_token,
                token_type_hint="refresh_token",  # noqa: S106
            )
    except httpx2.HTTPError as exc:
        log.warning("%s: revocation failed (%s)", client.provider, type(exc).__name__)
        return False
    return bool(response.status_code == 200)
