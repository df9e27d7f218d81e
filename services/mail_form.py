"""The Mail tab's form: what the client sent, resolved against the presets and validated.

``resolve_form`` fills in the chosen service's host, port and SSL for what was not given,
validates every field at once and resolves the security mode (mail.security). The
password rule, one for Save and Send (``password_source``): a typed password is used; an
explicitly empty or null one means no login, which only an on-premises server (provider
OTHER) can accept; an omitted one means the account's stored password, and only for the
port and mode it was saved with, so a token holder cannot have it sent somewhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from i18n import Text
from mail.explain import address_refused
from mail.network import IPNetwork, refused_ip_literal
from mail.presets import ProviderCode, ProviderPreset
from mail.security import Security, check_mode, resolve_security, use_ssl_for
from models import EmailAccount
from oauth.kinds import AuthMethod
from services.addresses import clean_email, clean_host, clean_port
from services.errors import FieldError, InputCode, MailFormCode, Problems
from services.text import clean_password, clean_text

__all__ = [
    "PASSWORD_AGAIN",
    "MailForm",
    "MailValues",
    "PasswordSource",
    "ResolvedForm",
    "field_values",
    "find_account",
    "password_source",
    "resolve_form",
    "unavailable_error",
]

SENDER_NAME_MAX = 200

UNAVAILABLE = Text(
    ru="Вкладка «Почта» станет доступна, когда будут заполнены вкладки «Наши фирмы» "
    "и «Торговые точки и склады».",
    en='The Mail tab becomes available once "Our firms" and "Outlets and warehouses" '
    "are filled in.",
)
SSL_REQUIRED = Text(ru="Укажите, нужен ли SSL.", en="Say whether to use SSL.")
PASSWORD_REQUIRED = Text(
    ru="Укажите пароль приложения для этого ящика.",
    en="Enter the app password of this mailbox.",
)
PASSWORD_AGAIN = Text(
    ru="Порт или защита соединения изменились: введите пароль еще раз "
    "(сохраненный пароль передается только туда, куда он был сохранен).",
    en="The port or the connection security changed: enter the password again "
    "(the stored password is only sent where it was saved for).",
)
PASSWORD_REQUIRED_PUBLIC = Text(
    ru="Почтовый сервис {title} принимает письма только после входа: укажите пароль приложения.",
    en="{title} accepts mail only after login: enter the app password.",
)


@dataclass(frozen=True, slots=True)
class MailForm:
    """The form as the client sent it; ``None`` means "not given"."""

    provider: ProviderCode
    address: str | None
    smtp_host: str | None = None
    port: int | None = None
    use_ssl: bool | None = None
    security: Security | None = None
    password: str | None = field(default=None, repr=False)
    password_given: bool = False
    sender_name: str | None = None
    sender_email: str | None = None
    auth_method: AuthMethod | None = None
    """None: PASSWORD (or no login for an OTHER relay saved with password null)."""


@dataclass(frozen=True, slots=True)
class MailValues:
    """The tab's values once resolved and valid: what Save stores and Send uses."""

    provider: ProviderCode
    smtp_host: str
    port: int
    use_ssl: bool
    security: Security
    address: str
    sender_name: str | None
    sender_email: str

    @property
    def address_key(self) -> str:
        return self.address.lower()


@dataclass(frozen=True, slots=True)
class ResolvedForm(MailValues):
    """A valid form with the preset's values filled in, and the password as given."""

    password: str | None = field(default=None, repr=False)
    password_given: bool = False
    auth_method: AuthMethod | None = None


def field_values(values: MailValues) -> dict[str, Any]:
    return {name: getattr(values, name) for name in MailValues.__dataclass_fields__}


def unavailable_error() -> FieldError:
    return FieldError(field=None, code=MailFormCode.MAIL_TAB_UNAVAILABLE, message=UNAVAILABLE)


def resolve_form(
    form: MailForm,
    presets: dict[ProviderCode, ProviderPreset],
    problems: Problems,
    *,
    deny: Sequence[IPNetwork] = (),
    allow: Sequence[IPNetwork] = (),
) -> ResolvedForm | None:
    """Fill the preset's values in for what was not given, and validate everything at once.

    ``deny``/``allow`` are the deployment's network lists: an IP address the test letter
    would never be sent to is refused here already (names are not resolved).
    """
    preset = presets[form.provider]
    other = form.provider is ProviderCode.OTHER
    host = clean_host(
        form.smtp_host if form.smtp_host is not None else preset.smtp_host,
        field="smtpHost",
        problems=problems,
        required=True,
    )
    if host is not None:
        refused = refused_ip_literal(host, deny=deny, allow=allow)
        if refused is not None:
            message, hint = address_refused(*refused)
            problems.report(
                "smtpHost",
                InputCode.INVALID,
                Text(f"{message.ru} {hint.ru}", f"{message.en} {hint.en}"),
            )
            host = None
    port = clean_port(
        form.port if form.port is not None else preset.port,
        field="port",
        problems=problems,
        required=True,
    )
    use_ssl = form.use_ssl
    if use_ssl is None:
        if form.security is not None:
            use_ssl = use_ssl_for(form.security)
        elif other:
            problems.report("useSsl", InputCode.REQUIRED, SSL_REQUIRED)
        else:
            use_ssl = preset.use_ssl
    address = clean_email(form.address, field="address", problems=problems, required=True)
    sender_email = clean_email(
        form.sender_email, field="senderEmail", problems=problems, required=False
    )
    sender_name = clean_text(
        form.sender_name,
        field="senderName",
        problems=problems,
        required=False,
        max_length=SENDER_NAME_MAX,
    )
    password = clean_password(form.password, field="password", problems=problems)
    if host is None or port is None or use_ssl is None or address is None or problems:
        return None
    security = resolve_security(use_ssl=use_ssl, port=port, explicit=form.security)
    mode_problem = check_mode(security, port, explicit=form.security is not None)
    if mode_problem is not None:
        problems.report(mode_problem.field, InputCode.INVALID, mode_problem.message)
        return None
    return ResolvedForm(
        provider=form.provider,
        smtp_host=host,
        port=port,
        use_ssl=use_ssl_for(security),
        security=security,
        address=address,
        sender_name=sender_name,
        sender_email=sender_email or address,
        password=password,
        password_given=form.password_given,
        auth_method=form.auth_method,
    )


class PasswordSource(Enum):
    """Where the password of a save or a test letter comes from."""

    NEW = "NEW"  # typed into the form
    STORED = "STORED"  # the account's stored one (the form left it out)
    NONE = "NONE"  # no login at all: an on-premises relay (provider OTHER only)
    OAUTH2 = "OAUTH2"  # XOAUTH2 with the mailbox's OAuth2 connection: no password at all


async def find_account(form: MailValues) -> EmailAccount | None:
    """The Email accounts record of the same address and SMTP host, if any."""
    return await EmailAccount.get_or_none(address_key=form.address_key, smtp_host=form.smtp_host)


def password_source(
    form: ResolvedForm, account: EmailAccount | None, presets: dict[ProviderCode, ProviderPreset]
) -> PasswordSource | FieldError:
    """The one rule for Save and Send: typed, else stored, else none (relays only)."""
    relay = form.provider is ProviderCode.OTHER
    if form.auth_method is AuthMethod.OAUTH2:
        return PasswordSource.OAUTH2
    if form.password is not None and form.auth_method is not AuthMethod.NONE:
        return PasswordSource.NEW
    if form.password_given or form.auth_method is AuthMethod.NONE:  # null or empty: no login
        if relay:
            return PasswordSource.NONE
        title = presets[form.provider].title
        return FieldError(
            "password",
            MailFormCode.PASSWORD_REQUIRED,
            Text(
                ru=PASSWORD_REQUIRED_PUBLIC.ru.format(title=title.ru),
                en=PASSWORD_REQUIRED_PUBLIC.en.format(title=title.en),
            ),
        )
    if account is not None and account.password_encrypted:
        # The stored password goes only where it was saved for: the same port and mode.
        # Otherwise anyone with a token could point it at a listener of theirs on the
        # same host, or over a plain connection, and read it.
        if account.port != form.port or account.security != form.security.value:
            return FieldError("password", MailFormCode.PASSWORD_REQUIRED, PASSWORD_AGAIN)
        return PasswordSource.STORED
    if account is not None and relay:
        return PasswordSource.NONE  # saved before as a relay without login
    return FieldError("password", MailFormCode.PASSWORD_REQUIRED, PASSWORD_REQUIRED)
