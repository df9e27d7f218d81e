"""Deployment-constant answers from memory: per request, role and language; never past the gate."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.routing import Route

from models import Role
from services.tokens import create_token, revoke_token
from web.graphql import GraphQLEndpoint
from web.response_cache import ResponseCache, cache_key

PROVIDERS = "query Providers { mailProviders { code title } }"


def _endpoint(app: Any) -> GraphQLEndpoint:
    for route in app.routes:
        if isinstance(route, Route) and route.path == "/graphql":
            endpoint = route.app
            assert isinstance(endpoint, GraphQLEndpoint)
            return endpoint
    raise AssertionError("no /graphql route")


@pytest.fixture
def answers(app: Any) -> ResponseCache:
    cache = ResponseCache()
    _endpoint(app).answers = cache
    return cache


async def _ask(
    http: httpx.AsyncClient, token: str | None, query: str = PROVIDERS, lang: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if lang:
        headers["Accept-Language"] = lang
    return await http.post("/graphql", json={"query": query}, headers=headers)


async def test_the_second_answer_is_the_first_ones_bytes(
    app: Any, anonymous: httpx.AsyncClient, answers: ResponseCache, admin_token: str
) -> None:
    first = await _ask(anonymous, admin_token)
    assert len(answers) == 1
    second = await _ask(anonymous, admin_token)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert len(answers) == 1


async def test_languages_never_mix(
    app: Any, anonymous: httpx.AsyncClient, answers: ResponseCache, admin_token: str
) -> None:
    russian = await _ask(anonymous, admin_token, lang="ru")
    english = await _ask(anonymous, admin_token, lang="en")
    assert russian.content != english.content
    for _ in range(2):
        assert (await _ask(anonymous, admin_token, lang="en")).content == english.content
        assert (await _ask(anonymous, admin_token, lang="ru")).content == russian.content
    assert len(answers) == 2


async def test_roles_never_share_an_entry(
    app: Any,
    anonymous: httpx.AsyncClient,
    answers: ResponseCache,
    admin_token: str,
    viewer_token: str,
) -> None:
    await _ask(anonymous, admin_token)
    await _ask(anonymous, viewer_token)
    assert len(answers) == 2
    keys = list(answers._answers)
    assert {key[1] for key in keys} == {Role.ADMIN.value, Role.VIEWER.value}
    assert all(admin_token not in repr(key) and viewer_token not in repr(key) for key in keys)


def test_keys_differ_by_role_language_method_and_request() -> None:
    base: dict[str, Any] = {"method": "POST", "request": b"{}", "role": "admin", "lang": "ru"}
    variants = [
        base,
        {**base, "role": "viewer"},
        {**base, "lang": "en"},
        {**base, "method": "GET"},
        {**base, "request": b"{ }"},
    ]
    assert len({cache_key(**variant) for variant in variants}) == len(variants)


async def test_a_cached_answer_still_needs_a_live_token(
    app: Any, anonymous: httpx.AsyncClient, answers: ResponseCache
) -> None:
    _, token = await create_token(name="short-lived", role=Role.ADMIN)
    assert (await _ask(anonymous, token)).status_code == 200
    assert len(answers) == 1
    assert (await _ask(anonymous, None)).status_code == 401
    assert (await _ask(anonymous, "mt_" + "z" * 43)).status_code == 401
    await revoke_token("short-lived")
    assert (await _ask(anonymous, token)).status_code == 401


async def test_only_constant_queries_without_errors_are_kept(
    app: Any, anonymous: httpx.AsyncClient, answers: ResponseCache, admin_token: str
) -> None:
    for query in (
        "{ mailTab { available } }",  # reads the database
        "{ mailProviders { code } mailTab { available } }",  # not constant as a whole
        "{ mailProviders { code nope } }",  # an error
        'mutation { sendTestEmail(input: {recipient: "x"}) { delivered } }',
    ):
        await _ask(anonymous, admin_token, query)
        await _ask(anonymous, admin_token, query)
    assert len(answers) == 0


async def test_a_cached_answer_is_logged_and_counted_as_its_operation(
    app: Any,
    anonymous: httpx.AsyncClient,
    answers: ResponseCache,
    admin_token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _ask(anonymous, admin_token)
    caplog.clear()
    with caplog.at_level("INFO", logger="mailtab.access"):
        await _ask(anonymous, admin_token)
    [line] = [r for r in caplog.records if r.name == "mailtab.access"]
    assert line.operation == "mailProviders"  # type: ignore[attr-defined]
    assert line.outcome == "ok"  # type: ignore[attr-defined]
    assert line.token == "test admin"  # type: ignore[attr-defined]
    assert admin_token not in caplog.text


async def test_a_constant_answer_over_get_may_be_reused_by_the_browser_only(
    app: Any, anonymous: httpx.AsyncClient, answers: ResponseCache, admin_token: str
) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"}
    for _ in range(2):  # produced, then from the cache: the same hints
        answer = await anonymous.get("/graphql", params={"query": PROVIDERS}, headers=headers)
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "private, max-age=300"
        assert answer.headers["vary"] == "Authorization, Accept-Language"
    posted = await _ask(anonymous, admin_token)
    assert "cache-control" not in posted.headers
    other = await anonymous.get(
        "/graphql", params={"query": "{ mailTab { available } }"}, headers=headers
    )
    assert "cache-control" not in other.headers
