"""/healthz and /readyz (web.health)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from web import health

# 1. GraphQL limits -------------------------------------------------------------------------


async def test_probes(anonymous: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    alive = await anonymous.get("/healthz")
    assert (alive.status_code, alive.text) == (200, "ok")
    ready = await anonymous.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "pendingMigrations": []}

    async def one_pending(apps: Any) -> list[str]:
        return ["models.0099_future"]

    monkeypatch.setattr(health, "pending_migrations", one_pending)
    behind = await anonymous.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["pendingMigrations"] == ["models.0099_future"]
