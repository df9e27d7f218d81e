"""Probes for orchestrators, both open (no token) and free of secrets.

- ``GET /healthz``: the process is alive and serving; touches nothing else, so a database
  outage never gets a healthy process restarted.
- ``GET /readyz``: the database answers ``SELECT 1`` within ``db_timeout`` and every
  migration on disk is applied. 200 ``{"status": "ready"}``, or 503 with what is wrong:
  a load balancer stops sending traffic until it is ready again, with no restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from config import Settings
from models.db import tortoise_config
from schema.safety import is_outage

__all__ = ["healthz", "pending_migrations", "readiness"]

log = logging.getLogger("mailtab.health")


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def pending_migrations(apps: dict[str, Any]) -> list[str]:
    """``app.name`` of every migration on disk that the database has not applied."""
    from tortoise.connection import get_connection
    from tortoise.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(get_connection("default"), apps)
    return [
        f"{step.migration.app_label}.{step.migration.name}"
        for step in await executor.plan()
        if not step.backward
    ]


def readiness(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """The /readyz endpoint for these settings."""
    apps = tortoise_config(settings.db_url)["apps"]
    # The connection attempt and the two queries, each bounded by db_timeout in models.db.
    wait = settings.db_timeout * 3

    async def readyz(request: Request) -> Response:
        from tortoise.connection import get_connection

        try:
            async with asyncio.timeout(wait):
                await get_connection("default").execute_query("SELECT 1")
                pending = await pending_migrations(apps)
        except Exception as exc:
            state = "unreachable" if is_outage(exc) else "error"
            log.warning("not ready: database %s: %s", state, exc.__class__.__name__)
            return JSONResponse({"status": "unavailable", "database": state}, status_code=503)
        if pending:
            return JSONResponse(
                {"status": "unavailable", "database": "ok", "pendingMigrations": pending},
                status_code=503,
            )
        return JSONResponse({"status": "ready", "database": "ok", "pendingMigrations": []})

    return readyz
