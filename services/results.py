"""The result of a domain operation: a value, or the field errors that prevented it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from i18n import Text
from services.errors import FieldError, InputCode

__all__ = ["Outcome", "not_found"]

T = TypeVar("T")
MAX_ID = 2**31 - 1  # the key columns are 32-bit integers


@dataclass(slots=True)
class Outcome(Generic[T]):
    value: T | None = None
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @classmethod
    def failed(cls, *errors: FieldError) -> Outcome[T]:
        return cls(None, list(errors))


def not_found(field_name: str, what: Text) -> FieldError:
    return FieldError(
        field=field_name,
        code=InputCode.NOT_FOUND,
        message=Text(ru=f"{what.ru} не найдена.", en=f"{what.en} not found."),
    )


def parse_id(raw: str | int) -> int | None:
    """A database id from a GraphQL ``ID``, or None when it cannot be one."""
    text = str(raw)
    # Exactly as the API prints ids: ASCII digits, no sign, spaces or leading zeros.
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or text.startswith("0"):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
