"""How an account signs in, and what state its OAuth2 connection is in."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AuthMethod", "ConnectionStatus"]


class AuthMethod(StrEnum):
    """How the account logs in to its SMTP server."""

    PASSWORD = "PASSWORD"
    """AUTH PLAIN/LOGIN with the stored (app) password."""
    OAUTH2 = "OAUTH2"
    """SASL XOAUTH2 with an access token of the account's OAuth2 connection."""
    NONE = "NONE"
    """No login: an on-premises relay that trusts the network (provider OTHER)."""


class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    """A refresh token is stored and the provider last accepted it."""
    REAUTHORIZATION_REQUIRED = "REAUTHORIZATION_REQUIRED"
    """The provider refused the refresh token (revoked, expired, password changed): connect
    the mailbox again."""
