"""Pages of firms and outlets: ``limit`` (default 100, taken into 1..500) and ``offset``.

``Firm.outlets`` pages each firm's own outlets, with one database query for all the firms
of a response (per distinct page), whatever the number of firms.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from models import Firm, Outlet, OutletKind
from tests.conftest import GraphQLClient


async def make_firms(count: int) -> list[Firm]:
    await Firm.bulk_create([Firm(name=f"Фирма {i}", inn="7707083893") for i in range(count)])
    return list(await Firm.all().order_by("id"))


async def give_outlets(firm: Firm, count: int) -> list[int]:
    await Outlet.bulk_create(
        [
            Outlet(firm=firm, name=f"{firm.name}: точка {i}", kind=OutletKind.OUTLET)
            for i in range(count)
        ]
    )
    return [o.id for o in await Outlet.filter(firm=firm).order_by("id")]


def ids(items: list[dict[str, Any]]) -> list[int]:
    return [int(item["id"]) for item in items]


async def test_firms_are_paged(gql: GraphQLClient) -> None:
    firms = [f.id for f in await make_firms(105)]
    assert ids((await gql("{ firms { id } }"))["firms"]) == firms[:100]
    page = await gql("{ firms(limit: 10, offset: 100) { id } }")
    assert ids(page["firms"]) == firms[100:]
    assert ids((await gql("{ firms(limit: 0) { id } }"))["firms"]) == firms[:1]
    assert ids((await gql("{ firms(limit: 2, offset: -5) { id } }"))["firms"]) == firms[:2]
    assert (await gql("{ firms(offset: 1000) { id } }"))["firms"] == []


async def test_outlets_are_paged(gql: GraphQLClient) -> None:
    [firm] = await make_firms(1)
    outlets = await give_outlets(firm, 102)
    assert ids((await gql("{ outlets { id } }"))["outlets"]) == outlets[:100]
    page = await gql("{ outlets(limit: 5, offset: 99) { id } }")
    assert ids(page["outlets"]) == outlets[99:]


async def test_a_page_is_at_most_500(gql: GraphQLClient) -> None:
    [firm] = await make_firms(1)
    outlets = await give_outlets(firm, 501)
    assert ids((await gql("{ outlets(limit: 10000) { id } }"))["outlets"]) == outlets[:500]
    nested = await gql("{ firms(limit: 1) { outlets(limit: 10000) { id } } }")
    assert ids(nested["firms"][0]["outlets"]) == outlets[:500]


async def test_each_firm_gets_its_own_page_of_outlets(gql: GraphQLClient) -> None:
    firms = await make_firms(3)
    owned = {
        firm.id: await give_outlets(firm, count)
        for firm, count in zip(firms, (5, 1, 0), strict=True)
    }
    data = await gql(
        """{ firms {
              id
              all: outlets { id }
              first: outlets(limit: 2) { id }
              rest: outlets(limit: 2, offset: 2) { id }
              default: outlets(offset: 1) { id } } }"""
    )
    for firm in data["firms"]:
        mine = owned[int(firm["id"])]
        assert ids(firm["all"]) == mine
        assert ids(firm["first"]) == mine[:2]
        assert ids(firm["rest"]) == mine[2:4]
        assert ids(firm["default"]) == mine[1:]


async def test_outlets_of_many_firms_take_one_query_per_page(
    gql: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    firms = await make_firms(40)
    for firm in firms:
        await give_outlets(firm, 3)
    document = "{ firms { outlets(limit: 2) { id firm { id } } again: outlets(limit: 2) { id } } }"
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        caplog.clear()
        data = await gql(document)
    assert all(len(firm["outlets"]) == 2 for firm in data["firms"])
    queries = [r.getMessage() for r in caplog.records if r.name == "tortoise.db_client"]
    outlet_queries = [
        q for q in queries if '"outlet"' in q and q.lstrip().upper().startswith("SELECT")
    ]
    assert len(outlet_queries) == 1, outlet_queries


async def test_outlets_in_the_nested_cycle_are_paged_too(gql: GraphQLClient) -> None:
    [firm] = await make_firms(1)
    outlets = await give_outlets(firm, 20)
    data = await gql(
        "{ outlets(limit: 1) { firm { outlets(limit: 3, offset: 1) { id firm { id } } } } }"
    )
    [outlet] = data["outlets"]
    assert ids(outlet["firm"]["outlets"]) == outlets[1:4]


async def test_the_largest_offset_is_an_empty_page(gql: GraphQLClient) -> None:
    [firm] = await make_firms(1)
    await give_outlets(firm, 2)
    end = 2**31 - 1  # the largest GraphQL Int
    data = await gql(
        f"{{ firms(limit: 500, offset: {end}) {{ id }} outlets(limit: 500, offset: {end}) {{ id }}"
        f" first: firms(limit: 1) {{ outlets(limit: 500, offset: {end}) {{ id }} }} }}"
    )
    assert data == {"firms": [], "outlets": [], "first": [{"outlets": []}]}
