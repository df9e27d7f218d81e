"""Connecting to an SMTP server: the socket, the greeting, the TLS questions.

Shared by test letters (mail.delivery) and port probes (mail.probe):

- ``connect``: a TCP connection to one of the addresses the network guard vetted
  (mail.network), never to a name resolved again;
- ``await_greeting``: wait for the server's first words; a port that stays silent gets a
  TLS handshake on a second connection (``speaks_tls``), so a plain client on an
  implicit-TLS port learns it at once instead of waiting out the timeout;
- ``greeted``: read the greeting through aiosmtplib and refuse one that no SMTP server
  gives (SSH, FTP, HTTP … banners): nothing is sent to such a service;
- ``client_tls_context``: the verifying context, built once per CA file;
  ``unverified_tls_context`` for connections that carry nothing secret;
- ``address_literal``: the EHLO name, without a DNS lookup.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import os
import re
import socket
import ssl
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from aiosmtplib import (
    SMTP,
    SMTPConnectResponseError,
    SMTPConnectTimeoutError,
    SMTPResponse,
    SMTPResponseException,
    SMTPStatus,
)

from mail.errors import ImplicitTlsExpected, NotSmtpServer
from mail.network import ResolvedTarget

__all__ = [
    "GREETING_CODES",
    "GREETING_PROBE_AFTER",
    "address_literal",
    "answered_in_plain_text",
    "await_greeting",
    "client_tls_context",
    "connect",
    "greeted",
    "speaks_tls",
    "unverified_tls_context",
]

#: Seconds without a greeting after which the TLS probe starts (capped at a third of
#: the timeout). Real servers greet within milliseconds.
GREETING_PROBE_AFTER = 1.5


#: Greeting codes of an SMTP server: 220 ready; 421 and 554 refuse the session
#: (RFC 5321 §3.1), 521 says the host never accepts mail (RFC 7504).
GREETING_CODES = (b"220", b"421", b"521", b"554")
#: FTP servers greet with "220" as SMTP servers do (RFC 959); these words name one.
_FTP_SERVER = re.compile(r"ftp|filezilla", re.IGNORECASE)


async def greeted(smtp: SMTP) -> SMTPResponse:
    """Read the greeting; ``NotSmtpServer`` unless it is one an SMTP server gives.

    Nothing has been sent yet: a service of another kind (SSH, FTP, HTTP, IMAP …) gets
    no EHLO, and its banner is not passed on, since it may tell how the inside of a
    network is laid out.
    """
    try:
        greeting = await smtp.connect()
    except SMTPConnectResponseError as exc:
        if str(exc.code).encode() not in GREETING_CODES:
            raise NotSmtpServer from None
        raise  # an SMTP server refusing the session: its reply is worth quoting
    except SMTPResponseException as exc:
        if exc.code == SMTPStatus.invalid_response:  # not a reply line at all
            raise NotSmtpServer from None
        raise
    if _names_another_service(greeting.message):
        raise NotSmtpServer
    return greeting


def _names_another_service(greeting: str) -> bool:
    """A 220 greeting that names an FTP server and not SMTP ("220 ProFTPD Server ready").

    Host names are left out: "220 ftp.corp.example ESMTP" is a mail server's greeting.
    """
    if "smtp" in greeting.lower():
        return False
    words = re.split(r"[\s()\[\]<>,;]+", greeting)
    return any(_FTP_SERVER.search(word) for word in words if "." not in word.strip("."))


def _could_start_a_greeting(data: bytes) -> bool:
    """Whether the first bytes a server sent can begin an SMTP greeting ("220 ", "554-")."""
    code, rest = data[:3], data[3:4]
    if not any(known.startswith(code) for known in GREETING_CODES):
        return False
    return not rest or rest in (b" ", b"-", b"\r", b"\n")


async def connect(
    resolved: ResolvedTarget, *, seconds: float, addresses: Sequence[str] | None = None
) -> tuple[socket.socket, str]:
    """A connected non-blocking socket to the first vetted address that accepts.

    ``addresses``: a subset of the vetted ones (a probe's later connections go to the
    address that answered first, so they reach the same server).
    """
    loop = asyncio.get_running_loop()
    error: OSError | None = None
    for address in addresses or resolved.addresses or (resolved.address,):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            async with asyncio.timeout(seconds):
                await loop.sock_connect(sock, (address, resolved.port))
        except TimeoutError:
            sock.close()
            raise SMTPConnectTimeoutError(
                f"Timed out connecting to {resolved.host} on port {resolved.port}"
            ) from None
        except OSError as exc:
            sock.close()
            error = exc
            continue
        except BaseException:
            sock.close()
            raise
        return sock, address
    assert error is not None
    raise error


async def await_greeting(
    sock: socket.socket, resolved: ResolvedTarget, *, address: str, seconds: float
) -> None:
    """Return once the server has sent something; detect a port that wants TLS first."""
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[bool] = loop.create_future()

    def on_readable() -> None:
        if not readable.done():
            readable.set_result(True)

    # Readiness only: the greeting itself stays in the socket for aiosmtplib to read.
    loop.add_reader(sock.fileno(), on_readable)
    probe: asyncio.Task[bool] | None = None
    try:
        async with asyncio.timeout(seconds):
            await asyncio.wait({readable}, timeout=min(GREETING_PROBE_AFTER, seconds / 3))
            if not readable.done():
                probe = asyncio.create_task(
                    speaks_tls(resolved, address=address, seconds=seconds),
                    name="smtp-tls-probe",
                )
                await asyncio.wait({readable, probe}, return_when=asyncio.FIRST_COMPLETED)
                if not readable.done() and probe.result():
                    raise ImplicitTlsExpected
                await readable
    except TimeoutError:
        raise SMTPConnectTimeoutError("Timed out waiting for server ready message") from None
    finally:
        loop.remove_reader(sock.fileno())
        if probe is not None and not probe.done():
            probe.cancel()
            await asyncio.wait({probe})
    _check_first_bytes(sock)


def _check_first_bytes(sock: socket.socket) -> None:
    """Refuse at once a peer whose first bytes cannot begin an SMTP greeting.

    A peek: the bytes stay in the socket for aiosmtplib. A banner without a line
    break (a binary handshake) would otherwise keep it waiting for the line's end
    until the timeout.
    """
    try:
        first = sock.recv(4, socket.MSG_PEEK)
    except (BlockingIOError, InterruptedError):
        return
    except OSError:
        return  # reset or closed: aiosmtplib reports it as such
    if first and not _could_start_a_greeting(first):
        raise NotSmtpServer


async def speaks_tls(resolved: ResolvedTarget, *, address: str, seconds: float) -> bool:
    """Whether the port completes a TLS handshake: a yes/no probe that sends no data."""
    # Not verifying is safe here: the connection only answers "is this TLS?", it is
    # closed right after the handshake and nothing (least of all the password) goes over it.
    # Hence no CA store either (neither the system's nor the deployment's): loading it
    # would cost time and could fail for nothing.
    probe_context = unverified_tls_context()
    try:
        async with asyncio.timeout(seconds):
            _reader, writer = await asyncio.open_connection(
                address,
                resolved.port,
                ssl=probe_context,
                server_hostname=resolved.host,
                ssl_handshake_timeout=seconds,
            )
    except (OSError, TimeoutError):
        return False
    writer.close()
    with suppress(OSError, TimeoutError):
        async with asyncio.timeout(1.0):
            await writer.wait_closed()
    return True


def client_tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's trusted CAs plus the deployment's; host names checked; TLS 1.2 or newer.

    Built once per CA file (as it is on disk: a replaced file is read again) and shared:
    loading the system's trust store costs tens of milliseconds, and a context is not
    changed by the connections that use it. Raises ``OSError`` (``ssl.SSLError`` is one)
    for a CA file that cannot be read or holds no certificate.
    """
    if ca_file is None:
        return _tls_context(None, 0, 0)
    stat = os.stat(ca_file)
    return _tls_context(str(ca_file), stat.st_mtime_ns, stat.st_size)


def unverified_tls_context() -> ssl.SSLContext:
    """A context that checks nothing: only for connections that carry nothing secret.

    For "does this port speak TLS at all?" handshakes and for reading a server's EHLO
    offer after its certificate failed: EHLO and QUIT only, never a password or a letter.
    """
    return _unverified()


@functools.lru_cache(maxsize=1)
def _unverified() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@functools.lru_cache(maxsize=8)
def _tls_context(ca_file: str | None, mtime_ns: int, size: int) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file is not None:
        context.load_verify_locations(cafile=ca_file)
    return context


def address_literal(sock: socket.socket) -> str:
    # An address literal says nothing about this machine's internal host name and needs
    # no DNS lookup (socket.getfqdn() can hang for seconds where DNS is broken).
    host = str(sock.getsockname()[0]).partition("%")[0]
    if ipaddress.ip_address(host).version == 6:
        return f"[IPv6:{host}]"
    return f"[{host}]"


def answered_in_plain_text(error: ssl.SSLError) -> bool:
    """Whether a TLS ClientHello got plain text back ("220 …", "500 …"): not a TLS port."""
    # getattr: OpenSSL sets these attributes; an SSLError made elsewhere may lack them.
    reason = str(getattr(error, "reason", None) or "").upper()
    if reason in {"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST"}:
        return True
    return "wrong version number" in str(error).lower()
