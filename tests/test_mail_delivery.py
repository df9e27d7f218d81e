"""Delivering the test letter to real in-process SMTP servers, and classifying what goes wrong.

Assertions are on codes and fields, never on message text.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme

import mail.connect
from mail.delivery import DeliveryResult, SmtpTarget, deliver
from mail.failures import CertificateProblem, DiagnosisContext, FailureCode, SmtpFailure
from mail.letter import build_test_letter
from mail.presets import ProviderCode, ProviderPreset, load_presets
from mail.security import Security
from tests.smtpd import (
    GMAIL_APP_PASSWORD_REQUIRED,
    MAILRU_APP_PASSWORD_REQUIRED,
    RCPT_USER_UNKNOWN,
    SENDER_NOT_OWNED,
    Certificates,
    Replies,
    RunningServer,
    ServerMode,
    closed_port,
    make_certificates,
    silent_server,
    smtp_server,
)

ACCOUNT = "shop@example.ru"
PASSWORD = "Секрет-p4ss word"  # Cyrillic and a space: sent UTF-8, must work end to end
RECIPIENT = "buyer@example.org"
SENDER_NAME = "Магазин «Запчасти»"
PRESETS = load_presets()


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("smtp-certs"))


#: A name only the tests' fake resolver knows; its certificate carries this name alone.
REBIND_HOST = "mail.rebind.test"


@pytest.fixture(scope="session")
def rebind_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A CA file and a server certificate for REBIND_HOST only (no IP address in it)."""
    ca = trustme.CA()
    ca_file = tmp_path_factory.mktemp("rebind-certs") / "rebind-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return ca_file, ca.issue_cert(REBIND_HOST)


@pytest.fixture(params=["garbage", "missing", "directory"])
def broken_ca_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A MAILTAB_SMTP_CA_FILE that cannot be loaded: not PEM, absent, or a directory."""
    path = tmp_path / "broken-ca.pem"
    if request.param == "garbage":
        path.write_text(f"{BROKEN_CA_CONTENT}\n")
    elif request.param == "directory":
        path.mkdir()
    return path


BROKEN_CA_CONTENT = "not a certificate"


def _target(
    port: int,
    security: Security,
    *,
    ca_file: Path | None,
    host: str = "localhost",
    password: str = PASSWORD,
    timeout: float = 5.0,
) -> SmtpTarget:
    return SmtpTarget(
        host=host,
        port=port,
        security=security,
        username=ACCOUNT,
        password=password,
        timeout=timeout,
        ca_file=ca_file,
    )


def _letter(target: SmtpTarget, *, sender_email: str = ACCOUNT, recipient: str = RECIPIENT) -> Any:
    return build_test_letter(
        sender_name=SENDER_NAME,
        sender_email=sender_email,
        recipient=recipient,
        address=ACCOUNT,
        smtp_host=target.host,
        port=target.port,
        security=target.security,
        lang="ru",
    )


async def _send(
    target: SmtpTarget,
    *,
    preset: ProviderPreset | None = None,
    sender_email: str = ACCOUNT,
    recipient: str = RECIPIENT,
) -> DeliveryResult:
    result = await deliver(
        _letter(target, sender_email=sender_email, recipient=recipient),
        target=target,
        envelope_from=ACCOUNT,
        recipient=recipient,
        preset=preset,
        sender_email=sender_email,
    )
    _assert_no_password(result)
    return result


def _assert_no_password(value: object) -> None:
    assert PASSWORD not in repr(value)


def _failure(result: DeliveryResult) -> SmtpFailure:
    assert not result.delivered
    assert result.failure is not None
    assert result.message_id is None
    return result.failure


def _accounts() -> Mapping[str, str]:
    return {ACCOUNT: PASSWORD}


def _received(server: RunningServer) -> EmailMessage:
    (raw,) = server.recorder.messages
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


# --- success --------------------------------------------------------------------------


async def test_starttls_with_login_delivers_a_well_formed_letter(
    certificates: Certificates,
) -> None:
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.good, accounts=_accounts()
    ) as server:
        target = _target(server.port, Security.STARTTLS, ca_file=certificates.ca_file)
        result = await _send(target)
    assert result.delivered, result.failure
    assert result.failure is None
    assert result.smtp_code == 250
    assert result.server_address == "127.0.0.1"
    recorder = server.recorder
    assert recorder.logins == [ACCOUNT]
    assert recorder.passwords == [PASSWORD]
    assert recorder.auth_over_tls == [True]
    assert recorder.mail_from == [ACCOUNT]
    assert recorder.rcpt_tos == [RECIPIENT]
    assert recorder.ehlo_names and all(n == "[127.0.0.1]" for n in recorder.ehlo_names)

    (raw,) = recorder.messages
    raw_from = re.search(rb"^From:(.*?)\r\n(?![ \t])", raw, re.MULTILINE | re.DOTALL)
    assert raw_from is not None
    assert raw_from.group(1).strip().startswith(b"=?utf-8?")  # RFC 2047 on the wire
    parsed = _received(server)
    sender = parsed["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == (SENDER_NAME, ACCOUNT)
    assert parsed["To"].addresses[0].addr_spec == RECIPIENT
    assert parsed["Message-ID"] == result.message_id
    assert parsed["Message-ID"].strip("<>").rpartition("@")[2] == "example.ru"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Date"]
    types = {part.get_content_type() for part in parsed.walk() if not part.is_multipart()}
    assert types == {"text/plain", "text/html"}


async def test_implicit_tls_with_login_delivers(certificates: Certificates) -> None:
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS, certificate=certificates.good, accounts=_accounts()
    ) as server:
        target = _target(server.port, Security.SSL_TLS, ca_file=certificates.ca_file)
        result = await _send(target)
    assert result.delivered, result.failure
    assert server.recorder.auth_over_tls == [True]
    assert server.recorder.passwords == [PASSWORD]
    assert _received(server)["From"].addresses[0].display_name == SENDER_NAME


async def test_an_ip_literal_host_is_checked_against_the_certificate_ip(
    certificates: Certificates,
) -> None:
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS, certificate=certificates.good, accounts=_accounts()
    ) as server:
        target = _target(
            server.port, Security.SSL_TLS, ca_file=certificates.ca_file, host="127.0.0.1"
        )
        result = await _send(target)
    assert result.delivered, result.failure


@pytest.mark.parametrize(
    ("mode", "security"),
    [(ServerMode.STARTTLS, Security.STARTTLS), (ServerMode.IMPLICIT_TLS, Security.SSL_TLS)],
)
async def test_the_certificate_is_checked_against_the_name_not_the_address(
    certificates: Certificates, mode: ServerMode, security: Security
) -> None:
    # The socket goes to the vetted 127.0.0.1, the certificate names only "localhost".
    async with smtp_server(
        mode=mode, certificate=certificates.name_only, accounts=_accounts()
    ) as server:
        result = await _send(_target(server.port, security, ca_file=certificates.ca_file))
    assert result.delivered, result.failure
    assert result.server_address == "127.0.0.1"


async def test_a_late_greeting_is_not_taken_for_tls(
    monkeypatch: pytest.MonkeyPatch, certificates: Certificates
) -> None:
    monkeypatch.setattr(mail.connect, "GREETING_PROBE_AFTER", 0.05)
    async with smtp_server(
        mode=ServerMode.STARTTLS,
        certificate=certificates.good,
        accounts=_accounts(),
        greeting_delay=0.4,
    ) as server:
        result = await _send(_target(server.port, Security.STARTTLS, ca_file=certificates.ca_file))
    assert result.delivered, result.failure


async def test_non_ascii_local_part_uses_smtputf8(certificates: Certificates) -> None:
    recipient = "покупатель@пример.рф"
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS, certificate=certificates.good, accounts=_accounts()
    ) as server:
        target = _target(server.port, Security.SSL_TLS, ca_file=certificates.ca_file)
        result = await _send(target, recipient=recipient)
    assert result.delivered, result.failure
    assert server.recorder.rcpt_tos == ["покупатель@xn--e1afmkfd.xn--p1ai"]
    assert "SMTPUTF8" in server.recorder.mail_options[0]


async def test_non_ascii_local_part_without_smtputf8_is_refused_before_mail(
    certificates: Certificates,
) -> None:
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS,
        certificate=certificates.good,
        accounts=_accounts(),
        smtputf8=False,
    ) as server:
        target = _target(server.port, Security.SSL_TLS, ca_file=certificates.ca_file)
        result = await _send(target, recipient="покупатель@example.org")
    failure = _failure(result)
    assert (failure.code, failure.field) == (FailureCode.SMTPUTF8_NOT_SUPPORTED, "recipient")
    assert server.recorder.mail_from == []


# --- refusals by the server -----------------------------------------------------------


async def test_wrong_password(certificates: Certificates) -> None:
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.good, accounts=_accounts()
    ) as server:
        target = _target(
            server.port, Security.STARTTLS, ca_file=certificates.ca_file, password="wrong"
        )
        result = await _send(target)
    failure = _failure(result)
    assert (failure.code, failure.field, failure.smtp_code) == (
        FailureCode.AUTH_FAILED,
        "password",
        535,
    )
    assert result.smtp_code == 535
    # One attempt only: retrying every mechanism would bring provider lockouts closer.
    assert server.recorder.auth_commands == ["PLAIN"]


async def test_gmail_app_password_required(certificates: Certificates) -> None:
    google = PRESETS[ProviderCode.GOOGLE]
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS,
        certificate=certificates.good,
        accounts=_accounts(),
        replies=Replies(auth=GMAIL_APP_PASSWORD_REQUIRED),
    ) as server:
        target = _target(server.port, Security.SSL_TLS, ca_file=certificates.ca_file)
        result = await _send(target, preset=google)
    failure = _failure(result)
    assert (failure.code, failure.field, failure.smtp_code) == (
        FailureCode.APP_PASSWORD_REQUIRED,
        "password",
        534,
    )
    assert failure.help_url == google.app_password_help_url
    assert failure.smtp_reply and "5.7.9" in failure.smtp_reply


async def test_mailru_app_password_required(certificates: Certificates) -> None:
    mailru = PRESETS[ProviderCode.MAIL_RU]
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS,
        certificate=certificates.good,
        accounts=_accounts(),
        replies=Replies(auth=MAILRU_APP_PASSWORD_REQUIRED),
    ) as server:
        target = _target(server.port, Security.SSL_TLS, ca_file=certificates.ca_file)
        result = await _send(target, preset=mailru)
    failure = _failure(result)
    assert (failure.code, failure.field) == (FailureCode.APP_PASSWORD_REQUIRED, "password")
    assert failure.help_url == mailru.app_password_help_url


@pytest.mark.parametrize(
    ("sender_email", "field"),
    [(ACCOUNT, "address"), ("news@example.ru", "senderEmail")],
)
async def test_sender_not_owned(certificates: Certificates, sender_email: str, field: str) -> None:
    reply = SENDER_NOT_OWNED.format(sender=ACCOUNT, login=ACCOUNT)
    async with smtp_server(
        mode=ServerMode.STARTTLS,
        certificate=certificates.good,
        accounts=_accounts(),
        replies=Replies(mail_from=reply),
    ) as server:
        target = _target(server.port, Security.STARTTLS, ca_file=certificates.ca_file)
        result = await _send(target, sender_email=sender_email)
    failure = _failure(result)
    assert (failure.code, failure.field, failure.smtp_code) == (
        FailureCode.SENDER_REJECTED,
        field,
        553,
    )


async def test_recipient_unknown(certificates: Certificates) -> None:
    async with smtp_server(
        mode=ServerMode.STARTTLS,
        certificate=certificates.good,
        accounts=_accounts(),
        replies=Replies(rcpt=RCPT_USER_UNKNOWN.format(recipient=RECIPIENT)),
    ) as server:
        target = _target(server.port, Security.STARTTLS, ca_file=certificates.ca_file)
        result = await _send(target)
    failure = _failure(result)
    assert (failure.code, failure.field, failure.smtp_code) == (
        FailureCode.RECIPIENT_REJECTED,
        "recipient",
        550,
    )
    assert server.recorder.messages == []


# --- certificates -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", [ServerMode.STARTTLS, ServerMode.IMPLICIT_TLS])
@pytest.mark.parametrize(
    ("which", "problem"),
    [
        ("untrusted", CertificateProblem.UNTRUSTED),
        ("expired", CertificateProblem.EXPIRED),
        ("wrong_name", CertificateProblem.HOSTNAME_MISMATCH),
    ],
)
async def test_bad_certificates(
    certificates: Certificates, mode: ServerMode, which: str, problem: CertificateProblem
) -> None:
    security = Security.STARTTLS if mode is ServerMode.STARTTLS else Security.SSL_TLS
    async with smtp_server(
        mode=mode, certificate=getattr(certificates, which), accounts=_accounts()
    ) as server:
        target = _target(server.port, security, ca_file=certificates.ca_file)
        result = await _send(target)
    failure = _failure(result)
    assert (failure.code, failure.field) == (FailureCode.TLS_CERTIFICATE, "smtpHost")
    assert failure.certificate_problem is problem
    assert server.recorder.auth_commands == []
    assert server.recorder.passwords == []


async def test_without_the_deployment_ca_the_test_ca_is_untrusted(
    certificates: Certificates,
) -> None:
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS, certificate=certificates.good, accounts=_accounts()
    ) as server:
        result = await _send(_target(server.port, Security.SSL_TLS, ca_file=None))
    assert _failure(result).certificate_problem is CertificateProblem.UNTRUSTED


# --- transport ------------------------------------------------------------------------


@pytest.mark.parametrize("security", [Security.STARTTLS, Security.SSL_TLS, Security.NONE])
async def test_a_server_that_never_greets_times_out(
    certificates: Certificates, security: Security
) -> None:
    with silent_server() as port:
        target = _target(port, security, ca_file=certificates.ca_file, timeout=0.6)
        result = await _send(target)
    failure = _failure(result)
    assert (failure.code, failure.field) == (FailureCode.TIMEOUT, "port")


async def test_closed_port(certificates: Certificates) -> None:
    target = _target(closed_port(), Security.STARTTLS, ca_file=certificates.ca_file)
    failure = _failure(await _send(target))
    assert (failure.code, failure.field) == (FailureCode.CONNECTION_REFUSED, "port")


async def test_unresolvable_host(certificates: Certificates) -> None:
    target = _target(
        465, Security.SSL_TLS, ca_file=certificates.ca_file, host="nonexistent.invalid"
    )
    result = await _send(target)
    failure = _failure(result)
    assert (failure.code, failure.field) == (FailureCode.DNS_FAILURE, "smtpHost")
    assert result.server_address is None


async def test_implicit_tls_against_a_starttls_port(certificates: Certificates) -> None:
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.good, accounts=_accounts()
    ) as server:
        target = _target(server.port, Security.SSL_TLS, ca_file=certificates.ca_file)
        result = await _send(target)
    assert _failure(result).code is FailureCode.TLS_MISMATCH
    assert server.recorder.passwords == []


@pytest.mark.parametrize(
    ("security", "field"), [(Security.STARTTLS, "port"), (Security.NONE, "useSsl")]
)
async def test_plain_greeting_expected_from_an_implicit_tls_port(
    certificates: Certificates, security: Security, field: str
) -> None:
    # A 30 s timeout: only the quick TLS probe can end this test in reasonable time.
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS, certificate=certificates.good, accounts=_accounts()
    ) as server:
        target = _target(server.port, security, ca_file=certificates.ca_file, timeout=30)
        result = await _send(target)
    failure = _failure(result)
    assert (failure.code, failure.field) == (FailureCode.TLS_MISMATCH, field)
    assert server.recorder.passwords == []


async def test_starttls_is_mandatory(certificates: Certificates) -> None:
    # The server offers AUTH in clear text and no STARTTLS: the password must stay home.
    async with smtp_server(mode=ServerMode.PLAIN, accounts=_accounts()) as server:
        target = _target(server.port, Security.STARTTLS, ca_file=certificates.ca_file)
        result = await _send(target)
    failure = _failure(result)
    assert (failure.code, failure.field) == (FailureCode.TLS_MISMATCH, "useSsl")
    assert server.recorder.auth_commands == []
    assert server.recorder.passwords == []


async def test_no_encryption_against_a_server_that_requires_it(
    certificates: Certificates,
) -> None:
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.good, accounts=_accounts()
    ) as server:
        target = _target(server.port, Security.NONE, ca_file=certificates.ca_file)
        result = await _send(target)
    failure = _failure(result)
    assert (failure.code, failure.field) == (FailureCode.TLS_MISMATCH, "useSsl")
    assert server.recorder.auth_commands == []


async def test_plain_mode_sends_when_the_admin_chose_it(certificates: Certificates) -> None:
    async with smtp_server(mode=ServerMode.PLAIN, accounts=_accounts()) as server:
        target = _target(server.port, Security.NONE, ca_file=None)
        result = await _send(target)
    assert result.delivered, result.failure
    assert server.recorder.auth_over_tls == [False]


@pytest.mark.parametrize(
    ("mode", "security"),
    [(ServerMode.STARTTLS, Security.STARTTLS), (ServerMode.IMPLICIT_TLS, Security.SSL_TLS)],
)
async def test_the_host_is_resolved_once_and_the_vetted_address_is_used(
    monkeypatch: pytest.MonkeyPatch,
    rebind_tls: tuple[Path, Any],
    mode: ServerMode,
    security: Security,
) -> None:
    # DNS rebinding: the name first answers the (allowed) test server, then cloud metadata.
    # Delivery only succeeds if the vetted first answer is the one connected to, and the
    # certificate (issued for the name only) passes only if the name is kept for TLS.
    ca_file, certificate = rebind_tls
    lookups: list[object] = []

    async def rebinding(host: object, port: Any, *args: object, **kwargs: object) -> list[Any]:
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "169.254.169.254"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    system_lookups: list[object] = []
    system_getaddrinfo = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        # Whatever would resolve the name outside the loop (aiosmtplib included) fails and
        # is recorded; other names (the in-process server's own) pass through.
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and name.rstrip(".").lower() == REBIND_HOST:
            system_lookups.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return system_getaddrinfo(host, *args, **kwargs)

    async with smtp_server(mode=mode, certificate=certificate, accounts=_accounts()) as server:
        monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", rebinding)
        monkeypatch.setattr(socket, "getaddrinfo", guarded)
        target = _target(server.port, security, ca_file=ca_file, host=REBIND_HOST)
        result = await _send(target)
        monkeypatch.undo()  # the real resolvers again before the server's thread stops
    assert result.delivered, result.failure
    assert result.server_address == "127.0.0.1"
    assert lookups == [REBIND_HOST]
    assert system_lookups == []
    assert server.recorder.auth_over_tls == [True]
    assert len(server.recorder.messages) == 1


async def test_link_local_is_refused_before_any_connection(
    monkeypatch: pytest.MonkeyPatch, certificates: Certificates
) -> None:
    attempts: list[object] = []

    async def forbidden(*args: object, **kwargs: object) -> Any:
        attempts.append(args)
        raise AssertionError("no connection may be attempted")

    loop = asyncio.get_running_loop()
    for name in ("sock_connect", "create_connection", "getaddrinfo"):
        monkeypatch.setattr(loop, name, forbidden)
    target = _target(465, Security.SSL_TLS, ca_file=certificates.ca_file, host="169.254.169.254")
    result = await _send(target)
    failure = _failure(result)
    assert (failure.code, failure.field) == (FailureCode.ADDRESS_NOT_ALLOWED, "smtpHost")
    assert attempts == []


async def test_the_whole_exchange_is_bounded(certificates: Certificates) -> None:
    with silent_server() as port:
        target = SmtpTarget(
            host="127.0.0.1",
            port=port,
            security=Security.SSL_TLS,
            username=ACCOUNT,
            password=PASSWORD,
            timeout=30,
            total_timeout=0.3,
            ca_file=certificates.ca_file,
        )
        failure = _failure(await _send(target))
    assert failure.code is FailureCode.TIMEOUT


# --- the deployment's CA file -----------------------------------------------------------


async def test_a_broken_ca_file_does_not_stop_a_plain_letter(broken_ca_file: Path) -> None:
    async with smtp_server(mode=ServerMode.PLAIN, accounts=_accounts()) as server:
        result = await _send(_target(server.port, Security.NONE, ca_file=broken_ca_file))
    assert result.delivered, result.failure


async def test_a_broken_ca_file_does_not_blind_the_tls_probe(
    certificates: Certificates, broken_ca_file: Path
) -> None:
    # The probe checks no certificate, so it needs no CA file: a plain session against
    # an implicit-TLS port is still recognised at once.
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS, certificate=certificates.good, accounts=_accounts()
    ) as server:
        target = _target(server.port, Security.NONE, ca_file=broken_ca_file, timeout=30)
        result = await _send(target)
    assert _failure(result).code is FailureCode.TLS_MISMATCH


@pytest.mark.parametrize(
    ("mode", "security"),
    [(ServerMode.STARTTLS, Security.STARTTLS), (ServerMode.IMPLICIT_TLS, Security.SSL_TLS)],
)
async def test_a_broken_ca_file_fails_a_tls_letter_without_raising(
    caplog: pytest.LogCaptureFixture,
    certificates: Certificates,
    broken_ca_file: Path,
    mode: ServerMode,
    security: Security,
) -> None:
    async with smtp_server(
        mode=mode, certificate=certificates.good, accounts=_accounts()
    ) as server:
        result = await _send(_target(server.port, security, ca_file=broken_ca_file))
    failure = _failure(result)
    # The deployment's fault, not a field of the form.
    assert (failure.code, failure.field) == (FailureCode.TLS_CERTIFICATE, None)
    assert failure.certificate_problem is None
    # Refused before resolving or connecting: nothing reached the server.
    assert result.server_address is None
    assert server.recorder.ehlo_names == []
    assert server.recorder.passwords == []
    assert BROKEN_CA_CONTENT not in repr(result)
    assert str(broken_ca_file) not in repr(result)
    assert BROKEN_CA_CONTENT not in caplog.text


def test_target_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        _target(0, Security.SSL_TLS, ca_file=None)
    with pytest.raises(ValueError):
        _target(465, Security.SSL_TLS, ca_file=None, timeout=0)


async def test_password_never_in_reprs(certificates: Certificates) -> None:
    async with smtp_server(
        mode=ServerMode.STARTTLS,
        certificate=certificates.good,
        accounts={ACCOUNT: "another"},
        replies=Replies(auth=f"535 5.7.8 You said {PASSWORD}"),
    ) as server:
        target = _target(server.port, Security.STARTTLS, ca_file=certificates.ca_file)
        result = await _send(target)
    failure = _failure(result)
    context = DiagnosisContext(
        host="smtp.example.ru",
        port=465,
        security=Security.SSL_TLS,
        address=ACCOUNT,
        secrets=(PASSWORD,),
    )
    for value in (target, result, failure, context, failure.smtp_reply, result.smtp_reply):
        assert PASSWORD not in repr(value)
        assert PASSWORD not in str(value)
