"""Database wiring: the Tortoise configuration, migrations, and the embedded SQLite file."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["TORTOISE_ORM", "migrate_database", "pending_migrations", "tortoise_config"]

MODEL_MODULES = ["models.firms", "models.tokens", "models.accounts"]


def tortoise_config(db_url: str, *, pool_timeout: float = 5.0) -> dict[str, Any]:
    """The Tortoise configuration for one database URL, with the migrations package."""
    connection: str | dict[str, Any] = db_url
    if db_url.startswith("postgres"):
        from tortoise.backends.base.config_generator import expand_db_url

        connection = expand_db_url(db_url)
        # Bounded waits: a database that does not answer must not hang a request.
        connection["credentials"].setdefault("timeout", pool_timeout)
        connection["credentials"].setdefault("command_timeout", pool_timeout * 2)
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


async def migrate_database(db_url: str) -> None:
    """Apply every pending migration, then close the connections it opened."""
    from tortoise import Tortoise
    from tortoise.migrations.api import migrate

    try:
        await migrate(config=tortoise_config(db_url))
    finally:
        await Tortoise.close_connections()


async def pending_migrations(apps: dict[str, Any]) -> list[str]:
    """``app.name`` of every migration on disk that the connected database has not applied."""
    from tortoise.connection import get_connection
    from tortoise.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(get_connection("default"), apps)
    return [
        f"{step.migration.app_label}.{step.migration.name}"
        for step in await executor.plan()
        if not step.backward
    ]


#: For Tortoise's own CLI (``tortoise -c models.db.TORTOISE_ORM makemigrations``).
TORTOISE_ORM = tortoise_config(os.environ.get("MAILTAB_DATABASE_URL") or "sqlite://:memory:")
