"""notifications.letter: the directly written letter reads back as the email package's does."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mail.errors import HeaderInjection
from notifications import letter as letters
from notifications.letter import build_notification

CREATED = datetime(2026, 12, 1, 15, 0, 0, tzinfo=UTC)
MESSAGE_ID = "<1.2.3@example.ru>"

# Header text as enqueue lets it through: no control characters, no encoded-words.
HEADER_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=120
).filter(lambda value: "=?" not in value)
BODY = st.text(st.characters(codec="utf-8", blacklist_characters="\x00"))


def _fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "envelope_from": "shop@example.ru",
        "sender_name": "Автозапчасти «Ромашка»",
        "sender_email": "shop@example.ru",
        "to": "buyer@example.org",
        "subject": "Заказ №1 готов к выдаче",
        "text": "Здравствуйте!\nВаш заказ готов.\n",
        "html": "<p>Здравствуйте!</p>",
        "message_id": MESSAGE_ID,
        "created_at": CREATED,
    }
    return {**fields, **overrides}


def _read(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert not message.defects
    return message


def _seen(message: EmailMessage) -> dict[str, Any]:
    """What a mail client shows: headers decoded, bodies' text with line ends unified."""
    sender = message["From"].addresses[0]
    bodies = [message] if not message.is_multipart() else list(message.iter_parts())
    return {
        # Runs of white space in a header are folding's business, not the text's.
        "subject": " ".join(str(message["Subject"]).split()),
        "from": (sender.display_name, sender.addr_spec),
        "to": message["To"].addresses[0].addr_spec,
        "date": message["Date"].datetime,
        "message_id": message["Message-ID"],
        "bodies": [
            (part.get_content_type(), part.get_content().replace("\r\n", "\n")) for part in bodies
        ],
        "headers": [name for name in message.keys() if not name.startswith("Content-")],  # noqa: SIM118
    }


def _by_email_package(fields: dict[str, Any]) -> EmailMessage:
    local, _, domain = fields["sender_email"].rpartition("@")
    to_local, _, to_domain = fields["to"].rpartition("@")
    built = letters._build_with_email(
        envelope_from=fields["envelope_from"],
        name=(fields["sender_name"] or "").strip(),
        sender_email=fields["sender_email"],
        from_local=local,
        from_domain=domain,
        to=fields["to"],
        to_local=to_local,
        to_domain=to_domain,
        subject=fields["subject"],
        text=fields["text"],
        html=fields["html"],
        message_id=fields["message_id"],
        created_at=fields["created_at"],
    )
    return _read(built.data)


@settings(max_examples=150, deadline=None)
@given(
    subject=HEADER_TEXT,
    name=HEADER_TEXT,
    text=BODY,
    html=st.none() | BODY,
)
def test_the_direct_letter_reads_as_the_email_packages(
    subject: str, name: str, text: str, html: str | None
) -> None:
    fields = _fields(subject=subject, sender_name=name, text=text, html=html)
    direct = build_notification(**fields)
    assert not direct.smtputf8
    assert all(len(line) <= 998 for line in direct.data.split(b"\r\n"))
    assert direct.data.isascii()  # 7-bit clean: no 8BITMIME needed
    assert _seen(_read(direct.data)) == _seen(_by_email_package(fields))


def test_headers_are_the_set_ones_in_order_and_bodies_base64() -> None:
    data = build_notification(**_fields()).data
    head = data.partition(b"\r\n\r\n")[0].decode("ascii")
    names = [line.partition(":")[0] for line in head.split("\r\n") if not line.startswith(" ")]
    assert names == [*letters.HEADERS, "MIME-Version", "Content-Type"]
    message = _read(data)
    assert [part["Content-Transfer-Encoding"] for part in message.iter_parts()] == [
        "base64",
        "base64",
    ]
    assert message["Message-ID"] == MESSAGE_ID


def test_an_address_that_needs_smtputf8_takes_the_email_package() -> None:
    utf8 = build_notification(**_fields(to="покупатель@пример.рф"))
    assert utf8.smtputf8
    assert _read(utf8.data)["To"].addresses[0].domain == "xn--e1afmkfd.xn--p1ai"


@pytest.mark.parametrize("field", ["subject", "sender_name", "to", "message_id"])
def test_a_line_break_in_a_header_value_is_refused(field: str) -> None:
    value = {"to": "a@example.org\r\nBcc: x@evil.test", "message_id": "<a@b>\r\nBcc: x"}.get(
        field, "Заказ\r\nBcc: x@evil.test"
    )
    with pytest.raises(HeaderInjection):
        build_notification(**_fields(**{field: value}))
