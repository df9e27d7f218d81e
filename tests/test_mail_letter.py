"""The test letter: well-formed, two-part, RFC 2047 names, punycode domains, escaped HTML."""

from __future__ import annotations

import base64
import email
import email.errors
import email.parser
import email.policy
from datetime import UTC, datetime, timedelta, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import mail.letter as letter
from i18n import Lang
from mail.errors import HeaderInjection, LetterError
from mail.letter import build_test_letter, needs_smtputf8, smtp_address
from mail.security import Security
from services.errors import Problems
from services.text import clean_text
from textrules import has_encoded_word

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


# --- Encoded-words and what really goes on the wire -----------------------------------------


def _b(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?b?{base64.b64encode(text.encode()).decode()}?="


#: Display names the standard library would decode into a line break or a bidi override.
ENCODED_NAMES = {
    "base64 headers and body": (
        "=?utf-8?b?DQpTdWJqZWN0OiBVUkdFTlQgaW52b2ljZQ0KUmVwbHktVG86IGF0dGFja2VyQGV2aWwuZXhhbXBs"
        "ZQ0KDQpQYXkgdG8gSUJBTiBYWDAwIEVWSUwNCg==?="
    ),
    "q-encoded Bcc": "=?utf-8?q?a=0D=0ABcc:_v@corp.local?=",
    "base64 bidi override": _b("\u202eevil"),
    "language tag": _b("\r\nBcc: v@corp.local", charset="utf-8*ru"),
    "upper case among words": "Shop =?UTF-8?Q?=0D=0ABcc:_v@corp.local?= Ltd",
    "quoted": '"=?utf-8?q?a=0D=0ABcc:_v@corp.local?="',
    "whitespace inside": "=?utf-8?q?a=0D=0ABcc:_v@corp.local x?=",
}
#: Those the library really decodes when it builds From (a name in quotes gets its quotes
#: escaped, and the encoded-word inside stays text).
DECODED_NAMES = {key: name for key, name in ENCODED_NAMES.items() if key != "quoted"}
ENCODED_LOCAL_PART = _b("\r\nBcc: v@evil.example")

#: The headers build_test_letter sets, in order.
LETTER_HEADERS = [
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "X-Mailer",
    "MIME-Version",
    "Content-Type",
]


def _wire(message: EmailMessage, *, utf8: bool) -> EmailMessage:
    """The letter as delivery serializes it, parsed back as a receiving server would."""
    policy = email.policy.SMTPUTF8 if utf8 else email.policy.SMTP
    raw = message.as_bytes(policy=policy)
    parsed = email.parser.Parser(policy=email.policy.default).parsestr(raw.decode("utf-8"))
    assert isinstance(parsed, EmailMessage)
    return parsed


def _squash(text: str) -> str:
    """Without whitespace: folding splits a long encoded name, and the parser of the standard
    library (unlike RFC 2047 readers) puts a space where the pieces meet."""
    return "".join(text.split())


@pytest.mark.parametrize("name", ENCODED_NAMES.values(), ids=ENCODED_NAMES.keys())
def test_encoded_sender_names_are_refused(name: str) -> None:
    with pytest.raises(HeaderInjection) as refused:
        _letter(sender_name=name)
    assert refused.value.field == "senderName"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sender_email": f"{ENCODED_LOCAL_PART}@example.ru"}, "senderEmail"),
        ({"sender_email": f"shop@{ENCODED_LOCAL_PART}"}, "senderEmail"),
        ({"recipient": f"{ENCODED_LOCAL_PART}@example.org"}, "recipient"),
    ],
)
def test_encoded_addresses_are_refused(values: dict[str, str], field: str) -> None:
    with pytest.raises(HeaderInjection) as refused:
        _letter(**values)  # type: ignore[arg-type]
    assert refused.value.field == field


@pytest.mark.parametrize("name", DECODED_NAMES.values(), ids=DECODED_NAMES.keys())
def test_the_wire_check_alone_stops_what_the_library_would_decode(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the encoded-word rule, the check of the generated headers still refuses."""
    monkeypatch.setattr(letter, "has_encoded_word", lambda text: False)
    with pytest.raises(HeaderInjection) as refused:
        _letter(sender_name=name)
    assert refused.value.field == "senderName"


def test_the_wire_check_alone_stops_an_encoded_local_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(letter, "has_encoded_word", lambda text: False)
    with pytest.raises(HeaderInjection) as refused:
        _letter(recipient=f"{ENCODED_LOCAL_PART}@example.org")
    assert refused.value.field == "recipient"


def test_header_write_error_becomes_header_injection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Newer interpreters refuse to write such a header themselves: the same typed error."""

    class HeaderWriteError(email.errors.MessageError):
        pass

    fold_binary = email.policy.EmailPolicy.fold_binary

    def refusing(policy: email.policy.EmailPolicy, name: str, value: str) -> bytes:
        if name == "From":
            raise HeaderWriteError("folded header contains newline")
        return fold_binary(policy, name, value)

    monkeypatch.setattr(email.errors, "HeaderWriteError", HeaderWriteError, raising=False)
    monkeypatch.setattr(email.policy.EmailPolicy, "fold_binary", refusing)
    with pytest.raises(HeaderInjection) as refused:
        _letter()
    assert refused.value.field == "senderName"
    assert isinstance(refused.value.__cause__, HeaderWriteError)


@pytest.mark.parametrize("utf8", [False, True])
@pytest.mark.parametrize(
    "name",
    [
        "Что =? не так",
        "a=?b?c",
        "2+2 =? ?= 4",
        "=?utf-8?x?abc?=",
        "Shop =?",
        '"Ромашка" (склад), ООО; <главный> \\ офис',
        "Иван  Петров",
        "Ж" * 200,
        "Магазин «Запчасти» " * 10,
    ],
)
def test_ordinary_names_go_out_as_they_are(name: str, utf8: bool) -> None:
    parsed = _wire(_letter(sender_name=name), utf8=utf8)
    assert list(parsed.keys()) == LETTER_HEADERS
    assert _squash(parsed["From"].addresses[0].display_name) == _squash(name)


@given(st.text(max_size=200))
@settings(max_examples=150, deadline=None)
def test_every_accepted_sender_name_builds_and_survives_the_wire(text: str) -> None:
    problems = Problems()
    name = clean_text(text, field="senderName", problems=problems, required=False, max_length=200)
    assume(not problems)
    message = _letter(sender_name=name)
    for utf8 in (False, True):
        parsed = _wire(message, utf8=utf8)
        assert list(parsed.keys()) == LETTER_HEADERS
        assert _squash(parsed["From"].addresses[0].display_name) == _squash(name or "")


def _pick(*choices: str) -> st.SearchStrategy[str]:
    return st.sampled_from(choices)


#: Encoded-words, well-formed or broken in one or more places, amid other text.
_ENCODED_WORD_LIKE = st.tuples(
    _pick("", "x ", '"', "(", "=?"),
    _pick("=?", "=", "?", ""),
    _pick("utf-8", "UTF-8*ru", "x", "", " "),
    _pick("?", "", "??"),
    _pick("b", "Q", "x", ""),
    _pick("?", "", "?="),
    _pick("YQ==", "=41", "a_b", "", " a", "?"),
    _pick("?=", "?", "=", ""),
    _pick("", " x", '"', ")", "?="),
).map("".join)


@given(_ENCODED_WORD_LIKE)
@settings(max_examples=500, deadline=None)
def test_what_the_library_decodes_is_an_encoded_word(text: str) -> None:
    """has_encoded_word finds every encoded-word the standard library's parser would decode."""
    assume(text.strip())
    header = email.policy.default.header_factory(
        "From", str(Address(display_name=text, addr_spec="shop@example.ru"))
    )
    decoded = header.addresses[0].display_name
    if "".join(decoded.split()) != "".join(text.split()):
        assert has_encoded_word(text), (text, decoded)
