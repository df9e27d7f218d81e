"""The `mailtab` command as an operator uses it: real processes, a temporary data folder."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

MAILTAB = str(Path(sys.executable).with_name("mailtab"))
ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [MAILTAB, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")}
    return {**clean, "MAILTAB_DATA_DIR": str(tmp_path / "data")}


def test_export_schema_prints_the_committed_sdl(env: dict[str, str]) -> None:
    assert run("export-schema", env=env).stdout == (ROOT / "schema.graphql").read_text("utf-8")


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("MAILTAB_DATABASE_URL", "mysql://root@localhost/x", "MAILTAB_DATABASE_URL"),
        ("MAILTAB_DATABASE_URL", "postgres://u:pw@host:notaport/db", "MAILTAB_DATABASE_URL"),
        ("MAILTAB_SMTP_TIMEOUT", "-1", "MAILTAB_SMTP_TIMEOUT"),
        ("MAILTAB_SECRET_KEY", "not-a-key", "MAILTAB_SECRET_KEY"),
        ("MAILTAB_TEST_EMAIL_RATE_LIMIT", "lots", "MAILTAB_TEST_EMAIL_RATE_LIMIT"),
        ("MAILTAB_SMTP_CA_FILE", "/nonexistent/ca.pem", "MAILTAB_SMTP_CA_FILE"),
        ("MAILTAB_SMTP_DENY_NETWORKS", "10.0.0.0/33", "MAILTAB_SMTP_DENY_NETWORKS"),
        ("MAILTAB_SMTP_CA_FILE", "/etc/hostname", "MAILTAB_SMTP_CA_FILE"),
        ("MAILTAB_PROVIDERS_FILE", "/etc/hostname", "MAILTAB_PROVIDERS_FILE"),
        ("MAILTAB_REDIS_URL", "reddis://:REDIS-PASSWORD-1@127.0.0.1/0", "MAILTAB_REDIS_URL"),
        ("MAILTAB_SMTP_TIMEOUT", "60", "MAILTAB_OPERATION_TIMEOUT"),
        ("MAILTAB_LOG_FORMAT", "xml", "MAILTAB_LOG_FORMAT"),
        ("MAILTAB_SMTP_ALLOW_NETWORKS", "0.0.0.0/0", "MAILTAB_SMTP_ALLOW_NETWORKS"),
        ("MAILTAB_CORS_ORIGINS", "*", "MAILTAB_CORS_ORIGINS"),
        ("MAILTAB_PASSWORD_HELP_URL", "javascript:alert(1)", "MAILTAB_PASSWORD_HELP_URL"),
        ("MAILTAB_TRADESOFT_SMTP_HOST", "a b", "MAILTAB_TRADESOFT_SMTP_HOST"),
        ("MAILTAB_TEST_EMAIL_RATE_LIMIT", "0/minute", "MAILTAB_TEST_EMAIL_RATE_LIMIT"),
    ],
)
def test_bad_configuration_is_one_line_not_a_traceback(
    env: dict[str, str], variable: str, value: str, named: str
) -> None:
    result = run("migrate", env={**env, variable: value}, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr
    assert "pw" not in result.stderr or variable != "MAILTAB_DATABASE_URL"
    assert "REDIS-PASSWORD" not in result.stderr


def test_unusable_data_folder_is_one_line(env: dict[str, str]) -> None:
    result = run("serve", env={**env, "MAILTAB_DATA_DIR": "/proc/mailtab-nope"}, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "mailtab: No such file or directory: /proc/mailtab-nope"
    ]


def test_token_names_are_single_printable_lines(env: dict[str, str]) -> None:
    run("migrate", env=env)
    result = run("token", "create", "--role", "admin", "--name", "evil\nname", env=env, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "mt_" not in result.stdout


def test_token_create_prints_the_token_alone_on_the_last_line(env: dict[str, str]) -> None:
    run("migrate", env=env)
    result = run("token", "create", "--role", "viewer", "--name", "mobile app", env=env)
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("mt_") and " " not in token
    taken = run("token", "create", "--role", "admin", "--name", "mobile app", env=env, check=False)
    assert taken.returncode == 1
    assert "already named" in taken.stderr
    listed = run("token", "list", env=env).stdout
    assert "viewer" in listed and "mobile app" in listed and token not in listed
    assert "revoked 1 token" in run("token", "revoke", "mobile app", env=env).stdout


def test_unreachable_database_is_one_line(env: dict[str, str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(
        "migrate",
        env={
            **env,
            "MAILTAB_DATABASE_URL": f"postgres://u@127.0.0.1:{port}/x",
            "MAILTAB_DB_TIMEOUT": "2",
        },
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "database" in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    env: dict[str, str], *args: str
) -> Iterator[tuple[subprocess.Popen[str], int, list[str]]]:
    """`mailtab serve` on a free port, its output up to "startup complete"; stopped after."""
    port = free_port()
    process = subprocess.Popen(
        [MAILTAB, "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + 30  # a guard against a hang, not a measurement
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "Uvicorn running" in line:  # logged once the socket listens
            break
    try:
        yield process, port, lines
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stdout.close()


@pytest.fixture
def served(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], int, list[str]]]:
    with serving(env) as running:
        yield running


def test_first_start_migrates_prints_a_token_and_serves(
    served: tuple[subprocess.Popen[str], int, list[str]], env: dict[str, str]
) -> None:
    process, port, lines = served
    assert process.poll() is None, "\n".join(lines)
    token = next(line for line in lines if line.startswith("mt_"))
    data_dir = Path(env["MAILTAB_DATA_DIR"])
    assert (data_dir / "mailtab.sqlite3").exists()
    key_file = data_dir / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    output = "\n".join(lines)
    assert str(key_file) in output
    assert key not in output
    base = f"http://127.0.0.1:{port}"
    page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    query = {"query": "{ mailTab { available missing } }"}
    assert httpx.post(f"{base}/graphql", json=query).status_code == 401
    answer = httpx.post(f"{base}/graphql", json=query, headers={"Authorization": f"Bearer {token}"})
    assert answer.json() == {
        "data": {
            "mailTab": {"available": False, "missing": ["OUR_FIRMS", "OUTLETS_AND_WAREHOUSES"]}
        }
    }


def test_second_start_prints_no_token(env: dict[str, str]) -> None:
    run("migrate", env=env)
    run("token", "create", "--role", "admin", env=env)
    with serving(env) as (process, _, lines):
        assert process.poll() is None, "\n".join(lines)
    assert not any(line.startswith("mt_") for line in lines)


def test_rotate_key_re_encrypts_under_the_newest_key(env: dict[str, str], tmp_path: Path) -> None:
    """Stored passwords survive a rotation, and afterwards only the new key is needed."""
    old = Fernet.generate_key().decode()
    new = Fernet.generate_key().decode()
    database = f"sqlite://{tmp_path / 'rotate.sqlite3'}"
    base_env = {**env, "MAILTAB_DATABASE_URL": database}
    run("migrate", env=base_env)
    script = (
        "import asyncio, sys\n"
        "from tortoise import Tortoise\n"
        "from models.db import tortoise_config\n"
        "from models import EmailAccount\n"
        "from cryptography.fernet import Fernet\n"
        "async def main():\n"
        f"    await Tortoise.init(config=tortoise_config({database!r}))\n"
        "    if sys.argv[1] == 'write':\n"
        f"        token = Fernet({old!r}).encrypt('пароль'.encode()).decode()\n"
        "        await EmailAccount.create(provider='OTHER', smtp_host='h', port=25, use_ssl=False,"
        " security='NONE', address='a@b.ru', address_key='a@b.ru', sender_email='a@b.ru',"
        " password_encrypted=token)\n"
        "    else:\n"
        "        account = await EmailAccount.get()\n"
        f"        print(Fernet({new!r}).decrypt(account.password_encrypted.encode()).decode())\n"
        "    await Tortoise.close_connections()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", script, "write"], env=base_env, check=True, timeout=60)
    result = run("rotate-key", env={**base_env, "MAILTAB_SECRET_KEY": f"{new},{old}"})
    assert "re-encrypted 1 password" in result.stdout
    check = subprocess.run(
        [sys.executable, "-c", script, "read"],
        env=base_env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert check.stdout.strip() == "пароль"


def test_rotate_key_with_the_embedded_key_file(env: dict[str, str]) -> None:
    run("migrate", env=env)
    key_file = Path(env["MAILTAB_DATA_DIR"]) / "secret.key"
    run("rotate-key", env=env)
    first = key_file.read_text().split()
    run("rotate-key", env=env)
    keys = key_file.read_text().split()
    assert len(keys) == 2
    assert keys[1:] == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_serve_refuses_an_unmigrated_server_database(env: dict[str, str]) -> None:
    import asyncio
    import secrets as random

    from tests.conftest import POSTGRES_ADMIN_URL, _postgres

    name = f"mailtab_cli_{random.token_hex(4)}"
    asyncio.run(_postgres(f'CREATE DATABASE "{name}"'))
    try:
        url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        result = run(
            "serve",
            "--port",
            str(free_port()),
            env={
                **env,
                "MAILTAB_DATABASE_URL": url,
                "MAILTAB_SECRET_KEY": Fernet.generate_key().decode(),
            },
            check=False,
        )
        assert result.returncode == 1
        assert "mailtab migrate" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        asyncio.run(_postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_token_create_without_a_name_never_collides(env: dict[str, str]) -> None:
    run("migrate", env=env)
    tokens = []
    for _ in range(3):
        result = run("token", "create", "--role", "admin", env=env)
        tokens.append(result.stdout.strip().splitlines()[-1])
    assert len(set(tokens)) == 3 and all(token.startswith("mt_") for token in tokens)
    names = [line.split("\t")[-1] for line in run("token", "list", env=env).stdout.splitlines()]
    assert len(set(names)) == 3
    assert all(name.startswith("admin token ") for name in names)


def test_rotate_key_re_encrypts_oauth2_tokens(env: dict[str, str], tmp_path: Path) -> None:
    """A stored OAuth2 refresh token survives `mailtab rotate-key` like a password."""
    old = Fernet.generate_key().decode()
    new = Fernet.generate_key().decode()
    database = f"sqlite://{tmp_path / 'rotate-oauth.sqlite3'}"
    base_env = {**env, "MAILTAB_DATABASE_URL": database}
    run("migrate", env=base_env)
    script = (
        "import asyncio, sys\n"
        "from tortoise import Tortoise, timezone\n"
        "from models.db import tortoise_config\n"
        "from models import OAuthConnection\n"
        "from cryptography.fernet import Fernet\n"
        "async def main():\n"
        f"    await Tortoise.init(config=tortoise_config({database!r}))\n"
        "    if sys.argv[1] == 'write':\n"
        f"        box = Fernet({old!r})\n"
        "        await OAuthConnection.create(provider='OUTLOOK', address='a@outlook.com',"
        " address_key='a@outlook.com', status='CONNECTED', connected_at=timezone.now(),"
        " refresh_token_encrypted=box.encrypt(b'refresh-1').decode(),"
        " access_token_encrypted=box.encrypt(b'access-1').decode())\n"
        "    else:\n"
        "        row = await OAuthConnection.get()\n"
        f"        box = Fernet({new!r})\n"
        "        print(box.decrypt(row.refresh_token_encrypted.encode()).decode(),"
        " box.decrypt(row.access_token_encrypted.encode()).decode())\n"
        "    await Tortoise.close_connections()\n"
        "asyncio.run(main())\n"
    )
    subprocess.run([sys.executable, "-c", script, "write"], env=base_env, check=True, timeout=60)
    result = run("rotate-key", env={**base_env, "MAILTAB_SECRET_KEY": f"{new},{old}"})
    assert "tokens of 1 OAuth2 connection(s)" in result.stdout
    assert "refresh-1" not in result.stdout + result.stderr
    check = subprocess.run(
        [sys.executable, "-c", script, "read"],
        env=base_env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert check.stdout.strip() == "refresh-1 access-1"
