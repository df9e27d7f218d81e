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

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from config import Settings
from models.db import pending_migrations, tortoise_config
from web.faults import is_outage

__all__ = ["healthz", "readiness"]

log = logging.getLogger("mailtab.health")


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def readiness(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """The /readyz endpoint for these settings."""
    apps = tortoise_config(settings.db_url)["apps"]
    wait = settings.db_wait

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
