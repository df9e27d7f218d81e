"""Footprint: resident memory and time to ready, against the raw baseline server.

- Time to ready: from starting ``mailtab serve`` on an empty data folder (a first start:
  the SQLite file is created and migrated) until ``/readyz`` answers 200; the raw server's
  time to its first 200 is the baseline.
- Memory: resident set after start, and after 10,000 mixed requests (queries of the Mail
  tab, the reference book and firms, test letters refused for bad input), sent over four
  keep-alive connections; growth is the difference.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bench.harness import (
    KeepAlive,
    mailtab_server,
    make_tab_available,
    median,
    raw_server,
    rss_mb,
)

__all__ = ["run"]

MIXED = [
    "query { mailProviders { code title smtpHost port useSsl security } }",
    "query { mailTab { available missing passwordHelpUrl settings { address account { id } } } }",
    "query { emailAccounts { id address smtpHost port hasPassword } }",
    "query { firms { id name inn outlets { id name kind } } }",
    'mutation { sendTestEmail(input: {recipient: "not an address"}) { delivered errors { code } } }',
]


def run(*, rounds: int, smoke: bool) -> list[dict[str, Any]]:
    requests = 500 if smoke else 10_000
    ready: list[float] = []
    raw_ready: list[float] = []
    rss_start: list[float] = []
    rss_after: list[float] = []
    raw_rss: list[float] = []
    for _ in range(max(1, rounds if not smoke else 1)):
        with raw_server(b'{"data":{}}') as raw:
            raw_ready.append(raw.ready_after)
            raw_rss.append(rss_mb(raw.process.pid))
        with mailtab_server() as server:
            ready.append(server.ready_after)
            make_tab_available(server)
            rss_start.append(rss_mb(server.process.pid))
            asyncio.run(_mixed(server, requests))
            rss_after.append(rss_mb(server.process.pid))
    growth = median(rss_after) - median(rss_start)
    return [
        {
            "section": "footprint",
            "metric": "time from start to /readyz 200 (first start)",
            "value": f"{median(ready):.2f} s (raw {median(raw_ready):.2f} s)",
            "ratio": median(ready) / median(raw_ready),
            "target": "<= 1 s",
            "holds": median(ready) <= 1.0,
        },
        {
            "section": "footprint",
            "metric": "resident memory after start",
            "value": f"{median(rss_start):.1f} MiB (raw {median(raw_rss):.1f} MiB)",
            "ratio": median(rss_start) / median(raw_rss),
            "target": "<= 100 MiB",
            "holds": median(rss_start) <= 100,
        },
        {
            "section": "footprint",
            "metric": f"resident memory after {requests:,} mixed requests",
            "value": f"{median(rss_after):.1f} MiB (growth {growth:+.1f} MiB)",
            "ratio": median(rss_after) / median(raw_rss),
            "target": "<= 100 MiB, no growth",
            "holds": median(rss_after) <= 100 and growth <= 5,
        },
    ]


async def _mixed(server: Any, requests: int) -> None:
    headers = {"Authorization": f"Bearer {server.token}"}

    async def client(offset: int) -> None:
        async with KeepAlive(server.port) as http:
            for index in range(offset, requests, 4):
                status, body = await http.post(
                    "/graphql", {"query": MIXED[index % len(MIXED)]}, headers
                )
                if status != 200 or "errors" in json.loads(body):
                    raise RuntimeError(f"mixed request failed: {status} {body[:200]!r}")

    await asyncio.gather(*(client(offset) for offset in range(4)))
