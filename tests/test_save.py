"""saveMailSettings, mailTab.settings, emailAccounts and programSettings."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from models import EmailAccount, ProgramSetting
from services import mail_settings

PASSWORD = "Sekr3t-пароль-Ω"

SAVE = """
mutation($input: MailSettingsInput!) {
  saveMailSettings(input: $input) {
    settings { provider smtpHost port useSsl security address hasPassword senderName senderEmail
               account { id } }
    account { id provider smtpHost port useSsl security address hasPassword senderName senderEmail }
    errors { field message code }
    warnings { field message code }
  }
}"""
TAB_SETTINGS = """{ mailTab { settings { provider smtpHost port useSsl security address hasPassword
  senderName senderEmail account { id address } } } }"""
ACCOUNTS = "query($limit: Int!, $offset: Int!) { emailAccounts(limit: $limit, offset: $offset) { id address smtpHost hasPassword } emailAccountCount }"
PROGRAM_SETTINGS = "{ programSettings { group key title value } }"

YANDEX = {
    "provider": "YANDEX",
    "address": "shop@yandex.ru",
    "password": PASSWORD,
    "senderName": "Автозапчасти «Ромашка»",
}


async def save(gql: Any, lang: str | None = None, **fields: Any) -> dict[str, Any]:
    data = await gql(SAVE, {"input": fields}, lang=lang)
    payload: dict[str, Any] = data["saveMailSettings"]
    return payload


def codes(payload: dict[str, Any], key: str = "errors") -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload[key]]


async def test_unavailable_tab_refuses_and_writes_nothing(gql: Any) -> None:
    payload = await save(gql, **YANDEX)
    assert codes(payload) == [(None, "MAIL_TAB_UNAVAILABLE")]
    assert payload["settings"] is None
    assert await EmailAccount.all().count() == 0
    assert await ProgramSetting.all().count() == 0


async def test_yandex_preset_fills_host_port_ssl(gql: Any, tab_ready: None) -> None:
    payload = await save(gql, **YANDEX)
    assert payload["errors"] == []
    # Nothing to warn about but that no test letter of these settings was delivered yet.
    assert [w["code"] for w in payload["warnings"]] == ["NOT_TESTED"]
    settings = payload["settings"]
    assert settings == {
        "provider": "YANDEX",
        "smtpHost": "smtp.yandex.ru",
        "port": 465,
        "useSsl": True,
        "security": "SSL_TLS",
        "address": "shop@yandex.ru",
        "hasPassword": True,
        "senderName": "Автозапчасти «Ромашка»",
        "senderEmail": "shop@yandex.ru",
        "account": {"id": payload["account"]["id"]},
    }
    assert payload["account"]["hasPassword"] is True
    tab = (await gql(TAB_SETTINGS))["mailTab"]["settings"]
    assert tab["smtpHost"] == "smtp.yandex.ru"
    assert tab["account"] == {"id": payload["account"]["id"], "address": "shop@yandex.ru"}


async def test_given_values_override_the_preset(gql: Any, tab_ready: None) -> None:
    payload = await save(gql, **YANDEX, port=587)
    assert payload["errors"] == []
    assert (payload["settings"]["port"], payload["settings"]["security"]) == (587, "STARTTLS")


async def test_other_requires_host_port_and_ssl(gql: Any, tab_ready: None) -> None:
    payload = await save(gql, provider="OTHER", address="a@example.ru", password="x")
    assert set(codes(payload)) == {
        ("smtpHost", "REQUIRED"),
        ("port", "REQUIRED"),
        ("useSsl", "REQUIRED"),
    }
    ok = await save(
        gql,
        provider="OTHER",
        address="a@example.ru",
        password="x",
        smtpHost="mail.example.ru",
        port=587,
        useSsl=True,
    )
    assert ok["errors"] == []
    assert ok["settings"]["security"] == "STARTTLS"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"port": 465, "useSsl": False}, "useSsl"),
        ({"port": 465, "security": "STARTTLS"}, "security"),
        ({"port": 465, "security": "NONE"}, "security"),
        ({"port": 587, "security": "SSL_TLS"}, "security"),
        ({"port": 25, "security": "SSL_TLS"}, "security"),
    ],
)
async def test_combinations_known_to_fail_are_refused(
    gql: Any, tab_ready: None, fields: dict[str, Any], field: str
) -> None:
    payload = await save(gql, **{**YANDEX, **fields})
    assert codes(payload) == [(field, "INVALID")]
    assert payload["errors"][0]["message"]
    assert await EmailAccount.all().count() == 0


async def test_explicit_security_wins_over_use_ssl(gql: Any, tab_ready: None) -> None:
    payload = await save(gql, **YANDEX, port=587, useSsl=False, security="STARTTLS")
    assert payload["errors"] == []
    assert payload["settings"]["security"] == "STARTTLS"
    assert payload["settings"]["useSsl"] is True


async def test_password_over_plain_connection_is_saved_with_a_warning(
    gql: Any, tab_ready: None
) -> None:
    payload = await save(
        gql,
        provider="OTHER",
        address="a@example.ru",
        password="x",
        smtpHost="relay.example.ru",
        port=25,
        useSsl=False,
    )
    assert payload["errors"] == []
    assert payload["settings"]["security"] == "NONE"
    assert ("useSsl", "INSECURE_CONNECTION") in codes(payload, "warnings")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"address": "not an address"}, ("address", "INVALID")),
        ({"address": ""}, ("address", "REQUIRED")),
        ({"senderEmail": "x@"}, ("senderEmail", "INVALID")),
        ({"senderName": "Shop\r\nBcc: victim@example.com"}, ("senderName", "FORBIDDEN_CHARACTERS")),
        ({"senderName": "Shop\x00"}, ("senderName", "FORBIDDEN_CHARACTERS")),
        ({"address": "shop@yandex.ru\r\nRCPT TO:<x@y.z>"}, ("address", "FORBIDDEN_CHARACTERS")),
        ({"smtpHost": "smtp.yandex.ru\r\nQUIT"}, ("smtpHost", "FORBIDDEN_CHARACTERS")),
        ({"smtpHost": "smtp yandex.ru"}, ("smtpHost", "INVALID")),
        ({"smtpHost": "a" * 300}, ("smtpHost", "INVALID")),
        ({"port": 0}, ("port", "INVALID")),
        ({"port": 70000}, ("port", "INVALID")),
        ({"password": "abc\ndef"}, ("password", "FORBIDDEN_CHARACTERS")),
        ({"senderName": "Я" * 201}, ("senderName", "INVALID")),
    ],
)
async def test_bad_input_is_a_field_error_and_writes_nothing(
    gql: Any, tab_ready: None, fields: dict[str, Any], expected: tuple[str, str]
) -> None:
    payload = await save(gql, **{**YANDEX, **fields})
    assert codes(payload) == [expected]
    assert payload["settings"] is None
    assert await EmailAccount.all().count() == 0
    assert await ProgramSetting.all().count() == 0


async def test_several_errors_at_once(gql: Any, tab_ready: None) -> None:
    payload = await save(
        gql,
        provider="OTHER",
        address="bad",
        smtpHost="a b",
        port=0,
        useSsl=True,
        senderEmail="also bad",
        senderName="x\ny",
    )
    assert {field for field, _ in codes(payload)} == {
        "address",
        "smtpHost",
        "port",
        "senderEmail",
        "senderName",
    }


async def test_idn_addresses_and_hosts_are_stored_normalized(gql: Any, tab_ready: None) -> None:
    payload = await save(
        gql,
        provider="OTHER",
        address="Почта@ПРИМЕР.РФ",
        password="x",
        smtpHost="SMTP.Пример.РФ",
        port=465,
        useSsl=True,
    )
    assert payload["errors"] == []
    assert payload["settings"]["address"] == "Почта@пример.рф"
    assert payload["settings"]["smtpHost"] == "smtp.xn--e1afmkfd.xn--p1ai"


async def test_new_account_needs_a_password(gql: Any, tab_ready: None) -> None:
    fields = {k: v for k, v in YANDEX.items() if k != "password"}
    assert codes(await save(gql, **fields)) == [("password", "PASSWORD_REQUIRED")]
    assert codes(await save(gql, **fields, password="")) == [("password", "PASSWORD_REQUIRED")]
    assert codes(await save(gql, **fields, password=None)) == [("password", "PASSWORD_REQUIRED")]
    assert await EmailAccount.all().count() == 0


async def test_omitted_password_keeps_the_stored_one(gql: Any, tab_ready: None) -> None:
    first = await save(gql, **YANDEX)
    stored = (await EmailAccount.get(id=int(first["account"]["id"]))).password_encrypted
    fields = {k: v for k, v in YANDEX.items() if k != "password"}
    second = await save(gql, **{**fields, "senderName": "Новое имя"})
    assert second["errors"] == []
    assert second["account"]["id"] == first["account"]["id"]
    assert second["settings"]["hasPassword"] is True
    account = await EmailAccount.get(id=int(first["account"]["id"]))
    assert account.password_encrypted == stored
    assert account.sender_name == "Новое имя"


async def test_other_relay_may_have_no_password(gql: Any, tab_ready: None) -> None:
    payload = await save(
        gql,
        provider="OTHER",
        address="shop@corp.example.ru",
        password=None,
        smtpHost="relay.corp.example.ru",
        port=25,
        useSsl=False,
    )
    assert payload["errors"] == []
    assert payload["settings"]["hasPassword"] is False
    assert "INSECURE_CONNECTION" not in [w["code"] for w in payload["warnings"]]


async def test_password_is_encrypted_at_rest_and_decrypts(
    app: Any, gql: Any, tab_ready: None
) -> None:
    payload = await save(gql, **YANDEX)
    account = await EmailAccount.get(id=int(payload["account"]["id"]))
    assert account.password_encrypted
    assert PASSWORD not in account.password_encrypted
    box = app.state.runtime.box
    assert box.decrypt(account.password_encrypted) == PASSWORD


async def test_same_account_is_updated_and_a_new_address_adds_one(
    gql: Any, tab_ready: None
) -> None:
    first = await save(gql, **YANDEX)
    again = await save(gql, **{**YANDEX, "address": "SHOP@Yandex.RU"})
    assert again["account"]["id"] == first["account"]["id"]
    other = await save(gql, **{**YANDEX, "address": "sales@yandex.ru"})
    assert other["account"]["id"] != first["account"]["id"]
    assert await EmailAccount.all().count() == 2
    tab = (await gql(TAB_SETTINGS))["mailTab"]["settings"]
    assert tab["account"]["id"] == other["account"]["id"]
    assert tab["address"] == "sales@yandex.ru"


async def test_twenty_concurrent_saves_make_one_account(gql: Any, tab_ready: None) -> None:
    results = await asyncio.gather(
        *(save(gql, **{**YANDEX, "senderName": f"Имя {i}"}) for i in range(20))
    )
    assert all(r["errors"] == [] for r in results)
    assert len({r["account"]["id"] for r in results}) == 1
    assert await EmailAccount.all().count() == 1
    # Each save writes the account and the CRM settings together: whichever won last,
    # both say the same, and the settings point at the one account.
    account = await EmailAccount.get()
    settings = {
        row.key: row.value for row in await ProgramSetting.filter(group=mail_settings.EMAIL_GROUP)
    }
    assert settings["accountId"] == account.id
    assert settings["senderName"] == account.sender_name


async def test_failure_in_the_second_write_keeps_neither(
    gql: Any, tab_ready: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full while writing program settings")

    monkeypatch.setattr(mail_settings, "_write_program_settings", broken)
    response = await gql.post(SAVE, {"input": YANDEX})
    body = response.json()
    assert body["errors"]
    assert "disk full" not in response.text
    assert await EmailAccount.all().count() == 0
    assert await ProgramSetting.all().count() == 0


async def test_failure_on_update_keeps_the_previous_account(
    gql: Any, tab_ready: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    await save(gql, **YANDEX)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(mail_settings, "_write_program_settings", broken)
    await gql.post(SAVE, {"input": {**YANDEX, "senderName": "Другое", "password": "new"}})
    account = await EmailAccount.get()
    assert account.sender_name == "Автозапчасти «Ромашка»"


@pytest.mark.parametrize(
    ("fields", "warning"),
    [
        (
            {**YANDEX, "senderEmail": "noreply@romashka.ru"},
            ("senderEmail", "SENDER_DIFFERS_FROM_ADDRESS"),
        ),
        (
            {
                "provider": "GOOGLE",
                "address": "shop@gmail.com",
                "password": "p",
                "senderEmail": "x@romashka.ru",
            },
            ("senderEmail", "SENDER_DIFFERS_FROM_ADDRESS"),
        ),
        (
            {
                "provider": "MAIL_RU",
                "address": "shop@mail.ru",
                "password": "p",
                "senderEmail": "x@romashka.ru",
            },
            ("senderEmail", "SENDER_DIFFERS_FROM_ADDRESS"),
        ),
        (
            {
                "provider": "RAMBLER",
                "address": "shop@rambler.ru",
                "password": "p",
                "senderEmail": "x@romashka.ru",
            },
            ("senderEmail", "SENDER_DIFFERS_FROM_ADDRESS"),
        ),
        (
            {"provider": "OUTLOOK", "address": "shop@outlook.com", "password": "p"},
            ("provider", "PASSWORD_LOGIN_DISABLED"),
        ),
        (
            {"provider": "GOOGLE", "address": "shop@yandex.ru", "password": "p"},
            ("provider", "PROVIDER_MISMATCH"),
        ),
        (
            {"provider": "TRADESOFT", "address": "shop@romashka.ru", "password": "p"},
            ("smtpHost", "HOST_NOT_CONFIGURED"),
        ),
    ],
)
async def test_warnings_do_not_block_save(
    gql: Any, tab_ready: None, fields: dict[str, Any], warning: tuple[str, str]
) -> None:
    payload = await save(gql, **fields)
    assert payload["errors"] == []
    assert payload["settings"] is not None
    assert warning in codes(payload, "warnings")


async def test_language_changes_messages_never_codes(gql: Any, tab_ready: None) -> None:
    fields: dict[str, Any] = {**YANDEX, "port": 465, "useSsl": False, "senderEmail": "x"}
    ru = await save(gql, **fields)
    en = await save(gql, lang="en", **fields)
    assert codes(ru) == codes(en)
    assert all(any("\u0400" <= c <= "\u04ff" for c in e["message"]) for e in ru["errors"])
    assert all(e["message"].isascii() for e in en["errors"])


async def test_email_accounts_newest_first_and_paged(gql: Any, tab_ready: None) -> None:
    for index in range(5):
        assert (await save(gql, **{**YANDEX, "address": f"shop{index}@yandex.ru"}))["errors"] == []
    page = await gql(ACCOUNTS, {"limit": 2, "offset": 0})
    assert [a["address"] for a in page["emailAccounts"]] == ["shop4@yandex.ru", "shop3@yandex.ru"]
    assert page["emailAccountCount"] == 5
    rest = await gql(ACCOUNTS, {"limit": 10, "offset": 4})
    assert [a["address"] for a in rest["emailAccounts"]] == ["shop0@yandex.ru"]


async def test_program_settings_group_as_the_erp_shows_it(gql: Any, tab_ready: None) -> None:
    account = (await save(gql, **YANDEX))["account"]
    rows = {row["key"]: row for row in (await gql(PROGRAM_SETTINGS))["programSettings"]}
    assert rows["smtpHost"] == {
        "group": "CRM/Notifications/Email",
        "key": "smtpHost",
        "title": "SMTP-сервер",
        "value": "smtp.yandex.ru",
    }
    assert rows["port"]["value"] == 465
    assert rows["accountId"]["value"] == int(account["id"])
    assert "password" not in rows
    english = {
        row["key"]: row for row in (await gql(PROGRAM_SETTINGS, lang="en"))["programSettings"]
    }
    assert english["port"]["title"] == "Port"


async def test_viewer_cannot_save(viewer_gql: Any, tab_ready: None) -> None:
    response = await viewer_gql.post(SAVE, {"input": YANDEX})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await EmailAccount.all().count() == 0


async def test_password_never_leaves_the_server(
    app: Any, gql: Any, tab_ready: None, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Every response, every log record and the raw database are free of the password."""
    caplog.set_level(logging.DEBUG)
    bodies = []
    for fields in [
        YANDEX,
        {**YANDEX, "senderName": "a\nb"},
        {**YANDEX, "port": 465, "useSsl": False},
        {**YANDEX, "address": PASSWORD},
        {"provider": "OTHER", "address": "a@b.ru", "password": PASSWORD},
    ]:
        bodies.append((await gql.post(SAVE, {"input": fields})).text)
    bodies.append((await gql.post(SAVE, {"input": {"password": PASSWORD}})).text)
    bodies.append((await gql.post(SAVE, {"input": {**YANDEX, "unknown": 1}})).text)
    bodies.append((await gql.post(TAB_SETTINGS)).text)
    bodies.append((await gql.post(ACCOUNTS, {"limit": 10, "offset": 0})).text)
    bodies.append((await gql.post(PROGRAM_SETTINGS)).text)
    for body in bodies:
        assert PASSWORD not in body
    for record in caplog.records:
        assert PASSWORD not in record.getMessage()
        assert PASSWORD not in str(record.args)
    if settings.db_url.startswith("sqlite://"):
        database = Path(settings.db_url.removeprefix("sqlite://"))
        files = list(database.parent.glob(database.name + "*"))  # with -wal/-journal if any
        assert files
        for file in files:
            assert PASSWORD.encode() not in file.read_bytes()


@pytest.mark.parametrize("group", ["x" * 201, "CRM\x00Email", "CRM/Notifications/Email\n"])
async def test_odd_settings_groups_are_simply_empty(gql: Any, group: str) -> None:
    data = await gql("query($g: String!) { programSettings(group: $g) { key } }", {"g": group})
    assert data == {"programSettings": []}
