"""Classification without a server (mail.classify, mail.explain): replies, exceptions, fields."""

from __future__ import annotations

import socket
import ssl

import pytest
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

from mail.classify import classify, classify_reply
from mail.errors import AddressNotAllowed, AuthNotOffered, HostNotFound
from mail.failures import CertificateProblem, DiagnosisContext, FailureCode, Stage
from mail.presets import ProviderCode, ProviderPreset, load_presets
from mail.security import Security

ACCOUNT = "shop@example.ru"
PASSWORD = "Секрет-p4ss word"  # Cyrillic and a space: sent UTF-8, must work end to end
RECIPIENT = "buyer@example.org"
PRESETS = load_presets()


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
