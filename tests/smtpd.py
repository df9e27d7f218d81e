"""In-process SMTP peers for the mail tests: real aiosmtpd servers with real TLS, loopback only.

- ``make_certificates``: a trustme CA (written to a PEM file for the client's
  ``ca_file``) with server certificates for localhost/127.0.0.1: a good one,
  an expired one, one for another name and one from a CA nobody trusts.
- ``smtp_server``: an aiosmtpd ``Controller`` on 127.0.0.1, port chosen by the
  OS, in one of three modes (STARTTLS with AUTH only after it, implicit TLS,
  plain text), with accepted accounts and provider-like failure replies, and a
  ``Recorder`` of what it received.
- ``silent_server``: accepts TCP and never says a word.
- ``closed_port``: a port nothing listens on.

Nothing here is a fixture: test modules wrap these in fixtures of their own.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = [
    "GMAIL_APP_PASSWORD_REQUIRED",
    "LOOPBACK",
    "MAILRU_APP_PASSWORD_REQUIRED",
    "RCPT_USER_UNKNOWN",
    "SENDER_NOT_OWNED",
    "Certificates",
    "Recorder",
    "Replies",
    "RunningServer",
    "ServerMode",
    "closed_port",
    "make_certificates",
    "server_tls_context",
    "silent_server",
    "smtp_server",
]

#: The only address test servers listen on.
LOOPBACK = "127.0.0.1"

# Provider replies, worded as in SMTP-REPLIES.md.
GMAIL_APP_PASSWORD_REQUIRED = (
    "534-5.7.9 Application-specific password required. Learn more at\r\n"
    "534 5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor x1-20020a05.0 - gsmtp"
)
MAILRU_APP_PASSWORD_REQUIRED = (
    "535 5.7.0 NEOBHODIM parol prilozheniya https://help.mail.ru/mail/security/protection/"
    "external / Application password is REQUIRED"
)
SENDER_NOT_OWNED = "553 5.7.1 <{sender}>: Sender address rejected: not owned by user {login}"
RCPT_USER_UNKNOWN = "550 5.1.1 <{recipient}>: Recipient address rejected: User unknown"


@dataclass(frozen=True, slots=True)
class Certificates:
    ca_file: Path
    """PEM of the test CA, for the client's ``ca_file``."""
    good: Any
    """trustme.LeafCert for localhost, 127.0.0.1 and ::1."""
    name_only: Any
    """For localhost only: passes only if the client checks the name, not the IP."""
    expired: Any
    wrong_name: Any
    """Valid, trusted, but issued for mail.example.test only."""
    untrusted: Any
    """For localhost, but from a CA the client does not know."""


def make_certificates(directory: Path) -> Certificates:
    ca = trustme.CA()
    stranger = trustme.CA()
    now = datetime.now(UTC)
    ca_file = directory / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Certificates(
        ca_file=ca_file,
        good=ca.issue_cert("localhost", LOOPBACK, "::1"),
        name_only=ca.issue_cert("localhost"),
        expired=ca.issue_cert(
            "localhost",
            LOOPBACK,
            not_before=now - timedelta(days=30),
            not_after=now - timedelta(days=1),
        ),
        wrong_name=ca.issue_cert("mail.example.test"),
        untrusted=stranger.issue_cert("localhost", LOOPBACK),
    )


def server_tls_context(certificate: Any) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    return context


class ServerMode(StrEnum):
    STARTTLS = "STARTTLS"
    """Plain greeting, STARTTLS required before anything else, AUTH offered only after it."""
    IMPLICIT_TLS = "IMPLICIT_TLS"
    """TLS from the first byte (a port-465 server)."""
    PLAIN = "PLAIN"
    """No TLS at all; AUTH offered in clear text (bait for a client that would use it)."""


@dataclass(slots=True)
class Replies:
    """Failure replies to send instead of the normal ones (None = behave)."""

    auth: str | None = None
    mail_from: str | None = None
    rcpt: str | None = None


@dataclass(slots=True)
class Recorder:
    """What a server saw; written from the server's thread, read after the exchange ended."""

    accounts: Mapping[str, str]
    replies: Replies
    greeting_delay: float = 0.0
    auth_required: bool = True
    """False: an on-premises relay that takes mail from anyone who can reach it."""
    auth_commands: list[str] = field(default_factory=list)
    """Mechanism of every AUTH command received, in order."""
    auth_over_tls: list[bool] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    passwords: list[str] = field(default_factory=list)
    mail_from: list[str] = field(default_factory=list)
    mail_options: list[list[str]] = field(default_factory=list)
    rcpt_tos: list[str] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)
    ehlo_names: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunningServer:
    host: str
    port: int
    recorder: Recorder


class _Handler:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        self.recorder.ehlo_names.append(hostname)
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        self.recorder.mail_from.append(address)
        self.recorder.mail_options.append(list(mail_options))
        if self.recorder.auth_required and not session.authenticated:
            # aiosmtpd's own auth_required warns when TLS is not required for AUTH
            # (implicit TLS looks like "no TLS" to it), so this check is made here.
            return "530 5.7.0 Authentication required"
        if self.recorder.replies.mail_from:
            return self.recorder.replies.mail_from
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        self.recorder.rcpt_tos.append(address)
        if self.recorder.replies.rcpt:
            return self.recorder.replies.rcpt
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        self.recorder.messages.append(content if isinstance(content, bytes) else content.encode())
        return "250 2.0.0 Ok: queued as 4XTEST1"


class _Authenticator:
    """Accepts the recorder's accounts; otherwise 535, or the configured provider reply."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def __call__(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        self.recorder.logins.append(login)
        self.recorder.passwords.append(password)
        if self.recorder.replies.auth:
            return AuthResult(success=False, handled=False, message=self.recorder.replies.auth)
        if self.recorder.accounts.get(login) == password:
            return AuthResult(success=True, auth_data=auth_data)
        # handled=False makes aiosmtpd send its 535; handled=True would send nothing
        # and leave the client waiting (ARCHITECTURE.md, known traps).
        return AuthResult(success=False, handled=False)


class _RecordingSMTP(SMTP):
    def __init__(self, handler: Any, *, recorder: Recorder, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._recorder = recorder
        self._greeted = False

    async def push(self, status: Any) -> None:
        if not self._greeted:
            # The first push is the 220 greeting: a slow server greets late.
            self._greeted = True
            if self._recorder.greeting_delay:
                await asyncio.sleep(self._recorder.greeting_delay)
        await super().push(status)

    async def smtp_AUTH(self, arg: str) -> None:
        self._recorder.auth_commands.append((arg or "").split(" ")[0].upper())
        transport = self.transport
        over_tls = transport is not None and transport.get_extra_info("sslcontext") is not None
        self._recorder.auth_over_tls.append(over_tls)
        await super().smtp_AUTH(arg)


class _Controller(Controller):
    """A Controller on an OS-chosen port, building recording SMTP sessions."""

    def __init__(self, handler: Any, *, recorder: Recorder, **kwargs: Any) -> None:
        super().__init__(handler, hostname=LOOPBACK, port=0, **kwargs)
        self._recorder = recorder
        self._sessions: list[_RecordingSMTP] = []

    def factory(self) -> SMTP:
        session = _RecordingSMTP(self.handler, recorder=self._recorder, **self.SMTP_kwargs)
        self._sessions.append(session)
        return session

    def stop(self, no_assert: bool = False) -> None:
        # Stopping cancels the sessions' tasks but leaves their connections open (and
        # warning as unclosed) when a client left mid-session: close them first.
        def close_connections() -> None:
            for session in self._sessions:
                if session.transport is not None:
                    session.transport.close()

        self.loop.call_soon_threadsafe(close_connections)
        super().stop(no_assert)

    def _create_server(self) -> Any:
        async def create() -> asyncio.AbstractServer:
            server = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
            )
            # Controller.start() connects to self.port to wake the server up: use the real one.
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


@asynccontextmanager
async def smtp_server(
    *,
    mode: ServerMode,
    certificate: Any | None = None,
    accounts: Mapping[str, str] | None = None,
    replies: Replies | None = None,
    smtputf8: bool = True,
    greeting_delay: float = 0.0,
    auth_required: bool = True,
) -> AsyncIterator[RunningServer]:
    """A running aiosmtpd server on 127.0.0.1; stopped on exit."""
    recorder = Recorder(
        accounts=dict(accounts or {}),
        replies=replies or Replies(),
        greeting_delay=greeting_delay,
        auth_required=auth_required,
    )
    handler = _Handler(recorder)
    kwargs: dict[str, Any] = {
        "authenticator": _Authenticator(recorder),
        "server_hostname": "mail.test",
        "ident": "mailtab test ESMTP",
        "enable_SMTPUTF8": smtputf8,
    }
    if mode is ServerMode.STARTTLS:
        assert certificate is not None
        kwargs |= {
            "tls_context": server_tls_context(certificate),
            "require_starttls": True,
            "auth_require_tls": True,
        }
    elif mode is ServerMode.IMPLICIT_TLS:
        assert certificate is not None
        kwargs |= {"ssl_context": server_tls_context(certificate), "auth_require_tls": False}
    else:
        kwargs |= {"auth_require_tls": False}
    controller = _Controller(handler, recorder=recorder, **kwargs)
    await asyncio.to_thread(controller.start)
    try:
        yield RunningServer(host=LOOPBACK, port=int(controller.port), recorder=recorder)
    finally:
        await asyncio.to_thread(controller.stop)


@contextmanager
def silent_server() -> Iterator[int]:
    """A loopback port that completes TCP handshakes (the kernel's backlog) and never speaks."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def closed_port() -> int:
    """A loopback port that was free a moment ago: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])
