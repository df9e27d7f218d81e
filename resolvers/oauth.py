"""Resolvers of OAuth2 sign-in: startMailOAuth and disconnectMailOAuth (admin only)."""

from __future__ import annotations

import strawberry

from resolvers.mail import given
from schema.enums import MailOAuthErrorCode
from schema.errors import to_errors
from schema.oauth import (
    DisconnectMailOAuthPayload,
    MailOAuthError,
    StartMailOAuthInput,
    StartMailOAuthPayload,
)
from services import mail_oauth

__all__ = ["disconnect_mail_oauth", "start_mail_oauth"]


async def start_mail_oauth(
    info: strawberry.Info, input: StartMailOAuthInput
) -> StartMailOAuthPayload:
    ctx = info.context
    outcome = await mail_oauth.start_mail_oauth(
        provider=input.provider,
        address=input.address,
        return_url=given(input.return_url),
        runtime=ctx.runtime,
        token=ctx.token,
        lang=ctx.lang,
    )
    return StartMailOAuthPayload(
        authorization_url=outcome.authorization_url,
        errors=to_errors(MailOAuthError, MailOAuthErrorCode, outcome.errors, ctx.lang),
    )


async def disconnect_mail_oauth(info: strawberry.Info, address: str) -> DisconnectMailOAuthPayload:
    ctx = info.context
    outcome = await mail_oauth.disconnect_mail_oauth(address=address, runtime=ctx.runtime)
    return DisconnectMailOAuthPayload(
        disconnected=outcome.disconnected,
        revoked=outcome.revoked,
        errors=to_errors(MailOAuthError, MailOAuthErrorCode, outcome.errors, ctx.lang),
    )
