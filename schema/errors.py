"""The ``UserError`` interface and the per-domain error types of the payloads."""

from __future__ import annotations

from typing import TypeVar

import strawberry

from i18n import Lang
from schema.enums import FirmErrorCode, OutletErrorCode
from services.validation import FieldError

__all__ = ["FirmError", "OutletError", "UserError", "to_errors"]


@strawberry.interface(description="An input problem shown next to the field at fault.")
class UserError:
    field: str | None = strawberry.field(
        description='Input field at fault, camelCase as in the input ("port"); null = whole form.'
    )
    message: str = strawberry.field(description="Localized (Russian unless English is preferred).")


@strawberry.type
class FirmError(UserError):
    code: FirmErrorCode


@strawberry.type
class OutletError(UserError):
    code: OutletErrorCode


E = TypeVar("E", FirmError, OutletError)


def to_errors(kind: type[E], errors: list[FieldError], lang: Lang) -> list[E]:
    codes = {FirmError: FirmErrorCode, OutletError: OutletErrorCode}[kind]
    return [
        kind(field=error.field, message=error.message(lang), code=codes(error.code))  # type: ignore[arg-type]
        for error in errors
    ]
