"""The delivery worker against a real STARTTLS + AUTH server: sent, retried, failed, paused."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import notifications.worker as worker_module
from models import DeliveryPause, Firm, Notification, NotificationStatus, Outlet, OutletKind
from notifications.enqueue import NotificationRequest, enqueue
from notifications.limits import daily_limits
from notifications.worker import Worker
from tests.conftest import GraphQLClient, make_settings
from tests.notify_smtpd import Behaviour, notify_server
from tests.smtpd import Certificates, RunningServer

ADDRESS = "shop@example.ru"
PASSWORD = "Пароль-Sekr3t"
SAVE = """
mutation($input: MailSettingsInput!) {
  saveMailSettings(input: $input) { account { id } errors { field code } }
}"""
TAB = "{ mailTab { deliveryPaused deliveryFailure { code field smtpCode } } }"
SEND_TEST = """mutation { sendTestEmail(input: {recipient: "admin@example.org"}) {
  delivered failure { code } errors { code } } }"""
ONE = """query($id: ID!) { notification(id: $id) {
  status attempts sentAt nextAttemptAt lastFailure { code field smtpCode smtpReply message } } }"""


@pytest.fixture
async def peer(certificates: Certificates) -> AsyncIterator[tuple[RunningServer, Behaviour]]:
    accounts = {ADDRESS: PASSWORD}
    async with notify_server(certificate=certificates.good, accounts=accounts) as running:
        yield running


def settings_form(server: RunningServer, password: str = PASSWORD) -> dict[str, Any]:
    return {
        "provider": "OTHER",
        "smtpHost": "localhost",
        "port": server.port,
        "useSsl": True,
        "security": "STARTTLS",
        "address": ADDRESS,
        "password": password,
        "senderName": "Автозапчасти «Ромашка»",
    }


async def save(gql: GraphQLClient, server: RunningServer, password: str = PASSWORD) -> None:
    payload = await gql(SAVE, {"input": settings_form(server, password)})
    assert payload["saveMailSettings"]["errors"] == []


@pytest.fixture
async def configured(gql: GraphQLClient, peer: tuple[RunningServer, Behaviour]) -> None:
    firm = await Firm.create(name="ООО Ромашка", inn="7707083893")
    await Outlet.create(firm=firm, name="Склад", kind=OutletKind.WAREHOUSE)
    await save(gql, peer[0])


WorkerFactory = Callable[..., Worker]


@pytest.fixture
async def make_worker(
    app: Any,
    database_url: str,
    data_dir: Path,
    certificates: Certificates,
    peer: tuple[RunningServer, Behaviour],
) -> AsyncIterator[WorkerFactory]:
    """``make_worker(**settings)``: workers whose connections close before the server stops."""
    made: list[Worker] = []

    def make(**overrides: Any) -> Worker:
        values: dict[str, Any] = {
            "smtp_ca_file": certificates.ca_file,
            "smtp_timeout": 1,
            "notify_retry_delays": "0,0",
            **overrides,
        }
        settings = make_settings(database_url, data_dir, **values)
        runtime = app.state.runtime
        made.append(Worker(settings=settings, presets=runtime.presets, box=runtime.box))
        return made[-1]

    yield make
    for worker in made:
        await worker._close_session()


@pytest.fixture
def worker(make_worker: WorkerFactory) -> Worker:
    return make_worker()


async def queue(*recipients: str, prefix: str = "n") -> list[int]:
    ids = []
    for index, to in enumerate(recipients):
        outcome = await enqueue(
            NotificationRequest(
                to=to,
                subject=f"Заказ {index}",
                text=f"Текст {index}",
                html=f"<p>Текст {index}</p>",
                idempotency_key=f"{prefix}-{index}",
            )
        )
        assert outcome.errors == [] and outcome.notification is not None
        ids.append(outcome.notification.id)
    return ids


async def drain(worker: Worker) -> None:
    for _ in range(20):
        if not await worker.run_once():
            return
    raise AssertionError("the queue never emptied")


async def test_a_run_of_letters_goes_over_one_connection_and_each_is_sent(
    worker: Worker, configured: None, peer: tuple[RunningServer, Behaviour]
) -> None:
    server, _ = peer
    ids = await queue(*(f"buyer{n}@example.org" for n in range(5)))
    assert await worker.run_once() == 5
    await worker._close_session()
    # One login for the five letters: the connection was reused.
    assert server.recorder.logins == [ADDRESS]
    assert server.recorder.auth_over_tls == [True]
    assert len(server.recorder.messages) == 5
    records = await Notification.filter(id__in=ids).order_by("id")
    assert [r.status for r in records] == [NotificationStatus.SENT] * 5
    assert all(r.attempts == 1 and r.sent_at is not None and r.lease_owner is None for r in records)
    letters = [
        email.message_from_bytes(m, policy=email.policy.default) for m in server.recorder.messages
    ]
    assert [m["Message-ID"] for m in letters] == [r.message_id for r in records]
    first = letters[0]
    assert first["From"].addresses[0].display_name == "Автозапчасти «Ромашка»"
    assert first["To"].addresses[0].addr_spec == "buyer0@example.org"
    assert first["Subject"] == "Заказ 0"
    assert first["Auto-Submitted"] == "auto-generated"
    assert first.get_content_type() == "multipart/alternative"
    assert server.recorder.mail_from == [ADDRESS] * 5


async def test_a_refused_recipient_fails_at_once_and_the_others_still_go(
    worker: Worker, gql: GraphQLClient, configured: None, peer: tuple[RunningServer, Behaviour]
) -> None:
    server, behaviour = peer
    behaviour.refuse.add("nobody@example.org")
    good, bad, after = await queue("a@example.org", "nobody@example.org", "b@example.org")
    await drain(worker)
    assert server.recorder.logins == [ADDRESS]  # the session was reset, not dropped
    statuses = {r.id: r for r in await Notification.all()}
    assert statuses[good].status == statuses[after].status == NotificationStatus.SENT
    failed = (await gql(ONE, {"id": str(bad)}))["notification"]
    assert failed["status"] == "FAILED"
    assert failed["attempts"] == 1
    assert failed["nextAttemptAt"] is None
    assert failed["lastFailure"]["code"] == "RECIPIENT_REJECTED"
    assert failed["lastFailure"]["smtpCode"] == 550
    assert failed["lastFailure"]["message"]


async def test_451_twice_then_accepted_is_retried_and_sent(
    worker: Worker, gql: GraphQLClient, configured: None, peer: tuple[RunningServer, Behaviour]
) -> None:
    server, behaviour = peer
    behaviour.flaky["later@example.org"] = 2
    [letter] = await queue("later@example.org")
    assert await worker.run_once() == 1
    first = (await gql(ONE, {"id": str(letter)}))["notification"]
    assert first["status"] == "QUEUED"
    assert first["attempts"] == 1
    assert first["lastFailure"]["code"] == "TEMPORARY_FAILURE"
    assert first["lastFailure"]["smtpCode"] == 451
    await drain(worker)
    done = (await gql(ONE, {"id": str(letter)}))["notification"]
    assert done["status"] == "SENT"
    assert done["attempts"] == 3
    assert len(server.recorder.messages) == 1


async def test_temporary_failures_fail_once_the_retries_are_used_up(
    make_worker: WorkerFactory,
    gql: GraphQLClient,
    configured: None,
    peer: tuple[RunningServer, Behaviour],
) -> None:
    _, behaviour = peer
    behaviour.flaky["never@example.org"] = 100
    worker = make_worker(notify_retry_delays="0")
    [letter] = await queue("never@example.org")
    await drain(worker)
    record = (await gql(ONE, {"id": str(letter)}))["notification"]
    assert record["status"] == "FAILED"
    assert record["attempts"] == 2  # one delay: one retry
    assert record["lastFailure"]["code"] == "TEMPORARY_FAILURE"


async def test_retries_wait_for_their_delay_with_jitter(
    make_worker: WorkerFactory,
    configured: None,
    peer: tuple[RunningServer, Behaviour],
) -> None:
    _, behaviour = peer
    behaviour.flaky["later@example.org"] = 1
    worker = make_worker(notify_retry_delays="600")
    [letter] = await queue("later@example.org")
    assert await worker.run_once() == 1
    record = await Notification.get(id=letter)
    assert record.status == NotificationStatus.QUEUED and record.next_attempt_at is not None
    wait = (record.next_attempt_at - record.created_at).total_seconds()
    assert 600 * 0.8 - 1 <= wait <= 600 * 1.2 + 60
    assert await worker.run_once() == 0  # not due yet


async def test_a_slow_data_times_out_and_is_retried(
    worker: Worker, gql: GraphQLClient, configured: None, peer: tuple[RunningServer, Behaviour]
) -> None:
    server, behaviour = peer
    behaviour.slow_data["slow@example.org"] = 2.5
    [slow, quick] = await queue("slow@example.org", "quick@example.org")
    await drain(worker)
    record = (await gql(ONE, {"id": str(slow)}))["notification"]
    assert record["status"] == "SENT"
    assert record["attempts"] == 2
    assert record["lastFailure"]["code"] == "TIMEOUT"
    assert (await Notification.get(id=quick)).status == NotificationStatus.SENT
    # The timed-out connection was dropped and a new one logged in.
    assert len(server.recorder.logins) >= 2


async def test_a_failing_login_pauses_the_queue_and_save_resumes_it(
    worker: Worker, gql: GraphQLClient, configured: None, peer: tuple[RunningServer, Behaviour]
) -> None:
    server, _ = peer
    await save(gql, server, password="wrong-password")
    ids = await queue("a@example.org", "b@example.org", "c@example.org")
    assert await worker.run_once() == 1
    tab = (await gql(TAB))["mailTab"]
    assert tab["deliveryPaused"] is True
    assert tab["deliveryFailure"]["code"] == "AUTH_FAILED"
    assert tab["deliveryFailure"]["smtpCode"] == 535
    # No letter burnt: all queued, none counted as attempted, and no second login tried.
    records = await Notification.filter(id__in=ids)
    assert all(r.status == NotificationStatus.QUEUED and r.attempts == 0 for r in records)
    assert await worker.run_once() == 0
    assert len(server.recorder.logins) == 1
    await save(gql, server)
    assert (await gql(TAB))["mailTab"]["deliveryPaused"] is False
    await drain(worker)
    records = await Notification.filter(id__in=ids)
    assert [r.status for r in records] == [NotificationStatus.SENT] * 3, [
        (r.status, r.attempts, r.last_failure) for r in records
    ]
    assert await DeliveryPause.all().count() == 0


async def test_a_delivered_test_letter_resumes_a_paused_queue(
    worker: Worker, gql: GraphQLClient, configured: None, peer: tuple[RunningServer, Behaviour]
) -> None:
    server, _ = peer
    accounts: dict[str, str] = server.recorder.accounts  # type: ignore[assignment]
    accounts[ADDRESS] = "changed-at-the-provider"
    [letter] = await queue("a@example.org")
    await worker.run_once()
    assert (await gql(TAB))["mailTab"]["deliveryPaused"] is True
    failed = (await gql(SEND_TEST))["sendTestEmail"]
    assert failed["delivered"] is False
    assert (await gql(TAB))["mailTab"]["deliveryPaused"] is True
    accounts[ADDRESS] = PASSWORD  # fixed at the provider
    assert (await gql(SEND_TEST))["sendTestEmail"]["delivered"] is True
    assert (await gql(TAB))["mailTab"]["deliveryPaused"] is False
    await drain(worker)
    assert (await Notification.get(id=letter)).status == NotificationStatus.SENT


async def test_a_stop_finishes_the_letter_in_flight_and_gives_the_rest_back(
    make_worker: WorkerFactory,
    configured: None,
    peer: tuple[RunningServer, Behaviour],
) -> None:
    server, behaviour = peer
    behaviour.slow_all = 0.3
    worker = make_worker(notify_poll_seconds=0.05)
    ids = await queue(*(f"b{n}@example.org" for n in range(10)))
    task = asyncio.create_task(worker.run())
    for _ in range(1000):  # until the first letter is under way
        if server.recorder.rcpt_tos:
            break
        await asyncio.sleep(0.01)
    worker.stop()
    await asyncio.wait_for(task, 10)
    records = await Notification.filter(id__in=ids)
    sent = [r for r in records if r.status == NotificationStatus.SENT]
    queued = [r for r in records if r.status == NotificationStatus.QUEUED]
    assert len(sent) >= 1 and len(sent) + len(queued) == 10
    assert len(sent) == len(server.recorder.messages)  # the one in flight was finished
    assert all(r.lease_owner is None and r.attempts == 0 for r in queued)


async def test_a_restart_keeps_every_status_and_sends_nothing_again(
    worker: Worker,
    make_worker: WorkerFactory,
    configured: None,
    peer: tuple[RunningServer, Behaviour],
) -> None:
    server, behaviour = peer
    behaviour.refuse.add("nobody@example.org")
    await queue("a@example.org", "nobody@example.org", "b@example.org")
    await drain(worker)
    before = sorted((r.id, r.status, r.attempts) for r in await Notification.all())
    delivered = len(server.recorder.messages)
    again = make_worker()
    assert await again.run_once() == 0
    assert sorted((r.id, r.status, r.attempts) for r in await Notification.all()) == before
    assert len(server.recorder.messages) == delivered


async def test_one_log_line_per_attempt_without_local_parts_or_secrets(
    worker: Worker,
    configured: None,
    peer: tuple[RunningServer, Behaviour],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, behaviour = peer
    behaviour.flaky["ivan.petrov@example.org"] = 1
    await queue("ivan.petrov@example.org")
    with caplog.at_level(logging.INFO, logger="mailtab.notify"):
        await drain(worker)
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "mailtab.notify" and "attempt" in r.getMessage()
    ]
    assert len(lines) == 2
    assert "RETRIED" in lines[0] and "TEMPORARY_FAILURE" in lines[0] and "SENT" in lines[1]
    # mailtab's own lines (the database driver's DEBUG lines carry SQL parameters by design;
    # they stay at WARNING unless MAILTAB_LOG_LEVEL=DEBUG, see web/logs.py).
    everything = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("mailtab"))
    assert "ivan.petrov" not in everything and "*@example.org" in everything
    assert PASSWORD not in everything and "Текст" not in everything


async def test_an_account_at_its_daily_cap_waits_for_its_window(
    worker: Worker,
    gql: GraphQLClient,
    configured: None,
    peer: tuple[RunningServer, Behaviour],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, _ = peer
    await queue("a@example.org", "b@example.org", "c@example.org")
    account_id = (await Notification.first()).account_id  # type: ignore[union-attr]
    assert account_id is not None
    # A deployment's providers file gives OTHER a cap of two letters a day.
    monkeypatch.setattr(worker_module, "daily_limits", lambda override_file=None: {"OTHER": 2})
    await drain(worker)
    records = await Notification.all().order_by("id")
    assert [r.status for r in records] == [
        NotificationStatus.SENT,
        NotificationStatus.SENT,
        NotificationStatus.QUEUED,
    ]
    waiting = records[2]
    assert waiting.attempts == 0 and waiting.last_failure is None
    assert waiting.next_attempt_at is not None and records[0].sent_at is not None
    assert (waiting.next_attempt_at - records[0].sent_at).total_seconds() == pytest.approx(
        86400, abs=5
    )
    assert len(server.recorder.messages) == 2


def test_daily_caps_are_data_with_the_deployment_file_over_the_shipped_one(
    tmp_path: Path,
) -> None:
    shipped = daily_limits()
    assert shipped == {"GOOGLE": 500, "OUTLOOK": 300, "YANDEX": 500}
    override = tmp_path / "providers.json"
    override.write_text(
        '{"providers": [{"code": "YANDEX", "title": {"ru": "Я", "en": "Y"}, "smtpHost": "h",'
        ' "port": 465}, {"code": "OTHER", "title": {"ru": "Д", "en": "O"},'
        ' "dailySendLimit": {"letters": 50, "source": "our relay"}}]}',
        encoding="utf-8",
    )
    assert daily_limits(override) == {"GOOGLE": 500, "OUTLOOK": 300, "OTHER": 50}


async def test_metrics_show_the_queue_and_the_attempts_by_code(
    worker: Worker,
    anonymous: httpx.AsyncClient,
    configured: None,
    peer: tuple[RunningServer, Behaviour],
) -> None:
    _, behaviour = peer
    behaviour.refuse.add("nobody@example.org")
    before = await anonymous.get("/metrics")
    failed_before = _sample(
        before.text,
        'mailtab_notification_attempts_total{code="RECIPIENT_REJECTED",outcome="FAILED"}',
    )
    await queue("a@example.org", "nobody@example.org", "c@example.org")
    queued = (await anonymous.get("/metrics")).text
    assert _sample(queued, 'mailtab_notifications{status="QUEUED"}') == 3
    assert _sample(queued, "mailtab_notification_oldest_due_seconds") >= 0
    await drain(worker)
    text = (await anonymous.get("/metrics")).text
    assert _sample(text, 'mailtab_notifications{status="SENT"}') == 2
    assert _sample(text, 'mailtab_notifications{status="FAILED"}') == 1
    assert _sample(text, 'mailtab_notifications{status="QUEUED"}') == 0
    assert _sample(text, "mailtab_notification_oldest_due_seconds") == 0
    failed = 'mailtab_notification_attempts_total{code="RECIPIENT_REJECTED",outcome="FAILED"}'
    assert _sample(text, failed) == failed_before + 1
    assert _sample(text, 'mailtab_notification_attempts_total{code="NONE",outcome="SENT"}') >= 2
    assert "nobody" not in text and "example.org" not in text


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rpartition(" ")[2])
    return 0.0
