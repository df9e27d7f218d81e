"""The server's reply is passed on without the password in any of the forms a server may
echo it in: as typed, spaced out, in hex, reversed, and base64 of those.

A server the administrator typed in may be anyone's; what it says comes back to the
client in ``smtpReply``. Each form is echoed back by a real SMTP server here.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mail.delivery import SmtpTarget, deliver
from mail.failures import FailureCode
from mail.letter import build_test_letter
from mail.redact import redact_reply
from mail.security import Security
from tests.smtpd import (
    Certificates,
    Replies,
    ServerMode,
    smtp_server,
)

ACCOUNT = "shop@example.ru"
PASSWORD = "Секрет-p4ss word"
RECIPIENT = "buyer@example.org"
RAW = PASSWORD.encode()


def skeleton(text: str) -> str:
    """Letters and digits only, lowercased: what is left of a form once separators go."""
    return "".join(ch.lower() for ch in text if ch.isalnum())


FORMS: dict[str, str] = {
    "spaced": " ".join(PASSWORD),
    "dashed": "-".join(PASSWORD),
    "dotted-twice": "..".join(PASSWORD),
    "mixed-separators": "".join(
        ch + ("_", " / ", "\t", "|")[i % 4] for i, ch in enumerate(PASSWORD)
    ),
    "upper-case": PASSWORD.upper(),
    "hex": RAW.hex(),
    "HEX": RAW.hex().upper(),
    "hex-spaced": RAW.hex(" "),
    "hex-colons": RAW.hex(":").upper(),
    "hex-escaped": "".join(f"\\x{byte:02x}" for byte in RAW),
    "hex-0x": " ".join(f"0x{byte:02X}" for byte in RAW),
    "percent-encoded": "".join(f"%{byte:02X}" for byte in RAW),
    "reversed": PASSWORD[::-1],
    "reversed-spaced": " ".join(PASSWORD[::-1]),
    "base64": base64.b64encode(RAW).decode(),
    "base64-reversed": base64.b64encode(PASSWORD[::-1].encode()).decode(),
    "base64-hex": base64.b64encode(RAW.hex().encode()).decode(),
    "base64-urlsafe": base64.urlsafe_b64encode(RAW).decode().rstrip("="),
}


def _leaks(cleaned: str, form: str) -> bool:
    return form in cleaned or skeleton(form) in skeleton(cleaned)


@pytest.mark.parametrize("name", sorted(FORMS))
def test_each_form_is_cut_out(name: str) -> None:
    form = FORMS[name]
    cleaned = redact_reply(
        f"535 5.7.8 Authentication failed for {form} (try again)",
        secrets=[PASSWORD],
        username=ACCOUNT,
    )
    assert not _leaks(cleaned, form)
    assert skeleton(PASSWORD) not in skeleton(cleaned)
    # The rest of the reply survives: the administrator still reads what the server said.
    assert cleaned.startswith("535 5.7.8 Authentication failed for")
    assert cleaned.endswith("(try again)")


@pytest.mark.parametrize("name", sorted(FORMS))
async def test_a_server_echoing_each_form_gets_none_of_it_through(
    certificates: Certificates, name: str
) -> None:
    form = FORMS[name]
    async with smtp_server(
        mode=ServerMode.STARTTLS,
        certificate=certificates.good,
        accounts={ACCOUNT: "another"},
        replies=Replies(auth=f"535 5.7.8 You said {form}, wrong"),
    ) as server:
        target = SmtpTarget(
            host="localhost",
            port=server.port,
            security=Security.STARTTLS,
            username=ACCOUNT,
            password=PASSWORD,
            timeout=5,
            ca_file=certificates.ca_file,
        )
        result = await deliver(
            _letter(target),
            target=target,
            envelope_from=ACCOUNT,
            recipient=RECIPIENT,
            preset=None,
            sender_email=ACCOUNT,
        )
    assert server.recorder.passwords == [PASSWORD]  # the server did get it, and echoed it
    failure = result.failure
    assert failure is not None and failure.code is FailureCode.AUTH_FAILED
    reply = failure.smtp_reply or ""
    assert reply.startswith("5.7.8 You said")
    assert not _leaks(reply, form)
    assert not _leaks(repr(result), form)


def _letter(target: SmtpTarget) -> Any:
    return build_test_letter(
        sender_name=None,
        sender_email=ACCOUNT,
        recipient=RECIPIENT,
        address=ACCOUNT,
        smtp_host=target.host,
        port=target.port,
        security=target.security,
        lang="en",
    )


def test_a_long_reply_is_cut_where_a_form_starts_past_the_cap() -> None:
    # The form starts inside the part that is shown and runs past the cap: no prefix of it
    # may remain visible.
    reply = "550 " + "x" * 480 + " " + " ".join(PASSWORD) * 3
    cleaned = redact_reply(reply, secrets=[PASSWORD])
    assert skeleton(PASSWORD)[:4] not in skeleton(cleaned[480:])


def test_an_unrelated_reply_is_left_alone() -> None:
    reply = "535 5.7.8 Error: authentication failed: Invalid user or password!"
    assert redact_reply(reply, secrets=[PASSWORD], username=ACCOUNT) == reply


def test_a_password_of_separators_only_is_still_cut() -> None:
    assert "!!!!" not in redact_reply("535 you said !!!!", secrets=["!!!!"])


@given(
    password=st.text(min_size=1, max_size=16),
    separators=st.lists(st.sampled_from([" ", "-", ".", "_", "\t", ", ", "\n", "::"]), max_size=16),
    prefix=st.text(max_size=20),
    suffix=st.text(max_size=20),
    reverse=st.booleans(),
)
def test_spaced_forms_never_leak(
    password: str, separators: list[str], prefix: str, suffix: str, reverse: bool
) -> None:
    chars = password[::-1] if reverse else password
    spaced = "".join(
        ch + (separators[i] if i < len(separators) else " ") for i, ch in enumerate(chars)
    )
    cleaned = redact_reply(f"{prefix}{spaced}{suffix}", secrets=[password], username=ACCOUNT)
    assert password not in cleaned
    if skeleton(password):
        assert skeleton(chars) not in skeleton(cleaned)


@given(password=st.text(min_size=1, max_size=16), upper=st.booleans())
def test_hex_forms_never_leak(password: str, upper: bool) -> None:
    hexed = password.encode().hex()
    hexed = hexed.upper() if upper else hexed
    cleaned = redact_reply(f"535 {hexed} 5.7.8", secrets=[password])
    assert hexed.lower() not in cleaned.lower()


# --- secrets ------------------------------------------------------------------------------


def test_redaction_removes_the_password_and_its_encodings() -> None:
    import base64

    plain_blob = base64.b64encode(f"\0{ACCOUNT}\0{PASSWORD}".encode()).decode()
    login_line = base64.b64encode(PASSWORD.encode()).decode()
    reply = (
        f"535 bad: {PASSWORD} / {login_line} / {plain_blob.rstrip('=')} / "
        f"unrecognized: AUTH PLAIN {plain_blob}\x00\x1b[31m"
    )
    cleaned = redact_reply(reply, secrets=[PASSWORD], username=ACCOUNT)
    for leaked in (PASSWORD, login_line, plain_blob, plain_blob.rstrip("=")):
        assert leaked not in cleaned
    assert "\x1b" not in cleaned and "\x00" not in cleaned
    assert len(redact_reply("x" * 10_000, secrets=[])) <= 500


@given(
    password=st.text(min_size=1, max_size=20),
    prefix=st.text(max_size=30),
    suffix=st.text(max_size=30),
)
def test_redaction_never_leaks(password: str, prefix: str, suffix: str) -> None:
    import base64

    encoded = base64.b64encode(password.encode()).decode()
    reply = f"{prefix}{password}{suffix} {encoded}"
    cleaned = redact_reply(reply, secrets=[password], username=ACCOUNT)
    assert password not in cleaned
    assert encoded not in cleaned


@pytest.mark.parametrize(
    "offer",
    ["250-AUTH PLAIN LOGIN", "AUTH LOGIN PLAIN CRAM-MD5", "250 AUTH XOAUTH2 PLAIN", "AUTH=LOGIN"],
)
def test_an_ehlo_auth_offer_is_shown(offer: str) -> None:
    # Mechanism names are an offer, not credentials: an engineer needs to read them.
    assert redact_reply(offer, secrets=(PASSWORD,), username=ACCOUNT) == offer


def test_an_auth_payload_after_a_mechanism_is_still_cut() -> None:
    payload = base64.b64encode(b"\0" + ACCOUNT.encode() + b"\0other").decode()
    reply = redact_reply(f"500 unrecognized: AUTH PLAIN {payload}", secrets=(), username=None)
    assert payload not in reply
    assert reply.endswith("AUTH PLAIN ***")
