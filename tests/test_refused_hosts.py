"""Hosts the test letter is never sent to: Save refuses them as typed, and the refusal
says why (a default refusal, or the deployment's own deny list)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from mail.delivery import SmtpTarget, deliver
from mail.errors import Refusal
from mail.explain import address_refused
from mail.failures import FailureCode
from mail.letter import build_test_letter
from mail.network import parse_networks, refusal
from mail.security import Security
from models import EmailAccount, ProgramSetting
from tests.conftest import GraphQLClient, MakeClient

ADDRESS = "shop@corp.example.ru"
SAVE = """
mutation($input: MailSettingsInput!) {
  saveMailSettings(input: $input) { account { id smtpHost } errors { field message code } }
}"""
SEND = """
mutation($input: SendTestEmailInput!) {
  sendTestEmail(input: $input) { delivered failure { code } errors { field message code } }
}"""

REFUSED = {
    "169.254.169.254": Refusal.METADATA,
    "fd00:ec2::254": Refusal.METADATA,
    "169.254.10.1": Refusal.LINK_LOCAL,
    "fe80::1": Refusal.LINK_LOCAL,
    "0.0.0.0": Refusal.UNSPECIFIED,  # noqa: S104 (an address to refuse, not a bind)
    "::": Refusal.UNSPECIFIED,
    "[::]": Refusal.UNSPECIFIED,
    "224.0.0.1": Refusal.MULTICAST,
    "ff02::1": Refusal.MULTICAST,
    "255.255.255.255": Refusal.BROADCAST,
    "::ffff:169.254.169.254": Refusal.METADATA,
    "64:ff9b::a9fe:a9fe": Refusal.METADATA,
}


def form(host: str, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "OTHER",
        "smtpHost": host,
        "port": 587,
        "useSsl": True,
        "address": ADDRESS,
        "password": "p4ss",
        **extra,
    }


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


@pytest.mark.parametrize("host", sorted(REFUSED))
async def test_save_refuses_an_address_send_always_refuses(
    gql: GraphQLClient, tab_ready: None, host: str
) -> None:
    payload = (await gql(SAVE, {"input": form(host)}))["saveMailSettings"]
    assert codes(payload) == [("smtpHost", "INVALID")]
    assert payload["account"] is None
    assert await EmailAccount.all().count() == 0
    assert await ProgramSetting.all().count() == 0


@pytest.mark.parametrize("host", sorted(REFUSED))
async def test_send_with_the_form_refuses_it_the_same_way(
    gql: GraphQLClient, tab_ready: None, host: str
) -> None:
    payload = (await gql(SEND, {"input": {"recipient": "a@example.org", "settings": form(host)}}))[
        "sendTestEmail"
    ]
    assert codes(payload) == [("smtpHost", "INVALID")]
    assert (payload["delivered"], payload["failure"]) == (False, None)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "::1", "10.0.0.25", "192.168.1.20", "metadata.google.internal"]
)
async def test_allowed_addresses_and_names_are_saved(
    gql: GraphQLClient, tab_ready: None, host: str
) -> None:
    # Names are not resolved at save time: what they lead to is vetted when a letter goes.
    payload = (await gql(SAVE, {"input": form(host)}))["saveMailSettings"]
    assert payload["errors"] == []


async def test_the_deployment_lists_apply_to_save(client_with: MakeClient, tab_ready: None) -> None:
    strict = await client_with(smtp_deny_networks="10.0.0.0/8")
    payload = (await strict(SAVE, {"input": form("10.1.2.3")}))["saveMailSettings"]
    assert codes(payload) == [("smtpHost", "INVALID")]
    for lang in ("ru", "en"):
        refused = (await strict(SAVE, {"input": form("10.1.2.3")}, lang=lang))["saveMailSettings"]
        assert "link-local" not in refused["errors"][0]["message"]

    relaxed = await client_with(smtp_allow_networks="169.254.169.254/32")
    payload = (await relaxed(SAVE, {"input": form("169.254.169.254")}))["saveMailSettings"]
    assert payload["errors"] == []


def test_refusal_kinds() -> None:
    for host, kind in REFUSED.items():
        address = ipaddress.ip_address(host.strip("[]"))
        assert refusal(address) is kind, host
    denied = parse_networks(["10.0.0.0/8", "fe80::/10"])
    assert refusal(ipaddress.ip_address("10.1.2.3"), deny=denied) is Refusal.DEPLOYMENT
    # The deployment's deny list names the reason even inside a default refusal.
    assert refusal(ipaddress.ip_address("fe80::1"), deny=denied) is Refusal.DEPLOYMENT
    assert refusal(ipaddress.ip_address("64:ff9b::a01:203"), deny=denied) is Refusal.DEPLOYMENT
    assert refusal(ipaddress.ip_address("10.1.2.3")) is None


def test_only_default_refusals_speak_of_link_local_or_metadata() -> None:
    for kind in Refusal:
        message, hint = address_refused("192.0.2.1", kind)
        for text in (message.ru, message.en, hint.ru, hint.en):
            if kind is Refusal.DEPLOYMENT:
                assert "link-local" not in text and "metadata" not in text
                assert "метадан" not in text
        assert "192.0.2.1" in message.ru and "192.0.2.1" in message.en
    assert len({address_refused("192.0.2.1", kind)[0].en for kind in Refusal}) == len(Refusal)


async def test_an_operator_denied_address_fails_the_letter_saying_so() -> None:
    target = SmtpTarget(
        host="10.1.2.3",
        port=587,
        security=Security.STARTTLS,
        username=ADDRESS,
        password="p4ss",
        timeout=2,
        deny=parse_networks(["10.0.0.0/8"]),
    )
    letter = build_test_letter(
        sender_name=None,
        sender_email=ADDRESS,
        recipient="a@example.org",
        address=ADDRESS,
        smtp_host=target.host,
        port=target.port,
        security=target.security,
        lang="en",
    )
    result = await deliver(
        letter,
        target=target,
        envelope_from=ADDRESS,
        recipient="a@example.org",
        preset=None,
        sender_email=ADDRESS,
    )
    failure = result.failure
    assert failure is not None
    assert (failure.code, failure.field) == (FailureCode.ADDRESS_NOT_ALLOWED, "smtpHost")
    assert (failure.message, failure.hint) == address_refused("10.1.2.3", Refusal.DEPLOYMENT)
    assert "link-local" not in failure.message.en
