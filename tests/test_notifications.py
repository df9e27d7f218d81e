"""sendNotification, notification(id), notifications(...) and the sender role, over HTTP."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from models import Firm, Notification, Outlet, OutletKind, Role
from notifications.enqueue import MAX_SUBJECT, MAX_TEXT
from services.tokens import create_token
from tests.conftest import GraphQLClient
from tests.notify_smtpd import notify_server
from tests.smtpd import Certificates, RunningServer

ADDRESS = "shop@example.ru"
PASSWORD = "Пароль-Sekr3t"

SAVE = """
mutation($input: MailSettingsInput!) {
  saveMailSettings(input: $input) { account { id } errors { field code } }
}"""
SEND = """
mutation($input: NotificationInput!) {
  sendNotification(input: $input) {
    notification { id idempotencyKey to subject status attempts createdAt sentAt
                   nextAttemptAt messageId lastFailure { code } }
    errors { field message code }
  }
}"""
ONE = "query($id: ID!) { notification(id: $id) { id status subject to } }"
PAGE = """query($status: NotificationStatus, $limit: Int!, $offset: Int!) {
  notifications(status: $status, limit: $limit, offset: $offset) { id status idempotencyKey } }"""


def letter(key: str = "order-1", **overrides: Any) -> dict[str, Any]:
    return {
        "to": "buyer@example.org",
        "subject": "Заказ №1 готов к выдаче",
        "text": "Здравствуйте!\nВаш заказ готов.\n",
        "html": "<p>Здравствуйте!</p><p>Ваш заказ готов.</p>",
        "idempotencyKey": key,
        **overrides,
    }


@pytest.fixture
async def server(certificates: Certificates) -> AsyncIterator[RunningServer]:
    async with notify_server(certificate=certificates.good, accounts={ADDRESS: PASSWORD}) as (
        running,
        _,
    ):
        yield running


@pytest.fixture
async def configured(gql: GraphQLClient, server: RunningServer) -> None:
    firm = await Firm.create(name="ООО Ромашка", inn="7707083893")
    await Outlet.create(firm=firm, name="Склад", kind=OutletKind.WAREHOUSE)
    saved = await gql(
        SAVE,
        {
            "input": {
                "provider": "OTHER",
                "smtpHost": "localhost",
                "port": server.port,
                "useSsl": True,
                "security": "STARTTLS",
                "address": ADDRESS,
                "password": PASSWORD,
                "senderName": "Ромашка",
            }
        },
    )
    assert saved["saveMailSettings"]["errors"] == []


@pytest.fixture
async def sender(anonymous: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(anonymous, (await create_token(name="crm", role=Role.SENDER))[1])


async def send(client: GraphQLClient, fields: dict[str, Any], lang: str | None = None) -> Any:
    return (await client(SEND, {"input": fields}, lang=lang))["sendNotification"]


async def test_not_configured_until_settings_are_saved(gql: GraphQLClient) -> None:
    payload = await send(gql, letter())
    assert payload["notification"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(None, "NOT_CONFIGURED")]
    assert await Notification.all().count() == 0


async def test_queued_at_once_with_a_message_id_on_the_sender_domain(
    gql: GraphQLClient, configured: None, server: RunningServer
) -> None:
    payload = await send(gql, letter())
    assert payload["errors"] == []
    queued = payload["notification"]
    assert queued["status"] == "QUEUED"
    assert queued["attempts"] == 0
    assert queued["sentAt"] is None and queued["lastFailure"] is None
    assert queued["nextAttemptAt"] is not None
    assert queued["messageId"].startswith("<") and queued["messageId"].endswith("@example.ru>")
    assert queued["to"] == "buyer@example.org"
    # Nothing was sent: enqueueing never talks SMTP.
    assert server.recorder.messages == [] and server.recorder.logins == []
    read = (await gql(ONE, {"id": queued["id"]}))["notification"]
    assert read == {
        "id": queued["id"],
        "status": "QUEUED",
        "subject": "Заказ №1 готов к выдаче",
        "to": "buyer@example.org",
    }
    assert (await gql(ONE, {"id": "999999"}))["notification"] is None
    assert (await gql(ONE, {"id": "not-an-id"}))["notification"] is None


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"to": "not-an-address"}, "to", "INVALID"),
        ({"to": "a@b.ru\r\nBcc: victim@example.org"}, "to", "FORBIDDEN_CHARACTERS"),
        ({"to": "=?utf-8?q?x?=@example.org"}, "to", "FORBIDDEN_CHARACTERS"),
        ({"to": "  "}, "to", "REQUIRED"),
        ({"subject": "Hi\r\nBcc: victim@example.org"}, "subject", "FORBIDDEN_CHARACTERS"),
        ({"subject": "Hi\nthere"}, "subject", "FORBIDDEN_CHARACTERS"),
        ({"subject": "=?utf-8?b?SGkNCkJjYzogeEB5Lno=?="}, "subject", "FORBIDDEN_CHARACTERS"),
        ({"subject": "x\x00y"}, "subject", "FORBIDDEN_CHARACTERS"),
        ({"subject": ""}, "subject", "REQUIRED"),
        ({"subject": "я" * (MAX_SUBJECT + 1)}, "subject", "INVALID"),
        ({"text": ""}, "text", "REQUIRED"),
        ({"text": "ok\x00"}, "text", "FORBIDDEN_CHARACTERS"),
        ({"text": "ok\x1b[31m"}, "text", "FORBIDDEN_CHARACTERS"),
        ({"text": "a" * (MAX_TEXT + 1)}, "text", "INVALID"),
        ({"html": "<p>\x07</p>"}, "html", "FORBIDDEN_CHARACTERS"),
        ({"idempotencyKey": ""}, "idempotencyKey", "REQUIRED"),
        ({"idempotencyKey": "k\r\n"}, "idempotencyKey", "FORBIDDEN_CHARACTERS"),
        ({"idempotencyKey": "k" * 201}, "idempotencyKey", "INVALID"),
    ],
)
async def test_bad_input_is_refused_on_its_field_and_changes_nothing(
    gql: GraphQLClient, configured: None, fields: dict[str, Any], field: str, code: str
) -> None:
    payload = await send(gql, letter(**fields))
    assert payload["notification"] is None
    assert (field, code) in [(e["field"], e["code"]) for e in payload["errors"]]
    assert all(e["message"] for e in payload["errors"])
    assert await Notification.all().count() == 0


async def test_messages_are_russian_by_default_and_english_on_request(
    gql: GraphQLClient, configured: None
) -> None:
    ru = (await send(gql, letter(subject="")))["errors"][0]["message"]
    en = (await send(gql, letter(subject=""), lang="en"))["errors"][0]["message"]
    assert ru != en and en.isascii() and not ru.isascii()


async def test_line_breaks_and_tabs_are_fine_in_the_body(
    gql: GraphQLClient, configured: None
) -> None:
    payload = await send(gql, letter(text="a\r\nb\tc\rd", html=None))
    assert payload["errors"] == []
    stored = await Notification.get(id=int(payload["notification"]["id"]))
    assert stored.text == "a\nb\tc\nd" and stored.html is None


async def test_same_key_same_content_returns_the_existing_notification(
    gql: GraphQLClient, configured: None
) -> None:
    first = (await send(gql, letter()))["notification"]
    again = await send(gql, letter())
    assert again["errors"] == []
    assert again["notification"]["id"] == first["id"]
    assert again["notification"]["messageId"] == first["messageId"]
    other = await send(gql, letter(subject="Другая тема"))
    assert other["notification"] is None
    assert [(e["field"], e["code"]) for e in other["errors"]] == [
        ("idempotencyKey", "IDEMPOTENCY_CONFLICT")
    ]
    assert await Notification.all().count() == 1


async def test_twenty_clients_racing_with_one_key_make_one_notification(
    gql: GraphQLClient, configured: None
) -> None:
    payloads = await asyncio.gather(*(send(gql, letter("race")) for _ in range(20)))
    assert all(p["errors"] == [] for p in payloads), payloads
    assert len({p["notification"]["id"] for p in payloads}) == 1
    assert await Notification.filter(idempotency_key="race").count() == 1


async def test_twenty_racing_with_other_content_one_wins_the_rest_conflict(
    gql: GraphQLClient, configured: None
) -> None:
    payloads = await asyncio.gather(
        *(send(gql, letter("race-2", subject=f"Тема {n}")) for n in range(20))
    )
    winners = [p for p in payloads if p["notification"] is not None]
    assert len(winners) == 1
    losers = [p for p in payloads if p["notification"] is None]
    assert all(p["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT" for p in losers)
    assert len(losers) == 19
    assert await Notification.filter(idempotency_key="race-2").count() == 1


async def test_pages_by_status_newest_first(gql: GraphQLClient, configured: None) -> None:
    ids = [(await send(gql, letter(f"k{n}")))["notification"]["id"] for n in range(5)]
    page = (await gql(PAGE, {"status": "QUEUED", "limit": 2, "offset": 1}))["notifications"]
    assert [p["id"] for p in page] == [ids[3], ids[2]]
    assert (await gql(PAGE, {"status": "SENT", "limit": 10, "offset": 0}))["notifications"] == []
    everything = (await gql(PAGE, {"status": None, "limit": 100, "offset": 0}))["notifications"]
    assert len(everything) == 5
    huge = {"status": None, "limit": 10, "offset": 2**31 - 1}
    assert (await gql(PAGE, huge))["notifications"] == []


async def test_the_sender_role_sends_and_reads_notifications_and_nothing_else(
    sender: GraphQLClient, configured: None
) -> None:
    payload = await send(sender, letter())
    assert payload["errors"] == []
    page = (await sender(PAGE, {"status": None, "limit": 10, "offset": 0}))["notifications"]
    assert [p["id"] for p in page] == [payload["notification"]["id"]]
    for query in (
        "{ mailTab { available } }",
        "{ firms { id } }",
        "{ emailAccounts { id address } }",
        "{ notifications { id } mailTab { available } }",
        "query { ...F } fragment F on Query { mailProviders { code } }",
        'mutation { createFirm(input: {name: "Ф", inn: "7707083893"}) { errors { code } } }',
    ):
        response = await sender.post(query)
        body = response.json()
        assert body.get("data") is None, query
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], query


async def test_viewers_read_notifications_but_cannot_send(
    viewer_gql: GraphQLClient, gql: GraphQLClient, configured: None
) -> None:
    await send(gql, letter())
    page = (await viewer_gql(PAGE, {"status": None, "limit": 10, "offset": 0}))["notifications"]
    assert len(page) == 1
    response = await viewer_gql.post(SEND, {"input": letter("viewer")})
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await Notification.all().count() == 1


async def test_no_password_in_any_notification_response(
    gql: GraphQLClient, configured: None
) -> None:
    response = await gql.post(SEND, {"input": letter()})
    assert PASSWORD not in response.text
    page = await gql.post(PAGE, {"status": None, "limit": 10, "offset": 0})
    assert PASSWORD not in page.text


def test_mailtab_token_create_role_sender_prints_a_sender_token(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")}
    env = {**clean, "MAILTAB_DATA_DIR": str(tmp_path / "data")}
    mailtab = str(Path(sys.executable).with_name("mailtab"))
    subprocess.run([mailtab, "migrate"], env=env, check=True, capture_output=True, timeout=60)
    created = subprocess.run(
        [mailtab, "token", "create", "--role", "sender", "--name", "crm"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("mt_")
    listed = subprocess.run(
        [mailtab, "token", "list"], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert "\tsender\tactive\t" in listed.stdout and token not in listed.stdout


async def test_a_page_is_one_query_whatever_it_holds(
    gql: GraphQLClient, configured: None, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(30):
        assert (await send(gql, letter(f"p{n}")))["errors"] == []
    full = "{ notifications(limit: 30) { id to subject status attempts lastFailure { code } } }"

    async def statements(query: str) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            data = await gql(query)
        assert data["notifications"]
        return sum(
            1
            for record in caplog.records
            if record.name == "tortoise.db_client" and '"notification"' in record.getMessage()
        )

    small = await statements("{ notifications(limit: 1) { id } }")
    large = await statements(full)
    assert small == large == 1
