"""Read path: two queries through mailtab against the raw endpoint returning the same bytes.

For each query, rounds alternate which server goes first; each round measures requests/s
at 32 connections and p50/p99 latency at one connection, on both servers. The figures are
the medians over rounds of the per-round ratios.
"""

from __future__ import annotations

import json
from typing import Any

from bench.harness import (
    graphql,
    load,
    mailtab_server,
    make_tab_available,
    median,
    post_json,
    raw_server,
)

__all__ = ["QUERIES", "run"]

QUERIES = {
    "mailProviders": "query Providers { mailProviders { code title smtpHost port useSsl security } }",
    "mailTab": "query MailTab { mailTab { available missing settings { address account { id } } } }",
}

SAVE = """mutation { saveMailSettings(input: {provider: OTHER, smtpHost: "127.0.0.1", port: 2525,
  useSsl: false, address: "shop@example.ru", password: null, senderName: "Автозапчасти"}) {
  errors { code } } }"""


def run(*, rounds: int, smoke: bool) -> list[dict[str, Any]]:
    seconds = 1.0 if smoke else 5.0
    rows: list[dict[str, Any]] = []
    with mailtab_server() as server:
        make_tab_available(server)
        graphql(server, SAVE)
        headers = {"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"}
        for name, query in QUERIES.items():
            payload = json.dumps({"query": query, "operationName": query.split()[1]}).encode()
            status, answer = post_json(server.url, json.loads(payload), token=server.token)
            if status != 200 or b'"errors"' in answer:
                raise RuntimeError(f"{name}: {status} {answer[:200]!r}")
            rows += _compare(name, server.url, payload, answer, headers, rounds, seconds)
    return rows


def _compare(
    name: str,
    url: str,
    payload: bytes,
    answer: bytes,
    headers: dict[str, str],
    rounds: int,
    seconds: float,
) -> list[dict[str, Any]]:
    rps: list[float] = []
    p50: list[float] = []
    p99: list[float] = []
    absolute: dict[str, list[float]] = {"rps": [], "p50": [], "p99": [], "raw_rps": []}
    raw_headers = {"Content-Type": "application/json", "Authorization": headers["Authorization"]}
    with raw_server(answer) as raw:
        for index in range(rounds):
            order = [("raw", raw.url, raw_headers), ("mailtab", url, headers)]
            if index % 2:
                order.reverse()
            busy = {}
            idle = {}
            for label, target, head in order:
                busy[label] = load(target, payload, head, connections=32, seconds=seconds)
                idle[label] = load(target, payload, head, connections=1, seconds=seconds)
                if busy[label].errors or idle[label].errors:
                    raise RuntimeError(
                        f"{name}: {label} answered with errors under load "
                        f"({busy[label].errors} at 32 connections, {idle[label].errors} at 1)"
                    )
            rps.append(busy["mailtab"].requests_per_second / busy["raw"].requests_per_second)
            p50.append(idle["mailtab"].p50_ms / idle["raw"].p50_ms)
            p99.append(idle["mailtab"].p99_ms / idle["raw"].p99_ms)
            absolute["rps"].append(busy["mailtab"].requests_per_second)
            absolute["raw_rps"].append(busy["raw"].requests_per_second)
            absolute["p50"].append(idle["mailtab"].p50_ms)
            absolute["p99"].append(idle["mailtab"].p99_ms)
    rps_target = 0.25 if name == "mailProviders" else 0.10
    rows = [
        {
            "section": "read",
            "metric": f"{name}: requests/s at 32 connections",
            "value": f"{median(absolute['rps']):.0f}/s (raw {median(absolute['raw_rps']):.0f}/s)",
            "ratio": median(rps),
            "target": f">= {rps_target}x",
            "holds": median(rps) >= rps_target,
        },
        {
            "section": "read",
            "metric": f"{name}: p50 at 1 connection",
            "value": f"{median(absolute['p50']):.2f} ms",
            "ratio": median(p50),
            "target": "",
            "holds": None,
        },
        {
            "section": "read",
            "metric": f"{name}: p99 at 1 connection",
            "value": f"{median(absolute['p99']):.2f} ms",
            "ratio": median(p99),
            "target": "<= 3x" if name == "mailProviders" else "",
            "holds": median(p99) <= 3 if name == "mailProviders" else None,
        },
    ]
    return rows
