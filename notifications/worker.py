"""The delivery loop: claim due letters, send them through the saved account, record each.

One worker claims a batch (notifications.queue), sends it over one SMTP connection kept
open across batches while there is work (notifications.session; a new one after
``MAILTAB_NOTIFY_LETTERS_PER_CONNECTION`` letters or when the server closed it), and
writes each letter's outcome in its own transaction right after the server's answer:
SENT after the 250 to the final dot, before the next letter goes on the wire; else what
notifications.policy decides. Letters it did not get to go back to the queue at once. A stop request (SIGTERM) lets the letter in
flight finish, then releases the rest of the batch and closes the connection.

Delivery is at least once: a letter is sent again only if its worker died after the
server accepted the final dot and before SENT was committed, at most the letters in DATA
at that moment (one per worker), each copy with the same Message-ID.

One log line per attempt: the notification's id, the attempt, the outcome, the failure
code and SMTP reply code, the recipient's domain (never its local part) and the time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from contextlib import suppress
from dataclasses import dataclass, replace

from aiosmtplib import SMTPException, SMTPResponseException, SMTPServerDisconnected
from tortoise import timezone
from tortoise.exceptions import DBConnectionError

from config import Settings
from mail import explain
from mail.classify import classify
from mail.errors import (
    ImplicitTlsExpected,
    LetterError,
    NetworkError,
    NotSmtpServer,
    Smtputf8Unsupported,
)
from mail.failures import DiagnosisContext, FailureCode, SmtpFailure
from mail.presets import ProviderCode, ProviderPreset
from models import Notification
from models.db import is_missing_database, is_unmigrated
from notifications import queue
from notifications.credentials import Credentials, account_credentials
from notifications.letter import Letter, build_notification
from notifications.limits import daily_limits, room
from notifications.oauth_login import is_login_refusal, oauth_access, refused_again, renewed_token
from notifications.pause import active_pause, pause_account
from notifications.policy import Decision, decide, retry_at
from notifications.session import AccountTarget, SmtpSession
from services import telemetry
from services.mail_oauth import OAuthRuntime
from services.mail_settings import StoredSettings, load_stored_settings
from services.secrets import PasswordBox

__all__ = ["Worker", "worker_name"]

log = logging.getLogger("mailtab.notify")

#: What sending a letter raises when the server, the network or the letter is at fault.
_SEND_ERRORS = (
    NetworkError,
    SMTPException,
    OSError,
    ImplicitTlsExpected,
    NotSmtpServer,
    Smtputf8Unsupported,
)


def worker_name() -> str:
    """``host:pid:random``: tells the lease holders apart, also across hosts."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(slots=True)
class _Run:
    """What one batch is sent with: the saved settings, their account's login and limits
    (a new OAuth2 token, after the server refused the old one, replaces the login)."""

    stored: StoredSettings
    target: AccountTarget
    preset: ProviderPreset | None
    credentials: Credentials


class Worker:
    """A delivery worker; ``run()`` until ``stop()``, or ``run_once()`` for one batch."""

    def __init__(
        self,
        *,
        settings: Settings,
        presets: dict[ProviderCode, ProviderPreset],
        box: PasswordBox,
        owner: str | None = None,
        oauth: OAuthRuntime | None = None,
    ) -> None:
        self.settings = settings
        self.presets = presets
        self.box = box
        # OAuth2 accounts: one token store for the worker's lifetime (the service's own when
        # it runs in-process), never one per letter.
        self.oauth = oauth or oauth_access(settings=settings, presets=presets, box=box)
        self.owner = owner or worker_name()
        self.stopping = asyncio.Event()
        self._session: SmtpSession | None = None

    def stop(self) -> None:
        """Finish the letter in flight, give the rest back, close the connection."""
        self.stopping.set()

    async def run(self) -> None:
        log.info("notification worker %s started", self.owner)
        trouble: str | None = None
        try:
            while not self.stopping.is_set():
                try:
                    handled = await self.run_once()
                    trouble = None
                except Exception as exc:  # the database is down, say: wait and try again
                    handled = 0
                    trouble = self._trouble(exc, trouble)
                if handled:
                    continue
                await self._close_session()
                with suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.notify_poll_seconds):
                        await self.stopping.wait()
        finally:
            await self._close_session()
            log.info("notification worker %s stopped", self.owner)

    def _trouble(self, exc: Exception, before: str | None) -> str:
        """Say once (not on every poll) that the database cannot be used; a bug in full."""
        if is_unmigrated(exc):
            reason = "the database lacks migrations: run `mailtab migrate`"
        elif is_missing_database(exc) or isinstance(
            exc, OSError | TimeoutError | DBConnectionError
        ):
            reason = f"the database is unreachable ({type(exc).__name__})"
        else:
            log.exception("notification worker %s: a batch failed", self.owner)
            return "error"
        if reason != before:
            log.warning("notification worker %s waits: %s", self.owner, reason)
        return reason

    async def run_once(self) -> int:
        """Claim and send one batch; the number of letters attempted."""
        stored = await load_stored_settings()
        if stored is None:
            return 0
        account = stored.account
        if await active_pause(account) is not None:
            return 0
        size = self.settings.notify_batch_size
        cap = daily_limits(self.settings.providers_file).get(account.provider)
        space = await room(account_id=account.id, limit=cap)
        if space.letters is not None:
            if space.letters <= 0:
                if space.frees_at is not None:
                    await queue.defer_due(until=space.frees_at)
                return 0
            size = min(size, space.letters)
        letters = await queue.claim(
            owner=self.owner, limit=size, lease=self.settings.notify_lease_seconds
        )
        if not letters:
            return 0
        run = await self._prepare(stored)
        try:
            return await self._send_batch(letters, run)
        finally:
            # Whatever was not attempted (stop, pause, lost lease) goes back untried.
            await asyncio.shield(queue.release([n.id for n in letters], owner=self.owner))

    async def _prepare(self, stored: StoredSettings) -> _Run:
        credentials = await account_credentials(stored.account, box=self.box, oauth=self.oauth)
        settings = self.settings
        target = AccountTarget(
            host=stored.smtp_host,
            port=stored.port,
            security=stored.security,
            credentials=credentials,
            timeout=settings.smtp_timeout,
            ca_file=settings.smtp_ca_file,
            deny=tuple(settings.smtp_deny_networks),
            allow=tuple(settings.smtp_allow_networks),
        )
        if self._session is not None and self._session.target != target:
            await self._close_session()  # the settings were saved anew: a new connection
            self._session = None
        if self._session is None:
            self._session = SmtpSession(target, max_letters=settings.notify_letters_per_connection)
        return _Run(
            stored=stored,
            target=target,
            preset=self.presets.get(stored.provider),
            credentials=credentials,
        )

    async def _send_batch(self, letters: list[Notification], run: _Run) -> int:
        lease = self.settings.notify_lease_seconds
        renew_at = time.monotonic() + lease / 2
        held = {n.id for n in letters}
        attempted = 0
        for index, letter in enumerate(letters):
            if self.stopping.is_set():
                break
            if time.monotonic() >= renew_at:
                rest = [n.id for n in letters[index:]]
                held = await queue.extend(rest, owner=self.owner, lease=lease)
                renew_at = time.monotonic() + lease / 2
            if letter.id not in held:
                continue  # the lease ran out and another worker has it now
            attempted += 1
            if await self._attempt(letter, run, _build(letter, run.stored)) is Decision.PAUSE:
                break
        return attempted

    async def _commit_sent(self, letter: Notification, run: _Run, started: float) -> None:
        kept = await queue.mark_sent(letter, owner=self.owner, account_id=run.stored.account.id)
        self._log(letter, letter.attempts + 1, "SENT", None, started, lost=not kept)
        telemetry.record_notification_attempt("SENT")

    async def _attempt(
        self, letter: Notification, run: _Run, built: Letter | LetterError
    ) -> Decision | None:
        started = time.monotonic()
        attempt = letter.attempts + 1
        failure = await self._deliver(letter, run, built)
        if failure is not None and self._token_refused(failure, run):
            failure = await self._with_new_token(letter, run, built)
        account_id = run.stored.account.id
        if failure is None:
            # Committed before anything else goes on the wire: a crash can repeat only the
            # one letter whose final dot the server took and whose SENT is not written yet.
            await self._commit_sent(letter, run, started)
            return None
        delays = self.settings.notify_retry_delays
        decision = decide(failure, attempts=attempt, delays=delays)
        if decision is Decision.PAUSE:
            await pause_account(account_id, failure)
            outcome = "PAUSED"
        elif decision is Decision.RETRY:
            at = retry_at(timezone.now(), attempts=attempt, delays=delays)
            await queue.mark_retry(
                letter, owner=self.owner, failure=failure, at=at, account_id=account_id
            )
            outcome = "RETRIED"
        else:
            await queue.mark_failed(
                letter, owner=self.owner, failure=failure, account_id=account_id
            )
            outcome = "FAILED"
        self._log(letter, attempt, outcome, failure, started)
        telemetry.record_notification_attempt(outcome, failure.code.value)
        return decision

    async def _deliver(
        self,
        letter: Notification,
        run: _Run,
        message: Letter | LetterError,
    ) -> SmtpFailure | None:
        """Send one letter; None when the server took it, else the classified failure."""
        if run.credentials.unreadable:
            context = self._context(letter, run)
            return replace(explain.auth_failed(context, ""), field="password")
        if run.credentials.failure is not None:
            return run.credentials.failure  # no OAuth2 token: nothing was sent
        if isinstance(message, LetterError):
            return _letter_failure(message)
        stored = run.stored
        session = self._session
        assert session is not None
        try:
            # Every step has the SMTP timeout; the whole letter, connecting included, three.
            async with asyncio.timeout(self.settings.smtp_timeout * 3):
                await self._send(session, message, stored.address, letter.to_address)
        except _SEND_ERRORS as exc:
            failure = _diagnose(exc, self._context(letter, run))
            if _session_still_usable(exc):
                await session.reset()
            else:
                await session.close()
            return failure
        except asyncio.CancelledError:
            await asyncio.shield(session.close())
            raise
        return None

    async def _send(self, session: SmtpSession, message: Letter, sender: str, to: str) -> None:
        reused = session.is_open and not session.worn_out
        if not reused:
            await session.open()
        try:
            await session.send(message, envelope_from=sender, recipient=to)
        except SMTPServerDisconnected:
            # A kept connection the server closed while idle: once more on a new one. The
            # letter cannot have been accepted: a reply to the final dot never came back.
            if not reused or session.reached_data:
                raise
            await session.open()
            await session.send(message, envelope_from=sender, recipient=to)

    def _token_refused(self, failure: SmtpFailure, run: _Run) -> bool:
        """The server refused the OAuth2 token at login (the session never opened)."""
        session = self._session
        return (
            run.credentials.oauth2_token is not None
            and is_login_refusal(failure)
            and (session is None or not session.is_open)
        )

    async def _with_new_token(
        self, letter: Notification, run: _Run, built: Letter | LetterError
    ) -> SmtpFailure | None:
        """Forget the refused token, refresh once and send again; refused again: the account's
        failure. The first try ended at AUTH, so the letter was not sent."""
        refused = run.credentials.oauth2_token
        assert refused is not None
        got = await renewed_token(run.stored.account, refused, access=self.oauth)
        if isinstance(got, SmtpFailure):
            run.credentials = replace(run.credentials, oauth2_token=None, failure=got)
            return got
        run.credentials = replace(run.credentials, oauth2_token=got)
        run.target = replace(run.target, credentials=run.credentials)
        await self._close_session()
        self._session = SmtpSession(
            run.target, max_letters=self.settings.notify_letters_per_connection
        )
        failure = await self._deliver(letter, run, built)
        if failure is not None and is_login_refusal(failure) and not self._session.is_open:
            return refused_again(failure, address=run.stored.address)
        return failure

    def _context(self, letter: Notification, run: _Run) -> DiagnosisContext:
        return DiagnosisContext(
            host=run.target.host,
            port=run.target.port,
            security=run.target.security,
            address=run.stored.address,
            sender_email=run.stored.sender_email,
            recipient=letter.to_address,
            preset=run.preset,
            login=run.credentials.username,
            secrets=run.credentials.secrets,
        )

    def _log(
        self,
        letter: Notification,
        attempt: int,
        outcome: str,
        failure: SmtpFailure | None,
        started: float,
        *,
        lost: bool = False,
    ) -> None:
        log.info(
            "notification %s attempt %d %s code=%s smtp=%s to=*@%s ms=%d%s",
            letter.id,
            attempt,
            outcome,
            failure.code.value if failure else "-",
            failure.smtp_code if failure and failure.smtp_code else "-",
            letter.to_address.rpartition("@")[2],
            int((time.monotonic() - started) * 1000),
            " lease-lost" if lost else "",
        )

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.close()


def _build(letter: Notification, stored: StoredSettings) -> Letter | LetterError:
    """The letter as it goes on the wire (a fraction of a millisecond), or why it cannot be."""
    try:
        return build_notification(
            envelope_from=stored.address,
            sender_name=stored.sender_name,
            sender_email=stored.sender_email,
            to=letter.to_address,
            subject=letter.subject,
            text=letter.text,
            html=letter.html,
            message_id=letter.message_id,
            created_at=letter.created_at,
        )
    except LetterError as exc:
        return exc


def _diagnose(exc: BaseException, context: DiagnosisContext) -> SmtpFailure:
    if isinstance(exc, ImplicitTlsExpected):
        return explain.implicit_tls_expected(context)
    if isinstance(exc, NotSmtpServer):
        return explain.not_smtp_server(context)
    if isinstance(exc, Smtputf8Unsupported):
        return explain.smtputf8_not_supported(context, field="to")
    return classify(exc, context=context)


def _session_still_usable(exc: BaseException) -> bool:
    """A refusal with a reply (not 421, which closes the session) leaves it open."""
    return (
        isinstance(exc, SMTPResponseException)
        and not isinstance(exc, SMTPServerDisconnected)
        and exc.code not in (421, -1)
        and exc.code >= 400
    )


def _letter_failure(exc: LetterError) -> SmtpFailure:
    """A letter that cannot be written safely: the saved sender's fault, or this letter's."""
    unknown = explain.unknown(None, None)
    if exc.field in ("senderName", "senderEmail"):
        return replace(unknown, code=FailureCode.SENDER_REJECTED, field=exc.field)
    return replace(unknown, code=FailureCode.MESSAGE_REJECTED, field=exc.field)
