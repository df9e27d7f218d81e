"""The test letter: well-formed, two-part, RFC 2047 names, punycode domains, escaped HTML."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from i18n import Lang
from mail.letter import LetterError, build_test_letter, needs_smtputf8, smtp_address
from mail.security import Security

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def _letter(
    *,
    sender_name: str | None = "Магазин «Запчасти»",
    sender_email: str = "shop@example.ru",
    recipient: str = "buyer@example.org",
    address: str = "shop@example.ru",
    lang: Lang = "ru",
    now: datetime | None = NOW,
) -> EmailMessage:
    return build_test_letter(
        sender_name=sender_name,
        sender_email=sender_email,
        recipient=recipient,
        address=address,
        smtp_host="smtp.example.ru",
        port=465,
        security=Security.SSL_TLS,
        lang=lang,
        now=now,
    )


def _reparse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _parts(message: EmailMessage) -> dict[str, str]:
    parts: dict[str, str] = {}
    for part in message.walk():
        if isinstance(part, EmailMessage) and not part.is_multipart():
            parts[part.get_content_type()] = part.get_content()
    return parts


def test_headers_survive_the_wire() -> None:
    raw = _letter().as_bytes()
    assert raw.isascii(), "7-bit clean: no 8BITMIME or SMTPUTF8 needed"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0]
    parsed = _reparse(raw)
    sender = parsed["From"].addresses[0]
    assert sender.display_name == "Магазин «Запчасти»"
    assert sender.addr_spec == "shop@example.ru"
    assert parsed["To"].addresses[0].addr_spec == "buyer@example.org"
    assert parsed["Subject"].startswith("Тестовое письмо")
    assert parsedate_to_datetime(parsed["Date"]) == NOW
    assert parsed["Message-ID"].strip("<>").rpartition("@")[2] == "example.ru"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Mailer"] == "mailtab"
    assert parsed.get_content_type() == "multipart/alternative"


def test_both_parts_tell_where_the_letter_came_from() -> None:
    parts = _parts(_reparse(_letter().as_bytes()))
    assert set(parts) == {"text/plain", "text/html"}
    for body in parts.values():
        assert "тестовое письмо" in body.lower()
        assert "shop@example.ru" in body
        assert "smtp.example.ru:465" in body
        assert "2025-03-04 05:06:07 UTC" in body


def test_english_letter() -> None:
    parsed = _reparse(_letter(lang="en").as_bytes())
    assert parsed["Subject"].startswith("Test letter")
    assert "This is a test letter" in _parts(parsed)["text/plain"]


def test_html_is_escaped() -> None:
    html = _parts(_reparse(_letter(address="o'neil&co@example.ru").as_bytes()))["text/html"]
    assert "o&#x27;neil&amp;co@example.ru" in html
    assert "o'neil&co" not in html


def test_without_a_sender_name_from_is_the_bare_address() -> None:
    parsed = _reparse(_letter(sender_name=None).as_bytes())
    assert str(parsed["From"]) == "shop@example.ru"


def test_idn_domains_go_out_in_punycode() -> None:
    message = _letter(sender_email="info@пример.рф", recipient="покупатель@почта.рф")
    assert message["From"].addresses[0].domain == "xn--e1afmkfd.xn--p1ai"
    assert message["Message-ID"].strip("<>").endswith("@xn--e1afmkfd.xn--p1ai")
    assert message["To"].addresses[0].addr_spec == "покупатель@xn--80a1acny.xn--p1ai"


def test_non_ascii_local_parts_need_smtputf8() -> None:
    assert not needs_smtputf8("shop@пример.рф", "a@b.example")
    assert needs_smtputf8("магазин@example.ru")
    message = _letter(sender_email="магазин@пример.рф")
    raw = message.as_bytes(policy=email.policy.SMTPUTF8)
    assert "магазин@xn--e1afmkfd.xn--p1ai".encode() in raw


def test_smtp_address() -> None:
    assert smtp_address("Shop@Пример.РФ") == "Shop@xn--e1afmkfd.xn--p1ai"
    with pytest.raises(LetterError):
        smtp_address("no-at-sign")


@pytest.mark.parametrize(
    "field",
    ["sender_name", "sender_email", "recipient", "address"],
)
def test_control_characters_are_refused(field: str) -> None:
    values = {
        "sender_name": "Shop",
        "sender_email": "shop@example.ru",
        "recipient": "buyer@example.org",
        "address": "shop@example.ru",
    }
    values[field] = values[field] + "\r\nBcc: victim@example.org"
    with pytest.raises(LetterError):
        _letter(**values)  # type: ignore[arg-type]


def test_times_are_written_in_utc() -> None:
    moscow = timezone(timedelta(hours=3))
    parts = _parts(_reparse(_letter(now=datetime(2025, 3, 4, 8, 6, 7, tzinfo=moscow)).as_bytes()))
    assert "2025-03-04 05:06:07 UTC" in parts["text/plain"]
    naive = _parts(_reparse(_letter(now=datetime(2025, 3, 4, 5, 6, 7)).as_bytes()))
    assert "2025-03-04 05:06:07 UTC" in naive["text/plain"]
    assert _letter(now=None)["Date"]


def test_only_the_top_level_has_a_mime_version() -> None:
    letter = build_test_letter(
        sender_name="Магазин",
        sender_email="shop@example.ru",
        recipient="buyer@example.org",
        address="shop@example.ru",
        smtp_host="smtp.example.ru",
        port=465,
        security=Security.SSL_TLS,
        lang="ru",
    )
    assert letter["MIME-Version"] == "1.0"
    assert [part["MIME-Version"] for part in letter.iter_parts()] == [None, None]
