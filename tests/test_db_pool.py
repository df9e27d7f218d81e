"""models.db: PostgreSQL connections go back to the pool without a reset statement."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise import connections

from models.db import keep_session, tortoise_config
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="asyncpg's pool")


def test_the_pool_is_configured_without_the_reset_statement(database_url: str) -> None:
    credentials = tortoise_config(database_url)["connections"]["default"]["credentials"]
    assert credentials["reset"] is keep_session


async def test_a_released_connection_has_no_open_transaction_and_keeps_working(
    app: Any,
) -> None:
    client: Any = connections.get("default")
    pool = client._pool
    assert pool is not None and pool._reset is keep_session
    async with pool.acquire() as connection:
        await connection.execute("CREATE TEMPORARY TABLE IF NOT EXISTS probe (n int)")
        await connection.execute("BEGIN")
        await connection.execute("INSERT INTO probe VALUES (1)")
        backend = await connection.fetchval("SELECT pg_backend_pid()")
    # The pool rolled the unfinished transaction back before handing the connection on.
    for _ in range(pool.get_max_size()):
        async with pool.acquire() as connection:
            assert not connection.is_in_transaction()
            if await connection.fetchval("SELECT pg_backend_pid()") == backend:
                assert await connection.fetchval("SELECT count(*) FROM probe") == 0
    assert await client.execute_query_dict("SELECT 1 AS one") == [{"one": 1}]
