"""Delivering the test letter to real in-process SMTP servers, and classifying what goes wrong.

Assertions are on codes and fields, never on message text.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectError,
    SMTPConnectResponseError,
    SMTPConnectTimeoutError,
    SMTPDataError,
    SMTPException,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
)
from hypothesis import given
from hypothesis import strategies as st

import mail.connect
from mail.classify import classify, classify_reply
from mail.delivery import DeliveryResult, SmtpTarget, deliver
from mail.errors import AddressNotAllowed, AuthNotOffered, HostNotFound
from mail.failures import CertificateProblem, DiagnosisContext, FailureCode, SmtpFailure, Stage
from mail.letter import build_test_letter
from mail.presets import ProviderCode, ProviderPreset, load_presets
from mail.redact import redact_reply
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


# --- classification without a server ---------------------------------------------------


def _context(
    *,
    preset: ProviderPreset | None = None,
    security: Security = Security.SSL_TLS,
    host: str = "smtp.example.ru",
    port: int = 465,
    sender_email: str = ACCOUNT,
) -> DiagnosisContext:
    return DiagnosisContext(
        host=host,
        port=port,
        security=security,
        address=ACCOUNT,
        sender_email=sender_email,
        recipient=RECIPIENT,
        preset=preset,
        secrets=(PASSWORD,),
    )


@pytest.mark.parametrize(
    ("code", "reply", "stage", "provider", "expected", "field"),
    [
        (
            535,
            "5.7.8 Username and Password not accepted. Learn more at\n"
            "5.7.8 https://support.google.com/mail/?p=BadCredentials - gsmtp",
            Stage.AUTH,
            ProviderCode.GOOGLE,
            FailureCode.AUTH_FAILED,
            "password",
        ),
        (
            534,
            "5.7.9 Application-specific password required. Learn more at\n"
            "5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor - gsmtp",
            Stage.AUTH,
            None,
            FailureCode.APP_PASSWORD_REQUIRED,
            "password",
        ),
        (
            535,
            "5.7.0 NEOBHODIM parol prilozheniya / Application password is REQUIRED",
            Stage.AUTH,
            None,
            FailureCode.APP_PASSWORD_REQUIRED,
            "password",
        ),
        (
            535,
            "5.7.8 Error: authentication failed: Invalid user or password!",
            Stage.AUTH,
            ProviderCode.YANDEX,
            FailureCode.AUTH_FAILED,
            "password",
        ),
        (
            535,
            "5.7.8 Error: authentication failed: This user does not have access rights "
            "to this service",
            Stage.AUTH,
            ProviderCode.YANDEX,
            FailureCode.APP_PASSWORD_REQUIRED,
            "password",
        ),
        (
            535,
            "5.7.8 Error: authentication failed: Your message looks like spam. You need to "
            "use web for sending or prove you are not a robot.",
            Stage.AUTH,
            ProviderCode.YANDEX,
            FailureCode.WEB_LOGIN_REQUIRED,
            None,
        ),
        (
            530,
            "5.7.7 Email sending without SSL/TLS encryption is not allowed",
            Stage.MAIL,
            ProviderCode.YANDEX,
            FailureCode.TLS_MISMATCH,
            "useSsl",
        ),
        (
            530,
            "5.7.0 Must issue a STARTTLS command first",
            Stage.MAIL,
            None,
            FailureCode.TLS_MISMATCH,
            "useSsl",
        ),
        (
            535,
            "5.7.139 Authentication unsuccessful, basic authentication is disabled.",
            Stage.AUTH,
            ProviderCode.OUTLOOK,
            FailureCode.PASSWORD_LOGIN_DISABLED,
            "password",
        ),
        (
            535,
            "5.7.3 Authentication unsuccessful [SN4PR0601CA0012.namprd06.prod.outlook.com]",
            Stage.AUTH,
            ProviderCode.OUTLOOK,
            FailureCode.PASSWORD_LOGIN_DISABLED,
            "password",
        ),
        (
            535,
            "5.7.3 Authentication unsuccessful",
            Stage.AUTH,
            None,
            FailureCode.AUTH_FAILED,
            "password",
        ),
        (
            550,
            "5.7.30 Basic authentication is not supported for Client Submission.",
            Stage.AUTH,
            None,
            FailureCode.PASSWORD_LOGIN_DISABLED,
            "password",
        ),
        (
            553,
            f"5.7.1 <{ACCOUNT}>: Sender address rejected: not owned by user {ACCOUNT}",
            Stage.MAIL,
            ProviderCode.YANDEX,
            FailureCode.SENDER_REJECTED,
            "address",
        ),
        (
            530,
            f"5.7.0 <{ACCOUNT}>: Sender address rejected: Authentication required",
            Stage.MAIL,
            None,
            FailureCode.AUTH_FAILED,
            "password",
        ),
        (
            550,
            f"5.1.1 <{RECIPIENT}>: Recipient address rejected: User unknown in virtual "
            "mailbox table",
            Stage.RCPT,
            None,
            FailureCode.RECIPIENT_REJECTED,
            "recipient",
        ),
        (
            554,
            f"5.7.1 <{RECIPIENT}>: Relay access denied",
            Stage.RCPT,
            None,
            FailureCode.RELAY_DENIED,
            "port",
        ),
        (
            421,
            "4.7.0 Try again later, closing connection. (EHLO) - gsmtp",
            Stage.GREETING,
            None,
            FailureCode.TEMPORARY_FAILURE,
            None,
        ),
        (
            451,
            "4.7.1 Greylisted, please try again in 300 seconds",
            Stage.RCPT,
            None,
            FailureCode.TEMPORARY_FAILURE,
            None,
        ),
        (
            454,
            "4.7.0 Too many login attempts, please try again later.",
            Stage.AUTH,
            ProviderCode.GOOGLE,
            FailureCode.TEMPORARY_FAILURE,
            None,
        ),
        (
            554,
            "5.7.1 Message rejected under suspicion of SPAM",
            Stage.DATA,
            None,
            FailureCode.MESSAGE_REJECTED,
            None,
        ),
        (
            538,
            "5.7.11 Encryption required for requested authentication mechanism",
            Stage.AUTH,
            None,
            FailureCode.TLS_MISMATCH,
            "useSsl",
        ),
        (502, "5.5.1 Unrecognized command", None, None, FailureCode.UNKNOWN, None),
    ],
)
def test_reply_table(
    code: int,
    reply: str,
    stage: Stage | None,
    provider: ProviderCode | None,
    expected: FailureCode,
    field: str | None,
) -> None:
    preset = PRESETS[provider] if provider else None
    failure = classify_reply(code, reply, context=_context(preset=preset), stage=stage)
    assert (failure.code, failure.field, failure.smtp_code) == (expected, field, code)
    assert failure.smtp_reply
    assert failure.message.ru and failure.message.en


@pytest.mark.parametrize(
    ("exc", "expected", "field"),
    [
        (
            SMTPAuthenticationError(534, "5.7.9 Application-specific password required."),
            FailureCode.APP_PASSWORD_REQUIRED,
            "password",
        ),
        (
            SMTPAuthenticationError(535, "5.7.8 Authentication credentials invalid"),
            FailureCode.AUTH_FAILED,
            "password",
        ),
        (
            SMTPSenderRefused(553, "5.7.1 Sender address rejected: not owned", ACCOUNT),
            FailureCode.SENDER_REJECTED,
            "address",
        ),
        (
            SMTPSenderRefused(530, "5.7.0 Must issue a STARTTLS command first", ACCOUNT),
            FailureCode.TLS_MISMATCH,
            "useSsl",
        ),
        (
            SMTPRecipientRefused(550, "5.1.1 User unknown", RECIPIENT),
            FailureCode.RECIPIENT_REJECTED,
            "recipient",
        ),
        (
            SMTPDataError(554, "5.7.1 Message rejected under suspicion of SPAM"),
            FailureCode.MESSAGE_REJECTED,
            None,
        ),
        (
            SMTPConnectResponseError(421, "4.3.2 Service not available"),
            FailureCode.TEMPORARY_FAILURE,
            None,
        ),
        (
            SMTPResponseException(454, "4.7.0 TLS not available due to local problem"),
            FailureCode.TEMPORARY_FAILURE,
            None,
        ),
    ],
)
def test_smtp_exceptions(exc: BaseException, expected: FailureCode, field: str | None) -> None:
    failure = classify(exc, context=_context())
    assert (failure.code, failure.field) == (expected, field)
    assert isinstance(exc, SMTPResponseException)
    assert failure.smtp_code == exc.code


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("smtp-mail.outlook.com", FailureCode.PASSWORD_LOGIN_DISABLED),
        ("smtp.office365.com", FailureCode.AUTH_FAILED),
    ],
)
def test_microsoft_5_7_3_depends_on_the_service(host: str, expected: FailureCode) -> None:
    failure = classify_reply(
        535,
        "5.7.3 Authentication unsuccessful [AM0PR04CA0001.eurprd04.prod.outlook.com]",
        context=_context(host=host, port=587, security=Security.STARTTLS),
        stage=Stage.AUTH,
    )
    assert (failure.code, failure.field) == (expected, "password")


def test_target_limits_are_checked() -> None:
    with pytest.raises(ValueError):
        _target(0, Security.SSL_TLS, ca_file=None)
    with pytest.raises(ValueError):
        _target(465, Security.SSL_TLS, ca_file=None, timeout=0)


def test_app_password_help_link_comes_from_the_preset_or_a_trusted_reply() -> None:
    google = PRESETS[ProviderCode.GOOGLE]
    reply = "5.7.9 Application-specific password required. https://support.google.com/x?p=y"
    with_preset = classify_reply(534, reply, context=_context(preset=google), stage=Stage.AUTH)
    assert with_preset.help_url == google.app_password_help_url
    without = classify_reply(534, reply, context=_context(), stage=Stage.AUTH)
    assert without.help_url == "https://support.google.com/x?p=y"
    planted = classify_reply(
        534,
        "5.7.9 Application-specific password required. https://evil.example/login",
        context=_context(),
        stage=Stage.AUTH,
    )
    assert planted.help_url is None


def test_exceptions_most_specific_first() -> None:
    context = _context()
    timeout = SMTPConnectTimeoutError("Timed out waiting for server ready message")
    assert classify(timeout, context=context).code is FailureCode.TIMEOUT

    refused = SMTPConnectError("Error connecting")
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert classify(refused, context=context).field == "port"
    assert classify(refused, context=context).code is FailureCode.CONNECTION_REFUSED

    expired = ssl.SSLCertVerificationError(1, "certificate verify failed")
    expired.verify_code = 10
    expired.verify_message = "certificate has expired"
    wrapped = SMTPConnectError("Error connecting")
    wrapped.__cause__ = expired
    failure = classify(wrapped, context=context)
    assert (failure.code, failure.certificate_problem) == (
        FailureCode.TLS_CERTIFICATE,
        CertificateProblem.EXPIRED,
    )

    wrong_version = SMTPConnectError("Error connecting")
    wrong_version.__cause__ = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    assert classify(wrong_version, context=context).code is FailureCode.TLS_MISMATCH

    assert classify(HostNotFound("x.invalid"), context=context).code is FailureCode.DNS_FAILURE
    not_allowed = classify(AddressNotAllowed("h", "169.254.169.254"), context=context)
    assert (not_allowed.code, not_allowed.field) == (FailureCode.ADDRESS_NOT_ALLOWED, "smtpHost")
    gone = classify(SMTPServerDisconnected("Connection lost"), context=context)
    assert gone.code is FailureCode.SERVER_DISCONNECTED
    refused_all = SMTPRecipientsRefused([SMTPRecipientRefused(550, "5.1.1 no", RECIPIENT)])
    assert classify(refused_all, context=context).field == "recipient"
    assert classify(socket.gaierror(-2, "Name not known"), context=context).field == "smtpHost"


def test_starttls_and_auth_availability() -> None:
    no_starttls = SMTPException("SMTP STARTTLS extension not supported by server.")
    failure = classify(no_starttls, context=_context(security=Security.STARTTLS, port=587))
    assert (failure.code, failure.field) == (FailureCode.TLS_MISMATCH, "useSsl")
    auth_after_tls = SMTPException(
        "The SMTP AUTH extension is not supported by this server. Try connecting via TLS "
        "(or STARTTLS)."
    )
    failure = classify(auth_after_tls, context=_context(security=Security.NONE, port=587))
    assert (failure.code, failure.field) == (FailureCode.TLS_MISMATCH, "useSsl")
    no_auth = SMTPException("The SMTP AUTH extension is not supported by this server.")
    failure = classify(no_auth, context=_context(security=Security.SSL_TLS, port=465))
    assert failure.code is FailureCode.AUTH_NOT_SUPPORTED
    plain_only_after_tls = AuthNotOffered(starttls_offered=True)
    failure = classify(plain_only_after_tls, context=_context(security=Security.NONE, port=587))
    assert (failure.code, failure.field) == (FailureCode.TLS_MISMATCH, "useSsl")
    relay_without_auth = AuthNotOffered(starttls_offered=False)
    failure = classify(relay_without_auth, context=_context(security=Security.NONE, port=25))
    assert (failure.code, failure.field) == (FailureCode.AUTH_NOT_SUPPORTED, "port")


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
    for value in (target, result, failure, _context(), failure.smtp_reply, result.smtp_reply):
        assert PASSWORD not in repr(value)
        assert PASSWORD not in str(value)
