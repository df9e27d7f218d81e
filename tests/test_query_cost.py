"""What one document may ask for: its cost by list sizes, its field count, its response size.

The hostile documents here are the ones that froze the service: nested firm ↔ outlets
lists, and one field repeated until graphql-core's validation spends seconds comparing the
copies. Both must be refused before validation, cheaply, while other requests are served.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query, parse

from app import create_app
from models import Firm, Outlet, OutletKind
from schema.root import build_schema
from tests.conftest import GraphQLClient, make_settings
from web.query_cost import UNPAGED_LIST, query_cost

NESTED = "firms { outlets { firm { outlets { firm { outlets { firm { outlets { firm { id } } } } } } } } }"


def hostile(aliases: int) -> str:
    """The issue's document: depth 10, within the depth and alias limits."""
    return "{ " + " ".join(f"a{i}: {NESTED}" for i in range(aliases)) + " }"


async def firm_with_outlets(count: int, *, name: str = "ООО Ромашка") -> Firm:
    firm = await Firm.create(name=name, inn="7707083893")
    await Outlet.bulk_create(
        [Outlet(firm=firm, name=f"Точка {i}", kind=OutletKind.OUTLET) for i in range(count)]
    )
    return firm


def the_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None, body
    [error] = body["errors"]
    return dict(error)


def russian(text: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in text)


@pytest.mark.parametrize("aliases", [1, 4, 15])
async def test_nested_firm_outlet_lists_are_refused_while_healthz_answers(
    anonymous: httpx.AsyncClient, viewer_gql: GraphQLClient, aliases: int
) -> None:
    await firm_with_outlets(20)
    # Both in flight at once on one event loop: the refusal must not hold the loop, and
    # the probe must come back too.
    refused, alive = await asyncio.gather(
        viewer_gql.post(hostile(aliases)), anonymous.get("/healthz")
    )
    assert alive.status_code == 200 and alive.text == "ok"
    error = the_error(refused.json())
    extensions = error["extensions"]
    assert extensions["code"] == "QUERY_TOO_COMPLEX"
    assert extensions["cost"] > extensions["limit"] == 50_000
    assert russian(error["message"])
    assert str(extensions["limit"]) in error["message"]


async def test_the_refusal_comes_before_validation(gql: GraphQLClient) -> None:
    # An unknown field as well: validation would report it, but it never runs.
    body = (await gql.post("{ " + NESTED + " noSuchField }")).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COMPLEX"]


async def test_the_refusal_speaks_english_on_request(gql: GraphQLClient) -> None:
    error = the_error((await gql.post(hostile(1), lang="en")).json())
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert not russian(error["message"])
    assert "50000" in error["message"]


async def test_small_pages_make_the_same_nesting_cheap(gql: GraphQLClient) -> None:
    await firm_with_outlets(20)
    paged = NESTED.replace("firms {", "firms(limit: 1) {").replace(
        "outlets {", "outlets(limit: 2) {"
    )
    data = await gql("{ " + paged + " }")
    [firm] = data["firms"]
    assert len(firm["outlets"]) == 2
    assert len(firm["outlets"][0]["firm"]["outlets"][1]["firm"]["outlets"]) == 2


async def test_page_sizes_from_variables_count(gql: GraphQLClient) -> None:
    document = """query($n: Int!, $m: Int = 500) {
      firms(limit: $n) { outlets(limit: $n) { firm { outlets(limit: $m) { id } } } } }"""
    assert (await gql.post(document, {"n": 1})).json() == {"data": {"firms": []}}
    error = the_error((await gql.post(document, {"n": 500})).json())
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    # Asking for more than a page gets a page: the cost counts the page, not the number.
    huge = (await gql.post(document, {"n": 1, "m": 10**9})).json()
    assert huge == {"data": {"firms": []}}


@pytest.mark.parametrize(
    "document",
    [
        # The Our firms and Outlets tabs as a frontend asks for them.
        "{ firms { id name inn kpp outlets { id name kind address } } }",
        "{ outlets(limit: 500) { id name kind address firm { id name inn kpp } } }",
        "{ firms(limit: 200, offset: 200) { id name outlets(limit: 50) { id name } } }",
        # The Mail tab page.
        """{ mailTab { available missing passwordHelpUrl settings { provider smtpHost port
               useSsl security address hasPassword senderName senderEmail
               account { id provider smtpHost port useSsl security address hasPassword } } }
             mailProviders { code title smtpHost port useSsl security appPasswordHelpUrl domains }
             emailAccounts(limit: 500) { id provider smtpHost port address senderName }
             emailAccountCount
             programSettings { group key title value } }""",
    ],
    ids=["our-firms", "outlets", "a-later-page", "mail-tab"],
)
async def test_what_clients_ask_for_fits(gql: GraphQLClient, document: str) -> None:
    await gql(document)


async def test_graphiql_introspection_fits(gql: GraphQLClient) -> None:
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    assert (await gql(query))["__schema"]["queryType"]["name"] == "Query"


def test_the_cost_of_a_document() -> None:
    schema = build_schema()._schema

    def cost(document: str, variables: dict[str, Any] | None = None) -> int:
        return query_cost(schema, parse(document), variables)

    # 1 + 100 × (id + outlets(3 × id)), the default page of firms.
    assert cost("{ firms { id outlets(limit: 3) { id } } }") == 1 + 100 * (1 + (1 + 3 * 1))
    # A page out of range counts as the page it gets; an object multiplies by 1.
    assert cost("{ outlets(limit: 9999) { firm { id } } }") == 1 + 500 * (1 + 1)
    assert cost("query($n: Int) { firms(limit: $n) { id } }", {"n": 0}) == 1 + 1
    # Fields of one response name merge, as they are executed; unknown fields count nothing.
    assert cost("{ firms { id } firms { name } nope { x } }") == 1 + 100 * 2
    assert cost("{ firms { ...F ...F } } fragment F on Firm { id }") == 1 + 100
    # Lists without paging count as UNPAGED_LIST; introspection lists as long as they are.
    assert cost("{ mailProviders { code } }") == 1 + UNPAGED_LIST
    assert cost("{ __schema { types { name } } }") == 1 + (1 + len(schema.type_map))


async def test_fragments_are_expanded_where_spread(gql: GraphQLClient) -> None:
    document = """{ firms { ...Deep } }
      fragment Deep on Firm { outlets { firm { outlets { firm { ...More } } } } }
      fragment More on Firm { outlets { firm { outlets { id } } } }"""
    error = the_error((await gql.post(document)).json())
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_a_fragment_cycle_is_left_to_validation(gql: GraphQLClient) -> None:
    document = "{ firms { ...A } } fragment A on Firm { outlets { firm { ...A } } }"
    response = await gql.post(document)
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert "within itself" in error["message"]
    assert "code" not in error.get("extensions", {})


async def test_fragments_that_double_at_each_step_are_refused_at_once(
    gql: GraphQLClient,
) -> None:
    # F29 is two F28, each two F27, …: 2**30 paths. The walk must not take them one by one.
    fragments = ["fragment F0 on Firm { id }"] + [
        f"fragment F{i} on Firm {{ x: outlets(limit: 1) {{ firm {{ ...F{i - 1} }} }} "
        f"y: outlets(limit: 1) {{ firm {{ ...F{i - 1} }} }} }}"
        for i in range(1, 30)
    ]
    document = "{ firms(limit: 1) { ...F29 } } " + " ".join(fragments)
    error = the_error((await gql.post(document)).json())
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_one_field_repeated_hundreds_of_times_is_refused_before_validation(
    viewer_gql: GraphQLClient,
) -> None:
    document = "{ " + "firms { id } " * 450 + "}"  # within the token limit
    error = the_error((await viewer_gql.post(document)).json())
    assert error["extensions"] == {"code": "TOO_MANY_FIELDS", "fields": 900, "limit": 150}
    assert russian(error["message"])
    fine = "{ " + "firms { id } " * 75 + "}"
    assert (await viewer_gql(fine)) == {"firms": []}


async def test_limits_come_from_the_settings(
    app: Any, database_url: str, data_dir: Path, admin_token: str
) -> None:
    other = create_app(make_settings(database_url, data_dir, max_query_cost=50, max_query_fields=3))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other), base_url="http://t"
    ) as http:
        client = GraphQLClient(http, admin_token)
        assert await client("{ firms(limit: 10) { id } }") == {"firms": []}  # 1 + 10 × 1
        costly = the_error((await client.post("{ firms { id } }")).json())  # 1 + 100 × 1
        assert costly["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 101, "limit": 50}
        many = the_error((await client.post("{ firms(limit: 1) { id name inn } }")).json())
        assert many["extensions"] == {"code": "TOO_MANY_FIELDS", "fields": 4, "limit": 3}


async def test_response_over_the_cap_is_replaced_by_an_error(
    app: Any, database_url: str, data_dir: Path, admin_token: str
) -> None:
    firm = await firm_with_outlets(0)
    await Outlet.bulk_create(
        [
            Outlet(firm=firm, name="Склад " + "я" * 200, kind=OutletKind.WAREHOUSE)
            for _ in range(100)
        ]
    )
    other = create_app(make_settings(database_url, data_dir, max_response_bytes=16_384))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other), base_url="http://t"
    ) as http:
        client = GraphQLClient(http, admin_token)
        small = await client("{ outlets(limit: 10) { id name } }")
        assert len(small["outlets"]) == 10
        response = await client.post("{ outlets { id name } }")
        assert response.status_code == 200
        error = the_error(response.json())
        assert error["extensions"] == {"code": "RESPONSE_TOO_LARGE", "limit": 16_384}
        assert russian(error["message"])
        english = the_error((await client.post("{ outlets { id name } }", lang="en")).json())
        assert not russian(english["message"])
