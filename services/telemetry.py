"""Counters of what the services decide, for ``GET /metrics`` (web.metrics serves them).

Recorded where the decision is made, so every path counts and none twice: a test letter's
outcome when it is recorded (services.mail_check), a refusal by a rate limit where the
limit refuses. Counts only: no names, addresses, tokens or inputs. Label values are
codes of the domain's enums; anything else is counted as ``OTHER``, so that a mistake
cannot create unbounded series.
"""

from __future__ import annotations

import re

from prometheus_client import Counter

__all__ = ["RATE_LIMITED", "TEST_EMAILS", "record_rate_limited", "record_test_email"]

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

_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")
_OPERATION = re.compile(r"[a-z][A-Za-z0-9]{0,39}")


def record_test_email(outcome: str) -> None:
    """Count one press of Send: "DELIVERED", its failure code or its error code."""
    TEST_EMAILS.labels(outcome=outcome if _CODE.fullmatch(outcome) else "OTHER").inc()


def record_rate_limited(operation: str) -> None:
    """Count one refusal by a rate limit of ``operation`` (a root field, e.g. sendTestEmail)."""
    RATE_LIMITED.labels(operation=operation if _OPERATION.fullmatch(operation) else "OTHER").inc()
