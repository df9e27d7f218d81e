"""How long an administrator waits when "Use SSL" does not match the port.

A STARTTLS (or plain) client against an implicit-TLS port (465) gets no
greeting: the server waits for a TLS ClientHello. A plain aiosmtplib client
waits out its whole timeout; mailtab notices the silence, probes the port
with a TLS handshake and answers TLS_MISMATCH at once. Both are measured in
this run against the same in-process server, and the ratio is printed.

    .venv/bin/python bench/tls_mismatch.py [--timeout 15] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiosmtplib

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mail.delivery import SmtpTarget, deliver
from mail.letter import build_test_letter
from mail.security import Security
from tests.smtpd import ServerMode, make_certificates, smtp_server


async def baseline(port: int, seconds: float) -> tuple[float, str]:
    """aiosmtplib as commonly used: STARTTLS requested, waits for the greeting."""
    started = time.perf_counter()
    try:
        await aiosmtplib.send(
            "Subject: x\r\n\r\nx",
            sender="shop@example.ru",
            recipients=["buyer@example.org"],
            hostname="127.0.0.1",
            port=port,
            start_tls=True,
            timeout=seconds,
        )
        outcome = "delivered"
    except aiosmtplib.SMTPException as exc:
        outcome = exc.__class__.__name__
    return time.perf_counter() - started, outcome


async def mailtab(port: int, seconds: float, ca_file: Path) -> tuple[float, str]:
    message = build_test_letter(
        sender_name=None,
        sender_email="shop@example.ru",
        recipient="buyer@example.org",
        address="shop@example.ru",
        smtp_host="localhost",
        port=port,
        security=Security.STARTTLS,
        lang="ru",
    )
    target = SmtpTarget(
        host="localhost",
        port=port,
        security=Security.STARTTLS,
        username="shop@example.ru",
        password="x",
        timeout=seconds,
        total_timeout=seconds,
        ca_file=ca_file,
    )
    started = time.perf_counter()
    result = await deliver(
        message,
        target=target,
        envelope_from="shop@example.ru",
        recipient="buyer@example.org",
        preset=None,
        sender_email="shop@example.ru",
    )
    outcome = result.failure.code if result.failure else "delivered"
    return time.perf_counter() - started, str(outcome)


async def main(seconds: float, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        certificates = make_certificates(Path(folder))
        async with smtp_server(
            mode=ServerMode.IMPLICIT_TLS, certificate=certificates.good
        ) as server:
            slow = [await baseline(server.port, seconds) for _ in range(rounds)]
            fast = [
                await mailtab(server.port, seconds, certificates.ca_file) for _ in range(rounds)
            ]
    slow_median = statistics.median(t for t, _ in slow)
    fast_median = statistics.median(t for t, _ in fast)
    print(f"STARTTLS client against an implicit-TLS port, timeout {seconds:g} s, {rounds} rounds")
    print(f"  baseline (aiosmtplib waits for a greeting): {slow_median:6.2f} s  -> {slow[0][1]}")
    print(f"  mailtab (silence noticed, TLS probe):       {fast_median:6.2f} s  -> {fast[0][1]}")
    print(f"  ratio baseline/mailtab: {slow_median / fast_median:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=15.0, help="as MAILTAB_SMTP_TIMEOUT")
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.timeout, arguments.rounds))
