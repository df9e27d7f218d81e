"""What goes wrong with OAuth2 sign-in: the exceptions, and the codes shown to clients.

Exceptions::

    Exception
    └── OAuthFlowError
        ├── ProviderRefused        the provider answered with an OAuth2 error (invalid_grant …)
        ├── ProviderUnavailable    no usable answer: network, timeout, 5xx, not JSON (retryable)
        ├── NotConnected           no connection is stored for that mailbox
        └── ReauthorizationRequired  the stored connection needs a new sign-in

None of them carries a token, a code, a verifier or a client secret.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CallbackProblem",
    "MailOAuthErrorCode",
    "NotConnected",
    "OAuthFlowError",
    "ProviderRefused",
    "ProviderUnavailable",
    "ReauthorizationRequired",
]


class MailOAuthErrorCode(StrEnum):
    """Why ``startMailOAuth`` / ``disconnectMailOAuth`` refused."""

    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    FORBIDDEN_CHARACTERS = "FORBIDDEN_CHARACTERS"
    OAUTH2_NOT_CONFIGURED = "OAUTH2_NOT_CONFIGURED"
    MAIL_TAB_UNAVAILABLE = "MAIL_TAB_UNAVAILABLE"
    NOT_CONNECTED = "NOT_CONNECTED"


class CallbackProblem(StrEnum):
    """Why ``GET /oauth/callback`` connected nothing (the page says it in words)."""

    STATE_MISSING = "STATE_MISSING"
    STATE_UNKNOWN = "STATE_UNKNOWN"
    """Never issued here: forged, or from another deployment."""
    STATE_USED = "STATE_USED"
    STATE_EXPIRED = "STATE_EXPIRED"
    STATE_REVOKED = "STATE_REVOKED"
    """The API token that started the sign-in was revoked meanwhile."""
    ACCESS_DENIED = "ACCESS_DENIED"
    PROVIDER_ERROR = "PROVIDER_ERROR"
    CODE_MISSING = "CODE_MISSING"
    CODE_REFUSED = "CODE_REFUSED"
    NO_REFRESH_TOKEN = "NO_REFRESH_TOKEN"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    NOT_CONFIGURED = "NOT_CONFIGURED"


class OAuthFlowError(Exception):
    """Base of the OAuth2 sign-in failures."""


class ProviderRefused(OAuthFlowError):
    """The provider answered with an OAuth2 error; ``error`` is its code (``invalid_grant``)."""

    def __init__(self, error: str) -> None:
        super().__init__(f"the provider refused: {error}")
        self.error = error

    @property
    def grant_invalid(self) -> bool:
        """Whether the refresh token (or code) is dead for good: sign in again."""
        return self.error == "invalid_grant"


class ProviderUnavailable(OAuthFlowError):
    """No usable answer from the provider (network, timeout, 5xx, not JSON); try again."""


class NotConnected(OAuthFlowError):
    """No OAuth2 connection is stored for that mailbox."""


class ReauthorizationRequired(OAuthFlowError):
    """The stored connection was refused by the provider: the mailbox must be connected again."""
