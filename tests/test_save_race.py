"""A save that keeps the stored password races a save that moves it: the password never
ends up on the racing save's port and mode (SQLite and PostgreSQL alike).

The attack: an admin token loops Save with port A, no SSL and the password left out
("keep the stored one") while the owner moves the account to port B with STARTTLS and
a new password. If the "stored password only where it was saved for" rule were checked
on a read before the write only, a save that read the old row and wrote after the
owner's could keep the owner's new password on port A in clear text, and the next
test letter would log in with it on a listener there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from models import EmailAccount, ProgramSetting, Role
from services import mail_form, mail_settings
from services.tokens import create_token
from tests.conftest import GraphQLClient
from tests.smtpd import RunningServer, ServerMode, closed_port, smtp_server

ADDRESS = "shop@corp.example.ru"
OLD_PASSWORD = "old-relay-пароль"
NEW_PASSWORD = "new-Sekr3t-пароль"
RECIPIENT = "buyer@example.org"
ROUNDS = 12

SAVE = """
mutation($input: MailSettingsInput!) {
  saveMailSettings(input: $input) {
    settings { port security hasPassword }
    errors { field code }
  }
}"""
SEND = """
mutation($input: SendTestEmailInput!) {
  sendTestEmail(input: $input) { delivered failure { code } errors { field code } }
}"""


@pytest.fixture
async def plain_listener() -> AsyncIterator[RunningServer]:
    """The attacker's port A: plain text, AUTH offered in clear, every login recorded."""
    async with smtp_server(mode=ServerMode.PLAIN, accounts={}) as server:
        yield server


@pytest.fixture
async def attacker(app: Any, anonymous: Any) -> GraphQLClient:
    return GraphQLClient(anonymous, (await create_token(name="second admin", role=Role.ADMIN))[1])


def plain_form(port: int, **extra: Any) -> dict[str, Any]:
    """Port A in clear text; without ``password`` the stored one is meant."""
    return {
        "provider": "OTHER",
        "smtpHost": "127.0.0.1",
        "port": port,
        "useSsl": False,
        "address": ADDRESS,
        **extra,
    }


def owner_form(port: int) -> dict[str, Any]:
    return {
        "provider": "OTHER",
        "smtpHost": "127.0.0.1",
        "port": port,
        "useSsl": True,
        "security": "STARTTLS",
        "address": ADDRESS,
        "password": NEW_PASSWORD,
    }


async def save(client: GraphQLClient, fields: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = (await client(SAVE, {"input": fields}))["saveMailSettings"]
    return payload


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def assert_new_password_not_on(port: int, app: Any) -> None:
    """The account and the CRM settings agree, and the new password is only on STARTTLS."""
    account = await EmailAccount.get(address_key=ADDRESS)
    password = app.state.runtime.box.decrypt(account.password_encrypted or "")
    if password == NEW_PASSWORD:
        assert (account.port, account.security) != (port, "NONE")
        assert account.security == "STARTTLS"
    settings = {
        row.key: row.value for row in await ProgramSetting.filter(group=mail_settings.EMAIL_GROUP)
    }
    assert (settings["port"], settings["security"]) == (account.port, account.security)


async def test_a_keep_password_save_read_before_the_owner_moved_it_is_refused(
    app: Any,
    gql: GraphQLClient,
    attacker: GraphQLClient,
    tab_ready: None,
    plain_listener: RunningServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port_a, port_b = plain_listener.port, closed_port()
    assert (await save(gql, plain_form(port_a, password=OLD_PASSWORD)))["errors"] == []

    read = mail_form.find_account
    owner_saves: list[dict[str, Any]] = []

    async def owner_commits_after_the_read(form: Any) -> EmailAccount | None:
        account = await read(form)
        if form.port == port_a and not owner_saves:
            # The attacker's save has read the row (port A, NONE, old password) and not
            # written yet: now the owner's save runs to its commit.
            owner_saves.append(await save(gql, owner_form(port_b)))
        return account

    monkeypatch.setattr(mail_settings, "find_account", owner_commits_after_the_read)
    payload = await save(attacker, plain_form(port_a))
    assert owner_saves and owner_saves[0]["errors"] == []
    assert codes(payload) == [("password", "PASSWORD_REQUIRED")]
    assert payload["settings"] is None

    account = await EmailAccount.get(address_key=ADDRESS)
    assert (account.port, account.security) == (port_b, "STARTTLS")
    assert app.state.runtime.box.decrypt(account.password_encrypted or "") == NEW_PASSWORD
    await assert_new_password_not_on(port_a, app)

    # Neither the saved settings nor the form send the password to port A.
    for request in (
        {"recipient": RECIPIENT},
        {"recipient": RECIPIENT, "settings": plain_form(port_a)},
    ):
        await attacker(SEND, {"input": request})
    assert plain_listener.recorder.auth_commands == []
    assert plain_listener.recorder.passwords == []


async def test_racing_saves_never_leave_the_new_password_on_a_plain_port(
    app: Any,
    gql: GraphQLClient,
    anonymous: Any,
    tab_ready: None,
    plain_listener: RunningServer,
) -> None:
    record, token = await create_token(name="racing admin", role=Role.ADMIN)
    attacker = GraphQLClient(anonymous, token)
    port_a, port_b = plain_listener.port, closed_port()
    refused = 0
    for round_ in range(ROUNDS):
        assert (await save(gql, plain_form(port_a, password=OLD_PASSWORD)))["errors"] == []
        *attacks, owner = await asyncio.gather(
            _keep_on(port_a, attacker, saves=4),
            _keep_on(port_a, attacker, saves=4),
            # A different moment in every round, so the rounds sweep the interleavings.
            _save_later(gql, owner_form(port_b), turns=3 * round_),
        )
        assert owner["errors"] == []
        for payload in (p for loop in attacks for p in loop):
            assert codes(payload) in ([], [("password", "PASSWORD_REQUIRED")])
            refused += bool(payload["errors"])
        await assert_new_password_not_on(port_a, app)

        # The attacker's test letter with the saved settings.
        await app.state.runtime.limiter.reset(f"token:{record.id}")
        await attacker(SEND, {"input": {"recipient": RECIPIENT}})
        assert plain_listener.recorder.passwords == []
    assert plain_listener.recorder.auth_commands == []
    assert refused  # the attacker's saves did run into the owner's


async def _keep_on(port: int, client: GraphQLClient, *, saves: int) -> list[dict[str, Any]]:
    return [await save(client, plain_form(port)) for _ in range(saves)]


async def _save_later(client: GraphQLClient, fields: dict[str, Any], *, turns: int) -> Any:
    for _ in range(turns):
        await asyncio.sleep(0)
    return await save(client, fields)
