"""Our firms and Outlets and warehouses: validated writes, refusal to orphan outlets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pypika_tortoise.analytics import RowNumber
from pypika_tortoise.queries import Table
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from i18n import Text
from models import Firm, Outlet, OutletKind
from services.errors import FieldError, FirmErrorCode, Problems
from services.requisites import clean_inn, clean_kpp
from services.results import Outcome, not_found, parse_id
from services.text import clean_text

__all__ = [
    "FirmData",
    "OutletData",
    "OutletRow",
    "create_firm",
    "create_outlet",
    "delete_firm",
    "delete_outlet",
    "firms_by_id",
    "outlet_pages",
    "update_firm",
    "update_outlet",
]

FIRM = Text(ru="Фирма", en="Firm")
OUTLET = Text(ru="Торговая точка или склад", en="Outlet or warehouse")
FIRM_HAS_OUTLETS = Text(
    ru="У фирмы есть торговые точки или склады ({count}): сначала удалите их "
    "или перенесите на другую фирму.",
    en="The firm still has {count} outlet(s) or warehouse(s): delete them "
    "or move them to another firm first.",
)


@dataclass(frozen=True, slots=True)
class FirmData:
    name: str | None
    inn: str | None
    kpp: str | None = None


@dataclass(frozen=True, slots=True)
class OutletData:
    firm_id: str | None
    name: str | None
    kind: OutletKind
    address: str | None = None


def _clean_firm(data: FirmData, problems: Problems) -> dict[str, Any]:
    return {
        "name": clean_text(
            data.name, field="name", problems=problems, required=True, max_length=255
        ),
        "inn": clean_inn(data.inn, field="inn", problems=problems),
        "kpp": clean_kpp(data.kpp, field="kpp", problems=problems),
    }


async def create_firm(data: FirmData) -> Outcome[Firm]:
    problems = Problems()
    values = _clean_firm(data, problems)
    if problems:
        return Outcome.failed(*problems.errors)
    return Outcome(await Firm.create(**values))


async def update_firm(firm_id: str, data: FirmData) -> Outcome[Firm]:
    problems = Problems()
    values = _clean_firm(data, problems)
    pk = parse_id(firm_id)
    firm = await Firm.get_or_none(id=pk) if pk is not None else None
    if firm is None:
        problems.add(not_found("id", FIRM))
    if problems or firm is None:
        return Outcome.failed(*problems.errors)
    await firm.update_from_dict(values).save()
    return Outcome(firm)


async def delete_firm(firm_id: str) -> Outcome[Firm]:
    """Delete a firm without outlets; a firm that has some is refused (``FIRM_HAS_OUTLETS``)."""
    pk = parse_id(firm_id)
    if pk is None:
        return Outcome.failed(not_found("id", FIRM))
    try:
        async with in_transaction():
            firm = await Firm.get_or_none(id=pk)
            if firm is None:
                return Outcome.failed(not_found("id", FIRM))
            count = await _outlet_count(pk)
            if count:
                return Outcome.failed(_has_outlets(count))
            await firm.delete()
    except IntegrityError:
        # An outlet was added meanwhile and the RESTRICT key held. Counted after the
        # transaction: PostgreSQL takes no more queries in one that failed.
        return Outcome.failed(_has_outlets(await _outlet_count(pk)))
    return Outcome(firm)


async def _outlet_count(firm_id: int) -> int:
    return await Outlet.filter(firm_id=firm_id).count()


def _has_outlets(count: int) -> FieldError:
    return FieldError(
        field="id",
        code=FirmErrorCode.FIRM_HAS_OUTLETS,
        message=FIRM_HAS_OUTLETS.format(count=count),
    )


async def _clean_outlet(data: OutletData, problems: Problems) -> tuple[dict[str, Any], Firm | None]:
    values: dict[str, Any] = {
        "name": clean_text(
            data.name, field="name", problems=problems, required=True, max_length=255
        ),
        "kind": data.kind,
        "address": clean_text(
            data.address, field="address", problems=problems, required=False, max_length=500
        ),
    }
    pk = parse_id(data.firm_id) if data.firm_id is not None else None
    firm = await Firm.get_or_none(id=pk) if pk is not None else None
    if firm is None:
        problems.add(not_found("firmId", FIRM))
    return values, firm


async def create_outlet(data: OutletData) -> Outcome[Outlet]:
    problems = Problems()
    values, firm = await _clean_outlet(data, problems)
    if problems or firm is None:
        return Outcome.failed(*problems.errors)
    try:
        outlet = await Outlet.create(firm=firm, **values)
    except IntegrityError:  # the firm was deleted meanwhile
        return Outcome.failed(not_found("firmId", FIRM))
    outlet.firm = firm
    return Outcome(outlet)


async def update_outlet(outlet_id: str, data: OutletData) -> Outcome[Outlet]:
    problems = Problems()
    values, firm = await _clean_outlet(data, problems)
    pk = parse_id(outlet_id)
    outlet = await Outlet.get_or_none(id=pk) if pk is not None else None
    if outlet is None:
        problems.add(not_found("id", OUTLET))
    if problems or outlet is None or firm is None:
        return Outcome.failed(*problems.errors)
    outlet.update_from_dict({**values, "firm_id": firm.id})
    try:
        await outlet.save()
    except IntegrityError:
        return Outcome.failed(not_found("firmId", FIRM))
    outlet.firm = firm
    return Outcome(outlet)


async def delete_outlet(outlet_id: str) -> Outcome[Outlet]:
    pk = parse_id(outlet_id)
    outlet = await Outlet.get_or_none(id=pk) if pk is not None else None
    if outlet is None:
        return Outcome.failed(not_found("id", OUTLET))
    await outlet.delete()
    return Outcome(outlet)


async def firms_by_id(ids: Sequence[int]) -> list[Firm | None]:
    """The firms of ``ids``, in their order (None for an id that names none)."""
    found = {firm.id: firm for firm in await Firm.filter(id__in=set(ids))}
    return [found.get(i) for i in ids]


@dataclass(frozen=True, slots=True)
class OutletRow:
    """An outlet as a listing shows it: the columns read, not an ORM object."""

    id: int
    firm_id: int
    name: str
    kind: OutletKind
    address: str | None


#: The columns a listing of outlets reads (``OutletRow``'s fields).
_ROW_COLUMNS = ("id", "firm_id", "name", "kind", "address")


async def outlet_pages(firm_ids: Iterable[int], *, limit: int, offset: int) -> list[OutletRow]:
    """The same page of each firm's outlets (by id), in one query whatever the firms' count.

    A window function numbers each firm's outlets, so the database hands over only the rows
    asked for — a firm with 10,000 outlets costs a page, not its whole list. SQLite has
    window functions since 3.25, PostgreSQL always. Only integers reach the SQL text. The
    rows are read as plain values: no ORM object (and no timestamp parsed) per outlet.
    """
    db = Outlet._meta.db
    outlet = Table(Outlet._meta.db_table)
    numbered = (
        db.query_class.from_(outlet)
        .select(
            *(outlet.field(name) for name in _ROW_COLUMNS),
            RowNumber().over(outlet.firm_id).orderby(outlet.id).as_("row_no"),
        )
        .where(outlet.firm_id.isin(sorted(int(i) for i in firm_ids)))
    )
    query = (
        db.query_class.from_(numbered)
        .select(*(numbered.field(name) for name in _ROW_COLUMNS))
        .where((numbered.row_no > int(offset)) & (numbered.row_no <= int(offset) + int(limit)))
        .orderby(numbered.firm_id)
        .orderby(numbered.id)
    )
    return [
        OutletRow(
            id=row["id"],
            firm_id=row["firm_id"],
            name=row["name"],
            kind=OutletKind(row["kind"]),
            address=row["address"],
        )
        for row in await db.execute_query_dict(str(query))
    ]
