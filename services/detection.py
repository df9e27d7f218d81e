"""Detect the mail service of an address: the use case behind ``detectMailProvider``.

The address is validated as the form's Address is (``services.addresses``: INVALID,
FORBIDDEN_CHARACTERS, REQUIRED, on the field ``email``); then ``mail.detect`` answers
from the provider lists, the domain's MX hosts or its SRV records, through the
deployment's resolver (MAILTAB_DNS_NAMESERVERS, MAILTAB_DNS_TIMEOUT). DNS trouble is
never an error: the answer is then ``NONE`` (the lists still work) in about the timeout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from mail.detect import Suggestion, detect_provider
from services.addresses import clean_email
from services.errors import FieldError, Problems
from services.runtime import Runtime

__all__ = ["DetectOutcome", "detect_mail_provider"]

log = logging.getLogger("mailtab.detect")


@dataclass(frozen=True, slots=True)
class DetectOutcome:
    """The suggestion, or the field errors of an address that cannot be used."""

    suggestion: Suggestion | None = None
    errors: list[FieldError] = field(default_factory=list)


async def detect_mail_provider(email: str | None, *, runtime: Runtime) -> DetectOutcome:
    """What to fill in for ``email``; never raises for DNS trouble."""
    problems = Problems()
    address = clean_email(email, field="email", problems=problems, required=True)
    if address is None:
        return DetectOutcome(errors=problems.errors)
    suggestion = await detect_provider(address, presets=runtime.presets, resolver=runtime.dns)
    if suggestion.dns_unavailable:
        # The operator's concern (a resolver down or unreachable); the user gets NONE.
        log.warning("provider detection: DNS gave no answer in time, suggestion may be partial")
    return DetectOutcome(suggestion=suggestion)
