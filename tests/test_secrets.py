"""Passwords at rest: the embedded key file, its permissions, rotation under a running server."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from config import load_settings
from services.secrets import PasswordBox, add_key_to_file, key_file_path, load_password_box


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
