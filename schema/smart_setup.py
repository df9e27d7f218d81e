"""Types of smart setup: provider detection, the port probe, provider status and checklist."""

from __future__ import annotations

import strawberry

from i18n import Lang
from mail.detect import Suggestion
from mail.presets import ChecklistItem
from mail.probe import PortProbe
from schema.enums import (
    DetectionSource,
    DetectMailProviderErrorCode,
    MailProviderCode,
    ProbeSmtpServerErrorCode,
    SmtpCertificateProblem,
    SmtpSecurity,
)
from schema.errors import UserError
from schema.mail import SmtpFailure

__all__ = [
    "DetectMailProviderError",
    "DetectMailProviderPayload",
    "MailProviderChecklistItem",
    "MailSettingsSuggestion",
    "ProbeSmtpServerError",
    "ProbeSmtpServerPayload",
    "SmtpProbeResult",
]


@strawberry.type(description="A step to take in the mailbox before the first try (localized).")
class MailProviderChecklistItem:
    text: str
    url: str | None

    @classmethod
    def from_item(cls, item: ChecklistItem, lang: Lang) -> MailProviderChecklistItem:
        return cls(text=item.text(lang), url=item.url)


@strawberry.type(description="What to fill in for an address.")
class MailSettingsSuggestion:
    provider: MailProviderCode = strawberry.field(description="OTHER when nothing matched.")
    detected_by: DetectionSource
    smtp_host: str | None = strawberry.field(
        description="The preset's host for a known provider, the SRV target for SRV, else null."
    )
    port: int | None
    security: SmtpSecurity | None
    mx_hosts: list[str] = strawberry.field(
        description="The MX hosts looked up (lower case, no trailing dot), most preferred first."
    )

    @classmethod
    def from_suggestion(cls, suggestion: Suggestion) -> MailSettingsSuggestion:
        return cls(
            provider=suggestion.provider,
            detected_by=suggestion.detected_by,
            smtp_host=suggestion.smtp_host,
            port=suggestion.port,
            security=suggestion.security,
            mx_hosts=list(suggestion.mx_hosts),
        )


@strawberry.type
class DetectMailProviderError(UserError):
    code: DetectMailProviderErrorCode


@strawberry.type
class DetectMailProviderPayload:
    suggestion: MailSettingsSuggestion | None
    errors: list[DetectMailProviderError]


@strawberry.type(description="What one port of the server turned out to be.")
class SmtpProbeResult:
    port: int
    security: SmtpSecurity | None = strawberry.field(
        description="What the port speaks: SSL_TLS (TLS from the first byte), STARTTLS, NONE; "
        "null if unreachable."
    )
    reachable: bool
    certificate_valid: bool | None = strawberry.field(description="Null when no TLS was reached.")
    certificate_problem: SmtpCertificateProblem | None
    auth_mechanisms: list[str] = strawberry.field(
        description='As advertised after TLS, upper case, e.g. ["LOGIN", "PLAIN"].'
    )
    failure: SmtpFailure | None = strawberry.field(description="Why not reachable or not usable.")
    duration_ms: int
    greeting: str | None = strawberry.field(description="The server's greeting, redacted.")

    @classmethod
    def from_probe(cls, probe: PortProbe, lang: Lang) -> SmtpProbeResult:
        return cls(
            port=probe.port,
            security=probe.security,
            reachable=probe.reachable,
            certificate_valid=probe.certificate_valid,
            certificate_problem=probe.certificate_problem,
            auth_mechanisms=list(probe.auth_mechanisms),
            failure=SmtpFailure.from_failure(probe.failure, lang) if probe.failure else None,
            duration_ms=probe.duration_ms,
            greeting=probe.greeting,
        )


@strawberry.type
class ProbeSmtpServerError(UserError):
    code: ProbeSmtpServerErrorCode


@strawberry.type
class ProbeSmtpServerPayload:
    results: list[SmtpProbeResult] = strawberry.field(
        description="One per port tried, in the order of `ports`."
    )
    recommended: SmtpProbeResult | None = strawberry.field(
        description="Best usable: SSL_TLS over STARTTLS over NONE, valid certificate first."
    )
    errors: list[ProbeSmtpServerError]
    failure: SmtpFailure | None = strawberry.field(
        default=None,
        description="Why no port could be tried (the host does not resolve, …); results empty.",
    )
    retry_after: int | None = strawberry.field(
        default=None, description="With RATE_LIMITED: seconds to wait."
    )
