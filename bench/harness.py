"""Processes and load for the benchmarks: mailtab, the raw baseline, wrk or a Python client.

Every measured server runs as its own process pinned to CPU 0 (when the machine has more
than one); the load generator runs on CPU 1. Servers bind 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "LoadResult",
    "Server",
    "free_port",
    "load",
    "mailtab_server",
    "median",
    "post_json",
    "raw_server",
    "rss_mb",
]

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
SERVER_CPU = 0
LOAD_CPU = 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def _cpus() -> set[int]:
    return set(os.sched_getaffinity(0))


def _pin(cpu: int) -> None:
    if len(_cpus()) > 1 and cpu in _cpus():
        os.sched_setaffinity(0, {cpu})


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Server:
    """A server process under measurement."""

    process: subprocess.Popen[bytes]
    port: int
    started: float
    ready_after: float
    log_path: Path
    token: str | None = None
    data_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/graphql"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_ready(port: int, path: str, process: subprocess.Popen[bytes], limit: float) -> float:
    """Seconds from now until ``path`` answers 200."""
    deadline = time.monotonic() + limit
    url = f"http://{LOOPBACK}:{port}{path}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{url} not ready within {limit} s")


@contextlib.contextmanager
def mailtab_server(
    *, env: Mapping[str, str] | None = None, data_dir: Path | None = None
) -> Iterator[Server]:
    """``mailtab serve`` on a fresh (or given) data folder; the first-start admin token."""
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mt-bench-")))
        port = free_port()
        log_path = data_dir / "server.log"
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MAILTAB_")},
            "MAILTAB_DATA_DIR": str(data_dir),
            "MAILTAB_TEST_EMAIL_RATE_LIMIT": "1000000/minute",
            **(env or {}),
        }
        command = [sys.executable, "-m", "cli", "serve", "--port", str(port)]
        log = stack.enter_context(log_path.open("wb"))
        started = time.monotonic()
        process = subprocess.Popen(  # noqa: S603 (our own interpreter)
            command,
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=log,
            preexec_fn=lambda: _pin(SERVER_CPU),
        )
        server = Server(process, port, started, 0.0, log_path, data_dir=data_dir, env=environment)
        stack.callback(server.stop)
        lines: list[str] = []
        _collect_stdout(process, lines)
        server.ready_after = _wait_ready(port, "/readyz", process, 60) - started
        for _ in range(50):  # the reader thread may be a moment behind
            server.token = _token_in(lines)
            if server.token or not (data_dir / "mailtab.sqlite3").exists():
                break
            time.sleep(0.01)
        yield server


def _collect_stdout(process: subprocess.Popen[bytes], lines: list[str]) -> threading.Thread:
    """Read the server's standard output in the background (the first-start token is there)."""

    def read() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _token_in(lines: list[str]) -> str | None:
    for line in lines:
        if re.fullmatch(r"mt_[A-Za-z0-9_-]+", line.strip()):
            return line.strip()
    return None


@contextlib.contextmanager
def raw_server(body: bytes, *, content_type: str = "application/json") -> Iterator[Server]:
    """The baseline: a bare Starlette app under uvicorn returning ``body`` to every request."""
    with tempfile.TemporaryDirectory(prefix="mt-raw-") as folder:
        body_file = Path(folder) / "body"
        body_file.write_bytes(body)
        log_path = Path(folder) / "raw.log"
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "bench.raw",
            "--port",
            str(port),
            "--body",
            str(body_file),
            "--content-type",
            content_type,
        ]
        with log_path.open("wb") as log:
            started = time.monotonic()
            process = subprocess.Popen(  # noqa: S603
                command,
                cwd=ROOT,
                stdout=log,
                stderr=log,
                preexec_fn=lambda: _pin(SERVER_CPU),
            )
            server = Server(process, port, started, 0.0, log_path)
            try:
                server.ready_after = _wait_ready(port, "/readyz", process, 30) - started
                yield server
            finally:
                server.stop()


def post_json(
    url: str, payload: Any, *, token: str | None = None, lang: str | None = None
) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if lang:
        headers["Accept-Language"] = lang
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url, data=json.dumps(payload).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def rss_mb(pid: int) -> float:
    """Resident memory of a process (and its children), in MiB."""
    total = 0
    for candidate in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{candidate}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if found:
            total += int(found.group(1))
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


# --- load ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    tool: str


_LUA = """
wrk.method = "POST"
wrk.body = {body}
{headers}
"""


def load(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    connections: int,
    seconds: float,
) -> LoadResult:
    """Requests/s and latency percentiles: wrk when installed, else the Python client."""
    if shutil.which("wrk"):
        return _wrk(url, body, headers, connections=connections, seconds=seconds)
    return asyncio.run(_python_load(url, body, headers, connections=connections, seconds=seconds))


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal here


def _wrk(
    url: str, body: bytes, headers: Mapping[str, str], *, connections: int, seconds: float
) -> LoadResult:
    lines = "\n".join(
        f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_LUA.format(body=_lua_string(body.decode()), headers=lines))
    try:
        command = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            # A loaded machine can stall a response past wrk's default 2 s: a slow answer,
            # not a failed one.
            "--timeout",
            "10s",
            "-s",
            script.name,
            url,
        ]
        if len(_cpus()) > 1 and shutil.which("taskset"):
            command = ["taskset", "-c", str(LOAD_CPU), *command]
        output = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return LoadResult(rps, _wrk_percent(output, "50"), _wrk_percent(output, "99"), errors, "wrk")


def _wrk_percent(output: str, percent: str) -> float:
    found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if not found:
        return float("nan")
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


async def _python_load(
    url: str, body: bytes, headers: Mapping[str, str], *, connections: int, seconds: float
) -> LoadResult:
    """A keep-alive HTTP/1.1 client on raw sockets: bounded, for machines without wrk."""
    _pin(LOAD_CPU)
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.partition(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host_port}\r\nContent-Length: {len(body)}\r\n{head}\r\n"
    ).encode() + body
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(request)
                status_line = await reader.readline()
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - started) * 1000)
                if not status_line.startswith(b"HTTP/1.1 200"):
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else 0.0

    return LoadResult(len(latencies) / elapsed, percentile(0.5), percentile(0.99), errors, "python")


#: The server closes a connection idle for MAILTAB_KEEP_ALIVE_TIMEOUT (5 s by default):
#: a connection idle for longer than this is replaced before the next request.
IDLE_SECONDS = 4.0


class KeepAlive:
    """One keep-alive HTTP/1.1 connection for sequential requests (little client overhead)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._used = 0.0

    async def __aenter__(self) -> KeepAlive:
        await self._open()
        return self

    async def _open(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader, self._writer = await asyncio.open_connection(LOOPBACK, self.port)
        self._used = time.monotonic()

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()

    async def post(
        self, path: str, payload: Any, headers: Mapping[str, str] | None = None
    ) -> tuple[int, bytes]:
        if time.monotonic() - self._used > IDLE_SECONDS:
            await self._open()
        assert self._reader is not None and self._writer is not None
        body = json.dumps(payload).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: {LOOPBACK}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{head}\r\n"
            ).encode()
            + body
        )
        status_line = await self._reader.readline()
        length = 0
        while True:
            line = await self._reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self._reader.readexactly(length)
        self._used = time.monotonic()
        return int(status_line.split()[1]), data


def graphql(
    server: Server, query: str, variables: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Run one operation as an admin; fail loudly on any error (the benchmark's setup)."""
    status, body = post_json(
        server.url, {"query": query, "variables": dict(variables or {})}, token=server.token
    )
    document = json.loads(body)
    if status != 200 or document.get("errors"):
        raise RuntimeError(f"setup operation failed ({status}): {document}")
    data: dict[str, Any] = document["data"]
    return data


def make_tab_available(server: Server) -> None:
    """A firm and an outlet: the Mail tab's prerequisites."""
    firm = graphql(
        server,
        'mutation { createFirm(input: {name: "ООО Ромашка", inn: "7707083893"}) '
        "{ firm { id } errors { code } } }",
    )["createFirm"]["firm"]["id"]
    graphql(
        server,
        'mutation($f: ID!) { createOutlet(input: {firmId: $f, name: "Склад", kind: WAREHOUSE})'
        " { outlet { id } errors { code } } }",
        {"f": firm},
    )
