"""``sendNotification``: validate a notification and queue it, once per idempotency key.

The row is written by one INSERT (its own transaction) and nothing waits for SMTP: the
workers deliver it (notifications.worker). The idempotency key is unique in the table, so
of enqueues with one key (a retry, or racing clients) exactly one INSERT succeeds; the
others read that row back and return it when its content is the same, or refuse with
IDEMPOTENCY_CONFLICT.
The Message-ID is made here, on the sender's domain, and stays the letter's across
retries, so a copy sent twice is merged by mail clients.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from email.utils import make_msgid

from tortoise import timezone
from tortoise.exceptions import IntegrityError

from i18n import Text
from mail.idn import ascii_domain
from models import Notification, NotificationStatus
from services.addresses import clean_email
from services.errors import FieldError, Problems
from services.errors import SendNotificationErrorCode as Code
from services.mail_settings import load_stored_settings
from services.text import characters, clean_text
from textrules import has_forbidden_characters

__all__ = [
    "MAX_HTML",
    "MAX_KEY",
    "MAX_SUBJECT",
    "MAX_TEXT",
    "EnqueueOutcome",
    "NotificationRequest",
    "content_hash",
    "enqueue",
]

MAX_KEY = 200
MAX_SUBJECT = 250
MAX_TEXT = 50_000
MAX_HTML = 200_000

NOT_CONFIGURED = Text(
    ru="Настройки почты еще не сохранены: уведомления отправлять не через что. "
    "Заполните вкладку «Почта» и нажмите «Сохранить».",
    en="Mail settings are not saved yet: there is no account to send notifications "
    "through. Fill in the Mail tab and press Save.",
)
CONFLICT = Text(
    ru="Уведомление с этим ключом идемпотентности уже есть, и его содержимое другое.",
    en="A notification with this idempotency key exists already, with other content.",
)
KEY_REQUIRED = Text(ru="Укажите ключ идемпотентности", en="Enter the idempotency key")
KEY_FORBIDDEN = Text(
    ru="Ключ идемпотентности не может содержать управляющие символы",
    en="The idempotency key cannot contain control characters",
)
BODY_FORBIDDEN = Text(
    ru="Текст письма не может содержать управляющие символы (кроме переводов строк и табуляции)",
    en="The letter's text cannot contain control characters (other than line breaks and tabs)",
)
BODY_REQUIRED = Text(ru="Укажите текст письма", en="Enter the letter's text")


@dataclass(frozen=True, slots=True, kw_only=True)
class NotificationRequest:
    """What the client sent; None for an omitted field."""

    to: str | None
    subject: str | None
    text: str | None
    html: str | None = None
    idempotency_key: str | None


@dataclass(slots=True)
class EnqueueOutcome:
    notification: Notification | None = None
    errors: list[FieldError] = field(default_factory=list)
    created: bool = False
    """False when an existing notification was returned for its key."""


def content_hash(*, to: str, subject: str, text: str, html: str | None) -> str:
    """What "the same content" means: these four values, as normalized on enqueue."""
    document = json.dumps([to, subject, text, html], ensure_ascii=False)
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def _too_long(limit: int, length: int) -> Text:
    count = characters(limit)
    return Text(
        ru=f"Слишком длинное значение: не более {count.ru} (сейчас {length})",
        en=f"Too long: at most {count.en} (now {length})",
    )


def _clean_key(value: str | None, problems: Problems) -> str | None:
    if value is None or not value.strip():
        problems.report("idempotencyKey", Code.REQUIRED, KEY_REQUIRED)
        return None
    if has_forbidden_characters(value):
        problems.report("idempotencyKey", Code.FORBIDDEN_CHARACTERS, KEY_FORBIDDEN)
        return None
    if len(value) > MAX_KEY:
        problems.report("idempotencyKey", Code.INVALID, _too_long(MAX_KEY, len(value)))
        return None
    return value


def _clean_body(
    value: str | None, *, field: str, problems: Problems, required: bool, max_length: int
) -> str | None:
    """A body text: line breaks and tabs allowed, other control characters refused."""
    if value is None or not value.strip():
        if required:
            problems.report(field, Code.REQUIRED, BODY_REQUIRED)
        return None
    lines = value.replace("\r\n", "\n").replace("\r", "\n")
    if has_forbidden_characters(lines.replace("\n", ""), allow_tab=True, allow_bidi=True):
        problems.report(field, Code.FORBIDDEN_CHARACTERS, BODY_FORBIDDEN)
        return None
    if len(lines) > max_length:
        problems.report(field, Code.INVALID, _too_long(max_length, len(lines)))
        return None
    return unicodedata.normalize("NFC", lines)


async def enqueue(request: NotificationRequest) -> EnqueueOutcome:
    """Queue the notification, or return the one its key names; errors change nothing."""
    problems = Problems()
    key = _clean_key(request.idempotency_key, problems)
    to = clean_email(request.to, field="to", problems=problems, required=True)
    subject = clean_text(
        request.subject,
        field="subject",
        problems=problems,
        required=True,
        max_length=MAX_SUBJECT,
        label=Text(ru="тему письма", en="the subject"),
    )
    text = _clean_body(
        request.text, field="text", problems=problems, required=True, max_length=MAX_TEXT
    )
    html = _clean_body(
        request.html, field="html", problems=problems, required=False, max_length=MAX_HTML
    )
    stored = await load_stored_settings()
    if stored is None:
        problems.report(None, Code.NOT_CONFIGURED, NOT_CONFIGURED)
    if problems or stored is None or key is None or to is None or subject is None or text is None:
        return EnqueueOutcome(errors=problems.errors)
    digest = content_hash(to=to, subject=subject, text=text, html=html)
    # A new key is the usual case: INSERT first (one round trip), and read the row only
    # when the key's unique constraint says it is there already.
    now = timezone.now()
    try:
        created = await Notification.create(
            idempotency_key=key,
            content_hash=digest,
            to_address=to,
            subject=subject,
            text=text,
            html=html,
            message_id=make_msgid(domain=_domain_of(stored.sender_email)),
            status=NotificationStatus.QUEUED,
            next_attempt_at=now,
            account_id=stored.account.id,
        )
    except IntegrityError:
        # The key was queued before, or a racing enqueue with it won: the row is there.
        existing = await Notification.get_or_none(idempotency_key=key)
        if existing is None:
            raise
        return _existing(existing, digest)
    return EnqueueOutcome(notification=created, created=True)


def _existing(notification: Notification, digest: str) -> EnqueueOutcome:
    if notification.content_hash != digest:
        return EnqueueOutcome(
            errors=[FieldError("idempotencyKey", Code.IDEMPOTENCY_CONFLICT, CONFLICT)]
        )
    return EnqueueOutcome(notification=notification)


def _domain_of(address: str) -> str:
    domain = address.rpartition("@")[2]
    try:
        return ascii_domain(domain)
    except ValueError:
        return domain
