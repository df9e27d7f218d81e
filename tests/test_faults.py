"""Unexpected faults at the HTTP edge (web.faults, web.error_policy): masked 500s, 503 outages."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from tortoise.exceptions import DBConnectionError

from services import firms as firm_service
from services import tokens
from tests.conftest import CREATE_FIRM, FIRMS, ROMASHKA, GraphQLClient, only_error
from web.faults import is_outage

# 1. GraphQL limits -------------------------------------------------------------------------


# 2. Errors ---------------------------------------------------------------------------------


async def test_unexpected_faults_are_masked_with_an_id_in_the_log(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(data: Any) -> Any:
        raise RuntimeError("internal detail 42")

    monkeypatch.setattr(firm_service, "create_firm", broken)
    response = await gql.post(CREATE_FIRM, {"input": ROMASHKA}, lang="en")
    assert response.status_code == 200
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    assert error_id in error["message"] and error["message"].startswith("Internal server error")
    assert "internal detail" not in response.text and "Traceback" not in response.text
    [logged] = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged.levelno == logging.ERROR and logged.exc_info is not None
    assert "internal detail 42" in str(logged.exc_info[1])


async def test_a_fault_in_the_token_check_is_a_masked_500(
    anonymous: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(token: str) -> Any:
        raise KeyError("oops")

    monkeypatch.setattr(tokens, "authenticate", broken)
    response = await anonymous.post(
        "/graphql", json={"query": FIRMS}, headers={"Authorization": "Bearer mt_x"}
    )
    assert response.status_code == 500
    error = only_error(response)
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert any(
        error["extensions"]["errorId"] in r.getMessage() and r.exc_info for r in caplog.records
    )


def test_what_counts_as_an_outage() -> None:
    def chained(outer: Exception, inner: BaseException) -> Exception:
        try:
            raise inner
        except BaseException as exc:
            try:
                raise outer from exc
            except Exception as final:
                return final

    assert is_outage(ConnectionRefusedError(111, "refused"))
    assert is_outage(TimeoutError())
    assert is_outage(OSError("Multiple exceptions: [Errno 111] Connect call failed"))
    assert is_outage(chained(DBConnectionError("lost"), ConnectionResetError()))
    assert not is_outage(FileNotFoundError(2, "no such file"))
    assert not is_outage(RuntimeError("bug"))
    assert not is_outage(chained(KeyError("bug"), ValueError()))
    try:
        try:
            raise ConnectionError("earlier, handled")
        except ConnectionError:
            raise RuntimeError("unrelated") from None
    except RuntimeError as unrelated:
        assert not is_outage(unrelated)


# 5. Outages (without PostgreSQL; tests/test_outage.py stops a real one) ---------------------


async def test_database_outage_in_a_resolver_is_service_unavailable(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def unreachable(data: Any) -> Any:
        try:
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
        except OSError as exc:
            raise DBConnectionError("connection lost") from exc

    monkeypatch.setattr(firm_service, "create_firm", unreachable)
    response = await gql.post(CREATE_FIRM, {"input": ROMASHKA})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"].startswith("Сервис временно недоступен")
    assert "5432" not in response.text and "Traceback" not in response.text
    [logged] = [r for r in caplog.records if error["extensions"]["errorId"] in r.getMessage()]
    assert logged.levelno == logging.WARNING and logged.exc_info is None


async def test_database_outage_at_the_token_check_is_503(
    anonymous: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(token: str) -> Any:
        raise OSError("Multiple exceptions: [Errno 111] Connect call failed")

    monkeypatch.setattr(tokens, "authenticate", unreachable)
    response = await anonymous.post(
        "/graphql",
        json={"query": FIRMS},
        headers={"Authorization": "Bearer mt_x", "Accept-Language": "en"},
    )
    assert response.status_code == 503
    error = only_error(response)
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"].startswith("The service is temporarily unavailable")
