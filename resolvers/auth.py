"""Role guards for fields: viewers read, admins also write and send."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from models import Role

__all__ = ["IsAdmin"]


class IsAdmin(BasePermission):
    message = "Это действие доступно только администратору. / Only an admin may do this."
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        token = info.context.token
        return token is not None and token.role == Role.ADMIN
