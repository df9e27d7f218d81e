"""Resolvers of "Our firms" and "Outlets and warehouses"."""

from __future__ import annotations

import strawberry

from models import Firm as FirmModel
from models import Outlet as OutletModel
from schema.enums import FirmErrorCode, OutletErrorCode
from schema.errors import FirmError, OutletError, to_errors
from schema.firms import (
    CreateFirmPayload,
    CreateOutletPayload,
    DeleteFirmPayload,
    DeleteOutletPayload,
    FirmInput,
    OutletInput,
    UpdateFirmPayload,
    UpdateOutletPayload,
)
from schema.paging import DEFAULT_PAGE, Limit, Offset, page
from schema.types import Firm, Outlet
from services import firms as service

__all__ = [
    "create_firm",
    "create_outlet",
    "delete_firm",
    "delete_outlet",
    "list_firms",
    "list_outlets",
    "update_firm",
    "update_outlet",
]


async def list_firms(limit: Limit = DEFAULT_PAGE, offset: Offset = 0) -> list[Firm]:
    """Our firms, oldest first: one page of them."""
    wanted = page(limit, offset)
    rows = (
        await FirmModel.all()
        .order_by("id")
        .offset(wanted.offset)
        .limit(wanted.limit)
        .values("id", "name", "inn", "kpp")  # what a Firm shows: plain values, no ORM objects
    )
    return [
        Firm(id=strawberry.ID(str(row["id"])), name=row["name"], inn=row["inn"], kpp=row["kpp"])
        for row in rows
    ]


async def list_outlets(limit: Limit = DEFAULT_PAGE, offset: Offset = 0) -> list[Outlet]:
    """Outlets and warehouses of every firm, oldest first: one page of them."""
    wanted = page(limit, offset)
    records = await OutletModel.all().order_by("id").offset(wanted.offset).limit(wanted.limit)
    return [Outlet.from_model(o) for o in records]


def _firm_data(data: FirmInput) -> service.FirmData:
    return service.FirmData(name=data.name, inn=data.inn, kpp=data.kpp)


def _outlet_data(data: OutletInput) -> service.OutletData:
    return service.OutletData(
        firm_id=data.firm_id, name=data.name, kind=data.kind, address=data.address
    )


async def create_firm(info: strawberry.Info, input: FirmInput) -> CreateFirmPayload:
    outcome = await service.create_firm(_firm_data(input))
    firm = Firm.from_model(outcome.value) if outcome.value else None
    return CreateFirmPayload(
        firm=firm, errors=to_errors(FirmError, FirmErrorCode, outcome.errors, info.context.lang)
    )


async def update_firm(
    info: strawberry.Info,
    id: strawberry.ID,
    input: FirmInput,
) -> UpdateFirmPayload:
    outcome = await service.update_firm(id, _firm_data(input))
    firm = Firm.from_model(outcome.value) if outcome.value else None
    return UpdateFirmPayload(
        firm=firm, errors=to_errors(FirmError, FirmErrorCode, outcome.errors, info.context.lang)
    )


async def delete_firm(info: strawberry.Info, id: strawberry.ID) -> DeleteFirmPayload:
    outcome = await service.delete_firm(id)
    return DeleteFirmPayload(
        deleted_id=strawberry.ID(str(outcome.value.id)) if outcome.value else None,
        errors=to_errors(FirmError, FirmErrorCode, outcome.errors, info.context.lang),
    )


async def create_outlet(info: strawberry.Info, input: OutletInput) -> CreateOutletPayload:
    outcome = await service.create_outlet(_outlet_data(input))
    outlet = Outlet.from_model(outcome.value) if outcome.value else None
    return CreateOutletPayload(
        outlet=outlet,
        errors=to_errors(OutletError, OutletErrorCode, outcome.errors, info.context.lang),
    )


async def update_outlet(
    info: strawberry.Info,
    id: strawberry.ID,
    input: OutletInput,
) -> UpdateOutletPayload:
    outcome = await service.update_outlet(id, _outlet_data(input))
    outlet = Outlet.from_model(outcome.value) if outcome.value else None
    return UpdateOutletPayload(
        outlet=outlet,
        errors=to_errors(OutletError, OutletErrorCode, outcome.errors, info.context.lang),
    )


async def delete_outlet(info: strawberry.Info, id: strawberry.ID) -> DeleteOutletPayload:
    outcome = await service.delete_outlet(id)
    return DeleteOutletPayload(
        deleted_id=strawberry.ID(str(outcome.value.id)) if outcome.value else None,
        errors=to_errors(OutletError, OutletErrorCode, outcome.errors, info.context.lang),
    )
