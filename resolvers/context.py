"""The per-request context: who is asking, in which language, and request-scoped loaders."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from i18n import Lang
from models import ApiToken, Firm, Outlet

if TYPE_CHECKING:
    from services.runtime import Runtime

__all__ = ["Context"]


async def _firms_by_id(ids: Sequence[int]) -> list[Firm | None]:
    found = {firm.id: firm for firm in await Firm.filter(id__in=set(ids))}
    return [found.get(i) for i in ids]


async def _outlets_by_firm(ids: Sequence[int]) -> list[list[Outlet]]:
    grouped: dict[int, list[Outlet]] = defaultdict(list)
    for outlet in await Outlet.filter(firm_id__in=set(ids)).order_by("id"):
        grouped[outlet.firm_id].append(outlet)
    return [grouped.get(i, []) for i in ids]


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
    outlets_loader: DataLoader[int, list[Outlet]] = field(
        default_factory=lambda: DataLoader(load_fn=_outlets_by_firm)
    )
