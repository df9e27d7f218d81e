"""The paging arguments of list fields: ``limit`` and ``offset``, and how they are taken.

A list that can grow with the data is never returned whole: a client asks for a page of it,
at most ``MAX_PAGE`` items. A ``limit`` out of range is brought into 1..``MAX_PAGE`` rather
than refused, as ``emailAccounts`` does, so a client asking for "everything" gets a page.
The query cost (web.query_cost) counts a list by the page it asks for.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

import strawberry

__all__ = ["DEFAULT_PAGE", "MAX_PAGE", "Limit", "Offset", "Page", "page"]

MAX_PAGE = 500
DEFAULT_PAGE = 100

Limit = Annotated[int, strawberry.argument(description=f"Page size; taken into 1..{MAX_PAGE}.")]
Offset = Annotated[int, strawberry.argument(description="Records to skip; at least 0.")]


class Page(NamedTuple):
    limit: int
    offset: int


def page(limit: int, offset: int) -> Page:
    """The page a client's ``limit`` and ``offset`` ask for, within range."""
    return Page(limit=max(1, min(limit, MAX_PAGE)), offset=max(0, offset))
