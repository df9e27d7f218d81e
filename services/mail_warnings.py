"""What an administrator should know before relying on saved settings: Save's warnings.

Warnings never block saving. Each has a ``MailSettingsWarningCode`` and the field to look
at: a sender address the service rewrites or refuses, Outlook's end of password login, a
password over an unencrypted connection, an address of another service than the chosen
one, a placeholder host.
"""

from __future__ import annotations

from i18n import Text
from mail.presets import ProviderCode, ProviderPreset, provider_for_address
from mail.security import Security
from oauth.kinds import AuthMethod
from services.errors import FieldError, MailSettingsWarningCode
from services.mail_form import ResolvedForm

__all__ = ["form_warnings"]


def _password_login_disabled(preset: ProviderPreset) -> FieldError:
    """Outlook's end of password login, pointing at the OAuth2 sign-in this deployment has."""
    return FieldError(
        "authMethod",
        MailSettingsWarningCode.PASSWORD_LOGIN_DISABLED,
        Text(
            ru=f"{preset.title.ru}: с 16 сентября 2024 года Microsoft не принимает вход по паролю "
            "для личных ящиков. Нажмите «Подключить через OAuth2», войдите в ящик и сохраните "
            "настройки со способом входа OAuth2 (authMethod: OAUTH2).",
            en=f"{preset.title.en}: since 16 September 2024 Microsoft no longer accepts password "
            "login for personal mailboxes. Press Connect with OAuth2, sign in to the mailbox and "
            "save the settings with the OAuth2 sign-in method (authMethod: OAUTH2).",
        ),
    )


def form_warnings(
    form: ResolvedForm,
    presets: dict[ProviderCode, ProviderPreset],
    *,
    has_password: bool,
    auth_method: AuthMethod = AuthMethod.PASSWORD,
    oauth2_available: bool = False,
) -> list[FieldError]:
    """What the administrator should know before relying on these settings; never blocking.

    ``oauth2_available``: whether this deployment can connect the provider's mailboxes with
    OAuth2 (the PASSWORD_LOGIN_DISABLED warning then says how).
    """
    preset = presets[form.provider]
    warnings: list[FieldError] = []
    if preset.password_login_disabled and auth_method is not AuthMethod.OAUTH2 and oauth2_available:
        warnings.append(_password_login_disabled(preset))
    elif preset.password_login_disabled and auth_method is not AuthMethod.OAUTH2:
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
