"""Resolvers of the Mail tab's queries: availability and provider presets."""

from __future__ import annotations

import strawberry

from schema.types import MailProvider, MailTab
from services.prerequisites import missing_prerequisites

__all__ = ["mail_providers", "mail_tab"]


async def mail_providers(info: strawberry.Info) -> list[MailProvider]:
    ctx = info.context
    clients = ctx.runtime.oauth_clients
    return [
        MailProvider.from_preset(p, ctx.lang, oauth2_available=p.code in clients)
        for p in ctx.runtime.presets.values()
    ]


async def mail_tab(info: strawberry.Info) -> MailTab:
    missing = await missing_prerequisites()
    return MailTab(
        available=not missing,
        missing=missing,
        password_help_url=info.context.runtime.settings.password_help_url,
    )
