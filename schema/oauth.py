"""Types of OAuth2 sign-in of mailboxes (SPEC.md §6): connections, start and disconnect."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import OAuthConnection as OAuthConnectionModel
from schema.enums import MailOAuthErrorCode, MailOAuthStatus, MailProviderCode
from schema.errors import UserError

__all__ = [
    "DisconnectMailOAuthPayload",
    "MailOAuthConnection",
    "MailOAuthError",
    "StartMailOAuthInput",
    "StartMailOAuthPayload",
]


@strawberry.type(description="A mailbox signed in with OAuth2; never a token.")
class MailOAuthConnection:
    address: str
    connected_at: datetime
    status: MailOAuthStatus
    provider: MailProviderCode

    @classmethod
    def from_model(cls, row: OAuthConnectionModel) -> MailOAuthConnection:
        return cls(
            address=row.address,
            connected_at=row.connected_at,
            status=MailOAuthStatus(row.status),
            provider=MailProviderCode(row.provider),
        )


@strawberry.type
class MailOAuthError(UserError):
    code: MailOAuthErrorCode


@strawberry.input(description="Connect a mailbox with OAuth2: where to sign in, and as whom.")
class StartMailOAuthInput:
    provider: MailProviderCode
    address: str = strawberry.field(description="The mailbox to connect (the XOAUTH2 login).")
    return_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Where the browser goes once connected: the origin of MAILTAB_PUBLIC_URL or of "
            "MAILTAB_CORS_ORIGINS only. Omitted: a short 'connected' page."
        ),
    )


@strawberry.type
class StartMailOAuthPayload:
    authorization_url: str | None = strawberry.field(
        description="Open it in the browser: the provider's sign-in (valid for 10 minutes, once)."
    )
    errors: list[MailOAuthError]


@strawberry.type
class DisconnectMailOAuthPayload:
    disconnected: bool = strawberry.field(description="Whether a connection was removed.")
    revoked: bool = strawberry.field(
        description="Whether the provider revoked the token too (where it offers revocation)."
    )
    errors: list[MailOAuthError]
