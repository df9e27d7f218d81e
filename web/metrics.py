"""Prometheus metrics of the HTTP layer, and ``GET /metrics``, which serves every metric.

The request middleware calls ``observe_request``; what the services decide (test letters,
rate-limit refusals) they count themselves, in services.telemetry. ``GET /metrics`` serves
them all in the Prometheus text format without a
token: scrapers rarely carry bearer tokens, and the metrics hold counts and timings only —
no names, addresses, tokens or inputs. Keep /metrics off the public internet at the proxy
if even counts are sensitive.

With several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty, writable
folder before start: the workers then share their counts through it (prometheus_client's
multiprocess mode) and any worker answers a scrape with the sum.
"""

from __future__ import annotations

import asyncio
import logging
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("mailtab.metrics")

__all__ = [
    "GRAPHQL_IN_PROGRESS",
    "GRAPHQL_LATENCY",
    "GRAPHQL_REQUESTS",
    "metrics_endpoint",
    "observe_request",
]

GRAPHQL_REQUESTS = Counter(
    "mailtab_graphql_requests",
    "GraphQL requests by operation (root field) and outcome.",
    ["operation", "outcome"],
)
GRAPHQL_LATENCY = Histogram(
    "mailtab_graphql_request_duration_seconds",
    "Time from the request's arrival to the end of its response, by operation.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
GRAPHQL_IN_PROGRESS = Gauge(
    "mailtab_graphql_requests_in_progress",
    "GraphQL requests being served right now.",
    multiprocess_mode="livesum",
)


def observe_request(operation: str, outcome: str, seconds: float) -> None:
    GRAPHQL_REQUESTS.labels(operation=operation, outcome=outcome).inc()
    GRAPHQL_LATENCY.labels(operation=operation).observe(seconds)


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


#: Seconds the queue gauges may take to read; past it the last values are served.
QUEUE_READ_TIMEOUT = 2.0


async def metrics_endpoint(request: Request) -> Response:
    await _refresh_queue_gauges()
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


async def _refresh_queue_gauges() -> None:
    """The notification queue's gauges, read from the database (every worker's letters)."""
    from notifications.stats import refresh_gauges

    try:
        async with asyncio.timeout(QUEUE_READ_TIMEOUT):
            await refresh_gauges()
    except Exception:  # the database is down or not migrated: the metrics still answer
        log.debug("the notification queue gauges could not be read", exc_info=True)
