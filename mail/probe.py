"""Probe an SMTP server's ports: what each one speaks, its certificate, its AUTH offer.

For an administrator who knows the server but not its ports and modes, as
Thunderbird's "guess" step does. The host is resolved once through the same
network guard as test letters (``mail.network.resolve_target``); then every
port is examined concurrently, all of it bounded by ``timeout`` (each port and
the whole probe):

1. connect to the vetted address;
2. wait briefly for a greeting. A port that greets speaks plain SMTP; one that
   stays silent gets a TLS handshake on a second connection, and if that
   succeeds the port speaks TLS from the first byte (SSL_TLS). What a port
   speaks is detected, never assumed from its number. A port that neither
   greets nor completes a handshake in time is unreachable (TIMEOUT);
3. EHLO; a plain port that offers STARTTLS is upgraded (STARTTLS), one that
   does not is NONE;
4. the certificate is checked for the host name against the system's CAs plus
   the deployment's ``ca_file``. When it fails, the problem is recorded and the
   AUTH offer is read over a further, unverified connection: it carries EHLO
   and QUIT only, nothing secret;
5. the AUTH mechanisms offered after TLS are noted, then QUIT.

Nothing else is ever sent: no AUTH, no MAIL FROM, no letter. ``recommended``
is the best usable port: a TLS port with a valid certificate first (SSL_TLS
before STARTTLS), then TLS ports whose certificate fails (a CA file can fix
that), then a plain one; a port offering AUTH before one that does not.

The module is longer than the house's 400 lines: one port's examination (the steps above,
each short) reads best in one place, beside the ranking it feeds.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiosmtplib import (
    SMTP,
    SMTPConnectResponseError,
    SMTPConnectTimeoutError,
    SMTPException,
    SMTPTimeoutError,
)

from mail.classify import classify
from mail.connect import (
    address_literal,
    answered_in_plain_text,
    client_tls_context,
    connect,
    unverified_tls_context,
)
from mail.errors import HostNotFound, NetworkError
from mail.explain import ca_file_unusable
from mail.failures import CertificateProblem, DiagnosisContext, FailureCode, SmtpFailure
from mail.network import IPNetwork, ResolvedTarget, resolve_target
from mail.redact import redact_reply
from mail.security import Security

__all__ = ["MAX_PROBE_PORTS", "TLS_PROBE_AFTER", "PortProbe", "ProbeOutcome", "probe_server"]

#: Most ports one probe examines: each costs connections to someone's server.
MAX_PROBE_PORTS = 10
#: Seconds without a greeting after which a TLS handshake is tried (capped at a third of
#: the timeout). Real servers greet within milliseconds.
TLS_PROBE_AFTER = 1.5

log = logging.getLogger("mailtab.smtp")

#: Input fields of the probe, for failures classified as if for the form.
_PROBE_FIELDS = {"smtpHost": "host", "port": "ports"}
_SECURITY_RANK = {Security.SSL_TLS: 0, Security.STARTTLS: 1, Security.NONE: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class PortProbe:
    """What one port turned out to be.

    ``security`` is what it speaks (None: nothing recognisable in time);
    ``certificate_valid`` is None where no TLS was reached; ``auth_mechanisms``
    are those offered after TLS (on a NONE port, those offered in clear text),
    upper case; ``failure`` says why the port is not reachable or not usable.
    """

    port: int
    security: Security | None
    reachable: bool
    certificate_valid: bool | None
    certificate_problem: CertificateProblem | None
    auth_mechanisms: tuple[str, ...]
    failure: SmtpFailure | None
    duration_ms: int
    greeting: str | None = None
    """The server's 220 text (redacted), e.g. "smtp.example.org ESMTP ready"."""

    @property
    def usable(self) -> bool:
        """Reachable and speaking SMTP; a certificate problem alone leaves it usable."""
        if not self.reachable or self.security is None:
            return False
        return self.failure is None or self.failure.code is FailureCode.TLS_CERTIFICATE


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeOutcome:
    """The probe of one host: a result per port, in the order asked, and the best one.

    ``failure`` is set, and ``results`` empty, when no port could be tried:
    the host does not resolve, resolves only to refused networks, or the
    deployment's CA file cannot be used. Its ``field`` is "host" or None.
    """

    host: str
    address: str | None
    results: tuple[PortProbe, ...]
    recommended: PortProbe | None
    failure: SmtpFailure | None = None


async def probe_server(
    host: str,
    ports: Sequence[int],
    *,
    timeout: float,  # noqa: ASYNC109 - it bounds the whole probe, passed on to every step
    ca_file: Path | None = None,
    deny: Sequence[IPNetwork] = (),
    allow: Sequence[IPNetwork] = (),
    local_hostname: str | None = None,
) -> ProbeOutcome:
    """Examine ``ports`` of ``host``; never raises for DNS, network, TLS or SMTP trouble.

    Raises ValueError for input the service layer should have refused: no
    ports, more than ``MAX_PROBE_PORTS``, a port outside 1..65535 (or not an
    int), a port twice, a timeout that is not positive.
    """
    wanted = _checked_ports(ports)
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    name = host.strip()
    try:
        verify = await asyncio.to_thread(client_tls_context, ca_file)
    except OSError as exc:  # ssl.SSLError is an OSError
        # The operator needs the path and the reason; the user sees neither.
        log.warning(
            "MAILTAB_SMTP_CA_FILE %s cannot be used (%s): SMTP probes fail",
            ca_file,
            exc.strerror or type(exc).__name__,
        )
        return _no_ports(name, ca_file_unusable(host=name))
    try:
        async with asyncio.timeout_at(deadline):
            resolved = await resolve_target(
                name, wanted[0], deny=deny, allow=allow, timeout=timeout
            )
    except TimeoutError:
        return _no_ports(name, _host_failure(HostNotFound(name, timed_out=True), name, wanted[0]))
    except NetworkError as exc:
        return _no_ports(name, _host_failure(exc, name, wanted[0]))
    session = _Session(
        verify=verify,
        unverified=unverified_tls_context(),
        deadline=deadline,
        greeting_wait=min(TLS_PROBE_AFTER, timeout / 3),
        local_hostname=local_hostname,
    )
    results = await asyncio.gather(
        *(_probe_port(replace(resolved, port=port), session) for port in wanted)
    )
    return ProbeOutcome(
        host=resolved.host,
        address=resolved.address,
        results=tuple(results),
        recommended=_recommend(results),
    )


def _checked_ports(ports: Sequence[int]) -> tuple[int, ...]:
    wanted = tuple(ports)
    if not wanted:
        raise ValueError("no ports to probe")
    if len(wanted) > MAX_PROBE_PORTS:
        raise ValueError(f"at most {MAX_PROBE_PORTS} ports per probe")
    for port in wanted:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"port out of range: {port!r}")
    if len(set(wanted)) != len(wanted):
        raise ValueError("a port is listed twice")
    return wanted


def _recommend(results: Sequence[PortProbe]) -> PortProbe | None:
    candidates = [(index, result) for index, result in enumerate(results) if result.usable]
    if not candidates:
        return None

    def rank(item: tuple[int, PortProbe]) -> tuple[bool, bool, int, bool, int]:
        index, result = item
        assert result.security is not None  # usable ones speak something
        return (
            result.security is Security.NONE,
            result.certificate_valid is False,
            _SECURITY_RANK[result.security],
            not result.auth_mechanisms,
            index,
        )

    return min(candidates, key=rank)[1]


# --- one port --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Session:
    """What every port's examination shares."""

    verify: ssl.SSLContext
    unverified: ssl.SSLContext
    deadline: float
    greeting_wait: float
    local_hostname: str | None

    def remaining(self) -> float:
        """Seconds left of the probe's time budget (never quite zero)."""
        return max(self.deadline - asyncio.get_running_loop().time(), 0.001)


@dataclass(slots=True)
class _Findings:
    """What is known of a port so far; a timeout keeps what was learnt before it."""

    port: int
    security: Security | None = None
    reachable: bool = False
    certificate_valid: bool | None = None
    certificate_problem: CertificateProblem | None = None
    auth_mechanisms: tuple[str, ...] = ()
    greeting: str | None = None
    failure: SmtpFailure | None = None

    def fail(self, failure: SmtpFailure) -> None:
        # The first failure is the cause; what breaks after it is a consequence.
        if self.failure is None:
            self.failure = failure


@dataclass(frozen=True, slots=True)
class _TlsAnswer:
    """A port that answered a TLS handshake; ``error`` is why it failed, if it did."""

    error: ssl.SSLError | None


async def _probe_port(target: ResolvedTarget, session: _Session) -> PortProbe:
    findings = _Findings(target.port)
    started = time.monotonic()
    try:
        async with asyncio.timeout_at(session.deadline):
            await _examine(target, findings, session)
    except TimeoutError:
        # Nothing recognisable in time is "unreachable"; a server that stalls later is not.
        stalled: Exception = (
            SMTPTimeoutError("the server stopped answering")
            if findings.reachable
            else SMTPConnectTimeoutError(f"no greeting and no TLS on port {target.port}")
        )
        findings.fail(_classified(stalled, target, findings))
    except (SMTPException, OSError) as exc:  # OSError covers ssl.SSLError and refusals
        findings.fail(_classified(exc, target, findings))
    return PortProbe(
        port=target.port,
        security=findings.security,
        reachable=findings.reachable,
        certificate_valid=findings.certificate_valid,
        certificate_problem=findings.certificate_problem,
        auth_mechanisms=findings.auth_mechanisms,
        failure=findings.failure,
        duration_ms=int((time.monotonic() - started) * 1000),
        greeting=findings.greeting,
    )


async def _examine(target: ResolvedTarget, findings: _Findings, session: _Session) -> None:
    sock, address = await connect(target, seconds=session.remaining())
    try:
        answer = await _greeting_or_tls(sock, target, address, session)
    except BaseException:
        sock.close()
        raise
    # Later connections go to the address that answered, so they reach the same server.
    if answer is None:
        await _plain_port(sock, target, address, findings, session)
        return
    sock.close()
    await _implicit_tls_port(target, address, answer, findings, session)


async def _greeting_or_tls(
    sock: socket.socket, target: ResolvedTarget, address: str, session: _Session
) -> _TlsAnswer | None:
    """None once the server has sent something on ``sock``; a TLS answer if it wants TLS first.

    Waits for the deadline (the caller's timeout) when the port does neither.
    """
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def on_readable() -> None:
        if not readable.done():
            readable.set_result(None)

    # Readiness only: the greeting stays in the socket for aiosmtplib to read.
    loop.add_reader(sock.fileno(), on_readable)
    handshake: asyncio.Task[_TlsAnswer | None] | None = None
    try:
        await asyncio.wait({readable}, timeout=session.greeting_wait)
        if readable.done():
            return None
        handshake = asyncio.create_task(
            _tls_answer(target, address, session), name="smtp-probe-tls"
        )
        either: list[asyncio.Future[Any]] = [readable, handshake]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if readable.done():
            return None
        answer = handshake.result()
        if answer is not None:
            return answer
        await readable  # not TLS either: a slow greeter, or silent until the deadline
        return None
    finally:
        loop.remove_reader(sock.fileno())
        if handshake is not None and not handshake.done():
            handshake.cancel()
            await asyncio.wait({handshake})


async def _tls_answer(target: ResolvedTarget, address: str, session: _Session) -> _TlsAnswer | None:
    """A TLS handshake on a new connection, certificate checked; None if the port is not TLS."""
    try:
        _reader, writer = await asyncio.open_connection(
            address, target.port, ssl=session.verify, server_hostname=target.host
        )
    except ssl.SSLCertVerificationError as exc:
        return _TlsAnswer(exc)  # TLS spoken; the certificate is the trouble
    except ssl.SSLError as exc:
        return None if answered_in_plain_text(exc) else _TlsAnswer(exc)
    except OSError:
        return None
    writer.close()
    with suppress(OSError):
        await writer.wait_closed()
    return _TlsAnswer(None)


async def _implicit_tls_port(
    target: ResolvedTarget,
    address: str,
    answer: _TlsAnswer,
    findings: _Findings,
    session: _Session,
) -> None:
    findings.reachable = True
    findings.security = Security.SSL_TLS
    if answer.error is None:
        findings.certificate_valid = True
        context = session.verify
    else:
        _tls_failed(answer.error, target, findings)
        if findings.certificate_valid is not False:
            return  # the handshake itself fails: nothing more to learn
        context = session.unverified  # EHLO and QUIT only, see the module doc
    sock, _ = await connect(target, seconds=session.remaining(), addresses=(address,))
    smtp = _client(sock, target, session, use_tls=True, tls_context=context)
    try:
        await _greet(smtp, findings)
        await smtp.ehlo()
        findings.auth_mechanisms = _mechanisms(smtp)
        await _quit(smtp)
    finally:
        smtp.close()


async def _plain_port(
    sock: socket.socket,
    target: ResolvedTarget,
    address: str,
    findings: _Findings,
    session: _Session,
) -> None:
    smtp = _client(sock, target, session, use_tls=False, tls_context=None)
    try:
        await _greet(smtp, findings)
        await smtp.ehlo()
        if not smtp.supports_extension("starttls"):
            findings.security = Security.NONE
            findings.auth_mechanisms = _mechanisms(smtp)
            await _quit(smtp)
            return
        findings.security = Security.STARTTLS
        try:
            await smtp.starttls(tls_context=session.verify)
        except (SMTPException, OSError) as exc:
            _tls_failed(exc, target, findings)
            if findings.certificate_valid is not False:
                return
        else:
            findings.certificate_valid = True
            await smtp.ehlo()
            findings.auth_mechanisms = _mechanisms(smtp)
            await _quit(smtp)
            return
    finally:
        smtp.close()
    # The certificate failed: read the AUTH offer over an unverified upgrade (EHLO, QUIT only).
    sock, _ = await connect(target, seconds=session.remaining(), addresses=(address,))
    smtp = _client(sock, target, session, use_tls=False, tls_context=None)
    try:
        await smtp.connect()
        await smtp.ehlo()
        await smtp.starttls(tls_context=session.unverified)
        await smtp.ehlo()
        findings.auth_mechanisms = _mechanisms(smtp)
        await _quit(smtp)
    finally:
        smtp.close()


def _tls_failed(exc: BaseException, target: ResolvedTarget, findings: _Findings) -> None:
    failure = _classified(exc, target, findings)
    findings.fail(failure)
    if failure.code is FailureCode.TLS_CERTIFICATE:
        findings.certificate_valid = False
        findings.certificate_problem = failure.certificate_problem


async def _greet(smtp: SMTP, findings: _Findings) -> None:
    try:
        response = await smtp.connect()
    except SMTPConnectResponseError:
        findings.reachable = True  # it answered in SMTP, with a refusal
        raise
    findings.reachable = True
    findings.greeting = redact_reply(response.message, secrets=()) or None


def _client(
    sock: socket.socket,
    target: ResolvedTarget,
    session: _Session,
    *,
    use_tls: bool,
    tls_context: ssl.SSLContext | None,
) -> SMTP:
    return SMTP(
        hostname=target.host,  # the name the certificate must show (SNI included)
        sock=sock,
        use_tls=use_tls,
        start_tls=False,
        tls_context=tls_context,
        timeout=session.remaining(),
        local_hostname=session.local_hostname or address_literal(sock),
    )


def _mechanisms(smtp: SMTP) -> tuple[str, ...]:
    if not smtp.supports_extension("auth"):
        return ()
    return tuple(dict.fromkeys(method.upper() for method in smtp.server_auth_methods))


async def _quit(smtp: SMTP) -> None:
    with suppress(SMTPException, OSError):
        await smtp.quit()


# --- failures ---------------------------------------------------------------------------


def _classified(exc: BaseException, target: ResolvedTarget, findings: _Findings) -> SmtpFailure:
    context = DiagnosisContext(
        host=target.host,
        port=target.port,
        security=findings.security or Security.NONE,
        address="",
    )
    return _for_probe(classify(exc, context=context))


def _host_failure(exc: NetworkError, host: str, port: int) -> SmtpFailure:
    context = DiagnosisContext(host=host, port=port, security=Security.NONE, address="")
    return _for_probe(classify(exc, context=context))


def _for_probe(failure: SmtpFailure) -> SmtpFailure:
    """The failure with its field named as the probe's input calls it (or None)."""
    return replace(failure, field=_PROBE_FIELDS.get(failure.field or ""))


def _no_ports(host: str, failure: SmtpFailure) -> ProbeOutcome:
    return ProbeOutcome(host=host, address=None, results=(), recommended=None, failure=failure)


# --- helpers ----------------------------------------------------------------------------
