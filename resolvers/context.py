"""The per-request context: who is asking, in which language, and request-scoped loaders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from i18n import Lang
from models import ApiToken, Firm
from schema.paging import Page
from services import firms
from services.firms import OutletRow

if TYPE_CHECKING:
    from services.runtime import Runtime

__all__ = ["Context", "OutletsKey"]

#: A firm's id and the page of its outlets asked for.
OutletsKey = tuple[int, Page]


async def _outlets_by_firm(keys: Sequence[OutletsKey]) -> list[list[OutletRow]]:
    # One query per distinct page: usually one for the whole response.
    firms_of_page: dict[Page, set[int]] = defaultdict(set)
    for firm_id, wanted in keys:
        firms_of_page[wanted].add(firm_id)
    found: dict[OutletsKey, list[OutletRow]] = defaultdict(list)
    for wanted, firm_ids in firms_of_page.items():
        for outlet in await firms.outlet_pages(firm_ids, limit=wanted.limit, offset=wanted.offset):
            found[(outlet.firm_id, wanted)].append(outlet)
    return [found.get(key, []) for key in keys]


@dataclass
class Context:
    runtime: Runtime
    lang: Lang
    token: ApiToken | None
    request: Any = None
    response: Any = None
    note_outcome: Callable[[str], None] = field(default=lambda outcome: None)
    """Tells the request's log line how it ended ("rate_limited" …); set by the HTTP layer."""
    firm_loader: DataLoader[int, Firm | None] = field(
        default_factory=lambda: DataLoader(load_fn=firms.firms_by_id)
    )
    outlets_loader: DataLoader[OutletsKey, list[OutletRow]] = field(
        default_factory=lambda: DataLoader(load_fn=_outlets_by_firm)
    )
