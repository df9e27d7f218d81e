"""Which configuration a test letter tried, so Save and the tab know whether it was tested.

A configuration is the host, port, security mode, address and credentials. Attempts keep
a keyed digest of it (HMAC-SHA256 under a key derived from the deployment's secret key,
``PasswordBox.derived_key``): equal configurations give equal digests, and without the
deployment's key nothing can be learnt from one — not even by guessing passwords, as a
plain hash would allow. The password itself is never stored with an attempt.

``last_test`` is the newest attempt of exactly the saved configuration; ``not_tested``
is Save's warning when no letter of the saved configuration was delivered. After a new
key is put first (``mailtab rotate-key``) digests change: the configuration reads as
untested until a letter is sent again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from i18n import Text
from mail.failures import FailureCode
from mail.security import Security
from models import TestEmailAttempt
from services.errors import FieldError, MailSettingsWarningCode
from services.mail_form import MailValues
from services.secrets import PasswordBox

__all__ = ["LastTest", "config_digest", "last_test", "not_tested", "saved_digest"]

_PURPOSE = b"tested-configuration"

NOT_TESTED = Text(
    ru="С этими настройками ещё не было доставлено ни одного тестового письма: отправьте "
    "тестовое письмо, прежде чем на них полагаться.",
    en="No test letter has been delivered with these settings yet: send a test letter "
    "before relying on them.",
)


@dataclass(frozen=True, slots=True)
class LastTest:
    at: datetime
    delivered: bool
    failure_code: FailureCode | None


def config_digest(
    box: PasswordBox,
    *,
    host: str,
    port: int,
    security: Security,
    address: str,
    password: str | None,
) -> str:
    """The keyed digest of one configuration (``password`` None: no login)."""
    parts = [host.lower(), port, security.value, address.lower(), password]
    message = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hmac.new(box.derived_key(_PURPOSE), message, hashlib.sha256).hexdigest()


def saved_digest(values: MailValues, password: str | None, box: PasswordBox) -> str:
    """The digest of saved (or about to be saved) values with their password."""
    return config_digest(
        box,
        host=values.smtp_host,
        port=values.port,
        security=values.security,
        address=values.address,
        password=password,
    )


async def last_test(digest: str) -> LastTest | None:
    """The newest test letter of the configuration with this digest, if any."""
    newest = (
        await TestEmailAttempt.filter(config_digest=digest).order_by("-created_at", "-id").first()
    )
    if newest is None:
        return None
    failure = None
    if not newest.delivered and newest.outcome in FailureCode.__members__:
        failure = FailureCode(newest.outcome)
    return LastTest(at=newest.created_at, delivered=newest.delivered, failure_code=failure)


async def not_tested(digest: str) -> FieldError | None:
    """Save's NOT_TESTED warning, unless a letter of this configuration was delivered."""
    if await TestEmailAttempt.exists(config_digest=digest, delivered=True):
        return None
    return FieldError(None, MailSettingsWarningCode.NOT_TESTED, NOT_TESTED)
