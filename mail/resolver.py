"""DNS look-ups for provider detection: MX and SRV records through dnspython's async resolver.

Why not the system's ``getaddrinfo``: it answers addresses only, and
detection needs MX (which provider receives a company's mail) and SRV (RFC
6186/8314: where a domain says its submission server is). The resolver is
configured from the deployment's settings (``nameservers`` as ``ip`` or
``ip:port``, IPv6 in brackets when a port follows; none: the system's
``/etc/resolv.conf``) and bounded by ``timeout`` for each look-up, all
servers and retries included.

Answers are kept in a small in-process cache (``DnsCache``: bounded in size,
kept no longer than the record's TTL nor ``max_cache_ttl``), negative answers
too, as the TTL of the zone's SOA allows. A resolver that cannot be reached or
does not answer in time raises ``DnsUnavailable``: it is the one failure that
is never cached, so the next look-up asks again.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdata
import dns.rdatatype
import dns.resolver
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.IN.SRV import SRV

from mail.errors import DnsUnavailable

__all__ = [
    "DEFAULT_DNS_TIMEOUT",
    "DnsCache",
    "DnsResolver",
    "MxRecord",
    "Nameserver",
    "SrvRecord",
    "parse_nameservers",
]

#: Seconds one look-up may take (MAILTAB_DNS_TIMEOUT's default).
DEFAULT_DNS_TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class Nameserver:
    """A name server to ask: an IP address and its port (53 unless given)."""

    address: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True, order=True)
class MxRecord:
    """One MX record: its preference and the exchange (lower case, no trailing dot)."""

    preference: int
    host: str


@dataclass(frozen=True, slots=True, order=True)
class SrvRecord:
    """One SRV record; ``target`` in lower case without the trailing dot ("" for ".")."""

    priority: int
    weight: int
    port: int
    target: str


def parse_nameservers(values: Iterable[str]) -> tuple[Nameserver, ...]:
    """Name servers from a deployment's list: "192.0.2.53", "192.0.2.53:5353", "::1", "[::1]:53".

    Raises ValueError for anything else (a host name, a bad address or port):
    a name server given by name would itself need a name server.
    """
    return tuple(_nameserver(value.strip()) for value in values if value.strip())


def _nameserver(text: str) -> Nameserver:
    port_text: str | None = None
    if text.startswith("["):
        address, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"bad name server {text!r}: expected [IPv6] or [IPv6]:port")
        port_text = rest[1:] if rest else None
        if not isinstance(_address(address, text), ipaddress.IPv6Address):
            raise ValueError(f"bad name server {text!r}: brackets are for IPv6 addresses")
    elif text.count(":") == 1:
        address, _, port_text = text.partition(":")
    else:
        # No colon (IPv4) or several (a bare IPv6 address, which cannot carry a port).
        address = text
    parsed = _address(address, text)
    port = 53
    if port_text is not None:
        if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"bad name server {text!r}: port must be 1..65535")
        port = int(port_text)
    return Nameserver(str(parsed), port)


def _address(value: str, text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f"bad name server {text!r}: not an IP address") from None


class DnsCache(dns.resolver.LRUCache):
    """dnspython's LRU answer cache, with every answer kept at most ``max_ttl`` seconds.

    The record's own TTL still applies when it is shorter; the cap keeps a day-long
    MX TTL from hiding a change the administrator just made.
    """

    def __init__(self, *, max_size: int, max_ttl: float) -> None:
        super().__init__(max_size=max_size)
        self.max_ttl = max_ttl

    def put(self, key: dns.resolver.CacheKey, value: dns.resolver.Answer) -> None:
        value.expiration = min(value.expiration, time.time() + self.max_ttl)
        super().put(key, value)


class DnsResolver:
    """MX and SRV look-ups with a deadline and a cache; one per service, shared by requests."""

    def __init__(
        self,
        *,
        nameservers: Sequence[str] = (),
        timeout: float = DEFAULT_DNS_TIMEOUT,
        cache_size: int = 512,
        max_cache_ttl: float = 300.0,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        servers = parse_nameservers(nameservers)
        self.timeout = timeout
        self._resolver = _make_resolver(servers)
        self._resolver.cache = DnsCache(max_size=cache_size, max_ttl=max_cache_ttl)

    async def mx(self, domain: str) -> tuple[MxRecord, ...]:
        """The domain's MX records, most preferred first; () when it has none.

        A "null MX" (RFC 7505: one record with the root as exchange, the domain
        takes no mail) counts as none.
        """
        answer = await self._resolve(domain, dns.rdatatype.MX)
        records = sorted(
            MxRecord(int(rdata.preference), _host(rdata.exchange))
            for rdata in answer
            if isinstance(rdata, MX)
        )
        return tuple(record for record in records if record.host)

    async def srv(self, name: str) -> tuple[SrvRecord, ...]:
        """SRV records of ``name`` ("_submissions._tcp.example.com"), in RFC 2782 order.

        Lowest priority first; within a priority the heavier weight first (a
        deterministic stand-in for the weighted random pick, so the same domain
        always gets the same suggestion). A target of "." is kept, with target "".
        """
        answer = await self._resolve(name, dns.rdatatype.SRV)
        records = [
            SrvRecord(int(rdata.priority), int(rdata.weight), int(rdata.port), _host(rdata.target))
            for rdata in answer
            if isinstance(rdata, SRV)
        ]
        return tuple(sorted(records, key=lambda r: (r.priority, -r.weight, r.target, r.port)))

    async def _resolve(
        self, name: str, rdtype: dns.rdatatype.RdataType
    ) -> Sequence[dns.rdata.Rdata]:
        try:
            qname = dns.name.from_text(name)  # absolute: no search domains get appended
        except dns.exception.DNSException:
            return ()  # not a name DNS could hold (a label over 63 characters): no records
        try:
            answer = await self._resolver.resolve(
                qname, rdtype, lifetime=self.timeout, raise_on_no_answer=False
            )
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return ()
        except (dns.exception.DNSException, OSError) as exc:
            # Timeout, NoNameservers (every server refused, failed or is unreachable),
            # YXDOMAIN, a malformed answer: no usable answer, which says nothing of the name.
            raise DnsUnavailable(f"{type(exc).__name__}: {exc}") from None
        if answer.rrset is None:
            return ()
        return list(answer.rrset)


def _make_resolver(servers: Sequence[Nameserver]) -> dns.asyncresolver.Resolver:
    if not servers:
        try:
            return dns.asyncresolver.Resolver()  # reads /etc/resolv.conf
        except dns.resolver.NoResolverConfiguration:
            # A container without resolv.conf: no server to ask, every look-up is
            # DnsUnavailable and detection still answers from the provider lists.
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = []
            return resolver
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [
        dns.nameserver.Do53Nameserver(server.address, server.port) for server in servers
    ]
    return resolver


def _host(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() if name != dns.name.root else ""
