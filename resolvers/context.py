"""The per-request context: who is asking, in which language, and request-scoped loaders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pypika_tortoise.analytics import RowNumber
from pypika_tortoise.queries import Table
from strawberry.dataloader import DataLoader

from i18n import Lang
from models import ApiToken, Firm, Outlet
from schema.paging import Page

if TYPE_CHECKING:
    from services.runtime import Runtime

__all__ = ["Context", "OutletsKey"]

#: A firm's id and the page of its outlets asked for.
OutletsKey = tuple[int, Page]


async def _firms_by_id(ids: Sequence[int]) -> list[Firm | None]:
    found = {firm.id: firm for firm in await Firm.filter(id__in=set(ids))}
    return [found.get(i) for i in ids]


async def _outlet_pages(firm_ids: Iterable[int], *, limit: int, offset: int) -> list[Outlet]:
    """The same page of each firm's outlets (by id), in one query whatever the firms' count.

    A window function numbers each firm's outlets, so the database hands over only the rows
    asked for — a firm with 10,000 outlets costs a page, not its whole list. SQLite has
    window functions since 3.25, PostgreSQL always. Only integers reach the SQL text.
    """
    db = Outlet._meta.db
    outlet = Table(Outlet._meta.db_table)
    numbered = (
        db.query_class.from_(outlet)
        .select(outlet.star, RowNumber().over(outlet.firm_id).orderby(outlet.id).as_("row_no"))
        .where(outlet.firm_id.isin(sorted(int(i) for i in firm_ids)))
    )
    columns = [numbered.field(name) for name in sorted(Outlet._meta.db_fields)]
    query = (
        db.query_class.from_(numbered)
        .select(*columns)
        .where((numbered.row_no > int(offset)) & (numbered.row_no <= int(offset) + int(limit)))
        .orderby(numbered.firm_id)
        .orderby(numbered.id)
    )
    return list(await Outlet.raw(str(query)))


async def _outlets_by_firm(keys: Sequence[OutletsKey]) -> list[list[Outlet]]:
    # One query per distinct page: usually one for the whole response.
    firms_of_page: dict[Page, set[int]] = defaultdict(set)
    for firm_id, wanted in keys:
        firms_of_page[wanted].add(firm_id)
    found: dict[OutletsKey, list[Outlet]] = defaultdict(list)
    for wanted, firm_ids in firms_of_page.items():
        for outlet in await _outlet_pages(firm_ids, limit=wanted.limit, offset=wanted.offset):
            found[(outlet.firm_id, wanted)].append(outlet)
    return [found.get(key, []) for key in keys]


@dataclass
class Context:
    runtime: Runtime
    lang: Lang
    token: ApiToken | None
    request: Any = None
    response: Any = None
    firm_loader: DataLoader[int, Firm | None] = field(
        default_factory=lambda: DataLoader(load_fn=_firms_by_id)
    )
    outlets_loader: DataLoader[OutletsKey, list[Outlet]] = field(
        default_factory=lambda: DataLoader(load_fn=_outlets_by_firm)
    )
