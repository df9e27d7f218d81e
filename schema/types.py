"""GraphQL object types and their construction from the domain's records."""

from __future__ import annotations

from typing import cast

import strawberry

from i18n import Lang
from mail.presets import ProviderPreset
from models import Firm as FirmModel
from models import Outlet as OutletModel
from notifications.pause import paused_failure
from schema.enums import (
    MailProviderCode,
    MailProviderStatus,
    MailTabPrerequisite,
    OutletKindEnum,
    SmtpSecurity,
)
from schema.mail import MailSettings, SmtpFailure
from schema.paging import DEFAULT_PAGE, Limit, Offset, page
from schema.smart_setup import MailProviderChecklistItem
from services.firms import OutletRow
from services.mail_settings import load_stored_settings

__all__ = ["Firm", "MailProvider", "MailTab", "Outlet"]


@strawberry.type(description="Our firms: a legal entity of the ERP's owner.")
class Firm:
    id: strawberry.ID
    name: str
    inn: str
    kpp: str | None

    @strawberry.field
    async def outlets(
        self, info: strawberry.Info, limit: Limit = DEFAULT_PAGE, offset: Offset = 0
    ) -> list[Outlet]:
        """Outlets and warehouses of this firm, oldest first: one page of them."""
        loader = info.context.outlets_loader
        outlets = await loader.load((int(self.id), page(limit, offset)))
        return [Outlet.from_model(o) for o in outlets]

    @classmethod
    def from_model(cls, firm: FirmModel) -> Firm:
        return cls(id=strawberry.ID(str(firm.id)), name=firm.name, inn=firm.inn, kpp=firm.kpp)


@strawberry.type(description="Outlets and warehouses: where the firm sells or stores parts.")
class Outlet:
    id: strawberry.ID
    name: str
    kind: OutletKindEnum
    address: str | None
    firm_id: strawberry.Private[int]

    @strawberry.field
    async def firm(self, info: strawberry.Info) -> Firm:
        firm = await info.context.firm_loader.load(self.firm_id)
        return Firm.from_model(cast(FirmModel, firm))

    @classmethod
    def from_model(cls, outlet: OutletModel | OutletRow) -> Outlet:
        return cls(
            id=strawberry.ID(str(outlet.id)),
            name=outlet.name,
            kind=outlet.kind,
            address=outlet.address,
            firm_id=outlet.firm_id,
        )


def _oauth2_available(root: MailProvider, info: strawberry.Info) -> bool:
    return root.code in info.context.runtime.oauth_clients


@strawberry.type(description="A mail service preset: what choosing it fills in.")
class MailProvider:
    code: MailProviderCode
    title: str = strawberry.field(description='Localized; OTHER is "Другой" in Russian.')
    smtp_host: str | None = strawberry.field(description="Null for OTHER.")
    port: int | None = strawberry.field(description="Null for OTHER.")
    use_ssl: bool
    security: SmtpSecurity | None = strawberry.field(description="Null for OTHER.")
    app_password_help_url: str | None
    domains: list[str]
    status: MailProviderStatus = strawberry.field(
        description="What it takes before a password login works; shown before any try."
    )
    checklist: list[MailProviderChecklistItem] = strawberry.field(
        description="Steps to take in the mailbox first, localized, with links."
    )
    oauth2_available: bool = strawberry.field(
        resolver=_oauth2_available,
        description="Whether mailboxes of this service can be connected with OAuth2 here.",
    )

    @classmethod
    def from_preset(
        cls, preset: ProviderPreset, lang: Lang, *, oauth2_available: bool = False
    ) -> MailProvider:
        return cls(
            code=preset.code,
            title=preset.title(lang),
            smtp_host=preset.smtp_host,
            port=preset.port,
            use_ssl=preset.use_ssl,
            security=preset.security,
            app_password_help_url=preset.app_password_help_url,
            domains=list(preset.domains),
            status=preset.status,
            checklist=[
                MailProviderChecklistItem.from_item(i, lang)
                for i in preset.checklist
                if i.shown(oauth2_available=oauth2_available)
            ],
        )


async def _paused_failure(info: strawberry.Info) -> SmtpFailure | None:
    """Why the saved account's notifications are held, or None when they go out."""
    stored = await load_stored_settings()
    failure = await paused_failure(stored.account) if stored else None
    return SmtpFailure.from_failure(failure, info.context.lang) if failure else None


async def _delivery_paused(info: strawberry.Info) -> bool:
    return await _paused_failure(info) is not None


@strawberry.type(description="The Mail tab: whether it can be used, and what is saved.")
class MailTab:
    available: bool
    missing: list[MailTabPrerequisite]
    password_help_url: str = strawberry.field(
        description="The app-password guide shown at the password field."
    )

    delivery_paused: bool = strawberry.field(
        resolver=_delivery_paused,
        description="Notifications are held: the saved account's login (or sender) failed. "
        "Save or a delivered test letter resumes them.",
    )
    delivery_failure: SmtpFailure | None = strawberry.field(
        resolver=_paused_failure,
        description="Why notifications are held (with deliveryPaused).",
    )

    @strawberry.field
    async def settings(self) -> MailSettings | None:
        """CRM ► Notifications ► Email as saved; null until the first save."""
        stored = await load_stored_settings()
        return MailSettings.from_stored(stored) if stored else None
