"""GraphQL enums: the domain's own enums, exposed under the contract's names."""

from __future__ import annotations

from enum import Enum
from typing import TypeAlias

import strawberry

from mail.failures import CertificateProblem, FailureCode
from mail.presets import ProviderCode
from mail.security import Security
from models import OutletKind
from services.mailtab import Prerequisite

__all__ = [
    "FirmErrorCode",
    "MailProviderCode",
    "MailTabPrerequisite",
    "OutletErrorCode",
    "OutletKindEnum",
    "SaveMailSettingsErrorCode",
    "SendTestEmailErrorCode",
    "SmtpCertificateProblem",
    "SmtpFailureCode",
    "SmtpSecurity",
]

# strawberry.enum registers the domain enum itself under the contract's name.
strawberry.enum(ProviderCode, name="MailProviderCode")
MailProviderCode: TypeAlias = ProviderCode
strawberry.enum(Security, name="SmtpSecurity")
SmtpSecurity: TypeAlias = Security
strawberry.enum(Prerequisite, name="MailTabPrerequisite")
MailTabPrerequisite: TypeAlias = Prerequisite
strawberry.enum(OutletKind, name="OutletKind")
OutletKindEnum: TypeAlias = OutletKind
strawberry.enum(
    FailureCode, name="SmtpFailureCode", description="Why a test letter was not delivered."
)
SmtpFailureCode: TypeAlias = FailureCode
strawberry.enum(
    CertificateProblem,
    name="SmtpCertificateProblem",
    description="What is wrong with the server's certificate (with TLS_CERTIFICATE).",
)
SmtpCertificateProblem: TypeAlias = CertificateProblem


@strawberry.enum(description="Why a firm could not be written.")
class FirmErrorCode(Enum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    FORBIDDEN_CHARACTERS = "FORBIDDEN_CHARACTERS"
    NOT_FOUND = "NOT_FOUND"
    FIRM_HAS_OUTLETS = "FIRM_HAS_OUTLETS"


@strawberry.enum(description="Why an outlet or warehouse could not be written.")
class OutletErrorCode(Enum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    FORBIDDEN_CHARACTERS = "FORBIDDEN_CHARACTERS"
    NOT_FOUND = "NOT_FOUND"


@strawberry.enum(description="Why the Mail tab's settings could not be saved.")
class SaveMailSettingsErrorCode(Enum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    MAIL_TAB_UNAVAILABLE = "MAIL_TAB_UNAVAILABLE"
    PASSWORD_REQUIRED = "PASSWORD_REQUIRED"
    FORBIDDEN_CHARACTERS = "FORBIDDEN_CHARACTERS"


@strawberry.enum(description="Why a test letter could not be tried; nothing was sent.")
class SendTestEmailErrorCode(Enum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    MAIL_TAB_UNAVAILABLE = "MAIL_TAB_UNAVAILABLE"
    NOT_CONFIGURED = "NOT_CONFIGURED"
    PASSWORD_REQUIRED = "PASSWORD_REQUIRED"
    RATE_LIMITED = "RATE_LIMITED"
    FORBIDDEN_CHARACTERS = "FORBIDDEN_CHARACTERS"
