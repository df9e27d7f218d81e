"""Verified tokens in memory: no database look-up while fresh, revocation bounded and at once."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tortoise import connections

from models import ApiToken, Role
from services import token_cache
from services.token_cache import (
    CACHE,
    TokenCache,
    listen_for_revocations,
    publish_revocation,
)
from services.tokens import authenticate, create_token, digest, revoke_token

REDIS_URL = os.environ.get("MAILTAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MAIL_TAB = "{ mailTab { available } }"


class Clock:
    """The cache module's clock, moved by hand (the event loop's clock is left alone)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    clock = Clock()
    monkeypatch.setattr(token_cache, "_now", clock)
    CACHE.configure(seconds=5)
    yield clock
    CACHE.configure(seconds=5)


class CountingQueries:
    """Counts the statements the default connection runs (the token look-up is one)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        client = connections.get("default")
        original = client.execute_query

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await original(*args, **kwargs)

        monkeypatch.setattr(client, "execute_query", counted)


async def _post(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {token}"}
    )


async def test_a_verified_token_needs_no_database_while_fresh(
    app: Any, anonymous: httpx.AsyncClient, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = await create_token(name="cached", role=Role.ADMIN)
    assert (await _post(anonymous, token)).status_code == 200
    counter = CountingQueries(monkeypatch)
    for _ in range(3):
        assert (await _post(anonymous, token)).status_code == 200
    assert counter.count == 0
    clock.now += 5.1
    assert (await _post(anonymous, token)).status_code == 200
    assert counter.count == 1  # expired: looked up again


async def test_revoking_in_this_process_refuses_the_token_at_once(
    app: Any, anonymous: httpx.AsyncClient, clock: Clock
) -> None:
    _, token = await create_token(name="leaving", role=Role.ADMIN)
    assert (await _post(anonymous, token)).status_code == 200
    assert await revoke_token("leaving") == 1
    assert (await _post(anonymous, token)).status_code == 401


async def test_a_revocation_elsewhere_holds_within_the_cache_seconds(
    app: Any, anonymous: httpx.AsyncClient, clock: Clock
) -> None:
    record, token = await create_token(name="elsewhere", role=Role.ADMIN)
    assert (await _post(anonymous, token)).status_code == 200
    # Another process (the CLI on another machine) revoked it: this one was not told.
    await ApiToken.filter(id=record.id).update(revoked_at=record.created_at)
    clock.now += 4.9
    assert (await _post(anonymous, token)).status_code == 200
    clock.now += 0.2
    assert (await _post(anonymous, token)).status_code == 401


async def test_unknown_tokens_are_never_kept(app: Any, clock: Clock) -> None:
    assert await authenticate("mt_" + "x" * 43) is None
    assert len(CACHE) == 0
    _, token = await create_token(name="later", role=Role.VIEWER)
    assert await authenticate(token) is not None  # a new token works at once


async def test_zero_seconds_switches_the_cache_off(app: Any, clock: Clock) -> None:
    CACHE.configure(seconds=0)
    _, token = await create_token(name="uncached", role=Role.VIEWER)
    assert await authenticate(token) is not None
    assert len(CACHE) == 0


def test_the_cache_is_bounded_and_keyed_by_digest(clock: Clock) -> None:
    cache = TokenCache(seconds=5, max_entries=3)
    records = [ApiToken(id=i, name=f"t{i}", role=Role.VIEWER) for i in range(5)]
    tokens = [f"mt_secret{i}" for i in range(5)]
    for token, record in zip(tokens, records, strict=True):
        cache.put(digest(token), record)
    assert len(cache) == 3
    assert cache.get(digest(tokens[0])) is None
    assert cache.get(digest(tokens[4])) is records[4]
    kept = repr(list(cache._entries))
    assert not any(token in kept for token in tokens)


def _redis_reachable() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not _redis_reachable(), reason="no Redis on 127.0.0.1:6379")


@needs_redis
async def test_a_revocation_reaches_every_instance_through_redis(app: Any, clock: Clock) -> None:
    # Another instance's cache, listening as a serving process does.
    other = TokenCache(seconds=5)
    ready, cleared = asyncio.Event(), asyncio.Event()
    listener = asyncio.create_task(
        listen_for_revocations(REDIS_URL, cache=other, ready=ready, cleared=cleared)
    )
    try:
        await asyncio.wait_for(ready.wait(), 5)
        record, token = await create_token(name="shared", role=Role.ADMIN)
        other.put(digest(token), record)
        assert await revoke_token("shared", redis_url=REDIS_URL) == 1
        await asyncio.wait_for(cleared.wait(), 5)
        assert len(other) == 0
        assert other.get(digest(token)) is None
    finally:
        listener.cancel()
        with pytest.raises(asyncio.CancelledError):
            await listener


async def test_an_unreachable_redis_is_a_warning_without_the_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "redis://:s3cret-pass@127.0.0.1:1/0"
    assert await publish_revocation(url) is False
    assert "s3cret-pass" not in caplog.text
    assert "revocation not published" in caplog.text


async def test_a_lost_redis_is_one_warning_and_the_bound_still_holds(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coredis

    monkeypatch.setattr(token_cache, "RECONNECT_SECONDS", 0.01)
    monkeypatch.setattr(token_cache, "MAX_RECONNECT_SECONDS", 0.02)
    attempts = 0
    retried = asyncio.Event()
    connect = coredis.Redis.from_url

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal attempts
        attempts += 1
        if attempts >= 4:
            retried.set()
        return connect(*args, **kwargs)

    monkeypatch.setattr(coredis.Redis, "from_url", counted)
    cache = TokenCache(seconds=5)
    listener = asyncio.create_task(
        listen_for_revocations("redis://:s3cret-pass@127.0.0.1:1/0", cache=cache)
    )
    try:
        await asyncio.wait_for(retried.wait(), 20)
    finally:
        listener.cancel()
        with pytest.raises(asyncio.CancelledError):
            await listener
    warnings = [r for r in caplog.records if "not received" in r.getMessage()]
    assert len(warnings) == 1
    assert "s3cret-pass" not in caplog.text
