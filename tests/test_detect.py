"""Provider detection against a real DNS server on loopback (tests/dns_server.py), no internet.

The zone below stands for company domains as they are configured in the wild:
MX at Google Workspace, Microsoft 365, Yandex 360 and Mail.ru for business,
SRV records for the submission server (RFC 6186/8314), a null MX, an IDN
domain, and an answer too large for UDP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from mail.detect import DetectionSource, Suggestion, detect_provider, mail_domain
from mail.presets import ProviderCode, ProviderPreset, load_presets
from mail.resolver import DnsResolver, parse_nameservers
from mail.security import Security
from services.addresses import clean_email
from services.errors import Problems
from tests.dns_server import RunningDns, closed_dns_port, dns_server, silent_dns

IDN_DOMAIN = "пример.испытание"
IDN_ASCII = "xn--e1afmkfd.xn--80akhbyknj4f"

ZONE = [
    # Google Workspace, legacy five-record set (listed out of preference order on purpose).
    "acme.internal. 300 IN MX 5 alt1.aspmx.l.google.com.",
    "acme.internal. 300 IN MX 1 aspmx.l.google.com.",
    "acme.internal. 300 IN MX 10 aspmx2.googlemail.com.",
    # Google Workspace, the single record of newer domains.
    "newco.internal. 300 IN MX 1 smtp.google.com.",
    # Microsoft 365.
    "contoso.internal. 300 IN MX 0 contoso-test.mail.protection.outlook.com.",
    # Yandex 360 and Mail.ru for business.
    "shop.internal. 300 IN MX 10 mx.yandex.net.",
    "parts.internal. 300 IN MX 10 emx.mail.ru.",
    # A company server announcing its submission ports.
    "corp.internal. 300 IN MX 10 mail.corp.internal.",
    "_submissions._tcp.corp.internal. 300 IN SRV 0 1 465 smtp.corp.internal.",
    "_submission._tcp.corp.internal. 300 IN SRV 0 1 587 smtp.corp.internal.",
    # Only STARTTLS offered: implicit TLS explicitly "not available" (target ".").
    "plain.internal. 300 IN MX 10 mx.plain.internal.",
    "_submissions._tcp.plain.internal. 300 IN SRV 0 0 0 .",
    "_submission._tcp.plain.internal. 300 IN SRV 10 5 587 relay.plain.internal.",
    "_submission._tcp.plain.internal. 300 IN SRV 10 50 2587 relay2.plain.internal.",
    "_submission._tcp.plain.internal. 300 IN SRV 0 0 0 .",
    # SRV pointing at a provider's own server.
    "hosted.internal. 300 IN SRV 0 0 0 .",
    "_submissions._tcp.hosted.internal. 300 IN SRV 0 1 465 smtp.yandex.ru.",
    # An own mail server and nothing else to go by.
    "unknown.internal. 300 IN MX 10 mx.unknown.internal.",
    # RFC 7505 null MX: the domain takes no mail.
    "nomail.internal. 300 IN MX 0 .",
    # IDN domain, held in its punycode form.
    f"{IDN_ASCII}. 300 IN MX 10 emx.mail.ru.",
    # TTL 0: must not be kept.
    "fresh.internal. 0 IN MX 10 mx.yandex.ru.",
    # More MX records than fit into 512 bytes of UDP: the answer comes over TCP.
    *(
        f"big.internal. 300 IN MX {20 + n} backup-{n:02d}-with-a-rather-long-name.example-hosting.internal."
        for n in range(20)
    ),
    "big.internal. 300 IN MX 5 mx.yandex.ru.",
]


@pytest.fixture(scope="module")
def presets() -> dict[ProviderCode, ProviderPreset]:
    return load_presets()


@pytest.fixture
def dns() -> Iterator[RunningDns]:
    with dns_server(ZONE) as server:
        yield server


def resolver_for(
    server: RunningDns, *, cache_size: int = 512, max_cache_ttl: float = 300.0
) -> DnsResolver:
    return DnsResolver(
        nameservers=[server.nameserver],
        timeout=3.0,
        cache_size=cache_size,
        max_cache_ttl=max_cache_ttl,
    )


async def detect(
    address: str, presets: dict[ProviderCode, ProviderPreset], resolver: DnsResolver
) -> Suggestion:
    # The resolver calls the form's validation first; so do the tests.
    problems = Problems()
    clean = clean_email(address, field="email", problems=problems)
    assert clean is not None, problems.errors
    async with asyncio.timeout(30):  # a hang fails the test instead of stalling the suite
        return await detect_provider(clean, presets=presets, resolver=resolver)


async def test_provider_domain_needs_no_dns(
    presets: dict[ProviderCode, ProviderPreset], dns: RunningDns
) -> None:
    suggestion = await detect("Ivan@Yandex.RU", presets, resolver_for(dns))
    assert suggestion == Suggestion(
        provider=ProviderCode.YANDEX,
        detected_by=DetectionSource.DOMAIN,
        smtp_host="smtp.yandex.ru",
        port=465,
        security=Security.SSL_TLS,
    )
    assert dns.queries == []


@pytest.mark.parametrize(
    ("domain", "mx_hosts"),
    [
        (
            "acme.internal",
            ("aspmx.l.google.com", "alt1.aspmx.l.google.com", "aspmx2.googlemail.com"),
        ),
        ("newco.internal", ("smtp.google.com",)),
    ],
)
async def test_company_domain_at_google_workspace(
    presets: dict[ProviderCode, ProviderPreset],
    dns: RunningDns,
    domain: str,
    mx_hosts: tuple[str, ...],
) -> None:
    suggestion = await detect(f"sales@{domain}", presets, resolver_for(dns))
    assert suggestion.provider is ProviderCode.GOOGLE
    assert suggestion.detected_by is DetectionSource.MX
    assert (suggestion.smtp_host, suggestion.port, suggestion.security) == (
        "smtp.gmail.com",
        465,
        Security.SSL_TLS,
    )
    assert suggestion.mx_hosts == mx_hosts
    assert not suggestion.dns_unavailable


async def test_company_domain_at_microsoft_365_submits_to_office365(
    presets: dict[ProviderCode, ProviderPreset], dns: RunningDns
) -> None:
    suggestion = await detect("info@contoso.internal", presets, resolver_for(dns))
    assert suggestion.provider is ProviderCode.OUTLOOK
    assert suggestion.detected_by is DetectionSource.MX
    assert (suggestion.smtp_host, suggestion.port, suggestion.security) == (
        "smtp.office365.com",
        587,
        Security.STARTTLS,
    )
    assert suggestion.mx_hosts == ("contoso-test.mail.protection.outlook.com",)


@pytest.mark.parametrize(
    ("domain", "provider", "host"),
    [
        ("shop.internal", ProviderCode.YANDEX, "smtp.yandex.ru"),
        ("parts.internal", ProviderCode.MAIL_RU, "smtp.mail.ru"),
    ],
)
async def test_company_domain_at_russian_providers(
    presets: dict[ProviderCode, ProviderPreset],
    dns: RunningDns,
    domain: str,
    provider: ProviderCode,
    host: str,
) -> None:
    suggestion = await detect(f"office@{domain}", presets, resolver_for(dns))
    assert (suggestion.provider, suggestion.detected_by, suggestion.smtp_host) == (
        provider,
        DetectionSource.MX,
        host,
    )


async def test_srv_record_names_the_submission_server(
    presets: dict[ProviderCode, ProviderPreset], dns: RunningDns
) -> None:
    suggestion = await detect("office@corp.internal", presets, resolver_for(dns))
    assert suggestion == Suggestion(
        provider=ProviderCode.OTHER,
        detected_by=DetectionSource.SRV,
        smtp_host="smtp.corp.internal",
        port=465,
        security=Security.SSL_TLS,
        mx_hosts=("mail.corp.internal",),
    )


async def test_srv_dot_target_means_not_offered_and_priority_then_weight_decide(
    presets: dict[ProviderCode, ProviderPreset], dns: RunningDns
) -> None:
    suggestion = await detect("office@plain.internal", presets, resolver_for(dns))
    assert suggestion.detected_by is DetectionSource.SRV
    # _submissions is "." only; of _submission, "." is skipped, then priority 10, heavier weight.
    assert (suggestion.smtp_host, suggestion.port, suggestion.security) == (
        "relay2.plain.internal",
        2587,
        Security.STARTTLS,
    )


async def test_srv_target_at_a_provider_names_the_provider(
    presets: dict[ProviderCode, ProviderPreset], dns: RunningDns
) -> None:
    suggestion = await detect("office@hosted.internal", presets, resolver_for(dns))
    assert (suggestion.provider, suggestion.detected_by, suggestion.smtp_host) == (
        ProviderCode.YANDEX,
        DetectionSource.SRV,
        "smtp.yandex.ru",
    )
    assert suggestion.mx_hosts == ()


@pytest.mark.parametrize(
    ("domain", "mx_hosts"),
    [
        ("unknown.internal", ("mx.unknown.internal",)),
        ("nomail.internal", ()),
        ("nowhere.internal", ()),
    ],
)
async def test_unknown_domain_suggests_nothing(
    presets: dict[ProviderCode, ProviderPreset],
    dns: RunningDns,
    domain: str,
    mx_hosts: tuple[str, ...],
) -> None:
    suggestion = await detect(f"office@{domain}", presets, resolver_for(dns))
    assert suggestion == Suggestion(
        provider=ProviderCode.OTHER,
        detected_by=DetectionSource.NONE,
        smtp_host=None,
        port=None,
        security=None,
        mx_hosts=mx_hosts,
    )


async def test_idn_domain_is_looked_up_in_punycode(
    presets: dict[ProviderCode, ProviderPreset], dns: RunningDns
) -> None:
    suggestion = await detect(f"почта@{IDN_DOMAIN.upper()}", presets, resolver_for(dns))
    assert (suggestion.provider, suggestion.detected_by) == (
        ProviderCode.MAIL_RU,
        DetectionSource.MX,
    )
    assert (f"{IDN_ASCII}.", "MX", "udp") in dns.queries


async def test_answer_too_large_for_udp_is_fetched_over_tcp(
    presets: dict[ProviderCode, ProviderPreset], dns: RunningDns
) -> None:
    suggestion = await detect("office@big.internal", presets, resolver_for(dns))
    assert (suggestion.provider, suggestion.detected_by) == (
        ProviderCode.YANDEX,
        DetectionSource.MX,
    )
    assert len(suggestion.mx_hosts) == 21
    assert suggestion.mx_hosts[0] == "mx.yandex.ru"
    assert ("big.internal.", "MX", "tcp") in dns.queries


@pytest.mark.parametrize("make_server", ["silent", "closed"])
async def test_dns_unreachable_gives_none_in_about_the_timeout(
    presets: dict[ProviderCode, ProviderPreset], make_server: str
) -> None:
    with silent_dns() as silent:
        nameserver = (
            silent.nameserver if make_server == "silent" else f"127.0.0.1:{closed_dns_port()}"
        )
        resolver = DnsResolver(nameservers=[nameserver], timeout=0.5)
        # The bound is generous (no wall-clock assertion); a hang or an exception fails.
        async with asyncio.timeout(20):
            suggestion = await detect_provider(
                "office@corp.internal", presets=presets, resolver=resolver
            )
            listed = await detect_provider("office@yandex.ru", presets=presets, resolver=resolver)
    assert suggestion == Suggestion(
        provider=ProviderCode.OTHER,
        detected_by=DetectionSource.NONE,
        smtp_host=None,
        port=None,
        security=None,
        dns_unavailable=True,
    )
    # The provider lists still work without DNS.
    assert (listed.provider, listed.detected_by) == (ProviderCode.YANDEX, DetectionSource.DOMAIN)


async def test_answers_are_cached_within_their_ttl(
    presets: dict[ProviderCode, ProviderPreset], dns: RunningDns
) -> None:
    resolver = resolver_for(dns)
    for address in ("a@acme.internal", "b@acme.internal"):
        suggestion = await detect(address, presets, resolver)
        assert suggestion.provider is ProviderCode.GOOGLE
    # Negative answers are kept too (the zone's SOA allows 30 s).
    for address in ("a@nowhere.internal", "b@nowhere.internal"):
        suggestion = await detect(address, presets, resolver)
        assert suggestion.detected_by is DetectionSource.NONE
    asked = [query[:2] for query in dns.queries]
    assert asked.count(("acme.internal.", "MX")) == 1
    for name in ("nowhere.internal.", "_submissions._tcp.nowhere.internal."):
        assert asked.count((name, "MX" if name[0] != "_" else "SRV")) == 1


async def test_ttl_zero_is_not_kept(
    presets: dict[ProviderCode, ProviderPreset], dns: RunningDns
) -> None:
    resolver = resolver_for(dns)
    for _ in range(2):
        suggestion = await detect("a@fresh.internal", presets, resolver)
        assert suggestion.provider is ProviderCode.YANDEX
    assert [q for q in dns.queries if q[:2] == ("fresh.internal.", "MX")] == [
        ("fresh.internal.", "MX", "udp")
    ] * 2


@pytest.mark.parametrize(("cache_size", "max_cache_ttl"), [(512, 0.0), (1, 300.0)])
async def test_cache_is_capped_in_time_and_size(
    dns: RunningDns, cache_size: int, max_cache_ttl: float
) -> None:
    resolver = resolver_for(dns, cache_size=cache_size, max_cache_ttl=max_cache_ttl)
    for domain in ("acme.internal", "shop.internal", "acme.internal"):
        assert await resolver.mx(domain)
    assert [q[0] for q in dns.queries].count("acme.internal.") == 2


@pytest.mark.parametrize(
    "address",
    [
        "no-at-sign",
        "user@",
        "user@[192.0.2.1]",
        "user@192.0.2.1",
        "user@localhost",
        "user@" + "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 63 + ".internal",
        "user@bad_label-.internal",
    ],
)
async def test_addresses_without_a_usable_domain_match_nothing_and_ask_nothing(
    presets: dict[ProviderCode, ProviderPreset], dns: RunningDns, address: str
) -> None:
    async with asyncio.timeout(30):
        suggestion = await detect_provider(address, presets=presets, resolver=resolver_for(dns))
    assert suggestion.detected_by is DetectionSource.NONE
    assert dns.queries == []


def test_mail_domain_is_the_dns_form() -> None:
    assert mail_domain("Ivan@Example.INTERNAL.") == "example.internal"
    assert mail_domain(f"x@{IDN_DOMAIN}") == IDN_ASCII
    assert mail_domain("x@[IPv6:2001:db8::1]") is None


def test_nameservers_are_ip_or_ip_and_port() -> None:
    servers = parse_nameservers(
        ["192.0.2.53", " 192.0.2.54:5353 ", "2001:db8::53", "[2001:db8::54]:5353", ""]
    )
    assert [str(server) for server in servers] == [
        "192.0.2.53:53",
        "192.0.2.54:5353",
        "[2001:db8::53]:53",
        "[2001:db8::54]:5353",
    ]


@pytest.mark.parametrize(
    "value",
    [
        "dns.example.internal",
        "192.0.2.53:0",
        "192.0.2.53:65536",
        "192.0.2.53:x",
        "[192.0.2.53]:53",
        "[2001:db8::1",
        "[2001:db8::1]x",
        ":53",
    ],
)
def test_bad_nameserver_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="name server"):
        parse_nameservers([value])


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout"):
        DnsResolver(nameservers=["127.0.0.1"], timeout=0)
