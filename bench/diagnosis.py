"""Time to diagnosis: how long an administrator waits for the answer to a common mistake.

Each mistake is made twice against the same local server: through mailtab's
``sendTestEmail`` (the form as typed, over HTTP) and with plain aiosmtplib using the same
timeout (``MAILTAB_SMTP_TIMEOUT``: 15 s, 3 s in smoke mode). The ratio is mailtab's time
over aiosmtplib's: below 1, mailtab answers sooner.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiosmtplib

from bench.harness import KeepAlive, mailtab_server, make_tab_available, median
from tests.smtpd import Certificates, ServerMode, closed_port, make_certificates, silent_server
from tests.smtpd import smtp_server as smtpd

__all__ = ["run"]

ADDRESS = "shop@example.ru"
PASSWORD = "right-password"
SEND = (
    "mutation Send($r: String!, $s: MailSettingsInput!) { sendTestEmail(input: "
    "{recipient: $r, settings: $s}) { delivered failure { code field } errors { code field } } }"
)


def run(*, rounds: int, smoke: bool) -> list[dict[str, Any]]:
    timeout = 3.0 if smoke else 15.0
    return asyncio.run(_run(timeout, max(1, rounds if not smoke else 1)))


@asynccontextmanager
async def _port_of(server: AbstractAsyncContextManager[Any]) -> AsyncIterator[int]:
    async with server as running:
        yield int(running.port)


@asynccontextmanager
async def _silent() -> AsyncIterator[int]:
    with silent_server() as port:
        yield port


@asynccontextmanager
async def _closed() -> AsyncIterator[int]:
    yield closed_port()


def _cases(certificates: Certificates) -> list[tuple[str, Callable[[], Any], dict[str, Any]]]:
    """(mistake, the server, what the form says); the form's port is the server's."""
    starttls = lambda: _port_of(  # noqa: E731
        smtpd(mode=ServerMode.STARTTLS, certificate=certificates.good, accounts={ADDRESS: PASSWORD})
    )
    implicit = lambda: _port_of(  # noqa: E731
        smtpd(
            mode=ServerMode.IMPLICIT_TLS,
            certificate=certificates.good,
            accounts={ADDRESS: PASSWORD},
        )
    )
    untrusted = lambda: _port_of(  # noqa: E731
        smtpd(mode=ServerMode.STARTTLS, certificate=certificates.untrusted, accounts={})
    )
    return [
        ("closed port", _closed, {"security": "STARTTLS"}),
        ("STARTTLS client, implicit-TLS port", implicit, {"security": "STARTTLS"}),
        ("plain client, implicit-TLS port", implicit, {"security": "NONE"}),
        ("implicit TLS, STARTTLS port", starttls, {"security": "SSL_TLS"}),
        ("wrong password", starttls, {"security": "STARTTLS", "password": "wrong"}),
        ("untrusted certificate", untrusted, {"security": "STARTTLS"}),
        ("server that never greets", _silent, {"security": "STARTTLS"}),
    ]


async def _run(limit_seconds: float, rounds: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mt-bench-certs-") as folder:
        certificates = make_certificates(Path(folder))
        env = {
            "MAILTAB_SMTP_CA_FILE": str(certificates.ca_file),
            "MAILTAB_SMTP_TIMEOUT": f"{limit_seconds:g}",
        }
        context = ssl.create_default_context(cafile=str(certificates.ca_file))
        with mailtab_server(env=env) as server:
            await asyncio.to_thread(make_tab_available, server)
            async with KeepAlive(server.port) as http:
                for mistake, start_server, form in _cases(certificates):
                    ours: list[float] = []
                    plain: list[float] = []
                    code = "?"
                    for _ in range(rounds):
                        async with start_server() as port:
                            seconds, code = await _mailtab(http, server.token, port, form)
                            ours.append(seconds)
                            plain.append(await _aiosmtplib(port, form, context, limit_seconds))
                    silent = mistake.startswith("server that never")
                    limit = limit_seconds + 1 if silent else 3.0
                    rows.append(
                        {
                            "section": "diagnosis",
                            "metric": f"{mistake} -> {code}",
                            "value": f"{median(ours):.2f} s vs aiosmtplib {median(plain):.2f} s",
                            "ratio": median(ours) / median(plain),
                            "target": f"<= {limit:g} s",
                            "holds": median(ours) <= limit,
                        }
                    )
    return rows


async def _mailtab(
    http: KeepAlive, token: str | None, port: int, form: dict[str, Any]
) -> tuple[float, str]:
    settings = {
        "provider": "OTHER",
        "smtpHost": "localhost",
        "port": port,
        "useSsl": form["security"] != "NONE",
        "security": form["security"],
        "address": ADDRESS,
        "password": form.get("password", PASSWORD),
    }
    started = time.perf_counter()
    _, body = await http.post(
        "/graphql",
        {"query": SEND, "variables": {"r": "buyer@example.org", "s": settings}},
        {"Authorization": f"Bearer {token}"},
    )
    seconds = time.perf_counter() - started
    answer = json.loads(body)["data"]["sendTestEmail"]
    failure = answer["failure"] or {}
    errors = answer["errors"]
    code = failure.get("code") or (errors[0]["code"] if errors else "DELIVERED")
    return seconds, str(code)


async def _aiosmtplib(
    port: int, form: dict[str, Any], context: ssl.SSLContext, seconds: float
) -> float:
    security = form["security"]
    started = time.perf_counter()
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
        await aiosmtplib.send(
            "Subject: test\r\n\r\ntest\r\n",
            sender=ADDRESS,
            recipients=["buyer@example.org"],
            hostname="localhost",
            port=port,
            use_tls=security == "SSL_TLS",
            start_tls=security == "STARTTLS",
            tls_context=context,
            username=ADDRESS,
            password=form.get("password", PASSWORD),
            timeout=seconds,
        )
    return time.perf_counter() - started
