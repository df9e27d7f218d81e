"""detectMailProvider, probeSmtpServer and the provider status through the real app.

Real peers only: a dnslib DNS server on loopback (UDP and TCP, tests/dns_server.py) and
aiosmtpd servers with trustme certificates (tests/smtpd.py). Assertions are on codes,
fields and modes, never on message text or wall time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from models import Firm, Outlet, OutletKind
from tests.conftest import GraphQLClient, MakeClient
from tests.dns_server import RunningDns, closed_dns_port, dns_server, silent_dns
from tests.smtpd import (
    Certificates,
    RunningServer,
    ServerMode,
    closed_port,
    smtp_server,
)

ZONE = [
    "acme.internal. 300 IN MX 5 alt1.aspmx.l.google.com.",
    "acme.internal. 300 IN MX 1 aspmx.l.google.com.",
    "contoso.internal. 300 IN MX 0 contoso-test.mail.protection.outlook.com.",
    "corp.internal. 300 IN MX 10 mail.corp.internal.",
    "_submissions._tcp.corp.internal. 300 IN SRV 0 1 465 smtp.corp.internal.",
    "unknown.internal. 300 IN MX 10 mx.unknown.internal.",
    "xn--e1afmkfd.xn--80akhbyknj4f. 300 IN MX 10 emx.mail.ru.",
    # Too large for 512 bytes of UDP: the resolver must retry over TCP.
    *(
        f"big.internal. 300 IN MX {20 + n} backup-{n:02d}-with-a-rather-long-name.example-hosting.internal."
        for n in range(20)
    ),
    "big.internal. 300 IN MX 5 mx.yandex.ru.",
]

DETECT = """query($email: String!) {
  detectMailProvider(email: $email) {
    suggestion { provider detectedBy smtpHost port security mxHosts }
    errors { field message code }
  }
}"""
PROBE = """mutation($host: String!, $ports: [Int!]) {
  probeSmtpServer(host: $host, ports: $ports) {
    results { port security reachable certificateValid certificateProblem authMechanisms
              failure { code field smtpCode } durationMs greeting }
    recommended { port security }
    errors { field message code }
    failure { code field }
    retryAfter
  }
}"""
PROBE_DEFAULT_PORTS = """mutation($host: String!) {
  probeSmtpServer(host: $host) { results { port } errors { field code } }
}"""
PROVIDERS = "{ mailProviders { code status checklist { text url } } }"


@pytest.fixture
def dns() -> Iterator[RunningDns]:
    with dns_server(ZONE) as server:
        yield server


@pytest.fixture
async def with_dns(client_with: MakeClient, dns: RunningDns) -> GraphQLClient:
    return await client_with(dns_nameservers=dns.nameserver, dns_timeout=2)


async def detect(client: GraphQLClient, email: str, lang: str | None = None) -> dict[str, Any]:
    async with asyncio.timeout(30):  # a hang fails the test instead of stalling the suite
        payload: dict[str, Any] = (await client(DETECT, {"email": email}, lang=lang))[
            "detectMailProvider"
        ]
    return payload


# --- detection ---------------------------------------------------------------------------


async def test_provider_domain_answers_without_dns(
    with_dns: GraphQLClient, dns: RunningDns
) -> None:
    payload = await detect(with_dns, "Ivan@Yandex.RU")
    assert payload == {
        "suggestion": {
            "provider": "YANDEX",
            "detectedBy": "DOMAIN",
            "smtpHost": "smtp.yandex.ru",
            "port": 465,
            "security": "SSL_TLS",
            "mxHosts": [],
        },
        "errors": [],
    }
    assert dns.queries == []


async def test_company_domain_at_google_by_its_mx(with_dns: GraphQLClient, dns: RunningDns) -> None:
    suggestion = (await detect(with_dns, "sales@acme.internal"))["suggestion"]
    assert suggestion == {
        "provider": "GOOGLE",
        "detectedBy": "MX",
        "smtpHost": "smtp.gmail.com",
        "port": 465,
        "security": "SSL_TLS",
        "mxHosts": ["aspmx.l.google.com", "alt1.aspmx.l.google.com"],
    }
    assert ("acme.internal.", "MX", "udp") in dns.queries


async def test_microsoft_365_mx_gives_the_365_submission_host(with_dns: GraphQLClient) -> None:
    suggestion = (await detect(with_dns, "it@contoso.internal"))["suggestion"]
    assert (suggestion["provider"], suggestion["detectedBy"]) == ("OUTLOOK", "MX")
    assert (suggestion["smtpHost"], suggestion["port"], suggestion["security"]) == (
        "smtp.office365.com",
        587,
        "STARTTLS",
    )


async def test_srv_record_names_the_submission_server(with_dns: GraphQLClient) -> None:
    suggestion = (await detect(with_dns, "office@corp.internal"))["suggestion"]
    assert suggestion == {
        "provider": "OTHER",
        "detectedBy": "SRV",
        "smtpHost": "smtp.corp.internal",
        "port": 465,
        "security": "SSL_TLS",
        "mxHosts": ["mail.corp.internal"],
    }


async def test_unknown_domain_is_none_with_its_mx_hosts(with_dns: GraphQLClient) -> None:
    suggestion = (await detect(with_dns, "info@unknown.internal"))["suggestion"]
    assert suggestion == {
        "provider": "OTHER",
        "detectedBy": "NONE",
        "smtpHost": None,
        "port": None,
        "security": None,
        "mxHosts": ["mx.unknown.internal"],
    }


async def test_idn_domain_is_looked_up_in_punycode(
    with_dns: GraphQLClient, dns: RunningDns
) -> None:
    suggestion = (await detect(with_dns, "почта@пример.испытание"))["suggestion"]
    assert (suggestion["provider"], suggestion["detectedBy"]) == ("MAIL_RU", "MX")
    assert ("xn--e1afmkfd.xn--80akhbyknj4f.", "MX", "udp") in dns.queries


async def test_large_answer_comes_over_tcp(with_dns: GraphQLClient, dns: RunningDns) -> None:
    suggestion = (await detect(with_dns, "parts@big.internal"))["suggestion"]
    assert (suggestion["provider"], suggestion["detectedBy"]) == ("YANDEX", "MX")
    assert len(suggestion["mxHosts"]) == 21
    assert ("big.internal.", "MX", "tcp") in dns.queries


async def test_silent_dns_gives_none_not_an_error(client_with: MakeClient) -> None:
    with silent_dns() as silent:
        client = await client_with(dns_nameservers=silent.nameserver, dns_timeout=0.5)
        company = await detect(client, "sales@acme.internal")
        listed = await detect(client, "user@gmail.com")
    assert company["errors"] == []
    assert company["suggestion"]["detectedBy"] == "NONE"
    assert company["suggestion"]["provider"] == "OTHER"
    # The provider lists need no DNS and still answer.
    assert (listed["suggestion"]["provider"], listed["suggestion"]["detectedBy"]) == (
        "GOOGLE",
        "DOMAIN",
    )


async def test_unreachable_dns_gives_none(client_with: MakeClient) -> None:
    client = await client_with(dns_nameservers=f"127.0.0.1:{closed_dns_port()}", dns_timeout=0.5)
    payload = await detect(client, "sales@acme.internal")
    assert payload["errors"] == []
    assert payload["suggestion"]["detectedBy"] == "NONE"


@pytest.mark.parametrize(
    ("email", "code"),
    [
        ("", "REQUIRED"),
        ("no-at-sign.example.ru", "INVALID"),
        ("user@" + "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 100 + ".ru", "INVALID"),
        ("user@exa\u0000mple.ru", "FORBIDDEN_CHARACTERS"),
        ("user@example.ru\r\nBcc: x@y.ru", "FORBIDDEN_CHARACTERS"),
        ("user@exa mple.ru", "INVALID"),
    ],
)
async def test_bad_addresses_are_typed_field_errors(
    with_dns: GraphQLClient, dns: RunningDns, email: str, code: str
) -> None:
    payload = await detect(with_dns, email, lang="en")
    assert payload["suggestion"] is None
    [error] = payload["errors"]
    assert (error["field"], error["code"]) == ("email", code)
    assert error["message"]
    assert dns.queries == []  # refused before any look-up


async def test_any_token_may_detect(viewer_gql: GraphQLClient) -> None:
    payload = await detect(viewer_gql, "user@mail.ru")
    assert payload["suggestion"]["provider"] == "MAIL_RU"


async def test_detection_needs_a_token(anonymous: Any) -> None:
    response = await anonymous.post(
        "/graphql", json={"query": DETECT, "variables": {"email": "user@mail.ru"}}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- provider status and checklist --------------------------------------------------------


async def test_provider_status_and_localized_checklist(gql: GraphQLClient) -> None:
    russian = {p["code"]: p for p in (await gql(PROVIDERS))["mailProviders"]}
    english = {p["code"]: p for p in (await gql(PROVIDERS, lang="en"))["mailProviders"]}
    assert {code: p["status"] for code, p in russian.items()} == {
        "GOOGLE": "PREPARATION",
        "MAIL_RU": "PREPARATION",
        "OUTLOOK": "OAUTH2_ONLY",
        "RAMBLER": "PREPARATION",
        "TRADESOFT": "OK",
        "YANDEX": "PREPARATION",
        "OTHER": "OK",
    }
    for code in ("GOOGLE", "MAIL_RU", "OUTLOOK", "RAMBLER", "YANDEX"):
        assert russian[code]["checklist"], code
        # Same steps and links in both languages, the text translated.
        assert [i["url"] for i in russian[code]["checklist"]] == [
            i["url"] for i in english[code]["checklist"]
        ]
        assert [i["text"] for i in russian[code]["checklist"]] != [
            i["text"] for i in english[code]["checklist"]
        ]
    assert len(english["YANDEX"]["checklist"]) == 3  # client access, app password, resets
    assert all(i["url"].startswith("https://") for i in english["GOOGLE"]["checklist"])
    assert russian["OTHER"]["checklist"] == []


# --- probe --------------------------------------------------------------------------------


@pytest.fixture
async def implicit_tls(certificates: Certificates) -> AsyncIterator[RunningServer]:
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS, certificate=certificates.good, accounts={"a@b.ru": "x"}
    ) as server:
        yield server


@pytest.fixture
async def starttls(certificates: Certificates) -> AsyncIterator[RunningServer]:
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.good, accounts={"a@b.ru": "x"}
    ) as server:
        yield server


async def probe(client: GraphQLClient, host: str, ports: Any, lang: str | None = None) -> Any:
    async with asyncio.timeout(30):
        return (await client(PROBE, {"host": host, "ports": ports}, lang=lang))["probeSmtpServer"]


async def test_probe_tells_each_port_and_recommends_implicit_tls(
    gql: GraphQLClient, implicit_tls: RunningServer, starttls: RunningServer
) -> None:
    refused = closed_port()
    ports = [starttls.port, refused, implicit_tls.port]
    payload = await probe(gql, "localhost", ports)
    assert payload["errors"] == []
    assert payload["failure"] is None
    assert [r["port"] for r in payload["results"]] == ports
    upgraded, closed, tls = payload["results"]
    assert (upgraded["security"], upgraded["reachable"], upgraded["certificateValid"]) == (
        "STARTTLS",
        True,
        True,
    )
    assert upgraded["authMechanisms"] == ["LOGIN", "PLAIN"]
    assert upgraded["failure"] is None
    assert (tls["security"], tls["reachable"], tls["certificateValid"]) == ("SSL_TLS", True, True)
    assert tls["authMechanisms"] == ["LOGIN", "PLAIN"]
    assert "mailtab test ESMTP" in tls["greeting"]
    assert (closed["reachable"], closed["security"], closed["certificateValid"]) == (
        False,
        None,
        None,
    )
    assert closed["failure"]["code"] == "CONNECTION_REFUSED"
    assert payload["recommended"] == {"port": implicit_tls.port, "security": "SSL_TLS"}
    for server in (implicit_tls, starttls):
        recorder = server.recorder
        assert (recorder.auth_commands, recorder.mail_from, recorder.messages) == ([], [], [])


async def test_probe_default_ports_are_465_587_25(gql: GraphQLClient) -> None:
    # Nothing listens on these ports of the loopback here: each is refused at once.
    payload = (await gql(PROBE_DEFAULT_PORTS, {"host": "localhost"}))["probeSmtpServer"]
    assert payload["errors"] == []
    assert [r["port"] for r in payload["results"]] == [465, 587, 25]


@pytest.mark.parametrize(
    ("host", "ports", "field", "code"),
    [
        ("localhost", [0], "ports", "INVALID"),
        ("localhost", [65536], "ports", "INVALID"),
        ("localhost", [-25], "ports", "INVALID"),
        ("localhost", list(range(2000, 2050)), "ports", "INVALID"),
        ("localhost", [], "ports", "REQUIRED"),
        ("", [25], "host", "REQUIRED"),
        ("smtp.example.ru\r\nRCPT TO:<x@y.ru>", [25], "host", "FORBIDDEN_CHARACTERS"),
        ("smtp.exa\u0007mple.ru", [25], "host", "FORBIDDEN_CHARACTERS"),
        ("https://smtp.example.ru/", [25], "host", "INVALID"),
        ("a" * 300 + ".ru", [25], "host", "INVALID"),
        ("169.254.169.254", [25], "host", "INVALID"),
        ("0.0.0.0", [25], "host", "INVALID"),  # noqa: S104 - a host refused, nothing binds
    ],
)
async def test_probe_refuses_bad_input_before_connecting(
    gql: GraphQLClient, host: str, ports: list[int], field: str, code: str
) -> None:
    payload = await probe(gql, host, ports, lang="en")
    assert payload["results"] == []
    assert payload["recommended"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, code)]
    assert payload["errors"][0]["message"]


async def test_probe_of_a_name_in_a_refused_network_is_a_host_error(
    client_with: MakeClient,
) -> None:
    client = await client_with(smtp_deny_networks="127.0.0.0/8,::1/128")
    payload = await probe(client, "localhost", [25], lang="en")
    assert payload["results"] == []
    assert payload["failure"]["code"] == "ADDRESS_NOT_ALLOWED"
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("host", "INVALID")]


async def test_probe_of_a_name_that_does_not_resolve(gql: GraphQLClient) -> None:
    payload = await probe(gql, "no-such-host.invalid", [25])
    assert payload["results"] == []
    assert payload["failure"] == {"code": "DNS_FAILURE", "field": "host"}


async def test_probe_is_for_admins(viewer_gql: GraphQLClient) -> None:
    response = await viewer_gql.post(PROBE, {"host": "localhost", "ports": [25]})
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_probes_count_in_the_test_letter_limit(client_with: MakeClient, app: Any) -> None:
    firm = await Firm.create(name="ООО Ромашка", inn="7707083893")
    await Outlet.create(firm=firm, name="Склад", kind=OutletKind.WAREHOUSE)
    client = await client_with(test_email_rate_limit="2/minute")
    refused = closed_port()
    for _ in range(2):
        assert (await probe(client, "localhost", [refused]))["errors"] == []
    limited = await probe(client, "localhost", [refused])
    assert [e["code"] for e in limited["errors"]] == ["RATE_LIMITED"]
    assert limited["retryAfter"] >= 1
    assert limited["results"] == []
    # A test letter of the same token waits too: one limit for both.
    send = """mutation($input: SendTestEmailInput!) {
      sendTestEmail(input: $input) { delivered errors { code } } }"""
    settings = {
        "provider": "OTHER",
        "smtpHost": "localhost",
        "port": refused,
        "useSsl": False,
        "address": "shop@example.ru",
        "password": None,
    }
    payload = (await client(send, {"input": {"recipient": "a@b.ru", "settings": settings}}))[
        "sendTestEmail"
    ]
    assert [e["code"] for e in payload["errors"]] == ["RATE_LIMITED"]
