"""What an account logs in with when it sends notifications.

One function, ``account_credentials``: the saved password (decrypted with the
deployment's keys), none for a relay saved without one, or for an account saved with
OAuth2 its access token for XOAUTH2 (notifications.oauth_login) — or the failure that says
why the provider gave none (reconnect; or its outage, retried later).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mail.failures import SmtpFailure
from models import EmailAccount
from notifications.oauth_login import oauth_token
from oauth.kinds import AuthMethod
from services.mail_oauth import OAuthRuntime
from services.secrets import PasswordBox

__all__ = ["Credentials", "account_credentials"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    username: str
    password: str | None = field(default=None, repr=False)
    """None with no ``oauth2_token``: send without logging in."""
    oauth2_token: str | None = field(default=None, repr=False)
    """An OAuth2 access token for SASL XOAUTH2, when the account uses OAuth2."""
    unreadable: bool = False
    """A password is stored but no configured key opens it."""
    failure: SmtpFailure | None = None
    """No OAuth2 access token could be had: why (the letter fails with it, unsent)."""

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(value for value in (self.password, self.oauth2_token) if value)


async def account_credentials(
    account: EmailAccount, *, box: PasswordBox, oauth: OAuthRuntime
) -> Credentials:
    """The login of ``account``: its address with the stored password (or none), or with
    its OAuth2 access token when it was saved with OAuth2 (``oauth`` gets the token)."""
    if account.auth_method == AuthMethod.OAUTH2:
        return await _oauth2_credentials(account, oauth=oauth)
    if not account.password_encrypted:
        return Credentials(username=account.address)
    password = box.decrypt(account.password_encrypted, account_id=account.id)
    if password is None:
        return Credentials(username=account.address, unreadable=True)
    return Credentials(username=account.address, password=password)


async def _oauth2_credentials(account: EmailAccount, *, oauth: OAuthRuntime) -> Credentials:
    got = await oauth_token(account, access=oauth)
    if isinstance(got, SmtpFailure):
        return Credentials(username=account.address, failure=got)
    return Credentials(username=account.address, oauth2_token=got)
