"""The XOAUTH2 login of an OAuth2 account's notifications: its token, and a refused one.

A worker holds one ``OAuthAccess`` for its lifetime (the configured OAuth2 clients and one
TokenStore: the access token stays cached in the database until shortly before it expires,
and only one refresh at a time goes to the provider, also across workers). ``mailtab serve``
hands its worker the service's own Runtime instead, which has the same three things.

When the SMTP server refuses a token before it expires (revoked early), ``renewed`` forgets
it and gets a new one: a single refresh; a second refusal is ``refused_again``, the failure
of the account (it pauses the queue as a refused password does).
"""

from __future__ import annotations

from dataclasses import dataclass

from config import Settings
from mail.failures import SmtpFailure
from mail.presets import ProviderCode, ProviderPreset
from models import EmailAccount
from oauth.clients import OAuthClient, configured_clients
from oauth.tokens import TokenStore
from services import mail_oauth
from services.mail_oauth import OAuthRuntime
from services.secrets import PasswordBox

__all__ = [
    "OAuthAccess",
    "is_login_refusal",
    "oauth_access",
    "oauth_token",
    "refused_again",
    "renewed_token",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthAccess:
    """The OAuth2 clients of this deployment and the access tokens' store, for one worker."""

    presets: dict[ProviderCode, ProviderPreset]
    oauth_clients: dict[ProviderCode, OAuthClient]
    oauth_tokens: TokenStore


def oauth_access(
    *, settings: Settings, presets: dict[ProviderCode, ProviderPreset], box: PasswordBox
) -> OAuthAccess:
    """What a worker logs in with XOAUTH2 through; made once, when the worker starts."""
    return OAuthAccess(
        presets=presets,
        oauth_clients=configured_clients(presets, settings),
        oauth_tokens=TokenStore(box),
    )


async def oauth_token(account: EmailAccount, *, access: OAuthRuntime) -> str | SmtpFailure:
    """The account's access token (the cached one while it lasts), or why there is none."""
    return await mail_oauth.access_token_for(
        ProviderCode(account.provider), account.address_key, runtime=access
    )


async def renewed_token(
    account: EmailAccount, refused: str, *, access: OAuthRuntime
) -> str | SmtpFailure:
    """The SMTP server refused ``refused``: forget it, refresh once, the new token or why not."""
    provider = ProviderCode(account.provider)
    await mail_oauth.forget_access_token(provider, account.address_key, refused, runtime=access)
    return await mail_oauth.access_token_for(provider, account.address_key, runtime=access)


def is_login_refusal(failure: SmtpFailure) -> bool:
    """Whether the server's refusal is one of a login (for XOAUTH2: of the token)."""
    return failure.code in mail_oauth.LOGIN_REFUSALS


def refused_again(failure: SmtpFailure, *, address: str) -> SmtpFailure:
    """A freshly refreshed token refused too: the account's failure, on ``authMethod``."""
    return mail_oauth.login_refused(failure, address=address)
