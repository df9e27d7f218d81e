"""Save: the Mail tab's form written in one transaction; and the settings as saved.

Saving writes two places, as the ERP does: the Email accounts reference book
(one record per address and SMTP host, compared normalized) and the program
settings group CRM ► Notifications ► Email, which points at that record.
Both are written in one transaction, each with a single upsert keyed by a
unique constraint, so racing saves of one account update it and never add a
second record. A save that keeps the stored password updates the account only
if it is still the row that allowed it (same port, mode and password), so a
racing save that moves the account cannot leave its password behind.

The password is write-only; which one a save keeps is services.mail_form's rule, its
warnings are services.mail_warnings'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise import timezone
from tortoise.transactions import in_transaction

from i18n import Text
from mail.network import IPNetwork
from mail.presets import ProviderCode, ProviderPreset
from mail.security import Security
from models import EmailAccount, ProgramSetting
from oauth.kinds import AuthMethod
from services.errors import (
    FieldError,
    MailFormCode,
    Problems,
    StoredPasswordMoved,
)
from services.mail_form import (
    PASSWORD_AGAIN,
    MailForm,
    MailValues,
    PasswordSource,
    ResolvedForm,
    field_values,
    find_account,
    password_source,
    resolve_form,
    unavailable_error,
)
from services.mail_oauth import not_connected_error
from services.mail_warnings import form_warnings
from services.prerequisites import missing_prerequisites
from services.secrets import PasswordBox
from services.tested_config import not_tested, saved_digest

__all__ = [
    "EMAIL_GROUP",
    "SETTING_TITLES",
    "SaveOutcome",
    "StoredSettings",
    "load_stored_settings",
    "save_mail_settings",
]

#: The program settings group written by Save: CRM ► Notifications ► Email.
EMAIL_GROUP = "CRM/Notifications/Email"
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
    "authMethod": Text(ru="Способ входа", en="Sign-in method"),
}


@dataclass(frozen=True, slots=True)
class StoredSettings(MailValues):
    """CRM ► Notifications ► Email as saved, with the account it points at."""

    account: EmailAccount

    def as_form(self) -> ResolvedForm:
        """The saved values as a form whose password was not given (use the stored one)."""
        return ResolvedForm(**field_values(self), auth_method=self.auth_method)

    @property
    def auth_method(self) -> AuthMethod:
        return _auth_method(self.account.auth_method)


@dataclass(slots=True)
class SaveOutcome:
    settings: StoredSettings | None = None
    account: EmailAccount | None = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)


async def save_mail_settings(
    form: MailForm,
    *,
    presets: dict[ProviderCode, ProviderPreset],
    box: PasswordBox,
    deny: Sequence[IPNetwork] = (),
    allow: Sequence[IPNetwork] = (),
    oauth2_available: bool = False,
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
    if source is PasswordSource.OAUTH2:
        not_connected = await not_connected_error(resolved.provider, resolved.address)
        if not_connected is not None:
            return SaveOutcome(errors=[not_connected])
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
                account = await _upsert_account(
                    resolved, encrypted, connection, auth_method=_saved_method(source)
                )
            await _write_program_settings(resolved, account, connection)
    except StoredPasswordMoved:
        return SaveOutcome(
            errors=[FieldError("password", MailFormCode.PASSWORD_REQUIRED, PASSWORD_AGAIN)]
        )
    stored = StoredSettings(**field_values(resolved), account=account)
    warnings = form_warnings(
        resolved,
        presets,
        has_password=account.has_password,
        auth_method=_auth_method(account.auth_method),
        oauth2_available=oauth2_available,
    )
    untested = await _untested(resolved, account, box)
    if untested is not None:
        warnings.append(untested)
    return SaveOutcome(settings=stored, account=account, warnings=warnings)


async def _untested(
    form: ResolvedForm, account: EmailAccount, box: PasswordBox
) -> FieldError | None:
    """NOT_TESTED unless a letter of exactly the saved configuration was delivered."""
    password = (
        box.decrypt(account.password_encrypted, account_id=account.id)
        if account.password_encrypted
        else None
    )
    return await not_tested(saved_digest(form, password, box))


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
    values = _accountfield_values(form, encrypted=None)
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


def _accountfield_values(form: ResolvedForm, *, encrypted: str | None) -> dict[str, Any]:
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


def _saved_method(source: PasswordSource) -> AuthMethod:
    if source is PasswordSource.OAUTH2:
        return AuthMethod.OAUTH2
    return AuthMethod.NONE if source is PasswordSource.NONE else AuthMethod.PASSWORD


def _auth_method(value: str | None) -> AuthMethod:
    try:
        return AuthMethod(value or AuthMethod.PASSWORD)
    except ValueError:
        return AuthMethod.PASSWORD


async def _upsert_account(
    form: ResolvedForm, encrypted: str | None, connection: Any, *, auth_method: AuthMethod
) -> EmailAccount:
    """Insert the account, or update it (password included) when it exists."""
    values = {**_accountfield_values(form, encrypted=encrypted), "auth_method": auth_method.value}
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


def _settingsfield_values(form: ResolvedForm, account: EmailAccount) -> dict[str, Any]:
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
        "authMethod": account.auth_method,
    }


async def _write_program_settings(
    form: ResolvedForm, account: EmailAccount, connection: Any
) -> None:
    rows = [
        ProgramSetting(group=EMAIL_GROUP, key=key, value_json=ProgramSetting.encode(value))
        for key, value in _settingsfield_values(form, account).items()
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
