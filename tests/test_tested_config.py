"""``mailTab.settings.lastTest`` and Save's NOT_TESTED warning, with a real aiosmtpd server.

The configuration is host, port, security, address and credentials; attempts keep a keyed
digest of it, never the password, and never a plain hash of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.fernet import Fernet

from mail.security import Security
from models import TestEmailAttempt as AttemptRecord
from services.secrets import PasswordBox
from services.tested_config import config_digest
from tests.conftest import GraphQLClient
from tests.smtpd import Certificates, RunningServer, ServerMode, smtp_server

ADDRESS = "shop@example.ru"
PASSWORD = "Пароль-Sekr3t"
RECIPIENT = "buyer@example.org"

SAVE = """mutation($input: MailSettingsInput!) {
  saveMailSettings(input: $input) { errors { field code } warnings { field code message } } }"""
SEND = """mutation($input: SendTestEmailInput!) {
  sendTestEmail(input: $input) { delivered failure { code } errors { code } } }"""
TAB = "{ mailTab { settings { port lastTest { at delivered failureCode } } } }"


@pytest.fixture
async def server(certificates: Certificates) -> AsyncIterator[RunningServer]:
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.good, accounts={ADDRESS: PASSWORD}
    ) as running:
        yield running


def form(server: RunningServer, **overrides: Any) -> dict[str, Any]:
    return {
        "provider": "OTHER",
        "smtpHost": "localhost",
        "port": server.port,
        "useSsl": True,
        "security": "STARTTLS",
        "address": ADDRESS,
        "password": PASSWORD,
        **overrides,
    }


async def save(gql: GraphQLClient, settings: dict[str, Any]) -> list[str]:
    payload = (await gql(SAVE, {"input": settings}))["saveMailSettings"]
    assert payload["errors"] == []
    return [w["code"] for w in payload["warnings"]]


async def send(gql: GraphQLClient, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"recipient": RECIPIENT}
    if settings is not None:
        data["settings"] = settings
    payload: dict[str, Any] = (await gql(SEND, {"input": data}))["sendTestEmail"]
    assert payload["errors"] == []
    return payload


async def last_test(gql: GraphQLClient) -> Any:
    return (await gql(TAB))["mailTab"]["settings"]["lastTest"]


async def test_untested_save_warns_and_has_no_last_test(
    gql: GraphQLClient, tab_ready: None, server: RunningServer
) -> None:
    warnings = await save(gql, form(server))
    assert "NOT_TESTED" in warnings
    assert await last_test(gql) is None


async def test_a_delivered_letter_of_the_form_is_the_saved_settings_last_test(
    gql: GraphQLClient, tab_ready: None, server: RunningServer
) -> None:
    # Tested with the form first, then saved: "the test worked" and Save knows it.
    assert (await send(gql, form(server)))["delivered"] is True
    assert "NOT_TESTED" not in await save(gql, form(server))
    test = await last_test(gql)
    assert test["delivered"] is True and test["failureCode"] is None
    assert test["at"]


async def test_the_saved_settings_sent_and_saved_again_keep_the_memory(
    gql: GraphQLClient, tab_ready: None, server: RunningServer
) -> None:
    assert "NOT_TESTED" in await save(gql, form(server))
    assert (await send(gql))["delivered"] is True  # the saved settings, stored password
    assert (await last_test(gql))["delivered"] is True
    # Saving again without the password (the stored one is kept): still the same config.
    again = form(server)
    del again["password"]
    assert "NOT_TESTED" not in await save(gql, again)


async def test_a_test_of_other_credentials_is_not_the_saved_settings_test(
    gql: GraphQLClient, tab_ready: None, server: RunningServer
) -> None:
    assert (await send(gql, form(server)))["delivered"] is True
    await save(gql, form(server))
    # A failed try with another password does not change the saved configuration's test.
    failed = await send(gql, form(server, password="another-one"))
    assert failed["failure"]["code"] == "AUTH_FAILED"
    assert (await last_test(gql))["delivered"] is True
    # Saving that password: its last test is the failed one, and Save warns.
    assert "NOT_TESTED" in await save(gql, form(server, password="another-one"))
    test = await last_test(gql)
    assert (test["delivered"], test["failureCode"]) == (False, "AUTH_FAILED")


async def test_another_port_or_address_is_another_configuration(
    gql: GraphQLClient, tab_ready: None, server: RunningServer, certificates: Certificates
) -> None:
    assert (await send(gql, form(server)))["delivered"] is True
    async with smtp_server(
        mode=ServerMode.STARTTLS,
        certificate=certificates.good,
        accounts={ADDRESS: PASSWORD, "other@example.ru": PASSWORD},
    ) as second:
        assert "NOT_TESTED" in await save(gql, form(second))
        assert await last_test(gql) is None
        assert "NOT_TESTED" in await save(gql, form(server, address="other@example.ru"))
        assert await last_test(gql) is None


async def test_attempts_keep_a_keyed_digest_never_the_password(
    gql: GraphQLClient, tab_ready: None, server: RunningServer
) -> None:
    await send(gql, form(server))
    [record] = await AttemptRecord.all()
    row = await AttemptRecord.filter(id=record.id).values()
    text = repr(row)
    assert PASSWORD not in text
    digest = record.config_digest
    assert digest is not None and len(digest) == 64
    # Not a plain hash of the password, nor of the configuration as text.
    for plain in (PASSWORD, f"localhost|{server.port}|STARTTLS|{ADDRESS}|{PASSWORD}"):
        assert digest != hashlib.sha256(plain.encode()).hexdigest()


def digest(
    box: PasswordBox,
    *,
    host: str = "smtp.example.ru",
    address: str = ADDRESS,
    password: str | None = PASSWORD,
) -> str:
    return config_digest(
        box, host=host, port=465, security=Security.SSL_TLS, address=address, password=password
    )


def test_the_digest_needs_the_deployment_key() -> None:
    one = PasswordBox([Fernet.generate_key().decode()])
    other = PasswordBox([Fernet.generate_key().decode()])
    assert digest(one) == digest(one)
    assert digest(one) != digest(other)
    assert digest(one) != digest(one, password=PASSWORD + "!")
    assert digest(one) != digest(one, password=None)
    # Case of the host and address does not make another configuration.
    assert digest(one) == digest(one, host="SMTP.example.ru", address=ADDRESS.upper())
