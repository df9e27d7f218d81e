"""The SMTP conversation step by step: what a support engineer reads instead of a packet capture.

A ``StepLog`` is handed to whatever talks to a server (the test letter today; any
later sender can use the same log). Each phase runs inside ``async with log.step(NAME)``:
the step is timed, marked OK when the block ends, FAILED when it raises (cancellation
and timeouts included; the exception goes on unchanged), and carries the server's
reply code and text when there was one. A phase that does not apply is ``skip``\\ ped.

Replies are made safe before they are kept (``mail.redact``): the password in any
form, AUTH payloads, controls. A ``334`` reply is never kept at all: it is an AUTH
challenge, and with XOAUTH2 it carries the provider's error document about the token.
What EHLO advertises ("AUTH PLAIN LOGIN") is kept: it names mechanisms, no secret.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from aiosmtplib import SMTPResponse, SMTPResponseException

from mail.redact import Redactor

__all__ = ["SmtpStep", "StepLog", "StepName", "StepReply", "StepStatus"]

#: AUTH's "go on" reply: its text is a challenge (base64), never shown.
_AUTH_CHALLENGE = 334


class StepName(StrEnum):
    RESOLVE = "RESOLVE"
    """The host name looked up and the address vetted by the network guard."""
    CONNECT = "CONNECT"
    """The TCP connection to the vetted address."""
    TLS = "TLS"
    """The TLS handshake of an implicit-TLS port (the certificate is checked here)."""
    GREETING = "GREETING"
    """The server's first reply (220)."""
    EHLO = "EHLO"
    """EHLO and the extensions the server offers (twice with STARTTLS: before and after)."""
    STARTTLS = "STARTTLS"
    """The upgrade of a plain session to TLS (the certificate is checked here)."""
    AUTH = "AUTH"
    """The login; skipped for a relay that takes mail without one."""
    MAIL_FROM = "MAIL_FROM"
    RCPT_TO = "RCPT_TO"
    DATA = "DATA"


class StepStatus(StrEnum):
    OK = "OK"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpStep:
    """One step as it happened; ``smtp_reply`` is redacted, None where the server said nothing."""

    name: StepName
    status: StepStatus
    duration_ms: int
    smtp_code: int | None = None
    smtp_reply: str | None = None

    def as_json(self) -> dict[str, object]:
        """The step as stored with the attempt (camelCase, like the API)."""
        return {
            "name": self.name.value,
            "status": self.status.value,
            "durationMs": self.duration_ms,
            "smtpCode": self.smtp_code,
            "smtpReply": self.smtp_reply,
        }

    @classmethod
    def from_json(cls, value: object) -> SmtpStep | None:
        """A stored step, or None for anything that is not one."""
        if not isinstance(value, dict):
            return None
        try:
            code = value.get("smtpCode")
            reply = value.get("smtpReply")
            return cls(
                name=StepName(value["name"]),
                status=StepStatus(value["status"]),
                duration_ms=max(0, int(value["durationMs"])),
                smtp_code=int(code) if isinstance(code, int) else None,
                smtp_reply=reply if isinstance(reply, str) else None,
            )
        except (KeyError, ValueError, TypeError):
            return None


@dataclass(slots=True)
class StepReply:
    """What the block inside ``StepLog.step`` tells of the server's answer."""

    response: SMTPResponse | None = None

    def set(self, response: SMTPResponse) -> SMTPResponse:
        self.response = response
        return response


@dataclass(slots=True)
class StepLog:
    """The steps of one conversation, in order; ``secrets`` are cut out of every reply."""

    secrets: Sequence[str] = field(default=(), repr=False)
    username: str | None = field(default=None, repr=False)
    steps: list[SmtpStep] = field(default_factory=list)
    _redactor: Redactor | None = field(default=None, init=False, repr=False)

    @asynccontextmanager
    async def step(
        self, name: StepName, *, started: float | None = None
    ) -> AsyncIterator[StepReply]:
        """Time the block as step ``name``: OK when it ends, FAILED when it raises.

        ``started``: a ``time.monotonic()`` from before the block, when the step began earlier.
        """
        reply = StepReply()
        began = time.monotonic() if started is None else started
        try:
            yield reply
        except BaseException as exc:
            self.failed(name, started=began, error=exc)
            raise
        self.passed(name, started=began, response=reply.response)

    def passed(
        self, name: StepName, *, started: float, response: SMTPResponse | None = None
    ) -> None:
        """Step ``name``, begun at ``started``, went well (with the server's reply, if any)."""
        code, text = (response.code, response.message) if response else (None, None)
        self._add(name, StepStatus.OK, started, code, text)

    def failed(self, name: StepName, *, started: float, error: BaseException) -> None:
        """Step ``name``, begun at ``started``, ended with ``error``."""
        code, text = _reply_of(error)
        self._add(name, StepStatus.FAILED, started, code, text)

    def skip(self, name: StepName) -> None:
        """A step that does not apply to this conversation."""
        self.steps.append(SmtpStep(name=name, status=StepStatus.SKIPPED, duration_ms=0))

    def _add(
        self,
        name: StepName,
        status: StepStatus,
        started: float,
        code: int | None,
        text: str | None,
    ) -> None:
        if code == _AUTH_CHALLENGE:
            text = None
        safe = self._redact(text) if text else ""
        self.steps.append(
            SmtpStep(
                name=name,
                status=status,
                duration_ms=max(0, int((time.monotonic() - started) * 1000)),
                smtp_code=code,
                smtp_reply=safe or None,
            )
        )

    def _redact(self, text: str) -> str:
        if self._redactor is None:  # the secrets' forms, worked out once per conversation
            self._redactor = Redactor.of(secrets=self.secrets, username=self.username)
        return self._redactor.redact(text)


def _reply_of(exc: BaseException) -> tuple[int | None, str | None]:
    """The server's reply an exception carries (an SMTP error reply), else nothing."""
    if isinstance(exc, SMTPResponseException) and 200 <= exc.code < 600:
        return exc.code, exc.message
    return None, None
