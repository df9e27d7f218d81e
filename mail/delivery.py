"""Sending the test letter: vet the host, connect, secure the session, log in, send.

How the vetted address and the certificate check fit together: the host is
resolved and vetted once (``mail.network``), this module opens the TCP
connection to that IP itself and hands the connected socket to aiosmtplib
(``SMTP(sock=..., hostname=<name>)``). With a socket, aiosmtplib 5.1.3 passes
``hostname`` as ``server_hostname`` both to the implicit-TLS handshake and to
STARTTLS, so the certificate is checked against the name the administrator
typed (SNI included) while the bytes go to the address that was vetted; no
second DNS lookup can redirect the connection.

The security mode is always explicit: ``SSL_TLS`` is ``use_tls=True``,
``STARTTLS`` is a call of ``starttls()`` right after the greeting (aiosmtplib
raises when the server does not offer it, and login only comes after it),
``NONE`` never upgrades. aiosmtplib always gets ``start_tls=False``: its default
``start_tls=None`` would log in in clear text to a server that does not offer
STARTTLS. Login is one AUTH PLAIN (or LOGIN) attempt, see ``_login``.

Nothing is sent before the peer has greeted like an SMTP server (``_greeted``):
a reply line with 220, or a refusal with 421, 521 or 554. Another service (SSH,
FTP, HTTP, IMAP …) gets no EHLO, and the letter fails with NOT_SMTP_SERVER
without a word of its banner.

A plain or STARTTLS session against an implicit-TLS port (465) gets no
greeting at all: the server waits for a TLS ClientHello. When no greeting
arrives within ``GREETING_PROBE_AFTER`` seconds, a second connection tries a
TLS handshake (certificate not checked, nothing sent over it); if the
handshake succeeds the port wants SSL from the start and the attempt ends at
once with TLS_MISMATCH instead of waiting out the timeout.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
import ssl
import time
from contextlib import suppress
from dataclasses import dataclass, field
from email.headerregistry import AddressHeader
from email.message import EmailMessage
from pathlib import Path

from aiosmtplib import (
    SMTP,
    SMTPConnectResponseError,
    SMTPException,
    SMTPHeloError,
    SMTPResponse,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)
from aiosmtplib.auth import auth_xoauth2_encode

from mail.classify import classify
from mail.connect import address_literal, await_greeting, client_tls_context, connect, greeted
from mail.errors import (
    AuthNotOffered,
    ImplicitTlsExpected,
    NetworkError,
    NotSmtpServer,
    Smtputf8Unsupported,
)
from mail.explain import (
    ca_file_unusable,
    implicit_tls_expected,
    not_smtp_server,
    smtputf8_not_supported,
)
from mail.failures import DiagnosisContext, SmtpFailure
from mail.letter import needs_smtputf8, smtp_address
from mail.network import IPNetwork, resolve_target
from mail.presets import ProviderPreset
from mail.redact import redact_reply
from mail.security import Security
from mail.steps import SmtpStep, StepLog, StepName

__all__ = ["DeliveryResult", "SmtpTarget", "deliver"]

log = logging.getLogger("mailtab.smtp")


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpTarget:
    """Where and how to send: the server, the mode, the login and the limits.

    ``timeout`` bounds every network step (DNS, connect, each command);
    ``total_timeout`` bounds the whole exchange (default: three times ``timeout``).
    ``ca_file`` adds trusted CAs (PEM) to the system store; ``deny``/``allow``
    adjust where the server may connect (see ``mail.network``).
    """

    host: str
    port: int
    security: Security
    username: str
    password: str | None = field(repr=False)
    """None: send without logging in (an on-premises relay that trusts the network)."""
    oauth_token: str | None = field(default=None, repr=False)
    """An OAuth2 access token: log in with SASL XOAUTH2 as ``username`` instead of a password."""
    timeout: float = 30.0
    total_timeout: float | None = None
    ca_file: Path | None = None
    deny: tuple[IPNetwork, ...] = ()
    allow: tuple[IPNetwork, ...] = ()
    explicit_security: bool = False
    """True when the mode came from the input's ``security`` (for naming the field at fault)."""
    local_hostname: str | None = None
    """The EHLO name; by default the local address as a literal ("[192.0.2.1]")."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port out of range: {self.port}")
        if self.timeout <= 0 or (self.total_timeout is not None and self.total_timeout <= 0):
            raise ValueError("timeouts must be positive")

    @property
    def deadline(self) -> float:
        return self.total_timeout if self.total_timeout is not None else 3 * self.timeout


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryResult:
    """The outcome of one attempt; ``failure`` is set exactly when ``delivered`` is false."""

    delivered: bool
    message_id: str | None
    failure: SmtpFailure | None
    duration_ms: int
    smtp_code: int | None = None
    smtp_reply: str | None = None
    """The server's answer to the letter (often with its queue id), or the failing reply."""
    server_address: str | None = None
    """The vetted IP address connected to, for the attempt's record."""
    steps: tuple[SmtpStep, ...] = ()
    """The conversation as it happened (mail.steps), replies redacted; () if nothing was tried."""


@dataclass(slots=True)
class _Progress:
    server_address: str | None = None
    steps: StepLog = field(default_factory=StepLog)


async def deliver(
    message: EmailMessage,
    *,
    target: SmtpTarget,
    envelope_from: str,
    recipient: str,
    preset: ProviderPreset | None,
    sender_email: str,
) -> DeliveryResult:
    """Send ``message`` to ``recipient``; never raises for DNS, network, TLS or SMTP failures.

    ``envelope_from`` is the account's address (the login's mailbox);
    ``sender_email`` is the From address, used to name the field at fault.
    An unusable ``ca_file`` fails TLS modes only, as TLS_CERTIFICATE without a field.
    """
    started = time.monotonic()
    context = DiagnosisContext(
        host=target.host,
        port=target.port,
        security=target.security,
        address=envelope_from,
        sender_email=sender_email,
        recipient=recipient,
        preset=preset,
        explicit_security=target.explicit_security,
        login=target.username,
        secrets=_secrets(target),
    )
    tls_context: ssl.SSLContext | None = None
    if target.security is not Security.NONE:
        # Built before anything connects: a broken CA file is the deployment's fault and
        # must surface as such, not as a certificate failure of the user's server. A
        # plain session never needs it, so a broken file cannot fail one.
        try:
            tls_context = await asyncio.to_thread(client_tls_context, target.ca_file)
        except OSError as exc:  # ssl.SSLError is an OSError
            return _ca_file_unusable(exc, target=target, started=started)
    progress = _Progress(
        steps=StepLog(secrets=_secrets(target), username=target.username),
    )
    failure: SmtpFailure | None = None
    response: SMTPResponse | None = None
    try:
        async with asyncio.timeout(target.deadline):
            response = await _exchange(
                message,
                target=target,
                tls_context=tls_context,
                envelope_from=envelope_from,
                recipient=recipient,
                progress=progress,
            )
    except ImplicitTlsExpected:
        failure = implicit_tls_expected(context)
    except NotSmtpServer:
        failure = not_smtp_server(context)
    except Smtputf8Unsupported as exc:
        failure = smtputf8_not_supported(context, field=exc.field_name)
    except (NetworkError, SMTPException, OSError) as exc:
        # OSError covers ssl.SSLError, TimeoutError and refused connections.
        failure = classify(exc, context=context)
    duration_ms = int((time.monotonic() - started) * 1000)
    if response is None:
        assert failure is not None  # every path without a response sets one
        return DeliveryResult(
            delivered=False,
            message_id=None,
            failure=failure,
            duration_ms=duration_ms,
            smtp_code=failure.smtp_code,
            smtp_reply=failure.smtp_reply,
            server_address=progress.server_address,
            steps=tuple(progress.steps.steps),
        )
    return DeliveryResult(
        delivered=True,
        message_id=str(message["Message-ID"]) if message["Message-ID"] else None,
        failure=None,
        duration_ms=duration_ms,
        smtp_code=response.code,
        smtp_reply=redact_reply(
            response.message, secrets=_secrets(target), username=target.username
        )
        or None,
        server_address=progress.server_address,
        steps=tuple(progress.steps.steps),
    )


async def _exchange(
    message: EmailMessage,
    *,
    target: SmtpTarget,
    tls_context: ssl.SSLContext | None,
    envelope_from: str,
    recipient: str,
    progress: _Progress,
) -> SMTPResponse:
    sender = smtp_address(envelope_from)
    rcpt = smtp_address(recipient)
    utf8_field = _smtputf8_field(message, sender=sender, recipient=rcpt)
    data = message.as_bytes(policy=email.policy.SMTPUTF8 if utf8_field else email.policy.SMTP)

    log = progress.steps
    async with log.step(StepName.RESOLVE):
        resolved = await resolve_target(
            target.host, target.port, deny=target.deny, allow=target.allow, timeout=target.timeout
        )
    progress.server_address = resolved.address
    async with log.step(StepName.CONNECT):
        sock, address = await connect(resolved, seconds=target.timeout)
    progress.server_address = address
    greeting_from = time.monotonic()
    try:
        if target.security is not Security.SSL_TLS:
            try:
                await await_greeting(sock, resolved, address=address, seconds=target.timeout)
            except BaseException as exc:
                log.failed(StepName.GREETING, started=greeting_from, error=exc)
                raise
        smtp = SMTP(
            hostname=resolved.host,  # the name the certificate must show, see the module doc
            sock=sock,
            use_tls=target.security is Security.SSL_TLS,
            # STARTTLS is started below, once the greeting has been judged.
            start_tls=False,
            tls_context=tls_context,
            timeout=target.timeout,
            local_hostname=target.local_hostname or address_literal(sock),
        )
    except BaseException:
        sock.close()
        raise
    # From here on the socket belongs to aiosmtplib's transport, which closes it.
    try:
        if target.security is Security.SSL_TLS:
            await _tls_and_greeting(smtp, log)
        else:
            async with log.step(StepName.GREETING, started=greeting_from) as reply:
                reply.set(await greeted(smtp))
        async with log.step(StepName.EHLO) as reply:
            reply.set(await _hello(smtp))
        if target.security is Security.STARTTLS:
            async with log.step(StepName.STARTTLS) as reply:
                reply.set(await smtp.starttls())  # raises when the server does not offer it
            async with log.step(StepName.EHLO) as reply:
                reply.set(await _hello(smtp))
        await _authenticate(smtp, target=target, log=log)
        options: list[str] = []
        encoding = "utf-8" if utf8_field else "ascii"
        async with log.step(StepName.MAIL_FROM) as reply:
            if utf8_field:
                if not smtp.supports_extension("smtputf8"):
                    raise Smtputf8Unsupported(utf8_field)
                options.append("SMTPUTF8")
            if smtp.supports_extension("size"):
                options.append(f"SIZE={len(data)}")
            reply.set(await smtp.mail(sender, options=options, encoding=encoding))
        async with log.step(StepName.RCPT_TO) as reply:
            reply.set(await smtp.rcpt(rcpt, encoding=encoding))
        async with log.step(StepName.DATA) as reply:
            response = reply.set(await smtp.data(data))
        with suppress(SMTPException, OSError):
            await smtp.quit()
        return response
    finally:
        smtp.close()


async def _tls_and_greeting(smtp: SMTP, log: StepLog) -> None:
    """Implicit TLS: the handshake, then the greeting read over it, as two steps.

    aiosmtplib does both in one ``connect()``; which of them failed is told by the error.
    The time is counted to the handshake: the greeting arrives right behind it.
    """
    started = time.monotonic()
    try:
        greeting = await greeted(smtp)
    except BaseException as exc:
        if _handshake_failed(exc):
            log.failed(StepName.TLS, started=started, error=exc)
        else:
            log.passed(StepName.TLS, started=started)
            log.failed(StepName.GREETING, started=time.monotonic(), error=exc)
        raise
    log.passed(StepName.TLS, started=started)
    log.passed(StepName.GREETING, started=time.monotonic(), response=greeting)


def _handshake_failed(exc: BaseException) -> bool:
    """Whether an implicit-TLS ``connect()`` failed before a TLS session stood."""
    if isinstance(exc, SMTPConnectResponseError | NotSmtpServer):
        return False  # the server answered, over TLS
    # Disconnected or silent after the handshake: aiosmtplib chains what it waited for.
    return not isinstance(exc.__cause__, SMTPServerDisconnected | SMTPTimeoutError)


async def _hello(smtp: SMTP) -> SMTPResponse:
    """EHLO, or HELO for a server that refuses EHLO (RFC 5321 §4.1.4)."""
    try:
        return await smtp.ehlo()
    except SMTPHeloError:
        return await smtp.helo()


async def _authenticate(smtp: SMTP, *, target: SmtpTarget, log: StepLog) -> None:
    """The AUTH step: XOAUTH2 with an access token, a password login, or SKIPPED for a relay."""
    if target.oauth_token is not None:
        async with log.step(StepName.AUTH) as reply:
            reply.set(
                await _login_xoauth2(smtp, username=target.username, token=target.oauth_token)
            )
        return
    if target.password is None:
        log.skip(StepName.AUTH)
        return
    async with log.step(StepName.AUTH) as reply:
        reply.set(await _login(smtp, username=target.username, password=target.password))


def _ca_file_unusable(exc: OSError, *, target: SmtpTarget, started: float) -> DeliveryResult:
    # The operator needs the path and the reason; the user sees neither (the path says
    # how the server is laid out), only that the deployment must fix its setting.
    log.warning(
        "MAILTAB_SMTP_CA_FILE %s cannot be used (%s): TLS test letters fail",
        target.ca_file,
        exc.strerror or type(exc).__name__,
    )
    failure = ca_file_unusable(host=target.host)
    return DeliveryResult(
        delivered=False,
        message_id=None,
        failure=failure,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _secrets(target: SmtpTarget) -> tuple[str, ...]:
    if target.oauth_token:
        # The token, and the XOAUTH2 payload that carries it, never reach a reply or a log.
        return (
            target.oauth_token,
            auth_xoauth2_encode(target.username, target.oauth_token).decode(),
        )
    return (target.password,) if target.password else ()


async def _login_xoauth2(smtp: SMTP, *, username: str, token: str) -> SMTPResponse:
    """One AUTH XOAUTH2 (aiosmtplib's ``auth_xoauth2``) when the server offers it."""
    methods = smtp.server_auth_methods if smtp.supports_extension("auth") else []
    if "xoauth2" not in methods:
        encrypted = smtp.get_transport_info("sslcontext") is not None
        raise AuthNotOffered(starttls_offered=not encrypted and smtp.supports_extension("starttls"))
    return await smtp.auth_xoauth2(username, token)


async def _login(smtp: SMTP, *, username: str, password: str) -> SMTPResponse:
    """One AUTH attempt, PLAIN or else LOGIN (both carry the password UTF-8 encoded).

    aiosmtplib's own login() retries every mechanism the server lists, so a wrong
    password would count as two or three failed logins at the provider, which
    brings its lockouts ("too many login attempts") closer.
    """
    methods = smtp.server_auth_methods if smtp.supports_extension("auth") else []
    if "plain" in methods:
        return await smtp.auth_plain(username, password)
    if "login" in methods:
        return await smtp.auth_login(username, password)
    else:
        encrypted = smtp.get_transport_info("sslcontext") is not None
        raise AuthNotOffered(starttls_offered=not encrypted and smtp.supports_extension("starttls"))


def _smtputf8_field(message: EmailMessage, *, sender: str, recipient: str) -> str | None:
    """The input field whose address needs SMTPUTF8, or None when plain ASCII will do."""
    if needs_smtputf8(sender):
        return "address"
    if needs_smtputf8(recipient):
        return "recipient"
    for name in ("From", "To", "Reply-To"):
        header = message[name]
        if isinstance(header, AddressHeader) and not all(
            a.addr_spec.isascii() for a in header.addresses
        ):
            return "senderEmail" if name != "To" else "recipient"
    return None
