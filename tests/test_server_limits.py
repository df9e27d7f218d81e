"""The HTTP server's own limits, against a real `mailtab serve`: slow and idle connections.

uvicorn reads request heads without a time limit of its own: a client dripping a header a
byte at a time would hold its connection (and a slot) for as long as it likes. Every bound
here is generous; the assertions are on what the server did, never on measured time.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_cli import serving

HEAD = (
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-client\r\n"
    + (b"X-Padding: " + b"a" * 60 + b"\r\n")
    + b"\r\n"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")}
    env |= {"MAILTAB_DATA_DIR": str(tmp_path / "data"), "MAILTAB_HEADER_TIMEOUT": "1"}
    with serving(env) as (process, port, lines):
        assert process.poll() is None, "\n".join(lines)
        yield port


def closed_by_server(client: socket.socket) -> bytes | None:
    """What the server sent before closing (b"" for nothing), or None while it is still open."""
    client.setblocking(False)
    try:
        data = client.recv(65536)
    except BlockingIOError:
        return None
    except ConnectionResetError:
        return b""
    finally:
        client.setblocking(True)
    if not data:
        return b""
    # A reply: the server is done with this connection once the rest has arrived.
    client.settimeout(10)
    # The server may close with unread bytes of ours still arriving: the kernel answers those
    # with a reset, which ends the reply as surely as a close.
    with contextlib.suppress(ConnectionResetError):
        while chunk := client.recv(65536):
            data += chunk
    return data


def test_a_request_head_sent_a_byte_at_a_time_is_cut_off(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=10) as client:
        sent = 0
        reply: bytes | None = None
        # At most 0.25 s a byte: the whole head would take over 30 s (a 30-fold margin).
        for byte in HEAD[:-1]:  # never the last byte: the head stays incomplete
            try:
                client.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                reply = b""
                break
            sent += 1
            time.sleep(0.25)
            reply = closed_by_server(client)
            if reply is not None:
                break
        assert reply is not None, "the server kept a connection whose head never completed"
        assert sent < len(HEAD) - 1
        assert reply == b"" or reply.startswith(b"HTTP/1.1 408 "), reply


def test_a_connection_that_sends_nothing_is_closed(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=30) as client:
        # A generous guard: recv returns b"" when the server closes, long before this.
        assert client.recv(65536) == b""


def test_a_prompt_client_keeps_its_connection_for_several_requests(server: int) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{server}") as client:
        first = client.get("/healthz")
        second = client.get("/healthz")
    assert first.status_code == second.status_code == 200
    assert first.text == "ok"


def test_a_slow_second_request_head_on_a_kept_connection_is_cut_off(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=10) as client:
        client.sendall(HEAD)
        answer = b""
        while b"\r\n\r\nok" not in answer:
            chunk = client.recv(65536)
            assert chunk, answer
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 ")
        reply: bytes | None = None
        for byte in HEAD[:-1]:
            try:
                client.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                reply = b""
                break
            time.sleep(0.25)
            reply = closed_by_server(client)
            if reply is not None:
                break
        assert reply is not None, "the server kept a connection whose second head never completed"
