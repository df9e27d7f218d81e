"""Scale of data: statements and server time per request on large tables, SQLite and PostgreSQL.

The database is filled straight through SQL (100,000 email accounts, 100,000 test-letter
attempts, 10,000 firms with two outlets each; a hundredth of that in smoke mode), then each
request below runs against ``mailtab serve``:

- statements per request: counted from the server's own DEBUG log (``tortoise.db_client``
  records carry the request id), once on a database a hundred times smaller and once on the
  full one — the counts must not change with the data. The token look-up is not counted: a
  verified token is kept for MAILTAB_TOKEN_CACHE_SECONDS, so whether a request looks it up
  depends on the clock, not on the data (it is one statement when it happens);
- server time: the ``duration_ms`` of the request's access line (JSON logs), the median of
  several requests; the baseline is the same server's ``/healthz``-like cheapest request,
  ``{ __typename }``, measured in the same run.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import ROOT, KeepAlive, mailtab_server, median

__all__ = ["requests_for", "run"]

POSTGRES_ADMIN = os.environ.get(
    "MAILTAB_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def requests_for(size: int) -> dict[str, str]:
    late = max(0, size - 100)
    late_firm = max(0, size // 10 - 100)
    return {
        "emailAccounts first page": "{ emailAccounts(limit: 100) { id address smtpHost } }",
        "emailAccounts late page": f"{{ emailAccounts(limit: 100, offset: {late}) {{ id address }} }}",
        "testEmailAttempts first page": "{ testEmailAttempts(last: 100) { id outcome } }",
        "testEmailAttempts late page": f"{{ testEmailAttempts(last: 100, offset: {late}) {{ id outcome }} }}",
        "mailTab": "{ mailTab { available missing settings { address account { id } } } }",
        "firms { outlets { name } } first page": "{ firms { outlets { name } } }",
        "firms { outlets { name } } late page": f"{{ firms(offset: {late_firm}) {{ outlets {{ name }} }} }}",
        "baseline { __typename }": "{ __typename }",
    }


def run(*, rounds: int, smoke: bool) -> list[dict[str, Any]]:
    size = 1_000 if smoke else 100_000
    backends = ["sqlite"] if smoke else ["sqlite", "postgres"]
    rows: list[dict[str, Any]] = []
    for backend in backends:
        small = _measure(backend, max(100, size // 100), repeats=3, statements_only=True)
        big = _measure(backend, size, repeats=5 if smoke else 21, statements_only=False)
        base = big["baseline { __typename }"]["ms"]
        for name, figures in big.items():
            if name.startswith("baseline"):
                continue
            constant = figures["statements"] == small[name]["statements"]
            rows.append(
                {
                    "section": "scale",
                    "metric": f"{backend}: {name}",
                    "value": f"{figures['ms']:.2f} ms server time, "
                    f"{figures['statements']} statements "
                    f"({'constant' if constant else 'was ' + str(small[name]['statements'])})",
                    "ratio": figures["ms"] / base if base else None,
                    "target": "<= 10 ms, constant statements",
                    "holds": figures["ms"] <= 10 and constant,
                }
            )
    return rows


def _measure(
    backend: str, size: int, *, repeats: int, statements_only: bool
) -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="mt-bench-scale-") as folder:
        data_dir = Path(folder)
        # The filled rows carry stored passwords: the server starts only with their key.
        env: dict[str, str] = {"MAILTAB_LOG_FORMAT": "json", "MAILTAB_SECRET_KEY": _fernet_key()}
        database = None
        if backend == "postgres":
            database = f"mailtab_bench_{uuid.uuid4().hex[:8]}"
            _psql(f'CREATE DATABASE "{database}"')
            env["MAILTAB_DATABASE_URL"] = POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{database}"
        try:
            _migrate(data_dir, env)
            _fill(backend, data_dir, env, size)
            results: dict[str, dict[str, Any]] = {}
            for level in ("DEBUG",) if statements_only else ("DEBUG", "INFO"):
                with mailtab_server(
                    env={**env, "MAILTAB_LOG_LEVEL": level}, data_dir=data_dir
                ) as server:
                    token = _admin_token(data_dir, env)
                    ids = asyncio.run(_send(server.port, token, requests_for(size), repeats))
                    server.stop()
                    lines = [
                        json.loads(line)
                        for line in server.log_path.read_text().splitlines()
                        if line.startswith("{")
                    ]
                for name, request_ids in ids.items():
                    figures = results.setdefault(name, {})
                    if level == "DEBUG":
                        counts = Counter(
                            line["request_id"]
                            for line in lines
                            if line.get("logger") == "tortoise.db_client"
                            and not _token_lookup(line.get("message", ""))
                        )
                        figures["statements"] = max(counts.get(i, 0) for i in request_ids)
                    else:
                        durations = {
                            line["request_id"]: line["duration_ms"]
                            for line in lines
                            if line.get("logger") == "mailtab.access" and "duration_ms" in line
                        }
                        figures["ms"] = median([durations[i] for i in request_ids[1:]])
            return results
        finally:
            if database:
                _psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _token_lookup(sql: str) -> bool:
    return sql.lstrip().upper().startswith("SELECT") and '"api_token"' in sql


async def _send(
    port: int, token: str, requests: dict[str, str], repeats: int
) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    async with KeepAlive(port) as http:
        for name, query in requests.items():
            for _ in range(repeats):
                request_id = uuid.uuid4().hex
                status, body = await http.post(
                    "/graphql",
                    {"query": query},
                    {"Authorization": f"Bearer {token}", "X-Request-ID": request_id},
                )
                if status != 200 or "errors" in json.loads(body):
                    raise RuntimeError(f"{name}: {status} {body[:300]!r}")
                ids.setdefault(name, []).append(request_id)
    return ids


def _mailtab(data_dir: Path, env: dict[str, str], *args: str) -> str:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")},
        "MAILTAB_DATA_DIR": str(data_dir),
        **env,
    }
    return subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout


def _migrate(data_dir: Path, env: dict[str, str]) -> None:
    _mailtab(data_dir, env, "migrate")


def _admin_token(data_dir: Path, env: dict[str, str]) -> str:
    return _mailtab(data_dir, env, "token", "create", "--role", "admin").strip().splitlines()[-1]


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _psql(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run())


def _rows(size: int) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """The tables' rows: accounts, attempts, firms (a tenth of ``size``) with two outlets each."""
    now = datetime.now(UTC)
    ciphertext = "gAAAAA" + secrets.token_urlsafe(90)
    accounts = [
        (
            "OTHER",
            f"smtp{i % 50}.corp.example",
            587,
            True,
            "STARTTLS",
            f"user{i}@corp.example",
            f"user{i}@corp.example",
            "Отдел продаж",
            f"user{i}@corp.example",
            ciphertext,
            now - timedelta(seconds=size - i),
            now - timedelta(seconds=size - i),
        )
        for i in range(size)
    ]
    attempts = [
        (
            now - timedelta(seconds=size - i),
            "admin token",
            None,
            None,
            "FORM",
            "smtp.corp.example",
            587,
            "STARTTLS",
            f"user{i}@corp.example",
            "buyer@example.org",
            i % 3 == 0,
            "DELIVERED" if i % 3 == 0 else "AUTH_FAILED",
            250 if i % 3 == 0 else 535,
            120,
        )
        for i in range(size)
    ]
    firms = [(f"Фирма {i}", "7707083893", None, now) for i in range(size // 10)]
    outlets = [
        (1 + i // 2, f"Склад {i}", "WAREHOUSE" if i % 2 else "OUTLET", None, now)
        for i in range(2 * (size // 10))
    ]
    return {
        "email_account": (
            [
                "provider",
                "smtp_host",
                "port",
                "use_ssl",
                "security",
                "address",
                "address_key",
                "sender_name",
                "sender_email",
                "password_encrypted",
                "created_at",
                "updated_at",
            ],
            accounts,
        ),
        "test_email_attempt": (
            [
                "created_at",
                "token_name",
                "token_id",
                "account_id",
                "source",
                "smtp_host",
                "port",
                "security",
                "address",
                "recipient",
                "delivered",
                "outcome",
                "smtp_code",
                "duration_ms",
            ],
            attempts,
        ),
        "firm": (["name", "inn", "kpp", "created_at"], firms),
        "outlet": (["firm_id", "name", "kind", "address", "created_at"], outlets),
    }


def _fill(backend: str, data_dir: Path, env: dict[str, str], size: int) -> None:
    started = time.monotonic()
    tables = _rows(size)
    if backend == "sqlite":
        connection = sqlite3.connect(data_dir / "mailtab.sqlite3")
        with connection:
            for table, (columns, rows) in tables.items():
                marks = ", ".join("?" for _ in columns)
                connection.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                    [
                        tuple(v.isoformat() if isinstance(v, datetime) else v for v in row)
                        for row in rows
                    ],
                )
        connection.close()
    else:
        import asyncpg

        async def copy() -> None:
            connection = await asyncpg.connect(
                env["MAILTAB_DATABASE_URL"].replace("postgres://", "postgresql://")
            )
            try:
                for table, (columns, rows) in tables.items():
                    await connection.copy_records_to_table(table, records=rows, columns=columns)
                # As autovacuum leaves a table some time after a bulk load: statistics and
                # the visibility map (index-only scans skip the table for visible rows).
                await connection.execute("VACUUM ANALYZE")
            finally:
                await connection.close()

        asyncio.run(copy())
    print(
        f"   {backend}: {size:,} rows per table in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
