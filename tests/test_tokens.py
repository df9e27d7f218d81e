"""Token names: a default name never collides; an explicit one that is taken is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from models import Role
from services.errors import TokenNameTaken
from services.tokens import create_token, revoke_token

AT = datetime(2026, 12, 1, 9, 47, 3, tzinfo=UTC)


async def test_default_names_are_timestamped_and_numbered_within_a_second(app: Any) -> None:
    names = [(await create_token(role=Role.ADMIN, at=AT))[0].name for _ in range(3)]
    assert names == [
        "admin token 2026-12-01 09:47:03",
        "admin token 2026-12-01 09:47:03 (2)",
        "admin token 2026-12-01 09:47:03 (3)",
    ]
    viewer, _ = await create_token(role=Role.VIEWER, at=AT)
    assert viewer.name == "viewer token 2026-12-01 09:47:03"


async def test_a_revoked_default_name_is_used_again(app: Any) -> None:
    first, _ = await create_token(role=Role.ADMIN, at=AT)
    assert await revoke_token(first.name) == 1
    again, _ = await create_token(role=Role.ADMIN, at=AT)
    assert again.name == first.name


async def test_an_explicit_name_that_is_taken_is_refused(app: Any) -> None:
    await create_token(name="mobile app", role=Role.VIEWER)
    with pytest.raises(TokenNameTaken):
        await create_token(name="mobile app", role=Role.ADMIN)
