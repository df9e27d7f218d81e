"""Probe an SMTP server's ports: the use case behind ``probeSmtpServer``.

The host is validated as the form's SMTP server is (an IP literal in a refused network
is refused before anything connects), the ports are 1..65535 and at most
``MAX_PROBE_PORTS`` (a port listed twice is tried once). A probe is counted in the
per-token limit of test letters: it connects to someone's server as a letter does.
The whole probe is bounded by MAILTAB_SMTP_TIMEOUT and goes through the same
resolve-once network guard; it never logs in and never sends (``mail.probe``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from i18n import Text
from mail.explain import address_refused
from mail.failures import FailureCode, SmtpFailure
from mail.network import refused_ip_literal
from mail.probe import MAX_PROBE_PORTS, ProbeOutcome, probe_server
from models import ApiToken
from services import telemetry
from services.addresses import clean_host
from services.errors import FieldError, InputCode, ProbeSmtpServerErrorCode, Problems
from services.runtime import Runtime

__all__ = ["DEFAULT_PORTS", "ProbeResult", "probe_smtp_server"]

log = logging.getLogger("mailtab.smtp")

#: What is tried when no ports are given: implicit TLS, submission, relay.
DEFAULT_PORTS = (465, 587, 25)

PORTS_REQUIRED = Text(ru="Укажите хотя бы один порт.", en="Give at least one port.")
PORT_INVALID = Text(
    ru="Порт — целое число от 1 до 65535: {port} не подходит.",
    en="A port is a whole number from 1 to 65535: {port} is not.",
)
TOO_MANY_PORTS = Text(
    ru="За одну проверку — не больше {limit} портов.",
    en="At most {limit} ports per probe.",
)
RATE_LIMITED = Text(
    ru="Слишком много проверок и тестовых писем подряд. Повторите через {seconds} с.",
    en="Too many probes and test letters in a row. Try again in {seconds} s.",
)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The probe's outcome, or why it was not made (``errors``, ``retry_after``)."""

    outcome: ProbeOutcome | None = None
    errors: list[FieldError] = field(default_factory=list)
    retry_after: int | None = None


async def probe_smtp_server(
    host: str | None,
    ports: Sequence[int] | None,
    *,
    runtime: Runtime,
    token: ApiToken | None,
) -> ProbeResult:
    """Validate, rate-limit and probe; never raises for DNS, network, TLS or SMTP trouble."""
    settings = runtime.settings
    problems = Problems()
    name = clean_host(host, field="host", problems=problems, required=True)
    if name is not None:
        refused = refused_ip_literal(
            name, deny=settings.smtp_deny_networks, allow=settings.smtp_allow_networks
        )
        if refused is not None:
            message, hint = address_refused(*refused)
            problems.report(
                "host",
                InputCode.INVALID,
                Text(f"{message.ru} {hint.ru}", f"{message.en} {hint.en}"),
            )
    wanted = _clean_ports(DEFAULT_PORTS if ports is None else ports, problems)
    if problems or name is None or not wanted:
        return ProbeResult(errors=problems.errors)

    key = f"token:{token.id}" if token else "anonymous"
    wait = await runtime.limiter.hit(key)
    if wait is not None:
        telemetry.record_rate_limited("probeSmtpServer")
        error = FieldError(
            None, ProbeSmtpServerErrorCode.RATE_LIMITED, RATE_LIMITED.format(seconds=wait)
        )
        return ProbeResult(errors=[error], retry_after=wait)

    outcome = await probe_server(
        name,
        wanted,
        timeout=settings.smtp_timeout,
        ca_file=settings.smtp_ca_file,
        deny=tuple(settings.smtp_deny_networks),
        allow=tuple(settings.smtp_allow_networks),
    )
    # Who probed what, for the operator: connections to someone's server are made here.
    log.info(
        "SMTP probe of %s ports %s by token %s: %s",
        name,
        ",".join(str(port) for port in wanted),
        token.name if token else "-",
        _summary(outcome),
    )
    return ProbeResult(outcome=outcome, errors=_host_errors(outcome.failure))


def _summary(outcome: ProbeOutcome) -> str:
    if outcome.failure is not None:
        return str(outcome.failure.code)
    if outcome.recommended is not None:
        return f"recommended {outcome.recommended.port}"
    return "nothing usable"


def _clean_ports(ports: Sequence[int], problems: Problems) -> tuple[int, ...]:
    """The ports in the order given, each once; errors on the field ``ports``."""
    if not ports:
        problems.report("ports", InputCode.REQUIRED, PORTS_REQUIRED)
        return ()
    unique = tuple(dict.fromkeys(ports))
    if len(unique) > MAX_PROBE_PORTS:
        problems.report("ports", InputCode.INVALID, TOO_MANY_PORTS.format(limit=MAX_PROBE_PORTS))
        return ()
    for port in unique:
        if isinstance(port, bool) or not 1 <= port <= 65535:
            problems.report("ports", InputCode.INVALID, PORT_INVALID.format(port=port))
            return ()
    return unique


def _host_errors(failure: SmtpFailure | None) -> list[FieldError]:
    """A host that resolves only into refused networks is the input's fault: a field error."""
    if failure is None or failure.code is not FailureCode.ADDRESS_NOT_ALLOWED:
        return []
    return [FieldError("host", InputCode.INVALID, failure.message)]
