"""Hostile and broken input at /graphql: limits, content types, budgets, errors, CORS, probes.

Apps with other settings are built on the session database and used without their own
lifespan: the session app has registered the ORM for that database already.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from prometheus_client import REGISTRY
from tortoise.exceptions import DBConnectionError

from app import create_app
from config import load_settings
from models import Firm
from services import firms as firm_service
from services import tokens
from services.telemetry import record_rate_limited, record_test_email
from tests.conftest import GraphQLClient, make_settings
from web import health
from web.extensions import suggestions_enabled
from web.faults import is_outage
from web.json_body import MAX_JSON_DEPTH
from web.redaction import REDACTED, redact

FIRMS = "{ firms { id name } }"
CREATE_FIRM = """mutation($input: FirmInput!) {
  createFirm(input: $input) { firm { id } errors { field code } } }"""
ROMASHKA = {"name": "ООО Ромашка", "inn": "7707083893"}

MakeClient = Callable[..., Awaitable[GraphQLClient]]


@pytest.fixture
async def client_with(
    app: Any, database_url: str, data_dir: Path, admin_token: str
) -> AsyncIterator[MakeClient]:
    """``await client_with(introspection=False)``: an admin client of an app with those settings."""
    opened: list[httpx.AsyncClient] = []

    async def make(**overrides: Any) -> GraphQLClient:
        url = overrides.pop("database_url", database_url)
        other = create_app(make_settings(url, data_dir, **overrides))
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://t")
        opened.append(http)
        return GraphQLClient(http, admin_token)

    yield make
    for http in opened:
        await http.aclose()


def only_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert isinstance(error["message"], str) and error["message"]
    return dict(error)


# 1. GraphQL limits -------------------------------------------------------------------------


async def test_query_depth_is_limited(gql: GraphQLClient) -> None:
    # Pages of one: cheap by cost (see test_query_cost), too deep all the same.
    nested = "firms(limit: 1) { outlets(limit: 1) { firm { outlets(limit: 1) { firm { outlets(limit: 1) { firm { outlets(limit: 1) { firm { outlets(limit: 1) { firm { id } } } } } } } } } } }"
    body = (await gql.post("{ " + nested + " }")).json()
    assert body["data"] is None
    assert "exceeds maximum operation depth of 10" in body["errors"][0]["message"]
    assert (await gql.post("{ firms { outlets { firm { id } } } }")).status_code == 200


async def test_aliases_are_limited(gql: GraphQLClient) -> None:
    many = " ".join(f"a{i}: firms {{ id }}" for i in range(16))
    body = (await gql.post("{ " + many + " }")).json()
    assert body["errors"][0]["message"] == "16 aliases found. Allowed: 15"
    few = " ".join(f"a{i}: firms {{ id }}" for i in range(15))
    assert "errors" not in (await gql.post("{ " + few + " }")).json()


async def test_tokens_are_limited(gql: GraphQLClient) -> None:
    body = (await gql.post("{ " + "firms { id } " * 700 + "}")).json()
    assert "Document contains more than 2000 tokens" in body["errors"][0]["message"]


async def test_graphiql_introspection_passes_the_limits(gql: GraphQLClient) -> None:
    query = get_introspection_query(descriptions=True, input_value_deprecation=True)
    data = await gql(query)
    assert data["__schema"]["mutationType"]["name"] == "Mutation"


async def test_introspection_and_graphiql_can_be_switched_off(
    client_with: MakeClient, anonymous: httpx.AsyncClient
) -> None:
    page = await anonymous.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()

    closed = await client_with(introspection=False, graphiql=False)
    refused = (await closed.post("{ __schema { types { name } } }")).json()
    assert refused["data"] is None
    assert "introspection" in refused["errors"][0]["message"].lower()
    assert (await closed("{ firms { id } }")) == {"firms": []}
    no_page = await closed.http.get("/graphql", headers={"Accept": "text/html"})
    assert no_page.status_code == 401  # the page is gone: GET is an operation like any other
    assert "graphiql" not in no_page.text.lower()


async def test_field_suggestions_are_off_where_the_schema_is_not_public(
    client_with: MakeClient, database_url: str, data_dir: Path
) -> None:
    mistakes = [
        "{ firmz { id } }",
        "{ firms { nam } }",
        "{ mailTab { available } emailAccounts(limt: 1) { id } }",
        'mutation { createOutlet(input: {firmId: "1", name: "x", kind: WAREHOUS}) { errors { code } } }',
        'mutation { createFirm(input: {name: "x", inn: "7707083893", kp: "1"}) { errors { code } } }',
    ]
    hidden = await client_with(introspection=False)
    for query in mistakes:
        message = (await hidden.post(query)).json()["errors"][0]["message"]
        assert "Did you mean" not in message, message
        assert message  # still says what is wrong
    # The embedded, explorable start keeps the hints. (Only the settings say "embedded":
    # without its own lifespan the app still runs on the session database.)
    embedded = await client_with(database_url=f"sqlite://{data_dir / 'explore.sqlite3'}")
    shown = (await embedded.post("{ firmz { id } }")).json()["errors"][0]["message"]
    assert "Did you mean 'firms'?" in shown
    production = load_settings(
        database_url="postgres://u@db.example:5432/mailtab", data_dir=data_dir
    )
    assert not suggestions_enabled(production)
    assert suggestions_enabled(make_settings(database_url, data_dir)) is database_url.startswith(
        "sqlite"
    )


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


# 2. Errors ---------------------------------------------------------------------------------


async def test_unexpected_faults_are_masked_with_an_id_in_the_log(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(data: Any) -> Any:
        raise RuntimeError("internal detail 42")

    monkeypatch.setattr(firm_service, "create_firm", broken)
    response = await gql.post(CREATE_FIRM, {"input": ROMASHKA}, lang="en")
    assert response.status_code == 200
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    assert error_id in error["message"] and error["message"].startswith("Internal server error")
    assert "internal detail" not in response.text and "Traceback" not in response.text
    [logged] = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged.levelno == logging.ERROR and logged.exc_info is not None
    assert "internal detail 42" in str(logged.exc_info[1])


async def test_a_fault_in_the_token_check_is_a_masked_500(
    anonymous: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(token: str) -> Any:
        raise KeyError("oops")

    monkeypatch.setattr(tokens, "authenticate", broken)
    response = await anonymous.post(
        "/graphql", json={"query": FIRMS}, headers={"Authorization": "Bearer mt_x"}
    )
    assert response.status_code == 500
    error = only_error(response)
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert any(
        error["extensions"]["errorId"] in r.getMessage() and r.exc_info for r in caplog.records
    )


async def test_validation_errors_stay_readable_and_payload_errors_untouched(
    gql: GraphQLClient,
) -> None:
    readable = (await gql.post("{ firms { nope } }")).json()["errors"][0]
    assert readable["message"].startswith("Cannot query field 'nope' on type 'Firm'.")
    typed = await gql(CREATE_FIRM, {"input": {"name": "Ф", "inn": "1234567890"}})
    assert typed["createFirm"] == {"firm": None, "errors": [{"field": "inn", "code": "INVALID"}]}


def test_redaction_cuts_inputs_but_not_the_words_around_them() -> None:
    message = "Expected value of type 'FirmInput' not to include unknown field 'kp'; got \"x\"."
    assert redact(message, ["x", "kp"]) == (
        "Expected value of type 'FirmInput' not to include unknown field '•••'; got \"•••\"."
    )
    assert redact("see ab!pw", ["!pw"]) == "see ab•••"  # no word edge to respect at "!"
    assert redact("value '!pw' here", ["!pw"]) == "value '•••' here"


def test_what_counts_as_an_outage() -> None:
    def chained(outer: Exception, inner: BaseException) -> Exception:
        try:
            raise inner
        except BaseException as exc:
            try:
                raise outer from exc
            except Exception as final:
                return final

    assert is_outage(ConnectionRefusedError(111, "refused"))
    assert is_outage(TimeoutError())
    assert is_outage(OSError("Multiple exceptions: [Errno 111] Connect call failed"))
    assert is_outage(chained(DBConnectionError("lost"), ConnectionResetError()))
    assert not is_outage(FileNotFoundError(2, "no such file"))
    assert not is_outage(RuntimeError("bug"))
    assert not is_outage(chained(KeyError("bug"), ValueError()))
    try:
        try:
            raise ConnectionError("earlier, handled")
        except ConnectionError:
            raise RuntimeError("unrelated") from None
    except RuntimeError as unrelated:
        assert not is_outage(unrelated)


# 5. Outages (without PostgreSQL; tests/test_outage.py stops a real one) ---------------------


async def test_database_outage_in_a_resolver_is_service_unavailable(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def unreachable(data: Any) -> Any:
        try:
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
        except OSError as exc:
            raise DBConnectionError("connection lost") from exc

    monkeypatch.setattr(firm_service, "create_firm", unreachable)
    response = await gql.post(CREATE_FIRM, {"input": ROMASHKA})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"].startswith("Сервис временно недоступен")
    assert "5432" not in response.text and "Traceback" not in response.text
    [logged] = [r for r in caplog.records if error["extensions"]["errorId"] in r.getMessage()]
    assert logged.levelno == logging.WARNING and logged.exc_info is None


async def test_database_outage_at_the_token_check_is_503(
    anonymous: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(token: str) -> Any:
        raise OSError("Multiple exceptions: [Errno 111] Connect call failed")

    monkeypatch.setattr(tokens, "authenticate", unreachable)
    response = await anonymous.post(
        "/graphql",
        json={"query": FIRMS},
        headers={"Authorization": "Bearer mt_x", "Accept-Language": "en"},
    )
    assert response.status_code == 503
    error = only_error(response)
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"].startswith("The service is temporarily unavailable")


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


# 3. CORS and security headers --------------------------------------------------------------


async def test_cors_only_for_configured_origins(
    client_with: MakeClient, anonymous: httpx.AsyncClient
) -> None:
    preflight = {
        "Origin": "https://erp.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    # None by default: a browser's preflight gets no permission.
    default = await anonymous.options("/graphql", headers=preflight)
    assert "access-control-allow-origin" not in default.headers

    client = await client_with(cors_origins=["https://erp.example"])
    allowed = await client.http.options("/graphql", headers=preflight)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://erp.example"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    other = await client.http.options(
        "/graphql", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers
    client.http.headers["Origin"] = "https://erp.example"
    actual = await client.post(FIRMS)
    assert actual.headers["access-control-allow-origin"] == "https://erp.example"
    assert "x-request-id" in actual.headers["access-control-expose-headers"].lower()


async def test_graphiql_page_policy_allows_exactly_what_it_loads(
    anonymous: httpx.AsyncClient,
) -> None:
    page = await anonymous.get("/graphql", headers={"Accept": "text/html"})
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["connect-src"] == "'self'"
    # Everything comes from this service: no other origin, no inline code but by its hash.
    assert policy["style-src"] == "'self'"
    assert policy["script-src"].split()[0] == "'self'"
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert not re.search(r"https?://", " ".join(policy.values()))
    for url in re.findall(r'<(?:script|link)\s[^>]*(?:src|href)="([^"]+)"', page.text):
        assert url.startswith("static/"), url
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_api_responses_carry_strict_headers(gql: GraphQLClient) -> None:
    response = await gql.post(FIRMS)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert re.fullmatch(r"[0-9a-f]{16}", response.headers["x-request-id"])


# 6. Metrics --------------------------------------------------------------------------------


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_count_requests_latency_letters_and_refusals(
    gql: GraphQLClient, viewer_gql: GraphQLClient, anonymous: httpx.AsyncClient
) -> None:
    before = {
        "ok": sample("mailtab_graphql_requests_total", operation="firms", outcome="ok"),
        "forbidden": sample(
            "mailtab_graphql_requests_total", operation="createFirm", outcome="forbidden"
        ),
        "anonymous": sample(
            "mailtab_graphql_requests_total", operation="-", outcome="unauthenticated"
        ),
        "latency": sample("mailtab_graphql_request_duration_seconds_count", operation="firms"),
        "delivered": sample("mailtab_test_emails_total", outcome="DELIVERED"),
        "odd": sample("mailtab_test_emails_total", outcome="OTHER"),
        "limited": sample("mailtab_rate_limited_total", operation="sendTestEmail"),
    }
    await gql(FIRMS)
    await viewer_gql.post(CREATE_FIRM, {"input": ROMASHKA})
    await anonymous.post("/graphql", json={"query": FIRMS})
    record_test_email("DELIVERED")
    record_test_email("not a code\n")
    record_rate_limited("sendTestEmail")

    assert (
        sample("mailtab_graphql_requests_total", operation="firms", outcome="ok")
        == before["ok"] + 1
    )
    assert (
        sample("mailtab_graphql_requests_total", operation="createFirm", outcome="forbidden")
        == before["forbidden"] + 1
    )
    assert (
        sample("mailtab_graphql_requests_total", operation="-", outcome="unauthenticated")
        == before["anonymous"] + 1
    )
    assert (
        sample("mailtab_graphql_request_duration_seconds_count", operation="firms")
        == before["latency"] + 1
    )
    assert sample("mailtab_test_emails_total", outcome="DELIVERED") == before["delivered"] + 1
    assert sample("mailtab_test_emails_total", outcome="OTHER") == before["odd"] + 1
    assert sample("mailtab_rate_limited_total", operation="sendTestEmail") == before["limited"] + 1

    scrape = await anonymous.get("/metrics")  # no token: counts only
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    for name in [
        "mailtab_graphql_requests_total",
        "mailtab_graphql_request_duration_seconds_bucket",
        "mailtab_test_emails_total",
        "mailtab_rate_limited_total",
        "mailtab_graphql_requests_in_progress",
    ]:
        assert name in scrape.text
    assert gql.token is not None and gql.token not in scrape.text


async def test_metric_labels_are_not_client_chosen(gql: GraphQLClient) -> None:
    await gql.post("{ madeUpField }")
    await gql.post("query SomeName { firms { id } outlets { id } }")
    labels = {
        sample.labels.get("operation")
        for metric in REGISTRY.collect()
        if metric.name == "mailtab_graphql_requests"
        for sample in metric.samples
    }
    assert "madeUpField" not in labels and "SomeName" not in labels
    assert "multiple" in labels


async def test_redaction_keeps_variable_names_readable(gql: Any) -> None:
    response = await gql.post(
        "mutation($input: FirmInput!) { createFirm(input: $input) { errors { code } } }",
        {"input": {"name": "Sekr3t-value"}},
    )
    message = response.json()["errors"][0]["message"]
    assert "$input" in message
    assert "Sekr3t-value" not in message


SAVE = "mutation($i: MailSettingsInput!) { saveMailSettings(input: $i) { errors { code } } }"


def save_inline(password: str) -> str:
    return (
        'mutation { saveMailSettings(input: {provider: YANDEX, address: "a@b.ru", '
        f"password: {password}}}) {{ errors {{ code }} }} }}"
    )


@pytest.mark.parametrize(
    ("query", "variables", "secret", "message"),
    [
        (
            SAVE,
            {"i": {"provider": "YANDEX", "password": 987654321, "address": "a@b.ru"}},
            "987654321",
            "Variable '$i' has invalid value at .password: "
            "String cannot represent a non string value: •••",
        ),
        (
            SAVE,
            {"i": {"provider": "YANDEX", "password": 98765.4321, "address": "a@b.ru"}},
            "98765.4321",
            "Variable '$i' has invalid value at .password: "
            "String cannot represent a non string value: •••",
        ),
        (
            SAVE,
            {"i": {"provider": "YANDEX", "password": [987654321], "address": "a@b.ru"}},
            "987654321",
            "Variable '$i' has invalid value at .password: "
            "String cannot represent a non string value: •••",
        ),
        (
            SAVE,
            {"i": {"provider": "YANDEX", "password": {"pin": 987654321}, "address": "a@b.ru"}},
            "987654321",
            "Variable '$i' has invalid value at .password: "
            "String cannot represent a non string value: •••",
        ),
        (
            SAVE,
            {"i": {"provider": "YANDEX", "password": 987654321}},
            "987654321",
            "Variable '$i' has invalid value: Expected value of type 'MailSettingsInput' "
            "to include required field 'address', found: •••.",
        ),
        (
            save_inline("987654321"),
            {},
            "987654321",
            "String cannot represent a non string value: •••",
        ),
        (save_inline("12.5"), {}, "12.5", "String cannot represent a non string value: •••"),
        (
            save_inline("SECRETENUM"),
            {},
            "SECRETENUM",
            "String cannot represent a non string value: •••",
        ),
        (save_inline("true"), {}, "true", "String cannot represent a non string value: •••"),
        (
            save_inline("[987654321, 2]"),
            {},
            "987654321",
            "String cannot represent a non string value: •••",
        ),
        (
            save_inline("{pin: 987654321}"),
            {},
            "987654321",
            "String cannot represent a non string value: •••",
        ),
        (
            'mutation { saveMailSettings(input: {provider: SECRETENUM, address: "a@b.ru"}) '
            "{ errors { code } } }",
            {},
            "SECRETENUM",
            "Value '•••' does not exist in 'MailProviderCode' enum.",
        ),
        (
            'mutation { saveMailSettings(input: {provider: 987654321, address: "a@b.ru"}) '
            "{ errors { code } } }",
            {},
            "987654321",
            "Enum 'MailProviderCode' cannot represent non-enum value: •••.",
        ),
        (
            SAVE,
            {"i": {"provider": "YANDEX", "address": "a@b.ru", "port": 98765432100}},
            "98765432100",
            "Variable '$i' has invalid value at .port: "
            "Int cannot represent non 32-bit signed integer value: •••",
        ),
        (
            "mutation($id: ID!) { deleteFirm(id: $id) { errors { code } } }",
            {"id": 98765.4321},
            "98765.4321",
            "Variable '$id' has invalid value: ID cannot represent value: •••",
        ),
    ],
    ids=[
        "int-variable",
        "float-variable",
        "list-variable",
        "object-variable",
        "int-variable-object-incomplete",
        "int-literal",
        "float-literal",
        "enum-literal",
        "boolean-literal",
        "list-literal",
        "object-literal",
        "unknown-enum-value",
        "number-for-an-enum",
        "int-out-of-range",
        "float-for-an-id",
    ],
)
async def test_a_wrongly_typed_value_is_not_echoed(
    gql: GraphQLClient,
    caplog: pytest.LogCaptureFixture,
    query: str,
    variables: dict[str, Any],
    secret: str,
    message: str,
) -> None:
    caplog.set_level(logging.INFO)
    response = await gql.post(query, variables, lang="en")
    assert response.status_code == 200
    assert secret not in response.text
    # Some inputs have more than one fault: each is redacted, the one looked at is among them.
    assert message in [e["message"] for e in response.json()["errors"]]
    for record in caplog.records:
        if record.name.startswith("mailtab"):
            assert secret not in record.getMessage(), record.getMessage()


async def test_redaction_keeps_the_schemas_own_names(
    client_with: MakeClient, data_dir: Path
) -> None:
    # The embedded start shows "Did you mean …?": the schema's names must survive there.
    embedded = await client_with(database_url=f"sqlite://{data_dir / 'explore.sqlite3'}")
    query = """mutation {
      a: saveMailSettings(input: {provider: YANDEX, security: STARTTLS, address: "a@b.ru",
                                   password: 987654321}) { errors { code } }
      b: saveMailSettings(input: {provider: YANDX, address: "a@b.ru"}) { errors { code } }
      c: createOutlet(input: {firmId: "1", name: "x", kind: WAREHOUS}) { errors { code } }
    }"""
    messages = sorted(e["message"] for e in (await embedded.post(query)).json()["errors"])
    assert messages == [
        "String cannot represent a non string value: •••",
        "Value '•••' does not exist in 'MailProviderCode' enum. "
        "Did you mean the enum value 'YANDEX'?",
        "Value '•••' does not exist in 'OutletKind' enum. Did you mean the enum value 'WAREHOUSE'?",
    ]


def test_numbers_and_booleans_are_cut_only_where_a_value_is_echoed() -> None:
    scalars = ["987654321", "15", "True", "true"]
    # Messages that never repeat input keep their numbers, whatever the request carried.
    assert redact("16 aliases found. Allowed: 15", [], scalars) == "16 aliases found. Allowed: 15"
    assert redact("Int cannot represent non 32-bit signed integer value: 15", [], scalars) == (
        f"Int cannot represent non 32-bit signed integer value: {REDACTED}"
    )
    # A scalar's own parser may repeat the value before graphql-core's "found:".
    echoed = (
        "Expected value of type 'Port', but encountered error 'port 987654321 is out of range';"
        " found: 987654321."
    )
    assert redact(echoed, [], scalars) == (
        f"Expected value of type 'Port', but encountered error 'port {REDACTED} is out of range';"
        f" found: {REDACTED}."
    )
    assert redact(
        "Expected value of type 'In' not to include unknown field 'x'. Did you mean 'y'? "
        "Found: {'y': True}.",
        ["x"],
        scalars,
    ) == (
        f"Expected value of type 'In' not to include unknown field '{REDACTED}'. "
        f"Did you mean 'y'? Found: {REDACTED}."
    )
    assert redact("Value 'a' does not exist in 'E' enum' does not exist in 'E' enum.", [], []) == (
        f"Value '{REDACTED}' does not exist in 'E' enum."
    )


async def test_an_unknown_inline_field_name_is_not_echoed(gql: Any) -> None:
    response = await gql.post(
        'mutation { createFirm(input: {name: "Ф", inn: "7707083893", SecretWord42: 1}) { errors { code } } }'
    )
    message = response.json()["errors"][0]["message"]
    assert "SecretWord42" not in message
    assert "FirmInput" in message


async def test_several_operations_need_an_operation_name(gql: Any) -> None:
    document = (
        'mutation A { createFirm(input: {name: "A", inn: "7707083893"}) { errors { code } } } '
        'mutation B { createFirm(input: {name: "B", inn: "7707083893"}) { errors { code } } }'
    )
    for payload in ({"query": document}, {"query": document, "operationName": None}):
        response = await gql.http.post(
            "/graphql", json=payload, headers={"Authorization": f"Bearer {gql.token}"}
        )
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "OPERATION_NAME_REQUIRED"
        assert any("\u0400" <= c <= "\u04ff" for c in error["message"])
    assert await Firm.all().count() == 0
    named = await gql.http.post(
        "/graphql",
        json={"query": document, "operationName": "B"},
        headers={"Authorization": f"Bearer {gql.token}"},
    )
    assert named.json()["data"]["createFirm"]["errors"] == []
    assert [f.name for f in await Firm.all()] == ["B"]
