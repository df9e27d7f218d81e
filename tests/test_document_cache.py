"""Documents validated once: a valid text is not validated again, an invalid one always is."""

from __future__ import annotations

from typing import Any

import pytest

from web import document_cache


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    validate = document_cache.validate_document  # type: ignore[attr-defined]

    def counted(schema: Any, document: Any, rules: Any) -> Any:
        seen.append(document.loc.source.body)
        return validate(schema, document, rules)

    monkeypatch.setattr(document_cache, "validate_document", counted)
    document_cache._valid.clear()
    return seen


async def test_a_valid_text_is_validated_once(gql: Any, validations: list[str]) -> None:
    query = "query Once { mailProviders { code } }"
    for _ in range(3):
        await gql(query)
    assert validations == [query]


async def test_an_invalid_text_is_refused_every_time(gql: Any, validations: list[str]) -> None:
    query = "{ mailProviders { nope } }"
    for _ in range(2):
        body = (await gql.post(query)).json()
        assert body["errors"][0]["message"]
    assert validations == [query, query]


async def test_the_limits_still_refuse_a_cached_text(gql: Any, validations: list[str]) -> None:
    deep = "{ firms { outlets { firm { outlets { firm { outlets { firm { outlets { firm { outlets { firm { id } } } } } } } } } } } }"
    codes = [(await gql.post(deep)).json()["errors"][0]["extensions"]["code"] for _ in range(2)]
    assert codes == ["QUERY_TOO_COMPLEX", "QUERY_TOO_COMPLEX"]  # the cost, computed each time


def test_the_cache_is_bounded(validations: list[str]) -> None:
    assert document_cache.MAX_DOCUMENTS <= 1024
