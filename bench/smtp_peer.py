"""``python -m bench.smtp_peer DIR``: a STARTTLS + AUTH aiosmtpd server in a process of its own.

Writes its test CA to ``DIR/test-ca.pem`` and prints its port; runs until SIGTERM, then
prints how many letters arrived and how many distinct Message-IDs they had. Its own
process, so that neither side of a comparison shares an interpreter (and its GIL) with it.
"""

from __future__ import annotations

import asyncio
import email
import signal
import sys
from pathlib import Path

from tests.smtpd import ServerMode, make_certificates, smtp_server

ADDRESS = "shop@example.ru"
PASSWORD = "bench-app-password"


async def main(folder: Path) -> None:
    certificates = make_certificates(folder)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.good, accounts={ADDRESS: PASSWORD}
    ) as server:
        print(server.port, flush=True)
        await stop.wait()
        # The letters are kept in memory by the recorder: say how many arrived, and how many
        # distinct Message-IDs they carried (the difference is the duplicates).
        ids = {email.message_from_bytes(raw)["Message-ID"] for raw in server.recorder.messages}
        print(f"received {len(server.recorder.messages)} distinct {len(ids)}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
