"""What errors may tell: unexpected faults masked with an id, input values never echoed.

graphql-core repeats the offending input in its coercion and validation
messages ("got invalid value {'password': ...}"), and Strawberry logs every
error as it is. Here every error is rewritten once, before it is logged or
sent: the strings the request carried are cut out of its message, and an
error that is not a GraphQL error of our own making (a bug, a driver fault)
becomes a generic localized message with an id that the log line also has.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError, StringValueNode, visit
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from i18n import DEFAULT_LANG, Lang, Text

__all__ = ["ErrorPolicy", "SafeSchema", "ServiceUnavailable", "safe_error"]

log = logging.getLogger("mailtab.graphql")

INTERNAL = Text(
    ru="Внутренняя ошибка сервера. Сообщите администратору номер ошибки: {error_id}.",
    en="Internal server error. Give the administrator this error id: {error_id}.",
)
REDACTED = "•••"
_ECHOED_VALUE = re.compile(r"(got invalid value|found:?) .*?(?=(; [A-Z]|\.?$))", re.DOTALL)


class ServiceUnavailable(GraphQLError):
    """A dependency (the database) is down; the client may retry later."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "SERVICE_UNAVAILABLE"})


class _Strings(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def enter_string_value(self, node: StringValueNode, *args: Any) -> None:
        self.found.append(node.value)


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(key)
            yield from _walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item)


def _input_strings(context: ExecutionContext | None) -> list[str]:
    if context is None:
        return []
    strings = list(_walk(context.variables or {}))
    if context.graphql_document is not None:
        collector = _Strings()
        visit(context.graphql_document, collector)
        strings.extend(collector.found)
    forms = {form for s in strings if s for form in (s, repr(s)[1:-1], json.dumps(s)[1:-1])}
    return sorted((form for form in forms if form), key=len, reverse=True)


def redact(message: str, strings: list[str]) -> str:
    message = _ECHOED_VALUE.sub(lambda m: f"{m.group(1)} {REDACTED}", message)
    for value in strings:
        message = message.replace(value, REDACTED)
    return message


def _lang(context: ExecutionContext | None) -> Lang:
    lang = getattr(getattr(context, "context", None), "lang", None)
    return "en" if lang == "en" else DEFAULT_LANG


def safe_error(error: GraphQLError, context: ExecutionContext | None) -> GraphQLError:
    """The client-safe form of an error, computed (and logged) once per error."""
    done: GraphQLError | None = getattr(error, "_mailtab_safe", None)
    if done is not None:
        return done
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        message = redact(error.message, _input_strings(context))
        safe = GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=error.extensions,
        )
        log.info("graphql error: %s", message)
    else:
        error_id = uuid.uuid4().hex[:12]
        log.error(
            "unexpected error %s at %s: %s",
            error_id,
            ".".join(str(p) for p in error.path or ()) or "-",
            original.__class__.__name__,
            exc_info=original,
        )
        safe = GraphQLError(
            INTERNAL.format(error_id=error_id)(_lang(context)),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
        )
    for target in (error, safe):
        target._mailtab_safe = safe  # type: ignore[attr-defined]
    return safe


class ErrorPolicy(SchemaExtension):
    """Replaces every error of the result with its safe form before it is sent."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [safe_error(e, self.execution_context) for e in result.errors]


class SafeSchema(strawberry.Schema):
    """A schema that logs errors in their safe form only (never the raw input)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            safe_error(error, execution_context)
