"""The schema root: the only place that wires resolvers into the Query and Mutation types.

A module of its own, not the package's ``__init__``: resolvers import schema types, so a
root in ``schema/__init__.py`` would be half-initialized whenever a resolver is imported
first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission

from resolvers import firms as firm_resolvers
from resolvers import mail as mail_resolvers
from resolvers import mail_tab as tab_resolvers
from resolvers import oauth as oauth_resolvers
from resolvers import smart_setup as setup_resolvers
from resolvers.auth import IsAdmin
from schema.errors import FirmError, OutletError, SaveMailSettingsError, SendTestEmailError
from schema.firms import (
    CreateFirmPayload,
    CreateOutletPayload,
    DeleteFirmPayload,
    DeleteOutletPayload,
    UpdateFirmPayload,
    UpdateOutletPayload,
)
from schema.mail import (
    EmailAccount,
    ProgramSetting,
    SaveMailSettingsPayload,
    SendTestEmailPayload,
    TestEmailAttempt,
)
from schema.oauth import DisconnectMailOAuthPayload, MailOAuthError, StartMailOAuthPayload
from schema.smart_setup import DetectMailProviderPayload, ProbeSmtpServerPayload
from schema.types import Firm, MailProvider, MailTab, Outlet

__all__ = ["Mutation", "Query", "build_schema", "export_sdl"]

admin: list[type[BasePermission]] = [IsAdmin]


@strawberry.type
class Query:
    mail_providers: list[MailProvider] = strawberry.field(resolver=tab_resolvers.mail_providers)
    mail_tab: MailTab = strawberry.field(resolver=tab_resolvers.mail_tab)
    firms: list[Firm] = strawberry.field(resolver=firm_resolvers.list_firms)
    outlets: list[Outlet] = strawberry.field(resolver=firm_resolvers.list_outlets)
    email_accounts: list[EmailAccount] = strawberry.field(resolver=mail_resolvers.email_accounts)
    email_account_count: int = strawberry.field(resolver=mail_resolvers.email_account_count)
    program_settings: list[ProgramSetting] = strawberry.field(
        resolver=mail_resolvers.program_settings
    )
    # Nullable: a viewer's query that selects it gets the other fields and FORBIDDEN here.
    test_email_attempts: list[TestEmailAttempt] | None = strawberry.field(
        resolver=mail_resolvers.test_email_attempts,
        permission_classes=admin,
        description="Admin only; null with a FORBIDDEN error for other tokens.",
    )
    detect_mail_provider: DetectMailProviderPayload = strawberry.field(
        resolver=setup_resolvers.detect_mail_provider
    )


@strawberry.type
class Mutation:
    send_test_email: SendTestEmailPayload = strawberry.mutation(
        resolver=mail_resolvers.send_test_email,
        permission_classes=admin,
        description="Send: a real test letter; a failure is diagnosed, never raised.",
    )
    save_mail_settings: SaveMailSettingsPayload = strawberry.mutation(
        resolver=mail_resolvers.save_mail_settings,
        permission_classes=admin,
        description=(
            "Save: the Email accounts record and CRM ► Notifications ► Email, in one transaction."
        ),
    )
    probe_smtp_server: ProbeSmtpServerPayload = strawberry.mutation(
        resolver=setup_resolvers.probe_smtp_server,
        permission_classes=admin,
        description="What each port of a server speaks; rate-limited with test letters; "
        "never logs in or sends.",
    )
    create_firm: CreateFirmPayload = strawberry.mutation(
        resolver=firm_resolvers.create_firm, permission_classes=admin
    )
    update_firm: UpdateFirmPayload = strawberry.mutation(
        resolver=firm_resolvers.update_firm, permission_classes=admin
    )
    delete_firm: DeleteFirmPayload = strawberry.mutation(
        resolver=firm_resolvers.delete_firm,
        permission_classes=admin,
        description="Refused with FIRM_HAS_OUTLETS while the firm has outlets or warehouses.",
    )
    create_outlet: CreateOutletPayload = strawberry.mutation(
        resolver=firm_resolvers.create_outlet, permission_classes=admin
    )
    update_outlet: UpdateOutletPayload = strawberry.mutation(
        resolver=firm_resolvers.update_outlet, permission_classes=admin
    )
    delete_outlet: DeleteOutletPayload = strawberry.mutation(
        resolver=firm_resolvers.delete_outlet, permission_classes=admin
    )
    start_mail_oauth: StartMailOAuthPayload = strawberry.mutation(
        resolver=oauth_resolvers.start_mail_oauth,
        name="startMailOAuth",
        permission_classes=admin,
        description=(
            "Connect a mailbox with OAuth2: the provider's authorization URL (code flow, PKCE "
            "S256, a single-use state valid for 10 minutes); the provider returns to "
            "GET /oauth/callback."
        ),
    )
    disconnect_mail_oauth: DisconnectMailOAuthPayload = strawberry.mutation(
        resolver=oauth_resolvers.disconnect_mail_oauth,
        name="disconnectMailOAuth",
        permission_classes=admin,
        description="Forget the mailbox's OAuth2 connection (revoked where the provider offers it).",
    )


def build_schema(
    extensions: Sequence[type[SchemaExtension] | Callable[[], SchemaExtension]] = (),
    *,
    schema_class: type[strawberry.Schema] = strawberry.Schema,
) -> strawberry.Schema:
    """The schema, run with ``extensions`` (the HTTP layer's list, web.extensions)."""
    return schema_class(
        query=Query,
        mutation=Mutation,
        types=[FirmError, OutletError, SaveMailSettingsError, SendTestEmailError, MailOAuthError],
        extensions=list(extensions),
    )


def export_sdl() -> str:
    """The schema's SDL as committed in ``schema.graphql``."""
    return build_schema().as_str() + "\n"
