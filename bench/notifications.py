"""Notifications: letters per second through sendNotification + workers, against raw aiosmtplib.

The peer is a STARTTLS + AUTH aiosmtpd server in its own process (bench.smtp_peer). The
baseline sends the same letters (bytes built by notifications.letter) with aiosmtplib over
one reused, logged-in connection, one after another. mailtab's figure is the whole way: a
client queues N notifications with ``sendNotification`` (4 keep-alive connections, 10
aliased ``sendNotification`` per request, as a back end queueing a run would) and the
clock stops when the Nth is SENT (read through ``notifications(status: SENT)``), so it
includes the HTTP API, the queue's writes and the delivery. Measured on the embedded SQLite
default (``mailtab serve`` runs one worker in-process) and on PostgreSQL with one and then
two ``mailtab worker`` processes (``MAILTAB_BENCH_POSTGRES_URL``, default the local
server; skipped when it cannot be reached). Rounds alternate baseline and mailtab; medians
are compared.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib

from bench.harness import ROOT, KeepAlive, graphql, mailtab_server, make_tab_available, median
from bench.smtp_peer import ADDRESS, PASSWORD
from notifications.letter import build_notification

__all__ = ["run"]

POSTGRES_URL = os.environ.get(
    "MAILTAB_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
#: sendNotification operations per request (aliases, as a back end queueing a run would).
PER_REQUEST = 10


def _document(numbers: list[int]) -> str:
    """One mutation document with a ``sendNotification`` per letter, aliased ``n<number>``."""
    arguments = ", ".join(f"$i{n}: NotificationInput!" for n in numbers)
    fields = " ".join(
        f"n{n}: sendNotification(input: $i{n}) {{ notification {{ id }} errors {{ code }} }}"
        for n in numbers
    )
    return f"mutation({arguments}) {{ {fields} }}"


SENT_PAGE = "query($o: Int!) { notifications(status: SENT, limit: 1, offset: $o) { id } }"
CLIENTS = 4
WORKER_ENV = {
    "MAILTAB_NOTIFY_POLL_SECONDS": "0.05",
    "MAILTAB_NOTIFY_BATCH_SIZE": "50",
    "MAILTAB_LOG_LEVEL": "WARNING",
}


def run(*, rounds: int, smoke: bool) -> list[dict[str, Any]]:
    letters = 50 if smoke else 1000
    return asyncio.run(_run(letters, rounds=rounds, smoke=smoke))


@contextlib.contextmanager
def _peer() -> Iterator[tuple[int, Path]]:
    with tempfile.TemporaryDirectory(prefix="mt-bench-smtp-") as folder:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter)
            [sys.executable, "-m", "bench.smtp_peer", folder],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            port = int(process.stdout.readline())
            yield port, Path(folder) / "test-ca.pem"
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def _letter(n: int) -> dict[str, Any]:
    return {
        "to": f"buyer{n}@example.org",
        "subject": f"Заказ №{n} готов к выдаче",
        "text": f"Здравствуйте!\nВаш заказ №{n} готов. Ждём вас в магазине.\n",
        "html": f"<p>Здравствуйте!</p><p>Ваш заказ №{n} готов. Ждём вас в магазине.</p>",
    }


async def _raw(port: int, ca_file: Path, letters: int) -> float:
    """Letters/s of aiosmtplib alone: one logged-in connection, the letters one by one."""
    messages = [
        (
            fields["to"],
            build_notification(
                sender_name="Автозапчасти",
                sender_email=ADDRESS,
                subject=fields["subject"],
                to=fields["to"],
                text=fields["text"],
                html=fields["html"],
                message_id=make_msgid(domain="example.ru"),
                created_at=datetime.now(UTC),
                envelope_from=ADDRESS,
            ).data,
        )
        for fields in map(_letter, range(letters))
    ]
    context = ssl.create_default_context(cafile=str(ca_file))
    started = time.perf_counter()
    smtp = aiosmtplib.SMTP(
        hostname="localhost", port=port, start_tls=True, tls_context=context, timeout=15
    )
    async with smtp:
        await smtp.login(ADDRESS, PASSWORD)
        for to, data in messages:
            await smtp.sendmail(ADDRESS, [to], data)
    return letters / (time.perf_counter() - started)


async def _enqueue(server: Any, letters: int, tag: str, token: str) -> None:
    """Queue ``letters`` notifications through sendNotification (CLIENTS connections)."""
    headers = {"Authorization": f"Bearer {token}"}

    async def client(first: int) -> None:
        async with KeepAlive(server.port) as http:
            numbers = list(range(first, letters, CLIENTS))
            for start in range(0, len(numbers), PER_REQUEST):
                chunk = numbers[start : start + PER_REQUEST]
                variables = {f"i{n}": {**_letter(n), "idempotencyKey": f"{tag}-{n}"} for n in chunk}
                status, body = await http.post(
                    "/graphql", {"query": _document(chunk), "variables": variables}, headers
                )
                answers = json.loads(body)["data"]
                if status != 200 or any(a["errors"] for a in answers.values()):
                    raise RuntimeError(f"sendNotification refused: {answers}")

    await asyncio.gather(*(client(first) for first in range(CLIENTS)))


async def _wait_sent(server: Any, count: int, token: str) -> None:
    """Until ``count`` notifications are SENT (two minutes at most)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with KeepAlive(server.port) as http:
        # Every 0.1 s: a poll is a request the server (and on SQLite its worker) serves too.
        for _ in range(1200):
            _, body = await http.post(
                "/graphql", {"query": SENT_PAGE, "variables": {"o": count - 1}}, headers
            )
            if json.loads(body)["data"]["notifications"]:
                return
            await asyncio.sleep(0.1)
    raise RuntimeError("the letters were not all SENT within two minutes")


async def _through(server: Any, letters: int, tag: str, token: str) -> float:
    """Letters/s from the first sendNotification to the Nth letter SENT."""
    base = await _sent(server, {"Authorization": f"Bearer {token}"})
    started = time.perf_counter()
    await _enqueue(server, letters, tag, token)
    queued = time.perf_counter() - started
    await _wait_sent(server, base + letters, token)
    total = time.perf_counter() - started
    print(
        f"  {tag}: {letters} queued in {queued:.2f} s, all SENT after {total:.2f} s",
        file=sys.stderr,
        flush=True,
    )
    return letters / total


async def _delivery(server: Any, port: int, letters: int, tag: str, token: str) -> float:
    """Letters/s of the workers alone: queued while the account's queue is paused (its login
    failed), timed from the Save that resumes it to the last letter SENT."""
    await asyncio.to_thread(_save, server, port, "a-wrong-password")
    await _enqueue(server, 1, f"{tag}-pause", token)
    for _ in range(2000):
        paused = graphql(server, "{ mailTab { deliveryPaused } }")["mailTab"]["deliveryPaused"]
        if paused:
            break
        await asyncio.sleep(0.05)
    else:
        raise RuntimeError("the queue did not pause")
    await _enqueue(server, letters, tag, token)
    base = await _sent(server, {"Authorization": f"Bearer {token}"})
    started = time.perf_counter()
    await asyncio.to_thread(_save, server, port, PASSWORD)
    await _wait_sent(server, base + letters + 1, token)
    return (letters + 1) / (time.perf_counter() - started)


async def _sent(server: Any, headers: dict[str, str]) -> int:
    """How many are SENT already (the queue is shared by the rounds)."""
    low, high = 0, 1
    async with KeepAlive(server.port) as http:

        async def exists(offset: int) -> bool:
            _, body = await http.post(
                "/graphql", {"query": SENT_PAGE, "variables": {"o": offset}}, headers
            )
            return bool(json.loads(body)["data"]["notifications"])

        while await exists(high - 1):
            low, high = high, high * 2
        while low < high:
            middle = (low + high) // 2
            if await exists(middle):
                low = middle + 1
            else:
                high = middle
    return low


def _configure(server: Any, port: int) -> None:
    make_tab_available(server)
    _save(server, port, PASSWORD)


def _save(server: Any, port: int, password: str) -> None:
    graphql(
        server,
        "mutation($p: Int!, $w: String!) { saveMailSettings(input: {provider: OTHER, "
        'smtpHost: "localhost", port: $p, useSsl: true, address: "' + ADDRESS + '", '
        'password: $w, senderName: "Автозапчасти"}) { errors { code field } } }',
        {"p": port, "w": password},
    )


@contextlib.contextmanager
def _workers(server: Any, count: int) -> Iterator[None]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "cli", "worker"],
            cwd=ROOT,
            env=server.env,
            stdout=subprocess.DEVNULL,
            stderr=(server.data_dir / f"worker-{index}.log").open("wb"),
        )
        for index in range(count)
    ]
    try:
        yield
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)


@contextlib.asynccontextmanager
async def _postgres_database() -> AsyncIterator[str | None]:
    """A fresh database on the PostgreSQL server, migrated; None when there is none."""
    import asyncpg

    name = f"mailtab_bench_{secrets.token_hex(4)}"
    admin = POSTGRES_URL.replace("postgres://", "postgresql://")

    async def sql(statement: str) -> None:
        connection = await asyncpg.connect(admin, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    try:
        await sql(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError):
        yield None
        return
    url = f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"
    try:
        env = {**os.environ, "MAILTAB_DATABASE_URL": url}
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "cli", "migrate"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        yield url
    finally:
        await sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class _Figures:
    raw: list[float] = field(default_factory=list)
    through: list[float] = field(default_factory=list)
    """sendNotification + workers, end to end."""
    delivery: list[float] = field(default_factory=list)
    """The workers alone."""


async def _rounds(
    server: Any, port: int, ca_file: Path, letters: int, rounds: int, tag: str
) -> _Figures:
    figures = _Figures()
    token = await asyncio.to_thread(_cli_token, server)
    # Connections and caches warm up.
    await _through(server, min(letters, 20), f"{tag}-warm", token)
    for index in range(rounds):
        figures.raw.append(await _raw(port, ca_file, letters))
        figures.through.append(await _through(server, letters, f"{tag}-{index}", token))
        figures.delivery.append(await _delivery(server, port, letters, f"{tag}-d{index}", token))
    return figures


def _row(metric: str, value: str, ratio: float, target: str, holds: bool) -> dict[str, Any]:
    return {
        "section": "notifications",
        "metric": metric,
        "value": value,
        "ratio": ratio,
        "target": target,
        "holds": holds,
    }


async def _run(letters: int, *, rounds: int, smoke: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with _peer() as (port, ca_file):
        env = {**WORKER_ENV, "MAILTAB_SMTP_CA_FILE": str(ca_file)}
        with mailtab_server(env=env) as server:
            await asyncio.to_thread(_configure, server, port)
            lite = await _rounds(server, port, ca_file, letters, rounds, "sqlite")
        rows += _compare("SQLite, serve's own worker", lite)
        async with _postgres_database() as url:
            if url is None:
                return rows
            from cryptography.fernet import Fernet

            key = Fernet.generate_key().decode()
            pg_env = {**env, "MAILTAB_DATABASE_URL": url, "MAILTAB_SECRET_KEY": key}
            with mailtab_server(env=pg_env) as server:
                server.token = server.token or await asyncio.to_thread(_cli_token, server, "admin")
                await asyncio.to_thread(_configure, server, port)
                with _workers(server, 1):
                    one = await _rounds(server, port, ca_file, letters, rounds, "pg1")
                with _workers(server, 2):
                    two = await _rounds(server, port, ca_file, letters, rounds, "pg2")
    rows += _compare("PostgreSQL, 1 worker", one)
    for label, pick in (("end to end", "through"), ("workers alone", "delivery")):
        first, second = median(getattr(one, pick)), median(getattr(two, pick))
        rows.append(
            _row(
                f"letters/s, PostgreSQL, 2 workers vs 1 ({label})",
                f"{second:.0f} vs {first:.0f}",
                second / first,
                ">= 1.6x (near-linear)",
                second / first >= 1.6,
            )
        )
    return rows


def _compare(where: str, figures: _Figures) -> list[dict[str, Any]]:
    raw = median(figures.raw)
    rows = []
    for label, values in (
        ("sendNotification + workers", figures.through),
        ("workers alone", figures.delivery),
    ):
        ratio = median(values) / raw
        rows.append(
            _row(
                f"letters/s, {where}: {label} vs raw aiosmtplib (one connection)",
                f"{median(values):.0f} vs raw {raw:.0f}",
                ratio,
                ">= 0.8x",
                ratio >= 0.8,
            )
        )
    return rows


def _cli_token(server: Any, role: str = "sender") -> str:
    """A new token from ``mailtab token create --role ROLE`` (the ERP's back end: sender)."""
    created = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-m", "cli", "token", "create", "--role", role],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return created.stdout.strip().splitlines()[-1]
