"""The ``UserError`` interface and the per-domain error types of the payloads."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import strawberry

from i18n import Lang
from schema.enums import (
    FirmErrorCode,
    OutletErrorCode,
    SaveMailSettingsErrorCode,
    SendTestEmailErrorCode,
)
from services.errors import FieldError

__all__ = [
    "FirmError",
    "OutletError",
    "SaveMailSettingsError",
    "SendTestEmailError",
    "UserError",
    "to_errors",
]


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


@strawberry.type
class SaveMailSettingsError(UserError):
    code: SaveMailSettingsErrorCode


@strawberry.type
class SendTestEmailError(UserError):
    code: SendTestEmailErrorCode


E = TypeVar("E")


def to_errors(
    kind: Callable[..., E], codes: type[Enum], errors: list[FieldError], lang: Lang
) -> list[E]:
    """Domain field errors as the payload's error type, messages in the request's language."""
    made: list[E] = []
    for error in errors:
        code: Any = codes(error.code)
        made.append(kind(field=error.field, message=error.message(lang), code=code))
    return made
