"""Types of the SMTP conversation's steps and of the tested-configuration memory."""

from __future__ import annotations

from datetime import datetime

import strawberry

from mail.steps import SmtpStep as DomainSmtpStep
from schema.enums import SmtpFailureCode, SmtpStepName, SmtpStepStatus

__all__ = ["MailSettingsTest", "SmtpStep", "to_steps"]


@strawberry.type(description="One step of the SMTP conversation, as it happened.")
class SmtpStep:
    name: SmtpStepName
    status: SmtpStepStatus
    duration_ms: int
    smtp_code: int | None = strawberry.field(description="The server's reply code, if it replied.")
    smtp_reply: str | None = strawberry.field(
        description="The server's reply, redacted: never a password, an AUTH payload or challenge."
    )

    @classmethod
    def from_step(cls, step: DomainSmtpStep) -> SmtpStep:
        return cls(
            name=step.name,
            status=step.status,
            duration_ms=step.duration_ms,
            smtp_code=step.smtp_code,
            smtp_reply=step.smtp_reply,
        )


def to_steps(steps: tuple[DomainSmtpStep, ...] | list[DomainSmtpStep]) -> list[SmtpStep]:
    return [SmtpStep.from_step(step) for step in steps]


@strawberry.type(
    description="The last test letter of exactly the saved configuration (host, port, "
    "security, address and credentials)."
)
class MailSettingsTest:
    at: datetime
    delivered: bool
    failure_code: SmtpFailureCode | None = strawberry.field(
        description="Why it was not delivered; null when it was."
    )
