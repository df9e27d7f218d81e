"""Database wiring: the Tortoise configuration, migrations, and the embedded SQLite file.

Also what a database failure means for an operator: ``is_unmigrated`` (the tables are not
there yet: run ``mailtab migrate``) and ``is_missing_database`` (PostgreSQL has no database
of that name), told apart from an outage by the callers that give advice.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "TORTOISE_ORM",
    "DatabaseFileError",
    "check_connection",
    "check_sqlite_file",
    "count_stored_passwords",
    "is_missing_database",
    "is_unmigrated",
    "keep_session",
    "migrate_database",
    "pending_migrations",
    "sqlite_file",
    "tortoise_config",
]

MODEL_MODULES = [
    "models.firms",
    "models.tokens",
    "models.accounts",
    "models.oauth",
    "models.notifications",
]


async def keep_session(connection: Any) -> None:
    """asyncpg's pool ``reset``: nothing to undo (the pool itself rolls back a transaction)."""


def tortoise_config(db_url: str, *, pool_timeout: float = 5.0) -> dict[str, Any]:
    """The Tortoise configuration for one database URL, with the migrations package."""
    connection: str | dict[str, Any] = db_url
    if db_url.startswith("postgres"):
        from tortoise.backends.base.config_generator import expand_db_url

        connection = expand_db_url(db_url)
        # Bounded waits: a database that does not answer must not hang a request.
        connection["credentials"].setdefault("timeout", pool_timeout)
        connection["credentials"].setdefault("command_timeout", pool_timeout * 2)
        # A connection goes back to the pool without asyncpg's reset statement (advisory
        # locks, cursors, LISTEN, session settings: mailtab uses none of them), one round
        # trip less per statement; an open transaction is still rolled back by the pool.
        connection["credentials"].setdefault("reset", keep_session)
    elif db_url.startswith("sqlite://") and ":memory:" not in db_url:
        from tortoise.backends.base.config_generator import expand_db_url

        connection = expand_db_url(db_url)
        # In WAL mode, NORMAL syncs the log at checkpoints instead of at every commit
        # (an fsync of several milliseconds per test letter's record); the file stays
        # consistent through a crash, and a power cut can lose only the last commits.
        connection["credentials"].setdefault("synchronous", "NORMAL")
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


class DatabaseFileError(Exception):
    """The SQLite file cannot be used; the message is one line naming the path."""


def sqlite_file(db_url: str) -> Path | None:
    """The file of an ``sqlite://`` URL; None for another database or ``:memory:``."""
    if not db_url.startswith("sqlite://"):
        return None
    from tortoise.backends.base.config_generator import expand_db_url

    path = str(expand_db_url(db_url)["credentials"]["file_path"])
    return None if path == ":memory:" else Path(path)


def check_sqlite_file(db_url: str, *, owner_only: bool = False) -> list[Path]:
    """Refuse an SQLite file that cannot be written, at once and naming the path.

    Opened by Tortoise, such a file hangs the process instead (see ``check_connection``).
    SQLite writes its ``-wal`` and ``-shm`` files beside the database, so the folder must be
    writable too. A missing file is created empty (a valid database) readable by the owner
    only: it holds the encrypted passwords and the token digests, and SQLite gives its
    companion files the database's own mode. ``owner_only`` also narrows an existing file
    (and its companions) to 0600; the paths it narrowed are returned.
    """
    path = sqlite_file(db_url)
    if path is None:
        return []
    folder = path.parent
    if not folder.is_dir():
        raise DatabaseFileError(f"the folder of the SQLite database does not exist: {folder}")
    if path.exists() and not path.is_file():
        raise DatabaseFileError(f"the SQLite database is not a file: {path}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DatabaseFileError(
            f"the folder of the SQLite database is not writable (SQLite keeps its -wal and "
            f"-shm files beside the database): {folder}"
        )
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:  # created meanwhile by another process: checked below
            pass
        except OSError as exc:
            raise DatabaseFileError(
                f"cannot create the SQLite database ({exc.strerror}): {path}"
            ) from None
    if not os.access(path, os.R_OK | os.W_OK):
        raise DatabaseFileError(f"the SQLite database is not writable: {path}")
    if not owner_only:
        return []
    narrowed = []
    for candidate in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
            if mode & 0o077:
                candidate.chmod(mode & 0o700)
                narrowed.append(candidate)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise DatabaseFileError(
                f"cannot make the SQLite database readable by its owner only "
                f"({exc.strerror}): {candidate}"
            ) from None
    return narrowed


def count_stored_passwords(db_url: str) -> int:
    """Encrypted passwords (and OAuth2 connections) in an SQLite database (0 for another
    database or none yet).

    Read with the standard library, read-only: it is asked before the password key is made,
    which happens before Tortoise connects (and in the ASGI app factory, which is not async).
    """
    path = sqlite_file(db_url)
    if path is None or not path.is_file() or path.stat().st_size == 0:
        return 0
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
        try:
            (count,) = connection.execute(
                "SELECT COUNT(*) FROM email_account "
                "WHERE password_encrypted IS NOT NULL AND password_encrypted != ''"
            ).fetchone()
        except sqlite3.OperationalError as exc:
            if is_unmigrated(exc):
                return 0
            raise
        try:
            # OAuth2 refresh tokens are encrypted under the same key.
            (tokens,) = connection.execute("SELECT COUNT(*) FROM oauth_connection").fetchone()
        except sqlite3.OperationalError as exc:
            if not is_unmigrated(exc):
                raise
            tokens = 0
    return int(count) + int(tokens)


async def check_connection(name: str = "default") -> None:
    """Open the connection now, so that a failure to connect is raised here.

    Two of Tortoise's behaviours make a connection that fails later go unnoticed: its
    migration recorder reads "no migrations applied" from any failure (an unreachable
    server looks like an empty database), and its SQLite client keeps the connection lock
    when the file cannot be opened, so that the next statement waits for it forever.
    """
    from tortoise.connection import get_connection

    await get_connection(name).execute_query("SELECT 1")


async def migrate_database(db_url: str) -> None:
    """Apply every pending migration, then close the connections it opened."""
    from tortoise import Tortoise
    from tortoise.migrations.api import migrate

    config = tortoise_config(db_url)
    try:
        # A connection of its own first: ``migrate`` initializes Tortoise again.
        await Tortoise.init(config=config)
        await check_connection()
        await Tortoise.close_connections()
        await migrate(config=config)
    finally:
        await Tortoise.close_connections()


async def pending_migrations(apps: dict[str, Any]) -> list[str]:
    """``app.name`` of every migration on disk that the connected database has not applied.

    Raises when the database cannot be reached, rather than listing every migration.
    """
    from tortoise.connection import get_connection
    from tortoise.migrations.executor import MigrationExecutor

    await check_connection()
    executor = MigrationExecutor(get_connection("default"), apps)
    return [
        f"{step.migration.app_label}.{step.migration.name}"
        for step in await executor.plan()
        if not step.backward
    ]


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it was raised from or wraps (Tortoise wraps drivers')."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        if current.__cause__ is not None:
            stack.append(current.__cause__)
        elif current.__context__ is not None and not current.__suppress_context__:
            stack.append(current.__context__)


def _asyncpg_types(*names: str) -> tuple[type[BaseException], ...]:
    try:
        found = importlib.import_module("asyncpg.exceptions")
    except ImportError:  # pragma: no cover - asyncpg comes with tortoise-orm[asyncpg]
        return ()
    return tuple(getattr(found, name) for name in names)


# SQLite names a table or column the migrations have not created yet like this.
_SQLITE_MISSING = re.compile(r"no such (table|column): ")


def is_unmigrated(exc: BaseException) -> bool:
    """True when ``exc`` says a table or column is missing: migrations are not applied."""
    missing = _asyncpg_types("UndefinedTableError", "UndefinedColumnError")
    for current in _chain(exc):
        if isinstance(current, missing):
            return True
        if isinstance(current, sqlite3.OperationalError) and _SQLITE_MISSING.match(str(current)):
            return True
    return False


def is_missing_database(exc: BaseException) -> bool:
    """True when ``exc`` says the PostgreSQL server has no database of the configured name."""
    missing = _asyncpg_types("InvalidCatalogNameError")
    return any(isinstance(current, missing) for current in _chain(exc))


#: For Tortoise's own CLI (``tortoise -c models.db.TORTOISE_ORM makemigrations``).
TORTOISE_ORM = tortoise_config(os.environ.get("MAILTAB_DATABASE_URL") or "sqlite://:memory:")
