"""Connecting a mailbox with OAuth2: start, the callback's work, disconnect, Send's token.

``start_mail_oauth`` (admin) checks the tab, the address and the provider's client, issues
a single-use state (oauth.states) and returns the provider's authorization URL (PKCE S256).
``complete_sign_in`` is what ``GET /oauth/callback`` does: take the state, exchange the code,
store the connection encrypted (oauth.tokens) — or say why not, changing nothing.
``access_token_for`` gives Send its XOAUTH2 token, or the ``SmtpFailure`` that explains
why there is none (reconnect; or the provider's outage, which is retryable).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import urlsplit

from config import Settings
from i18n import Lang, Text
from mail.failures import FailureCode, SmtpFailure
from mail.presets import ProviderCode, ProviderPreset
from models import ApiToken
from oauth import exchange
from oauth.clients import OAuthClient
from oauth.errors import (
    CallbackProblem,
    MailOAuthErrorCode,
    NotConnected,
    ProviderRefused,
    ProviderUnavailable,
    ReauthorizationRequired,
)
from oauth.kinds import ConnectionStatus
from oauth.states import issue_state, new_code_verifier, take_state
from oauth.texts import (
    LOGIN_REFUSED,
    LOGIN_REFUSED_HINT,
    NOT_CONFIGURED,
    NOT_CONNECTED,
    NOT_CONNECTED_HINT,
    PROVIDER_REFUSED,
    PROVIDER_REFUSED_HINT,
    PROVIDER_UNAVAILABLE,
    PROVIDER_UNAVAILABLE_HINT,
    REAUTHORIZATION_REQUIRED,
    REAUTHORIZATION_REQUIRED_HINT,
    RETURN_URL_REFUSED,
    USE_OAUTH2_HINT,
)
from oauth.tokens import TokenStore, disconnect, find_connection, store_connection
from services.addresses import clean_email
from services.errors import FieldError, MailFormCode, Problems
from services.mail_form import unavailable_error
from services.prerequisites import missing_prerequisites
from services.runtime import Runtime

__all__ = [
    "LOGIN_REFUSALS",
    "DisconnectOutcome",
    "OAuthRuntime",
    "SignInOutcome",
    "StartOutcome",
    "access_token_for",
    "allowed_return_url",
    "complete_sign_in",
    "connection_status",
    "disconnect_mail_oauth",
    "forget_access_token",
    "login_refused",
    "not_connected_error",
    "point_at_oauth2",
    "start_mail_oauth",
]

log = logging.getLogger("mailtab.oauth")
RETURN_URL_MAX = 2000
#: An OAuth2 error code as RFC 6749 allows it; anything else is not repeated to the user.
_ERROR_CODE = re.compile(r"[a-z0-9_.-]{1,64}", re.IGNORECASE)


class OAuthRuntime(Protocol):
    """What getting and forgetting access tokens needs: the service's Runtime has it, and so
    does a notification worker (one TokenStore for its lifetime)."""

    @property
    def presets(self) -> dict[ProviderCode, ProviderPreset]: ...

    @property
    def oauth_clients(self) -> dict[ProviderCode, OAuthClient]: ...

    @property
    def oauth_tokens(self) -> TokenStore: ...


@dataclass(slots=True)
class StartOutcome:
    authorization_url: str | None = None
    errors: list[FieldError] = field(default_factory=list)


@dataclass(slots=True)
class DisconnectOutcome:
    disconnected: bool = False
    revoked: bool = False
    errors: list[FieldError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SignInOutcome:
    """What the callback page says: connected, or the problem (and the provider's code)."""

    problem: CallbackProblem | None
    detail: str | None = None
    address: str | None = None
    provider: ProviderCode | None = None
    return_url: str | None = None


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname.lower(), port or default


def allowed_return_url(url: str, settings: Settings) -> bool:
    """Whether the browser may be sent to ``url`` after the sign-in: the same origin as
    MAILTAB_PUBLIC_URL or one of MAILTAB_CORS_ORIGINS (never anywhere else: an open
    redirect would lend this service's name to any page)."""
    if len(url) > RETURN_URL_MAX or any(ch.isspace() or not ch.isprintable() for ch in url):
        return False
    origin = _origin(url)
    if origin is None or urlsplit(url).username is not None:
        return False
    allowed = [_origin(settings.public_url), *(_origin(o) for o in settings.cors_origins)]
    return origin in allowed


async def start_mail_oauth(
    *,
    provider: ProviderCode,
    address: str | None,
    return_url: str | None,
    runtime: Runtime,
    token: ApiToken | None,
    lang: Lang,
) -> StartOutcome:
    """The authorization URL of a new sign-in for the mailbox, or the field errors."""
    if await missing_prerequisites():
        error = unavailable_error()
        return StartOutcome(
            errors=[FieldError(None, MailOAuthErrorCode.MAIL_TAB_UNAVAILABLE, error.message)]
        )
    problems = Problems()
    clean_address = clean_email(address, field="address", problems=problems, required=True)
    client = runtime.oauth_clients.get(provider)
    if client is None:
        problems.report(
            "provider", MailOAuthErrorCode.OAUTH2_NOT_CONFIGURED, _not_configured(runtime, provider)
        )
    if return_url and not allowed_return_url(return_url, runtime.settings):
        problems.report("returnUrl", MailOAuthErrorCode.INVALID, RETURN_URL_REFUSED)
    if problems or clean_address is None or client is None:
        return StartOutcome(errors=problems.errors)
    verifier = new_code_verifier()
    state = await issue_state(
        provider=provider,
        address=clean_address,
        address_key=clean_address.lower(),
        code_verifier=verifier,
        return_url=return_url or None,
        token=token,
        lang=lang,
        cipher=runtime.box,
    )
    url = exchange.authorization_url(
        client, state=state, code_verifier=verifier, login_hint=clean_address
    )
    return StartOutcome(authorization_url=url)


def _not_configured(runtime: OAuthRuntime, provider: ProviderCode) -> Text:
    title = runtime.presets[provider].title
    return Text(
        NOT_CONFIGURED.ru.format(title=title.ru, code=provider.value),
        NOT_CONFIGURED.en.format(title=title.en, code=provider.value),
    )


def _provider_code(value: str | None) -> str:
    return value if value and _ERROR_CODE.fullmatch(value) else "unknown_error"


async def complete_sign_in(
    *, state: str | None, code: str | None, error: str | None, runtime: Runtime
) -> SignInOutcome:
    """The callback's work: the connection stored, or why nothing changed."""
    if error and not state:
        # Some providers leave the state out of an error answer: it is still that error.
        denied = error == "access_denied"
        return SignInOutcome(
            problem=CallbackProblem.ACCESS_DENIED if denied else CallbackProblem.PROVIDER_ERROR,
            detail=_provider_code(error),
        )
    pending = await take_state(state or "", cipher=runtime.box)
    if isinstance(pending, CallbackProblem):
        return SignInOutcome(problem=pending)

    def failed(problem: CallbackProblem, detail: str | None = None) -> SignInOutcome:
        return SignInOutcome(
            problem=problem, detail=detail, address=pending.address, provider=pending.provider
        )

    if error:
        problem = (
            CallbackProblem.ACCESS_DENIED
            if error == "access_denied"
            else CallbackProblem.PROVIDER_ERROR
        )
        return failed(problem, _provider_code(error))
    if not code:
        return failed(CallbackProblem.CODE_MISSING)
    client = runtime.oauth_clients.get(pending.provider)
    if client is None:
        return failed(CallbackProblem.NOT_CONFIGURED)
    try:
        grant = await exchange.exchange_code(client, code=code, code_verifier=pending.code_verifier)
    except ProviderRefused as exc:
        return failed(CallbackProblem.CODE_REFUSED, _provider_code(exc.error))
    except ProviderUnavailable:
        return failed(CallbackProblem.PROVIDER_UNAVAILABLE)
    if grant.refresh_token is None:
        return failed(CallbackProblem.NO_REFRESH_TOKEN)
    connection = await store_connection(
        provider=pending.provider,
        address=pending.address,
        address_key=pending.address_key,
        grant=grant,
        token_id=pending.token_id,
        cipher=runtime.box,
    )
    log.info("%s: mailbox connected with OAuth2 (connection %s)", pending.provider, connection.id)
    return SignInOutcome(
        problem=None,
        address=pending.address,
        provider=pending.provider,
        return_url=pending.return_url,
    )


async def disconnect_mail_oauth(*, address: str | None, runtime: Runtime) -> DisconnectOutcome:
    """Forget the mailbox's OAuth2 connections, revoking them where the provider offers it."""
    problems = Problems()
    clean_address = clean_email(address, field="address", problems=problems, required=True)
    if clean_address is None:
        return DisconnectOutcome(errors=problems.errors)
    removed = await disconnect(clean_address.lower())
    revoked = False
    for provider, encrypted in removed:
        client = runtime.oauth_clients.get(provider)
        refresh_token = runtime.box.decrypt(encrypted) if encrypted else None
        if client is not None and refresh_token is not None:
            revoked = await exchange.revoke(client, refresh_token=refresh_token) or revoked
    return DisconnectOutcome(disconnected=bool(removed), revoked=revoked)


async def not_connected_error(provider: ProviderCode, address: str) -> FieldError | None:
    """The ``authMethod`` error when the mailbox has no CONNECTED OAuth2 connection."""
    status = await connection_status(provider, address.lower())
    if status is ConnectionStatus.CONNECTED:
        return None
    message = (
        Text(
            f"{REAUTHORIZATION_REQUIRED.ru} {REAUTHORIZATION_REQUIRED_HINT.ru}",
            f"{REAUTHORIZATION_REQUIRED.en} {REAUTHORIZATION_REQUIRED_HINT.en}",
        )
        if status is ConnectionStatus.REAUTHORIZATION_REQUIRED
        else Text(
            f"{NOT_CONNECTED.ru.format(address=address)} {NOT_CONNECTED_HINT.ru}",
            f"{NOT_CONNECTED.en.format(address=address)} {NOT_CONNECTED_HINT.en}",
        )
    )
    return FieldError("authMethod", MailFormCode.OAUTH2_NOT_CONNECTED, message)


async def connection_status(provider: ProviderCode, address_key: str) -> ConnectionStatus | None:
    row = await find_connection(provider, address_key)
    return ConnectionStatus(row.status) if row is not None else None


#: What a refused XOAUTH2 login is classified as: words meant for passwords, re-worded.
LOGIN_REFUSALS = frozenset(
    {
        FailureCode.AUTH_FAILED,
        FailureCode.APP_PASSWORD_REQUIRED,
        FailureCode.WEB_LOGIN_REQUIRED,
        FailureCode.PASSWORD_LOGIN_DISABLED,
    }
)


async def forget_access_token(
    provider: ProviderCode, address_key: str, token: str, *, runtime: OAuthRuntime
) -> None:
    """The SMTP server refused the access token: the next one is refreshed first."""
    client = runtime.oauth_clients.get(provider)
    if client is not None:
        await runtime.oauth_tokens.forget(client, address_key=address_key, token=token)


def login_refused(failure: SmtpFailure, *, address: str) -> SmtpFailure:
    """A refused XOAUTH2 login, said as such (on ``authMethod``), the server's reply kept."""
    return SmtpFailure(
        code=FailureCode.AUTH_FAILED,
        field="authMethod",
        message=LOGIN_REFUSED.format(address=address),
        hint=LOGIN_REFUSED_HINT.format(address=address),
        help_url=failure.help_url,
        smtp_code=failure.smtp_code,
        smtp_reply=failure.smtp_reply,
    )


def point_at_oauth2(
    failure: SmtpFailure, provider: ProviderCode, *, runtime: Runtime
) -> SmtpFailure:
    """A password login the provider no longer takes, where this deployment has OAuth2 for it:
    the hint says to connect with OAuth2 (on ``authMethod``) instead of another service."""
    if (
        failure.code is not FailureCode.PASSWORD_LOGIN_DISABLED
        or provider not in runtime.oauth_clients
    ):
        return failure
    return replace(failure, field="authMethod", hint=USE_OAUTH2_HINT)


def _failure(code: FailureCode, message: Text, hint: Text) -> SmtpFailure:
    return SmtpFailure(code=code, field="authMethod", message=message, hint=hint)


async def access_token_for(
    provider: ProviderCode, address_key: str, *, runtime: OAuthRuntime
) -> str | SmtpFailure:
    """Send's XOAUTH2 access token for the mailbox, or why the letter cannot go out."""
    client = runtime.oauth_clients.get(provider)
    if client is None:
        return _failure(
            FailureCode.OAUTH2_NOT_CONFIGURED,
            _not_configured(runtime, provider),
            PROVIDER_REFUSED_HINT,
        )
    try:
        return await runtime.oauth_tokens.access_token(client, address_key=address_key)
    except (NotConnected, ReauthorizationRequired):
        return _failure(
            FailureCode.OAUTH2_REAUTHORIZATION_REQUIRED,
            REAUTHORIZATION_REQUIRED,
            REAUTHORIZATION_REQUIRED_HINT,
        )
    except ProviderRefused as exc:
        return _failure(
            FailureCode.OAUTH2_PROVIDER_REFUSED,
            PROVIDER_REFUSED.format(error=_provider_code(exc.error)),
            PROVIDER_REFUSED_HINT,
        )
    except ProviderUnavailable:
        failure = _failure(
            FailureCode.OAUTH2_PROVIDER_UNAVAILABLE, PROVIDER_UNAVAILABLE, PROVIDER_UNAVAILABLE_HINT
        )
        return SmtpFailure(
            code=failure.code, field=None, message=failure.message, hint=failure.hint
        )
