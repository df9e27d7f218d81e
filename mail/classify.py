"""Why an SMTP exchange failed: from what was raised, or what the server said, to a cause.

``classify`` turns whatever the SMTP exchange raised into an ``SmtpFailure``
(mail.failures); ``classify_reply`` does it for a server's reply, by the providers' known
wordings (SMTP-REPLIES.md) first. The failure's field, texts and help link come from
mail.explain; the reply passed on is redacted (mail.redact). The most specific cause is
looked for first: a certificate error hides inside a connect error, a connect timeout is
also a connect error, and a provider's wording beats a bare reply code.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from dataclasses import replace
from typing import TypeVar

from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectError,
    SMTPConnectResponseError,
    SMTPConnectTimeoutError,
    SMTPDataError,
    SMTPException,
    SMTPHeloError,
    SMTPNotSupported,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from mail import explain
from mail.connect import answered_in_plain_text
from mail.errors import AddressNotAllowed, AuthNotOffered, HostNotFound
from mail.failures import DiagnosisContext, SmtpFailure, Stage
from mail.redact import redact_reply
from mail.security import Security

__all__ = ["classify", "classify_reply"]


# --- entry points ----------------------------------------------------------------------


def classify(exc: BaseException, *, context: DiagnosisContext) -> SmtpFailure:
    """The failure an exception from resolving, connecting or talking SMTP stands for."""
    if isinstance(exc, HostNotFound):
        return explain.dns_failure(context, timed_out=exc.timed_out)
    if isinstance(exc, AddressNotAllowed):
        return explain.address_not_allowed(context, exc)
    certificate_error = _find(exc, ssl.SSLCertVerificationError)
    if certificate_error is not None:
        return explain.certificate(context, certificate_error)
    tls_error = _find(exc, ssl.SSLError)
    if tls_error is not None:
        if answered_in_plain_text(tls_error):
            return explain.implicit_tls_refused(context)
        return explain.tls_handshake(context)
    if isinstance(exc, SMTPConnectTimeoutError):
        return explain.timeout(context, connecting=True)
    if isinstance(exc, SMTPConnectResponseError):
        return classify_reply(exc.code, exc.message, context=context, stage=Stage.GREETING)
    if isinstance(exc, SMTPConnectError):
        return explain.connect_error(context, exc.__cause__ or exc)
    if isinstance(exc, SMTPRecipientsRefused):
        first = exc.recipients[0] if exc.recipients else None
        if first is not None:
            return classify_reply(first.code, first.message, context=context, stage=Stage.RCPT)
        return explain.recipient_rejected(context, None, None)
    if isinstance(exc, SMTPResponseException):
        return classify_reply(exc.code, exc.message, context=context, stage=_stage_of(exc))
    if isinstance(exc, SMTPNotSupported) and "smtputf8" in exc.message.lower():
        return explain.smtputf8_not_supported(context, field="address")
    if isinstance(exc, SMTPServerDisconnected):
        return explain.disconnected(context)
    if isinstance(exc, (SMTPTimeoutError, TimeoutError)):
        return explain.timeout(context, connecting=False)
    if isinstance(exc, AuthNotOffered):
        return (
            explain.tls_required(context)
            if exc.starttls_offered
            else explain.auth_not_supported(context)
        )
    if isinstance(exc, SMTPException):
        return _smtp_exception(context, exc.message)
    if isinstance(exc, OSError):
        return explain.connect_error(context, exc)
    return explain.unknown(None, None)


def classify_reply(
    code: int, reply: str, *, context: DiagnosisContext, stage: Stage | None
) -> SmtpFailure:
    """The failure a server's reply stands for, by the providers' known wordings first."""
    text = redact_reply(reply, secrets=context.secrets, username=context.login or context.address)
    low = text.lower()

    def done(failure: SmtpFailure) -> SmtpFailure:
        return _with_reply(failure, code, text)

    if _MICROSOFT_BASIC_AUTH_OFF.search(low) or (
        "5.7.3" in low
        and "authentication unsuccessful" in low
        and explain.is_microsoft(context, low)
    ):
        return done(explain.password_login_disabled(context, text))
    if _APP_PASSWORD.search(low):
        return done(explain.app_password_required(context, text))
    if _WEB_LOGIN.search(low):
        return done(explain.web_login_required(context, text))
    if _TLS_REQUIRED.search(low) or code == 538:
        return done(explain.tls_required(context))
    if 400 <= code < 500:
        return done(explain.temporary(context, code))
    if _RELAY_DENIED.search(low):
        return done(explain.relay_denied(context))
    if stage is Stage.AUTH:
        return done(explain.auth_failed(context, low))
    if _AUTH_REQUIRED.search(low):
        return done(explain.auth_failed(context, low))
    if stage is Stage.MAIL or _SENDER_REJECTED.search(low):
        return done(explain.sender_rejected(context))
    if stage is Stage.RCPT or _RECIPIENT_REJECTED.search(low):
        return done(explain.recipient_rejected(context, code, text))
    if stage is Stage.DATA:
        return done(explain.message_rejected())
    return done(explain.unknown(code, text))


# --- reply patterns (see SMTP-REPLIES.md) ----------------------------------------------

_MICROSOFT_BASIC_AUTH_OFF = re.compile(
    r"5\.7\.139|5\.7\.30\b|basic authentication is (disabled|not supported)"
)
_APP_PASSWORD = re.compile(
    r"5\.7\.9\b|application-specific password|application password is required"
    r"|parol\w* prilozheniya|app(lication)? password required"
    r"|does not have access rights|not have access rights to this service"
)
_WEB_LOGIN = re.compile(
    r"5\.7\.14\b|log in via your web browser|not a robot|looks like spam"
    r"|please log ?in (via|to) (your )?web"
)
_TLS_REQUIRED = re.compile(
    r"must issue a starttls|5\.7\.7\b|without ssl/tls encryption|encryption required"
    r"|starttls (is )?required|tls required"
)
_RELAY_DENIED = re.compile(r"relay(ing)? (access )?(denied|not permitted|prohibited)|5\.7\.54\b")
_AUTH_REQUIRED = re.compile(r"authentication required|5\.7\.0 authentication")
_SENDER_REJECTED = re.compile(r"not owned by|sender address rejected|sender rejected|5\.7\.60\b")
_RECIPIENT_REJECTED = re.compile(
    r"5\.1\.1\b|user unknown|recipient address rejected|mailbox (unavailable|not found)"
    r"|no such user|does not exist"
)


def _smtp_exception(context: DiagnosisContext, message: str) -> SmtpFailure:
    low = message.lower()
    if "starttls extension not supported" in low:
        return explain.starttls_not_offered(context)
    if "auth extension is not supported" in low and context.security is Security.NONE:
        # The server offers login only after STARTTLS: aiosmtplib refuses before sending it.
        return explain.tls_required(context)
    if "auth extension is not supported" in low or "no suitable authentication" in low:
        return explain.auth_not_supported(context)
    return explain.unknown(None, None)


# --- helpers -----------------------------------------------------------------------------


def _with_reply(failure: SmtpFailure, code: int, text: str) -> SmtpFailure:
    return replace(failure, smtp_code=code, smtp_reply=text or None)


def _stage_of(exc: SMTPResponseException) -> Stage | None:
    if isinstance(exc, SMTPAuthenticationError):
        return Stage.AUTH
    if isinstance(exc, SMTPSenderRefused):
        return Stage.MAIL
    if isinstance(exc, SMTPRecipientRefused):
        return Stage.RCPT
    if isinstance(exc, SMTPDataError):
        return Stage.DATA
    if isinstance(exc, SMTPHeloError):
        return Stage.HELO
    return None


_E = TypeVar("_E", bound=BaseException)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending and len(seen) < 16:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
        pending += [a for a in current.args if isinstance(a, BaseException)]


def _find(exc: BaseException, kind: type[_E]) -> _E | None:
    for candidate in _chain(exc):
        if isinstance(candidate, kind):
            return candidate
    return None
