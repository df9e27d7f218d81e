"""What a failed attempt means for the letter: try again later, give up, or pause the account.

- the account itself failed (login refused, app password required, password login switched
  off, web login required, the server refuses the sender or relaying, its certificate or
  TLS mode is wrong …): every letter would fail the same way and a provider locks out an
  account that keeps failing its login, so the account's queue pauses (notifications.pause)
  and the letter goes back unchanged;
- a permanent refusal of this letter (5xx to the recipient or the message): FAILED at once;
- anything temporary (4xx, connection problems, timeouts): retried after the next of
  ``MAILTAB_NOTIFY_RETRY_DELAYS`` with ±20 % jitter, FAILED once they are used up.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from mail.failures import FailureCode, SmtpFailure

__all__ = ["ACCOUNT_FAILURES", "Decision", "decide", "retry_at"]


class Decision(StrEnum):
    RETRY = "RETRY"
    FAIL = "FAIL"
    PAUSE = "PAUSE"


#: Failures of the account or its settings, not of one letter.
ACCOUNT_FAILURES = frozenset(
    {
        FailureCode.AUTH_FAILED,
        FailureCode.AUTH_NOT_SUPPORTED,
        FailureCode.APP_PASSWORD_REQUIRED,
        FailureCode.PASSWORD_LOGIN_DISABLED,
        FailureCode.WEB_LOGIN_REQUIRED,
        FailureCode.SENDER_REJECTED,
        FailureCode.RELAY_DENIED,
        FailureCode.TLS_MISMATCH,
        FailureCode.TLS_CERTIFICATE,
        FailureCode.NOT_SMTP_SERVER,
        FailureCode.ADDRESS_NOT_ALLOWED,
        # OAuth2: the provider refused the refresh (reconnect), or this deployment has no
        # client for it; an outage of the provider (OAUTH2_PROVIDER_UNAVAILABLE) is retried.
        FailureCode.OAUTH2_REAUTHORIZATION_REQUIRED,
        FailureCode.OAUTH2_PROVIDER_REFUSED,
        FailureCode.OAUTH2_NOT_CONFIGURED,
    }
)
#: Permanent refusals of one letter.
LETTER_FAILURES = frozenset(
    {
        FailureCode.RECIPIENT_REJECTED,
        FailureCode.MESSAGE_REJECTED,
        FailureCode.SMTPUTF8_NOT_SUPPORTED,
    }
)

JITTER = 0.2


def decide(failure: SmtpFailure, *, attempts: int, delays: Sequence[float]) -> Decision:
    """The decision after ``attempts`` attempts (this one included) ended in ``failure``."""
    temporary = failure.smtp_code is not None and 400 <= failure.smtp_code < 500
    if not temporary and failure.code in ACCOUNT_FAILURES:
        return Decision.PAUSE
    permanent = failure.code in LETTER_FAILURES or (
        failure.code is FailureCode.UNKNOWN
        and failure.smtp_code is not None
        and failure.smtp_code >= 500
    )
    if permanent and not temporary:
        return Decision.FAIL
    return Decision.RETRY if attempts <= len(delays) else Decision.FAIL


def retry_at(
    now: datetime, *, attempts: int, delays: Sequence[float], rng: random.Random | None = None
) -> datetime:
    """When the next attempt is due after ``attempts`` attempts: the delay with jitter."""
    delay = delays[min(attempts, len(delays)) - 1]
    factor = 1 + (rng or random).uniform(-JITTER, JITTER)
    return now + timedelta(seconds=delay * factor)
