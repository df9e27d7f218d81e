"""An aiosmtpd peer for notification delivery: STARTTLS + AUTH, with a mind of its own.

Per recipient it can refuse with 550 (``refuse``), answer 451 a number of times before
accepting (``flaky``), and slow DATA down (``slow_data``: seconds for the first letters,
``slow_all``: seconds for every letter). Built on tests.smtpd's controller, authenticator
and recorder, so what it saw is read the same way. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.smtpd import (
    RCPT_USER_UNKNOWN,
    Recorder,
    Replies,
    RunningServer,
    _Authenticator,
    _Controller,
    _Handler,
    server_tls_context,
)

__all__ = ["Behaviour", "notify_server"]


@dataclass
class Behaviour:
    refuse: set[str] = field(default_factory=set)
    """Recipients refused at RCPT with 550 5.1.1."""
    flaky: dict[str, int] = field(default_factory=dict)
    """Recipient → how many more times RCPT answers 451 before it accepts."""
    slow_data: dict[str, float] = field(default_factory=dict)
    """Recipient → seconds the first DATA for it takes (later ones are quick)."""
    slow_all: float = 0.0
    """Seconds every DATA takes."""
    lock: threading.Lock = field(default_factory=threading.Lock)


class _NotifyHandler(_Handler):
    def __init__(self, recorder: Recorder, behaviour: Behaviour) -> None:
        super().__init__(recorder)
        self.behaviour = behaviour

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        behaviour = self.behaviour
        if address in behaviour.refuse:
            self.recorder.rcpt_tos.append(address)
            return RCPT_USER_UNKNOWN.format(recipient=address)
        with behaviour.lock:
            left = behaviour.flaky.get(address, 0)
            if left:
                behaviour.flaky[address] = left - 1
        if left:
            self.recorder.rcpt_tos.append(address)
            return f"451 4.7.1 <{address}>: Recipient address rejected: try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        behaviour = self.behaviour
        delay = behaviour.slow_all
        with behaviour.lock:
            for rcpt in envelope.rcpt_tos:
                delay = max(delay, behaviour.slow_data.pop(rcpt, 0.0))
        if delay:
            await asyncio.sleep(delay)
        return await super().handle_DATA(server, session, envelope)


@asynccontextmanager
async def notify_server(
    *, certificate: Any, accounts: Mapping[str, str], behaviour: Behaviour | None = None
) -> AsyncIterator[tuple[RunningServer, Behaviour]]:
    """A STARTTLS server (AUTH only after STARTTLS) with ``behaviour``; stopped on exit."""
    recorder = Recorder(accounts=accounts, replies=Replies())  # the caller may change it
    rules = behaviour or Behaviour()
    controller = _Controller(
        _NotifyHandler(recorder, rules),
        recorder=recorder,
        authenticator=_Authenticator(recorder),
        server_hostname="mail.test",
        ident="mailtab test ESMTP",
        tls_context=server_tls_context(certificate),
        require_starttls=True,
        auth_require_tls=True,
    )
    await asyncio.to_thread(controller.start)
    try:
        yield RunningServer(host="127.0.0.1", port=int(controller.port), recorder=recorder), rules
    finally:
        await asyncio.to_thread(controller.stop)
