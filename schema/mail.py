"""Types of the Mail tab's settings, the Email accounts reference book, and Save."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from i18n import Lang
from models import EmailAccount as EmailAccountModel
from schema.enums import MailProviderCode, SmtpSecurity
from schema.errors import SaveMailSettingsError
from services.mail_settings import StoredSettings
from services.validation import FieldError

__all__ = [
    "EmailAccount",
    "MailSettings",
    "MailSettingsInput",
    "MailSettingsWarning",
    "ProgramSetting",
    "SaveMailSettingsPayload",
    "to_warnings",
]


@strawberry.type(description="Reference book ► Email accounts: one mailbox on one SMTP server.")
class EmailAccount:
    id: strawberry.ID
    provider: MailProviderCode
    smtp_host: str
    port: int
    use_ssl: bool
    security: SmtpSecurity
    address: str
    has_password: bool = strawberry.field(description="The password itself is never returned.")
    sender_name: str | None
    sender_email: str

    @classmethod
    def from_model(cls, account: EmailAccountModel) -> EmailAccount:
        return cls(
            id=strawberry.ID(str(account.id)),
            provider=MailProviderCode(account.provider),
            smtp_host=account.smtp_host,
            port=account.port,
            use_ssl=account.use_ssl,
            security=SmtpSecurity(account.security),
            address=account.address,
            has_password=account.has_password,
            sender_name=account.sender_name,
            sender_email=account.sender_email,
        )


@strawberry.type(description="Program settings ► CRM ► Notifications ► Email.")
class MailSettings:
    provider: MailProviderCode
    smtp_host: str
    port: int
    use_ssl: bool
    security: SmtpSecurity
    address: str
    has_password: bool
    sender_name: str | None
    sender_email: str
    account: EmailAccount

    @classmethod
    def from_stored(cls, stored: StoredSettings) -> MailSettings:
        return cls(
            provider=stored.provider,
            smtp_host=stored.smtp_host,
            port=stored.port,
            use_ssl=stored.use_ssl,
            security=stored.security,
            address=stored.address,
            has_password=stored.account.has_password,
            sender_name=stored.sender_name,
            sender_email=stored.sender_email,
            account=EmailAccount.from_model(stored.account),
        )


@strawberry.input(description="The Mail tab's form. Omitted optional fields stay unset.")
class MailSettingsInput:
    provider: MailProviderCode
    smtp_host: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The preset's value when omitted; required for OTHER.",
    )
    port: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="The preset's value when omitted; required for OTHER.",
    )
    use_ssl: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="The preset's value when omitted; required for OTHER.",
    )
    security: SmtpSecurity | None = strawberry.field(
        default=strawberry.UNSET, description="An explicit mode; wins over useSsl."
    )
    address: str = strawberry.field(description="Login, and the envelope sender.")
    password: strawberry.Maybe[str | None] = strawberry.field(
        description=(
            "Write-only. Omitted: keep the stored password. Null or empty: log in without "
            "a password (provider OTHER only, for an on-premises relay)."
        ),
    )
    sender_name: str | None = strawberry.UNSET
    sender_email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Defaults to address."
    )


@strawberry.type(description="Something to know about the saved settings; never blocks Save.")
class MailSettingsWarning:
    field: str | None
    message: str
    code: str = strawberry.field(
        description=(
            "SENDER_DIFFERS_FROM_ADDRESS, PASSWORD_LOGIN_DISABLED, INSECURE_CONNECTION, "
            "PROVIDER_MISMATCH"
        )
    )


@strawberry.type
class SaveMailSettingsPayload:
    settings: MailSettings | None
    account: EmailAccount | None
    errors: list[SaveMailSettingsError]
    warnings: list[MailSettingsWarning]


def to_warnings(warnings: list[FieldError], lang: Lang) -> list[MailSettingsWarning]:
    return [
        MailSettingsWarning(field=w.field, message=w.message(lang), code=w.code) for w in warnings
    ]


@strawberry.type(description="One value of a program settings group.")
class ProgramSetting:
    group: str
    key: str
    title: str = strawberry.field(description="Localized label, as on the settings screen.")
    value: JSON | None
