"""One SMTP connection to an account's server, reused for a run of letters.

Built from the mail layer's pieces, as the test letter is: the host is resolved and vetted
once (mail.network), the socket is opened to the vetted address (mail.connect) and handed
to aiosmtplib with the typed host name, so the certificate is checked against that name;
the security mode is always explicit (``start_tls=False``, ``starttls()`` when the mode
says so), and nothing is sent before an SMTP greeting. Login is one AUTH attempt.

Between letters the session stays open; after a refused letter it is reset (RSET), after
anything else it is closed, and ``fresh`` tells whether it was opened for this letter (a
reused connection that the server closed meanwhile is opened again once).
"""

from __future__ import annotations

import ssl
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtplib import SMTP, SMTPException, SMTPResponse

from mail.connect import address_literal, await_greeting, client_tls_context, connect, greeted
from mail.errors import AuthNotOffered, Smtputf8Unsupported
from mail.letter import smtp_address
from mail.network import IPNetwork, resolve_target
from mail.security import Security
from notifications.credentials import Credentials
from notifications.letter import Letter

__all__ = ["AccountTarget", "SmtpSession"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountTarget:
    """Where an account's letters go, and the bounds of every step."""

    host: str
    port: int
    security: Security
    credentials: Credentials = field(repr=False)
    timeout: float = 15.0
    ca_file: Path | None = None
    deny: tuple[IPNetwork, ...] = ()
    allow: tuple[IPNetwork, ...] = ()


class SmtpSession:
    """A logged-in SMTP session for one account; ``send`` raises what aiosmtplib raises."""

    def __init__(self, target: AccountTarget, *, max_letters: int) -> None:
        self.target = target
        self.max_letters = max_letters
        self._smtp: SMTP | None = None
        self.sent = 0
        self.server_address: str | None = None
        self.reached_data = False
        """Whether the last ``send`` got as far as DATA (the server may have the letter)."""

    @property
    def is_open(self) -> bool:
        return self._smtp is not None and self._smtp.is_connected

    @property
    def worn_out(self) -> bool:
        """The bounded count of letters per connection is reached: open a new one."""
        return self.sent >= self.max_letters

    async def open(self) -> None:
        """Connect, secure, greet and log in; raises mail.errors / aiosmtplib / OSError."""
        await self.close()
        target = self.target
        tls_context: ssl.SSLContext | None = None
        if target.security is not Security.NONE:
            tls_context = client_tls_context(target.ca_file)
        resolved = await resolve_target(
            target.host, target.port, deny=target.deny, allow=target.allow, timeout=target.timeout
        )
        sock, address = await connect(resolved, seconds=target.timeout)
        self.server_address = address
        try:
            if target.security is not Security.SSL_TLS:
                await await_greeting(sock, resolved, address=address, seconds=target.timeout)
            smtp = SMTP(
                hostname=resolved.host,
                sock=sock,
                use_tls=target.security is Security.SSL_TLS,
                start_tls=False,
                tls_context=tls_context,
                timeout=target.timeout,
                local_hostname=address_literal(sock),
            )
        except BaseException:
            sock.close()
            raise
        try:
            await greeted(smtp)
            if target.security is Security.STARTTLS:
                await smtp.starttls()
            if smtp.is_ehlo_or_helo_needed:
                await smtp.ehlo()
            await _login(smtp, target.credentials)
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        self.sent = 0

    async def send(self, letter: Letter, *, envelope_from: str, recipient: str) -> SMTPResponse:
        """MAIL, RCPT, DATA on the open session; the server's answer to the final dot."""
        smtp = self._smtp
        assert smtp is not None, "open() first"
        sender, rcpt = smtp_address(envelope_from), smtp_address(recipient)
        utf8 = letter.smtputf8
        if utf8 and not smtp.supports_extension("smtputf8"):
            raise Smtputf8Unsupported("to")
        data = letter.data
        options = ["SMTPUTF8"] if utf8 else []
        if smtp.supports_extension("size"):
            options.append(f"SIZE={len(data)}")
        encoding = "utf-8" if utf8 else "ascii"
        self.sent += 1
        self.reached_data = False
        await smtp.mail(sender, options=options, encoding=encoding)
        await smtp.rcpt(rcpt, encoding=encoding)
        self.reached_data = True
        return await smtp.data(data)

    async def reset(self) -> None:
        """After a refused letter: RSET, or close the session if even that fails."""
        if self._smtp is None:
            return
        try:
            await self._smtp.rset()
        except (SMTPException, OSError):
            await self.close()

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        if smtp.is_connected:
            with suppress(SMTPException, OSError, TimeoutError):
                await smtp.quit(timeout=min(self.target.timeout, 5.0))
        smtp.close()


async def _login(smtp: SMTP, credentials: Credentials) -> None:
    """One AUTH attempt (XOAUTH2, else PLAIN, else LOGIN); none without credentials.

    aiosmtplib's own login() tries every mechanism the server lists: a wrong password would
    count as several failed logins at the provider, nearer to its lock-out.
    """
    if credentials.password is None and credentials.oauth2_token is None:
        return
    methods = smtp.server_auth_methods if smtp.supports_extension("auth") else []
    if credentials.oauth2_token is not None and "xoauth2" in methods:
        await smtp.auth_xoauth2(credentials.username, credentials.oauth2_token)
    elif credentials.password is not None and "plain" in methods:
        await smtp.auth_plain(credentials.username, credentials.password)
    elif credentials.password is not None and "login" in methods:
        await smtp.auth_login(credentials.username, credentials.password)
    else:
        encrypted = smtp.get_transport_info("sslcontext") is not None
        raise AuthNotOffered(starttls_offered=not encrypted and smtp.supports_extension("starttls"))
