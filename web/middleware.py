"""The outermost layer: a request id, security headers, one log line and metrics per request.

The log line names the method, the path (never the query string: GET operations carry
their variables there), the status, the operation (root field) and the client's operation
name, the outcome, the token's *name* and the duration. Never the Authorization header,
the body or the variables. Probes and scrapes (/healthz, /readyz, /metrics) log at DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from textrules import replace_controls
from web.metrics import GRAPHQL_IN_PROGRESS, observe_request
from web.requests import RequestRecord, serving
from web.security import API_HEADERS

__all__ = ["RequestObserver"]

access_log = logging.getLogger("mailtab.access")

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


class RequestObserver:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record = RequestRecord(method=scope["method"], path=scope["path"])
        record.adopt_client_id(Headers(scope=scope).get("x-request-id"))
        graphql = record.path == "/graphql" and record.method in ("GET", "POST")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in API_HEADERS.items():
                    headers.setdefault(name, value)
                headers["x-request-id"] = record.id
            await send(message)

        if graphql:
            GRAPHQL_IN_PROGRESS.inc()
        try:
            with serving(record):
                await self.app(scope, receive, send_with_headers)
        except asyncio.CancelledError:
            record.note("cancelled")
            raise
        except BaseException:
            record.note("internal")
            record.status = record.status or 500
            raise
        finally:
            if graphql:
                GRAPHQL_IN_PROGRESS.dec()
            _finish(record, graphql)


def _outcome_of_status(status: int) -> str:
    if status < 400:
        return "ok"
    return {503: "unavailable", 504: "timeout"}.get(
        status, "internal" if status >= 500 else "errors"
    )


def _finish(record: RequestRecord, graphql: bool) -> None:
    seconds = time.perf_counter() - record.started
    status = record.status or 0
    if record.outcome is None:
        record.outcome = _outcome_of_status(status)
    if graphql:
        observe_request(record.operation, record.outcome, seconds)
    # Probes repeat every few seconds; /readyz logs its own warning when not ready.
    level = logging.WARNING if status >= 500 else logging.INFO
    if record.path in PROBES:
        level = logging.DEBUG
    if not access_log.isEnabledFor(level):
        return
    name = _NOT_NAME.sub("", record.operation_name or "")[:64] or None
    token = replace_controls(record.token_name)[:100] if record.token_name else None
    path = replace_controls(record.path, "?")[:200]
    duration_ms = round(seconds * 1000, 1)
    access_log.log(
        level,
        "%s %s %s %s%s %s token=%s %.1f ms",
        record.method,
        path,
        status or "-",
        record.operation,
        f" ({name})" if name else "",
        record.outcome,
        repr(token) if token else "-",
        duration_ms,
        extra={
            # The line is written after the request's context has been left.
            "request_id": record.id,
            "method": record.method,
            "path": path,
            "status": status or None,
            "operation": record.operation,
            "operation_name": name,
            "operation_type": record.operation_type,
            "outcome": record.outcome,
            "token": token,
            "duration_ms": duration_ms,
        },
    )
