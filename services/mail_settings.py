"""The Mail tab's form: resolved against the presets, validated, saved in one transaction.

Saving writes two places, as the ERP does: the Email accounts reference book
(one record per address and SMTP host, compared normalized) and the program
settings group CRM ► Notifications ► Email, which points at that record.
Both are written in one transaction, each with a single upsert keyed by a
unique constraint, so racing saves of one account update it and never add a
second record. A save that keeps the stored password updates the account only
if it is still the row that allowed it (same port, mode and password), so a
racing save that moves the account cannot leave its password behind.

The password is write-only. Absent from the input: keep the stored one (a new
account must get one: ``PASSWORD_REQUIRED``). Explicitly empty or null: the
account logs in without a password, which only an on-premises server
(provider OTHER) can accept; every public service requires one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from tortoise import timezone
from tortoise.transactions import in_transaction

from i18n import Text
from mail.explain import address_refused
from mail.network import IPNetwork, refused_ip_literal
from mail.presets import ProviderCode, ProviderPreset, provider_for_address
from mail.security import Security, check_mode, resolve_security, use_ssl_for
from models import EmailAccount, ProgramSetting
from services.addresses import clean_email, clean_host, clean_port
from services.errors import (
    FieldError,
    InputCode,
    MailFormCode,
    MailSettingsWarningCode,
    Problems,
    StoredPasswordMoved,
)
from services.mailtab import missing_prerequisites
from services.secrets import PasswordBox
from services.text import clean_password, clean_text

__all__ = [
    "EMAIL_GROUP",
    "SETTING_TITLES",
    "MailForm",
    "PasswordSource",
    "ResolvedForm",
    "SaveOutcome",
    "StoredSettings",
    "find_account",
    "load_stored_settings",
    "password_source",
    "resolve_form",
    "save_mail_settings",
    "unavailable_error",
]

#: The program settings group written by Save: CRM ► Notifications ► Email.
EMAIL_GROUP = "CRM/Notifications/Email"
EMAIL_GROUP_TITLE = Text(
    ru="CRM ► Уведомления ► Электронная почта", en="CRM ► Notifications ► Email"
)
SENDER_NAME_MAX = 200
#: Labels of the group's settings, as the ERP's settings screen shows them.
SETTING_TITLES = {
    "provider": Text(ru="Почтовый сервис", en="Mail service"),
    "smtpHost": Text(ru="SMTP-сервер", en="SMTP server"),
    "port": Text(ru="Порт", en="Port"),
    "useSsl": Text(ru="Использовать SSL", en="Use SSL"),
    "security": Text(ru="Защита соединения", en="Connection security"),
    "address": Text(ru="Адрес", en="Address"),
    "senderName": Text(ru="Имя отправителя", en="Sender name"),
    "senderEmail": Text(ru="Email отправителя", en="Sender email"),
    "accountId": Text(ru="Учетная запись email", en="Email account"),
}

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


@dataclass(frozen=True, slots=True)
class StoredSettings(MailValues):
    """CRM ► Notifications ► Email as saved, with the account it points at."""

    account: EmailAccount

    def as_form(self) -> ResolvedForm:
        """The saved values as a form whose password was not given (use the stored one)."""
        return ResolvedForm(**_values(self))


def _values(values: MailValues) -> dict[str, Any]:
    return {name: getattr(values, name) for name in MailValues.__dataclass_fields__}


@dataclass(slots=True)
class SaveOutcome:
    settings: StoredSettings | None = None
    account: EmailAccount | None = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)


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
    )


def form_warnings(
    form: ResolvedForm, presets: dict[ProviderCode, ProviderPreset], *, has_password: bool
) -> list[FieldError]:
    """What the administrator should know before relying on these settings; never blocking."""
    preset = presets[form.provider]
    warnings: list[FieldError] = []
    if preset.password_login_disabled:
        warnings.append(
            FieldError(
                "provider",
                MailSettingsWarningCode.PASSWORD_LOGIN_DISABLED,
                Text(
                    ru=f"{preset.title.ru}: с 16 сентября 2024 года Microsoft не принимает вход по "
                    "паролю для личных ящиков (только OAuth2), пароль приложения тоже не поможет. "
                    "Используйте другой почтовый сервис или корпоративный сервер.",
                    en=f"{preset.title.en}: since 16 September 2024 Microsoft no longer accepts "
                    "password login for personal mailboxes (OAuth2 only); an app password will not "
                    "help either. Use another mail service or a company server.",
                ),
            )
        )
    if preset.rejects_foreign_sender and form.sender_email.lower() != form.address_key:
        warnings.append(
            FieldError(
                "senderEmail",
                MailSettingsWarningCode.SENDER_DIFFERS_FROM_ADDRESS,
                Text(
                    ru=f"{preset.title.ru} отклоняет или подменяет письма, у которых адрес "
                    "отправителя не совпадает с адресом входа. Укажите в «Email отправителя» "
                    "тот же адрес, что в поле «Адрес».",
                    en=f"{preset.title.en} rejects or rewrites letters whose sender differs from "
                    "the login address. Set Sender email to the same address as Address.",
                ),
            )
        )
    if form.security is Security.NONE and has_password:
        warnings.append(
            FieldError(
                "useSsl",
                MailSettingsWarningCode.INSECURE_CONNECTION,
                Text(
                    ru="Без SSL пароль и письма передаются открытым текстом. Включите "
                    "«Использовать SSL», если сервер это поддерживает.",
                    en="Without SSL the password and letters travel in clear text. Tick Use SSL "
                    "if the server supports it.",
                ),
            )
        )
    if form.smtp_host.endswith(".invalid"):
        # The shipped Tradesoft host is such a placeholder: no public value exists.
        warnings.append(
            FieldError(
                "smtpHost",
                MailSettingsWarningCode.HOST_NOT_CONFIGURED,
                Text(
                    ru=f"«{form.smtp_host}» — заглушка, такого сервера нет: письма не уйдут. "
                    "Укажите SMTP-сервер вручную или попросите администратора развертывания "
                    "задать его (MAILTAB_TRADESOFT_SMTP_HOST).",
                    en=f'"{form.smtp_host}" is a placeholder, no such server exists: letters '
                    "will not go out. Enter the SMTP server, or ask the deployment's "
                    "administrator to set it (MAILTAB_TRADESOFT_SMTP_HOST).",
                ),
            )
        )
    detected = provider_for_address(presets, form.address)
    if (
        detected is not None
        and detected.code is not form.provider
        and form.provider is not ProviderCode.OTHER
    ):
        warnings.append(
            FieldError(
                "provider",
                MailSettingsWarningCode.PROVIDER_MISMATCH,
                Text(
                    ru=f"Адрес относится к сервису {detected.title.ru}, а выбран "
                    f"{preset.title.ru}: проверьте «Почтовый сервис».",
                    en=f"The address belongs to {detected.title.en}, but {preset.title.en} is "
                    "chosen: check Mail service.",
                ),
            )
        )
    return warnings


class PasswordSource(Enum):
    """Where the password of a save or a test letter comes from."""

    NEW = "NEW"  # typed into the form
    STORED = "STORED"  # the account's stored one (the form left it out)
    NONE = "NONE"  # no login at all: an on-premises relay (provider OTHER only)


async def find_account(form: MailValues) -> EmailAccount | None:
    """The Email accounts record of the same address and SMTP host, if any."""
    return await EmailAccount.get_or_none(address_key=form.address_key, smtp_host=form.smtp_host)


def password_source(
    form: ResolvedForm, account: EmailAccount | None, presets: dict[ProviderCode, ProviderPreset]
) -> PasswordSource | FieldError:
    """The one rule for Save and Send: typed, else stored, else none (relays only)."""
    relay = form.provider is ProviderCode.OTHER
    if form.password is not None:
        return PasswordSource.NEW
    if form.password_given:  # explicitly null or empty: no login
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


async def save_mail_settings(
    form: MailForm,
    *,
    presets: dict[ProviderCode, ProviderPreset],
    box: PasswordBox,
    deny: Sequence[IPNetwork] = (),
    allow: Sequence[IPNetwork] = (),
) -> SaveOutcome:
    """Save the tab: the account and the CRM settings in one transaction, or nothing.

    ``deny``/``allow``: the deployment's network lists, see ``resolve_form``.
    """
    if await missing_prerequisites():
        return SaveOutcome(errors=[unavailable_error()])
    problems = Problems()
    resolved = resolve_form(form, presets, problems, deny=deny, allow=allow)
    if resolved is None:
        return SaveOutcome(errors=problems.errors)

    existing = await find_account(resolved)
    source = password_source(resolved, existing, presets)
    if isinstance(source, FieldError):
        return SaveOutcome(errors=[source])
    keep_password = source is PasswordSource.STORED
    encrypted = (
        box.encrypt(resolved.password)
        if source is PasswordSource.NEW and resolved.password is not None
        else None
    )

    try:
        async with in_transaction() as connection:
            if keep_password:
                assert existing is not None  # STORED needs the account that was read
                account = await _update_keeping_password(resolved, existing, connection)
            else:
                account = await _upsert_account(resolved, encrypted, connection)
            await _write_program_settings(resolved, account, connection)
    except StoredPasswordMoved:
        return SaveOutcome(
            errors=[FieldError("password", MailFormCode.PASSWORD_REQUIRED, PASSWORD_AGAIN)]
        )
    stored = StoredSettings(**_values(resolved), account=account)
    warnings = form_warnings(resolved, presets, has_password=account.has_password)
    return SaveOutcome(settings=stored, account=account, warnings=warnings)


async def _update_keeping_password(
    form: ResolvedForm, read: EmailAccount, connection: Any
) -> EmailAccount:
    """Update the account as read, keeping its password, or raise ``StoredPasswordMoved``.

    ``password_source`` allowed the stored password for this port and mode on a read made
    before the transaction; another save may have moved the account (a new port, mode or
    password) since. The update is therefore conditional on the row still being the one
    that was read: keyed on its id, port, mode and password ciphertext, it matches no row
    once any of them changed, on SQLite (no row locks) as on PostgreSQL (which re-checks
    the condition on the newest row version after waiting for a concurrent writer).
    """
    values = _account_values(form, encrypted=None)
    for name in ("address_key", "smtp_host", "password_encrypted"):
        del values[name]
    updated = (
        await EmailAccount.filter(
            id=read.id,
            port=read.port,
            security=read.security,
            password_encrypted=read.password_encrypted,
        )
        .using_db(connection)
        .update(**values, updated_at=timezone.now())
    )
    if not updated:
        raise StoredPasswordMoved
    return await EmailAccount.get(id=read.id, using_db=connection)


def _account_values(form: ResolvedForm, *, encrypted: str | None) -> dict[str, Any]:
    return {
        "provider": form.provider.value,
        "smtp_host": form.smtp_host,
        "port": form.port,
        "use_ssl": form.use_ssl,
        "security": form.security.value,
        "address": form.address,
        "address_key": form.address_key,
        "sender_name": form.sender_name,
        "sender_email": form.sender_email,
        "password_encrypted": encrypted,
    }


async def _upsert_account(
    form: ResolvedForm, encrypted: str | None, connection: Any
) -> EmailAccount:
    """Insert the account, or update it (password included) when it exists."""
    values = _account_values(form, encrypted=encrypted)
    update = [name for name in values if name not in ("address_key", "smtp_host")]
    await EmailAccount.bulk_create(
        [EmailAccount(**values)],
        on_conflict=["address_key", "smtp_host"],
        update_fields=[*update, "updated_at"],
        using_db=connection,
    )
    return await EmailAccount.get(
        address_key=form.address_key, smtp_host=form.smtp_host, using_db=connection
    )


def _settings_values(form: ResolvedForm, account: EmailAccount) -> dict[str, Any]:
    return {
        "provider": form.provider.value,
        "smtpHost": form.smtp_host,
        "port": form.port,
        "useSsl": form.use_ssl,
        "security": form.security.value,
        "address": form.address,
        "senderName": form.sender_name,
        "senderEmail": form.sender_email,
        "accountId": account.id,
    }


async def _write_program_settings(
    form: ResolvedForm, account: EmailAccount, connection: Any
) -> None:
    rows = [
        ProgramSetting(group=EMAIL_GROUP, key=key, value_json=ProgramSetting.encode(value))
        for key, value in _settings_values(form, account).items()
    ]
    await ProgramSetting.bulk_create(
        rows,
        on_conflict=["group", "key"],
        update_fields=["value_json", "updated_at"],
        using_db=connection,
    )


async def load_stored_settings() -> StoredSettings | None:
    """The saved CRM ► Notifications ► Email settings, or None before the first save."""
    values = {row.key: row.value for row in await ProgramSetting.filter(group=EMAIL_GROUP)}
    account_id = values.get("accountId")
    if account_id is None:
        return None
    account = await EmailAccount.get_or_none(id=account_id)
    if account is None:
        return None
    try:
        return StoredSettings(
            provider=ProviderCode(values["provider"]),
            smtp_host=str(values["smtpHost"]),
            port=int(values["port"]),
            use_ssl=bool(values["useSsl"]),
            security=Security(values["security"]),
            address=str(values["address"]),
            sender_name=values.get("senderName"),
            sender_email=str(values["senderEmail"]),
            account=account,
        )
    except (KeyError, ValueError, TypeError):
        return None
