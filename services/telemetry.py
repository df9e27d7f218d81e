"""Counters of what the services decide, for ``GET /metrics`` (web.metrics serves them).

Recorded where the decision is made, so every path counts and none twice: a test letter's
outcome when it is recorded (services.mail_check), a refusal by a rate limit where the
limit refuses. Counts only: no names, addresses, tokens or inputs. Label values are
codes of the domain's enums; anything else is counted as ``OTHER``, so that a mistake
cannot create unbounded series.
"""

from __future__ import annotations

import re

from prometheus_client import Counter, Gauge

__all__ = [
    "NOTIFICATIONS",
    "NOTIFICATION_ATTEMPTS",
    "OLDEST_DUE",
    "RATE_LIMITED",
    "TEST_EMAILS",
    "record_notification_attempt",
    "record_rate_limited",
    "record_test_email",
]

TEST_EMAILS = Counter(
    "mailtab_test_emails",
    "Presses of Send by outcome: DELIVERED, the failure code, or the error code of a refusal.",
    ["outcome"],
)
RATE_LIMITED = Counter(
    "mailtab_rate_limited",
    "Requests refused by a rate limit, by operation.",
    ["operation"],
)

NOTIFICATION_ATTEMPTS = Counter(
    "mailtab_notification_attempts",
    "Delivery attempts of notifications by outcome (SENT, RETRIED, FAILED, PAUSED) and "
    "failure code (NONE for SENT).",
    ["outcome", "code"],
)
# Set from the database when /metrics is scraped (notifications.stats): every worker's letters.
NOTIFICATIONS = Gauge(
    "mailtab_notifications",
    "Notifications in the queue by status.",
    ["status"],
    multiprocess_mode="max",
)
OLDEST_DUE = Gauge(
    "mailtab_notification_oldest_due_seconds",
    "How long the oldest due queued notification has waited past its time (0: none).",
    multiprocess_mode="max",
)
_OUTCOMES = frozenset({"SENT", "RETRIED", "FAILED", "PAUSED"})

_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")
_OPERATION = re.compile(r"[a-z][A-Za-z0-9]{0,39}")


def record_test_email(outcome: str) -> None:
    """Count one press of Send: "DELIVERED", its failure code or its error code."""
    TEST_EMAILS.labels(outcome=outcome if _CODE.fullmatch(outcome) else "OTHER").inc()


def record_rate_limited(operation: str) -> None:
    """Count one refusal by a rate limit of ``operation`` (a root field, e.g. sendTestEmail)."""
    RATE_LIMITED.labels(operation=operation if _OPERATION.fullmatch(operation) else "OTHER").inc()


def record_notification_attempt(outcome: str, code: str | None = None) -> None:
    """Count one delivery attempt of a notification: its outcome and failure code."""
    label = code or "NONE"
    NOTIFICATION_ATTEMPTS.labels(
        outcome=outcome if outcome in _OUTCOMES else "OTHER",
        code=label if _CODE.fullmatch(label) else "OTHER",
    ).inc()
