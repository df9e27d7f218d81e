"""Role guards for fields: viewers read, admins also write and send."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.permission import BasePermission

from i18n import Text
from models import Role

__all__ = ["IsAdmin"]

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
