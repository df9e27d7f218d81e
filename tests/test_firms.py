"""Our firms and Outlets and warehouses through GraphQL."""

from __future__ import annotations

from typing import Any

import pytest

from models import Firm, Outlet

CREATE_FIRM = """
mutation($input: FirmInput!) {
  createFirm(input: $input) { firm { id name inn kpp outlets { id } } errors { field message code } }
}"""
UPDATE_FIRM = """
mutation($id: ID!, $input: FirmInput!) {
  updateFirm(id: $id, input: $input) { firm { id name inn kpp } errors { field code } }
}"""
DELETE_FIRM = (
    "mutation($id: ID!) { deleteFirm(id: $id) { deletedId errors { field message code } } }"
)
CREATE_OUTLET = """
mutation($input: OutletInput!) {
  createOutlet(input: $input) {
    outlet { id name kind address firm { id name } } errors { field message code }
  }
}"""
UPDATE_OUTLET = """
mutation($id: ID!, $input: OutletInput!) {
  updateOutlet(id: $id, input: $input) { outlet { id name firm { id } } errors { field code } }
}"""
DELETE_OUTLET = "mutation($id: ID!) { deleteOutlet(id: $id) { deletedId errors { field code } } }"

SBERBANK = {"name": "ПАО Сбербанк", "inn": "7707083893", "kpp": "773601001"}


async def make_firm(gql: Any, **overrides: Any) -> dict[str, Any]:
    data = await gql(CREATE_FIRM, {"input": {**SBERBANK, **overrides}})
    assert data["createFirm"]["errors"] == []
    firm: dict[str, Any] = data["createFirm"]["firm"]
    return firm


async def test_create_firm_returns_it_and_lists_it(gql: Any) -> None:
    firm = await make_firm(gql)
    assert firm["name"] == "ПАО Сбербанк"
    assert firm["inn"] == "7707083893"
    assert firm["kpp"] == "773601001"
    assert firm["outlets"] == []
    listed = await gql("{ firms { id name inn } }")
    assert listed["firms"] == [{"id": firm["id"], "name": "ПАО Сбербанк", "inn": "7707083893"}]


async def test_twelve_digit_inn_of_an_individual_is_accepted(gql: Any) -> None:
    firm = await make_firm(gql, name="ИП Иванов", inn="500100732259", kpp=None)
    assert firm["inn"] == "500100732259"
    assert firm["kpp"] is None


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"inn": "7707083894"}, "inn", "INVALID"),
        ({"inn": "12345"}, "inn", "INVALID"),
        ({"inn": ""}, "inn", "REQUIRED"),
        ({"kpp": "12345"}, "kpp", "INVALID"),
        ({"name": "   "}, "name", "REQUIRED"),
        ({"name": "x" * 300}, "name", "INVALID"),
        ({"name": "ООО\r\nBcc: x"}, "name", "FORBIDDEN_CHARACTERS"),
        ({"name": "ООО\x00"}, "name", "FORBIDDEN_CHARACTERS"),
    ],
)
async def test_bad_firm_input_is_a_typed_error_and_writes_nothing(
    gql: Any, overrides: dict[str, Any], field: str, code: str
) -> None:
    data = await gql(CREATE_FIRM, {"input": {**SBERBANK, **overrides}})
    payload = data["createFirm"]
    assert payload["firm"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert payload["errors"][0]["message"]
    assert await Firm.all().count() == 0


async def test_several_field_errors_come_back_at_once(gql: Any) -> None:
    data = await gql(CREATE_FIRM, {"input": {"name": "", "inn": "1", "kpp": "x"}})
    fields = {e["field"] for e in data["createFirm"]["errors"]}
    assert fields == {"name", "inn", "kpp"}


async def test_messages_are_russian_by_default_and_english_on_request(gql: Any) -> None:
    query, variables = CREATE_FIRM, {"input": {**SBERBANK, "inn": "7707083894"}}
    ru = (await gql(query, variables))["createFirm"]["errors"][0]
    en = (await gql(query, variables, lang="en-US,en;q=0.9"))["createFirm"]["errors"][0]
    assert ru["code"] == en["code"] == "INVALID"
    assert any("\u0400" <= ch <= "\u04ff" for ch in ru["message"])
    assert en["message"].isascii()


async def test_update_firm(gql: Any) -> None:
    firm = await make_firm(gql)
    data = await gql(UPDATE_FIRM, {"id": firm["id"], "input": {**SBERBANK, "name": "Сбер"}})
    assert data["updateFirm"]["errors"] == []
    assert data["updateFirm"]["firm"]["name"] == "Сбер"
    missing = await gql(UPDATE_FIRM, {"id": "999999", "input": SBERBANK})
    assert [(e["field"], e["code"]) for e in missing["updateFirm"]["errors"]] == [
        ("id", "NOT_FOUND")
    ]
    bad = await gql(UPDATE_FIRM, {"id": firm["id"], "input": {**SBERBANK, "inn": "1"}})
    assert bad["updateFirm"]["firm"] is None
    assert (await Firm.get(id=int(firm["id"]))).name == "Сбер"


async def test_outlet_belongs_to_a_firm_and_lists_under_it(gql: Any) -> None:
    firm = await make_firm(gql)
    data = await gql(
        CREATE_OUTLET,
        {
            "input": {
                "firmId": firm["id"],
                "name": "Склад №1",
                "kind": "WAREHOUSE",
                "address": "Москва",
            }
        },
    )
    payload = data["createOutlet"]
    assert payload["errors"] == []
    outlet = payload["outlet"]
    assert outlet["kind"] == "WAREHOUSE"
    assert outlet["firm"] == {"id": firm["id"], "name": "ПАО Сбербанк"}
    firms = await gql("{ firms { id outlets { id name kind } } }")
    assert firms["firms"][0]["outlets"] == [
        {"id": outlet["id"], "name": "Склад №1", "kind": "WAREHOUSE"}
    ]
    outlets = await gql("{ outlets { id firm { id } } }")
    assert outlets["outlets"] == [{"id": outlet["id"], "firm": {"id": firm["id"]}}]


async def test_a_firms_outlets_show_every_column_and_their_firm(gql: Any) -> None:
    first = await make_firm(gql)
    second = await make_firm(gql, name="ООО Ромашка", kpp=None)
    made = []
    for firm, name, kind, address in [
        (first, "Склад №1", "WAREHOUSE", "Москва"),
        (second, "Точка у вокзала", "OUTLET", None),
        (first, "Точка №2", "OUTLET", None),
    ]:
        data = await gql(
            CREATE_OUTLET,
            {"input": {"firmId": firm["id"], "name": name, "kind": kind, "address": address}},
        )
        assert data["createOutlet"]["errors"] == []
        made.append(data["createOutlet"]["outlet"]["id"])
    listed = await gql(
        "{ firms(limit: 10) { id outlets(limit: 10) { id name kind address firm { id name } } } }"
    )
    first_firm = {"id": first["id"], "name": "ПАО Сбербанк"}
    assert listed["firms"] == [
        {
            "id": first["id"],
            "outlets": [
                {
                    "id": made[0],
                    "name": "Склад №1",
                    "kind": "WAREHOUSE",
                    "address": "Москва",
                    "firm": first_firm,
                },
                {
                    "id": made[2],
                    "name": "Точка №2",
                    "kind": "OUTLET",
                    "address": None,
                    "firm": first_firm,
                },
            ],
        },
        {
            "id": second["id"],
            "outlets": [
                {
                    "id": made[1],
                    "name": "Точка у вокзала",
                    "kind": "OUTLET",
                    "address": None,
                    "firm": {"id": second["id"], "name": "ООО Ромашка"},
                }
            ],
        },
    ]
    firms = await gql("{ firms { id name inn kpp } }")
    assert firms["firms"][1] == {
        "id": second["id"],
        "name": "ООО Ромашка",
        "inn": "7707083893",
        "kpp": None,
    }


@pytest.mark.parametrize(
    "firm_id",
    [
        "999999",
        "abc",
        "-1",
        "1e3",
        "",
        "0",
        "2147483648",
        "99999999999999999999",
        " {id} ",
        "0{id}",
        "+{id}",
        "{id}.0",
        "{id}\u200b",
    ],
)
async def test_outlet_of_unknown_firm_is_refused(gql: Any, firm_id: str) -> None:
    firm = await make_firm(gql)  # exists: look-alikes of its id must still not find it
    firm_id = firm_id.replace("{id}", firm["id"])
    data = await gql(
        CREATE_OUTLET, {"input": {"firmId": firm_id, "name": "Точка", "kind": "OUTLET"}}
    )
    errors = data["createOutlet"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("firmId", "NOT_FOUND")]
    assert await Outlet.all().count() == 0


async def test_update_and_delete_outlet(gql: Any) -> None:
    first = await make_firm(gql)
    second = await make_firm(gql, name="Яндекс", inn="7736207543", kpp="770401001")
    created = await gql(
        CREATE_OUTLET, {"input": {"firmId": first["id"], "name": "Точка", "kind": "OUTLET"}}
    )
    outlet_id = created["createOutlet"]["outlet"]["id"]
    moved = await gql(
        UPDATE_OUTLET,
        {"id": outlet_id, "input": {"firmId": second["id"], "name": "Точка 2", "kind": "OUTLET"}},
    )
    assert moved["updateOutlet"]["outlet"] == {
        "id": outlet_id,
        "name": "Точка 2",
        "firm": {"id": second["id"]},
    }
    deleted = await gql(DELETE_OUTLET, {"id": outlet_id})
    assert deleted["deleteOutlet"] == {"deletedId": outlet_id, "errors": []}
    again = await gql(DELETE_OUTLET, {"id": outlet_id})
    assert [(e["field"], e["code"]) for e in again["deleteOutlet"]["errors"]] == [
        ("id", "NOT_FOUND")
    ]


async def test_deleting_a_firm_with_outlets_is_refused(gql: Any) -> None:
    firm = await make_firm(gql)
    created = await gql(
        CREATE_OUTLET, {"input": {"firmId": firm["id"], "name": "Точка", "kind": "OUTLET"}}
    )
    refused = await gql(DELETE_FIRM, {"id": firm["id"]})
    assert refused["deleteFirm"]["deletedId"] is None
    assert [(e["field"], e["code"]) for e in refused["deleteFirm"]["errors"]] == [
        ("id", "FIRM_HAS_OUTLETS")
    ]
    assert await Firm.exists(id=int(firm["id"]))
    await gql(DELETE_OUTLET, {"id": created["createOutlet"]["outlet"]["id"]})
    deleted = await gql(DELETE_FIRM, {"id": firm["id"]})
    assert deleted["deleteFirm"] == {"deletedId": firm["id"], "errors": []}
    assert not await Firm.exists()


async def test_wrong_types_are_graphql_errors_that_change_nothing(gql: Any) -> None:
    response = await gql.post(CREATE_FIRM, {"input": {"name": 5, "inn": None}})
    assert response.status_code == 200
    assert response.json()["errors"]
    assert await Firm.all().count() == 0


async def test_an_outlet_added_during_delete_keeps_the_firm(
    gql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the foreign key decides: refused as FIRM_HAS_OUTLETS, on either database."""
    from services import firms as service

    firm = await make_firm(gql)
    await gql(CREATE_OUTLET, {"input": {"firmId": firm["id"], "name": "Точка", "kind": "OUTLET"}})
    counts = iter([0])  # the check inside the transaction misses the new outlet once
    real = service._outlet_count

    async def racing(firm_id: int) -> int:
        return next(counts, None) or await real(firm_id)

    monkeypatch.setattr(service, "_outlet_count", racing)
    refused = await gql(DELETE_FIRM, {"id": firm["id"]})
    assert [(e["field"], e["code"]) for e in refused["deleteFirm"]["errors"]] == [
        ("id", "FIRM_HAS_OUTLETS")
    ]
    assert await Firm.exists(id=int(firm["id"]))
