"""GraphQL error messages never repeat the request's input (web.redaction)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CREATE_FIRM, GraphQLClient, MakeClient
from web.redaction import REDACTED, redact

# 1. GraphQL limits -------------------------------------------------------------------------


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
