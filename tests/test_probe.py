"""Probing real in-process SMTP servers (tests/smtpd.py): what each port speaks, never a login.

Assertions are on codes, modes and fields, never on message text or wall time.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from mail.failures import CertificateProblem, FailureCode
from mail.probe import MAX_PROBE_PORTS, TLS_PROBE_AFTER, PortProbe, ProbeOutcome, probe_server
from mail.security import Security
from tests.smtpd import (
    LOOPBACK,
    Certificates,
    Recorder,
    RunningServer,
    ServerMode,
    closed_port,
    make_certificates,
    silent_server,
    smtp_server,
)

ACCOUNTS = {"shop@example.ru": "app-password"}


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("probe-certs"))


@pytest.fixture
async def implicit_tls(certificates: Certificates) -> AsyncIterator[RunningServer]:
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS, certificate=certificates.good, accounts=ACCOUNTS
    ) as server:
        yield server


@pytest.fixture
async def starttls(certificates: Certificates) -> AsyncIterator[RunningServer]:
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.good, accounts=ACCOUNTS
    ) as server:
        yield server


@pytest.fixture
async def plain() -> AsyncIterator[RunningServer]:
    async with smtp_server(mode=ServerMode.PLAIN, accounts=ACCOUNTS) as server:
        yield server


async def probe(
    ports: Sequence[int],
    certificates: Certificates | None,
    *,
    host: str = LOOPBACK,
    budget: float = 5.0,
    **options: Any,
) -> ProbeOutcome:
    ca_file = certificates.ca_file if certificates is not None else None
    async with asyncio.timeout(60):  # a hang fails the test instead of stalling the suite
        return await probe_server(host, ports, timeout=budget, ca_file=ca_file, **options)


def assert_never_logged_in_or_sent(*recorders: Recorder) -> None:
    for recorder in recorders:
        assert recorder.auth_commands == []
        assert recorder.logins == []
        assert recorder.mail_from == []
        assert recorder.rcpt_tos == []
        assert recorder.messages == []


async def test_each_port_is_detected_and_the_best_recommended(
    certificates: Certificates,
    implicit_tls: RunningServer,
    starttls: RunningServer,
    plain: RunningServer,
) -> None:
    refused = closed_port()
    with silent_server() as silent:
        ports = [plain.port, starttls.port, refused, silent, implicit_tls.port]
        outcome = await probe(ports, certificates)
    assert outcome.failure is None
    assert outcome.address == LOOPBACK
    assert [result.port for result in outcome.results] == ports  # in the order asked
    by_port = {result.port: result for result in outcome.results}

    tls = by_port[implicit_tls.port]
    assert (tls.security, tls.reachable, tls.certificate_valid, tls.failure) == (
        Security.SSL_TLS,
        True,
        True,
        None,
    )
    assert tls.auth_mechanisms == ("LOGIN", "PLAIN")
    assert tls.greeting and "mailtab test ESMTP" in tls.greeting

    upgraded = by_port[starttls.port]
    assert (upgraded.security, upgraded.reachable, upgraded.certificate_valid) == (
        Security.STARTTLS,
        True,
        True,
    )
    # Offered only after the upgrade (the server requires STARTTLS for AUTH): seen anyway.
    assert upgraded.auth_mechanisms == ("LOGIN", "PLAIN")
    assert upgraded.failure is None

    clear = by_port[plain.port]
    assert (clear.security, clear.reachable, clear.certificate_valid) == (Security.NONE, True, None)
    assert clear.auth_mechanisms == ("LOGIN", "PLAIN")

    closed = by_port[refused]
    assert (closed.security, closed.reachable) == (None, False)
    assert closed.failure is not None
    assert (closed.failure.code, closed.failure.field) == (FailureCode.CONNECTION_REFUSED, "ports")

    mute = by_port[silent]
    assert (mute.security, mute.reachable) == (None, False)
    assert mute.failure is not None and mute.failure.code is FailureCode.TIMEOUT

    assert outcome.recommended == tls
    for result in outcome.results:
        assert result.duration_ms >= 0
    assert_never_logged_in_or_sent(implicit_tls.recorder, starttls.recorder, plain.recorder)
    # It did talk SMTP: EHLO, then QUIT.
    assert implicit_tls.recorder.ehlo_names and starttls.recorder.ehlo_names


async def test_starttls_is_recommended_over_plain(
    certificates: Certificates, starttls: RunningServer, plain: RunningServer
) -> None:
    outcome = await probe([plain.port, starttls.port], certificates)
    assert outcome.recommended is not None
    assert outcome.recommended.port == starttls.port


async def test_plain_port_is_recommended_when_alone(
    certificates: Certificates, plain: RunningServer
) -> None:
    outcome = await probe([plain.port, closed_port()], certificates)
    assert outcome.recommended is not None
    assert outcome.recommended.security is Security.NONE


@pytest.mark.parametrize("mode", [ServerMode.IMPLICIT_TLS, ServerMode.STARTTLS])
@pytest.mark.parametrize(
    ("certificate", "problem"),
    [
        ("untrusted", CertificateProblem.UNTRUSTED),
        ("expired", CertificateProblem.EXPIRED),
        ("wrong_name", CertificateProblem.HOSTNAME_MISMATCH),
    ],
)
async def test_certificate_problem_is_named_and_auth_still_read(
    certificates: Certificates, mode: ServerMode, certificate: str, problem: CertificateProblem
) -> None:
    async with smtp_server(
        mode=mode, certificate=getattr(certificates, certificate), accounts=ACCOUNTS
    ) as server:
        outcome = await probe([server.port], certificates)
    (result,) = outcome.results
    assert result.security is (
        Security.SSL_TLS if mode is ServerMode.IMPLICIT_TLS else Security.STARTTLS
    )
    assert (result.reachable, result.certificate_valid, result.certificate_problem) == (
        True,
        False,
        problem,
    )
    assert result.failure is not None
    assert result.failure.code is FailureCode.TLS_CERTIFICATE
    assert result.failure.certificate_problem is problem
    assert result.auth_mechanisms == ("LOGIN", "PLAIN")
    # A CA file could fix it: still the one to recommend when nothing better exists.
    assert outcome.recommended == result
    assert_never_logged_in_or_sent(server.recorder)


async def test_valid_certificate_wins_over_a_failing_one(certificates: Certificates) -> None:
    async with (
        smtp_server(mode=ServerMode.IMPLICIT_TLS, certificate=certificates.untrusted) as bad,
        smtp_server(mode=ServerMode.STARTTLS, certificate=certificates.good) as good,
    ):
        outcome = await probe([bad.port, good.port], certificates)
    assert outcome.recommended is not None
    assert outcome.recommended.port == good.port


async def test_untrusted_without_the_ca_file(implicit_tls: RunningServer) -> None:
    # The test CA is the deployment's: without MAILTAB_SMTP_CA_FILE nothing vouches for it.
    outcome = await probe([implicit_tls.port], None)
    (result,) = outcome.results
    assert result.certificate_problem is CertificateProblem.UNTRUSTED


async def test_name_is_checked_against_the_certificate(certificates: Certificates) -> None:
    async with smtp_server(
        mode=ServerMode.IMPLICIT_TLS, certificate=certificates.name_only
    ) as server:
        by_name = await probe([server.port], certificates, host="localhost")
        by_ip = await probe([server.port], certificates, host=LOOPBACK)
    assert by_name.results[0].certificate_valid is True
    assert by_ip.results[0].certificate_problem is CertificateProblem.HOSTNAME_MISMATCH


async def test_slow_greeting_is_plain_smtp_not_tls(certificates: Certificates) -> None:
    # Greets after the TLS attempt started (TLS_PROBE_AFTER): the greeting wins.
    async with smtp_server(
        mode=ServerMode.STARTTLS, certificate=certificates.good, greeting_delay=TLS_PROBE_AFTER + 1
    ) as server:
        outcome = await probe([server.port], certificates, budget=3 * TLS_PROBE_AFTER + 6)
    (result,) = outcome.results
    assert (result.security, result.certificate_valid, result.failure) == (
        Security.STARTTLS,
        True,
        None,
    )


async def test_host_in_a_refused_network_is_not_probed() -> None:
    outcome = await probe([25], None, host="169.254.169.254")
    assert outcome.results == () and outcome.recommended is None
    assert outcome.failure is not None
    assert (outcome.failure.code, outcome.failure.field) == (
        FailureCode.ADDRESS_NOT_ALLOWED,
        "host",
    )


async def test_deployment_deny_list_applies(plain: RunningServer) -> None:
    outcome = await probe([plain.port], None, deny=(ipaddress.ip_network("127.0.0.0/8"),))
    assert outcome.failure is not None and outcome.failure.code is FailureCode.ADDRESS_NOT_ALLOWED
    assert plain.recorder.ehlo_names == []


async def test_unknown_host_is_a_dns_failure() -> None:
    outcome = await probe([465], None, host="no-such-host.invalid")
    assert outcome.failure is not None
    assert (outcome.failure.code, outcome.failure.field) == (FailureCode.DNS_FAILURE, "host")


async def test_unusable_ca_file_stops_the_probe(tmp_path: Path, plain: RunningServer) -> None:
    broken = tmp_path / "ca.pem"
    broken.write_text("not a certificate", encoding="utf-8")
    async with asyncio.timeout(60):
        outcome = await probe_server(LOOPBACK, [plain.port], timeout=5.0, ca_file=broken)
    assert outcome.failure is not None
    assert (outcome.failure.code, outcome.failure.field) == (FailureCode.TLS_CERTIFICATE, None)
    assert plain.recorder.ehlo_names == []


def test_results_say_when_a_port_is_usable() -> None:
    def result(**fields: Any) -> PortProbe:
        values: dict[str, Any] = {
            "port": 587,
            "security": Security.STARTTLS,
            "reachable": True,
            "certificate_valid": True,
            "certificate_problem": None,
            "auth_mechanisms": ("PLAIN",),
            "failure": None,
            "duration_ms": 1,
        }
        return PortProbe(**(values | fields))

    assert result().usable
    assert not result(reachable=False, security=None).usable


@pytest.mark.parametrize(
    "ports",
    [
        [],
        [0],
        [65536],
        [-25],
        [True],
        ["25"],
        [25, 587, 25],
        list(range(1000, 1000 + MAX_PROBE_PORTS + 1)),
    ],
)
async def test_bad_ports_are_refused_before_anything_connects(ports: list[Any]) -> None:
    with pytest.raises(ValueError, match="port"):
        await probe_server(LOOPBACK, ports, timeout=1.0)


async def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeout"):
        await probe_server(LOOPBACK, [25], timeout=0)
