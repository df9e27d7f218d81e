"""Role guards: viewers read, admins also write and send; senders queue notifications only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission

from i18n import Text
from models import Role

__all__ = ["SENDER_FIELDS", "CanSend", "IsAdmin", "SenderScope"]

ADMIN_ONLY = Text(
    ru="Это действие доступно только администратору: нужен токен с ролью admin.",
    en="Only an admin may do this: a token with the admin role is required.",
)


class IsAdmin(BasePermission):
    """Refuses non-admin tokens with ``FORBIDDEN``, in the request's language."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        context = info.context
        token = context.token
        if token is None or token.role != Role.ADMIN:
            # Raised here rather than through on_unauthorized(): that hook has no access to
            # the request, and the message must follow its Accept-Language.
            raise GraphQLError(ADMIN_ONLY(context.lang), extensions={"code": "FORBIDDEN"})
        return True


SENDER_ONLY = Text(
    ru="Это действие недоступно: нужен токен с ролью admin или sender.",
    en="Not allowed: a token with the admin or sender role is required.",
)
SENDER_SCOPE = Text(
    ru="Токен с ролью sender может только отправлять уведомления и читать их.",
    en="A sender token may only send notifications and read them.",
)

#: The root fields a ``sender`` token may use (and the introspection ones).
SENDER_FIELDS = frozenset(
    {"sendNotification", "notification", "notifications", "__typename", "__schema", "__type"}
)


class CanSend(BasePermission):
    """Admins and senders may queue notifications; other tokens get ``FORBIDDEN``."""

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        context = info.context
        token = context.token
        if token is None or token.role not in (Role.ADMIN, Role.SENDER):
            raise GraphQLError(SENDER_ONLY(context.lang), extensions={"code": "FORBIDDEN"})
        return True


class SenderScope(SchemaExtension):
    """A ``sender`` token may run ``sendNotification`` and read notifications, nothing else.

    Checked on the operation's root fields before anything runs: one field outside the
    scope refuses the whole operation with ``FORBIDDEN``.
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        request = context.context
        token = getattr(request, "token", None)
        document = context.graphql_document
        if token is not None and token.role == Role.SENDER and document is not None:
            operation = get_operation_ast(document, context.operation_name)
            if operation is not None and not _root_fields(operation, document) <= SENDER_FIELDS:
                raise GraphQLError(
                    SENDER_SCOPE(getattr(request, "lang", "ru")),
                    extensions={"code": "FORBIDDEN"},
                )
        yield


def _root_fields(operation: OperationDefinitionNode, document: DocumentNode) -> set[str]:
    fragments = {
        definition.name.value: definition.selection_set
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    names: set[str] = set()
    pending: list[SelectionSetNode] = [operation.selection_set]
    seen: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(fragments[name])
    return names
