"""Where the server may connect: one resolution, vetted addresses, deny/allow lists."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import pytest

from mail.errors import AddressNotAllowed, HostNotFound
from mail.network import IPNetwork, ascii_host, is_allowed, parse_networks, resolve_target


def _net(*values: str) -> tuple[IPNetwork, ...]:
    return parse_networks(values)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("10.1.2.3", True),
        ("172.16.0.10", True),
        ("192.168.1.20", True),
        ("fd12:3456::1", True),
        ("8.8.8.8", True),
        ("2a00:1450:4010:c05::6c", True),
        ("169.254.169.254", False),
        ("169.254.1.1", False),
        ("fe80::1", False),
        ("0.0.0.0", False),  # noqa: S104 (an address to refuse, not a bind)
        ("::", False),
        ("224.0.0.251", False),
        ("ff02::1", False),
        ("255.255.255.255", False),
        ("::ffff:169.254.169.254", False),
        ("::ffff:10.0.0.1", True),
        ("fd00:ec2::254", False),
        ("100.100.100.200", False),
    ],
)
def test_default_rules(address: str, allowed: bool) -> None:
    assert is_allowed(ipaddress.ip_address(address)) is allowed


# Every IPv6 form that carries an IPv4 address: the packets end up at that IPv4
# host (through a NAT64 or SIIT translator, a 6to4 or Teredo relay, or the sit
# tunnel), so the address is judged like it.
@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        # NAT64, well-known prefix 64:ff9b::/96
        ("64:ff9b::a9fe:a9fe", False),
        ("64:ff9b::169.254.1.1", False),
        ("64:ff9b::7f00:1", True),  # 127.0.0.1
        ("64:ff9b::a00:1", True),  # 10.0.0.1
        ("64:ff9b::808:808", True),  # 8.8.8.8
        ("64:ff9b::e000:fb", False),  # 224.0.0.251
        ("64:ff9b::", False),  # 0.0.0.0
        ("64:ff9b::6464:64c8", False),  # 100.100.100.200 (Alibaba Cloud metadata)
        # NAT64, local-use prefix 64:ff9b:1::/48 (RFC 8215), /96 layout
        ("64:ff9b:1::a9fe:a9fe", False),
        ("64:ff9b:1:abcd::a9fe:a9fe", False),
        ("64:ff9b:1::c0a8:114", True),  # 192.168.1.20
        # 6to4, 2002::/16: the IPv4 address follows the prefix
        ("2002:a9fe:a9fe::1", False),
        ("2002:a9fe:a9fe:1:2:3:4:5", False),
        ("2002:0a00:0001::1", True),  # 10.0.0.1
        ("2002:7f00:1::1", True),  # 127.0.0.1
        ("2002:0808:0808::1", True),  # 8.8.8.8
        # IPv4-compatible ::/96 (deprecated)
        ("::a9fe:a9fe", False),
        ("::169.254.169.254", False),
        ("::127.0.0.1", True),
        ("::10.0.0.1", True),
        ("::1", True),  # loopback, not an IPv4-compatible address
        # IPv4-translated ::ffff:0:0:0/96 (SIIT)
        ("::ffff:0:a9fe:a9fe", False),
        ("::ffff:0:a00:1", True),
        # Teredo 2001::/32: server 65.54.227.120; the client is stored inverted
        ("2001:0:4136:e378:8000:63bf:5601:5601", False),  # client 169.254.169.254
        ("2001:0:a9fe:a9fe:8000:63bf:3fff:fdd2", False),  # server 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", True),  # client 192.0.2.45
    ],
)
def test_embedded_ipv4_is_judged_like_the_ipv4_address(address: str, allowed: bool) -> None:
    assert is_allowed(ipaddress.ip_address(address)) is allowed


@pytest.mark.parametrize(
    "address", ["64:ff9b::a00:1", "64:ff9b:1::a00:1", "2002:a00:1::1", "::10.0.0.1"]
)
def test_a_denied_ipv4_network_is_denied_inside_ipv6_too(address: str) -> None:
    assert not is_allowed(ipaddress.ip_address(address), deny=_net("10.0.0.0/8"))
    # Explicit deny wins even over an explicit allow of the IPv6 address itself.
    assert not is_allowed(
        ipaddress.ip_address(address), deny=_net("10.0.0.0/8"), allow=_net("::/0")
    )


def test_an_allowed_ipv4_address_is_allowed_inside_ipv6_too() -> None:
    wrapped = ipaddress.ip_address("64:ff9b::a9fe:a9fe")
    assert is_allowed(wrapped, allow=_net("169.254.169.254"))
    assert not is_allowed(wrapped, allow=_net("169.254.169.254"), deny=_net("64:ff9b::/96"))


def test_an_explicit_allow_of_the_ipv6_address_overrides_the_default_refusal() -> None:
    # The order of the rule: explicit allow comes before the default refusals.
    wrapped = ipaddress.ip_address("2002:a9fe:a9fe::1")
    assert is_allowed(wrapped, allow=_net("2002:a9fe:a9fe::/48"))


def test_allow_overrides_the_default_refusals() -> None:
    metadata = ipaddress.ip_address("169.254.169.254")
    assert is_allowed(metadata, allow=_net("169.254.0.0/16"))


def test_explicit_deny_wins_over_allow() -> None:
    relay = ipaddress.ip_address("10.0.0.25")
    assert not is_allowed(relay, deny=_net("10.0.0.0/8"), allow=_net("10.0.0.25"))
    assert not is_allowed(ipaddress.ip_address("127.0.0.1"), deny=_net("127.0.0.0/8"))


def test_parse_networks_accepts_hosts_and_networks() -> None:
    assert parse_networks(["10.0.0.0/8", " 192.0.2.7 ", "", "fd00::/8"]) == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.7/32"),
        ipaddress.ip_network("fd00::/8"),
    )
    with pytest.raises(ValueError):
        parse_networks(["not a network"])


class _Resolver:
    """Stands in for loop.getaddrinfo: fixed answers, counts the lookups."""

    def __init__(self, *addresses: str, delay: float = 0.0) -> None:
        self.addresses = addresses
        self.delay = delay
        self.queries: list[str] = []

    async def __call__(self, host: str, port: int, **kwargs: Any) -> list[Any]:
        self.queries.append(host)
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in self.addresses
        ]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(*addresses: str, delay: float = 0.0) -> _Resolver:
        fake = _Resolver(*addresses, delay=delay)
        monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake)
        return fake

    return install


async def test_ip_literals_skip_dns(resolver: Any) -> None:
    fake = resolver()
    target = await resolve_target("192.168.10.5", 587, timeout=1)
    assert (target.host, target.address, target.port) == ("192.168.10.5", "192.168.10.5", 587)
    assert (await resolve_target("[::1]", 25, timeout=1)).address == "::1"
    assert fake.queries == []


async def test_a_refused_literal_is_reported_with_its_address(resolver: Any) -> None:
    resolver()
    with pytest.raises(AddressNotAllowed) as caught:
        await resolve_target("169.254.169.254", 465, timeout=1)
    assert caught.value.address == "169.254.169.254"


async def test_a_name_is_resolved_once_and_keeps_its_name(resolver: Any) -> None:
    fake = resolver("10.0.0.7", "10.0.0.8", "10.0.0.7")
    target = await resolve_target("Relay.Corp.Example", 587, timeout=1)
    assert fake.queries == ["relay.corp.example"]
    assert target.host == "relay.corp.example"
    assert target.address == "10.0.0.7"
    assert target.addresses == ("10.0.0.7", "10.0.0.8")


async def test_refused_addresses_are_skipped(resolver: Any) -> None:
    resolver("169.254.169.254", "fe80::1%1", "192.168.0.9")
    target = await resolve_target("mixed.example", 25, timeout=1)
    assert target.addresses == ("192.168.0.9",)


async def test_a_name_pointing_only_at_metadata_is_refused(resolver: Any) -> None:
    resolver("169.254.169.254")
    with pytest.raises(AddressNotAllowed) as caught:
        await resolve_target("metadata.attacker.example", 465, timeout=1)
    assert caught.value.address == "169.254.169.254"


@pytest.mark.parametrize(
    "host",
    [
        "64:ff9b::a9fe:a9fe",
        "[64:ff9b:1::a9fe:a9fe]",
        "2002:a9fe:a9fe::1",
        "::169.254.169.254",
        "2001:0:4136:e378:8000:63bf:5601:5601",
    ],
)
async def test_a_literal_embedding_metadata_is_refused(resolver: Any, host: str) -> None:
    fake = resolver()
    with pytest.raises(AddressNotAllowed) as caught:
        await resolve_target(host, 465, timeout=1)
    assert caught.value.address == str(ipaddress.ip_address(host.strip("[]")))
    assert fake.queries == []


async def test_a_literal_embedding_an_allowed_address_is_kept(resolver: Any) -> None:
    resolver()
    target = await resolve_target("64:ff9b::7f00:1", 25, timeout=1)
    assert (target.host, target.address) == ("64:ff9b::7f00:1", "64:ff9b::7f00:1")


async def test_resolved_addresses_embedding_metadata_are_skipped(resolver: Any) -> None:
    resolver("64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "::a9fe:a9fe", "2002:a00:1::1")
    target = await resolve_target("nat64.example", 25, timeout=1)
    assert target.addresses == ("2002:a00:1::1",)


async def test_a_name_pointing_only_at_wrapped_metadata_is_refused(resolver: Any) -> None:
    resolver("64:ff9b::a9fe:a9fe")
    with pytest.raises(AddressNotAllowed) as caught:
        await resolve_target("dns64.attacker.example", 465, timeout=1)
    assert caught.value.address == "64:ff9b::a9fe:a9fe"


async def test_deny_list_applies_to_resolved_names(resolver: Any) -> None:
    resolver("203.0.113.5")
    with pytest.raises(AddressNotAllowed):
        await resolve_target("smtp.example", 465, deny=_net("203.0.113.0/24"), timeout=1)


async def test_idn_hosts_are_resolved_in_punycode(resolver: Any) -> None:
    fake = resolver("192.0.2.10")
    target = await resolve_target("smtp.пример.рф", 465, timeout=1)
    assert fake.queries == ["smtp.xn--e1afmkfd.xn--p1ai"]
    assert target.host == "smtp.xn--e1afmkfd.xn--p1ai"


async def test_unknown_host(resolver: Any) -> None:
    resolver()
    with pytest.raises(HostNotFound) as caught:
        await resolve_target("nonexistent.invalid", 465, timeout=1)
    assert not caught.value.timed_out


async def test_a_slow_resolver_is_cut_off(resolver: Any) -> None:
    resolver("192.0.2.1", delay=5)
    with pytest.raises(HostNotFound) as caught:
        await resolve_target("slow.example", 465, timeout=0.05)
    assert caught.value.timed_out


async def test_real_resolver_for_localhost() -> None:
    target = await resolve_target("localhost", 587, timeout=5)
    assert target.host == "localhost"
    assert ipaddress.ip_address(target.address).is_loopback


async def test_real_resolver_for_an_invalid_name() -> None:
    with pytest.raises(HostNotFound):
        await resolve_target("nonexistent.invalid", 587, timeout=5)


def test_ascii_host_refuses_garbage() -> None:
    assert ascii_host("SMTP.Example.COM.") == "smtp.example.com"
    with pytest.raises(HostNotFound):
        ascii_host("bad..name")
    with pytest.raises(HostNotFound):
        ascii_host("  ")


@pytest.mark.parametrize(
    ("error", "timed_out"),
    [
        (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), True),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), False),
    ],
)
async def test_a_resolver_outage_is_not_reported_as_a_misspelling(
    monkeypatch: pytest.MonkeyPatch, error: OSError, timed_out: bool
) -> None:
    loop = asyncio.get_running_loop()

    async def failing(*args: object, **kwargs: object) -> object:
        raise error

    monkeypatch.setattr(loop, "getaddrinfo", failing)
    with pytest.raises(HostNotFound) as raised:
        await resolve_target("smtp.example.ru", 465, timeout=1)
    assert raised.value.timed_out is timed_out
