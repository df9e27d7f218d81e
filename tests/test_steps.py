"""The steps of a test letter's SMTP conversation, through the app to real aiosmtpd servers.

Each step's name, status and reply code are checked; replies are checked for what they
must never hold (the password in any form, AUTH payloads, challenges). No wall time.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiosmtplib import SMTPResponseException

from mail.steps import SmtpStep, StepLog, StepName, StepStatus
from models import TestEmailAttempt as AttemptRecord
from services.attempt_steps import steps_json, stored_steps
from tests.conftest import GraphQLClient
from tests.smtpd import (
    RCPT_USER_UNKNOWN,
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
    delivered
    failure { code field smtpCode }
    errors { field code }
    steps { name status durationMs smtpCode smtpReply }
  }
}"""
ATTEMPTS = """{ testEmailAttempts(last: 5) { outcome
  steps { name status durationMs smtpCode smtpReply } } }"""


def secret_forms(password: str, login: str = ADDRESS) -> list[str]:
    """The password as typed and as AUTH PLAIN / LOGIN put it on the wire."""
    raw = password.encode()
    forms = [raw, b"\0" + login.encode() + b"\0" + raw]
    return [password, *(base64.b64encode(form).decode() for form in forms)]


@pytest.fixture
async def starttls(certificates: Certificates) -> AsyncIterator[RunningServer]:
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.good, accounts={ADDRESS: PASSWORD}
    ) as server:
        yield server


@pytest.fixture
async def implicit_tls(certificates: Certificates) -> AsyncIterator[RunningServer]:
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS, certificate=certificates.good, accounts={ADDRESS: PASSWORD}
    ) as server:
        yield server


def form(port: int, security: str = "STARTTLS", **overrides: Any) -> dict[str, Any]:
    return {
        "provider": "OTHER",
        "smtpHost": "localhost",
        "port": port,
        "useSsl": security != "NONE",
        "security": security,
        "address": ADDRESS,
        "password": PASSWORD,
        **overrides,
    }


async def send(gql: GraphQLClient, settings: dict[str, Any]) -> tuple[dict[str, Any], str]:
    response = await gql.post(SEND, {"input": {"recipient": RECIPIENT, "settings": settings}})
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["sendTestEmail"], response.text


def names(steps: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(step["name"], step["status"]) for step in steps]


def assert_no_secret(text: str, password: str = PASSWORD) -> None:
    decoded = json.loads(text) if text.startswith(("{", "[")) else text
    flat = json.dumps(decoded, ensure_ascii=False)
    for form_ in secret_forms(password):
        assert form_ not in flat
        assert form_ not in text


async def test_starttls_letter_has_every_step_in_order(
    gql: GraphQLClient, tab_ready: None, starttls: RunningServer
) -> None:
    payload, text = await send(gql, form(starttls.port))
    assert payload["delivered"] is True
    steps = payload["steps"]
    assert names(steps) == [
        ("RESOLVE", "OK"),
        ("CONNECT", "OK"),
        ("GREETING", "OK"),
        ("EHLO", "OK"),
        ("STARTTLS", "OK"),
        ("EHLO", "OK"),
        ("AUTH", "OK"),
        ("MAIL_FROM", "OK"),
        ("RCPT_TO", "OK"),
        ("DATA", "OK"),
    ]
    codes = {(s["name"], s["smtpCode"]) for s in steps}
    assert {("GREETING", 220), ("STARTTLS", 220), ("AUTH", 235), ("DATA", 250)} <= codes
    assert ("MAIL_FROM", 250) in codes and ("RCPT_TO", 250) in codes
    assert all(isinstance(s["durationMs"], int) and s["durationMs"] >= 0 for s in steps)
    first_ehlo, second_ehlo = (s for s in steps if s["name"] == "EHLO")
    assert "STARTTLS" in first_ehlo["smtpReply"]
    # AUTH is offered only after the upgrade; listing mechanisms is no secret.
    assert "AUTH" not in first_ehlo["smtpReply"]
    assert "AUTH LOGIN PLAIN" in second_ehlo["smtpReply"]
    assert "queued as 4XTEST1" in steps[-1]["smtpReply"]
    assert_no_secret(text)


async def test_implicit_tls_letter_has_tls_then_greeting(
    gql: GraphQLClient, tab_ready: None, implicit_tls: RunningServer
) -> None:
    payload, _ = await send(gql, form(implicit_tls.port, "SSL_TLS"))
    assert payload["delivered"] is True
    assert names(payload["steps"])[:5] == [
        ("RESOLVE", "OK"),
        ("CONNECT", "OK"),
        ("TLS", "OK"),
        ("GREETING", "OK"),
        ("EHLO", "OK"),
    ]
    assert "STARTTLS" not in [s["name"] for s in payload["steps"]]
    greeting = payload["steps"][3]
    assert greeting["smtpCode"] == 220 and "mailtab test ESMTP" in greeting["smtpReply"]


async def test_wrong_password_fails_at_auth_and_nothing_after(
    gql: GraphQLClient, tab_ready: None, starttls: RunningServer
) -> None:
    wrong = "Wr0ng-пароль"
    payload, text = await send(gql, form(starttls.port, password=wrong))
    assert payload["failure"]["code"] == "AUTH_FAILED"
    steps = payload["steps"]
    assert names(steps)[-1] == ("AUTH", "FAILED")
    assert steps[-1]["smtpCode"] == 535
    assert "MAIL_FROM" not in [s["name"] for s in steps]
    assert_no_secret(text, wrong)
    # Kept with the attempt, the same steps.
    attempts = (await gql(ATTEMPTS))["testEmailAttempts"]
    assert attempts[0]["outcome"] == "AUTH_FAILED"
    assert attempts[0]["steps"] == steps
    raw = await AttemptRecord.all().values_list("steps_json", flat=True)
    assert_no_secret(json.dumps(raw, ensure_ascii=False), wrong)


async def test_a_reply_quoting_the_password_is_redacted(
    gql: GraphQLClient,
    tab_ready: None,
    certificates: Certificates,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    plain = base64.b64encode(b"\0" + ADDRESS.encode() + b"\0" + PASSWORD.encode()).decode()
    echo = f"535 5.7.8 Bad credentials for {PASSWORD} (AUTH PLAIN {plain})"
    async with smtp_server(
        mode=ServerMode.STARTTLS,
        certificate=certificates.good,
        accounts={ADDRESS: PASSWORD},
        replies=Replies(auth=echo),
    ) as server:
        payload, text = await send(gql, form(server.port))
    auth = payload["steps"][-1]
    assert (auth["name"], auth["status"], auth["smtpCode"]) == ("AUTH", "FAILED", 535)
    assert "***" in auth["smtpReply"]
    assert_no_secret(text)
    attempts_text = (await gql.post(ATTEMPTS)).text
    assert_no_secret(attempts_text)
    # What the app logged; aiosmtpd's own log ("mail.log") is the server's side of the wire.
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    assert ours
    assert_no_secret("\n".join(ours))


async def test_recipient_rejected_fails_at_rcpt_to(
    gql: GraphQLClient, tab_ready: None, certificates: Certificates
) -> None:
    async with smtp_server(
        mode=ServerMode.STARTTLS,
        certificate=certificates.good,
        accounts={ADDRESS: PASSWORD},
        replies=Replies(rcpt=RCPT_USER_UNKNOWN.format(recipient=RECIPIENT)),
    ) as server:
        payload, _ = await send(gql, form(server.port))
    assert payload["failure"]["code"] == "RECIPIENT_REJECTED"
    assert names(payload["steps"])[-3:] == [
        ("AUTH", "OK"),
        ("MAIL_FROM", "OK"),
        ("RCPT_TO", "FAILED"),
    ]
    assert payload["steps"][-1]["smtpCode"] == 550


async def test_relay_without_login_skips_auth(gql: GraphQLClient, tab_ready: None) -> None:
    async with smtp_server(mode=ServerMode.PLAIN, auth_required=False) as relay:
        payload, _ = await send(gql, form(relay.port, "NONE", password=None))
    assert payload["delivered"] is True
    assert ("AUTH", "SKIPPED") in names(payload["steps"])
    assert names(payload["steps"])[-1] == ("DATA", "OK")


async def test_closed_port_fails_at_connect(gql: GraphQLClient, tab_ready: None) -> None:
    payload, _ = await send(gql, form(closed_port()))
    assert payload["failure"]["code"] == "CONNECTION_REFUSED"
    assert names(payload["steps"]) == [("RESOLVE", "OK"), ("CONNECT", "FAILED")]


async def test_untrusted_certificate_fails_at_tls(
    gql: GraphQLClient, tab_ready: None, certificates: Certificates
) -> None:
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS, certificate=certificates.untrusted, accounts={}
    ) as server:
        payload, _ = await send(gql, form(server.port, "SSL_TLS"))
    assert payload["failure"]["code"] == "TLS_CERTIFICATE"
    assert names(payload["steps"]) == [("RESOLVE", "OK"), ("CONNECT", "OK"), ("TLS", "FAILED")]


async def test_host_that_does_not_resolve_fails_at_resolve(
    gql: GraphQLClient, tab_ready: None
) -> None:
    payload, _ = await send(gql, form(587, smtpHost="no-such-host.invalid"))
    assert payload["failure"]["code"] == "DNS_FAILURE"
    assert names(payload["steps"]) == [("RESOLVE", "FAILED")]


async def test_refused_input_has_no_steps(gql: GraphQLClient, tab_ready: None) -> None:
    payload, _ = await send(gql, form(0))
    assert [e["code"] for e in payload["errors"]] == ["INVALID"]
    assert payload["steps"] == []


# --- the step log itself --------------------------------------------------------------------


async def test_an_auth_challenge_is_never_kept() -> None:
    log = StepLog(secrets=(PASSWORD,), username=ADDRESS)
    challenge = base64.b64encode(b'{"status":"401","schemes":"bearer"}').decode()
    with pytest.raises(SMTPResponseException):
        async with log.step(StepName.AUTH):
            raise SMTPResponseException(334, challenge)
    [step] = log.steps
    assert (step.name, step.status, step.smtp_code, step.smtp_reply) == (
        StepName.AUTH,
        StepStatus.FAILED,
        334,
        None,
    )


async def test_a_cancelled_step_is_failed_and_the_cancellation_goes_on() -> None:
    import asyncio

    log = StepLog()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            async with log.step(StepName.GREETING):
                await asyncio.sleep(5)
    assert [(s.name, s.status) for s in log.steps] == [(StepName.GREETING, StepStatus.FAILED)]


def test_stored_steps_read_back_and_junk_reads_as_none() -> None:
    steps = (
        SmtpStep(name=StepName.RESOLVE, status=StepStatus.OK, duration_ms=1),
        SmtpStep(
            name=StepName.AUTH,
            status=StepStatus.FAILED,
            duration_ms=12,
            smtp_code=535,
            smtp_reply="5.7.8 no",
        ),
    )
    assert stored_steps(steps_json(steps)) == steps
    assert steps_json(()) is None
    assert stored_steps(None) == ()
    assert stored_steps("not json") == ()
    assert stored_steps('{"name": "AUTH"}') == ()
    assert stored_steps('[{"name": "NOPE", "status": "OK", "durationMs": 1}, 7]') == ()


async def test_starttls_client_on_an_implicit_tls_port_fails_at_the_greeting(
    gql: GraphQLClient, tab_ready: None, implicit_tls: RunningServer
) -> None:
    payload, _ = await send(gql, form(implicit_tls.port, "STARTTLS"))
    assert payload["failure"]["code"] == "TLS_MISMATCH"
    assert names(payload["steps"]) == [
        ("RESOLVE", "OK"),
        ("CONNECT", "OK"),
        ("GREETING", "FAILED"),
    ]
    assert implicit_tls.recorder.ehlo_names == []  # nothing was said to it
