"""Refused presses of Send count in a limit of their own, and the attempt log is paged.

A refused press (invalid input, the tab unavailable, nothing saved, over the letter
limit) costs no SMTP connection, but it writes a row: without a limit of its own, a
script could write thousands in seconds and push the admin's real attempts out of
``testEmailAttempts``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import create_app
from config import ConfigError, load_settings
from models import Role
from models import TestEmailAttempt as AttemptRecord
from services.ratelimit import REFUSALS_NAMESPACE, RateLimiter
from services.tokens import create_token
from tests.conftest import GraphQLClient, make_settings
from tests.smtpd import closed_port

RECIPIENT = "buyer@example.org"
SEND = """
mutation($input: SendTestEmailInput!) {
  sendTestEmail(input: $input) { delivered retryAfter failure { code } errors { field code } }
}"""
ATTEMPTS = """
query($last: Int!, $offset: Int!, $delivered: Boolean, $outcome: String) {
  testEmailAttempts(last: $last, offset: $offset, delivered: $delivered, outcome: $outcome) {
    id outcome delivered recipient tokenName
  }
}"""


@dataclass
class OtherApp:
    http: httpx.AsyncClient

    async def client(self, name: str) -> GraphQLClient:
        return GraphQLClient(self.http, (await create_token(name=name, role=Role.ADMIN))[1])


MakeApp = Callable[..., Awaitable[OtherApp]]


@pytest.fixture
async def app_with(app: Any, database_url: str, data_dir: Path) -> AsyncIterator[MakeApp]:
    """An app with other settings on the same database: its own rate limiters."""
    opened: list[httpx.AsyncClient] = []

    async def make(**overrides: Any) -> OtherApp:
        other = create_app(make_settings(database_url, data_dir, **overrides))
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://t")
        opened.append(http)
        return OtherApp(http)

    yield make
    for http in opened:
        await http.aclose()


def relay(port: int) -> dict[str, Any]:
    return {
        "provider": "OTHER",
        "smtpHost": "127.0.0.1",
        "port": port,
        "useSsl": False,
        "address": "shop@example.ru",
        "password": "p4ss",
    }


async def send(client: GraphQLClient, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await client(SEND, {"input": fields}))["sendTestEmail"]
    return payload


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def attempts(client: GraphQLClient, last: int = 500, offset: int = 0, **filters: Any) -> Any:
    variables = {"last": last, "offset": offset, **filters}
    return (await client(ATTEMPTS, variables))["testEmailAttempts"]


async def test_refused_presses_are_limited_and_then_not_recorded(
    app_with: MakeApp, tab_ready: None
) -> None:
    other = await app_with(test_email_refusal_rate_limit="5/minute")
    script = await other.client("script")
    answers = [await send(script, recipient="not an address", settings=relay(25)) for _ in range(8)]
    assert [codes(a) for a in answers[:5]] == [[("recipient", "INVALID")]] * 5
    for limited in answers[5:]:
        assert codes(limited) == [(None, "RATE_LIMITED")]
        assert 0 < limited["retryAfter"] <= 60
    assert await AttemptRecord.filter(token_name="script").count() == 5

    # Past its refusals the token is held back altogether, a valid press included.
    held = await send(script, recipient=RECIPIENT, settings=relay(closed_port()))
    assert codes(held) == [(None, "RATE_LIMITED")]
    assert held["failure"] is None
    assert await AttemptRecord.filter(token_name="script").count() == 5

    # The limit is per token: the admin's own presses go through and are recorded.
    admin = await other.client("admin")
    assert codes(await send(admin, recipient="not an address", settings=relay(25))) == [
        ("recipient", "INVALID")
    ]
    letter = await send(admin, recipient=RECIPIENT, settings=relay(closed_port()))
    assert letter["failure"]["code"] == "CONNECTION_REFUSED"
    assert await AttemptRecord.filter(token_name="admin").count() == 2


@pytest.mark.parametrize(
    "request_fields",
    [
        {"recipient": RECIPIENT},  # nothing saved: NOT_CONFIGURED
        {"recipient": RECIPIENT, "settings": {**relay(25), "port": 0}},
        {"recipient": "", "settings": relay(25)},
    ],
    ids=["not-configured", "invalid-port", "recipient-required"],
)
async def test_every_kind_of_refusal_counts(
    app_with: MakeApp, tab_ready: None, request_fields: dict[str, Any]
) -> None:
    other = await app_with(test_email_refusal_rate_limit="2/minute")
    script = await other.client("script")
    answers = [await send(script, **request_fields) for _ in range(3)]
    assert all(codes(a) != [(None, "RATE_LIMITED")] for a in answers[:2])
    assert codes(answers[2]) == [(None, "RATE_LIMITED")]
    assert await AttemptRecord.filter(token_name="script").count() == 2


async def test_an_unavailable_tab_refusal_counts(app_with: MakeApp) -> None:
    other = await app_with(test_email_refusal_rate_limit="2/minute")
    script = await other.client("script")
    answers = [await send(script, recipient=RECIPIENT, settings=relay(25)) for _ in range(3)]
    assert [codes(a) for a in answers] == [
        [(None, "MAIL_TAB_UNAVAILABLE")],
        [(None, "MAIL_TAB_UNAVAILABLE")],
        [(None, "RATE_LIMITED")],
    ]
    assert await AttemptRecord.filter(token_name="script").count() == 2


async def test_presses_over_the_letter_limit_are_refusals_too(
    app_with: MakeApp, tab_ready: None
) -> None:
    other = await app_with(
        test_email_rate_limit="2/minute", test_email_refusal_rate_limit="3/minute"
    )
    script = await other.client("script")
    port = closed_port()
    answers = [await send(script, recipient=RECIPIENT, settings=relay(port)) for _ in range(7)]
    assert [a["failure"]["code"] for a in answers[:2]] == ["CONNECTION_REFUSED"] * 2
    assert all(codes(a) == [(None, "RATE_LIMITED")] for a in answers[2:])
    records = await AttemptRecord.filter(token_name="script")
    outcomes = sorted(record.outcome for record in records)
    assert outcomes == ["CONNECTION_REFUSED"] * 2 + ["RATE_LIMITED"] * 3


async def test_a_flood_of_refusals_does_not_push_real_attempts_out(
    gql: GraphQLClient, anonymous: Any, tab_ready: None
) -> None:
    real = await send(gql, recipient=RECIPIENT, settings=relay(closed_port()))
    assert real["failure"]["code"] == "CONNECTION_REFUSED"
    script = GraphQLClient(anonymous, (await create_token(name="flood", role=Role.ADMIN))[1])
    flood = [await send(script, recipient="not an address", settings=relay(25)) for _ in range(200)]
    assert sum(codes(a) == [("recipient", "INVALID")] for a in flood) == 60  # the default
    assert await AttemptRecord.filter(token_name="flood").count() == 60
    log = await attempts(gql, last=500)
    assert len(log) == 61
    assert log[-1]["outcome"] == "CONNECTION_REFUSED"  # newest first: the real one is last
    assert await attempts(gql, last=5, outcome="CONNECTION_REFUSED") == [log[-1]]


async def test_the_log_is_paged_newest_first_and_filtered(
    gql: GraphQLClient, tab_ready: None
) -> None:
    port = closed_port()
    for index in range(5):
        recipient = f"buyer{index}@example.org"
        await send(gql, recipient=recipient, settings=relay(port))
        await send(gql, recipient="not an address", settings=relay(25))
    everything = await attempts(gql, last=500)
    assert len(everything) == 10
    ids = [int(a["id"]) for a in everything]
    assert ids == sorted(ids, reverse=True)
    pages = [await attempts(gql, last=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [a for page in pages for a in page] == everything
    assert await attempts(gql, last=3, offset=10) == []
    letters = await attempts(gql, last=500, outcome="CONNECTION_REFUSED")
    assert [a["recipient"] for a in letters] == [f"buyer{i}@example.org" for i in range(4, -1, -1)]
    assert await attempts(gql, last=2, offset=1, outcome="CONNECTION_REFUSED") == letters[1:3]
    assert len(await attempts(gql, last=500, outcome="INVALID")) == 5
    assert await attempts(gql, last=500, delivered=True) == []
    assert len(await attempts(gql, last=500, delivered=False)) == 10
    # Out-of-range arguments are taken into range; an outcome no attempt can have is empty.
    assert len(await attempts(gql, last=0, offset=-5)) == 1
    assert await attempts(gql, last=10, outcome="X" * 1000) == []


async def test_the_refusal_limit_is_a_window_of_its_own() -> None:
    letters = RateLimiter("2/minute")
    refusals = letters.another("2/minute", namespace=REFUSALS_NAMESPACE)
    assert [await letters.hit("k"), await letters.hit("k")] == [None, None]
    assert (await letters.hit("k") or 0) > 0
    # The same rate and key in another namespace: not counted by the letters.
    assert await refusals.wait("k") is None
    assert await refusals.wait("k") is None  # wait() itself counts nothing
    assert [await refusals.hit("k"), await refusals.hit("k")] == [None, None]
    assert (await refusals.wait("k") or 0) > 0


@pytest.mark.parametrize("value", ["lots", "0/minute", "5/minute;0/hour"])
def test_a_refusal_limit_that_cannot_work_is_a_configuration_error(
    clean_env: pytest.MonkeyPatch, value: str
) -> None:
    clean_env.setenv("MAILTAB_TEST_EMAIL_REFUSAL_RATE_LIMIT", value)
    with pytest.raises(ConfigError, match="MAILTAB_TEST_EMAIL_REFUSAL_RATE_LIMIT"):
        load_settings()
