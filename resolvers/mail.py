"""Resolvers of Save, the saved settings and the Email accounts reference book."""

from __future__ import annotations

from typing import Annotated, TypeVar

import strawberry
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models import EmailAccount as EmailAccountModel
from models import ProgramSetting as ProgramSettingModel
from models import TestEmailAttempt as TestEmailAttemptModel
from schema.enums import SaveMailSettingsErrorCode, SendTestEmailErrorCode
from schema.errors import SaveMailSettingsError, SendTestEmailError, to_errors
from schema.mail import (
    EmailAccount,
    MailSettings,
    MailSettingsInput,
    ProgramSetting,
    SaveMailSettingsPayload,
    SendTestEmailInput,
    SendTestEmailPayload,
    SmtpFailure,
    TestEmailAttempt,
    to_warnings,
)
from schema.paging import DEFAULT_PAGE, MAX_PAGE, Limit, Offset, Page, page
from schema.steps import to_steps
from services import mail_check
from services import mail_settings as service
from services.mail_form import MailForm
from textrules import has_forbidden_characters

__all__ = [
    "email_accounts",
    "mail_form",
    "program_settings",
    "save_mail_settings",
]

GROUP_MAX = 200  # the column's width
OUTCOME_MAX = 32  # the column's width
T = TypeVar("T")
M = TypeVar("M", bound=Model)


def mail_form(data: MailSettingsInput) -> MailForm:
    """The service's view of the form; tells an omitted password from a null one."""
    password = data.password
    return MailForm(
        provider=data.provider,
        smtp_host=given(data.smtp_host),
        port=given(data.port),
        use_ssl=given(data.use_ssl),
        security=given(data.security),
        address=data.address,
        password=password.value if password is not None else None,
        password_given=password is not None,
        sender_name=given(data.sender_name),
        sender_email=given(data.sender_email),
        auth_method=given(data.auth_method),
    )


def given(value: T | None) -> T | None:
    """None for an omitted field (Strawberry's UNSET) as for an explicit null."""
    return None if value is strawberry.UNSET else value


async def save_mail_settings(
    info: strawberry.Info,
    input: MailSettingsInput,
) -> SaveMailSettingsPayload:
    runtime, lang = info.context.runtime, info.context.lang
    outcome = await service.save_mail_settings(
        mail_form(input),
        presets=runtime.presets,
        box=runtime.box,
        deny=runtime.settings.smtp_deny_networks,
        allow=runtime.settings.smtp_allow_networks,
        oauth2_available=input.provider in runtime.oauth_clients,
    )
    return SaveMailSettingsPayload(
        settings=MailSettings.from_stored(outcome.settings) if outcome.settings else None,
        account=EmailAccount.from_model(outcome.account) if outcome.account else None,
        errors=to_errors(SaveMailSettingsError, SaveMailSettingsErrorCode, outcome.errors, lang),
        warnings=to_warnings(outcome.warnings, lang),
    )


#: The columns an EmailAccount is built from (``EmailAccount.from_model``).
LISTED_ACCOUNT_FIELDS = (
    "id",
    "provider",
    "smtp_host",
    "port",
    "use_ssl",
    "security",
    "address",
    "sender_name",
    "sender_email",
    "password_encrypted",
    "auth_method",
)


async def email_accounts(limit: Limit = DEFAULT_PAGE, offset: Offset = 0) -> list[EmailAccount]:
    """Reference book ► Email accounts, newest first."""
    # What EmailAccount shows: the two timestamps would be parsed for nothing.
    records = await _newest_first(
        EmailAccountModel.all(), page(limit, offset), fields=LISTED_ACCOUNT_FIELDS
    )
    return [EmailAccount.from_model(a) for a in records]


async def _newest_first(
    query: QuerySet[M], wanted: Page, *, fields: tuple[str, ...] = ()
) -> list[M]:
    """A page of ``query``, newest first, in two statements however deep the page lies.

    The page's ids come first, from the (created_at, id) indexes of migration 0005 alone:
    the rows an offset skips are index entries, never table rows. Then those rows.
    """
    ids = await (
        query.order_by("-created_at", "-id")
        .offset(wanted.offset)
        .limit(wanted.limit)
        .values_list("id", flat=True)
    )
    if not ids:
        return []
    rows = query.model.filter(id__in=list(ids)).order_by("-created_at", "-id")
    if fields:
        rows = rows.only(*fields)
    return list(await rows)


async def email_account_count() -> int:
    return await EmailAccountModel.all().count()


async def program_settings(
    info: strawberry.Info,
    group: Annotated[
        str,
        strawberry.argument(description='A settings group path, e.g. "CRM/Notifications/Email".'),
    ] = service.EMAIL_GROUP,
) -> list[ProgramSetting]:
    """A program settings group as the ERP's settings screen shows it."""
    lang = info.context.lang
    if len(group) > GROUP_MAX or has_forbidden_characters(group):
        return []  # no group has such a name; not worth a database round trip
    rows = await ProgramSettingModel.filter(group=group).order_by("id")
    titles = service.SETTING_TITLES if group == service.EMAIL_GROUP else {}
    return [
        ProgramSetting(
            group=row.group,
            key=row.key,
            title=titles[row.key](lang) if row.key in titles else row.key,
            value=row.value,
        )
        for row in rows
    ]


async def send_test_email(
    info: strawberry.Info,
    input: SendTestEmailInput,
) -> SendTestEmailPayload:
    ctx = info.context
    settings = given(input.settings)
    outcome = await mail_check.send_test_email(
        input.recipient,
        mail_form(settings) if settings is not None else None,
        runtime=ctx.runtime,
        token=ctx.token,
        lang=ctx.lang,
    )
    if outcome.retry_after is not None:
        ctx.note_outcome("rate_limited")
    return SendTestEmailPayload(
        delivered=outcome.delivered,
        message_id=outcome.message_id,
        failure=SmtpFailure.from_failure(outcome.failure, ctx.lang) if outcome.failure else None,
        errors=to_errors(SendTestEmailError, SendTestEmailErrorCode, outcome.errors, ctx.lang),
        retry_after=outcome.retry_after,
        steps=to_steps(outcome.steps),
    )


async def test_email_attempts(
    last: Annotated[
        int, strawberry.argument(description=f"How many; taken into 1..{MAX_PAGE}.")
    ] = 20,
    offset: Annotated[
        int, strawberry.argument(description="Attempts to skip, newest first; at least 0.")
    ] = 0,
    delivered: Annotated[
        bool | None,
        strawberry.argument(description="Only delivered (true) or only undelivered (false)."),
    ] = None,
    outcome: Annotated[
        str | None,
        strawberry.argument(
            description="Only this outcome: DELIVERED, RATE_LIMITED, an SmtpFailureCode or "
            "the SendTestEmailErrorCode of a refused press."
        ),
    ] = None,
) -> list[TestEmailAttempt]:
    """The presses of Send, newest first, a page at a time."""
    query = TestEmailAttemptModel.all()
    if delivered is not None:
        query = query.filter(delivered=delivered)
    if outcome is not None:
        if len(outcome) > OUTCOME_MAX or has_forbidden_characters(outcome):
            return []  # no attempt has such an outcome
        query = query.filter(outcome=outcome)
    records = await _newest_first(query, page(last, offset))
    return [TestEmailAttempt.from_model(a) for a in records]
