"""Why a test letter failed, in words an administrator can act on.

``classify`` turns whatever the SMTP exchange raised into an ``SmtpFailure``:
a machine-readable code, the input field most likely at fault, a message and
a hint in Russian and English, the provider's help link, and the server's
reply with anything secret removed. The most specific cause is looked for
first: a certificate error hides inside a connect error, a connect timeout is
also a connect error, and a provider's wording beats a bare reply code.
"""

from __future__ import annotations

import base64
import errno
import re
import socket
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit

from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectError,
    SMTPConnectResponseError,
    SMTPConnectTimeoutError,
    SMTPDataError,
    SMTPException,
    SMTPHeloError,
    SMTPNotSupported,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from i18n import Text
from mail.network import AddressNotAllowed, HostNotFound, Refusal
from mail.presets import ProviderCode, ProviderPreset
from mail.security import IMPLICIT_TLS_PORTS, Security

__all__ = [
    "MAX_REPLY_LENGTH",
    "AuthNotOffered",
    "CertificateProblem",
    "DiagnosisContext",
    "FailureCode",
    "SmtpFailure",
    "Stage",
    "address_refused",
    "classify",
    "classify_reply",
    "implicit_tls_expected",
    "not_smtp_server",
    "redact_reply",
    "smtputf8_not_supported",
]

#: Longest server reply passed on; real replies are a line or two.
MAX_REPLY_LENGTH = 500


class FailureCode(StrEnum):
    DNS_FAILURE = "DNS_FAILURE"
    ADDRESS_NOT_ALLOWED = "ADDRESS_NOT_ALLOWED"
    CONNECTION_REFUSED = "CONNECTION_REFUSED"
    HOST_UNREACHABLE = "HOST_UNREACHABLE"
    TIMEOUT = "TIMEOUT"
    TLS_MISMATCH = "TLS_MISMATCH"
    TLS_CERTIFICATE = "TLS_CERTIFICATE"
    TLS_HANDSHAKE = "TLS_HANDSHAKE"
    AUTH_FAILED = "AUTH_FAILED"
    AUTH_NOT_SUPPORTED = "AUTH_NOT_SUPPORTED"
    APP_PASSWORD_REQUIRED = "APP_PASSWORD_REQUIRED"
    PASSWORD_LOGIN_DISABLED = "PASSWORD_LOGIN_DISABLED"
    WEB_LOGIN_REQUIRED = "WEB_LOGIN_REQUIRED"
    SENDER_REJECTED = "SENDER_REJECTED"
    RECIPIENT_REJECTED = "RECIPIENT_REJECTED"
    RELAY_DENIED = "RELAY_DENIED"
    MESSAGE_REJECTED = "MESSAGE_REJECTED"
    SMTPUTF8_NOT_SUPPORTED = "SMTPUTF8_NOT_SUPPORTED"
    NOT_SMTP_SERVER = "NOT_SMTP_SERVER"
    SERVER_DISCONNECTED = "SERVER_DISCONNECTED"
    TEMPORARY_FAILURE = "TEMPORARY_FAILURE"
    UNKNOWN = "UNKNOWN"


class CertificateProblem(StrEnum):
    UNTRUSTED = "UNTRUSTED"
    """Self-signed or issued by a certificate authority nobody here trusts."""
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    HOSTNAME_MISMATCH = "HOSTNAME_MISMATCH"
    OTHER = "OTHER"


class AuthNotOffered(SMTPException):
    """The server offers no password login this client uses (PLAIN or LOGIN) here.

    ``starttls_offered``: the session is plain text and the server offers STARTTLS,
    so it most likely offers login only after it.
    """

    def __init__(self, *, starttls_offered: bool) -> None:
        super().__init__("no usable AUTH mechanism offered")
        self.starttls_offered = starttls_offered


class Stage(StrEnum):
    """The step of the SMTP exchange a reply answered."""

    GREETING = "GREETING"
    HELO = "HELO"
    STARTTLS = "STARTTLS"
    AUTH = "AUTH"
    MAIL = "MAIL"
    RCPT = "RCPT"
    DATA = "DATA"


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpFailure:
    """A classified failure: ``field`` is a camelCase input field or None for the whole form."""

    code: FailureCode
    field: str | None
    message: Text
    hint: Text | None = None
    help_url: str | None = None
    smtp_code: int | None = None
    smtp_reply: str | None = None
    certificate_problem: CertificateProblem | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DiagnosisContext:
    """What was attempted, so a failure can name the field to change and the fix."""

    host: str
    port: int
    security: Security
    address: str
    sender_email: str | None = None
    recipient: str | None = None
    preset: ProviderPreset | None = None
    explicit_security: bool = False
    """True when the mode came from the input's ``security``, not the "Use SSL" box."""
    login: str | None = None
    """The AUTH login, when it is not ``address`` (to recognise encoded credentials)."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """Values that must never be echoed back (the password)."""

    @property
    def mode_field(self) -> str:
        return "security" if self.explicit_security else "useSsl"

    @property
    def sender_differs(self) -> bool:
        return bool(self.sender_email) and (
            (self.sender_email or "").strip().lower() != self.address.strip().lower()
        )


# --- entry points ----------------------------------------------------------------------


def classify(exc: BaseException, *, context: DiagnosisContext) -> SmtpFailure:
    """The failure an exception from resolving, connecting or talking SMTP stands for."""
    if isinstance(exc, HostNotFound):
        return _dns_failure(context, timed_out=exc.timed_out)
    if isinstance(exc, AddressNotAllowed):
        return _address_not_allowed(context, exc)
    certificate_error = _find(exc, ssl.SSLCertVerificationError)
    if certificate_error is not None:
        return _certificate(context, certificate_error)
    tls_error = _find(exc, ssl.SSLError)
    if tls_error is not None:
        if _plain_server_answered(tls_error):
            return _implicit_tls_refused(context)
        return _tls_handshake(context)
    if isinstance(exc, SMTPConnectTimeoutError):
        return _timeout(context, connecting=True)
    if isinstance(exc, SMTPConnectResponseError):
        return classify_reply(exc.code, exc.message, context=context, stage=Stage.GREETING)
    if isinstance(exc, SMTPConnectError):
        return _connect_error(context, exc.__cause__ or exc)
    if isinstance(exc, SMTPRecipientsRefused):
        first = exc.recipients[0] if exc.recipients else None
        if first is not None:
            return classify_reply(first.code, first.message, context=context, stage=Stage.RCPT)
        return _recipient_rejected(context, None, None)
    if isinstance(exc, SMTPResponseException):
        return classify_reply(exc.code, exc.message, context=context, stage=_stage_of(exc))
    if isinstance(exc, SMTPNotSupported) and "smtputf8" in exc.message.lower():
        return smtputf8_not_supported(context, field="address")
    if isinstance(exc, SMTPServerDisconnected):
        return _disconnected(context)
    if isinstance(exc, (SMTPTimeoutError, TimeoutError)):
        return _timeout(context, connecting=False)
    if isinstance(exc, AuthNotOffered):
        return _tls_required(context) if exc.starttls_offered else _auth_not_supported(context)
    if isinstance(exc, SMTPException):
        return _smtp_exception(context, exc.message)
    if isinstance(exc, OSError):
        return _connect_error(context, exc)
    return _unknown(None, None)


def classify_reply(
    code: int, reply: str, *, context: DiagnosisContext, stage: Stage | None
) -> SmtpFailure:
    """The failure a server's reply stands for, by the providers' known wordings first."""
    text = redact_reply(reply, secrets=context.secrets, username=context.login or context.address)
    low = text.lower()

    def done(failure: SmtpFailure) -> SmtpFailure:
        return _with_reply(failure, code, text)

    if _MICROSOFT_BASIC_AUTH_OFF.search(low) or (
        "5.7.3" in low and "authentication unsuccessful" in low and _is_microsoft(context, low)
    ):
        return done(_password_login_disabled(context, text))
    if _APP_PASSWORD.search(low):
        return done(_app_password_required(context, text))
    if _WEB_LOGIN.search(low):
        return done(_web_login_required(context, text))
    if _TLS_REQUIRED.search(low) or code == 538:
        return done(_tls_required(context))
    if 400 <= code < 500:
        return done(_temporary(context, code))
    if _RELAY_DENIED.search(low):
        return done(_relay_denied(context))
    if stage is Stage.AUTH:
        return done(_auth_failed(context, low))
    if _AUTH_REQUIRED.search(low):
        return done(_auth_failed(context, low))
    if stage is Stage.MAIL or _SENDER_REJECTED.search(low):
        return done(_sender_rejected(context))
    if stage is Stage.RCPT or _RECIPIENT_REJECTED.search(low):
        return done(_recipient_rejected(context, code, text))
    if stage is Stage.DATA:
        return done(_message_rejected())
    return done(_unknown(code, text))


def implicit_tls_expected(context: DiagnosisContext) -> SmtpFailure:
    """STARTTLS or plain text against a port that waits for a TLS handshake (465)."""
    if context.explicit_security:
        field_name = "security"
    elif context.security is Security.NONE:
        field_name = "useSsl"
    else:
        field_name = "port"
    hint = (
        Text(
            ru="Включите «Использовать SSL» (порт 465) или укажите порт 587.",
            en="Tick Use SSL (port 465) or use port 587.",
        )
        if context.security is Security.NONE
        else Text(
            ru="Укажите порт 465 с SSL с самого начала (режим SSL/TLS) или порт 587 для STARTTLS.",
            en="Use port 465 with SSL from the start (SSL/TLS mode), or port 587 for STARTTLS.",
        )
    )
    return SmtpFailure(
        code=FailureCode.TLS_MISMATCH,
        field=field_name,
        message=Text(
            ru="Порт {port} ждёт SSL с первого байта, а соединение открывалось без него.",
            en="Port {port} expects SSL from the first byte, but the connection was opened "
            "without it.",
        ).format(port=context.port),
        hint=hint,
    )


def not_smtp_server(context: DiagnosisContext) -> SmtpFailure:
    """Another service answered (SSH, FTP, HTTP …): none of its words are passed on."""
    return SmtpFailure(
        code=FailureCode.NOT_SMTP_SERVER,
        field="port",
        message=Text(
            ru="Сервер {host}:{port} не работает по протоколу SMTP.",
            en="The server at {host}:{port} does not speak SMTP.",
        ).format(host=context.host, port=context.port),
        hint=Text(
            ru="Проверьте SMTP-сервер и порт: по этому адресу отвечает другая служба. "
            "Почту для отправки обычно принимают порты 465 (SSL) и 587 (STARTTLS). "
            "Письмо не отправлялось.",
            en="Check the SMTP server and the port: another service answers there. Mail "
            "submission usually listens on ports 465 (SSL) and 587 (STARTTLS). Nothing was "
            "sent.",
        ),
    )


def smtputf8_not_supported(context: DiagnosisContext, *, field: str) -> SmtpFailure:
    """An address with non-Latin letters before "@" and a server without SMTPUTF8."""
    return SmtpFailure(
        code=FailureCode.SMTPUTF8_NOT_SUPPORTED,
        field=field,
        message=Text(
            ru="В адресе есть буквы не латиницей до «@», а сервер не поддерживает такие "
            "адреса (SMTPUTF8).",
            en="The address has non-Latin letters before the “@”, and the server does not "
            "support such addresses (SMTPUTF8).",
        ),
        hint=Text(
            ru="Используйте адрес, написанный латинскими буквами.",
            en="Use an address written in Latin letters.",
        ),
    )


def redact_reply(text: str, *, secrets: Sequence[str], username: str | None = None) -> str:
    """A server's text safe to show: secrets and AUTH payloads cut out, controls dropped, capped."""
    # Controls go first: turning them into spaces must not be able to re-form a secret.
    text = "".join(ch if ch == "\n" or (ord(ch) >= 32 and ord(ch) != 127) else " " for ch in text)
    # An AUTH command echoed back ("unrecognized command: AUTH PLAIN AGFk...") carries
    # the credentials whatever the password is.
    text = _AUTH_PAYLOAD.sub(r"\1***", text)
    variants = sorted(_secret_variants(secrets, username), key=len, reverse=True)
    for variant in variants:
        text = re.sub(re.escape(variant), "***", text, flags=re.IGNORECASE)
    if any(variant.lower() in text.lower() for variant in variants):
        # A secret that survives its own removal (a password of asterisks): drop it all.
        return ""
    shapes = _secret_shapes(secrets, username)
    text = _cut_shapes(text, shapes)
    remaining = _shape(text)
    if any(shape in remaining for shape in shapes):
        return ""  # re-formed around a cut: nothing of this reply can be trusted
    text = text.strip()
    if len(text) > MAX_REPLY_LENGTH:
        text = text[: MAX_REPLY_LENGTH - 1].rstrip() + "…"
    return text


# --- reply patterns (see SMTP-REPLIES.md) ----------------------------------------------

_MICROSOFT_BASIC_AUTH_OFF = re.compile(
    r"5\.7\.139|5\.7\.30\b|basic authentication is (disabled|not supported)"
)
_APP_PASSWORD = re.compile(
    r"5\.7\.9\b|application-specific password|application password is required"
    r"|parol\w* prilozheniya|app(lication)? password required"
    r"|does not have access rights|not have access rights to this service"
)
_WEB_LOGIN = re.compile(
    r"5\.7\.14\b|log in via your web browser|not a robot|looks like spam"
    r"|please log ?in (via|to) (your )?web"
)
_TLS_REQUIRED = re.compile(
    r"must issue a starttls|5\.7\.7\b|without ssl/tls encryption|encryption required"
    r"|starttls (is )?required|tls required"
)
_RELAY_DENIED = re.compile(r"relay(ing)? (access )?(denied|not permitted|prohibited)|5\.7\.54\b")
_AUTH_REQUIRED = re.compile(r"authentication required|5\.7\.0 authentication")
_SENDER_REJECTED = re.compile(r"not owned by|sender address rejected|sender rejected|5\.7\.60\b")
_RECIPIENT_REJECTED = re.compile(
    r"5\.1\.1\b|user unknown|recipient address rejected|mailbox (unavailable|not found)"
    r"|no such user|does not exist"
)
_AUTH_PAYLOAD = re.compile(r"(?i)(\bAUTH\s+[A-Z0-9_-]+\s+)\S+")
_URL = re.compile(r"https://[^\s<>\"')]+")

#: Hosts whose links in a reply may be passed on as the help link: a reply is the
#: server's text, and a server the admin typed in must not plant arbitrary links.
_TRUSTED_HELP_HOSTS = (
    "support.google.com",
    "help.mail.ru",
    "yandex.ru",
    "yandex.com",
    "support.microsoft.com",
    "learn.microsoft.com",
    "aka.ms",
    "help.rambler.ru",
)


# --- builders ----------------------------------------------------------------------------


def _dns_failure(context: DiagnosisContext, *, timed_out: bool) -> SmtpFailure:
    message = (
        Text(
            ru="Не удалось узнать адрес сервера «{host}»: DNS не ответил.",
            en='Could not look up the server "{host}": DNS did not answer.',
        )
        if timed_out
        else Text(
            ru="Сервер «{host}» не найден: такого имени нет в DNS.",
            en='Server "{host}" not found: the name does not resolve.',
        )
    )
    hint = (
        Text(
            ru="Служба имен (DNS) сейчас не отвечает: повторите попытку позже; если ошибка "
            "не проходит, проверьте доступ сервера mailtab к DNS.",
            en="The name service (DNS) is not answering right now: try again later; if it "
            "persists, check the mailtab server's access to DNS.",
        )
        if timed_out
        else Text(
            ru="Проверьте, как написан адрес SMTP-сервера, — например, smtp.yandex.ru "
            "для Яндекса или smtp.mail.ru для Mail.ru.",
            en="Check the spelling of the SMTP server, e.g. smtp.yandex.ru for Yandex "
            "or smtp.mail.ru for Mail.ru.",
        )
    )
    return SmtpFailure(
        code=FailureCode.DNS_FAILURE,
        field="smtpHost",
        message=message.format(host=context.host),
        hint=hint,
    )


_ADDRESS_REFUSED: dict[Refusal, Text] = {
    Refusal.METADATA: Text(
        ru="Подключаться к адресу {address} запрещено: это служебный адрес метаданных "
        "облака, а не почтовый сервер.",
        en="Connecting to {address} is not allowed: it is a cloud metadata endpoint, "
        "not a mail server.",
    ),
    Refusal.LINK_LOCAL: Text(
        ru="Подключаться к адресу {address} запрещено: это адрес link-local (169.254.0.0/16, "
        "fe80::/10), в облаках за ним стоят служебные метаданные.",
        en="Connecting to {address} is not allowed: it is a link-local address "
        "(169.254.0.0/16, fe80::/10), where clouds keep their metadata service.",
    ),
    Refusal.UNSPECIFIED: Text(
        ru="Подключаться к адресу {address} запрещено: это «неопределённый» адрес, он "
        "ведёт не к почтовому серверу, а на сам сервер программы.",
        en="Connecting to {address} is not allowed: it is an unspecified address, which "
        "leads to this service's own machine, not to a mail server.",
    ),
    Refusal.MULTICAST: Text(
        ru="Подключаться к адресу {address} запрещено: это групповой (multicast) адрес, "
        "почтового сервера по нему быть не может.",
        en="Connecting to {address} is not allowed: it is a multicast address, where no "
        "mail server can be.",
    ),
    Refusal.BROADCAST: Text(
        ru="Подключаться к адресу {address} запрещено: это широковещательный адрес.",
        en="Connecting to {address} is not allowed: it is the broadcast address.",
    ),
    Refusal.DEPLOYMENT: Text(
        ru="Подключаться к адресу {address} запрещено: настройки этого развёртывания "
        "не разрешают подключения к его сети.",
        en="Connecting to {address} is not allowed: this deployment forbids connections "
        "to its network.",
    ),
}
_ADDRESS_REFUSED_HINT = Text(
    ru="Укажите адрес настоящего почтового сервера. Если это и есть ваш сервер, "
    "администратор развёртывания может разрешить его сеть (MAILTAB_SMTP_ALLOW_NETWORKS).",
    en="Enter the real mail server. If this is your server, the deployment's "
    "administrator can allow its network (MAILTAB_SMTP_ALLOW_NETWORKS).",
)
_DEPLOYMENT_REFUSED_HINT = Text(
    ru="Укажите другой SMTP-сервер или попросите администратора развёртывания открыть эту "
    "сеть (она закрыта в MAILTAB_SMTP_DENY_NETWORKS).",
    en="Use another SMTP server, or ask the deployment's administrator to open this "
    "network (MAILTAB_SMTP_DENY_NETWORKS closes it).",
)


def address_refused(address: str, reason: Refusal) -> tuple[Text, Text]:
    """The message and the hint for an address the server never connects to."""
    hint = _DEPLOYMENT_REFUSED_HINT if reason is Refusal.DEPLOYMENT else _ADDRESS_REFUSED_HINT
    return _ADDRESS_REFUSED[reason].format(address=address), hint


def _address_not_allowed(context: DiagnosisContext, exc: AddressNotAllowed) -> SmtpFailure:
    message, hint = address_refused(exc.address, exc.reason)
    return SmtpFailure(
        code=FailureCode.ADDRESS_NOT_ALLOWED, field="smtpHost", message=message, hint=hint
    )


def _connect_error(context: DiagnosisContext, cause: BaseException) -> SmtpFailure:
    if isinstance(cause, ConnectionRefusedError):
        return SmtpFailure(
            code=FailureCode.CONNECTION_REFUSED,
            field="port",
            message=Text(
                ru="Сервер {host} отклонил подключение к порту {port}: почтовая служба "
                "на нём не работает.",
                en="{host} refused the connection on port {port}: no mail service listens there.",
            ).format(host=context.host, port=context.port),
            hint=Text(
                ru="Проверьте порт: обычно это 465 (SSL) или 587 (STARTTLS).",
                en="Check the port: usually 465 (SSL) or 587 (STARTTLS).",
            ),
        )
    if isinstance(cause, socket.gaierror):
        return _dns_failure(context, timed_out=False)
    if isinstance(cause, OSError) and cause.errno in _UNREACHABLE:
        return SmtpFailure(
            code=FailureCode.HOST_UNREACHABLE,
            field="smtpHost",
            message=Text(
                ru="Сервер {host} недоступен из сети, где работает программа.",
                en="{host} cannot be reached from the network this service runs in.",
            ).format(host=context.host),
            hint=Text(
                ru="Проверьте адрес сервера и выход в интернет: исходящие подключения может "
                "закрывать межсетевой экран.",
                en="Check the server address and the internet access: a firewall may block "
                "outgoing connections.",
            ),
        )
    if isinstance(cause, TimeoutError):
        return _timeout(context, connecting=True)
    if isinstance(cause, ConnectionError):
        return _disconnected(context)
    return _unknown(None, None)


_UNREACHABLE = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN, errno.EHOSTDOWN}
)


def _timeout(context: DiagnosisContext, *, connecting: bool) -> SmtpFailure:
    if connecting:
        return SmtpFailure(
            code=FailureCode.TIMEOUT,
            field="port",
            message=Text(
                ru="Сервер {host} не ответил на порту {port} за отведённое время.",
                en="{host} did not answer on port {port} in time.",
            ).format(host=context.host, port=context.port),
            hint=Text(
                ru="Проверьте адрес и порт. Исходящие подключения к порту {port} может "
                "блокировать межсетевой экран или хостинг-провайдер (порт 25 закрыт часто).",
                en="Check the server and port. A firewall or the hosting provider may block "
                "outgoing connections to port {port} (port 25 often is).",
            ).format(port=context.port),
        )
    return SmtpFailure(
        code=FailureCode.TIMEOUT,
        field=None,
        message=Text(
            ru="Сервер {host} перестал отвечать во время отправки.",
            en="{host} stopped answering during the exchange.",
        ).format(host=context.host),
        hint=Text(
            ru="Повторите попытку позже; если не поможет, проверьте порт и режим защиты.",
            en="Try again later; if that does not help, check the port and the security mode.",
        ),
    )


def _implicit_tls_refused(context: DiagnosisContext) -> SmtpFailure:
    """SSL from the start, but the server greeted in plain text (WRONG_VERSION_NUMBER)."""
    if context.explicit_security:
        field_name = "security"
    elif context.port in IMPLICIT_TLS_PORTS:
        field_name = "useSsl"
    else:
        field_name = "port"
    return SmtpFailure(
        code=FailureCode.TLS_MISMATCH,
        field=field_name,
        message=Text(
            ru="Сервер на порту {port} не ждёт SSL с самого начала: здесь защита включается "
            "командой STARTTLS или не используется.",
            en="The server on port {port} does not expect SSL from the start: here encryption "
            "is switched on with STARTTLS, or not used.",
        ).format(port=context.port),
        hint=Text(
            ru="Укажите порт 587 (STARTTLS) или порт 465 с SSL.",
            en="Use port 587 (STARTTLS), or port 465 with SSL.",
        ),
    )


def _starttls_not_offered(context: DiagnosisContext) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.TLS_MISMATCH,
        field=context.mode_field,
        message=Text(
            ru="Сервер {host}:{port} не предлагает STARTTLS, поэтому защищённое соединение "
            "не установлено и пароль не отправлялся.",
            en="{host}:{port} does not offer STARTTLS, so no secure connection was made and "
            "the password was not sent.",
        ).format(host=context.host, port=context.port),
        hint=Text(
            ru="Попробуйте порт 465 с SSL. Если сервер совсем не умеет шифровать, снимите "
            "«Использовать SSL», но пароль тогда пойдёт открытым текстом: так можно только "
            "внутри доверенной сети.",
            en="Try port 465 with SSL. If the server cannot encrypt at all, untick Use SSL, "
            "but the password then travels in clear text: acceptable only inside a trusted "
            "network.",
        ),
    )


def _tls_required(context: DiagnosisContext) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.TLS_MISMATCH,
        field=context.mode_field,
        message=Text(
            ru="Сервер принимает вход и письма только по защищённому соединению.",
            en="The server accepts logins and letters only over a secure connection.",
        ),
        hint=Text(
            ru="Включите «Использовать SSL»: на порту 465 — SSL с самого начала, на порту "
            "587 — STARTTLS.",
            en="Tick Use SSL: SSL from the start on port 465, STARTTLS on port 587.",
        ),
    )


def _tls_handshake(context: DiagnosisContext) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.TLS_HANDSHAKE,
        field=None,
        message=Text(
            ru="Не удалось установить защищённое соединение с {host}:{port}.",
            en="Could not set up a secure connection with {host}:{port}.",
        ).format(host=context.host, port=context.port),
        hint=Text(
            ru="Сервер может поддерживать только устаревшие версии TLS. Проверьте порт и режим "
            "защиты или обратитесь к администратору почтового сервера.",
            en="The server may support only outdated TLS versions. Check the port and the "
            "security mode, or ask the mail server's administrator.",
        ),
    )


def _certificate(context: DiagnosisContext, error: ssl.SSLCertVerificationError) -> SmtpFailure:
    problem = _certificate_problem(error)
    host = context.host
    message, hint = {
        CertificateProblem.UNTRUSTED: (
            Text(
                ru="Сертификат сервера {host} самоподписан или выдан неизвестным центром "
                "сертификации, поэтому ему нельзя доверять.",
                en="The certificate of {host} is self-signed or issued by an unknown "
                "certificate authority, so it cannot be trusted.",
            ),
            Text(
                ru="Если это ваш внутренний сервер, администратор развёртывания может добавить "
                "его корневой сертификат (MAILTAB_SMTP_CA_FILE). Иначе проверьте, что указан "
                "настоящий адрес почтового сервера.",
                en="If this is your own on-premises server, the deployment's administrator can "
                "add its root certificate (MAILTAB_SMTP_CA_FILE). Otherwise check that the "
                "server address is the real one.",
            ),
        ),
        CertificateProblem.EXPIRED: (
            Text(
                ru="Срок действия сертификата сервера {host} истёк.",
                en="The certificate of {host} has expired.",
            ),
            Text(
                ru="Сертификат должен обновить администратор почтового сервера. Проверьте "
                "также дату и время на этом компьютере.",
                en="The mail server's administrator has to renew it. Also check the date and "
                "time of this machine.",
            ),
        ),
        CertificateProblem.NOT_YET_VALID: (
            Text(
                ru="Сертификат сервера {host} ещё не вступил в силу.",
                en="The certificate of {host} is not valid yet.",
            ),
            Text(
                ru="Проверьте дату и время на этом компьютере и на почтовом сервере.",
                en="Check the date and time of this machine and of the mail server.",
            ),
        ),
        CertificateProblem.HOSTNAME_MISMATCH: (
            Text(
                ru="Сертификат сервера выдан на другое имя, не на «{host}».",
                en='The server\'s certificate is issued for another name, not "{host}".',
            ),
            Text(
                ru="Укажите имя сервера так, как оно записано в сертификате (например, "
                "smtp.example.ru, а не IP-адрес или псевдоним).",
                en="Enter the server name exactly as its certificate shows it (for example "
                "smtp.example.ru, not an IP address or an alias).",
            ),
        ),
        CertificateProblem.OTHER: (
            Text(
                ru="Сертификат сервера {host} не прошёл проверку.",
                en="The certificate of {host} failed verification.",
            ),
            Text(
                ru="Обратитесь к администратору почтового сервера.",
                en="Ask the mail server's administrator.",
            ),
        ),
    }[problem]
    return SmtpFailure(
        code=FailureCode.TLS_CERTIFICATE,
        field="smtpHost",
        message=message.format(host=host),
        hint=hint,
        certificate_problem=problem,
    )


def _auth_failed(context: DiagnosisContext, low: str) -> SmtpFailure:
    provider = _provider(context, low)
    help_url = _preset_help_url(context)
    if provider is ProviderCode.YANDEX:
        hint = Text(
            ru="Проверьте пароль: нужен пароль приложения. Яндекс отзывает все пароли "
            "приложений при смене основного пароля, тогда создайте новый.",
            en="Check the password: an app password is needed. Yandex revokes all app "
            "passwords when the main password changes; then create a new one.",
        )
    elif provider is ProviderCode.RAMBLER:
        hint = Text(
            ru="Проверьте пароль и включите «Доступ к почтовому ящику с помощью почтовых "
            "клиентов» в настройках Рамблер/почты.",
            en="Check the password and switch on access from mail clients in the Rambler "
            "mail settings.",
        )
    elif provider in (ProviderCode.GOOGLE, ProviderCode.MAIL_RU):
        hint = Text(
            ru="Нужен пароль приложения, а не обычный пароль от почты. Если он уже введён, "
            "создайте новый: старый мог быть отозван.",
            en="An app password is needed, not the mailbox's normal password. If one is "
            "already entered, create a new one: the old one may have been revoked.",
        )
    else:
        hint = Text(
            ru="Проверьте пароль. Логином служит полный адрес ({address}).",
            en="Check the password. The login is the full address ({address}).",
        ).format(address=context.address)
    return SmtpFailure(
        code=FailureCode.AUTH_FAILED,
        field="password",
        message=Text(
            ru="Сервер не принял адрес и пароль.",
            en="The server did not accept the address and password.",
        ),
        hint=hint,
        help_url=help_url,
    )


def _app_password_required(context: DiagnosisContext, text: str) -> SmtpFailure:
    provider = _provider(context, text.lower())
    hints = {
        ProviderCode.GOOGLE: Text(
            ru="Включите двухэтапную аутентификацию в аккаунте Google, создайте пароль "
            "приложения и вставьте его в поле «Пароль».",
            en="Turn on 2-Step Verification in the Google account, create an app password "
            "and paste it into Password.",
        ),
        ProviderCode.MAIL_RU: Text(
            ru="Создайте «пароль для внешнего приложения» в настройках безопасности Mail.ru "
            "и вставьте его в поле «Пароль».",
            en='Create a "password for an external application" in the Mail.ru security '
            "settings and paste it into Password.",
        ),
        ProviderCode.YANDEX: Text(
            ru="Включите доступ почтовых программ (Настройки → Почтовые программы), создайте "
            "пароль приложения в Яндекс ID и вставьте его в поле «Пароль».",
            en="Switch on access for mail clients (Settings → Email clients), create an app "
            "password in Yandex ID and paste it into Password.",
        ),
    }
    hint = hints.get(
        provider or ProviderCode.OTHER,
        Text(
            ru="Создайте пароль приложения в настройках безопасности почтового ящика и "
            "вставьте его в поле «Пароль».",
            en="Create an app password in the mailbox's security settings and paste it into "
            "Password.",
        ),
    )
    return SmtpFailure(
        code=FailureCode.APP_PASSWORD_REQUIRED,
        field="password",
        message=Text(
            ru="Почтовый сервис требует пароль приложения: обычный пароль от почты "
            "для программ не подходит.",
            en="The mail service requires an app password: the mailbox's normal password "
            "is not accepted from programs.",
        ),
        hint=hint,
        help_url=_preset_help_url(context) or _help_url_in(text),
    )


def _password_login_disabled(context: DiagnosisContext, text: str) -> SmtpFailure:
    preset = context.preset
    help_url = preset.app_password_help_url if preset and preset.password_login_disabled else None
    return SmtpFailure(
        code=FailureCode.PASSWORD_LOGIN_DISABLED,
        field="password",
        message=Text(
            ru="Microsoft больше не принимает вход по паролю для отправки почты: нужен вход "
            "через OAuth2.",
            en="Microsoft no longer accepts password sign-in for sending mail: OAuth2 "
            "sign-in is required.",
        ),
        hint=Text(
            ru="Пароль приложения здесь не поможет. Используйте другой почтовый сервис или, "
            "для ящика Microsoft 365, попросите администратора организации разрешить для него "
            "SMTP AUTH.",
            en="An app password will not help. Use another mail service or, for a Microsoft "
            "365 mailbox, ask the organisation's administrator to allow SMTP AUTH for it.",
        ),
        help_url=help_url or _help_url_in(text),
    )


def _web_login_required(context: DiagnosisContext, text: str) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.WEB_LOGIN_REQUIRED,
        field=None,
        message=Text(
            ru="Почтовый сервис временно не пускает почтовые программы в этот ящик "
            "(подозрение на взлом или рассылку спама).",
            en="The mail service temporarily keeps mail programs out of this mailbox "
            "(suspected break-in or spam).",
        ),
        hint=Text(
            ru="Войдите в веб-почту в браузере, пройдите проверку («я не робот», "
            "подтверждение входа) и повторите отправку.",
            en="Sign in to the web mail in a browser, pass the check (captcha, sign-in "
            "confirmation) and try again.",
        ),
        help_url=_preset_help_url(context) or _help_url_in(text),
    )


def _sender_rejected(context: DiagnosisContext) -> SmtpFailure:
    if context.sender_differs:
        return SmtpFailure(
            code=FailureCode.SENDER_REJECTED,
            field="senderEmail",
            message=Text(
                ru="Сервер отказался отправлять письмо от имени {sender}.",
                en="The server refused to send as {sender}.",
            ).format(sender=context.sender_email or ""),
            hint=Text(
                ru="Укажите в «Email отправителя» тот же адрес, что и в поле «Адрес»: сервис "
                "разрешает отправку только от своего ящика.",
                en="Set Sender email to the same address as Address: the service lets you "
                "send only as your own mailbox.",
            ),
        )
    return SmtpFailure(
        code=FailureCode.SENDER_REJECTED,
        field="address",
        message=Text(
            ru="Сервер отказался отправлять письмо от адреса {sender}.",
            en="The server refused to send from {sender}.",
        ).format(sender=context.address),
        hint=Text(
            ru="Проверьте поле «Адрес»: сервер не считает этот адрес принадлежащим учётной "
            "записи, под которой выполнен вход.",
            en="Check Address: the server does not consider it to belong to the account that "
            "logged in.",
        ),
    )


def _recipient_rejected(
    context: DiagnosisContext, code: int | None, text: str | None
) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.RECIPIENT_REJECTED,
        field="recipient",
        message=Text(
            ru="Сервер отказался принять письмо для {recipient}.",
            en="The server refused to take the letter for {recipient}.",
        ).format(recipient=context.recipient or ""),
        hint=Text(
            ru="Проверьте адрес получателя тестового письма. Подключение и вход прошли "
            "успешно, так что настройки отправки, скорее всего, верны.",
            en="Check the test letter's recipient. Connecting and signing in worked, so the "
            "sending settings are most likely right.",
        ),
    )


def _relay_denied(context: DiagnosisContext) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.RELAY_DENIED,
        field="port",
        message=Text(
            ru="Сервер отказался пересылать письмо дальше (relay access denied).",
            en="The server refused to relay the letter (relay access denied).",
        ),
        hint=Text(
            ru="Используйте порт для отправки с паролем (587 или 465), а не 25, и проверьте, "
            "что адрес в поле «Адрес» относится к этому серверу.",
            en="Use the submission port (587 or 465), not 25, and check that Address belongs "
            "to this server.",
        ),
    )


def _message_rejected() -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.MESSAGE_REJECTED,
        field=None,
        message=Text(
            ru="Сервер отклонил само письмо.",
            en="The server rejected the letter itself.",
        ),
        hint=Text(
            ru="Причину объясняет ответ сервера; чаще всего это спам-фильтр или лимит отправки.",
            en="The server's reply explains why; most often a spam filter or a sending limit.",
        ),
    )


def _temporary(context: DiagnosisContext, code: int) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.TEMPORARY_FAILURE,
        field=None,
        message=Text(
            ru="Сервер временно не может принять письмо (код {code}).",
            en="The server cannot take the letter right now (code {code}).",
        ).format(code=code),
        hint=Text(
            ru="Повторите попытку позже. Если ошибка повторяется, проверьте лимиты отправки "
            "почтового ящика.",
            en="Try again later. If it keeps happening, check the mailbox's sending limits.",
        ),
    )


def _disconnected(context: DiagnosisContext) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.SERVER_DISCONNECTED,
        field=None,
        message=Text(
            ru="Сервер {host}:{port} неожиданно закрыл соединение.",
            en="{host}:{port} closed the connection unexpectedly.",
        ).format(host=context.host, port=context.port),
        hint=Text(
            ru="Проверьте порт и режим защиты. Сервер мог также временно ограничить "
            "подключения с этого адреса; тогда повторите позже.",
            en="Check the port and the security mode. The server may also be limiting "
            "connections from this address for a while; then try again later.",
        ),
    )


def _smtp_exception(context: DiagnosisContext, message: str) -> SmtpFailure:
    low = message.lower()
    if "starttls extension not supported" in low:
        return _starttls_not_offered(context)
    if "auth extension is not supported" in low and context.security is Security.NONE:
        # The server offers login only after STARTTLS: aiosmtplib refuses before sending it.
        return _tls_required(context)
    if "auth extension is not supported" in low or "no suitable authentication" in low:
        return _auth_not_supported(context)
    return _unknown(None, None)


def _auth_not_supported(context: DiagnosisContext) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.AUTH_NOT_SUPPORTED,
        field="port",
        message=Text(
            ru="Сервер {host}:{port} не принимает вход по паролю на этом порту.",
            en="{host}:{port} does not accept a password login on this port.",
        ).format(host=context.host, port=context.port),
        hint=Text(
            ru="Для отправки с паролем обычно служат порты 465 и 587; порт 25 — для "
            "пересылки между серверами.",
            en="Password logins usually go to ports 465 and 587; port 25 is for "
            "server-to-server relay.",
        ),
    )


def _unknown(code: int | None, text: str | None) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.UNKNOWN,
        field=None,
        message=Text(
            ru="Не удалось отправить тестовое письмо.",
            en="The test letter could not be sent.",
        ),
        hint=Text(
            ru="Причину поможет понять ответ сервера.",
            en="The server's reply may explain why.",
        )
        if text
        else None,
    )


# --- helpers -----------------------------------------------------------------------------


def _with_reply(failure: SmtpFailure, code: int, text: str) -> SmtpFailure:
    return replace(failure, smtp_code=code, smtp_reply=text or None)


def _stage_of(exc: SMTPResponseException) -> Stage | None:
    if isinstance(exc, SMTPAuthenticationError):
        return Stage.AUTH
    if isinstance(exc, SMTPSenderRefused):
        return Stage.MAIL
    if isinstance(exc, SMTPRecipientRefused):
        return Stage.RCPT
    if isinstance(exc, SMTPDataError):
        return Stage.DATA
    if isinstance(exc, SMTPHeloError):
        return Stage.HELO
    return None


_E = TypeVar("_E", bound=BaseException)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending and len(seen) < 16:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
        pending += [a for a in current.args if isinstance(a, BaseException)]


def _find(exc: BaseException, kind: type[_E]) -> _E | None:
    for candidate in _chain(exc):
        if isinstance(candidate, kind):
            return candidate
    return None


def _plain_server_answered(error: ssl.SSLError) -> bool:
    # The client's ClientHello got a plain "220 ..." greeting back.
    # getattr: OpenSSL sets these attributes; an SSLError made elsewhere may lack them.
    reason = str(getattr(error, "reason", None) or "").upper()
    if reason in {"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST"}:
        return True
    return "wrong version number" in str(error).lower()


_UNTRUSTED_CODES = frozenset({2, 18, 19, 20, 21, 27})  # X509_V_ERR_* for an unknown issuer
_EXPIRED = 10
_NOT_YET_VALID = 9
_NAME_MISMATCH = frozenset({62, 64})  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH


def _certificate_problem(error: ssl.SSLCertVerificationError) -> CertificateProblem:
    code = getattr(error, "verify_code", None)
    text = str(getattr(error, "verify_message", None) or "").lower()
    if code in _NAME_MISMATCH or "mismatch" in text:
        return CertificateProblem.HOSTNAME_MISMATCH
    if code == _EXPIRED or "expired" in text:
        return CertificateProblem.EXPIRED
    if code == _NOT_YET_VALID or "not yet valid" in text:
        return CertificateProblem.NOT_YET_VALID
    if code in _UNTRUSTED_CODES or "self-signed" in text or "issuer" in text:
        return CertificateProblem.UNTRUSTED
    return CertificateProblem.OTHER


def _preset_help_url(context: DiagnosisContext) -> str | None:
    preset = context.preset
    if preset is None or preset.code is ProviderCode.OTHER:
        return None
    return preset.app_password_help_url


def _help_url_in(text: str) -> str | None:
    for url in _URL.findall(text):
        host = (urlsplit(url).hostname or "").lower()
        if any(host == h or host.endswith("." + h) for h in _TRUSTED_HELP_HOSTS):
            return str(url).rstrip(".,;")
    return None


_PROVIDER_MARKERS: tuple[tuple[ProviderCode, tuple[str, ...]], ...] = (
    (ProviderCode.GOOGLE, ("gmail.com", "google.com", "googlemail.com", "gsmtp")),
    (ProviderCode.MAIL_RU, ("mail.ru", "prilozheniya")),
    (ProviderCode.YANDEX, ("yandex", "ya.ru")),
    (ProviderCode.RAMBLER, ("rambler",)),
    (ProviderCode.OUTLOOK, ("outlook.com", "office365.com", "hotmail.com", "live.com")),
)


def _provider(context: DiagnosisContext, low_reply: str) -> ProviderCode | None:
    if context.preset is not None and context.preset.code is not ProviderCode.OTHER:
        return context.preset.code
    haystack = f"{context.host.lower()} {low_reply}"
    for code, markers in _PROVIDER_MARKERS:
        if any(marker in haystack for marker in markers):
            return code
    return None


def _is_microsoft(context: DiagnosisContext, low_reply: str) -> bool:
    """Outlook.com (personal accounts), where password login is off for everyone.

    Microsoft 365 (smtp.office365.com) gives the same 5.7.3 for a plain wrong
    password, so only the personal service's hosts count here.
    """
    if context.preset is not None and context.preset.password_login_disabled:
        return True
    return context.host.lower().rstrip(".").endswith(_MICROSOFT_PERSONAL_HOSTS)


_MICROSOFT_PERSONAL_HOSTS = ("outlook.com", "hotmail.com", "live.com")


def _shape(text: str) -> str:
    """Letters and digits only, lowercased: a form with anything put between its characters
    ("p a s s", "p-a-s-s", a hex dump "70 61 73 73", "\\x70\\x61") has the same shape."""
    return "".join(ch.lower() for ch in text if ch.isalnum())


def _secret_shapes(secrets: Sequence[str], username: str | None) -> set[str]:
    """The shapes of each secret as typed, reversed and in hex (of its UTF-8 bytes, also
    written "\\xd0…" or "0xD0 …"), and of the base64 of those and of the AUTH payloads."""
    shapes: set[str] = set()
    user = (username or "").encode("utf-8")
    for secret in secrets:
        if not secret:
            continue
        raw = secret.encode("utf-8")
        backwards = secret[::-1].encode("utf-8")
        hexed = raw.hex()
        texts = [
            secret,
            secret[::-1],
            hexed,
            "".join(f"x{byte:02x}" for byte in raw),
            "".join(f"0x{byte:02x}" for byte in raw),
        ]
        for form in (raw, backwards, hexed.encode("ascii"), b"\0" + user + b"\0" + raw):
            texts.append(base64.b64encode(form).decode("ascii"))
        shapes.update(_shape(text) for text in texts)
    return {shape for shape in shapes if shape}


def _cut_shapes(text: str, shapes: set[str]) -> str:
    """``text`` with every stretch whose letters and digits spell one of ``shapes`` cut out.

    Matched on the shape of the text (linear, no backtracking whatever the password),
    then mapped back: the stretch from the first to the last character of the match
    goes, separators between them included.
    """
    if not shapes:
        return text
    letters: list[str] = []
    positions: list[int] = []
    for index, ch in enumerate(text):
        if ch.isalnum():
            low = ch.lower()
            letters.append(low)
            positions.extend([index] * len(low))
    flat = "".join(letters)
    cuts: list[tuple[int, int]] = []
    for shape in shapes:
        start = flat.find(shape)
        while start != -1:
            cuts.append((positions[start], positions[start + len(shape) - 1] + 1))
            start = flat.find(shape, start + 1)
    if not cuts:
        return text
    cuts.sort()
    pieces: list[str] = []
    kept_from = 0
    for begin, end in cuts:
        if end <= kept_from:
            continue  # inside a stretch already cut
        if begin > kept_from:
            pieces.append(text[kept_from:begin])
        if not pieces or pieces[-1] != "***":
            pieces.append("***")
        kept_from = max(kept_from, end)
    pieces.append(text[kept_from:])
    return "".join(pieces)


def _secret_variants(secrets: Sequence[str], username: str | None) -> set[str]:
    variants: set[str] = set()
    user = (username or "").encode("utf-8")
    for secret in secrets:
        if not secret:
            continue
        raw = secret.encode("utf-8")
        # The password as such, and as AUTH LOGIN / AUTH PLAIN put it on the wire.
        forms = [raw, b"\0" + user + b"\0" + raw, user + b"\0" + raw]
        variants.add(secret)
        for form in forms:
            for encoded in (base64.b64encode(form), base64.urlsafe_b64encode(form)):
                text = encoded.decode("ascii")
                variants.update({text, text.rstrip("=")})
    return {v for v in variants if v}
