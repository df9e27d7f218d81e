"""Media types are case-insensitive (RFC 9110 §8.3.1): any spelling of application/json works."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(
    "content_type",
    [
        "APPLICATION/JSON",
        "Application/Json; charset=UTF-8",
        "application/JSON;charset=utf-8",
        " application/json ",
    ],
)
async def test_any_spelling_of_json_runs_the_operation(
    anonymous: httpx.AsyncClient, admin_token: str, content_type: str
) -> None:
    response = await anonymous.post(
        "/graphql",
        content=b'{"query": "{ firms { id } }"}',
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": content_type},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"firms": []}}


async def test_a_mutation_posted_as_upper_case_json_runs(
    anonymous: httpx.AsyncClient, admin_token: str
) -> None:
    body = (
        b'{"query": "mutation { createFirm(input: {name: \\"A\\", inn: \\"7707083893\\"})'
        b' { errors { code } } }"}'
    )
    response = await anonymous.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "APPLICATION/JSON"},
    )
    assert response.json() == {"data": {"createFirm": {"errors": []}}}
