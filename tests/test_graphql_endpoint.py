"""The checks in front of GraphQL (web.graphql, web.json_body): methods, bodies, JSON, budgets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from models import Firm
from services import firms as firm_service
from services import tokens
from tests.conftest import (
    CREATE_FIRM,
    FIRMS,
    ROMASHKA,
    GraphQLClient,
    MakeClient,
    only_error,
)
from web.json_body import MAX_JSON_DEPTH

# 1. GraphQL limits -------------------------------------------------------------------------


# 1. HTTP-level refusals --------------------------------------------------------------------


async def test_body_over_the_limit_is_413_at_once(
    anonymous: httpx.AsyncClient, admin_token: str
) -> None:
    big = {"query": "{ firms { id } }", "variables": {"x": "я" * 40_000}}
    response = await anonymous.post(
        "/graphql", json=big, headers={"Authorization": f"Bearer {admin_token}"}
    )
    assert response.status_code == 413
    assert only_error(response)["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "limit": 65536}


async def test_chunked_body_is_counted_while_reading(
    anonymous: httpx.AsyncClient, admin_token: str
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ firms { id } }", "variables": {"x": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}}'

    response = await anonymous.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert only_error(response)["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/x-www-form-urlencoded", b"query=mutation%7BcreateFirm%7D"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{}\r\n--x--',
        ),
        ("text/plain", b'{"query": "mutation { createFirm }"}'),
        (None, b'{"query": "mutation { createFirm }"}'),
    ],
)
async def test_only_json_bodies_are_accepted(
    anonymous: httpx.AsyncClient, admin_token: str, content_type: str | None, content: bytes
) -> None:
    headers = {"Authorization": f"Bearer {admin_token}"}
    if content_type:
        headers["Content-Type"] = content_type
    response = await anonymous.post("/graphql", content=content, headers=headers)
    assert response.status_code == 415
    assert only_error(response)["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_json_with_charset_is_fine(anonymous: httpx.AsyncClient, admin_token: str) -> None:
    response = await anonymous.post(
        "/graphql",
        content=b'{"query": "{ firms { id } }"}',
        headers={
            "Authorization": f"Bearer {admin_token}",
            "Content-Type": "application/json; charset=utf-8",
        },
    )
    assert response.json() == {"data": {"firms": []}}


async def test_batches_are_refused(anonymous: httpx.AsyncClient, admin_token: str) -> None:
    response = await anonymous.post(
        "/graphql",
        json=[{"query": "{ firms { id } }"}, {"query": "{ outlets { id } }"}],
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert response.status_code == 400
    assert only_error(response)["extensions"]["code"] == "BATCHING_NOT_SUPPORTED"


async def test_get_runs_queries_but_never_mutations(
    anonymous: httpx.AsyncClient, admin_token: str
) -> None:
    auth = {"Authorization": f"Bearer {admin_token}"}
    query = await anonymous.get("/graphql", params={"query": FIRMS}, headers=auth)
    assert query.json() == {"data": {"firms": []}}
    mutation = 'mutation { createFirm(input: {name: "Ф", inn: "7707083893"}) { errors { code } } }'
    response = await anonymous.get("/graphql", params={"query": mutation}, headers=auth)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert only_error(response)["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert await Firm.all().count() == 0


async def test_other_methods_and_malformed_bodies_get_graphql_shaped_errors(
    anonymous: httpx.AsyncClient, admin_token: str
) -> None:
    auth = {"Authorization": f"Bearer {admin_token}"}
    put = await anonymous.put("/graphql", json={"query": FIRMS}, headers=auth)
    assert put.status_code == 405 and put.headers["allow"] == "GET, POST"
    assert only_error(put)["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    for content in [
        b"{not json",
        b'{"variables": {}}',
        b'{"query": "{ firms { id } }", "operationName": "Nope"}',
    ]:
        response = await anonymous.post(
            "/graphql", content=content, headers={**auth, "Content-Type": "application/json"}
        )
        assert response.status_code == 400, content
        error = only_error(response)
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "Nope" not in response.text
    english = await anonymous.post(
        "/graphql",
        content=b"{not json",
        headers={**auth, "Content-Type": "application/json", "Accept-Language": "en"},
    )
    assert only_error(english)["message"] == "The request is not valid JSON."


def nested_variable(
    depth: int, query: str = "query($v: String!) { programSettings(group: $v) { key } }"
) -> bytes:
    """A body whose variable ``v`` is ``depth`` lists inside each other (the body adds 2 levels)."""
    return (
        '{"query": "' + query + '", "variables": {"v": ' + "[" * depth + "]" * depth + "}}"
    ).encode()


def serious_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"null", "The request body must be a JSON object with the field 'query'."),
        (b'"x"', "The request body must be a JSON object with the field 'query'."),
        (b"5", "The request body must be a JSON object with the field 'query'."),
        (b"true", "The request body must be a JSON object with the field 'query'."),
        (b'{"query": "\xff"}', "The request is not valid JSON."),
        (b'{"query": "{ firms { id } }"}\xc3', "The request is not valid JSON."),
        (
            b'{"query": "{ firms { id } }", "x": 1' + b"0" * 5000 + b"}",
            "The request is not valid JSON.",
        ),
        (nested_variable(3000), "nested too deeply: at most 32 levels"),
        (nested_variable(900), "nested too deeply: at most 32 levels"),
        (nested_variable(MAX_JSON_DEPTH - 1), "nested too deeply: at most 32 levels"),
        (
            b'{"query": "{ firms { id } }", "extensions": {"x": '
            + b"[" * 3000
            + b"]" * 3000
            + b"}}",
            "nested too deeply: at most 32 levels",
        ),
        (
            b'{"query": "query($v: String!) { programSettings(group: $v) { key } }", '
            b'"variables": {"v": "\\ud800"}}',
            "Malformed GraphQL request (see extensions.reason).",
        ),
    ],
    ids=[
        "null",
        "string",
        "number",
        "boolean",
        "invalid-utf8",
        "truncated-utf8",
        "too-many-digits",
        "variables-3000-deep",
        "variables-900-deep",
        "one-level-too-deep",
        "extensions-3000-deep",
        "unpaired-surrogate",
    ],
)
async def test_malformed_json_bodies_are_400_without_a_traceback(
    anonymous: httpx.AsyncClient,
    admin_token: str,
    caplog: pytest.LogCaptureFixture,
    content: bytes,
    message: str,
) -> None:
    headers = {
        "Authorization": f"Bearer {admin_token}",
        "Content-Type": "application/json",
        "Accept-Language": "en",
    }
    response = await anonymous.post("/graphql", content=content, headers=headers)
    assert response.status_code == 400, response.text
    error = only_error(response)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert message in error["message"]
    assert not serious_records(caplog), [r.getMessage() for r in serious_records(caplog)]
    russian = await anonymous.post(
        "/graphql", content=content, headers={**headers, "Accept-Language": "ru"}
    )
    assert only_error(russian)["message"] != error["message"]


async def test_json_nesting_limit_and_what_passes_it(
    gql: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    too_deep = await gql.http.post(
        "/graphql",
        content=nested_variable(MAX_JSON_DEPTH - 1),
        headers={"Authorization": f"Bearer {gql.token}", "Content-Type": "application/json"},
    )
    assert only_error(too_deep)["extensions"] == {"code": "BAD_REQUEST", "limit": MAX_JSON_DEPTH}
    # The deepest that passes reaches graphql-core: a GraphQL error about the value, no fault.
    for query in [
        "query($v: String!) { programSettings(group: $v) { key } }",
        "mutation($v: MailSettingsInput!) { saveMailSettings(input: $v) { errors { code } } }",
    ]:
        response = await gql.http.post(
            "/graphql",
            content=nested_variable(MAX_JSON_DEPTH - 2, query),
            headers={"Authorization": f"Bearer {gql.token}", "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        [error] = response.json()["errors"]
        assert error["message"].startswith("Variable '$v' has invalid value"), error
        assert "INTERNAL_SERVER_ERROR" not in response.text
    # GET's variables and extensions are JSON too, parsed by Strawberry under the same limits.
    auth = {"Authorization": f"Bearer {gql.token}", "Accept-Language": "en"}
    for params in [
        {"variables": '{"v": ' + "[" * 3000 + "]" * 3000 + "}"},
        {"extensions": '{"x": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}"},
    ]:
        response = await gql.http.get("/graphql", params={"query": FIRMS, **params}, headers=auth)
        assert response.status_code == 400, response.text
        assert only_error(response)["extensions"] == {
            "code": "BAD_REQUEST",
            "limit": MAX_JSON_DEPTH,
        }
    surrogate = await gql.http.get(
        "/graphql", params={"query": FIRMS, "variables": '{"v": "\\udfff"}'}, headers=auth
    )
    assert surrogate.status_code == 400
    assert "surrogate" in only_error(surrogate)["extensions"]["reason"]
    not_json = await gql.http.get(
        "/graphql", params={"query": FIRMS, "variables": "{nope"}, headers=auth
    )
    assert only_error(not_json)["extensions"]["code"] == "BAD_REQUEST"
    assert not serious_records(caplog)


async def test_a_byte_order_mark_before_the_json_is_tolerated(
    anonymous: httpx.AsyncClient, admin_token: str
) -> None:
    response = await anonymous.post(
        "/graphql",
        content=b'\xef\xbb\xbf{"query": "{ firms { id } }"}',
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
    )
    assert response.json() == {"data": {"firms": []}}


async def test_operation_past_its_time_budget_is_504(
    client_with: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = asyncio.Event()

    async def slow_create(data: Any) -> Any:
        started.set()
        await asyncio.sleep(30)

    monkeypatch.setattr(firm_service, "create_firm", slow_create)
    # Settings refuse a budget shorter than SMTP_TIMEOUT + 2 × DB_TIMEOUT. The token check
    # waits 3 × DB_TIMEOUT (0.6 s), longer than the budget, so the budget is what stops it.
    client = await client_with(operation_timeout=0.5, smtp_timeout=0.05, db_timeout=0.2)
    response = await client.post(CREATE_FIRM, {"input": ROMASHKA})
    assert started.is_set()
    assert response.status_code == 504
    error = only_error(response)
    assert error["extensions"] == {"code": "TIMEOUT"}
    assert "0.5" in error["message"]
    assert await Firm.all().count() == 0
    # The budget covers the token look-up as well.
    monkeypatch.setattr(tokens, "authenticate", lambda token: asyncio.sleep(30))
    assert (await client.post(FIRMS)).status_code == 504
