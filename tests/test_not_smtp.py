"""Send pointed at a service that is not SMTP: nothing of its text comes back, nothing is sent.

Real TCP servers on 127.0.0.1 send the banners of other services (SSH, FTP, HTTP, NNTP,
POP3, a binary database handshake), in clear text or inside TLS, and record every byte
they receive. The letter must fail with NOT_SMTP_SERVER on ``port``, without the
server's words, and without a single command (not even EHLO) having been sent. Servers
that greet like SMTP (220, or a refusal with 421/521/554) keep being passed on.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from mail.delivery import DeliveryResult, SmtpTarget, deliver
from mail.failures import FailureCode
from mail.letter import build_test_letter
from mail.security import Security
from models import Firm, Outlet, OutletKind
from tests.smtpd import LOOPBACK, Certificates, server_tls_context

ACCOUNT = "shop@example.ru"
PASSWORD = "Секрет-p4ss"
RECIPIENT = "buyer@example.org"
SECRET = "internal-secret-banner"

SSH = f"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3 {SECRET}\r\n".encode()
BANNERS: dict[str, bytes] = {
    "ssh": SSH,
    "ftp-proftpd": f"220 ProFTPD 1.3.8 Server ({SECRET}) [127.0.0.1]\r\n".encode(),
    "ftp-vsftpd": f"220 (vsFTPd 3.0.5) {SECRET}\r\n".encode(),
    "ftp-pure-ftpd": (
        "220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n"
        "220-You are user number 1 of 50 allowed.\r\n"
        f"220 {SECRET}\r\n"
    ).encode(),
    "ftp-filezilla": f"220-FileZilla Server 1.8.0\r\n220 {SECRET}\r\n".encode(),
    "http": f"HTTP/1.1 400 Bad Request\r\nServer: {SECRET}\r\nContent-Length: 0\r\n\r\n".encode(),
    "nntp": f"200 news.internal InterNetNews NNRP server INN 2.7 ready ({SECRET})\r\n".encode(),
    "pop3": f"+OK Dovecot ready. {SECRET}\r\n".encode(),
    "mysql": b"J\x00\x00\x00\n8.0.36\x00" + SECRET.encode() + b"\x00",
    "binary-without-newline": b"\x00\x01\x02" + SECRET.encode(),
}


@dataclass
class BannerServer:
    port: int
    received: bytearray = field(default_factory=bytearray)
    connections: int = 0


@asynccontextmanager
async def banner_server(
    banner: bytes, *, tls: ssl.SSLContext | None = None
) -> AsyncIterator[BannerServer]:
    """Sends ``banner`` on every connection, then records what the client sends until EOF."""
    state = BannerServer(port=0)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            writer.write(banner)
            await writer.drain()
            while chunk := await reader.read(4096):
                state.received.extend(chunk)
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, LOOPBACK, 0, ssl=tls)
    state.port = int(server.sockets[0].getsockname()[1])
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()


def _target(port: int, security: Security, certificates: Certificates) -> SmtpTarget:
    return SmtpTarget(
        host="localhost" if security is Security.SSL_TLS else LOOPBACK,
        port=port,
        security=security,
        username=ACCOUNT,
        password=PASSWORD,
        timeout=5,
        ca_file=certificates.ca_file,
    )


async def _send(target: SmtpTarget) -> DeliveryResult:
    letter = build_test_letter(
        sender_name=None,
        sender_email=ACCOUNT,
        recipient=RECIPIENT,
        address=ACCOUNT,
        smtp_host=target.host,
        port=target.port,
        security=target.security,
        lang="en",
    )
    return await deliver(
        letter,
        target=target,
        envelope_from=ACCOUNT,
        recipient=RECIPIENT,
        preset=None,
        sender_email=ACCOUNT,
    )


def _assert_not_smtp(result: DeliveryResult) -> None:
    assert not result.delivered
    failure = result.failure
    assert failure is not None
    assert (failure.code, failure.field) == (FailureCode.NOT_SMTP_SERVER, "port")
    assert failure.smtp_code is None and failure.smtp_reply is None
    assert (result.smtp_code, result.smtp_reply) == (None, None)
    assert failure.hint is not None
    for text in (repr(result), failure.message.ru, failure.message.en):
        assert SECRET not in text
        assert "SSH-2.0" not in text and "FTP" not in text
        assert PASSWORD not in text


@pytest.mark.parametrize("security", [Security.NONE, Security.STARTTLS])
@pytest.mark.parametrize("name", sorted(BANNERS))
async def test_a_clear_text_banner_of_another_service_gets_nothing(
    certificates: Certificates, name: str, security: Security
) -> None:
    async with banner_server(BANNERS[name]) as server:
        result = await _send(_target(server.port, security, certificates))
    _assert_not_smtp(result)
    assert server.connections == 1
    assert bytes(server.received) == b""  # no EHLO, no STARTTLS, no AUTH


@pytest.mark.parametrize(
    "banner",
    [
        f"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Dovecot ready. {SECRET}\r\n".encode(),
        f"220 ProFTPD 1.3.8 Server ({SECRET}) [127.0.0.1]\r\n".encode(),
        f"+OK POP3 {SECRET}\r\n".encode(),
        f"200 news.internal NNRP server ready ({SECRET})\r\n".encode(),
    ],
    ids=["imaps", "ftps", "pop3s", "nntps"],
)
async def test_a_banner_of_another_service_inside_tls_gets_nothing(
    certificates: Certificates, banner: bytes
) -> None:
    async with banner_server(banner, tls=server_tls_context(certificates.good)) as server:
        result = await _send(_target(server.port, Security.SSL_TLS, certificates))
    _assert_not_smtp(result)
    assert bytes(server.received) == b""


@pytest.mark.parametrize(
    ("banner", "code"),
    [
        (b"554 5.7.1 mail.test ESMTP not accepting messages from you\r\n", 554),
        (b"421 4.3.2 mail.test Service not available, closing channel\r\n", 421),
        (b"521 5.3.2 mail.test does not accept mail\r\n", 521),
    ],
)
async def test_an_smtp_server_refusing_at_the_greeting_is_still_quoted(
    certificates: Certificates, banner: bytes, code: int
) -> None:
    async with banner_server(banner) as server:
        result = await _send(_target(server.port, Security.NONE, certificates))
    assert result.failure is not None
    assert result.failure.code is not FailureCode.NOT_SMTP_SERVER
    assert result.failure.smtp_code == code
    assert "mail.test" in (result.failure.smtp_reply or "")
    assert bytes(server.received) == b""


async def test_a_smtp_greeting_from_an_ftp_host_name_is_smtp(certificates: Certificates) -> None:
    # A mail server whose name happens to start with "ftp." greets like SMTP: EHLO goes out.
    async with banner_server(b"220 ftp.corp.example ESMTP Postfix\r\n") as server:
        result = await _send(_target(server.port, Security.NONE, certificates))
    assert result.failure is not None
    assert result.failure.code is not FailureCode.NOT_SMTP_SERVER
    assert bytes(server.received).startswith(b"EHLO ")


SEND = """
mutation($input: SendTestEmailInput!) {
  sendTestEmail(input: $input) {
    delivered failure { code field message hint smtpCode smtpReply } errors { code }
  }
}"""


async def test_send_reports_not_smtp_server_in_both_languages(gql: Any) -> None:
    firm = await Firm.create(name="ООО Ромашка", inn="7707083893")
    await Outlet.create(firm=firm, name="Склад", kind=OutletKind.WAREHOUSE)
    async with banner_server(SSH) as server:
        settings = {
            "provider": "OTHER",
            "smtpHost": LOOPBACK,
            "port": server.port,
            "useSsl": False,
            "address": ACCOUNT,
            "password": PASSWORD,
        }
        variables = {"input": {"recipient": RECIPIENT, "settings": settings}}
        answers = [
            (await gql(SEND, variables, lang=lang))["sendTestEmail"] for lang in ("ru", "en")
        ]
    for payload in answers:
        failure = payload["failure"]
        assert (failure["code"], failure["field"]) == ("NOT_SMTP_SERVER", "port")
        assert (failure["smtpCode"], failure["smtpReply"]) == (None, None)
        assert f"{LOOPBACK}:{server.port}" in failure["message"]
        assert failure["hint"]
    assert answers[0]["failure"]["message"] != answers[1]["failure"]["message"]
    assert bytes(server.received) == b""
