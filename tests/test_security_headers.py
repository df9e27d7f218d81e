"""Security headers and CORS (web.security, app): strict defaults, the pages' policies."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx

from tests.conftest import FIRMS, GraphQLClient, MakeClient

# 1. GraphQL limits -------------------------------------------------------------------------


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
