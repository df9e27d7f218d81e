"""Unexpected faults, described once: an outage (503, retry later) or a bug (500, masked).

Every fault that reaches the HTTP edge — raised before GraphQL runs (the token check) or
inside it (a resolver) — goes through ``describe_fault``: it picks the code and status,
gives the fault an id, writes the one log line (a warning without a traceback for an
outage or missing migrations, an error with the traceback for a bug) and returns what the
client may see: a localized message, the code, the id, and for 503 the reason.

A fault that only says the database (or another store) cannot be reached right now is
``SERVICE_UNAVAILABLE`` with ``reason: databaseUnreachable``: the client may retry. So is
a database that lacks the migrations of this version (``reason: pendingMigrations``, as
``/readyz`` says it): a state the administrator fixes with ``mailtab migrate``, not a bug.
"""

from __future__ import annotations

import errno
import importlib
import logging
import socket
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from i18n import Text
from models.db import is_unmigrated

__all__ = [
    "INTERNAL",
    "PENDING_MIGRATIONS",
    "UNAVAILABLE",
    "Fault",
    "describe_fault",
    "is_outage",
    "unavailable_reason",
]

log = logging.getLogger("mailtab.faults")

INTERNAL = Text(
    ru="Внутренняя ошибка сервера. Сообщите администратору номер ошибки: {error_id}.",
    en="Internal server error. Give the administrator this error id: {error_id}.",
)
UNAVAILABLE = Text(
    ru="Сервис временно недоступен: нет связи с базой данных. Повторите попытку через несколько секунд.",
    en="The service is temporarily unavailable: the database cannot be reached. Retry in a few seconds.",
)
PENDING_MIGRATIONS = Text(
    ru="Сервис временно недоступен: база данных не обновлена до этой версии. Администратору: выполните `mailtab migrate`.",
    en="The service is temporarily unavailable: the database lacks this version's migrations. Administrator: run `mailtab migrate`.",
)


def _optional_types(module: str, *names: str) -> tuple[type[BaseException], ...]:
    try:
        found = importlib.import_module(module)
    except ImportError:
        return ()
    return tuple(getattr(found, name) for name in names if hasattr(found, name))


# What a lost or refused connection looks like from asyncpg, Tortoise and the Redis clients
# behind the rate limiter. Bugs (a KeyError, a FileNotFoundError) must not hide among them,
# hence no bare OSError subclasses beyond the network ones.
_OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    *_optional_types("tortoise.exceptions", "DBConnectionError"),
    *_optional_types(
        "asyncpg.exceptions",
        "PostgresConnectionError",
        "CannotConnectNowError",
        "AdminShutdownError",
        "CrashShutdownError",
        "TooManyConnectionsError",
    ),
)
#: The Redis clients' own: looked up when an error is judged, not imported at start-up
#: (coredis alone costs a tenth of a second): an exception of theirs exists only once the
#: client module has been loaded.
_REDIS_OUTAGE_TYPES = (
    ("redis.exceptions", ("ConnectionError", "TimeoutError")),
    ("coredis.exceptions", ("ConnectionError", "TimeoutError")),
)


def _loaded_outage_types() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = []
    for module, names in _REDIS_OUTAGE_TYPES:
        loaded = sys.modules.get(module)
        if loaded is not None:
            found += [getattr(loaded, name) for name in names if hasattr(loaded, name)]
    return tuple(found)


_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
}


def is_outage(exc: BaseException) -> bool:
    """True when ``exc``, or an exception it was raised from, says a store cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _OUTAGE_TYPES + _loaded_outage_types()):
            return True
        # asyncpg reports "every address refused" as a plain OSError without an errno.
        if type(current) is OSError and (current.errno is None or current.errno in _NETWORK_ERRNOS):
            return True
        if current.__cause__ is not None:
            current = current.__cause__
        else:  # "raise … from None" says the earlier exception does not matter
            current = None if current.__suppress_context__ else current.__context__
    return False


def unavailable_reason(exc: BaseException) -> tuple[str, Text] | None:
    """Why ``exc`` makes the service unavailable (a reason code and its message), or None.

    ``databaseUnreachable``: the client may retry; ``pendingMigrations``: the database is
    there but older than the code, until ``mailtab migrate`` runs.
    """
    if is_outage(exc):
        return "databaseUnreachable", UNAVAILABLE
    if is_unmigrated(exc):
        return "pendingMigrations", PENDING_MIGRATIONS
    return None


@dataclass(frozen=True, slots=True)
class Fault:
    """What the client may know of a fault: code, HTTP status, message, id, reason."""

    code: str
    status: int
    message: Text
    error_id: str
    reason: str | None = None

    @property
    def extensions(self) -> Mapping[str, Any]:
        extra = {"reason": self.reason} if self.reason else {}
        return {"code": self.code, **extra, "errorId": self.error_id}


def describe_fault(exc: BaseException, *, where: str) -> Fault:
    """Classify ``exc``, log it once (``where`` says where it was met), and describe it."""
    error_id = uuid.uuid4().hex[:12]
    unavailable = unavailable_reason(exc)
    if unavailable is not None:
        reason, text = unavailable
        # An expected condition with a known remedy: one line, no traceback.
        log.warning(
            "service unavailable %s in %s (%s): %s: %s",
            error_id,
            where,
            reason,
            exc.__class__.__name__,
            exc,
            extra={"error_id": error_id},
        )
        return Fault("SERVICE_UNAVAILABLE", 503, text, error_id, reason)
    log.error(
        "unexpected error %s in %s: %s",
        error_id,
        where,
        exc.__class__.__name__,
        exc_info=exc,
        extra={"error_id": error_id},
    )
    return Fault("INTERNAL_SERVER_ERROR", 500, INTERNAL.format(error_id=error_id), error_id)
