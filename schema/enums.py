"""GraphQL enums: the domain's own enums, registered under the contract's names.

Nothing is defined here: ``strawberry.enum`` registers the domain's ``StrEnum`` itself, so
a code the services report (services.errors) is the value the schema sends.
"""

from __future__ import annotations

from typing import TypeAlias

import strawberry

from mail.detect import DetectionSource
from mail.failures import CertificateProblem, FailureCode
from mail.presets import MailProviderStatus as ProviderStatus
from mail.presets import ProviderCode
from mail.security import Security
from mail.steps import StepName, StepStatus
from models import OutletKind
from oauth.errors import MailOAuthErrorCode
from oauth.kinds import AuthMethod, ConnectionStatus
from services.errors import (
    DetectMailProviderErrorCode,
    FirmErrorCode,
    OutletErrorCode,
    ProbeSmtpServerErrorCode,
    SaveMailSettingsErrorCode,
    SendTestEmailErrorCode,
)
from services.prerequisites import Prerequisite

__all__ = [
    "DetectMailProviderErrorCode",
    "DetectionSource",
    "FirmErrorCode",
    "MailAuthMethod",
    "MailOAuthErrorCode",
    "MailOAuthStatus",
    "MailProviderCode",
    "MailProviderStatus",
    "MailTabPrerequisite",
    "OutletErrorCode",
    "OutletKindEnum",
    "ProbeSmtpServerErrorCode",
    "SaveMailSettingsErrorCode",
    "SendTestEmailErrorCode",
    "SmtpCertificateProblem",
    "SmtpFailureCode",
    "SmtpSecurity",
    "SmtpStepName",
    "SmtpStepStatus",
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
strawberry.enum(AuthMethod, name="MailAuthMethod", description="How the account logs in.")
MailAuthMethod: TypeAlias = AuthMethod
strawberry.enum(
    ConnectionStatus, name="MailOAuthStatus", description="The state of an OAuth2 connection."
)
MailOAuthStatus: TypeAlias = ConnectionStatus
strawberry.enum(
    MailOAuthErrorCode,
    name="MailOAuthErrorCode",
    description="Why an OAuth2 sign-in could not be started or removed.",
)


strawberry.enum(FirmErrorCode, name="FirmErrorCode", description="Why a firm could not be written.")
strawberry.enum(
    OutletErrorCode,
    name="OutletErrorCode",
    description="Why an outlet or warehouse could not be written.",
)
strawberry.enum(
    SaveMailSettingsErrorCode,
    name="SaveMailSettingsErrorCode",
    description="Why the Mail tab's settings could not be saved.",
)
strawberry.enum(
    SendTestEmailErrorCode,
    name="SendTestEmailErrorCode",
    description="Why a test letter could not be tried; nothing was sent.",
)

# Smart setup (SPEC.md §5).
strawberry.enum(
    DetectionSource,
    name="DetectionSource",
    description="Where a suggestion came from: DOMAIN lists, MX hosts, SRV records, or NONE.",
)
strawberry.enum(
    ProviderStatus,
    name="MailProviderStatus",
    description="What it takes before a password login works: OK, PREPARATION in the mailbox "
    "first, or OAUTH2_ONLY.",
)
MailProviderStatus: TypeAlias = ProviderStatus
strawberry.enum(
    DetectMailProviderErrorCode,
    name="DetectMailProviderErrorCode",
    description="Why an address could not be looked at.",
)
strawberry.enum(
    ProbeSmtpServerErrorCode,
    name="ProbeSmtpServerErrorCode",
    description="Why a probe was not made; nothing connected.",
)


strawberry.enum(StepName, name="SmtpStepName", description="A step of the SMTP conversation.")
SmtpStepName: TypeAlias = StepName
strawberry.enum(StepStatus, name="SmtpStepStatus", description="How a step of it went.")
SmtpStepStatus: TypeAlias = StepStatus
