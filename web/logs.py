"""Log lines: readable text by default, one JSON object per line with MAILTAB_LOG_FORMAT=json.

Every record written while a request is served carries that request's id, so the request's
own line and, say, the traceback of a masked error can be joined. Loggers that would write
SQL parameters or per-call chatter (Tortoise's ``db_client``, aiosqlite) stay at WARNING
unless MAILTAB_LOG_LEVEL=DEBUG. What never reaches a log line anywhere: tokens, passwords,
request bodies, variables and query strings (see ``web.middleware``).
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

from config import Settings
from web.faults import is_outage
from web.requests import current_request

__all__ = [
    "ACCESS_FIELDS",
    "JsonFormatter",
    "OutageTracebackFilter",
    "RequestIdFilter",
    "TextFormatter",
    "configure_logging",
    "logging_config",
]

#: Structured fields the access line (and a few others) attach with ``extra=``.
ACCESS_FIELDS = (
    "method",
    "path",
    "status",
    "operation",
    "operation_name",
    "operation_type",
    "outcome",
    "token",
    "duration_ms",
    "error_id",
)

#: Loggers that are noisy, or log query parameters (tortoise.db_client), below WARNING.
QUIET_UNLESS_DEBUG = ("tortoise", "tortoise.db_client", "aiosqlite", "asyncio", "httpcore", "hpack")


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            current = current_request()
            record.request_id = current.id if current else "-"
        return True


class OutageTracebackFilter(logging.Filter):
    """One line instead of a traceback for a refused or lost database connection.

    asyncpg's pool logs every failed attempt to restore its connections with the full
    traceback, every few seconds while PostgreSQL is down; the cause is all that matters.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and is_outage(error):
            record.msg = f"{record.getMessage()} ({error.__class__.__name__}: {error})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


class TextFormatter(logging.Formatter):
    """``2025-01-01T10:00:00.123Z INFO mailtab.access [request id] message``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _timestamp(record)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request id, fields, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for name in ACCESS_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(record.msecs):03d}Z"


def logging_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary; uvicorn is given the same one."""
    level = settings.log_level
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    quiet = "DEBUG" if level == "DEBUG" else "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request": {"()": RequestIdFilter},
            "outage": {"()": OutageTracebackFilter},
        },
        "formatters": {"mailtab": {"()": formatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "mailtab",
                "filters": ["request"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's own handlers would print its lines in its format: send them to ours.
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            # Our access line (web.middleware) replaces uvicorn's, which has the query string.
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
            "asyncpg.pool": {"filters": ["outage"]},
            **{name: {"level": quiet} for name in QUIET_UNLESS_DEBUG},
        },
    }


def configure_logging(settings: Settings) -> None:
    """Apply ``logging_config``; safe to call again (it replaces the handlers it set)."""
    logging.config.dictConfig(logging_config(settings))
