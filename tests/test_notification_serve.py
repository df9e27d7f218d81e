"""`mailtab serve` on the embedded SQLite default delivers notifications itself, and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.notify_smtpd import notify_server
from tests.smtpd import Certificates

MAILTAB = str(Path(sys.executable).with_name("mailtab"))
ADDRESS = "shop@example.ru"
PASSWORD = "Пароль-Sekr3t"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_serve_runs_a_worker_on_sqlite_and_finishes_on_sigterm(
    tmp_path: Path, certificates: Certificates
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")}
    env = {
        **clean,
        "MAILTAB_DATA_DIR": str(tmp_path / "data"),
        "MAILTAB_SMTP_CA_FILE": str(certificates.ca_file),
        "MAILTAB_NOTIFY_POLL_SECONDS": "0.1",
    }
    port = free_port()
    async with notify_server(certificate=certificates.good, accounts={ADDRESS: PASSWORD}) as (
        smtp,
        _,
    ):
        process = subprocess.Popen(  # noqa: ASYNC220 - started once, read in a thread
            [MAILTAB, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert process.stdout is not None
            token = None
            for _ in range(200):
                line = await asyncio.to_thread(process.stdout.readline)
                if re.fullmatch(r"mt_[A-Za-z0-9_-]+", line.strip()):
                    token = line.strip()
                    break
            assert token, "no first-start token"
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                for _ in range(200):
                    try:
                        if (await http.get("/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)

                async def gql(query: str) -> dict[str, object]:
                    response = await http.post("/graphql", json={"query": query}, headers=headers)
                    body = response.json()
                    assert "errors" not in body, body
                    return dict(body["data"])

                firm = await gql(
                    'mutation { createFirm(input: {name: "ООО Ромашка", inn: "7707083893"}) '
                    "{ firm { id } } }"
                )
                firm_id = firm["createFirm"]["firm"]["id"]  # type: ignore[index]
                await gql(
                    f'mutation {{ createOutlet(input: {{firmId: "{firm_id}", name: "Склад", '
                    "kind: WAREHOUSE}) { outlet { id } } }"
                )
                await gql(
                    "mutation { saveMailSettings(input: {provider: OTHER, "
                    f'smtpHost: "localhost", port: {smtp.port}, useSsl: true, '
                    f'address: "{ADDRESS}", password: "{PASSWORD}"}}) {{ errors {{ code }} }} }}'
                )
                sent = await gql(
                    'mutation { sendNotification(input: {to: "buyer@example.org", '
                    'subject: "Заказ готов", text: "Ваш заказ готов.", idempotencyKey: "o-1"}) '
                    "{ notification { id status } errors { code } } }"
                )
                assert sent["sendNotification"]["notification"]["status"] == "QUEUED"  # type: ignore[index]
                status = None
                for _ in range(200):
                    found = await gql('{ notification(id: "1") { status } }')
                    status = found["notification"]["status"]  # type: ignore[index]
                    if status == "SENT":
                        break
                    await asyncio.sleep(0.05)
                assert status == "SENT"
            assert len(smtp.recorder.messages) == 1
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = await asyncio.to_thread(process.communicate, None, 30)
    assert "notification worker" in output and "stopped" in output, output
    assert "Traceback" not in output, output
    assert PASSWORD not in output
