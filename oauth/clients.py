"""The OAuth2 clients this deployment has: a preset's ``oauth2`` endpoints plus credentials.

A provider can sign mailboxes in when its preset (``providers.json`` or the deployment's
``MAILTAB_PROVIDERS_FILE``) has an ``oauth2`` object and ``MAILTAB_OAUTH_<CODE>_CLIENT_ID``
is set; ``MAILTAB_OAUTH_<CODE>_CLIENT_SECRET`` is optional (a public client, PKCE only).
The redirect URI is ``MAILTAB_PUBLIC_URL + /oauth/callback``, as registered with the provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from config import Settings
from mail.presets import OAuth2Endpoints, ProviderCode, ProviderPreset

__all__ = ["OAuthClient", "configured_clients"]

#: Seconds one request to a provider may take, when the deployment gives no other bound.
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthClient:
    """One registered application at one provider; never prints its secret."""

    provider: ProviderCode
    endpoints: OAuth2Endpoints
    client_id: str
    client_secret: str | None = field(repr=False)
    redirect_uri: str
    timeout: float = DEFAULT_TIMEOUT

    @property
    def refresh_scopes(self) -> tuple[str, ...]:
        """The scopes asked for on a refresh: the granted ones without ``offline_access``,
        which only the first authorization needs (and some servers refuse on a refresh)."""
        return tuple(scope for scope in self.endpoints.scopes if scope != "offline_access")


def configured_clients(
    presets: Mapping[ProviderCode, ProviderPreset], settings: Settings
) -> dict[ProviderCode, OAuthClient]:
    """The providers whose mailboxes can be connected with OAuth2 here."""
    clients: dict[ProviderCode, OAuthClient] = {}
    for code, preset in presets.items():
        credentials = settings.oauth_client(code.value)
        if preset.oauth2 is None or credentials is None:
            continue
        client_id, secret = credentials
        clients[code] = OAuthClient(
            provider=code,
            endpoints=preset.oauth2,
            client_id=client_id,
            client_secret=secret,
            redirect_uri=settings.oauth_redirect_uri,
            timeout=min(DEFAULT_TIMEOUT, settings.smtp_timeout),
        )
    return clients
