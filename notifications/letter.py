"""A queued notification as a letter: the saved sender, the customer, text and HTML.

The same header rules as the test letter (mail.letter): domains in punycode, no control
character and no RFC 2047 encoded-word in any value that reaches a header (checked on
enqueue for the notification's own fields, here again for the saved sender), and the
serialized header block must hold exactly the headers set. The Message-ID and the Date
are the notification's own, fixed on enqueue, so every retry sends the same letter.
"""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from mail.errors import HeaderInjection, LetterError
from mail.idn import ascii_domain
from mail.letter import needs_smtputf8, split_address
from textrules import has_encoded_word, has_forbidden_characters

__all__ = ["HEADERS", "Letter", "build_notification"]

#: The headers of every notification, in order.
HEADERS = (
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "X-Mailer",
)


@dataclass(frozen=True, slots=True)
class Letter:
    """The letter as it goes on the wire, serialized once."""

    data: bytes
    smtputf8: bool
    """An address keeps non-ASCII characters after punycode: the server must offer SMTPUTF8."""


def build_notification(
    *,
    envelope_from: str,
    sender_name: str | None,
    sender_email: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    created_at: datetime,
) -> Letter:
    """The letter; ``HeaderInjection`` (with the field) for a value unsafe in a header.

    ``envelope_from`` is the account's address (MAIL FROM), for the SMTPUTF8 question.
    """
    name = _header_value(sender_name or "", field="senderName").strip()
    _header_value(subject, field="subject")
    _header_value(message_id, field="messageId")
    from_local, from_domain = split_address(_header_value(sender_email, field="senderEmail"))
    to_local, to_domain = split_address(_header_value(to, field="to"), field="to")
    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = subject
    message["From"] = Address(
        display_name=name, username=from_local, domain=_domain(from_domain, "senderEmail")
    )
    message["To"] = Address(username=to_local, domain=_domain(to_domain, "to"))
    message["Date"] = format_datetime(created_at.replace(microsecond=0))
    message["Message-ID"] = message_id
    # RFC 3834: machine-made, so vacation responders stay quiet; Exchange honours the next.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Mailer"] = "mailtab"
    message.set_content(text, subtype="plain")
    if html is not None:
        message.add_alternative(html, subtype="html")
        for part in message.iter_parts():
            del part["MIME-Version"]
    utf8 = needs_smtputf8(envelope_from, sender_email, to)
    data = message.as_bytes(policy=email.policy.SMTPUTF8 if utf8 else email.policy.SMTP)
    _check_headers(message, data)
    return Letter(data=data, smtputf8=utf8)


def _header_value(value: str, *, field: str) -> str:
    if has_forbidden_characters(value) or has_encoded_word(value):
        raise HeaderInjection("not allowed in a header", field=field)
    return value


def _domain(domain: str, field: str) -> str:
    try:
        return ascii_domain(domain)
    except ValueError:
        raise LetterError("not a valid domain", field=field) from None


def _check_headers(message: EmailMessage, raw: bytes) -> None:
    """The serialized header block starts exactly the headers set, one line group each."""
    head, blank, _ = raw.partition(b"\r\n\r\n")
    starts = [
        line.partition(b":")[0] for line in head.split(b"\r\n") if line[:1] not in (b" ", b"\t")
    ]
    expected = [name.encode("ascii") for name in message.keys()]  # noqa: SIM118 - the headers
    if not blank or starts != expected or any(b"\r" in line or b"\n" in line for line in starts):
        raise HeaderInjection("the header block is not the one set")
