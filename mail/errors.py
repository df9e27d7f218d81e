"""The exceptions of the mail layer, in one place.

Raised inside ``mail/`` and caught either there (delivery turns transport failures into a
classified ``SmtpFailure``) or by the services, which turn them into field errors::

    Exception
    ├── MailError                   anything mail/ refuses or cannot do
    │   ├── LetterError             a value cannot be put into a letter   (ValueError too)
    │   │   └── HeaderInjection     … because it would not come out of a header as it went in
    │   ├── PresetError             a providers file that cannot be used  (ValueError too)
    │   ├── NetworkError            the SMTP host cannot be used
    │   │   ├── HostNotFound        … the name does not resolve
    │   │   └── AddressNotAllowed   … it resolves only to refused networks
    │   ├── DnsUnavailable          no name server answered in time (provider detection)
    │   ├── ImplicitTlsExpected     the port speaks TLS first, the session was plain
    │   ├── NotSmtpServer           another service answered (SSH, FTP, HTTP …)
    │   └── Smtputf8Unsupported     an address needs SMTPUTF8, the server lacks it
    └── aiosmtplib.SMTPException
        └── AuthNotOffered          no password login this client uses is offered

``AuthNotOffered`` is an ``SMTPException`` because it ends an SMTP exchange at the point
aiosmtplib's own errors do, and is classified with them.
"""

from __future__ import annotations

from enum import StrEnum

from aiosmtplib import SMTPException

__all__ = [
    "AddressNotAllowed",
    "AuthNotOffered",
    "DnsUnavailable",
    "HeaderInjection",
    "HostNotFound",
    "ImplicitTlsExpected",
    "LetterError",
    "MailError",
    "NetworkError",
    "NotSmtpServer",
    "PresetError",
    "Refusal",
    "Smtputf8Unsupported",
]


class MailError(Exception):
    """Something the mail layer refuses or cannot do; subclasses say what."""


class LetterError(MailError, ValueError):
    """An address or name that cannot be put into a letter (checked upstream first).

    ``field`` is the camelCase input field the value came from, when known.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class HeaderInjection(LetterError):
    """A value would not come out of the letter's headers as it went in.

    An encoded-word the mail library would decode, a control or bidirectional
    character, or a generated header block that is not exactly the headers set;
    also the library's own ``HeaderWriteError`` on interpreters that have it.
    """


class PresetError(MailError, ValueError):
    """A providers file that cannot be used."""


class Refusal(StrEnum):
    """Why connecting to an address is refused."""

    METADATA = "METADATA"
    """A cloud metadata endpoint (169.254.169.254 …)."""
    LINK_LOCAL = "LINK_LOCAL"
    UNSPECIFIED = "UNSPECIFIED"
    """0.0.0.0/8 or ::, which reach the local host."""
    MULTICAST = "MULTICAST"
    BROADCAST = "BROADCAST"
    DEPLOYMENT = "DEPLOYMENT"
    """In a network the deployment denies (``deny``, MAILTAB_SMTP_DENY_NETWORKS)."""


class NetworkError(MailError):
    """The SMTP host cannot be used; subclasses say why."""


class HostNotFound(NetworkError):
    """The host name does not resolve (or the resolver did not answer in time)."""

    def __init__(self, host: str, *, timed_out: bool = False) -> None:
        super().__init__(f"host not found: {host}" + (" (resolver timed out)" if timed_out else ""))
        self.host = host
        self.timed_out = timed_out


class AddressNotAllowed(NetworkError):
    """The host resolves only to addresses the server must not connect to."""

    def __init__(self, host: str, address: str, *, reason: Refusal = Refusal.DEPLOYMENT) -> None:
        super().__init__(f"connections to {address} are not allowed (host {host})")
        self.host = host
        self.address = address
        self.reason = reason


class DnsUnavailable(MailError):
    """No name server answered in time (unreachable, refusing, or silent)."""


class ImplicitTlsExpected(MailError):
    """The port answered a TLS handshake but gave no plain greeting."""


class NotSmtpServer(MailError):
    """The peer's first words are not an SMTP greeting: another service listens there."""


class Smtputf8Unsupported(MailError):
    """An address needs SMTPUTF8 and the server does not offer it; ``field_name`` says which."""

    def __init__(self, field_name: str) -> None:
        super().__init__(field_name)
        self.field_name = field_name


class AuthNotOffered(SMTPException):
    """The server offers no password login this client uses (PLAIN or LOGIN) here.

    ``starttls_offered``: the session is plain text and the server offers STARTTLS,
    so it most likely offers login only after it.
    """

    def __init__(self, *, starttls_offered: bool) -> None:
        super().__init__("no usable AUTH mechanism offered")
        self.starttls_offered = starttls_offered
