"""Inputs and payloads of the "Our firms" and "Outlets and warehouses" mutations."""

from __future__ import annotations

import strawberry

from schema.enums import OutletKindEnum
from schema.errors import FirmError, OutletError
from schema.types import Firm, Outlet

__all__ = [
    "CreateFirmPayload",
    "CreateOutletPayload",
    "DeleteFirmPayload",
    "DeleteOutletPayload",
    "FirmInput",
    "OutletInput",
    "UpdateFirmPayload",
    "UpdateOutletPayload",
]


@strawberry.input
class FirmInput:
    name: str
    inn: str = strawberry.field(description="10 digits (legal entity) or 12 (individual).")
    kpp: str | None = strawberry.field(default=None, description="9 characters; optional.")


@strawberry.input
class OutletInput:
    firm_id: strawberry.ID
    name: str
    kind: OutletKindEnum
    address: str | None = None


@strawberry.type
class CreateFirmPayload:
    firm: Firm | None
    errors: list[FirmError]


@strawberry.type
class UpdateFirmPayload:
    firm: Firm | None
    errors: list[FirmError]


@strawberry.type
class DeleteFirmPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The id of the deleted firm.")
    errors: list[FirmError]


@strawberry.type
class CreateOutletPayload:
    outlet: Outlet | None
    errors: list[OutletError]


@strawberry.type
class UpdateOutletPayload:
    outlet: Outlet | None
    errors: list[OutletError]


@strawberry.type
class DeleteOutletPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The id of the deleted outlet.")
    errors: list[OutletError]
