"""RFC 2047 encoded-words cannot forge a letter's headers or body.

The standard library decodes encoded-words in display names and addresses and,
before CPython 3.11.10 / 3.12.5 (CVE-2024-6923), writes a decoded line break
out raw: "=?utf-8?q?a=0D=0ABcc:_v@corp.local?=" as a sender name became a Bcc
header. Such values are refused at input, refused when they come from the
database (saved before the rule, or written there directly), and whatever
reaches the real SMTP recorder here is parsed and must hold only mailtab's
headers. These tests run on the interpreter of the machine, vulnerable or not.
"""

from __future__ import annotations

import base64
import email
import email.policy
from email.message import EmailMessage
from typing import Any

import pytest

from models import EmailAccount, Outlet, ProgramSetting
from models import TestEmailAttempt as AttemptRecord
from services.mail_settings import EMAIL_GROUP
from tests.smtpd import Certificates, RunningServer, ServerMode, smtp_server
from textrules import has_forbidden_characters

ADDRESS = "shop@example.ru"
PASSWORD = "Пароль-Sekr3t"
RECIPIENT = "buyer@example.org"


def _b(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?b?{base64.b64encode(text.encode()).decode()}?="


#: The sender names from the report, and the same trick in other spellings.
NAMES = {
    "base64 headers and body": (
        "=?utf-8?b?DQpTdWJqZWN0OiBVUkdFTlQgaW52b2ljZQ0KUmVwbHktVG86IGF0dGFja2VyQGV2aWwuZXhhbXBs"
        "ZQ0KDQpQYXkgdG8gSUJBTiBYWDAwIEVWSUwNCg==?="
    ),
    "q-encoded Bcc": "=?utf-8?q?a=0D=0ABcc:_v@corp.local?=",
    "base64 bidi override": _b("\u202eevil"),
    "language tag": _b("\r\nBcc: v@corp.local", charset="utf-8*ru"),
    "upper case among words": "Shop =?UTF-8?Q?=0D=0ABcc:_v@corp.local?= Ltd",
}
#: An address whose local part is an encoded-word: every character is valid in a dot-atom.
ENCODED_ADDRESS = _b("\r\nBcc: v@evil.example") + "@example.ru"

#: The headers mailtab sets on a test letter, in order; nothing else may arrive.
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

SEND = """
mutation($input: SendTestEmailInput!) {
  sendTestEmail(input: $input) {
    delivered messageId
    failure { code field }
    errors { field message code }
  }
}"""
SAVE = """
mutation($input: MailSettingsInput!) {
  saveMailSettings(input: $input) { account { id } errors { field message code } }
}"""
CREATE_FIRM = """
mutation($input: FirmInput!) { createFirm(input: $input) { firm { id } errors { field code } } }"""
CREATE_OUTLET = """
mutation($input: OutletInput!) {
  createOutlet(input: $input) { outlet { id } errors { field code } }
}"""


@pytest.fixture
async def starttls(certificates: Certificates) -> Any:
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.good, accounts={ADDRESS: PASSWORD}
    ) as server:
        yield server


def form(server: RunningServer, **overrides: Any) -> dict[str, Any]:
    return {
        "provider": "OTHER",
        "smtpHost": "localhost",
        "port": server.port,
        "useSsl": True,
        "security": "STARTTLS",
        "address": ADDRESS,
        "password": PASSWORD,
        "senderName": "Автозапчасти «Ромашка»",
        **overrides,
    }


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in payload["errors"]]


def assert_only_mailtab_headers(raw: bytes, *, display_name: str | None, sender: str) -> None:
    """What a receiving server parses out of ``raw`` is the letter mailtab built, no more.

    ``display_name=None``: any name, as long as it is one line of plain text.
    """
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert list(parsed.keys()) == LETTER_HEADERS
    (author,) = parsed["From"].addresses
    assert author.addr_spec == sender
    if display_name is None:
        assert not has_forbidden_characters(author.display_name), author.display_name
    else:
        assert author.display_name == display_name
    assert [a.addr_spec for a in parsed["To"].addresses] == [RECIPIENT]
    assert parsed.get_content_type() == "multipart/alternative"
    parts = [part for part in parsed.iter_parts() if isinstance(part, EmailMessage)]
    assert [part.get_content_type() for part in parts] == ["text/plain", "text/html"]
    assert "тестовое письмо" in parts[0].get_content().lower()


def assert_nothing_forged(server: RunningServer, *, sender: str = ADDRESS) -> None:
    """Nothing may arrive; and whatever did must hold no header or text of the attacker's."""
    for raw in server.recorder.messages:
        assert b"URGENT" not in raw and b"IBAN" not in raw
        assert_only_mailtab_headers(raw, display_name=None, sender=sender)
    assert server.recorder.messages == []
    assert server.recorder.ehlo_names == []


async def _forge_saved(**values: str) -> None:
    """Write settings straight into the database, past every validator."""
    for key, value in values.items():
        updated = await ProgramSetting.filter(group=EMAIL_GROUP, key=key).update(
            value_json=ProgramSetting.encode(value)
        )
        assert updated == 1, key
    account_columns = {"senderName": "sender_name", "senderEmail": "sender_email"}
    await EmailAccount.all().update(**{account_columns[key]: v for key, v in values.items()})


async def test_a_plain_letter_has_exactly_mailtabs_headers(
    gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    """The check used below accepts the letter mailtab really sends."""
    payload = (await gql(SEND, {"input": {"recipient": RECIPIENT, "settings": form(starttls)}}))[
        "sendTestEmail"
    ]
    assert payload["delivered"] is True, payload
    (raw,) = starttls.recorder.messages
    assert_only_mailtab_headers(raw, display_name="Автозапчасти «Ромашка»", sender=ADDRESS)


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
async def test_save_refuses_an_encoded_sender_name(
    gql: Any, tab_ready: None, starttls: RunningServer, name: str
) -> None:
    payload = (await gql(SAVE, {"input": form(starttls, senderName=name)}))["saveMailSettings"]
    assert codes(payload) == [("senderName", "FORBIDDEN_CHARACTERS")]
    assert "=?" in payload["errors"][0]["message"]
    assert payload["account"] is None
    assert await EmailAccount.all().count() == 0
    assert await ProgramSetting.filter(group=EMAIL_GROUP).count() == 0


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
async def test_send_with_the_form_refuses_an_encoded_sender_name(
    gql: Any, tab_ready: None, starttls: RunningServer, name: str
) -> None:
    settings = form(starttls, senderName=name)
    payload = (await gql(SEND, {"input": {"recipient": RECIPIENT, "settings": settings}}))[
        "sendTestEmail"
    ]
    assert codes(payload) == [("senderName", "FORBIDDEN_CHARACTERS")]
    assert payload["delivered"] is False
    assert_nothing_forged(starttls)


@pytest.mark.parametrize("field", ["address", "senderEmail"])
async def test_save_refuses_an_encoded_address(
    gql: Any, tab_ready: None, starttls: RunningServer, field: str
) -> None:
    payload = (await gql(SAVE, {"input": form(starttls, **{field: ENCODED_ADDRESS})}))[
        "saveMailSettings"
    ]
    assert codes(payload) == [(field, "FORBIDDEN_CHARACTERS")]
    assert await EmailAccount.all().count() == 0


async def test_send_refuses_an_encoded_recipient(
    gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    payload = (
        await gql(SEND, {"input": {"recipient": ENCODED_ADDRESS, "settings": form(starttls)}})
    )["sendTestEmail"]
    assert codes(payload) == [("recipient", "FORBIDDEN_CHARACTERS")]
    assert_nothing_forged(starttls)


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
async def test_a_saved_encoded_sender_name_is_refused_not_sent(
    gql: Any, tab_ready: None, starttls: RunningServer, name: str
) -> None:
    """Saved before the rule, or written to the database directly: Send still refuses it."""
    assert codes((await gql(SAVE, {"input": form(starttls)}))["saveMailSettings"]) == []
    await _forge_saved(senderName=name)
    payload = (await gql(SEND, {"input": {"recipient": RECIPIENT}}))["sendTestEmail"]
    assert_nothing_forged(starttls)
    assert codes(payload) == [("senderName", "FORBIDDEN_CHARACTERS")]
    assert payload["delivered"] is False and payload["failure"] is None
    attempt = await AttemptRecord.all().order_by("-id").first()
    assert attempt is not None
    assert (attempt.outcome, attempt.source, attempt.delivered) == (
        "FORBIDDEN_CHARACTERS",
        "SAVED",
        False,
    )


async def test_a_saved_encoded_sender_email_is_refused_not_sent(
    gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    assert codes((await gql(SAVE, {"input": form(starttls)}))["saveMailSettings"]) == []
    await _forge_saved(senderEmail=ENCODED_ADDRESS)
    payload = (await gql(SEND, {"input": {"recipient": RECIPIENT}}))["sendTestEmail"]
    assert_nothing_forged(starttls, sender=ENCODED_ADDRESS)
    assert codes(payload) == [("senderEmail", "FORBIDDEN_CHARACTERS")]


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
async def test_displayed_firm_and_outlet_fields_refuse_encoded_words(gql: Any, name: str) -> None:
    firm = (await gql(CREATE_FIRM, {"input": {"name": name, "inn": "7707083893"}}))["createFirm"]
    assert codes(firm) == [("name", "FORBIDDEN_CHARACTERS")]
    firm_id = (await gql(CREATE_FIRM, {"input": {"name": "ООО Ромашка", "inn": "7707083893"}}))[
        "createFirm"
    ]["firm"]["id"]
    for field in ("name", "address"):
        values = {"firmId": firm_id, "name": "Склад", "kind": "WAREHOUSE", field: name}
        outlet = (await gql(CREATE_OUTLET, {"input": values}))["createOutlet"]
        assert codes(outlet) == [(field, "FORBIDDEN_CHARACTERS")]
    assert await Outlet.all().count() == 0


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"senderName": "Shop\r\nBcc: v@corp.local"}, ("senderName", "FORBIDDEN_CHARACTERS")),
        ({"senderName": "\u202eevil"}, ("senderName", "FORBIDDEN_CHARACTERS")),
        (
            {"senderEmail": "shop@example.ru\r\nBcc: v@corp.local"},
            ("senderEmail", "FORBIDDEN_CHARACTERS"),
        ),
        ({"senderEmail": "not an address"}, ("senderEmail", "INVALID")),
    ],
    ids=["line break", "bidi override", "address with a line break", "not an address"],
)
async def test_other_saved_values_the_letter_cannot_take_are_field_errors(
    gql: Any,
    tab_ready: None,
    starttls: RunningServer,
    values: dict[str, str],
    expected: tuple[str, str],
) -> None:
    """Written to the database past validation: a field error, never a server error."""
    assert codes((await gql(SAVE, {"input": form(starttls)}))["saveMailSettings"]) == []
    await _forge_saved(**values)
    payload = (await gql(SEND, {"input": {"recipient": RECIPIENT}}))["sendTestEmail"]
    assert codes(payload) == [expected]
    assert starttls.recorder.messages == [] and starttls.recorder.ehlo_names == []
