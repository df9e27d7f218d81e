"""The schema extensions /graphql runs with: limits, switches, and what a request did.

Limits are ``QueryCost`` (fields and cost by list sizes, checked before validation, see
``web.query_cost``) and Strawberry's own rules (depth, aliases, tokens); introspection is
switched off with Strawberry's ``DisableIntrospection``; "Did you mean …?" hints are shown
only where the schema is meant to be explored (see ``suggestions_enabled``).
``RequestFacts`` tells the request's log line and metrics which operation ran and how it
ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    max_aliases,
    query_depth_limiter,
)

from config import Settings
from i18n import DEFAULT_LANG, Text
from resolvers.auth import SenderScope
from web.document_cache import MAX_DOCUMENTS, ValidDocuments
from web.error_policy import ErrorPolicy, HideSuggestions
from web.query_cost import QueryCost
from web.requests import current_request

__all__ = [
    "OperationNameRequired",
    "RequestFacts",
    "outcome_of",
    "schema_extensions",
    "suggestions_enabled",
]

Extension = type[SchemaExtension] | Callable[[], SchemaExtension]

OPERATION_NAME_REQUIRED = Text(
    ru="В запросе несколько операций: укажите в operationName, какую выполнить.",
    en="The document holds several operations: say which to run in operationName.",
)


def suggestions_enabled(settings: Settings) -> bool:
    """Hints stay on for the embedded (try-it) start with introspection; off in production.

    With introspection off, a hint would hand out the schema piece by piece; on PostgreSQL
    (a production deployment) the hints help attackers more than the frontends, which are
    built against the committed ``schema.graphql``.
    """
    return settings.introspection and settings.embedded


class OperationNameRequired(SchemaExtension):
    """A document of several operations must say which to run (``operationName``).

    graphql-core refuses such a request; Strawberry would run the first operation, so a
    client that sent two mutations by mistake would get one of them done silently.
    """

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        document = context.graphql_document
        # What the client sent is kept only here: ``operation_name`` falls back to the first.
        if document is None or context._provided_operation_name is not None:
            return
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1:
            lang = getattr(context.context, "lang", DEFAULT_LANG)
            raise GraphQLError(
                OPERATION_NAME_REQUIRED(lang), extensions={"code": "OPERATION_NAME_REQUIRED"}
            )


def schema_extensions(settings: Settings) -> list[Extension]:
    """Every extension /graphql runs with, in order.

    Strawberry runs the code before each hook's ``yield`` in this order and the code after
    it in reverse: ``RequestFacts`` first sees the final, safe errors; ``ErrorPolicy`` last
    makes them safe before anything else looks at them.
    """
    # The depth and alias rules are made once, not per request: the same rule classes every
    # time let a validated document be recognised (web.document_cache).
    limits: list[type[ASTValidationRule]] = [
        query_depth_limiter.create_validator(settings.max_query_depth, None, None),
        max_aliases.create_validator(settings.max_aliases),
    ]
    extensions: list[Extension] = [
        RequestFacts,
        OperationNameRequired,
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: ParserCache(maxsize=MAX_DOCUMENTS),
        lambda: QueryCost(max_cost=settings.max_query_cost, max_fields=settings.max_query_fields),
        lambda: AddValidationRules(limits),
        SenderScope,
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    extensions.append(ValidDocuments)
    if not suggestions_enabled(settings):
        extensions.append(HideSuggestions)
    extensions.append(ErrorPolicy)
    return extensions


def outcome_of(errors: list[GraphQLError] | None) -> str:
    """The log and metrics outcome of a GraphQL result, from its (safe) errors' codes."""
    if not errors:
        return "ok"
    codes = {(error.extensions or {}).get("code") for error in errors}
    for code, outcome in (
        ("INTERNAL_SERVER_ERROR", "internal"),
        ("SERVICE_UNAVAILABLE", "unavailable"),
        ("FORBIDDEN", "forbidden"),
        ("UNAUTHENTICATED", "unauthenticated"),
    ):
        if code in codes:
            return outcome
    return "errors"


def _root_fields(
    selection_set: SelectionSetNode, fragments: dict[str, SelectionSetNode]
) -> set[str]:
    names: set[str] = set()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value != "__typename":
                names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names |= _root_fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            spread = fragments.pop(selection.name.value, None)  # pop: no cycles
            if spread is not None:
                names |= _root_fields(spread, fragments)
    return names


class RequestFacts(SchemaExtension):
    """Writes the operation (root field) and outcome into the current request's record.

    The metrics label is the root field only once the document has been validated, so a
    client cannot mint label values; the client's operation name goes to the log line.
    Listed before ``ErrorPolicy``, it sees the safe forms of the errors and their codes.
    """

    def on_execute(self) -> Iterator[None]:
        record = current_request()
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document else None
        if record is not None and document is not None and operation is not None:
            fragments = {
                definition.name.value: definition.selection_set
                for definition in document.definitions
                if isinstance(definition, FragmentDefinitionNode)
            }
            fields = _root_fields(operation.selection_set, fragments) or {"__typename"}
            record.operation = fields.pop() if len(fields) == 1 else "multiple"
            record.operation_type = operation.operation.value
        yield

    def on_operation(self) -> Iterator[None]:
        yield
        record = current_request()
        if record is None:
            return
        context = self.execution_context
        if record.operation_name is None:
            record.operation_name = context.operation_name
        result = context.result
        record.note(outcome_of(result.errors if result is not None else None))
