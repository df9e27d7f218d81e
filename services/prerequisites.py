"""Whether the Mail tab may be used: "Our firms" and "Outlets and warehouses" filled in."""

from __future__ import annotations

from enum import StrEnum

from models import Firm, Outlet

__all__ = ["Prerequisite", "missing_prerequisites"]


class Prerequisite(StrEnum):
    OUR_FIRMS = "OUR_FIRMS"
    OUTLETS_AND_WAREHOUSES = "OUTLETS_AND_WAREHOUSES"


async def missing_prerequisites() -> list[Prerequisite]:
    """What is missing, in two queries however many firms there are.

    Firms are validated on every write (name, INN checksum, KPP), so any stored
    firm is a filled-in one; an outlet always belongs to a firm (a non-null key).
    """
    missing = []
    if not await Firm.exists():
        missing.append(Prerequisite.OUR_FIRMS)
    if not await Outlet.exists():
        missing.append(Prerequisite.OUTLETS_AND_WAREHOUSES)
    return missing
