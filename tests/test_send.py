"""sendTestEmail through the real app to real in-process SMTP servers."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import os
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import pytest

from mail.presets import ProviderCode
from models import Role
from models import TestEmailAttempt as AttemptRecord
from services.ratelimit import RateLimiter
from services.tokens import create_token
from tests.conftest import GraphQLClient
from tests.smtpd import (
    GMAIL_APP_PASSWORD_REQUIRED,
    RCPT_USER_UNKNOWN,
    SENDER_NOT_OWNED,
    Certificates,
    Replies,
    RunningServer,
    ServerMode,
    closed_port,
    smtp_server,
)

ADDRESS = "shop@example.ru"
PASSWORD = "Пароль-Sekr3t"
RECIPIENT = "buyer@example.org"

SEND = """
mutation($input: SendTestEmailInput!) {
  sendTestEmail(input: $input) {
    delivered messageId retryAfter
    failure { code field message hint helpUrl smtpCode smtpReply certificateProblem }
    errors { field message code }
  }
}"""
SAVE = """
mutation($input: MailSettingsInput!) {
  saveMailSettings(input: $input) { account { id } errors { field code } }
}"""
ATTEMPTS = """{ testEmailAttempts(last: 10) { id tokenName accountId source smtpHost port security
  address recipient delivered outcome smtpCode durationMs createdAt } }"""


@pytest.fixture
async def starttls(certificates: Certificates) -> AsyncIterator[RunningServer]:
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


async def send(gql: Any, lang: str | None = None, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql(SEND, {"input": fields}, lang=lang))["sendTestEmail"]
    return payload


def received(server: RunningServer) -> EmailMessage:
    assert server.recorder.messages, "the server received no letter"
    message = email.message_from_bytes(server.recorder.messages[-1], policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_saved_settings_deliver_a_well_formed_letter(
    gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    saved = (await gql(SAVE, {"input": form(starttls)}))["saveMailSettings"]
    assert saved["errors"] == []
    payload = await send(gql, recipient=RECIPIENT)
    assert payload["errors"] == []
    assert payload["failure"] is None
    assert payload["delivered"] is True
    recorder = starttls.recorder
    assert recorder.logins == [ADDRESS]
    assert recorder.auth_over_tls == [True]
    assert recorder.mail_from == [ADDRESS]
    assert recorder.rcpt_tos == [RECIPIENT]
    letter = received(starttls)
    assert letter["Message-ID"] == payload["messageId"]
    assert payload["messageId"].endswith("@example.ru>")
    assert letter["From"].addresses[0].display_name == "Автозапчасти «Ромашка»"
    assert letter["From"].addresses[0].addr_spec == ADDRESS
    assert b"=?utf-8?" in recorder.messages[-1]
    assert letter["To"].addresses[0].addr_spec == RECIPIENT
    assert letter["Auto-Submitted"] == "auto-generated"
    assert letter["Date"]
    assert letter.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in letter.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "тестовое" in letter["Subject"].lower() or "тест" in letter["Subject"].lower()
    assert ADDRESS in parts["text/plain"] and "localhost" in parts["text/plain"]


async def test_english_letter_on_request(
    gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    payload = await send(gql, lang="en", recipient=RECIPIENT, settings=form(starttls))
    assert payload["delivered"] is True
    assert "test" in received(starttls)["Subject"].lower()


async def test_unsaved_form_uses_the_stored_password_of_the_same_account(
    gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    await gql(SAVE, {"input": form(starttls)})
    unsaved = {k: v for k, v in form(starttls, senderName="Новое имя").items() if k != "password"}
    payload = await send(gql, recipient=RECIPIENT, settings=unsaved)
    assert payload["delivered"] is True
    assert received(starttls)["From"].addresses[0].display_name == "Новое имя"


async def test_form_without_any_password_is_refused_before_connecting(
    gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    unsaved = {k: v for k, v in form(starttls).items() if k != "password"}
    payload = await send(gql, recipient=RECIPIENT, settings=unsaved)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("password", "PASSWORD_REQUIRED")
    ]
    assert payload["delivered"] is False
    assert starttls.recorder.ehlo_names == []


async def test_nothing_saved_is_not_configured(gql: Any, tab_ready: None) -> None:
    payload = await send(gql, recipient=RECIPIENT)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(None, "NOT_CONFIGURED")]


async def test_unavailable_tab(gql: Any) -> None:
    payload = await send(gql, recipient=RECIPIENT)
    assert [e["code"] for e in payload["errors"]] == ["MAIL_TAB_UNAVAILABLE"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"senderName": "Shop\r\nBcc: victim@example.com"}, ("senderName", "FORBIDDEN_CHARACTERS")),
        ({"port": 465, "security": "STARTTLS"}, ("security", "INVALID")),
        ({"address": "nope"}, ("address", "INVALID")),
    ],
)
async def test_same_validation_as_save_before_any_connection(
    gql: Any,
    tab_ready: None,
    starttls: RunningServer,
    overrides: dict[str, Any],
    expected: tuple[str, str],
) -> None:
    payload = await send(gql, recipient=RECIPIENT, settings=form(starttls, **overrides))
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [expected]
    assert starttls.recorder.ehlo_names == []


@pytest.mark.parametrize(
    ("recipient", "code"),
    [
        ("", "REQUIRED"),
        ("buyer", "INVALID"),
        ("buyer@example.org\r\nRCPT TO:<x@y.z>", "FORBIDDEN_CHARACTERS"),
    ],
)
async def test_recipient_is_validated(
    gql: Any, tab_ready: None, starttls: RunningServer, recipient: str, code: str
) -> None:
    payload = await send(gql, recipient=recipient, settings=form(starttls))
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("recipient", code)]


async def test_wrong_password_is_auth_failed_on_password(
    gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    payload = await send(gql, recipient=RECIPIENT, settings=form(starttls, password="wrong"))
    assert payload["delivered"] is False
    failure = payload["failure"]
    assert (failure["code"], failure["field"]) == ("AUTH_FAILED", "password")
    assert failure["smtpCode"] == 535
    assert failure["message"] and failure["hint"]


async def test_gmail_app_password_reply_links_googles_page(
    gql: Any, tab_ready: None, certificates: Certificates
) -> None:
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS,
        certificate=certificates.good,
        accounts={"shop@gmail.com": PASSWORD},
        replies=Replies(auth=GMAIL_APP_PASSWORD_REQUIRED),
    ) as server:
        payload = await send(
            gql,
            lang="en",
            recipient=RECIPIENT,
            settings={
                "provider": "GOOGLE",
                "smtpHost": "localhost",
                "port": server.port,
                "security": "SSL_TLS",
                "address": "shop@gmail.com",
                "password": PASSWORD,
            },
        )
    failure = payload["failure"]
    assert (failure["code"], failure["field"]) == ("APP_PASSWORD_REQUIRED", "password")
    assert failure["helpUrl"] == "https://support.google.com/accounts/answer/185833"
    assert failure["smtpCode"] == 534
    assert failure["hint"].isascii()


async def test_sender_and_recipient_refusals(
    gql: Any, tab_ready: None, certificates: Certificates
) -> None:
    async with smtp_server(
        mode=ServerMode.STARTTLS,
        certificate=certificates.good,
        accounts={ADDRESS: PASSWORD},
        replies=Replies(mail_from=SENDER_NOT_OWNED),
    ) as server:
        payload = await send(gql, recipient=RECIPIENT, settings=form(server))
    assert (payload["failure"]["code"], payload["failure"]["field"]) == (
        "SENDER_REJECTED",
        "address",
    )
    async with smtp_server(
        mode=ServerMode.STARTTLS,
        certificate=certificates.good,
        accounts={ADDRESS: PASSWORD},
        replies=Replies(rcpt=RCPT_USER_UNKNOWN),
    ) as server:
        payload = await send(gql, recipient=RECIPIENT, settings=form(server))
    assert (payload["failure"]["code"], payload["failure"]["field"]) == (
        "RECIPIENT_REJECTED",
        "recipient",
    )
    assert payload["failure"]["smtpCode"] == 550


async def test_transport_failures_are_diagnosed(
    gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    refused = await send(gql, recipient=RECIPIENT, settings=form(starttls, port=closed_port()))
    assert (refused["failure"]["code"], refused["failure"]["field"]) == (
        "CONNECTION_REFUSED",
        "port",
    )
    dns = await send(
        gql, recipient=RECIPIENT, settings=form(starttls, smtpHost="nonexistent.invalid")
    )
    assert (dns["failure"]["code"], dns["failure"]["field"]) == ("DNS_FAILURE", "smtpHost")
    mismatch = await send(gql, recipient=RECIPIENT, settings=form(starttls, security="SSL_TLS"))
    assert mismatch["failure"]["code"] == "TLS_MISMATCH"
    metadata = await send(
        gql, recipient=RECIPIENT, settings=form(starttls, smtpHost="169.254.169.254")
    )
    # An address Send never connects to is refused as input, before anything connects.
    assert [(e["field"], e["code"]) for e in metadata["errors"]] == [("smtpHost", "INVALID")]


async def test_untrusted_certificate(gql: Any, tab_ready: None, certificates: Certificates) -> None:
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.untrusted, accounts={ADDRESS: PASSWORD}
    ) as server:
        payload = await send(gql, recipient=RECIPIENT, settings=form(server))
    assert payload["failure"]["code"] == "TLS_CERTIFICATE"
    assert payload["failure"]["certificateProblem"] == "UNTRUSTED"
    assert server.recorder.logins == []


async def test_attempts_are_recorded_for_admins_without_the_password(
    gql: Any, viewer_gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    await send(gql, recipient=RECIPIENT, settings=form(starttls))
    await send(gql, recipient=RECIPIENT, settings=form(starttls, password="wrong"))
    response = await gql.post(ATTEMPTS)
    attempts = response.json()["data"]["testEmailAttempts"]
    assert [a["outcome"] for a in attempts] == ["AUTH_FAILED", "DELIVERED"]
    first = attempts[1]
    assert first["tokenName"] == "test admin"
    assert first["source"] == "FORM"
    assert (first["smtpHost"], first["port"], first["security"]) == (
        "localhost",
        starttls.port,
        "STARTTLS",
    )
    assert first["recipient"] == RECIPIENT
    assert first["delivered"] is True
    assert first["durationMs"] >= 0
    assert PASSWORD not in response.text
    forbidden = await viewer_gql.post(ATTEMPTS)
    assert forbidden.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_viewer_cannot_send(
    viewer_gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    response = await viewer_gql.post(
        SEND, {"input": {"recipient": RECIPIENT, "settings": form(starttls)}}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert starttls.recorder.ehlo_names == []


async def test_rate_limited_per_token(gql: Any, anonymous: Any, tab_ready: None) -> None:
    port = closed_port()
    settings = {
        "provider": "OTHER",
        "smtpHost": "127.0.0.1",
        "port": port,
        "useSsl": False,
        "address": ADDRESS,
        "password": PASSWORD,
    }
    results = [await send(gql, recipient=RECIPIENT, settings=settings) for _ in range(11)]
    assert all(r["failure"]["code"] == "CONNECTION_REFUSED" for r in results[:10])
    last = results[10]
    assert [(e["field"], e["code"]) for e in last["errors"]] == [(None, "RATE_LIMITED")]
    assert 0 < last["retryAfter"] <= 60
    assert str(last["retryAfter"]) in last["errors"][0]["message"]
    assert await AttemptRecord.filter(outcome="RATE_LIMITED").count() == 1
    # The limit is per token: another admin still gets through.
    other = GraphQLClient(anonymous, (await create_token(name="second admin", role=Role.ADMIN))[1])
    assert (await send(other, recipient=RECIPIENT, settings=settings))["errors"] == []
    metrics = (await anonymous.get("/metrics")).text
    assert 'mailtab_rate_limited_total{operation="sendTestEmail"}' in metrics


def _redis_url() -> str | None:
    return os.environ.get("MAILTAB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


async def test_redis_limit_is_shared_between_instances() -> None:
    url = _redis_url()
    first, second = RateLimiter("3/minute", url), RateLimiter("3/minute", url)
    key = f"test-{os.getpid()}"
    try:
        if not await first.available():
            if os.environ.get("CI"):
                pytest.fail("Redis at 127.0.0.1:6379 is required in CI")
            pytest.skip("no Redis server on 127.0.0.1:6379")
        await first.reset(key)
        assert [await first.hit(key), await second.hit(key), await first.hit(key)] == [
            None,
            None,
            None,
        ]
        assert (await second.hit(key) or 0) > 0
    finally:
        await first.reset(key)
        await first.close()
        await second.close()


async def test_password_never_in_responses_or_logs(
    gql: Any, tab_ready: None, starttls: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bodies = [
        (
            await gql.post(SEND, {"input": {"recipient": RECIPIENT, "settings": form(starttls)}})
        ).text,
        (
            await gql.post(
                SEND,
                {
                    "input": {
                        "recipient": RECIPIENT,
                        "settings": form(starttls, password=PASSWORD + "x"),
                    }
                },
            )
        ).text,
        (await gql.post(SEND, {"input": {"recipient": PASSWORD, "settings": form(starttls)}})).text,
        (
            await gql.post(
                SEND, {"input": {"recipient": RECIPIENT, "settings": {"password": PASSWORD}}}
            )
        ).text,
        (await gql.post(ATTEMPTS)).text,
    ]
    for body in bodies:
        assert PASSWORD not in body
    for record in caplog.records:
        assert PASSWORD not in record.getMessage()


async def test_concurrent_sends_each_deliver_their_own_letter(
    gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    results = await asyncio.gather(
        *(send(gql, recipient=RECIPIENT, settings=form(starttls)) for _ in range(5))
    )
    assert all(r["delivered"] for r in results)
    assert len(starttls.recorder.messages) == 5
    ids = {r["messageId"] for r in results}
    assert len(ids) == 5
    received_ids = {
        email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"]
        for raw in starttls.recorder.messages
    }
    assert received_ids == ids


async def test_saved_relay_without_login_delivers(
    gql: Any, tab_ready: None, certificates: Certificates
) -> None:
    async with smtp_server(mode=ServerMode.PLAIN, auth_required=False) as server:
        relay = {
            "provider": "OTHER",
            "smtpHost": "127.0.0.1",
            "port": server.port,
            "useSsl": False,
            "address": ADDRESS,
            "password": None,
        }
        assert (await gql(SAVE, {"input": relay}))["saveMailSettings"]["errors"] == []
        payload = await send(gql, recipient=RECIPIENT)
        assert payload["delivered"] is True, payload
        assert server.recorder.auth_commands == []
        omitted = {k: v for k, v in relay.items() if k != "password"}
        assert (await send(gql, recipient=RECIPIENT, settings=omitted))["delivered"] is True


async def test_metrics_count_letters_and_refusals(
    gql: Any, anonymous: Any, tab_ready: None, starttls: RunningServer
) -> None:
    def value(text: str, line_start: str) -> float:
        lines = [line for line in text.splitlines() if line.startswith(line_start)]
        return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0

    before = (await anonymous.get("/metrics")).text
    await send(gql, recipient=RECIPIENT, settings=form(starttls))
    await send(gql, recipient=RECIPIENT, settings=form(starttls, password="wrong"))
    after = (await anonymous.get("/metrics")).text
    for outcome in ("DELIVERED", "AUTH_FAILED"):
        metric = f'mailtab_test_emails_total{{outcome="{outcome}"}}'
        assert value(after, metric) == value(before, metric) + 1


@pytest.mark.parametrize(
    "changes",
    [{"useSsl": False, "security": None}, {"security": "SSL_TLS"}, {"port": "plain listener"}],
)
async def test_stored_password_goes_only_where_it_was_saved_for(
    gql: Any, tab_ready: None, starttls: RunningServer, changes: dict[str, Any]
) -> None:
    """A form that moves the saved account to another port or mode must bring the password."""
    assert (await gql(SAVE, {"input": form(starttls)}))["saveMailSettings"]["errors"] == []
    async with smtp_server(mode=ServerMode.PLAIN, accounts={ADDRESS: PASSWORD}) as listener:
        values = {k: (listener.port if v == "plain listener" else v) for k, v in changes.items()}
        moved = {
            k: v for k, v in form(starttls, **values).items() if k != "password" and v is not None
        }
        payload = await send(gql, recipient=RECIPIENT, settings=moved)
        assert [(e["field"], e["code"]) for e in payload["errors"]] == [
            ("password", "PASSWORD_REQUIRED")
        ]
        assert listener.recorder.passwords == []
        assert starttls.recorder.passwords == []
    save = (await gql(SAVE, {"input": moved}))["saveMailSettings"]
    assert [(e["field"], e["code"]) for e in save["errors"]] == [("password", "PASSWORD_REQUIRED")]


async def test_an_attempt_cut_short_is_still_recorded(
    gql: Any, tab_ready: None, starttls: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import services.mail_check

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("delivery bug")

    monkeypatch.setattr(services.mail_check, "deliver", broken)
    response = await gql.post(SEND, {"input": {"recipient": RECIPIENT, "settings": form(starttls)}})
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert await AttemptRecord.filter(outcome="ERROR", recipient=RECIPIENT).count() == 1


async def test_an_attempt_cancelled_by_the_time_budget_is_recorded(
    app: Any, admin_token: str, tab_ready: None
) -> None:
    from services.mail_check import send_test_email
    from services.mail_form import MailForm
    from services.tokens import authenticate
    from tests.smtpd import silent_server

    token = await authenticate(admin_token)
    with silent_server() as port:
        form_values = MailForm(
            provider=ProviderCode.OTHER,
            address=ADDRESS,
            smtp_host="127.0.0.1",
            port=port,
            use_ssl=False,
            password="x",
            password_given=True,
        )
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await send_test_email(
                    RECIPIENT, form_values, runtime=app.state.runtime, token=token, lang="ru"
                )
    assert await AttemptRecord.filter(outcome="INTERRUPTED").count() == 1


async def test_refused_presses_are_recorded_without_their_input(
    gql: Any, tab_ready: None, starttls: RunningServer
) -> None:
    await send(gql, recipient="not an address", settings=form(starttls))
    await send(gql, recipient=RECIPIENT)  # nothing saved yet
    attempts = await AttemptRecord.all().order_by("id")
    assert [(a.outcome, a.source, a.recipient, a.smtp_host) for a in attempts] == [
        ("INVALID", "FORM", None, None),
        ("NOT_CONFIGURED", "SAVED", None, None),
    ]
    assert all(a.token_name == "test admin" for a in attempts)
