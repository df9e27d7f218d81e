"""What the services refuse, and why: field errors, their codes, and the services' exceptions.

A service never raises for bad input: it returns ``FieldError``\\ s (collected with
``Problems``, so a form's errors all come back at once), each with a code of the enums
below and the camelCase input field at fault. The GraphQL layer registers these enums under
the contract's names (schema/enums.py) and turns the errors into a payload's ``errors``.

Codes, one ``StrEnum`` per domain::

    InputCode                  what every validator reports (services.text, .addresses, …)
    MailFormCode               what the Mail tab's form rules report, for Save and Send
    FirmErrorCode              "Our firms" writes          (InputCode's values and more)
    OutletErrorCode            "Outlets and warehouses" writes
    SaveMailSettingsErrorCode  the Mail tab's Save
    SendTestEmailErrorCode     the Mail tab's Send
    DetectMailProviderErrorCode     detecting the mail service from an address
    ProbeSmtpServerErrorCode        probing an SMTP server's ports
    MailSettingsWarningCode    Save's warnings: never blocking
    MailOAuthErrorCode         startMailOAuth / disconnectMailOAuth (defined in oauth.errors)

A code is carried from one domain to another by its value (a validator's ``REQUIRED`` is
Save's ``REQUIRED``); ``ErrorCode`` is their union, what ``FieldError.code`` holds.

Exceptions, for the few failures that are not an input's fault::

    Exception
    ├── TokenNameTaken (ValueError)   a live token already has that name
    ├── KeyLost                       the key file is gone, passwords stored under it remain
    └── StoredPasswordMoved           a save's account changed between its read and its write
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from i18n import Text
from oauth.errors import MailOAuthErrorCode

__all__ = [
    "DetectMailProviderErrorCode",
    "ErrorCode",
    "FieldError",
    "FirmErrorCode",
    "InputCode",
    "KeyLost",
    "MailFormCode",
    "MailSettingsWarningCode",
    "OutletErrorCode",
    "ProbeSmtpServerErrorCode",
    "Problems",
    "SaveMailSettingsErrorCode",
    "SendTestEmailErrorCode",
    "StoredPasswordMoved",
    "TokenNameTaken",
]


class InputCode(StrEnum):
    """What a validator finds wrong with a value."""

    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    """Also for a value that is too long: the message says the limit."""
    FORBIDDEN_CHARACTERS = "FORBIDDEN_CHARACTERS"
    """Control, line-separator, bidirectional characters; RFC 2047 encoded-words."""
    NOT_FOUND = "NOT_FOUND"
    """An id that names no record."""


class MailFormCode(StrEnum):
    """What the Mail tab's form rules report, for Save and Send alike."""

    MAIL_TAB_UNAVAILABLE = "MAIL_TAB_UNAVAILABLE"
    PASSWORD_REQUIRED = "PASSWORD_REQUIRED"
    OAUTH2_NOT_CONNECTED = "OAUTH2_NOT_CONNECTED"
    """authMethod OAUTH2 without a CONNECTED OAuth2 connection of that mailbox."""


class FirmErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    FORBIDDEN_CHARACTERS = "FORBIDDEN_CHARACTERS"
    NOT_FOUND = "NOT_FOUND"
    FIRM_HAS_OUTLETS = "FIRM_HAS_OUTLETS"


class OutletErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    FORBIDDEN_CHARACTERS = "FORBIDDEN_CHARACTERS"
    NOT_FOUND = "NOT_FOUND"


class SaveMailSettingsErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    MAIL_TAB_UNAVAILABLE = "MAIL_TAB_UNAVAILABLE"
    PASSWORD_REQUIRED = "PASSWORD_REQUIRED"
    FORBIDDEN_CHARACTERS = "FORBIDDEN_CHARACTERS"
    OAUTH2_NOT_CONNECTED = "OAUTH2_NOT_CONNECTED"


class SendTestEmailErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    MAIL_TAB_UNAVAILABLE = "MAIL_TAB_UNAVAILABLE"
    NOT_CONFIGURED = "NOT_CONFIGURED"
    PASSWORD_REQUIRED = "PASSWORD_REQUIRED"
    RATE_LIMITED = "RATE_LIMITED"
    FORBIDDEN_CHARACTERS = "FORBIDDEN_CHARACTERS"
    OAUTH2_NOT_CONNECTED = "OAUTH2_NOT_CONNECTED"


class MailSettingsWarningCode(StrEnum):
    """Something to know about saved settings; Save goes ahead all the same."""

    SENDER_DIFFERS_FROM_ADDRESS = "SENDER_DIFFERS_FROM_ADDRESS"
    PASSWORD_LOGIN_DISABLED = "PASSWORD_LOGIN_DISABLED"
    INSECURE_CONNECTION = "INSECURE_CONNECTION"
    PROVIDER_MISMATCH = "PROVIDER_MISMATCH"
    HOST_NOT_CONFIGURED = "HOST_NOT_CONFIGURED"
    NOT_TESTED = "NOT_TESTED"
    """No test letter of exactly this configuration was delivered."""


class DetectMailProviderErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    FORBIDDEN_CHARACTERS = "FORBIDDEN_CHARACTERS"


class ProbeSmtpServerErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    FORBIDDEN_CHARACTERS = "FORBIDDEN_CHARACTERS"
    RATE_LIMITED = "RATE_LIMITED"


ErrorCode = (
    InputCode
    | MailFormCode
    | FirmErrorCode
    | OutletErrorCode
    | SaveMailSettingsErrorCode
    | SendTestEmailErrorCode
    | MailSettingsWarningCode
    | DetectMailProviderErrorCode
    | ProbeSmtpServerErrorCode
    | MailOAuthErrorCode
)


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one input field (``field=None``: with the whole form)."""

    field: str | None
    code: ErrorCode
    message: Text


class Problems:
    """Collects the field errors of one form, so they are all reported at once."""

    __slots__ = ("errors",)

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, error: FieldError) -> None:
        """Record an error."""
        self.errors.append(error)

    def report(self, field: str | None, code: ErrorCode, message: Text) -> None:
        """Record an error given by its parts."""
        self.errors.append(FieldError(field, code, message))

    def missing(self, field: str, message: Text, *, required: bool) -> None:
        """Record ``REQUIRED`` for an absent value, if the field is required."""
        if required:
            self.report(field, InputCode.REQUIRED, message)

    def has(self, field: str | None) -> bool:
        """Whether an error was recorded for ``field``."""
        return any(error.field == field for error in self.errors)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def __repr__(self) -> str:
        return f"Problems({self.errors!r})"


class TokenNameTaken(ValueError):
    """A live token already has that name (names identify tokens in logs and revocation)."""


class KeyLost(Exception):
    """The embedded key file is gone while passwords encrypted under it remain."""


class StoredPasswordMoved(Exception):
    """The account's port, mode or password changed between a save's read and its write."""
