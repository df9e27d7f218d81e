"""Start-up as an operator meets it: unusable database files, wrong advice, lost keys.

Every command runs as a real process with a timeout, so a start-up that hangs fails the
test instead of the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.conftest import POSTGRES_ADMIN_URL
from tests.test_cli import free_port, run, serving


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")}
    return {**clean, "MAILTAB_DATA_DIR": str(tmp_path / "data")}


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Folders and files nobody may write, root included (root ignores mode bits)."""
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None:
            pytest.skip("running as root without chattr: cannot make a folder read-only")
        for path in paths:
            if subprocess.run([chattr, "+i", str(path)], check=False).returncode:
                pytest.skip("chattr +i is not supported on this file system")
        try:
            yield
        finally:
            for path in paths:
                subprocess.run([chattr, "-i", str(path)], check=True)
        return
    modes = {path: path.stat().st_mode for path in paths}
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        for path, mode in modes.items():
            path.chmod(stat.S_IMODE(mode))


# --- the SQLite file's folder missing or read-only -----------------------------------------


@pytest.mark.parametrize("command", ["migrate", "serve", "token list"])
def test_a_missing_database_folder_is_one_line_naming_it(
    env: dict[str, str], tmp_path: Path, command: str
) -> None:
    folder = tmp_path / "no" / "such" / "folder"
    result = run(
        *command.split(),
        env={**env, "MAILTAB_DATABASE_URL": f"sqlite://{folder}/x.db"},
        check=False,
    )
    assert result.returncode == 1
    assert str(folder) in one_line(result)
    assert not folder.exists()


@pytest.mark.parametrize("command", ["migrate", "serve"])
def test_a_read_only_empty_data_folder_is_one_line_naming_it(
    env: dict[str, str], command: str
) -> None:
    data = Path(env["MAILTAB_DATA_DIR"])
    data.mkdir()
    with read_only(data):
        result = run(*command.split(), env=env, check=False)
    assert result.returncode == 1
    assert str(data) in one_line(result)


@pytest.mark.parametrize("command", ["migrate", "serve", "token list"])
def test_a_read_only_database_is_one_line_naming_it(env: dict[str, str], command: str) -> None:
    run("migrate", env=env)
    run("token", "create", "--role", "admin", env=env)
    data = Path(env["MAILTAB_DATA_DIR"])
    database = data / "mailtab.sqlite3"
    with read_only(data, database):
        result = run(*command.split(), env=env, check=False)
    assert result.returncode == 1
    assert str(data) in one_line(result)


def test_the_database_file_is_created_owner_only(env: dict[str, str]) -> None:
    run("migrate", env=env)
    database = Path(env["MAILTAB_DATA_DIR"]) / "mailtab.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_an_existing_embedded_database_is_made_owner_only(env: dict[str, str]) -> None:
    run("migrate", env=env)
    database = Path(env["MAILTAB_DATA_DIR"]) / "mailtab.sqlite3"
    database.chmod(0o644)
    with serving(env) as (process, port, lines):
        assert process.poll() is None, "\n".join(lines)
        assert stat.S_IMODE(database.stat().st_mode) == 0o600
        # The server connects on its first request; SQLite then creates the WAL files.
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        for suffix in ("-wal", "-shm"):
            companion = database.with_name(database.name + suffix)
            assert stat.S_IMODE(companion.stat().st_mode) == 0o600, suffix
    assert any(str(database) in line for line in lines)


# --- the advice when PostgreSQL is down or has no such database ----------------------------


def server_database(env: dict[str, str], url: str) -> dict[str, str]:
    return {
        **env,
        "MAILTAB_DATABASE_URL": url,
        "MAILTAB_SECRET_KEY": Fernet.generate_key().decode(),
        "MAILTAB_DB_TIMEOUT": "2",
    }


@pytest.mark.parametrize("command", ["serve", "migrate", "token list"])
def test_unreachable_postgres_is_named_so_not_missing_migrations(
    env: dict[str, str], command: str
) -> None:
    url = f"postgres://mailtab@127.0.0.1:{free_port()}/mailtab"
    result = run(*command.split(), env=server_database(env, url), check=False)
    assert result.returncode == 1
    line = one_line(result)
    assert "database unreachable" in line
    assert "migrat" not in line


@pytest.mark.parametrize("command", ["serve", "migrate", "token list"])
def test_a_missing_postgres_database_is_named_so(env: dict[str, str], command: str) -> None:
    name = f"mailtab_missing_{os.getpid()}"
    url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    result = run(*command.split(), env=server_database(env, url), check=False)
    assert result.returncode == 1
    line = one_line(result)
    assert f"{name!r}" in line and "does not exist" in line
    assert "lacks migrations" not in line


# --- several workers without a shared rate limit ----------------------------------------------


def test_several_workers_without_redis_warn_that_the_rate_limit_multiplies(
    env: dict[str, str],
) -> None:
    with serving(env, "--workers", "2") as (process, _, lines):
        assert process.poll() is None, "\n".join(lines)
    warnings = [line for line in lines if "MAILTAB_REDIS_URL" in line]
    assert len(warnings) == 1, "\n".join(lines)
    assert "WARNING" in warnings[0] and "--workers 2" in warnings[0]


def test_one_worker_does_not_warn_about_redis(env: dict[str, str]) -> None:
    with serving(env) as (process, _, lines):
        assert process.poll() is None, "\n".join(lines)
    assert not any("MAILTAB_REDIS_URL" in line for line in lines), "\n".join(lines)


# --- a lost or wrong key for stored passwords -------------------------------------------------


def store_passwords(database: Path, key: str, count: int) -> None:
    """``count`` accounts whose passwords are encrypted under ``key``, written as a save would."""
    box = Fernet(key.encode())
    with contextlib.closing(sqlite3.connect(database)) as connection:
        for n in range(count):
            address = f"user{n}@example.ru"
            connection.execute(
                "INSERT INTO email_account (provider, smtp_host, port, use_ssl, security, address,"
                " address_key, sender_email, password_encrypted, created_at, updated_at)"
                " VALUES ('OTHER', 'smtp.example.ru', 465, 1, 'SSL_TLS', ?, ?, ?, ?,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                (address, address, address, box.encrypt(b"app-password").decode()),
            )
        connection.commit()


def test_a_lost_key_file_with_stored_passwords_refuses_to_start(env: dict[str, str]) -> None:
    run("migrate", env=env)
    run("rotate-key", env=env)  # makes the embedded key file
    data = Path(env["MAILTAB_DATA_DIR"])
    key_file = data / "secret.key"
    store_passwords(data / "mailtab.sqlite3", key_file.read_text().strip(), 2)
    key_file.unlink()
    result = run("serve", "--port", str(free_port()), env=env, check=False)
    assert result.returncode == 1
    line = one_line(result)
    assert str(key_file) in line and "2 stored password" in line and "rotate-key" in line
    assert not key_file.exists(), "a new key must not replace the lost one silently"


def test_a_new_key_file_is_made_while_no_password_is_stored(env: dict[str, str]) -> None:
    run("migrate", env=env)
    with serving(env) as (process, _, lines):
        assert process.poll() is None, "\n".join(lines)
    assert (Path(env["MAILTAB_DATA_DIR"]) / "secret.key").exists()


def test_a_wrong_key_is_a_loud_warning_naming_the_count(env: dict[str, str]) -> None:
    old, wrong = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    run("migrate", env=env)
    run("token", "create", "--role", "admin", env=env)
    store_passwords(Path(env["MAILTAB_DATA_DIR"]) / "mailtab.sqlite3", old, 3)
    with serving({**env, "MAILTAB_SECRET_KEY": wrong}) as (process, _, lines):
        assert process.poll() is None, "\n".join(lines)
    warnings = [line for line in lines if "cannot be decrypted" in line]
    assert len(warnings) == 1, "\n".join(lines)
    assert "WARNING" in warnings[0] and "3 of 3 stored passwords" in warnings[0]
    assert "MAILTAB_SECRET_KEY" in warnings[0]
    assert wrong not in "\n".join(lines)


def test_the_right_key_gives_no_warning(env: dict[str, str]) -> None:
    key = Fernet.generate_key().decode()
    run("migrate", env=env)
    run("token", "create", "--role", "admin", env=env)
    store_passwords(Path(env["MAILTAB_DATA_DIR"]) / "mailtab.sqlite3", key, 1)
    with serving({**env, "MAILTAB_SECRET_KEY": f"{Fernet.generate_key().decode()},{key}"}) as (
        process,
        _,
        lines,
    ):
        assert process.poll() is None, "\n".join(lines)
    assert not any("cannot be decrypted" in line for line in lines), "\n".join(lines)


UVICORN_FACTORY = [sys.executable, "-m", "uvicorn", "--factory", "app:app_from_environment"]


def test_the_asgi_factory_also_refuses_a_missing_database_folder(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "no" / "such"
    result = subprocess.run(
        [*UVICORN_FACTORY, "--port", str(free_port())],
        env={**env, "MAILTAB_DATABASE_URL": f"sqlite://{folder}/x.db"},
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert f"the folder of the SQLite database does not exist: {folder}" in result.stderr
