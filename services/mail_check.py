"""The Send button: a real test letter through the form's or the saved settings.

Every press is recorded in ``TestEmailAttempt`` (who, when, where to, outcome; never
the password): refused input with its error code only, a letter with its target and
result; refused presses only up to their own limit per token. Input problems are field
errors and nothing connects; a letter is bounded by the SMTP timeout. Saved settings are
not validated again, but the letter builder refuses what it cannot put into headers safely
(a sender name saved before a rule existed, or written to the database directly): that too
is a field error.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from email.message import EmailMessage

from i18n import Lang, Text
from mail.delivery import DeliveryResult, SmtpTarget, deliver
from mail.errors import HeaderInjection, LetterError
from mail.failures import SmtpFailure
from mail.letter import build_test_letter
from mail.steps import SmtpStep
from models import ApiToken, EmailAccount, TestEmailAttempt
from oauth.kinds import AuthMethod
from services import mail_oauth, telemetry
from services.addresses import clean_email
from services.attempt_steps import steps_json
from services.errors import FieldError, InputCode, MailFormCode, Problems, SendTestEmailErrorCode
from services.mail_form import (
    MailForm,
    PasswordSource,
    ResolvedForm,
    find_account,
    password_source,
    resolve_form,
    unavailable_error,
)
from services.mail_settings import load_stored_settings
from services.prerequisites import missing_prerequisites
from services.runtime import Runtime
from services.tested_config import saved_digest

__all__ = ["SendOutcome", "send_test_email"]

NOT_CONFIGURED = Text(
    ru="Настройки почты еще не сохранены: заполните форму и нажмите «Сохранить» "
    "или отправьте письмо с данными формы.",
    en="Mail settings are not saved yet: fill in the form and press Save, "
    "or send the letter with the form's values.",
)
STORED_PASSWORD_UNREADABLE = Text(
    ru="Сохраненный пароль не удается расшифровать текущими ключами сервера: введите пароль заново.",
    en="The stored password cannot be decrypted with the server's current keys: enter it again.",
)
HEADER_UNSAFE = Text(
    ru="Это значение нельзя безопасно поставить в заголовок письма (закодированный текст вида "
    "=?…?= или управляющие символы). Введите его так, как оно должно выглядеть, и сохраните "
    "настройки.",
    en="This value cannot be put into a letter header safely (encoded text like =?…?= or "
    "control characters). Type it as it should appear and save the settings.",
)
LETTER_VALUE_INVALID = Text(
    ru="Это значение нельзя использовать в письме: исправьте его и сохраните настройки.",
    en="This value cannot be used in a letter: correct it and save the settings.",
)
RATE_LIMITED = Text(
    ru="Слишком много тестовых писем подряд. Повторите через {seconds} с.",
    en="Too many test letters in a row. Try again in {seconds} s.",
)
TOO_MANY_REFUSALS = Text(
    ru="Слишком много отклонённых попыток отправки подряд. Исправьте форму и повторите "
    "через {seconds} с.",
    en="Too many refused presses of Send in a row. Correct the form and try again in {seconds} s.",
)


@dataclass(slots=True)
class SendOutcome:
    delivered: bool = False
    message_id: str | None = None
    failure: SmtpFailure | None = None
    errors: list[FieldError] = field(default_factory=list)
    retry_after: int | None = None
    steps: tuple[SmtpStep, ...] = ()
    """The SMTP conversation, as it happened; () when nothing was tried."""


@dataclass(frozen=True, slots=True)
class _Plan:
    form: ResolvedForm
    password: str | None = field(repr=False)
    account: EmailAccount | None
    source: str


async def _plan(form: MailForm | None, runtime: Runtime, problems: Problems) -> _Plan | None:
    """What to send through: the form as it stands, or the saved settings."""
    account: EmailAccount | None
    if form is None:
        stored = await load_stored_settings()
        if stored is None:
            problems.report(None, SendTestEmailErrorCode.NOT_CONFIGURED, NOT_CONFIGURED)
            return None
        resolved, account, source = stored.as_form(), stored.account, "SAVED"
    else:
        maybe = resolve_form(
            form,
            runtime.presets,
            problems,
            deny=runtime.settings.smtp_deny_networks,
            allow=runtime.settings.smtp_allow_networks,
        )
        if maybe is None:
            return None
        resolved, source = maybe, "FORM"
        account = await find_account(resolved)
    choice = password_source(resolved, account, runtime.presets)
    if isinstance(choice, FieldError):
        problems.add(choice)
        return None
    if choice is PasswordSource.OAUTH2:
        # No connection at all is the input's fault; a refused one fails the letter later.
        if await mail_oauth.connection_status(resolved.provider, resolved.address_key) is None:
            error = await mail_oauth.not_connected_error(resolved.provider, resolved.address)
            if error is not None:
                problems.add(error)
                return None
        return _Plan(resolved, None, account, source)
    if choice is PasswordSource.NEW:
        return _Plan(resolved, resolved.password, account, source)
    if choice is PasswordSource.NONE or account is None or not account.password_encrypted:
        return _Plan(resolved, None, account, source)
    password = runtime.box.decrypt(account.password_encrypted, account_id=account.id)
    if password is None:
        problems.report("password", MailFormCode.PASSWORD_REQUIRED, STORED_PASSWORD_UNREADABLE)
        return None
    return _Plan(resolved, password, account, source)


async def send_test_email(
    recipient: str | None,
    form: MailForm | None,
    *,
    runtime: Runtime,
    token: ApiToken | None,
    lang: Lang,
) -> SendOutcome:
    """Validate, rate-limit, send and record one test letter.

    Refused presses (the input, the tab, the letter limit) count in a limit of their
    own per token; past it every press of that token is RATE_LIMITED and nothing is
    recorded until the window frees, so a script cannot flood the attempt log.
    """
    source = "SAVED" if form is None else "FORM"
    key = f"token:{token.id}" if token else "anonymous"
    held = await runtime.refusals.wait(key)
    if held is not None:
        return _too_many_refusals(held)
    if await missing_prerequisites():
        return await _refuse(runtime, key, [unavailable_error()], token=token, source=source)
    problems = Problems()
    clean_recipient = clean_email(recipient, field="recipient", problems=problems, required=True)
    plan = await _plan(form, runtime, problems)
    if problems or plan is None or clean_recipient is None:
        return await _refuse(runtime, key, problems.errors, token=token, source=source)

    try:
        message = _letter(plan.form, clean_recipient, lang)
    except LetterError as exc:
        return await _refuse(runtime, key, [_letter_error(exc)], token=token, source=source)

    wait = await runtime.limiter.hit(key)
    if wait is not None:
        telemetry.record_rate_limited("sendTestEmail")
        if await runtime.refusals.hit(key) is None:
            await _record(plan, clean_recipient, token, outcome="RATE_LIMITED")
        error = FieldError(
            None, SendTestEmailErrorCode.RATE_LIMITED, RATE_LIMITED.format(seconds=wait)
        )
        return SendOutcome(errors=[error], retry_after=wait)

    settings = runtime.settings
    resolved = plan.form
    oauth_token: str | None = None
    if resolved.auth_method is AuthMethod.OAUTH2:
        got = await mail_oauth.access_token_for(
            resolved.provider, resolved.address_key, runtime=runtime
        )
        if isinstance(got, SmtpFailure):
            # Nothing connected: the provider gave no token (reconnect, or try again later).
            refused = DeliveryResult(delivered=False, message_id=None, failure=got, duration_ms=0)
            await _record(plan, clean_recipient, token, result=refused)
            return SendOutcome(failure=got)
        oauth_token = got
    target = SmtpTarget(
        host=resolved.smtp_host,
        port=resolved.port,
        security=resolved.security,
        username=resolved.address,
        password=plan.password,
        oauth_token=oauth_token,
        # MAILTAB_SMTP_TIMEOUT bounds each step and the whole exchange alike.
        timeout=settings.smtp_timeout,
        total_timeout=settings.smtp_timeout,
        ca_file=settings.smtp_ca_file,
        deny=tuple(settings.smtp_deny_networks),
        allow=tuple(settings.smtp_allow_networks),
        explicit_security=form is not None and form.security is not None,
    )
    try:
        result = await deliver(
            message,
            target=target,
            envelope_from=resolved.address,
            recipient=clean_recipient,
            preset=runtime.presets[resolved.provider],
            sender_email=resolved.sender_email,
        )
        if oauth_token is not None and _login_refused(result):
            result = await _again_with_new_token(
                message, target, oauth_token, plan=plan, recipient=clean_recipient, runtime=runtime
            )
        elif result.failure is not None:
            failure = mail_oauth.point_at_oauth2(result.failure, resolved.provider, runtime=runtime)
            result = replace(result, failure=failure)
    except BaseException as exc:
        # Cut short (the operation's time budget, shutdown) or a bug: still on the record.
        outcome = "INTERRUPTED" if isinstance(exc, asyncio.CancelledError) else "ERROR"
        await asyncio.shield(_record(plan, clean_recipient, token, outcome=outcome))
        raise
    digest = saved_digest(resolved, plan.password, runtime.box)
    await _record(plan, clean_recipient, token, result=result, digest=digest)
    return SendOutcome(
        delivered=result.delivered,
        message_id=result.message_id,
        failure=result.failure,
        steps=result.steps,
    )


def _login_refused(result: DeliveryResult) -> bool:
    return result.failure is not None and result.failure.code in mail_oauth.LOGIN_REFUSALS


async def _again_with_new_token(
    message: EmailMessage,
    target: SmtpTarget,
    refused: str,
    *,
    plan: _Plan,
    recipient: str,
    runtime: Runtime,
) -> DeliveryResult:
    """The server refused the cached access token (revoked before it expired): refresh it
    once and try again; a second refusal is said as an OAuth2 one, on ``authMethod``."""
    form = plan.form
    await mail_oauth.forget_access_token(form.provider, form.address_key, refused, runtime=runtime)
    got = await mail_oauth.access_token_for(form.provider, form.address_key, runtime=runtime)
    if isinstance(got, SmtpFailure):
        return DeliveryResult(delivered=False, message_id=None, failure=got, duration_ms=0)
    # The first try ended at AUTH: nothing was sent, the same letter goes now.
    result = await deliver(
        message,
        target=replace(target, oauth_token=got),
        envelope_from=form.address,
        recipient=recipient,
        preset=runtime.presets[form.provider],
        sender_email=form.sender_email,
    )
    if result.failure is not None and _login_refused(result):
        failure = mail_oauth.login_refused(result.failure, address=form.address)
        return replace(result, failure=failure)
    return result


def _letter(resolved: ResolvedForm, recipient: str, lang: Lang) -> EmailMessage:
    return build_test_letter(
        sender_name=resolved.sender_name,
        sender_email=resolved.sender_email,
        recipient=recipient,
        address=resolved.address,
        smtp_host=resolved.smtp_host,
        port=resolved.port,
        security=resolved.security,
        lang=lang,
    )


def _letter_error(exc: LetterError) -> FieldError:
    """A letter that cannot be built safely is the input's fault, on the field it came from."""
    if isinstance(exc, HeaderInjection):
        return FieldError(exc.field, InputCode.FORBIDDEN_CHARACTERS, HEADER_UNSAFE)
    return FieldError(exc.field, InputCode.INVALID, LETTER_VALUE_INVALID)


async def _refuse(
    runtime: Runtime,
    key: str,
    errors: list[FieldError],
    *,
    token: ApiToken | None,
    source: str,
) -> SendOutcome:
    """A press refused before any connection: counted, and recorded while under the limit."""
    held = await runtime.refusals.hit(key)
    if held is not None:
        return _too_many_refusals(held)
    await _record_refusal(token, source, errors[0].code if errors else "INVALID")
    return SendOutcome(errors=errors)


def _too_many_refusals(seconds: int) -> SendOutcome:
    telemetry.record_rate_limited("sendTestEmail")
    error = FieldError(
        None, SendTestEmailErrorCode.RATE_LIMITED, TOO_MANY_REFUSALS.format(seconds=seconds)
    )
    return SendOutcome(errors=[error], retry_after=seconds)


async def _record_refusal(token: ApiToken | None, source: str, code: str) -> None:
    """A press of Send refused before any connection: who, when and why; the input is not
    kept (it was not valid, and a mistyped field may hold anything)."""
    await TestEmailAttempt.create(
        token=token, token_name=token.name if token else None, source=source, outcome=code
    )
    telemetry.record_test_email(code)


async def _record(
    plan: _Plan,
    recipient: str,
    token: ApiToken | None,
    *,
    result: DeliveryResult | None = None,
    outcome: str | None = None,
    digest: str | None = None,
) -> None:
    if result is not None:
        outcome = (
            "DELIVERED"
            if result.delivered
            else str(result.failure.code if result.failure else "UNKNOWN")
        )
    await TestEmailAttempt.create(
        token=token,
        token_name=token.name if token else None,
        account=plan.account,
        source=plan.source,
        smtp_host=plan.form.smtp_host,
        port=plan.form.port,
        security=plan.form.security.value,
        address=plan.form.address,
        recipient=recipient,
        delivered=bool(result and result.delivered),
        outcome=outcome,
        smtp_code=result.smtp_code if result else None,
        duration_ms=result.duration_ms if result else 0,
        steps_json=steps_json(result.steps) if result else None,
        config_digest=digest,
    )
    telemetry.record_test_email(outcome or "UNKNOWN")
