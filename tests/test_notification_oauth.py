"""Notifications of an account saved with OAuth2: XOAUTH2 with the cached token, a refused
refresh pausing the queue, a provider outage retried, a refused token refreshed once.

The peers are those of tests/test_oauth.py: ``oidc-provider-mock`` behind its PKCE front and
an aiosmtpd STARTTLS server that takes XOAUTH2 only and checks each bearer at the
provider's userinfo endpoint. The worker is built as ``mailtab worker`` builds it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tortoise import timezone

from models import DeliveryPause, Firm, Notification, NotificationStatus, Outlet, OutletKind
from notifications.enqueue import NotificationRequest, enqueue
from notifications.worker import Worker
from services.runtime import build_runtime
from tests.conftest import GraphQLClient, MakeClient, make_settings
from tests.oauth_peers import (
    RunningProvider,
    XOAuth2Recorder,
    oauth_provider,
    outlook_providers_file,
    xoauth2_server,
)
from tests.smtpd import Certificates
from tests.test_oauth import (
    ADDRESS,
    CLIENT_SECRET,
    _peer_record,
    connect,
    expire_access_token,
    overrides,
    save,
)

pytestmark = pytest.mark.filterwarnings("ignore::authlib.deprecate.AuthlibDeprecationWarning")

TAB = "{ mailTab { deliveryPaused deliveryFailure { code field message hint smtpCode } } }"
SEND_TEST = """mutation { sendTestEmail(input: {recipient: "admin@example.org"}) {
  delivered failure { code } } }"""
LIST = """{ notifications(limit: 50) { id status attempts
  lastFailure { code field message hint smtpCode smtpReply } } }"""


class _Everything(set[str]):
    """A ``dropped`` set of the provider's front that holds every token: userinfo refuses all."""

    def __contains__(self, item: object) -> bool:
        return True


@pytest.fixture(scope="module")
def provider() -> Iterator[RunningProvider]:
    with oauth_provider() as running:
        yield running


@pytest.fixture(scope="module")
def providers_file(provider: RunningProvider, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return outlook_providers_file(provider, tmp_path_factory.mktemp("providers"))


@pytest.fixture
async def smtp(
    provider: RunningProvider, certificates: Certificates
) -> AsyncIterator[tuple[int, XOAuth2Recorder]]:
    async with xoauth2_server(
        certificate=certificates.good, userinfo_url=provider.userinfo_url
    ) as running:
        yield running


@pytest.fixture
async def client(
    client_with: MakeClient, providers_file: Path, certificates: Certificates
) -> GraphQLClient:
    return await client_with(**overrides(providers_file, certificates))


@pytest.fixture
async def saved(
    client: GraphQLClient, provider: RunningProvider, smtp: tuple[int, XOAuth2Recorder]
) -> None:
    """The tab ready, the mailbox connected with OAuth2 and Outlook saved with authMethod OAUTH2."""
    firm = await Firm.create(name="ООО Ромашка", inn="7707083893")
    await Outlet.create(firm=firm, name="Склад", kind=OutletKind.WAREHOUSE)
    assert (await connect(client)).status_code == 200
    await save(client, smtp[0])


WorkerFactory = Callable[..., Worker]


@pytest.fixture
async def make_worker(
    app: Any,
    database_url: str,
    data_dir: Path,
    certificates: Certificates,
    providers_file: Path,
    smtp: tuple[int, XOAuth2Recorder],
) -> AsyncIterator[WorkerFactory]:
    """``make_worker(shared=True)``: a worker on the settings of ``mailtab worker``, handed the
    service's Runtime (as ``serve`` does) or, ``shared=False``, making its own token store."""
    made: list[Worker] = []

    def make(*, shared: bool = True, **extra: Any) -> Worker:
        settings = make_settings(
            database_url,
            data_dir,
            **overrides(providers_file, certificates),
            notify_retry_delays="0,0",
            **extra,
        )
        runtime = build_runtime(settings)
        oauth = runtime if shared else None
        made.append(
            Worker(settings=settings, presets=runtime.presets, box=runtime.box, oauth=oauth)
        )
        return made[-1]

    yield make
    for worker in made:
        await worker._close_session()


async def queue(*recipients: str, prefix: str = "n") -> list[int]:
    ids = []
    for index, to in enumerate(recipients):
        outcome = await enqueue(
            NotificationRequest(
                to=to,
                subject=f"Заказ {index}",
                text=f"Текст {index}",
                html=None,
                idempotency_key=f"{prefix}-{index}",
            )
        )
        assert outcome.errors == [] and outcome.notification is not None
        ids.append(outcome.notification.id)
    return ids


async def statuses(ids: list[int]) -> list[NotificationStatus]:
    return [n.status for n in await Notification.filter(id__in=ids).order_by("id")]


async def drain(worker: Worker) -> None:
    for _ in range(20):
        if not await worker.run_once():
            return
    raise AssertionError("the queue never emptied")


async def test_letters_go_with_xoauth2_and_the_cached_access_token(
    make_worker: WorkerFactory,
    saved: None,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
) -> None:
    _, recorder = smtp
    cached = provider.front.access_tokens[-1]
    refreshes = provider.front.grants.count("refresh_token")
    worker = make_worker(shared=False)
    ids = await queue("a@example.org", "b@example.org", "c@example.org")
    assert await worker.run_once() == 3
    assert await statuses(ids) == [NotificationStatus.SENT] * 3
    # One XOAUTH2 login with the token of the sign-in, for the three letters: no refresh.
    assert recorder.logins == [ADDRESS] and recorder.bearers == [cached]
    assert recorder.accepted == [ADDRESS]
    assert len(recorder.messages) == 3
    assert provider.front.grants.count("refresh_token") == refreshes

    # Once it is about to expire the worker refreshes it, once, and logs in with the new one.
    await worker._close_session()
    await expire_access_token()
    more = await queue("d@example.org", "e@example.org", prefix="m")
    assert await worker.run_once() == 2
    assert await statuses(more) == [NotificationStatus.SENT] * 2
    assert provider.front.grants.count("refresh_token") == refreshes + 1
    assert recorder.bearers == [cached, provider.front.access_tokens[-1]]
    assert provider.front.access_tokens[-1] != cached


async def test_two_workers_with_an_expired_token_refresh_it_once(
    make_worker: WorkerFactory,
    saved: None,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
) -> None:
    """Two worker processes' worth (each its own Runtime): one refresh reaches the provider."""
    _, recorder = smtp
    first, second = make_worker(notify_batch_size=2), make_worker(notify_batch_size=2)
    assert first.oauth is not second.oauth
    await expire_access_token()
    refreshes = provider.front.grants.count("refresh_token")
    ids = await queue(*(f"buyer{n}@example.org" for n in range(4)))
    # On PostgreSQL each claims its two; SQLite's one writer may leave the second empty-handed.
    handled = await asyncio.gather(first.run_once(), second.run_once())
    assert handled[0] + handled[1] >= 2
    await asyncio.gather(drain(first), drain(second))
    assert await statuses(ids) == [NotificationStatus.SENT] * 4
    assert provider.front.grants.count("refresh_token") == refreshes + 1
    assert set(recorder.bearers) == {provider.front.access_tokens[-1]}
    assert len(recorder.messages) == 4


async def test_a_refused_refresh_pauses_the_queue_until_reconnected_and_saved(
    make_worker: WorkerFactory,
    saved: None,
    client: GraphQLClient,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
) -> None:
    port, recorder = smtp
    worker = make_worker()
    provider.revoke_user(ADDRESS)  # the grant removed at the provider
    await expire_access_token()
    ids = await queue("a@example.org", "b@example.org", "c@example.org")
    assert await worker.run_once() == 1
    tab = (await client(TAB))["mailTab"]
    assert tab["deliveryPaused"] is True
    failure = tab["deliveryFailure"]
    assert failure["code"] == "OAUTH2_REAUTHORIZATION_REQUIRED"
    assert failure["field"] == "authMethod" and failure["hint"]
    # No letter burnt, nothing went to the SMTP server, the paused queue is left alone.
    records = await Notification.filter(id__in=ids)
    assert all(r.status == NotificationStatus.QUEUED and r.attempts == 0 for r in records)
    assert recorder.bearers == []
    refreshes = provider.front.grants.count("refresh_token")
    assert await worker.run_once() == 0
    assert provider.front.grants.count("refresh_token") == refreshes

    assert (await connect(client)).status_code == 200  # reconnect…
    assert (await client(TAB))["mailTab"]["deliveryPaused"] is True
    await save(client, port)  # …and Save
    assert (await client(TAB))["mailTab"]["deliveryPaused"] is False
    await drain(worker)
    assert await statuses(ids) == [NotificationStatus.SENT] * 3
    assert await DeliveryPause.all().count() == 0
    assert recorder.accepted == [ADDRESS]


async def test_a_delivered_test_letter_after_reconnecting_resumes_the_queue(
    make_worker: WorkerFactory,
    saved: None,
    client: GraphQLClient,
    provider: RunningProvider,
) -> None:
    worker = make_worker()
    provider.revoke_user(ADDRESS)
    await expire_access_token()
    [letter] = await queue("a@example.org")
    await worker.run_once()
    assert (await client(TAB))["mailTab"]["deliveryPaused"] is True
    await connect(client)
    assert (await client(SEND_TEST))["sendTestEmail"]["delivered"] is True
    assert (await client(TAB))["mailTab"]["deliveryPaused"] is False
    await drain(worker)
    assert await statuses([letter]) == [NotificationStatus.SENT]


async def test_a_provider_outage_is_retried_later_and_the_queue_not_paused(
    make_worker: WorkerFactory,
    saved: None,
    client: GraphQLClient,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
) -> None:
    _, recorder = smtp
    worker = make_worker()
    await expire_access_token()
    ids = await queue("a@example.org", "b@example.org")
    provider.front.outage = True
    try:
        assert await worker.run_once() == 2
    finally:
        provider.front.outage = False
    assert (await client(TAB))["mailTab"]["deliveryPaused"] is False
    assert await DeliveryPause.all().count() == 0
    listed = (await client(LIST))["notifications"]
    assert [(n["status"], n["attempts"]) for n in listed] == [("QUEUED", 1)] * 2
    assert {n["lastFailure"]["code"] for n in listed} == {"OAUTH2_PROVIDER_UNAVAILABLE"}
    assert recorder.bearers == []  # nothing tried at the SMTP server without a token
    # The provider is back: the retries (due now, the delays are 0 here) are sent.
    await Notification.filter(id__in=ids).update(next_attempt_at=timezone.now())
    await drain(worker)
    assert await statuses(ids) == [NotificationStatus.SENT] * 2
    assert recorder.accepted == [ADDRESS]


async def test_a_token_the_server_refuses_is_refreshed_once_and_the_letter_sent(
    make_worker: WorkerFactory,
    saved: None,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
) -> None:
    _, recorder = smtp
    worker = make_worker()
    cached = provider.front.access_tokens[-1]
    refreshes = provider.front.grants.count("refresh_token")
    provider.front.drop_access_token(cached)  # revoked early; still cached here as valid
    ids = await queue("a@example.org", "b@example.org")
    assert await worker.run_once() == 2
    assert await statuses(ids) == [NotificationStatus.SENT] * 2
    assert provider.front.grants.count("refresh_token") == refreshes + 1
    fresh = provider.front.access_tokens[-1]
    # The refused login, then one with the refreshed token, which carried both letters.
    assert recorder.bearers == [cached, fresh]
    assert recorder.accepted == [ADDRESS]
    records = await Notification.filter(id__in=ids)
    assert all(r.attempts == 1 and r.last_failure is None for r in records)


async def test_a_refreshed_token_refused_too_is_the_account_failure(
    make_worker: WorkerFactory,
    saved: None,
    client: GraphQLClient,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
) -> None:
    _, recorder = smtp
    worker = make_worker()
    refreshes = provider.front.grants.count("refresh_token")
    provider.front.dropped = _Everything()  # the server takes no token of this mailbox
    try:
        ids = await queue("a@example.org", "b@example.org")
        assert await worker.run_once() == 1
    finally:
        provider.front.dropped = set()
    assert len(recorder.bearers) == 2  # the cached token, one refreshed: no third login
    assert provider.front.grants.count("refresh_token") == refreshes + 1
    failure = (await client(TAB))["mailTab"]["deliveryFailure"]
    assert failure["code"] == "AUTH_FAILED" and failure["field"] == "authMethod"
    assert failure["smtpCode"] == 535
    records = await Notification.filter(id__in=ids)
    assert all(r.status == NotificationStatus.QUEUED and r.attempts == 0 for r in records)


async def test_no_token_in_a_log_line_notification_row_metric_or_response(
    make_worker: WorkerFactory,
    saved: None,
    client: GraphQLClient,
    provider: RunningProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = make_worker()
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):
        await queue("a@example.org")
        await drain(worker)  # the cached token
        provider.front.drop_access_token(provider.front.access_tokens[-1])
        await queue("b@example.org", prefix="b")
        await drain(worker)  # refused by the server, refreshed
        await expire_access_token()
        provider.front.outage = True
        try:
            await queue("c@example.org", prefix="c")
            assert await worker.run_once() == 1  # the outage: to be retried
        finally:
            provider.front.outage = False
        provider.revoke_user(ADDRESS)
        await Notification.all().update(next_attempt_at=timezone.now())
        await drain(worker)  # the refused refresh: paused
        seen.append(json.dumps(await client(TAB)))
        seen.append(json.dumps(await client(LIST)))
        seen.append((await client.http.get("/metrics")).text)
    assert (await client(TAB))["mailTab"]["deliveryPaused"] is True
    secrets = [*provider.front.secrets(), CLIENT_SECRET]
    assert len(provider.front.access_tokens) >= 2 and len(provider.front.refresh_tokens) >= 1
    logged = "\n".join(
        f"{r.getMessage()} {r.args!r}" for r in caplog.records if not _peer_record(r.name)
    )
    assert "notification" in logged
    rows = [json.dumps(row, default=str) for row in await Notification.all().values()]
    pauses = [json.dumps(row, default=str) for row in await DeliveryPause.all().values()]
    for secret in secrets:
        for text in [*seen, logged, *rows, *pauses]:
            assert secret not in text
