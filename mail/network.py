"""Where the server may connect: resolve an SMTP host once and vet its addresses.

The test letter makes the server open a connection to a host an administrator
typed in, so the host is resolved here exactly once and the connection is made
to the vetted address (never resolved again, which would let a DNS answer
change between the check and the connection). Loopback and private networks
stay allowed, because on-premises relays are common; link-local (cloud
metadata), unspecified and multicast addresses are refused unless a deployment
allows them explicitly. An IPv6 address that carries an IPv4 address (NAT64,
SIIT, 6to4, Teredo, IPv4-compatible) is judged by that IPv4 address as well,
since the packets end up there.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mail.errors import AddressNotAllowed, HostNotFound, Refusal
from mail.idn import ascii_domain

__all__ = [
    "DEFAULT_DENY",
    "IPAddress",
    "IPNetwork",
    "ResolvedTarget",
    "ascii_host",
    "is_allowed",
    "parse_networks",
    "refusal",
    "refused_ip_literal",
    "resolve_target",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Refused unless a deployment allows them (``allow``); the explicit ``deny`` list always wins.
DEFAULT_DENY: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.0.0/16",  # IPv4 link-local, including 169.254.169.254 (cloud metadata)
        "fe80::/10",  # IPv6 link-local
        "0.0.0.0/8",  # "this network"; 0.0.0.0 connects to the local host on Linux
        "::/128",  # unspecified
        "224.0.0.0/4",  # multicast
        "ff00::/8",  # multicast
        "255.255.255.255/32",  # limited broadcast
        # Metadata endpoints outside the link-local range (AWS over IPv6, Alibaba Cloud):
        # inside networks that stay allowed, so they are named one by one.
        "fd00:ec2::254/128",
        "100.100.100.200/32",
    )
)


#: Cloud metadata endpoints, named apart from the ranges that hold them.
_METADATA: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in ("169.254.169.254/32", "fd00:ec2::254/128", "100.100.100.200/32")
)


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """A vetted place to connect to.

    ``host`` is the name as the certificate must show it (ASCII, punycode for
    IDN names; the IP itself for an IP literal); ``address`` is the first
    acceptable IP and ``addresses`` all of them, in the resolver's order.
    """

    host: str
    address: str
    port: int
    addresses: tuple[str, ...] = ()


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Networks from a deployment's list ("10.0.0.0/8", "192.0.2.7"); ValueError on a bad one."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values if value)


def is_allowed(
    address: IPAddress, *, deny: Sequence[IPNetwork] = (), allow: Sequence[IPNetwork] = ()
) -> bool:
    """The vetting rule: explicit deny, then explicit allow, then the default refusals.

    An IPv6 address carrying an IPv4 address (see ``_embedded_ipv4``) is refused
    when a ``deny`` network holds it or its IPv4 address; unless ``allow`` holds
    the IPv6 address itself, it is accepted only when the IPv4 address would be
    (``64:ff9b::a9fe:a9fe`` is refused like 169.254.169.254, ``64:ff9b::7f00:1``
    accepted like 127.0.0.1).
    """
    return refusal(address, deny=deny, allow=allow) is None


def refusal(
    address: IPAddress, *, deny: Sequence[IPNetwork] = (), allow: Sequence[IPNetwork] = ()
) -> Refusal | None:
    """Why ``is_allowed`` refuses ``address``, or None when it does not."""
    # An IPv4-mapped IPv6 address (::ffff:169.254.169.254) is that IPv4 address to the
    # local stack: judge it as such, or the mapping would smuggle it past the rules.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    embedded = _embedded_ipv4(address)
    # A deployment that denies 10.0.0.0/8 means every way of reaching it.
    if any(_within(reached, deny) for reached in (address, *embedded)):
        return Refusal.DEPLOYMENT
    if _within(address, allow):
        return None
    if _within(address, DEFAULT_DENY) or address.is_multicast or address.is_unspecified:
        return _default_refusal(address)
    # Judged with the full rule, so an explicit allow of the IPv4 address counts too.
    for ipv4 in embedded:
        reason = refusal(ipv4, deny=deny, allow=allow)
        if reason is not None:
            return reason
    return None


def _default_refusal(address: IPAddress) -> Refusal:
    if _within(address, _METADATA):
        return Refusal.METADATA
    if address.is_multicast:
        return Refusal.MULTICAST
    if address.is_link_local:
        return Refusal.LINK_LOCAL
    if address == ipaddress.IPv4Address("255.255.255.255"):
        return Refusal.BROADCAST
    return Refusal.UNSPECIFIED  # 0.0.0.0/8 and ::, the rest of DEFAULT_DENY


def refused_ip_literal(
    host: str, *, deny: Sequence[IPNetwork] = (), allow: Sequence[IPNetwork] = ()
) -> tuple[str, Refusal] | None:
    """The address and the reason when ``host`` is an IP literal the server never connects to.

    Names are not resolved: what a name leads to is only known, and vetted, when
    a letter goes out.
    """
    literal = _ip_literal(host.strip())
    if literal is None:
        return None
    reason = refusal(literal, deny=deny, allow=allow)
    return None if reason is None else (str(literal), reason)


def ascii_host(host: str) -> str:
    """The host as DNS and TLS see it: IDN labels in punycode, lower case, no trailing dot.

    Raises HostNotFound for a name that is not a valid host name.
    """
    name = host.strip().rstrip(".")
    if not name:
        raise HostNotFound(host)
    if _ip_literal(name) is not None:
        return name
    try:
        return ascii_domain(name)
    except ValueError:
        raise HostNotFound(host) from None


async def resolve_target(
    host: str,
    port: int,
    *,
    deny: Sequence[IPNetwork] = (),
    allow: Sequence[IPNetwork] = (),
    # The budget for this one step, given by the caller that bounds the whole exchange.
    timeout: float,  # noqa: ASYNC109
) -> ResolvedTarget:
    """Resolve ``host`` once and return the acceptable addresses.

    IP literals skip DNS. Raises HostNotFound or AddressNotAllowed.
    """
    if not 0 < port < 65536:
        raise ValueError(f"port out of range: {port}")
    literal = _ip_literal(host.strip())
    if literal is not None:
        reason = refusal(literal, deny=deny, allow=allow)
        if reason is not None:
            raise AddressNotAllowed(host.strip(), str(literal), reason=reason)
        return ResolvedTarget(str(literal), str(literal), port, (str(literal),))
    name = ascii_host(host)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(
                name, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
    except TimeoutError:
        raise HostNotFound(name, timed_out=True) from None
    except socket.gaierror as exc:
        # "Temporary failure in name resolution" is the resolver's trouble, not a misspelling.
        unavailable = exc.errno in (socket.EAI_AGAIN, socket.EAI_FAIL)
        raise HostNotFound(name, timed_out=unavailable) from None
    except (OSError, UnicodeError):
        raise HostNotFound(name) from None
    candidates: list[str] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        text = str(sockaddr[0])
        if text not in candidates:
            candidates.append(text)
    if not candidates:
        raise HostNotFound(name)
    accepted = tuple(a for a in candidates if is_allowed(_parse(a), deny=deny, allow=allow))
    if not accepted:
        first = candidates[0]
        reason = refusal(_parse(first), deny=deny, allow=allow) or Refusal.DEPLOYMENT
        raise AddressNotAllowed(name, first, reason=reason)
    return ResolvedTarget(name, accepted[0], port, accepted)


#: Translation prefixes whose last 32 bits are the IPv4 destination: a NAT64 gateway
#: (RFC 6052 well-known prefix) or a stateless SIIT translator (RFC 2765 "IPv4-translated"
#: ::ffff:0:0:0/96). The RFC 8215 local-use prefix is read in its /96 layout only: the
#: operator's prefix length cannot be seen in an address, and reading the shorter RFC 6052
#: layouts as well would find 0.0.0.x in the usual zero-padded /96 ones and refuse them.
_TRANSLATED_IPV4: tuple[ipaddress.IPv6Network, ...] = tuple(
    ipaddress.IPv6Network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48", "::ffff:0:0:0/96")
)
#: Deprecated IPv4-compatible addresses (::169.254.169.254): a host with the sit module
#: loaded still tunnels them to the IPv4 address.
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
#: :: and ::1 lie inside ::/96 but are the unspecified and loopback addresses, not IPv4.
_NOT_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/127")


def _embedded_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address leads to through a translator or a tunnel."""
    if not isinstance(address, ipaddress.IPv6Address):
        return ()
    found: list[ipaddress.IPv4Address] = []
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in net for net in _TRANSLATED_IPV4):
        found.append(low32)
    if address in _IPV4_COMPATIBLE and address not in _NOT_IPV4_COMPATIBLE:
        found.append(low32)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        # Both ends count: the Teredo server and the (de-obfuscated) client address.
        found.extend(address.teredo)
    return tuple(found)


def _within(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def _parse(text: str) -> IPAddress:
    # getaddrinfo writes IPv6 link-local addresses with a zone ("fe80::1%eth0");
    # the zone does not change which network the address belongs to.
    return ipaddress.ip_address(text.partition("%")[0])


def _ip_literal(host: str) -> IPAddress | None:
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return _parse(text)
    except ValueError:
        return None
