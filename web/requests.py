"""What is known about the HTTP request being served, for its log line and its metrics.

The record lives in a context variable, so that code deep inside a resolver (a rate limit, a
test letter) can add to it without the request being passed down, and so that every log
record written while serving the request carries its id.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

__all__ = [
    "OUTCOMES",
    "RequestRecord",
    "current_request",
    "note_outcome",
    "serving",
]

#: Outcomes of a request, weakest first: a stronger one noted later wins over a weaker one,
#: so that "rate_limited" noted by a resolver survives the view's "ok", and "internal"
#: survives everything.
OUTCOMES = (
    "ok",
    "errors",
    "bad_request",
    "method_not_allowed",
    "unsupported_media_type",
    "too_large",
    "unauthenticated",
    "forbidden",
    "rate_limited",
    "cancelled",
    "timeout",
    "unavailable",
    "internal",
)
_RANK = {name: rank for rank, name in enumerate(OUTCOMES)}
_CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

_current: ContextVar[RequestRecord | None] = ContextVar("mailtab_request", default=None)


@dataclass(slots=True)
class RequestRecord:
    """One HTTP request: filled in by the layers it passes, read when it is over."""

    method: str
    path: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    started: float = field(default_factory=time.perf_counter)
    status: int | None = None
    outcome: str | None = None
    operation: str = "-"
    """Metrics label: the root field the operation selects, "multiple", or "-" before parsing."""
    operation_name: str | None = None
    """The name the client gave its operation (log only: clients choose it freely)."""
    operation_type: str | None = None
    token_name: str | None = None

    def note(self, outcome: str) -> None:
        if self.outcome is None or _RANK[outcome] > _RANK[self.outcome]:
            self.outcome = outcome

    def adopt_client_id(self, value: str | None) -> None:
        """Keep a proxy's X-Request-ID when it is a plain token (never raw text in a log)."""
        if value and _CLIENT_ID.fullmatch(value):
            self.id = value


def current_request() -> RequestRecord | None:
    """The record of the request being served by this task, if any."""
    return _current.get()


def note_outcome(outcome: str) -> None:
    """Tell the request log line how the request ended (no-op outside a request)."""
    if outcome not in _RANK:
        raise ValueError(f"unknown outcome {outcome!r}")
    record = _current.get()
    if record is not None:
        record.note(outcome)


@contextmanager
def serving(record: RequestRecord) -> Iterator[RequestRecord]:
    """Make ``record`` the current request for the duration of the block."""
    token = _current.set(record)
    try:
        yield record
    finally:
        _current.reset(token)
