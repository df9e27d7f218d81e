"""An admin-only field in a viewer's query: that field is refused, the rest is answered."""

from __future__ import annotations

from graphql import build_schema as parse_sdl
from graphql import is_non_null_type

from schema.root import export_sdl
from tests.conftest import GraphQLClient


async def test_a_viewer_gets_the_other_fields_and_forbidden_for_test_email_attempts(
    viewer_gql: GraphQLClient,
) -> None:
    body = (
        await viewer_gql.post("{ firms { id } mailTab { available } testEmailAttempts { id } }")
    ).json()
    assert body["data"] == {"firms": [], "mailTab": {"available": False}, "testEmailAttempts": None}
    [error] = body["errors"]
    assert error["path"] == ["testEmailAttempts"]
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_an_admin_still_reads_test_email_attempts(gql: GraphQLClient) -> None:
    assert await gql("{ testEmailAttempts { id } }") == {"testEmailAttempts": []}


def test_the_schema_says_the_field_may_be_null() -> None:
    field = parse_sdl(export_sdl()).query_type.fields["testEmailAttempts"]  # type: ignore[union-attr]
    assert not is_non_null_type(field.type)
