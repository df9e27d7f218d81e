"""The served schema keeps every name of the fixed contract, with compatible types.

Clients are built against the contract in ``tests/contract.graphql`` (the product spec's
SDL). Additions are free; a renamed or dropped type, field, argument or enum value, a
changed type, or a new required input field breaks them, and fails here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    Undefined,
    build_schema,
    is_non_null_type,
)

from schema.root import build_schema as build_served_schema
from schema.root import export_sdl

CONTRACT = Path(__file__).with_name("contract.graphql")


def _compatible(served_schema: GraphQLSchema, expected: GraphQLType, served: GraphQLType) -> bool:
    """Same wrappers and names; an interface in the contract may be served as an implementation."""
    if isinstance(expected, GraphQLNonNull) or isinstance(served, GraphQLNonNull):
        return (
            isinstance(expected, GraphQLNonNull)
            and isinstance(served, GraphQLNonNull)
            and _compatible(served_schema, expected.of_type, served.of_type)
        )
    if isinstance(expected, GraphQLList) or isinstance(served, GraphQLList):
        return (
            isinstance(expected, GraphQLList)
            and isinstance(served, GraphQLList)
            and _compatible(served_schema, expected.of_type, served.of_type)
        )
    assert isinstance(expected, GraphQLNamedType) and isinstance(served, GraphQLNamedType)
    if expected.name == served.name:
        return True
    interface = served_schema.get_type(expected.name)
    return (
        isinstance(interface, GraphQLInterfaceType)
        and isinstance(served, GraphQLObjectType)
        and interface in served.interfaces
    )


def _required(definition: Any) -> bool:
    """Non-null without a default: a client that does not send it breaks."""
    no_default = (
        getattr(definition, "default", None) is None and definition.default_value is Undefined
    )
    return is_non_null_type(definition.type) and no_default


def contract_problems(contract_sdl: str, served_sdl: str) -> list[str]:
    """Every way the served schema breaks the contract, as readable lines."""
    contract = build_schema(contract_sdl)
    served_schema = build_schema(served_sdl)
    problems: list[str] = []
    for name, expected in contract.type_map.items():
        if name.startswith("__") or name in ("String", "Int", "Boolean", "ID", "Float"):
            continue
        actual = served_schema.get_type(name)
        if actual is None or type(actual) is not type(expected):
            problems.append(f"type {name} missing or of another kind")
            continue
        if isinstance(expected, GraphQLEnumType):
            assert isinstance(actual, GraphQLEnumType)
            problems += [
                f"enum value {name}.{v} missing" for v in expected.values if v not in actual.values
            ]
        elif isinstance(expected, GraphQLInputObjectType):
            assert isinstance(actual, GraphQLInputObjectType)
            for field, definition in expected.fields.items():
                served_field = actual.fields.get(field)
                if served_field is None or str(served_field.type) != str(definition.type):
                    problems.append(f"input field {name}.{field} missing or retyped")
            for field, definition in actual.fields.items():
                if field not in expected.fields and _required(definition):
                    problems.append(f"input field {name}.{field} is new and required")
        elif isinstance(expected, GraphQLObjectType | GraphQLInterfaceType):
            assert isinstance(actual, GraphQLObjectType | GraphQLInterfaceType)
            for field, definition in expected.fields.items():
                served_field = actual.fields.get(field)
                if served_field is None or not _compatible(
                    served_schema, definition.type, served_field.type
                ):
                    problems.append(f"field {name}.{field} missing or retyped")
                    continue
                for arg, arg_definition in definition.args.items():
                    served_arg = served_field.args.get(arg)
                    if served_arg is None or str(served_arg.type) != str(arg_definition.type):
                        problems.append(f"argument {name}.{field}({arg}) missing or retyped")
                for arg, arg_definition in served_field.args.items():
                    if arg not in definition.args and _required(arg_definition):
                        problems.append(f"argument {name}.{field}({arg}) is new and required")
            if isinstance(expected, GraphQLObjectType) and isinstance(actual, GraphQLObjectType):
                problems += [
                    f"{name} no longer implements {i.name}"
                    for i in expected.interfaces
                    if i.name not in {j.name for j in actual.interfaces}
                ]
    return problems


def test_every_contract_name_is_served_with_a_compatible_type() -> None:
    contract = CONTRACT.read_text(encoding="utf-8")
    assert contract_problems(contract, build_served_schema().as_str()) == []


def test_the_check_notices_breaking_changes() -> None:
    served = """
        interface UserError { field: String, message: String! }
        type E implements UserError { field: String, message: String!, code: Int! }
        type Query { a(x: Int): [E!]!, b: Int, c: Int! }
        input I { p: String, q: Int! }
        enum K { ONE }
    """
    contract = """
        interface UserError { field: String, message: String! }
        type Query { a(x: Int, y: Int): [UserError!]!, b: Int!, gone: Int, c: Int! }
        input I { p: String }
        enum K { ONE TWO }
    """
    assert sorted(contract_problems(contract, served)) == sorted(
        [
            "argument Query.a(y) missing or retyped",
            "field Query.b missing or retyped",
            "field Query.gone missing or retyped",
            "input field I.q is new and required",
            "enum value K.TWO missing",
        ]
    )


def test_schema_graphql_is_the_served_schema() -> None:
    """The committed SDL (what frontends build against) is exactly what the code serves."""
    committed = (Path(__file__).resolve().parent.parent / "schema.graphql").read_text("utf-8")
    assert committed == export_sdl(), (
        "schema.graphql is out of date: run `mailtab export-schema > schema.graphql` and commit it"
    )
