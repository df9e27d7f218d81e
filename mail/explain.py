"""The ``SmtpFailure`` of each cause: its code, the field at fault, its texts, a help link.

``mail.classify`` decides what went wrong; this module says it: which input field the
administrator should look at (the security-mode rule is ``mail.security.mode_field``),
which sentence of ``mail.failure_texts`` applies, with the host, port or address filled
in, and which help page, from the provider's preset or a trusted link in the reply.
It is longer than the house's 400 lines because it has one short builder per kind of
failure (some thirty of them); splitting them by kind would separate look-alikes.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
from urllib.parse import urlsplit

from i18n import Text
from mail import failure_texts as texts
from mail.errors import AddressNotAllowed, Refusal
from mail.failures import CertificateProblem, DiagnosisContext, FailureCode, SmtpFailure
from mail.presets import ProviderCode
from mail.security import IMPLICIT_TLS_PORTS, Security, mode_field

__all__ = [
    "address_not_allowed",
    "app_password_required",
    "auth_failed",
    "auth_not_supported",
    "ca_file_unusable",
    "certificate",
    "connect_error",
    "disconnected",
    "dns_failure",
    "implicit_tls_expected",
    "implicit_tls_refused",
    "is_microsoft",
    "message_rejected",
    "not_smtp_server",
    "password_login_disabled",
    "recipient_rejected",
    "relay_denied",
    "sender_rejected",
    "smtputf8_not_supported",
    "starttls_not_offered",
    "temporary",
    "timeout",
    "tls_handshake",
    "tls_required",
    "unknown",
    "web_login_required",
]


def implicit_tls_expected(context: DiagnosisContext) -> SmtpFailure:
    """STARTTLS or plain text against a port that waits for a TLS handshake (465)."""
    field_name = mode_field(
        explicit=context.explicit_security, box_at_fault=context.security is Security.NONE
    )
    hint = (
        texts.IMPLICIT_TLS_EXPECTED_HINT_NO_SSL
        if context.security is Security.NONE
        else texts.IMPLICIT_TLS_EXPECTED_HINT
    )
    return SmtpFailure(
        code=FailureCode.TLS_MISMATCH,
        field=field_name,
        message=texts.IMPLICIT_TLS_EXPECTED.format(port=context.port),
        hint=hint,
    )


def not_smtp_server(context: DiagnosisContext) -> SmtpFailure:
    """Another service answered (SSH, FTP, HTTP …): none of its words are passed on."""
    return SmtpFailure(
        code=FailureCode.NOT_SMTP_SERVER,
        field="port",
        message=texts.NOT_SMTP_SERVER.format(host=context.host, port=context.port),
        hint=texts.NOT_SMTP_SERVER_HINT,
    )


def ca_file_unusable(*, host: str) -> SmtpFailure:
    """The deployment's MAILTAB_SMTP_CA_FILE cannot be loaded: nothing about ``host`` is known."""
    return SmtpFailure(
        code=FailureCode.TLS_CERTIFICATE,
        field=None,
        message=texts.CA_FILE_UNUSABLE.format(host=host),
        hint=texts.CA_FILE_UNUSABLE_HINT,
    )


def smtputf8_not_supported(context: DiagnosisContext, *, field: str) -> SmtpFailure:
    """An address with non-Latin letters before "@" and a server without SMTPUTF8."""
    return SmtpFailure(
        code=FailureCode.SMTPUTF8_NOT_SUPPORTED,
        field=field,
        message=texts.SMTPUTF8_NOT_SUPPORTED,
        hint=texts.SMTPUTF8_NOT_SUPPORTED_HINT,
    )


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


def dns_failure(context: DiagnosisContext, *, timed_out: bool) -> SmtpFailure:
    message = texts.DNS_TIMED_OUT if timed_out else texts.DNS_NOT_FOUND
    hint = texts.DNS_TIMED_OUT_HINT if timed_out else texts.DNS_NOT_FOUND_HINT
    return SmtpFailure(
        code=FailureCode.DNS_FAILURE,
        field="smtpHost",
        message=message.format(host=context.host),
        hint=hint,
    )


def address_refused(address: str, reason: Refusal) -> tuple[Text, Text]:
    """The message and the hint for an address the server never connects to."""
    hint = (
        texts.DEPLOYMENT_REFUSED_HINT
        if reason is Refusal.DEPLOYMENT
        else texts.ADDRESS_REFUSED_HINT
    )
    return texts.ADDRESS_REFUSED[reason].format(address=address), hint


def address_not_allowed(context: DiagnosisContext, exc: AddressNotAllowed) -> SmtpFailure:
    message, hint = address_refused(exc.address, exc.reason)
    return SmtpFailure(
        code=FailureCode.ADDRESS_NOT_ALLOWED, field="smtpHost", message=message, hint=hint
    )


def connect_error(context: DiagnosisContext, cause: BaseException) -> SmtpFailure:
    if isinstance(cause, ConnectionRefusedError):
        return SmtpFailure(
            code=FailureCode.CONNECTION_REFUSED,
            field="port",
            message=texts.CONNECTION_REFUSED.format(host=context.host, port=context.port),
            hint=texts.CONNECTION_REFUSED_HINT,
        )
    if isinstance(cause, socket.gaierror):
        return dns_failure(context, timed_out=False)
    if isinstance(cause, OSError) and cause.errno in _UNREACHABLE:
        return SmtpFailure(
            code=FailureCode.HOST_UNREACHABLE,
            field="smtpHost",
            message=texts.HOST_UNREACHABLE.format(host=context.host),
            hint=texts.HOST_UNREACHABLE_HINT,
        )
    if isinstance(cause, TimeoutError):
        return timeout(context, connecting=True)
    if isinstance(cause, ConnectionError):
        return disconnected(context)
    return unknown(None, None)


_UNREACHABLE = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN, errno.EHOSTDOWN}
)


def timeout(context: DiagnosisContext, *, connecting: bool) -> SmtpFailure:
    if connecting:
        return SmtpFailure(
            code=FailureCode.TIMEOUT,
            field="port",
            message=texts.CONNECT_TIMEOUT.format(host=context.host, port=context.port),
            hint=texts.CONNECT_TIMEOUT_HINT.format(port=context.port),
        )
    return SmtpFailure(
        code=FailureCode.TIMEOUT,
        field=None,
        message=texts.EXCHANGE_TIMEOUT.format(host=context.host),
        hint=texts.EXCHANGE_TIMEOUT_HINT,
    )


def implicit_tls_refused(context: DiagnosisContext) -> SmtpFailure:
    """SSL from the start, but the server greeted in plain text (WRONG_VERSION_NUMBER)."""
    field_name = mode_field(
        explicit=context.explicit_security, box_at_fault=context.port in IMPLICIT_TLS_PORTS
    )
    return SmtpFailure(
        code=FailureCode.TLS_MISMATCH,
        field=field_name,
        message=texts.IMPLICIT_TLS_REFUSED.format(port=context.port),
        hint=texts.IMPLICIT_TLS_REFUSED_HINT,
    )


def starttls_not_offered(context: DiagnosisContext) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.TLS_MISMATCH,
        field=context.mode_field,
        message=texts.STARTTLS_NOT_OFFERED.format(host=context.host, port=context.port),
        hint=texts.STARTTLS_NOT_OFFERED_HINT,
    )


def tls_required(context: DiagnosisContext) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.TLS_MISMATCH,
        field=context.mode_field,
        message=texts.TLS_REQUIRED,
        hint=texts.TLS_REQUIRED_HINT,
    )


def tls_handshake(context: DiagnosisContext) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.TLS_HANDSHAKE,
        field=None,
        message=texts.TLS_HANDSHAKE.format(host=context.host, port=context.port),
        hint=texts.TLS_HANDSHAKE_HINT,
    )


def certificate(context: DiagnosisContext, error: ssl.SSLCertVerificationError) -> SmtpFailure:
    problem = _certificate_problem(error)
    host = context.host
    message, hint = texts.CERTIFICATE[problem]
    return SmtpFailure(
        code=FailureCode.TLS_CERTIFICATE,
        field="smtpHost",
        message=message.format(host=host),
        hint=hint,
        certificate_problem=problem,
    )


def auth_failed(context: DiagnosisContext, low: str) -> SmtpFailure:
    provider = _provider(context, low)
    help_url = _preset_help_url(context)
    if provider is ProviderCode.YANDEX:
        hint = texts.AUTH_FAILED_HINT_YANDEX
    elif provider is ProviderCode.RAMBLER:
        hint = texts.AUTH_FAILED_HINT_RAMBLER
    elif provider in (ProviderCode.GOOGLE, ProviderCode.MAIL_RU):
        hint = texts.AUTH_FAILED_HINT_APP_PASSWORD
    else:
        hint = texts.AUTH_FAILED_HINT.format(address=context.address)
    return SmtpFailure(
        code=FailureCode.AUTH_FAILED,
        field="password",
        message=texts.AUTH_FAILED,
        hint=hint,
        help_url=help_url,
    )


def app_password_required(context: DiagnosisContext, text: str) -> SmtpFailure:
    provider = _provider(context, text.lower())
    hints = texts.APP_PASSWORD_REQUIRED_HINTS
    hint = hints.get(
        provider or ProviderCode.OTHER,
        texts.APP_PASSWORD_REQUIRED_HINT,
    )
    return SmtpFailure(
        code=FailureCode.APP_PASSWORD_REQUIRED,
        field="password",
        message=texts.APP_PASSWORD_REQUIRED,
        hint=hint,
        help_url=_preset_help_url(context) or _help_url_in(text),
    )


def password_login_disabled(context: DiagnosisContext, text: str) -> SmtpFailure:
    preset = context.preset
    help_url = preset.app_password_help_url if preset and preset.password_login_disabled else None
    return SmtpFailure(
        code=FailureCode.PASSWORD_LOGIN_DISABLED,
        field="password",
        message=texts.PASSWORD_LOGIN_DISABLED,
        hint=texts.PASSWORD_LOGIN_DISABLED_HINT,
        help_url=help_url or _help_url_in(text),
    )


def web_login_required(context: DiagnosisContext, text: str) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.WEB_LOGIN_REQUIRED,
        field=None,
        message=texts.WEB_LOGIN_REQUIRED,
        hint=texts.WEB_LOGIN_REQUIRED_HINT,
        help_url=_preset_help_url(context) or _help_url_in(text),
    )


def sender_rejected(context: DiagnosisContext) -> SmtpFailure:
    if context.sender_differs:
        return SmtpFailure(
            code=FailureCode.SENDER_REJECTED,
            field="senderEmail",
            message=texts.SENDER_EMAIL_REJECTED.format(sender=context.sender_email or ""),
            hint=texts.SENDER_EMAIL_REJECTED_HINT,
        )
    return SmtpFailure(
        code=FailureCode.SENDER_REJECTED,
        field="address",
        message=texts.SENDER_ADDRESS_REJECTED.format(sender=context.address),
        hint=texts.SENDER_ADDRESS_REJECTED_HINT,
    )


def recipient_rejected(
    context: DiagnosisContext, code: int | None, text: str | None
) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.RECIPIENT_REJECTED,
        field="recipient",
        message=texts.RECIPIENT_REJECTED.format(recipient=context.recipient or ""),
        hint=texts.RECIPIENT_REJECTED_HINT,
    )


def relay_denied(context: DiagnosisContext) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.RELAY_DENIED,
        field="port",
        message=texts.RELAY_DENIED,
        hint=texts.RELAY_DENIED_HINT,
    )


def message_rejected() -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.MESSAGE_REJECTED,
        field=None,
        message=texts.MESSAGE_REJECTED,
        hint=texts.MESSAGE_REJECTED_HINT,
    )


def temporary(context: DiagnosisContext, code: int) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.TEMPORARY_FAILURE,
        field=None,
        message=texts.TEMPORARY_FAILURE.format(code=code),
        hint=texts.TEMPORARY_FAILURE_HINT,
    )


def disconnected(context: DiagnosisContext) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.SERVER_DISCONNECTED,
        field=None,
        message=texts.SERVER_DISCONNECTED.format(host=context.host, port=context.port),
        hint=texts.SERVER_DISCONNECTED_HINT,
    )


def auth_not_supported(context: DiagnosisContext) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.AUTH_NOT_SUPPORTED,
        field="port",
        message=texts.AUTH_NOT_SUPPORTED.format(host=context.host, port=context.port),
        hint=texts.AUTH_NOT_SUPPORTED_HINT,
    )


def unknown(code: int | None, text: str | None) -> SmtpFailure:
    return SmtpFailure(
        code=FailureCode.UNKNOWN,
        field=None,
        message=texts.UNKNOWN,
        hint=texts.UNKNOWN_HINT if text else None,
    )


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


def is_microsoft(context: DiagnosisContext, low_reply: str) -> bool:
    """Outlook.com (personal accounts), where password login is off for everyone.

    Microsoft 365 (smtp.office365.com) gives the same 5.7.3 for a plain wrong
    password, so only the personal service's hosts count here.
    """
    if context.preset is not None and context.preset.password_login_disabled:
        return True
    return context.host.lower().rstrip(".").endswith(_MICROSOFT_PERSONAL_HOSTS)


_MICROSOFT_PERSONAL_HOSTS = ("outlook.com", "hotmail.com", "live.com")
