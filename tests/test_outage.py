"""Outages and shutdown, with real processes: PostgreSQL going away and coming back, SIGTERM.

PostgreSQL is never stopped: the served app reaches it through a TCP proxy in this test,
which can refuse connections (the server is down), swallow traffic (the network hangs) or
forward it again (the server is back). Both run in both passes of the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from services.tokens import PREFIX, digest
from tests.conftest import POSTGRES_ADMIN_URL

T = TypeVar("T")
MAILTAB = str(Path(sys.executable).with_name("mailtab"))
QUERY = {"query": "{ firms { id } }"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Proxy:
    """127.0.0.1:``port`` → ``target``, switchable between up, down and stalled.

    Runs its own event loop in a thread, so that the test can use blocking clients.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.stalled = False
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def up(self) -> None:
        self.stalled = False
        self.run(self._listen())

    def stall(self) -> None:
        """Accept connections and swallow what passes, like a network that hangs."""
        self.stalled = True
        self.run(self._listen())

    def down(self) -> None:
        """Refuse new connections and cut the open ones, like a server that stopped."""
        self.run(self._close())

    def close(self) -> None:
        self.down()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()

    async def _listen(self) -> None:
        if self.server is None:
            self.server = await asyncio.start_server(
                self._connection, "127.0.0.1", self.port, reuse_address=True
            )

    async def _close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        if self.stalled:
            await self._pump(reader, None)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers.add(upstream_writer)
        await asyncio.gather(
            self._pump(reader, upstream_writer),
            self._pump(upstream_reader, writer),
            return_exceptions=True,
        )

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter | None
    ) -> None:
        try:
            while data := await reader.read(65536):
                if writer is not None and not self.stalled:
                    writer.write(data)
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if writer is not None:
                writer.transport.abort()


async def postgres(sql: str, *args: Any) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"))
    try:
        await connection.execute(sql, *args)
    finally:
        await connection.close()


class Server:
    """A served app in its own process, its output collected line by line."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self.started = threading.Event()
        self.collector = threading.Thread(target=self._collect, daemon=True)
        self.collector.start()
        assert self.started.wait(30), "\n".join(self.lines)

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if "Uvicorn running on" in line:
                self.started.set()
        self.started.set()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.collector.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


@pytest.fixture
def outage_database(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A migrated database of its own, and an admin token in it: (name, token)."""
    name = f"mailtab_outage_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(postgres(f'CREATE DATABASE "{name}"'))
    try:
        direct = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")}
        migrated = subprocess.run(
            [MAILTAB, "migrate"],
            env={**env, "MAILTAB_DATABASE_URL": direct, "MAILTAB_DATA_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert migrated.returncode == 0, migrated.stderr
        token = PREFIX + secrets.token_urlsafe(32)

        async def add_token() -> None:
            import asyncpg

            connection = await asyncpg.connect(direct.replace("postgres://", "postgresql://"))
            try:
                await connection.execute(
                    "INSERT INTO api_token (name, role, token_hash, created_at) "
                    "VALUES ('outage test', 'admin', $1, now())",
                    digest(token),
                )
            finally:
                await connection.close()

        asyncio.run(add_token())
        yield name, token
    finally:
        asyncio.run(postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def post(base: str, token: str, timeout: float = 20) -> httpx.Response:
    """The client's timeout only guards against a hang; it is generous, not a measurement."""
    return httpx.post(
        f"{base}/graphql", json=QUERY, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
    )


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"].startswith("Сервис временно недоступен")
    assert "Traceback" not in response.text and "5432" not in response.text
    assert response.headers["retry-after"]


def test_postgres_outage_is_503_and_the_service_recovers_without_restart(
    outage_database: tuple[str, str], tmp_path: Path
) -> None:
    name, token = outage_database
    admin = urlsplit(POSTGRES_ADMIN_URL)
    proxy = Proxy(admin.hostname or "127.0.0.1", admin.port or 5432)
    credentials = admin.netloc.rsplit("@", 1)[0] + "@" if "@" in admin.netloc else ""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")}
    env |= {
        "MAILTAB_DATABASE_URL": f"postgres://{credentials}127.0.0.1:{proxy.port}/{name}",
        "MAILTAB_DB_TIMEOUT": "0.5",
        "MAILTAB_DATA_DIR": str(tmp_path),
        "MAILTAB_SECRET_KEY": Fernet.generate_key().decode(),
        "MAILTAB_LOG_FORMAT": "json",
    }
    base = f"http://127.0.0.1:{port}"
    # Started while the database refuses connections: the service comes up regardless.
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "app:app_from_environment"]
    server = Server([*uvicorn, "--port", str(port)], env)
    try:
        assert server.process.poll() is None, "\n".join(server.lines)
        assert_unavailable(post(base, token, timeout=10))
        assert httpx.get(f"{base}/healthz").status_code == 200
        not_ready = httpx.get(f"{base}/readyz")
        assert (not_ready.status_code, not_ready.json()["database"]) == (503, "unreachable")

        proxy.up()  # the database is back
        response = post(base, token)
        assert response.json() == {"data": {"firms": []}}
        assert httpx.get(f"{base}/readyz").json()["status"] == "ready"

        proxy.down()  # it stops while the pool holds open connections
        assert_unavailable(post(base, token, timeout=10))

        proxy.stall()  # the network hangs: bounded by MAILTAB_DB_TIMEOUT, not by the client
        assert_unavailable(post(base, token, timeout=10))
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 503

        proxy.down()
        proxy.up()
        response = post(base, token)
        assert response.json() == {"data": {"firms": []}}, response.text
    finally:
        code = server.stop()
        proxy.close()
    assert code in (0, -signal.SIGTERM), "\n".join(server.lines)
    entries = [json.loads(line) for line in server.lines if line.startswith("{")]
    outages = [e for e in entries if "service unavailable" in e["message"]]
    assert outages and all("traceback" not in e for e in outages)
    assert not any("Traceback" in line for line in server.lines), "\n".join(server.lines)


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def in_progress(port: int) -> float:
    scrape = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    line = next(
        x for x in scrape.splitlines() if x.startswith("mailtab_graphql_requests_in_progress ")
    )
    return float(line.split()[1])


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_sigterm_lets_in_flight_requests_finish_and_closes_the_database(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")}
    env |= {
        "MAILTAB_DATA_DIR": str(tmp_path / "data"),
        "MAILTAB_OPERATION_TIMEOUT": "5",
        "MAILTAB_SMTP_TIMEOUT": "2",
        "MAILTAB_DB_TIMEOUT": "1",
    }
    server = Server([MAILTAB, "serve", "--port", str(port)], env)
    token = next(line for line in server.lines if line.startswith("mt_"))
    body = json.dumps(
        {
            "query": "mutation($input: FirmInput!) { createFirm(input: $input) { firm { name } errors { code } } }",
            "variables": {"input": {"name": "ООО Ромашка", "inn": "7707083893"}},
        }
    ).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            # The request is in flight: its headers and half its body have arrived.
            client.sendall(head + body[:20])
            wait_for(lambda: in_progress(port) == 1)
            server.process.send_signal(signal.SIGTERM)
            # No new connections once shutdown has begun...
            wait_for(lambda: refused(port))
            # ...but the one in flight is served to the end.
            client.sendall(body[20:])
            reply = b""
            while chunk := client.recv(65536):
                reply += chunk
        status, _, rest = reply.partition(b"\r\n")
        assert status == b"HTTP/1.1 200 OK", reply
        answer = json.loads(rest.partition(b"\r\n\r\n")[2])
        assert answer == {"data": {"createFirm": {"firm": {"name": "ООО Ромашка"}, "errors": []}}}
        code = server.process.wait(timeout=15)
    finally:
        with contextlib.suppress(Exception):
            server.stop()
    # uvicorn re-raises SIGTERM after a graceful shutdown (exit by the signal, 143 in a shell).
    assert code in (0, -signal.SIGTERM), "\n".join(server.lines)
    output = "\n".join(server.lines)
    assert "Traceback" not in output

    def first(text: str) -> int:
        return next(i for i, line in enumerate(server.lines) if text in line)

    # Shutdown began, then the request was answered, then the pool was closed.
    assert (
        first("Shutting down")
        < first("POST /graphql 200 createFirm ok")
        < first("mailtab stopped: requests finished, database connections closed")
    ), output
    with sqlite3.connect(tmp_path / "data" / "mailtab.sqlite3") as database:
        assert database.execute("SELECT name FROM firm").fetchall() == [("ООО Ромашка",)]


# --- a database whose migrations are not applied ---------------------------------------------


def execute(url: str, *statements: str) -> None:
    """Run SQL statements on the database at ``url`` (sqlite:// or postgres://)."""
    if url.startswith("sqlite://"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite://"))) as database:
            for statement in statements:
                database.execute(statement)
            database.commit()
        return

    async def run() -> None:
        import asyncpg

        connection = await asyncpg.connect(url.replace("postgres://", "postgresql://"))
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database that exists and has no tables."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'empty.sqlite3'}"
        return
    name = f"mailtab_unmigrated_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(postgres(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def factory_server(url: str, tmp_path: Path) -> tuple[Server, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")}
    env |= {
        "MAILTAB_DATABASE_URL": url,
        "MAILTAB_DATA_DIR": str(tmp_path),
        "MAILTAB_SECRET_KEY": Fernet.generate_key().decode(),
    }
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "app:app_from_environment"]
    return Server([*uvicorn, "--port", str(port)], env), f"http://127.0.0.1:{port}"


def assert_pending_migrations(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["reason"] == "pendingMigrations"
    assert "mailtab migrate" in error["message"]
    assert response.headers["retry-after"]


@pytest.mark.parametrize("stage", ["no tables", "an older schema"])
def test_unmigrated_database_is_503_pending_migrations_like_readyz(
    empty_database: str, tmp_path: Path, stage: str
) -> None:
    token = PREFIX + secrets.token_urlsafe(32)
    if stage == "an older schema":
        # The token table is there (the token check passes), the firms' tables are not yet.
        migrated = subprocess.run(
            [MAILTAB, "migrate"],
            env={**os.environ, "MAILTAB_DATABASE_URL": empty_database},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert migrated.returncode == 0, migrated.stderr
        columns = "api_token (name, role, token_hash, created_at)"
        insert_token = (
            f"INSERT INTO {columns} VALUES ('old', 'admin', '{digest(token)}', CURRENT_TIMESTAMP)"  # noqa: S608
        )
        execute(
            empty_database,
            "DROP TABLE outlet",
            "DROP TABLE firm",
            "DELETE FROM tortoise_migrations",
            insert_token,
        )
    server, base = factory_server(empty_database, tmp_path)
    try:
        assert server.process.poll() is None, "\n".join(server.lines)
        ready = httpx.get(f"{base}/readyz", timeout=20)
        assert ready.status_code == 503
        # Every migration on disk is pending (the first one at least removes the firms' tables).
        on_disk = sorted(
            f"models.{path.stem}"
            for path in (Path(__file__).resolve().parent.parent / "migrations").glob("0*.py")
        )
        assert ready.json()["pendingMigrations"] == on_disk
        assert_pending_migrations(post(base, token))
    finally:
        server.stop()
    output = "\n".join(server.lines)
    assert "Traceback" not in output
    assert "unexpected error" not in output
