"""Types of the Mail tab's settings, the Email accounts reference book, and Save."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from i18n import Lang
from mail.failures import SmtpFailure as DomainSmtpFailure
from models import EmailAccount as EmailAccountModel
from models import TestEmailAttempt as TestEmailAttemptModel
from oauth.kinds import AuthMethod
from oauth.tokens import find_connection
from schema.enums import (
    MailAuthMethod,
    MailProviderCode,
    SmtpCertificateProblem,
    SmtpFailureCode,
    SmtpSecurity,
)
from schema.errors import SaveMailSettingsError, SendTestEmailError
from schema.oauth import MailOAuthConnection
from schema.steps import MailSettingsTest, SmtpStep, to_steps
from services.attempt_steps import stored_steps
from services.errors import FieldError
from services.mail_settings import StoredSettings
from services.tested_config import last_test, saved_digest

__all__ = [
    "EmailAccount",
    "MailSettings",
    "MailSettingsInput",
    "MailSettingsWarning",
    "ProgramSetting",
    "SaveMailSettingsPayload",
    "SendTestEmailInput",
    "SendTestEmailPayload",
    "SmtpFailure",
    "TestEmailAttempt",
    "to_warnings",
]


def _readable(info: strawberry.Info, encrypted: str | None) -> bool | None:
    """Whether a configured key opens the stored password; None when none is stored."""
    return info.context.runtime.box.readable(encrypted) if encrypted else None


def _has_password(root: EmailAccount | MailSettings, info: strawberry.Info) -> bool:
    # A password that no configured key opens cannot be used: it is not "had".
    return _readable(info, root.stored_password) is True


def _password_unreadable(root: EmailAccount | MailSettings, info: strawberry.Info) -> bool:
    return _readable(info, root.stored_password) is False


async def _oauth(root: EmailAccount | MailSettings) -> MailOAuthConnection | None:
    row = await find_connection(root.provider, root.address.lower())
    return MailOAuthConnection.from_model(row) if row is not None else None


_OAUTH = "The mailbox's OAuth2 connection, if it has one (never a token)."
_AUTH_METHOD = "How the account logs in: PASSWORD, OAUTH2 (SASL XOAUTH2) or NONE (a relay)."


def _method(value: str | None) -> AuthMethod:
    try:
        return AuthMethod(value or AuthMethod.PASSWORD)
    except ValueError:
        return AuthMethod.PASSWORD


_HAS_PASSWORD = (
    "A stored password that the server's keys open; the password itself is never returned."
)
_PASSWORD_UNREADABLE = (
    "A password is stored but no configured key decrypts it (the key was changed or lost): "
    "it must be entered again."
)


@strawberry.type(description="Reference book ► Email accounts: one mailbox on one SMTP server.")
class EmailAccount:
    id: strawberry.ID
    provider: MailProviderCode
    smtp_host: str
    port: int
    use_ssl: bool
    security: SmtpSecurity
    address: str
    has_password: bool = strawberry.field(resolver=_has_password, description=_HAS_PASSWORD)
    password_unreadable: bool = strawberry.field(
        resolver=_password_unreadable, description=_PASSWORD_UNREADABLE
    )
    sender_name: str | None
    sender_email: str
    auth_method: MailAuthMethod = strawberry.field(description=_AUTH_METHOD)
    oauth: MailOAuthConnection | None = strawberry.field(resolver=_oauth, description=_OAUTH)
    stored_password: strawberry.Private[str | None]

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
            sender_name=account.sender_name,
            sender_email=account.sender_email,
            auth_method=_method(account.auth_method),
            stored_password=account.password_encrypted,
        )


async def _last_test(root: MailSettings, info: strawberry.Info) -> MailSettingsTest | None:
    box = info.context.runtime.box
    if root.stored is None:
        return None
    password = None
    if root.stored_password:
        password = box.decrypt(root.stored_password, account_id=root.stored.account.id)
        if password is None:
            return None  # no key opens it: no letter can have been tested with it
    test = await last_test(saved_digest(root.stored, password, box))
    if test is None:
        return None
    return MailSettingsTest(at=test.at, delivered=test.delivered, failure_code=test.failure_code)


@strawberry.type(description="Program settings ► CRM ► Notifications ► Email.")
class MailSettings:
    provider: MailProviderCode
    smtp_host: str
    port: int
    use_ssl: bool
    security: SmtpSecurity
    address: str
    has_password: bool = strawberry.field(resolver=_has_password, description=_HAS_PASSWORD)
    password_unreadable: bool = strawberry.field(
        resolver=_password_unreadable, description=_PASSWORD_UNREADABLE
    )
    sender_name: str | None
    sender_email: str
    account: EmailAccount
    auth_method: MailAuthMethod = strawberry.field(description=_AUTH_METHOD)
    oauth: MailOAuthConnection | None = strawberry.field(resolver=_oauth, description=_OAUTH)
    stored_password: strawberry.Private[str | None]
    stored: strawberry.Private[StoredSettings | None] = None

    last_test: MailSettingsTest | None = strawberry.field(
        resolver=_last_test,
        description="The last test letter of exactly this configuration (host, port, security, "
        "address and credentials); null if none.",
    )

    @classmethod
    def from_stored(cls, stored: StoredSettings) -> MailSettings:
        return cls(
            provider=stored.provider,
            smtp_host=stored.smtp_host,
            port=stored.port,
            use_ssl=stored.use_ssl,
            security=stored.security,
            address=stored.address,
            sender_name=stored.sender_name,
            sender_email=stored.sender_email,
            account=EmailAccount.from_model(stored.account),
            auth_method=_method(stored.account.auth_method),
            stored_password=stored.account.password_encrypted,
            stored=stored,
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
    auth_method: MailAuthMethod | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Omitted: PASSWORD (NONE for an OTHER relay saved with password null). OAUTH2 "
            "needs a CONNECTED OAuth2 connection of the address (startMailOAuth); no password."
        ),
    )


@strawberry.type(description="Something to know about the saved settings; never blocks Save.")
class MailSettingsWarning:
    field: str | None
    message: str
    code: str = strawberry.field(
        description=(
            "SENDER_DIFFERS_FROM_ADDRESS, PASSWORD_LOGIN_DISABLED, INSECURE_CONNECTION, "
            "PROVIDER_MISMATCH, HOST_NOT_CONFIGURED, NOT_TESTED"
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


@strawberry.input(description="The Send button: a test letter.")
class SendTestEmailInput:
    recipient: str = strawberry.field(description="Where the test letter goes.")
    settings: MailSettingsInput | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "The form as it stands (unsaved; password omitted = the stored password of the "
            "same account). Omitted: the saved CRM ► Notifications ► Email settings."
        ),
    )


@strawberry.type(description="Why the SMTP exchange failed, and what to change.")
class SmtpFailure:
    code: SmtpFailureCode
    field: str | None = strawberry.field(
        description='Input field most likely at fault ("password", "port", ...).'
    )
    message: str
    hint: str | None
    help_url: str | None
    smtp_code: int | None
    smtp_reply: str | None = strawberry.field(
        description="The server's reply, with anything secret removed."
    )
    certificate_problem: SmtpCertificateProblem | None = strawberry.field(
        default=None, description="With TLS_CERTIFICATE: untrusted, expired, wrong name, …"
    )

    @classmethod
    def from_failure(cls, failure: DomainSmtpFailure, lang: Lang) -> SmtpFailure:
        return cls(
            code=failure.code,
            field=failure.field,
            message=failure.message(lang),
            hint=failure.hint(lang) if failure.hint else None,
            help_url=failure.help_url,
            smtp_code=failure.smtp_code,
            smtp_reply=failure.smtp_reply,
            certificate_problem=failure.certificate_problem,
        )


@strawberry.type
class SendTestEmailPayload:
    delivered: bool
    message_id: str | None = strawberry.field(description="The letter's Message-ID header.")
    failure: SmtpFailure | None = strawberry.field(description="Set when the SMTP exchange failed.")
    errors: list[SendTestEmailError] = strawberry.field(
        description="The input could not be used; nothing was sent."
    )
    retry_after: int | None = strawberry.field(
        default=None, description="With RATE_LIMITED: seconds to wait."
    )
    steps: list[SmtpStep] = strawberry.field(
        default_factory=list,
        description="The SMTP conversation in the order it happened; [] when nothing was tried.",
    )


@strawberry.type(description="One press of Send, as recorded.")
class TestEmailAttempt:
    id: strawberry.ID
    created_at: datetime
    token_name: str | None
    account_id: strawberry.ID | None
    source: str = strawberry.field(description="FORM (unsaved values) or SAVED.")
    smtp_host: str | None
    port: int | None
    security: str | None
    address: str | None
    recipient: str | None
    delivered: bool
    outcome: str = strawberry.field(description="DELIVERED, RATE_LIMITED or an SmtpFailureCode.")
    smtp_code: int | None
    duration_ms: int
    steps: list[SmtpStep] = strawberry.field(
        default_factory=list, description="The SMTP conversation of this attempt, as recorded."
    )

    @classmethod
    def from_model(cls, attempt: TestEmailAttemptModel) -> TestEmailAttempt:
        account_id = attempt.account_id  # type: ignore[attr-defined]
        return cls(
            id=strawberry.ID(str(attempt.id)),
            created_at=attempt.created_at,
            token_name=attempt.token_name,
            account_id=strawberry.ID(str(account_id)) if account_id is not None else None,
            source=attempt.source,
            smtp_host=attempt.smtp_host,
            port=attempt.port,
            security=attempt.security,
            address=attempt.address,
            recipient=attempt.recipient,
            delivered=attempt.delivered,
            outcome=attempt.outcome,
            smtp_code=attempt.smtp_code,
            duration_ms=attempt.duration_ms,
            steps=to_steps(stored_steps(attempt.steps_json)),
        )
