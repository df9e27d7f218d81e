"""A real DNS server for the detection tests: dnslib on 127.0.0.1, UDP and TCP on one random port.

- ``dns_server``: answers from a zone given as zone-file lines, NXDOMAIN (with
  the zone's SOA) for names it does not hold; UDP answers over 512 bytes are
  truncated, so the client has to retry over TCP, as with a real server.
  ``RunningDns.queries`` records what was asked and over which transport.
- ``silent_dns``: a UDP and TCP port that takes queries and never answers.
- ``closed_dns_port``: a port nothing listens on.

Nothing here is a fixture: test modules wrap these in fixtures of their own.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from dnslib import QTYPE, RCODE, RR, DNSHeader, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer, UDPServer

__all__ = ["LOOPBACK", "RunningDns", "closed_dns_port", "dns_server", "silent_dns"]

LOOPBACK = "127.0.0.1"

_SOA = "internal. 60 IN SOA ns.internal. hostmaster.internal. 1 3600 600 86400 30"


@dataclass(slots=True)
class RunningDns:
    host: str
    port: int
    queries: list[tuple[str, str, str]] = field(default_factory=list)
    """(name, type, "udp" or "tcp") of every query, in order; written from the server's threads."""

    @property
    def nameserver(self) -> str:
        """The server as MAILTAB_DNS_NAMESERVERS spells it."""
        return f"{self.host}:{self.port}"


class _ZoneResolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, records: Iterable[str], running: RunningDns) -> None:
        self.records: dict[str, list[Any]] = {}
        for line in records:
            for rr in RR.fromZone(line):
                self.records.setdefault(str(rr.rname).lower(), []).append(rr)
        self.soa = RR.fromZone(_SOA)[0]
        self.running = running
        self.lock = threading.Lock()

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        name = str(request.q.qname).lower()
        with self.lock:
            self.running.queries.append((name, QTYPE[request.q.qtype], handler.protocol))
        reply = request.reply()
        held = self.records.get(name)
        if held is None:
            reply.header.rcode = RCODE.NXDOMAIN
            reply.add_auth(self.soa)
            return reply
        answers = [rr for rr in held if rr.rtype in (request.q.qtype, QTYPE.CNAME)]
        for rr in answers:
            reply.add_answer(rr)
        if not answers:
            reply.add_auth(self.soa)  # NODATA: the name exists, the type does not
        return reply


class _TruncatingHandler(DNSHandler):  # type: ignore[misc]
    """Answers over UDP carry at most 512 bytes (RFC 1035 §4.2.1); larger ones say "use TCP".

    dnslib's own truncation drops the question section too, which clients
    (rightly) refuse as not matching their query; a real server keeps it.
    """

    def get_reply(self, data: bytes) -> bytes:
        packed: bytes = super().get_reply(data)
        if self.protocol != "udp" or len(packed) <= _UDP_LIMIT:
            return packed
        reply = DNSRecord.parse(packed)
        truncated = DNSRecord(DNSHeader(id=reply.header.id, qr=1, aa=1, tc=1), q=reply.q)
        return bytes(truncated.pack())


_UDP_LIMIT = 512


_QUIET = DNSLogger(log="-request,-reply,-truncated,-error")


@contextmanager
def dns_server(records: Iterable[str]) -> Iterator[RunningDns]:
    """A DNS server on 127.0.0.1 answering ``records`` (zone-file lines) over UDP and TCP."""
    records = list(records)
    tcp, udp, running = _bind_pair(records)
    threads = [
        # A short poll interval: stopping waits for the next poll.
        threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05})
        for server in (tcp, udp)
    ]
    for thread in threads:
        thread.start()
    try:
        yield running
    finally:
        for server, thread in zip((tcp, udp), threads, strict=True):
            server.server.shutdown()
            thread.join()
            server.server.server_close()


def _bind_pair(records: list[str]) -> tuple[DNSServer, DNSServer, RunningDns]:
    # Same port for both transports, as a client retries over TCP where UDP answered.
    for _attempt in range(20):
        running = RunningDns(LOOPBACK, 0)
        resolver = _ZoneResolver(records, running)
        tcp = DNSServer(
            resolver, address=LOOPBACK, port=0, tcp=True, logger=_QUIET, handler=_TruncatingHandler
        )
        running.port = int(tcp.server.server_address[1])
        try:
            udp = DNSServer(
                resolver,
                address=LOOPBACK,
                port=running.port,
                logger=_QUIET,
                handler=_TruncatingHandler,
                server=UDPServer,
            )
        except OSError:
            tcp.server.server_close()
            continue
        return tcp, udp, running
    raise RuntimeError("no free port for both UDP and TCP")


@contextmanager
def silent_dns() -> Iterator[RunningDns]:
    """A name server that takes queries (UDP, and TCP connections) and never answers."""
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
    ):
        tcp.bind((LOOPBACK, 0))
        port = int(tcp.getsockname()[1])
        udp.bind((LOOPBACK, port))
        tcp.listen(16)
        yield RunningDns(LOOPBACK, port)


def closed_dns_port() -> int:
    """A UDP port that was free a moment ago: queries to it are refused (ICMP) or lost."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])
