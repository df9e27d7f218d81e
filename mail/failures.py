"""What a failed SMTP exchange is, as data: its code, the field at fault, the words, the reply.

``classify`` (mail.classify) builds these; the texts live in mail.failure_texts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from i18n import Text
from mail.presets import ProviderPreset
from mail.security import Security, mode_field

__all__ = ["CertificateProblem", "DiagnosisContext", "FailureCode", "SmtpFailure", "Stage"]


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
    # OAuth2 (XOAUTH2) sign-in: no access token could be had, so nothing connected.
    OAUTH2_REAUTHORIZATION_REQUIRED = "OAUTH2_REAUTHORIZATION_REQUIRED"
    OAUTH2_PROVIDER_UNAVAILABLE = "OAUTH2_PROVIDER_UNAVAILABLE"
    OAUTH2_PROVIDER_REFUSED = "OAUTH2_PROVIDER_REFUSED"
    OAUTH2_NOT_CONFIGURED = "OAUTH2_NOT_CONFIGURED"


class CertificateProblem(StrEnum):
    UNTRUSTED = "UNTRUSTED"
    """Self-signed or issued by a certificate authority nobody here trusts."""
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    HOSTNAME_MISMATCH = "HOSTNAME_MISMATCH"
    OTHER = "OTHER"


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
        """The field to change when the mode is wrong but the port is right."""
        return mode_field(explicit=self.explicit_security, box_at_fault=True)

    @property
    def sender_differs(self) -> bool:
        return bool(self.sender_email) and (
            (self.sender_email or "").strip().lower() != self.address.strip().lower()
        )
