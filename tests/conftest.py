"""Shared fixtures: a fresh database per run, the real app over httpx, tokens.

The database is chosen by ``MAILTAB_TEST_DATABASE``: ``sqlite`` (default: a
file in a temporary folder) or ``postgres`` (a new database on the server at
``MAILTAB_TEST_POSTGRES_URL``, default ``postgres://postgres@127.0.0.1:5432/postgres``,
dropped at the end of the run). Tables are emptied between tests.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet

from app import create_app
from config import Settings, load_settings
from models import Firm, Outlet, OutletKind, Role
from models.db import migrate_database
from services.tokens import create_token
from tests.smtpd import Certificates, make_certificates

BACKEND = os.environ.get("MAILTAB_TEST_DATABASE", "sqlite")
POSTGRES_ADMIN_URL = os.environ.get(
    "MAILTAB_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
SECRET_KEY = Fernet.generate_key().decode()


def pytest_report_header() -> str:
    return f"mailtab test database: {BACKEND}"


async def _postgres(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    if BACKEND == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        await migrate_database(url)
        yield url
        return
    if BACKEND != "postgres":
        raise pytest.UsageError(f"MAILTAB_TEST_DATABASE must be sqlite or postgres, not {BACKEND}")
    name = f"mailtab_test_{os.getpid()}_{secrets.token_hex(4)}"
    await _postgres(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    try:
        await migrate_database(url)
        yield url
    finally:
        await _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": SECRET_KEY,
        **overrides,
    }
    return load_settings(**values)


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A test CA and server certificates; the app under test trusts the CA."""
    return make_certificates(tmp_path_factory.mktemp("smtp-certs"))


@pytest.fixture(scope="session")
def settings(database_url: str, data_dir: Path, certificates: Certificates) -> Settings:
    return make_settings(database_url, data_dir, smtp_ca_file=certificates.ca_file, smtp_timeout=3)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def tab_ready(app: Any) -> None:
    """The Mail tab's prerequisites: one of "Our firms" and one of its warehouses."""
    firm = await Firm.create(name="ООО Ромашка", inn="7707083893")
    await Outlet.create(firm=firm, name="Склад", kind=OutletKind.WAREHOUSE)


@pytest.fixture(autouse=True)
async def clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Empty every table before a test that uses the database."""
    if "app" in request.fixturenames:
        from tortoise.contrib.test import truncate_all_models

        await truncate_all_models()
    yield


@pytest.fixture
async def admin_token(app: Any) -> str:
    return (await create_token(name="test admin", role=Role.ADMIN))[1]


@pytest.fixture
async def viewer_token(app: Any) -> str:
    return (await create_token(name="test viewer", role=Role.VIEWER))[1]


@pytest.fixture
async def anonymous(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mailtab.test") as client:
        yield client


class GraphQLClient:
    """Posts operations to /graphql the way a frontend does."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.token = token

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, lang: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if lang:
            headers["Accept-Language"] = lang
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, lang: str | None = None
    ) -> dict[str, Any]:
        """The ``data`` of a successful operation; fails the test on any GraphQL error."""
        response = await self.post(query, variables, lang=lang)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
def gql(anonymous: httpx.AsyncClient, admin_token: str) -> GraphQLClient:
    return GraphQLClient(anonymous, admin_token)


@pytest.fixture
def viewer_gql(anonymous: httpx.AsyncClient, viewer_token: str) -> GraphQLClient:
    return GraphQLClient(anonymous, viewer_token)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No MAILTAB_* variable from the outside leaks into a configuration test."""
    for name in list(os.environ):
        if name.startswith("MAILTAB_"):
            monkeypatch.delenv(name)
    yield monkeypatch


FIRMS = "{ firms { id name } }"
CREATE_FIRM = """mutation($input: FirmInput!) {
  createFirm(input: $input) { firm { id } errors { field code } } }"""
ROMASHKA = {"name": "ООО Ромашка", "inn": "7707083893"}

MakeClient = Callable[..., Awaitable[GraphQLClient]]


@pytest.fixture
async def client_with(
    app: Any, database_url: str, data_dir: Path, admin_token: str
) -> AsyncIterator[MakeClient]:
    """``await client_with(introspection=False)``: an admin client of an app with those settings.

    Built on the session database and used without its own lifespan: the session app has
    registered the ORM for that database already.
    """
    opened: list[httpx.AsyncClient] = []

    async def make(**overrides: Any) -> GraphQLClient:
        url = overrides.pop("database_url", database_url)
        other = create_app(make_settings(url, data_dir, **overrides))
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://t")
        opened.append(http)
        return GraphQLClient(http, admin_token)

    yield make
    for http in opened:
        await http.aclose()


def only_error(response: httpx.Response) -> dict[str, Any]:
    """The one error of a refused request, with a non-empty message and ``data: null``."""
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert isinstance(error["message"], str) and error["message"]
    return dict(error)
