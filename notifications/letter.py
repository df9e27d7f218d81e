"""A queued notification as a letter: the saved sender, the customer, text and HTML.

The same header rules as the test letter (mail.letter): domains in punycode, no control
character and no RFC 2047 encoded-word in any value that reaches a header (checked on
enqueue for the notification's own fields, here again for the saved sender), and the
serialized header block must hold exactly the headers set. The Message-ID and the Date
are the notification's own, fixed on enqueue, so every retry sends the same letter.

The usual letter (ASCII addresses in dot-atom form) is written out directly: headers in
RFC 2047 encoded-words where they are not plain ASCII, both bodies UTF-8 in base64 (7-bit
clean, so no 8BITMIME is needed), a boundary that base64 cannot contain. The standard
library's ``email`` package costs several milliseconds per letter (it parses every header
it is given and folds it again), more than the whole SMTP exchange; it still writes the
rare letter the direct path does not cover (an address that needs SMTPUTF8 or a quoted
local part). Both paths end in the same header-block check.
"""

from __future__ import annotations

import base64
import email.policy
import functools
import re
import secrets
from collections.abc import Sequence
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
    from_ascii = _domain(from_domain, "senderEmail")
    to_ascii = _domain(to_domain, "to")
    direct = (
        _DOT_ATOM.fullmatch(from_local) is not None
        and _DOT_ATOM.fullmatch(to_local) is not None
        and message_id.isascii()
        and len(message_id) <= _MAX_ID
        and not _needs_smtputf8(envelope_from)
    )
    if direct:
        data = _write(
            subject=subject,
            sender=_mailbox(name, f"{from_local}@{from_ascii}"),
            to=f"{to_local}@{to_ascii}",
            date=format_datetime(created_at.replace(microsecond=0)),
            message_id=message_id,
            text=text,
            html=html,
        )
        _check_header_names(
            data, HEADERS + (_MIME_ALTERNATIVE if html is not None else _MIME_PLAIN)
        )
        return Letter(data=data, smtputf8=False)
    return _build_with_email(
        envelope_from=envelope_from,
        name=name,
        sender_email=sender_email,
        from_local=from_local,
        from_domain=from_domain,
        to=to,
        to_local=to_local,
        to_domain=to_domain,
        subject=subject,
        text=text,
        html=html,
        message_id=message_id,
        created_at=created_at,
    )


#: An RFC 5322 dot-atom local part: written as it is, no quoting needed.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_PRINTABLE = re.compile(r"[ -~]*")
_MAX_ID = 250
#: UTF-8 bytes per encoded-word: 40 make 56 base64 characters, a 68-character word.
_WORD_BYTES = 40
_MIME_ALTERNATIVE = ("MIME-Version", "Content-Type")
_MIME_PLAIN = ("MIME-Version", "Content-Type", "Content-Transfer-Encoding")
_PART_HEAD = 'Content-Type: text/{0}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'


@functools.lru_cache(maxsize=1024)
def _needs_smtputf8(envelope_from: str) -> bool:
    return needs_smtputf8(envelope_from)


def _write(
    *,
    subject: str,
    sender: str,
    to: str,
    date: str,
    message_id: str,
    text: str,
    html: str | None,
) -> bytes:
    head = (
        f"Subject: {_unstructured(subject.strip(), room=69)}\r\n"
        f"From: {sender}\r\n"
        f"To: {to}\r\n"
        f"Date: {date}\r\n"
        f"Message-ID: {message_id}\r\n"
        "Auto-Submitted: auto-generated\r\n"
        "X-Auto-Response-Suppress: All\r\n"
        "X-Mailer: mailtab\r\n"
        "MIME-Version: 1.0\r\n"
    )
    if html is None:
        return (head + _PART_HEAD.format("plain")).encode("ascii") + _base64_body(text)
    # "_" is not in the base64 alphabet: no body line can be the boundary.
    boundary = f"=_{secrets.token_hex(16)}"
    return b"".join(
        (
            (
                f'{head}Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
                f"--{boundary}\r\n{_PART_HEAD.format('plain')}"
            ).encode("ascii"),
            _base64_body(text),
            f"\r\n--{boundary}\r\n{_PART_HEAD.format('html')}".encode("ascii"),
            _base64_body(html),
            f"\r\n--{boundary}--\r\n".encode("ascii"),
        )
    )


def _base64_body(body: str) -> bytes:
    """UTF-8, lines ended by CRLF (as the ``email`` package writes them), base64 in 76s."""
    raw = body.encode("utf-8")
    raw = b"\r\n".join(raw.splitlines()) + b"\r\n"
    return base64.encodebytes(raw).replace(b"\n", b"\r\n")


def _unstructured(value: str, *, room: int) -> str:
    """Plain when short printable ASCII, else RFC 2047 "B" encoded-words, folded."""
    plain = len(value) <= room and _PRINTABLE.fullmatch(value) is not None
    if plain and value == value.strip() and "  " not in value:
        return value
    return _encoded_words(value)


def _encoded_words(value: str) -> str:
    words: list[str] = []
    chunk = bytearray()
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > _WORD_BYTES:
            words.append(_word(bytes(chunk)))
            chunk.clear()
        chunk += encoded
    if chunk or not words:
        words.append(_word(bytes(chunk)))
    return "\r\n ".join(words)


def _word(raw: bytes) -> str:
    return f"=?utf-8?b?{base64.b64encode(raw).decode('ascii')}?="


@functools.lru_cache(maxsize=256)
def _mailbox(name: str, address: str) -> str:
    """The From value, folded by the ``email`` package once per sender (then kept)."""
    local, _, domain = address.rpartition("@")
    mailbox = str(Address(display_name=name, username=local, domain=domain))
    header = email.policy.SMTP.header_factory("From", mailbox)
    folded: str = email.policy.SMTP.fold("From", header)
    return folded.removeprefix("From: ").removesuffix("\r\n")


def _build_with_email(
    *,
    envelope_from: str,
    name: str,
    sender_email: str,
    from_local: str,
    from_domain: str,
    to: str,
    to_local: str,
    to_domain: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    created_at: datetime,
) -> Letter:
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
    _check_header_names(raw, message.keys())


def _check_header_names(raw: bytes, names: Sequence[str]) -> None:
    head, blank, _ = raw.partition(b"\r\n\r\n")
    starts = [
        line.partition(b":")[0] for line in head.split(b"\r\n") if line[:1] not in (b" ", b"\t")
    ]
    expected = [name.encode("ascii") for name in names]
    if not blank or starts != expected or any(b"\r" in line or b"\n" in line for line in starts):
        raise HeaderInjection("the header block is not the one set")
