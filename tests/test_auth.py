"""Bearer tokens and roles."""

from __future__ import annotations

from typing import Any

import httpx

from models import ApiToken
from services.tokens import digest

MUTATION = 'mutation { createFirm(input: {name: "Ф", inn: "7707083893"}) { errors { code } } }'


async def test_missing_token_is_unauthenticated_401(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post("/graphql", json={"query": "{ mailTab { available } }"})
    assert response.status_code == 401
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_invalid_and_revoked_tokens_are_unauthenticated(
    anonymous: httpx.AsyncClient, admin_token: str
) -> None:
    for header in ["Bearer mt_nope", "Basic abc", "Bearer", admin_token, f"Bearer {admin_token}x"]:
        response = await anonymous.post(
            "/graphql", json={"query": "{ firms { id } }"}, headers={"Authorization": header}
        )
        assert response.status_code == 401, header
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_messages_follow_accept_language(anonymous: httpx.AsyncClient) -> None:
    ru = await anonymous.post("/graphql", json={"query": "{ firms { id } }"})
    en = await anonymous.post(
        "/graphql", json={"query": "{ firms { id } }"}, headers={"Accept-Language": "en"}
    )
    assert ru.json()["errors"][0]["message"] != en.json()["errors"][0]["message"]
    assert en.json()["errors"][0]["message"].isascii()


async def test_tokens_are_stored_hashed(app: Any, admin_token: str) -> None:
    record = await ApiToken.get(name="test admin")
    assert record.token_hash == digest(admin_token)
    assert admin_token not in record.token_hash


async def test_viewer_reads_but_cannot_mutate(viewer_gql: Any) -> None:
    assert (await viewer_gql("{ firms { id } }")) == {"firms": []}
    response = await viewer_gql.post(MUTATION)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None


async def test_admin_can_mutate(gql: Any) -> None:
    assert (await gql(MUTATION))["createFirm"]["errors"] == []


async def test_graphiql_page_loads_without_token(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_get_query_needs_a_token_too(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/graphql", params={"query": "{ firms { id } }"})
    assert response.status_code == 401


async def test_forbidden_message_follows_the_language(viewer_gql: Any) -> None:
    ru = (await viewer_gql.post(MUTATION)).json()["errors"][0]
    en = (await viewer_gql.post(MUTATION, lang="en")).json()["errors"][0]
    assert ru["extensions"]["code"] == en["extensions"]["code"] == "FORBIDDEN"
    assert any("\u0400" <= c <= "\u04ff" for c in ru["message"])
    assert en["message"].isascii()
