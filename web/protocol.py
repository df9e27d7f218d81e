"""uvicorn's HTTP/1.1 protocol with a time limit on the request head.

uvicorn closes a kept-alive connection that stays idle, but it waits without limit for a
request head to arrive: a client that opens connections and sends nothing, or drips its
headers a byte at a time, holds each connection (and a slot of ``limit_concurrency``) for as
long as it likes. ``HeaderTimeoutProtocol`` gives every request head ``MAILTAB_HEADER_TIMEOUT``
seconds from the connection's start (or from the first byte of a kept-alive connection's
next request) to be complete, and closes the connection otherwise — with ``408`` when part of
a head had arrived. The body is bounded elsewhere: /graphql reads it within the operation's
time budget. ``mailtab serve`` passes this class to uvicorn as ``http=``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HeaderTimeoutProtocol"]

log = logging.getLogger("mailtab.http")

REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 26\r\n"
    b"connection: close\r\n\r\n"
    b"Request header timed out.\n"
)


@functools.cache
def configured_timeout() -> float:
    """``MAILTAB_HEADER_TIMEOUT`` of this process (uvicorn's workers each read their own)."""
    from config import load_settings

    return load_settings().header_timeout


class HeaderTimeoutProtocol(H11Protocol):
    """``H11Protocol`` that closes a connection whose request head is late."""

    def __init__(self, *args: Any, header_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = configured_timeout() if header_timeout is None else header_timeout
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            # Waiting for (the rest of) a request head: the first byte of a kept-alive
            # connection's next request starts its clock; uvicorn's idle timer stopped.
            self._start_head_timer()
        else:
            self._stop_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _start_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        partial, _ = self.conn.trailing_data
        if partial:
            self.transport.write(REQUEST_TIMEOUT)
        log.debug(
            "closed a connection from %s: no complete request head within %g s",
            self.client[0] if self.client else "-",
            self.header_timeout,
        )
        self.transport.close()
