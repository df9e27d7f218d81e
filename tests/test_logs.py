"""Log lines: one per request with what an operator needs, in text or JSON, and no secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    ast_from_value,
    get_named_type,
    print_ast,
)

from config import load_settings
from models import Firm, Outlet, OutletKind
from schema.root import build_schema
from tests.conftest import GraphQLClient
from tests.smtpd import closed_port
from web.logs import JsonFormatter, TextFormatter, logging_config

PASSWORD = "Pa55-пароль-Ωmega"


@pytest.fixture
def every_logger_at(caplog: pytest.LogCaptureFixture) -> Iterator[Any]:
    """``every_logger_at(level)``: every logger that exists, root included, at ``level``."""
    saved: list[tuple[logging.Logger, int, bool]] = []

    def apply(level: int) -> None:
        caplog.set_level(level)
        for logger in logging.root.manager.loggerDict.values():
            if isinstance(logger, logging.Logger):
                saved.append((logger, logger.level, logger.disabled))
                logger.setLevel(logging.NOTSET)  # inherit the root's level
                logger.disabled = False

    yield apply
    for logger, level, disabled in reversed(saved):
        logger.setLevel(level)
        logger.disabled = disabled


def service_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the service logged: not the test's own HTTP client (httpx logs its URLs)."""
    return [r for r in caplog.records if r.name.split(".")[0] not in ("httpx", "httpcore")]


def rendered(record: logging.LogRecord) -> str:
    """Everything a handler could write for the record, in both formats."""
    formatted = [TextFormatter().format(record), JsonFormatter().format(record)]
    return "\n".join(
        [
            record.getMessage(),
            repr(record.args),
            *formatted,
            # Set by formatting, and kept on the record for any later handler.
            record.exc_text or "",
            record.stack_info or "",
            repr(record.exc_info[1]) if record.exc_info else "",
        ]
    )


# One line per request --------------------------------------------------------------------


async def test_one_line_per_request_with_operation_outcome_and_token_name(
    gql: GraphQLClient, anonymous: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = await gql.post("query FirmList { firms { id } }")
    refused = await anonymous.post(
        "/graphql", json={"query": "{ firms { id } }"}, headers={"Authorization": "Bearer mt_no"}
    )
    lines = [r for r in caplog.records if r.name == "mailtab.access"]
    assert len(lines) == 2
    ok, unauthenticated = lines
    assert ok.request_id == response.headers["x-request-id"]  # type: ignore[attr-defined]
    for name, value in {
        "method": "POST",
        "path": "/graphql",
        "status": 200,
        "operation": "firms",
        "operation_name": "FirmList",
        "operation_type": "query",
        "outcome": "ok",
        "token": "test admin",
    }.items():
        assert getattr(ok, name) == value, name
    assert ok.duration_ms >= 0  # type: ignore[attr-defined]
    assert unauthenticated.outcome == "unauthenticated"  # type: ignore[attr-defined]
    assert unauthenticated.token is None  # type: ignore[attr-defined]
    assert refused.headers["x-request-id"] == unauthenticated.request_id  # type: ignore[attr-defined]
    text = TextFormatter().format(ok)
    assert "INFO mailtab.access" in text
    assert "POST /graphql 200 firms (FirmList) ok token='test admin'" in text
    assert gql.token is not None
    for record in lines:
        assert gql.token not in rendered(record) and "mt_no" not in rendered(record)


async def test_outcomes_name_what_happened(
    gql: GraphQLClient, viewer_gql: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await viewer_gql.post('mutation { deleteFirm(id: "1") { errors { code } } }')
    await gql.post("{ firms { nope } }")
    await gql.http.post("/graphql", content=b"query=x", headers={"Content-Type": "text/plain"})
    outcomes = [r.outcome for r in caplog.records if r.name == "mailtab.access"]  # type: ignore[attr-defined]
    assert outcomes == ["forbidden", "errors", "unsupported_media_type"]


async def test_query_strings_are_not_logged(
    gql: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert gql.token is not None
    await gql.http.get(
        "/graphql",
        params={"query": '{ firms(x: "Sekr3tValue") { id } }'},
        headers={"Authorization": f"Bearer {gql.token}"},
    )
    [line] = [r for r in caplog.records if r.name == "mailtab.access"]
    assert line.path == "/graphql"  # type: ignore[attr-defined]
    assert all("Sekr3tValue" not in rendered(r) for r in service_records(caplog))


# Formats and configuration ---------------------------------------------------------------


def test_json_lines_carry_fields_and_tracebacks() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("mailtab", logging.ERROR, __file__, 1, "failed %s", ("x",), None)
        import sys

        record.exc_info = sys.exc_info()
    record.request_id = "abc123"
    record.outcome = "internal"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "mailtab"
    assert entry["message"] == "failed x"
    assert entry["request_id"] == "abc123"
    assert entry["outcome"] == "internal"
    assert entry["time"].endswith("Z")
    assert "ValueError: boom" in entry["traceback"]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ["uvicorn", "uvicorn.error", "uvicorn.access", "tortoise.db_client", "aiosqlite"]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)
        logging.getLogger(name).propagate = True


def test_configuration_follows_the_settings(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logging.config.dictConfig(logging_config(load_settings(log_format="json")))
    assert logging.getLogger("tortoise.db_client").level == logging.WARNING
    assert logging.getLogger().level == logging.INFO
    logging.getLogger("mailtab.test").info("hello %s", "world", extra={"outcome": "ok"})
    entry = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (entry["message"], entry["outcome"], entry["request_id"]) == ("hello world", "ok", "-")

    logging.config.dictConfig(logging_config(load_settings(log_level="DEBUG")))
    assert logging.getLogger("tortoise.db_client").level == logging.DEBUG
    logging.getLogger("mailtab.test").debug("plain")
    assert capsys.readouterr().err.strip().endswith("DEBUG mailtab.test [-] plain")


# No password in any log record, for every mutation ---------------------------------------

TEXT = {
    "password": PASSWORD,
    "name": "ООО Ромашка",
    "inn": "7707083893",
    "kpp": "773601001",
    "address": "shop@example.ru",
    "senderName": "Магазин «Ромашка»",
    "senderEmail": "shop@example.ru",
    "recipient": "buyer@example.org",
    "smtpHost": "127.0.0.1",
}
ENUMS = {"provider": "OTHER", "security": "STARTTLS", "kind": "WAREHOUSE"}


class Inputs:
    """Argument values for any mutation, built from the schema's types.

    ``everywhere``: every string input is the password (drives validation and echo paths);
    otherwise: realistic values with the password in password fields only.
    """

    def __init__(self, *, ids: dict[str, str], port: int, everywhere: bool) -> None:
        self.ids = ids
        self.port = port
        self.everywhere = everywhere
        self.text = TEXT

    def value(self, type_: GraphQLInputType, name: str, mutation: str) -> Any:
        if isinstance(type_, GraphQLNonNull):
            return self.value(type_.of_type, name, mutation)
        if isinstance(type_, GraphQLList):
            return [self.value(type_.of_type, name, mutation)]
        if isinstance(type_, GraphQLInputObjectType):
            return {key: self.value(f.type, key, mutation) for key, f in type_.fields.items()}
        if isinstance(type_, GraphQLEnumType):
            return ENUMS.get(name, next(iter(type_.values)))
        assert isinstance(type_, GraphQLScalarType)
        if type_.name == "ID":
            if self.everywhere:
                return PASSWORD
            kind = "outlet" if "Outlet" in mutation and name == "id" else "firm"
            return self.ids[kind]
        if type_.name == "String":
            return PASSWORD if self.everywhere else self.text.get(name, "значение")
        if type_.name == "Int":
            return self.port if name == "port" else 1
        if type_.name == "Boolean":
            return True
        raise AssertionError(f"no test value for scalar {type_.name}")


def selection(type_: GraphQLOutputType, depth: int = 0) -> str:
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType) or depth > 1:
        return ""
    fields = []
    for key, field in named.fields.items():
        if field.args:
            continue
        inner = get_named_type(field.type)
        if isinstance(inner, GraphQLObjectType):
            sub = selection(field.type, depth + 1)
            if sub:
                fields.append(f"{key} {sub}")
        else:
            fields.append(key)
    return "{ " + " ".join(fields or ["__typename"]) + " }"


def documents(name: str, field: GraphQLField, inputs: Inputs) -> list[tuple[str, dict[str, Any]]]:
    """The mutation with variables, with an unknown input field, and as inline literals."""
    values = {arg: inputs.value(a.type, arg, name) for arg, a in field.args.items()}
    declared = ", ".join(f"${arg}: {a.type}" for arg, a in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    body = f"{name}({passed}) {selection(field.type)}"
    with_variables = f"mutation({declared}) {{ {body} }}"
    unknown = {
        arg: {**value, "bogus": PASSWORD} if isinstance(value, dict) else value
        for arg, value in values.items()
    }
    literals = []
    for arg, a in field.args.items():
        node = ast_from_value(values[arg], a.type)
        assert node is not None
        text = print_ast(node)
        if text.endswith("}"):  # an input object: one unknown field, one wrongly typed
            text = text[:-1] + f', bogus: "{PASSWORD}", port: "{PASSWORD}"}}'
        literals.append(f"{arg}: {text}")
    inline = f"mutation {{ {name}({', '.join(literals)}) {selection(field.type)} }}"
    return [(with_variables, values), (with_variables, unknown), (inline, {})]


async def drive_every_mutation(gql: GraphQLClient, *, everywhere: bool) -> set[str]:
    firm = await Firm.create(name="ООО Ромашка", inn="7707083893")
    outlet = await Outlet.create(firm=firm, name="Склад", kind=OutletKind.WAREHOUSE)
    ids = {"firm": str(firm.id), "outlet": str(outlet.id)}
    inputs = Inputs(ids=ids, port=closed_port(), everywhere=everywhere)
    mutation_type = build_schema()._schema.mutation_type
    assert mutation_type is not None
    driven = set()
    # Deletions last, so that the records the others change still exist.
    for name, field in sorted(
        mutation_type.fields.items(), key=lambda f: f[0].startswith("delete")
    ):
        for query, variables in documents(name, field, inputs):
            response = await gql.post(query, variables)
            assert PASSWORD not in response.text, (name, response.text)
            assert response.status_code in (200, 400), (name, response.text)
        driven.add(name)
    return driven


@pytest.mark.parametrize(
    ("level", "everywhere"),
    [(logging.INFO, True), (logging.DEBUG, False)],
    ids=["password-in-every-string-info", "password-fields-debug"],
)
async def test_no_mutation_logs_the_password(
    gql: GraphQLClient,
    every_logger_at: Any,
    caplog: pytest.LogCaptureFixture,
    level: int,
    everywhere: bool,
) -> None:
    """Every mutation of the schema (new ones included), with broken and valid input."""
    every_logger_at(level)
    driven = await drive_every_mutation(gql, everywhere=everywhere)
    mutation_type = build_schema()._schema.mutation_type
    assert mutation_type is not None and driven == set(mutation_type.fields)
    assert {"createFirm", "saveMailSettings", "sendTestEmail"} <= driven
    records = service_records(caplog)
    assert any(r.name == "mailtab.access" for r in records)
    if level == logging.DEBUG:
        # SQL went through the DEBUG logger with its parameters: the check saw them.
        assert any(r.name.startswith("tortoise.db_client") for r in records)
    for record in records:
        assert PASSWORD not in rendered(record), record.name


# A password of the wrong type: graphql-core's type errors repeat the value ----------------

# A digit sequence, a decimal and a bare word: as they would be mistyped into the form.
WRONG_PASSWORDS: dict[str, tuple[Any, str, str]] = {
    # name: (JSON value in the variables or None, GraphQL literal, what must not be logged)
    "int": (918273645, "918273645", "918273645"),
    "float": (9182.73645, "9182.73645", "9182.73645"),
    "list": ([918273645], "[918273645]", "918273645"),
    "object": ({"pin": 918273645}, "{pin: 918273645}", "918273645"),
    "enum": (None, "Pa55WordEnum", "Pa55WordEnum"),
}
PLACEHOLDER = "password-goes-here"


def with_wrong_passwords(
    name: str, field: GraphQLField, inputs: Inputs
) -> list[tuple[str, dict[str, Any], str]]:
    """The mutation with each wrongly typed password, as variables and as an inline literal."""
    values = {arg: inputs.value(a.type, arg, name) for arg, a in field.args.items()}
    declared = ", ".join(f"${arg}: {a.type}" for arg, a in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    body = f"{name}(ARGS) {selection(field.type)}"
    printed = json.dumps(values)
    literals = []
    for arg, a in field.args.items():
        node = ast_from_value(values[arg], a.type)
        assert node is not None
        literals.append(f"{arg}: {print_ast(node)}")
    inline = "mutation { " + body.replace("ARGS", ", ".join(literals)) + " }"
    quoted = json.dumps(PLACEHOLDER)
    if quoted not in printed:
        return []
    documents = []
    for json_value, literal, secret in WRONG_PASSWORDS.values():
        if json_value is not None:
            variables = json.loads(printed.replace(quoted, json.dumps(json_value)))
            documents.append(
                (f"mutation({declared}) {{ {body.replace('ARGS', passed)} }}", variables, secret)
            )
        documents.append((inline.replace(quoted, literal), {}, secret))
    return documents


async def test_no_mutation_logs_a_wrongly_typed_password(
    gql: GraphQLClient, every_logger_at: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Every mutation with a password field, the password sent as a number, list, bare word…"""
    every_logger_at(logging.DEBUG)
    firm = await Firm.create(name="ООО Ромашка", inn="7707083893")
    inputs = Inputs(ids={"firm": str(firm.id), "outlet": "1"}, port=closed_port(), everywhere=False)
    inputs.text = {**TEXT, "password": PLACEHOLDER}
    mutation_type = build_schema()._schema.mutation_type
    assert mutation_type is not None
    driven = set()
    for name, field in mutation_type.fields.items():
        for query, variables, secret in with_wrong_passwords(name, field, inputs):
            response = await gql.post(query, variables)
            assert response.status_code == 200, (name, response.text)
            assert secret not in response.text, (name, query, response.text)
            assert response.json()["errors"], (name, query)  # refused, with a message
            driven.add(name)
    assert {"saveMailSettings", "sendTestEmail"} <= driven
    records = service_records(caplog)
    assert any(r.name == "mailtab.graphql" for r in records)
    for record in records:
        text = rendered(record)
        for _, _, secret in WRONG_PASSWORDS.values():
            assert secret not in text, (record.name, text)
