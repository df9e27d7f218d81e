"""`mailtab worker` processes on one database: one is killed mid-run, no letter is lost.

Delivery is at least once: a letter goes out twice only when its worker died after the
server took the final dot and before SENT was committed, so a killed worker adds at most
the one letter it had in DATA, with the original Message-ID. On PostgreSQL two workers
share the queue (``FOR UPDATE SKIP LOCKED``); on SQLite one worker is killed and restarted.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from models import Firm, Notification, NotificationStatus, Outlet, OutletKind
from notifications.enqueue import NotificationRequest, enqueue
from tests.conftest import BACKEND, SECRET_KEY, GraphQLClient
from tests.notify_smtpd import Behaviour, notify_server
from tests.smtpd import Certificates, RunningServer

MAILTAB = str(Path(sys.executable).with_name("mailtab"))
ADDRESS = "shop@example.ru"
PASSWORD = "Пароль-Sekr3t"
LETTERS = 200
SAVE = """
mutation($input: MailSettingsInput!) {
  saveMailSettings(input: $input) { account { id } errors { field code } }
}"""


@pytest.fixture
async def peer(certificates: Certificates) -> AsyncIterator[tuple[RunningServer, Behaviour]]:
    # A little time in DATA, so that the workers are mid-run when one is killed.
    behaviour = Behaviour(slow_all=0.01)
    async with notify_server(
        certificate=certificates.good, accounts={ADDRESS: PASSWORD}, behaviour=behaviour
    ) as running:
        yield running


@pytest.fixture
async def queued(gql: GraphQLClient, peer: tuple[RunningServer, Behaviour]) -> list[str]:
    firm = await Firm.create(name="ООО Ромашка", inn="7707083893")
    await Outlet.create(firm=firm, name="Склад", kind=OutletKind.WAREHOUSE)
    form = {
        "provider": "OTHER",
        "smtpHost": "localhost",
        "port": peer[0].port,
        "useSsl": True,
        "security": "STARTTLS",
        "address": ADDRESS,
        "password": PASSWORD,
    }
    assert (await gql(SAVE, {"input": form}))["saveMailSettings"]["errors"] == []
    ids = []
    for n in range(LETTERS):
        outcome = await enqueue(
            NotificationRequest(
                to=f"buyer{n}@example.org",
                subject=f"Заказ {n}",
                text="Ваш заказ готов.",
                idempotency_key=f"order-{n}",
            )
        )
        assert outcome.notification is not None
        ids.append(outcome.notification.message_id)
    return ids


def worker_env(database_url: str, tmp_path: Path, certificates: Certificates) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")}
    return {
        **clean,
        "MAILTAB_DATABASE_URL": database_url,
        "MAILTAB_DATA_DIR": str(tmp_path),
        "MAILTAB_SECRET_KEY": SECRET_KEY,
        "MAILTAB_SMTP_CA_FILE": str(certificates.ca_file),
        "MAILTAB_SMTP_TIMEOUT": "5",
        "MAILTAB_NOTIFY_LEASE_SECONDS": "2",
        "MAILTAB_NOTIFY_BATCH_SIZE": "5",
        "MAILTAB_NOTIFY_POLL_SECONDS": "0.1",
    }


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([MAILTAB, "worker", *args], env=env, stdout=out, stderr=out)


async def sent() -> int:
    return await Notification.filter(status=NotificationStatus.SENT).count()


async def wait_for_sent(at_least: int, seconds: float) -> int:
    count = 0
    for _ in range(int(seconds / 0.05)):
        count = await sent()
        if count >= at_least:
            return count
        await asyncio.sleep(0.05)
    return count


def received_ids(server: RunningServer) -> list[str]:
    return [
        str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
        for raw in list(server.recorder.messages)
    ]


async def test_a_killed_worker_loses_no_letter_and_duplicates_stay_within_the_bound(
    app: Any,
    database_url: str,
    tmp_path: Path,
    certificates: Certificates,
    peer: tuple[RunningServer, Behaviour],
    queued: list[str],
) -> None:
    server, _ = peer
    env = worker_env(database_url, tmp_path, certificates)
    log = tmp_path / "workers.log"
    count = 2 if BACKEND == "postgres" else 1
    workers = [start(env, log) for _ in range(count)]
    try:
        assert await wait_for_sent(LETTERS // 5, 60) >= LETTERS // 5, log.read_text()
        victim = workers[0]
        victim.send_signal(signal.SIGKILL)
        await asyncio.to_thread(victim.wait, 10)
        killed_at = await sent()
        assert killed_at < LETTERS, "the run ended before the kill: make the letters slower"
        if count == 1:
            workers.append(start(env, log))  # the restart
        assert await wait_for_sent(LETTERS, 120) == LETTERS, log.read_text()
    finally:
        for worker in workers[1:]:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        codes = [await asyncio.to_thread(worker.wait, 20) for worker in workers[1:]]
    assert codes == [0] * len(codes), log.read_text()  # SIGTERM is a clean stop
    records = await Notification.all()
    assert {r.status for r in records} == {NotificationStatus.SENT}
    assert all(r.lease_owner is None for r in records)
    received = received_ids(server)
    assert set(received) == set(queued)  # every letter arrived, with its own Message-ID
    duplicates = len(received) - len(set(received))
    # At most the killed worker's letter in DATA: its SENT is committed before the next goes.
    assert 0 <= duplicates <= 1, duplicates
    print(
        f"\n{count} worker(s), {LETTERS} letters, killed at {killed_at} SENT: "
        f"{len(received)} received, {duplicates} duplicate(s)"
    )

    # A restart keeps every status and sends nothing again.
    again = start(env, log, "--once")
    assert await asyncio.to_thread(again.wait, 60) == 0, log.read_text()
    assert len(received_ids(server)) == len(received)
    assert await sent() == LETTERS
