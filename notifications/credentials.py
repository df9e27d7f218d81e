"""What an account logs in with when it sends notifications.

One function, ``account_credentials``: today the saved password (decrypted with the
deployment's keys) or none for a relay saved without one. An OAuth2 account (XOAUTH2)
returns its access token here instead, from the package that keeps OAuth2 connections.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models import EmailAccount
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

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(value for value in (self.password, self.oauth2_token) if value)


async def account_credentials(account: EmailAccount, *, box: PasswordBox) -> Credentials:
    """The login of ``account``: its address with the stored password (or none)."""
    if not account.password_encrypted:
        return Credentials(username=account.address)
    password = box.decrypt(account.password_encrypted, account_id=account.id)
    if password is None:
        return Credentials(username=account.address, unreadable=True)
    return Credentials(username=account.address, password=password)
