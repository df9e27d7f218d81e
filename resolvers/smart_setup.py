"""Resolvers of smart setup: detect the provider of an address, probe a server's ports."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.enums import DetectMailProviderErrorCode, ProbeSmtpServerErrorCode
from schema.errors import to_errors
from schema.mail import SmtpFailure
from schema.smart_setup import (
    DetectMailProviderError,
    DetectMailProviderPayload,
    MailSettingsSuggestion,
    ProbeSmtpServerError,
    ProbeSmtpServerPayload,
    SmtpProbeResult,
)
from services import detection, port_probe

__all__ = ["detect_mail_provider", "probe_smtp_server"]


async def detect_mail_provider(
    info: strawberry.Info,
    email: Annotated[str, strawberry.argument(description="The mailbox address, as typed.")],
) -> DetectMailProviderPayload:
    """The mail service and its server for an address: provider lists, then MX, then SRV."""
    ctx = info.context
    outcome = await detection.detect_mail_provider(email, runtime=ctx.runtime)
    return DetectMailProviderPayload(
        suggestion=(
            MailSettingsSuggestion.from_suggestion(outcome.suggestion)
            if outcome.suggestion
            else None
        ),
        errors=to_errors(
            DetectMailProviderError, DetectMailProviderErrorCode, outcome.errors, ctx.lang
        ),
    )


async def probe_smtp_server(
    info: strawberry.Info,
    host: Annotated[str, strawberry.argument(description="The SMTP server's name or address.")],
    ports: Annotated[
        list[int] | None,
        strawberry.argument(description="Ports to try together (at most 10)."),
    ] = (465, 587, 25),  # type: ignore[assignment]
) -> ProbeSmtpServerPayload:
    """What each port speaks, its certificate and AUTH offer; never logs in, never sends."""
    ctx = info.context
    result = await port_probe.probe_smtp_server(host, ports, runtime=ctx.runtime, token=ctx.token)
    if result.retry_after is not None:
        ctx.note_outcome("rate_limited")
    errors = to_errors(ProbeSmtpServerError, ProbeSmtpServerErrorCode, result.errors, ctx.lang)
    outcome = result.outcome
    if outcome is None:
        return ProbeSmtpServerPayload(
            results=[], recommended=None, errors=errors, retry_after=result.retry_after
        )
    return ProbeSmtpServerPayload(
        results=[SmtpProbeResult.from_probe(probe, ctx.lang) for probe in outcome.results],
        recommended=(
            SmtpProbeResult.from_probe(outcome.recommended, ctx.lang)
            if outcome.recommended
            else None
        ),
        errors=errors,
        failure=SmtpFailure.from_failure(outcome.failure, ctx.lang) if outcome.failure else None,
    )
