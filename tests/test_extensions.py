"""The schema extensions of /graphql (web.extensions): depth, alias, token limits, switches, hints.

Apps with other settings are built on the session database and used without their own
lifespan: the session app has registered the ORM for that database already.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from graphql import get_introspection_query

from config import load_settings
from models import Firm
from tests.conftest import GraphQLClient, MakeClient, make_settings
from web.extensions import suggestions_enabled

# 1. GraphQL limits -------------------------------------------------------------------------


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
