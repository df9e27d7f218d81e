"""Passwords at rest: the embedded key file, its permissions, rotation under a running server."""

from __future__ import annotations

import logging
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from config import load_settings
from models import EmailAccount
from services.errors import KeyLost
from services.secrets import (
    KeyCheck,
    PasswordBox,
    add_key_to_file,
    check_stored_passwords,
    key_file_path,
    load_password_box,
)


def test_first_start_creates_an_owner_only_key_file_and_logs_only_its_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="")
    with caplog.at_level(logging.INFO):
        box = load_password_box(settings)
    path = key_file_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_text().strip()
    assert str(path) in caplog.text
    assert key not in caplog.text
    assert key not in repr(box)
    assert box.decrypt(box.encrypt("пароль")) == "пароль"


def test_a_running_server_reads_passwords_rotated_under_a_new_key(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="")
    running = load_password_box(settings)
    old_token = running.encrypt("old")
    add_key_to_file(settings)  # what `mailtab rotate-key` does first
    rotating = load_password_box(settings)
    new_token = rotating.rotate(old_token)
    assert running.decrypt(new_token) == "old"
    assert running.decrypt(rotating.encrypt("new")) == "new"


def test_configured_keys_decrypt_with_any_and_encrypt_with_the_first() -> None:
    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    old = PasswordBox([second]).encrypt("x")
    box = PasswordBox([first, second])
    assert box.decrypt(old) == "x"
    assert PasswordBox([first]).decrypt(box.encrypt("y")) == "y"
    assert PasswordBox([first]).decrypt(old) is None


def test_a_server_database_needs_a_configured_key(tmp_path: Path) -> None:
    from config import ConfigError

    settings = load_settings(data_dir=tmp_path, database_url="postgres://u@127.0.0.1:5432/x")
    with pytest.raises(ConfigError, match="MAILTAB_SECRET_KEY"):
        load_password_box(settings)


# --- passwords that no configured key opens ---------------------------------------------------

SAVE = """mutation($input: MailSettingsInput!) {
  saveMailSettings(input: $input) { account { id hasPassword passwordUnreadable } errors { code } }
}"""
READ = """{
  emailAccounts { id hasPassword passwordUnreadable }
  mailTab { settings { hasPassword passwordUnreadable account { hasPassword passwordUnreadable } } }
}"""
SEND_SAVED = """mutation {
  sendTestEmail(input: {recipient: "buyer@example.org"}) { delivered errors { field code } }
}"""
YANDEX = {"provider": "YANDEX", "address": "shop@yandex.ru", "password": "app-пароль-1"}


async def test_a_password_no_key_opens_is_reported_as_to_be_entered_again(
    gql: Any, tab_ready: None, caplog: pytest.LogCaptureFixture
) -> None:
    saved = (await gql(SAVE, {"input": YANDEX}))["saveMailSettings"]
    assert saved["account"] == {
        "id": saved["account"]["id"],
        "hasPassword": True,
        "passwordUnreadable": False,
    }
    readable = await gql(READ)
    assert readable["emailAccounts"][0]["hasPassword"] is True
    assert readable["mailTab"]["settings"]["passwordUnreadable"] is False

    # As if the server's key had been replaced: the stored ciphertext is another key's.
    foreign = Fernet(Fernet.generate_key()).encrypt(b"app-password").decode()
    account_id = int(saved["account"]["id"])
    await EmailAccount.filter(id=account_id).update(password_encrypted=foreign)
    unreadable = await gql(READ)
    state = {"hasPassword": False, "passwordUnreadable": True}
    assert unreadable["emailAccounts"] == [{"id": str(account_id), **state}]
    assert unreadable["mailTab"]["settings"] == {**state, "account": state}

    with caplog.at_level(logging.WARNING, logger="mailtab.secrets"):
        sent = (await gql(SEND_SAVED))["sendTestEmail"]
    assert sent == {
        "delivered": False,
        "errors": [{"field": "password", "code": "PASSWORD_REQUIRED"}],
    }
    failures = [r for r in caplog.records if r.name == "mailtab.secrets"]
    assert len(failures) == 1
    assert f"email account {account_id} " in failures[0].getMessage()
    # (Tortoise's SQL debug lines, on when an earlier test logged at DEBUG, are not ours.)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("mailtab")]
    assert not any(foreign in message for message in ours)

    # Entered again, it is readable again.
    again = (await gql(SAVE, {"input": YANDEX}))["saveMailSettings"]
    assert again["account"]["hasPassword"] is True
    assert again["account"]["passwordUnreadable"] is False


async def test_no_stored_password_is_neither_had_nor_unreadable(gql: Any, tab_ready: None) -> None:
    relay = {"provider": "OTHER", "smtpHost": "relay.corp.local", "port": 25, "useSsl": False}
    saved = await gql(SAVE, {"input": {**relay, "address": "shop@corp.local", "password": None}})
    account = saved["saveMailSettings"]["account"]
    assert (account["hasPassword"], account["passwordUnreadable"]) == (False, False)


async def test_the_start_up_check_tries_only_the_most_recent_passwords(app: Any) -> None:
    mine, other = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    for n, key in enumerate([mine, other, other]):
        address = f"user{n}@example.ru"
        await EmailAccount.create(
            provider="OTHER",
            smtp_host="smtp.example.ru",
            port=465,
            use_ssl=True,
            security="SSL_TLS",
            address=address,
            address_key=address,
            sender_email=address,
            password_encrypted=Fernet(key.encode()).encrypt(b"x").decode(),
        )
    await EmailAccount.create(
        provider="OTHER",
        smtp_host="relay.corp.local",
        port=25,
        use_ssl=False,
        security="NONE",
        address="relay@corp.local",
        address_key="relay@corp.local",
        sender_email="relay@corp.local",
        password_encrypted=None,
    )
    box = PasswordBox([mine])
    assert await check_stored_passwords(box, sample=2) == KeyCheck(
        stored=3, checked=2, unreadable=2
    )
    assert await check_stored_passwords(box) == KeyCheck(stored=3, checked=3, unreadable=2)
    assert await check_stored_passwords(PasswordBox([other, mine])) == KeyCheck(3, 3, 0)


def test_readability_is_remembered_until_the_keys_change(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="")
    running = load_password_box(settings)
    foreign_key = Fernet.generate_key().decode()
    token = Fernet(foreign_key.encode()).encrypt(b"x").decode()
    assert running.readable(token) is False
    # The key file now also holds the foreign key: a decrypt reads it again and opens it.
    path = key_file_path(settings)
    path.write_text(path.read_text() + foreign_key + "\n")
    assert running.decrypt(token) == "x"
    assert running.readable(token) is True


def test_a_lost_key_file_is_not_replaced_while_passwords_are_stored(tmp_path: Path) -> None:
    database = tmp_path / "mailtab.sqlite3"
    settings = load_settings(data_dir=tmp_path, database_url="")
    sqlite3.connect(database).close()  # an empty database: a key is made
    assert load_password_box(settings).encrypt("x")
    key_file_path(settings).unlink()
    with sqlite3.connect(database) as connection:  # the one column the check reads
        connection.execute("CREATE TABLE email_account (password_encrypted TEXT)")
        connection.execute("INSERT INTO email_account VALUES (NULL), (''), ('gAAAA-1')")
    connection.close()
    with pytest.raises(KeyLost, match=r"holds 1 stored password\(s\)"):
        load_password_box(settings)
    assert not key_file_path(settings).exists()
