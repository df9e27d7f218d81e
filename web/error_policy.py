"""What GraphQL errors may tell: input never echoed, unexpected faults masked with an id.

Strawberry logs every error as it is. Here every error is rewritten once, before it is
logged or sent (``safe_error``): a GraphQL error of our own making or of validation keeps
its message with the request's input cut out (web.redaction); any other — a bug, a driver
fault — becomes the description of web.faults. ``ErrorPolicy`` applies it to a result,
``SafeSchema`` to what Strawberry logs; ``HideSuggestions`` drops "Did you mean …?" where
the schema is not meant to be explored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from i18n import DEFAULT_LANG, Lang
from web.faults import describe_fault
from web.redaction import inputs_of, redact, without_suggestions

__all__ = ["ErrorPolicy", "HideSuggestions", "SafeSchema", "safe_error"]

log = logging.getLogger("mailtab.graphql")


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
        message = redact(error.message, *inputs_of(context))
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
        path = ".".join(str(p) for p in error.path or ()) or "-"
        fault = describe_fault(original, where=f"field {path}")
        safe = GraphQLError(
            fault.message(_lang(context)),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=dict(fault.extensions),
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


class HideSuggestions(SchemaExtension):
    """Drops "Did you mean …?" from every error message, so the schema cannot be guessed.

    Strawberry's ``disable_field_suggestions`` covers unknown fields only; graphql-core also
    suggests arguments, types, enum values and input fields. Listed before ``ErrorPolicy``,
    this runs after it, on the safe forms.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        for error in result.errors:
            error.message = without_suggestions(error.message)


class SafeSchema(strawberry.Schema):
    """A schema that logs errors in their safe form only (never the raw input)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            safe_error(error, execution_context)
