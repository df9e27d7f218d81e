"""Write path: sendTestEmail end to end against the same letter sent directly with aiosmtplib.

A local aiosmtpd server speaks STARTTLS and requires AUTH (a trustme certificate that
mailtab trusts through ``MAILTAB_SMTP_CA_FILE``). The baseline opens a new connection per
letter, as mailtab does: greeting, EHLO, STARTTLS, EHLO, AUTH PLAIN, MAIL, RCPT, DATA,
QUIT. mailtab's figure is the whole mutation as a client sees it, sequential requests over
one keep-alive HTTP connection. Letters alternate between the two; medians are compared.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import tempfile
import time
from pathlib import Path
from typing import Any

import aiosmtplib

from bench.harness import KeepAlive, graphql, mailtab_server, make_tab_available, median
from mail.letter import build_test_letter
from mail.security import Security
from tests.smtpd import ServerMode, make_certificates, smtp_server

__all__ = ["run"]

ADDRESS = "shop@example.ru"
PASSWORD = "bench-app-password"
RECIPIENT = "buyer@example.org"
SEND = (
    "mutation Send($r: String!) { sendTestEmail(input: {recipient: $r}) "
    "{ delivered messageId failure { code message } errors { code } } }"
)


def run(*, rounds: int, smoke: bool) -> list[dict[str, Any]]:
    letters = 20 if smoke else 200
    return asyncio.run(_run(letters))


async def _run(letters: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="mt-bench-certs-") as folder:
        certificates = make_certificates(Path(folder))
        async with smtp_server(
            mode=ServerMode.STARTTLS, certificate=certificates.good, accounts={ADDRESS: PASSWORD}
        ) as smtp:
            env = {"MAILTAB_SMTP_CA_FILE": str(certificates.ca_file)}
            with mailtab_server(env=env) as server:
                await asyncio.to_thread(_configure, server, smtp.port)
                direct, through = await _measure(server, smtp.port, certificates.ca_file, letters)
            received = len(smtp.recorder.messages)
    if received != 2 * letters:
        raise RuntimeError(f"expected {2 * letters} letters at the server, got {received}")
    ratio = median(through) / median(direct)
    return [
        {
            "section": "write",
            "metric": "sendTestEmail median latency (STARTTLS + AUTH)",
            "value": f"{median(through):.2f} ms vs direct {median(direct):.2f} ms",
            "ratio": ratio,
            "target": "<= 1.3x",
            "holds": ratio <= 1.3,
        }
    ]


def _configure(server: Any, port: int) -> None:
    make_tab_available(server)
    graphql(
        server,
        "mutation($p: Int!, $w: String!) { saveMailSettings(input: {provider: OTHER, "
        'smtpHost: "localhost", port: $p, useSsl: true, address: "' + ADDRESS + '", '
        'password: $w, senderName: "Автозапчасти"}) { errors { code field } } }',
        {"p": port, "w": PASSWORD},
    )


async def _measure(
    server: Any, port: int, ca_file: Path, letters: int
) -> tuple[list[float], list[float]]:
    context = ssl.create_default_context(cafile=str(ca_file))
    message = build_test_letter(
        sender_name="Автозапчасти",
        sender_email=ADDRESS,
        recipient=RECIPIENT,
        address=ADDRESS,
        smtp_host="localhost",
        port=port,
        security=Security.STARTTLS,
        lang="ru",
    )
    direct: list[float] = []
    through: list[float] = []
    headers = {"Authorization": f"Bearer {server.token}"}
    async with KeepAlive(server.port) as http:
        # One of each first, outside the figures: connections and caches warm up.
        await _direct(message, port, context)
        await http.post("/graphql", {"query": SEND, "variables": {"r": RECIPIENT}}, headers)
        for _ in range(letters - 1):
            started = time.perf_counter()
            await _direct(message, port, context)
            direct.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            status, body = await http.post(
                "/graphql", {"query": SEND, "variables": {"r": RECIPIENT}}, headers
            )
            through.append((time.perf_counter() - started) * 1000)
            answer = json.loads(body)["data"]["sendTestEmail"]
            if status != 200 or not answer["delivered"]:
                raise RuntimeError(f"sendTestEmail did not deliver: {answer}")
    return direct, through


async def _direct(message: Any, port: int, context: ssl.SSLContext) -> None:
    await aiosmtplib.send(
        message,
        hostname="localhost",
        port=port,
        start_tls=True,
        tls_context=context,
        username=ADDRESS,
        password=PASSWORD,
        local_hostname="bench.local",
        timeout=15,
    )
