"""The Mail tab's availability and the mail-service presets."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from mail.errors import PresetError
from mail.presets import ProviderCode, load_presets
from models import Firm, Outlet, OutletKind

MAIL_TAB = "{ mailTab { available missing passwordHelpUrl } }"
PROVIDERS = (
    """{ mailProviders { code title smtpHost port useSsl security appPasswordHelpUrl domains } }"""
)


async def test_unavailable_until_firm_and_outlet_exist(gql: Any) -> None:
    tab = (await gql(MAIL_TAB))["mailTab"]
    assert tab == {
        "available": False,
        "missing": ["OUR_FIRMS", "OUTLETS_AND_WAREHOUSES"],
        "passwordHelpUrl": "https://product-doc.tradesoft.ru/email/index.htm",
    }
    firm = await Firm.create(name="ООО Ромашка", inn="7707083893")
    tab = (await gql(MAIL_TAB))["mailTab"]
    assert tab["available"] is False
    assert tab["missing"] == ["OUTLETS_AND_WAREHOUSES"]
    await Outlet.create(firm=firm, name="Склад", kind=OutletKind.WAREHOUSE)
    tab = (await gql(MAIL_TAB))["mailTab"]
    assert tab["available"] is True
    assert tab["missing"] == []


async def test_viewer_can_read_the_tab(viewer_gql: Any) -> None:
    assert (await viewer_gql(MAIL_TAB))["mailTab"]["available"] is False


async def _count_queries(gql: Any, caplog: pytest.LogCaptureFixture) -> int:
    from services.token_cache import CACHE

    CACHE.clear()  # the token is looked up in every count, not only in the first
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        await gql(MAIL_TAB)
    return sum(1 for r in caplog.records if r.name == "tortoise.db_client")


async def test_availability_costs_the_same_queries_for_one_firm_or_many(
    gql: Any, caplog: pytest.LogCaptureFixture
) -> None:
    firm = await Firm.create(name="Фирма", inn="7707083893")
    await Outlet.create(firm=firm, name="Точка", kind=OutletKind.OUTLET)
    one = await _count_queries(gql, caplog)
    for index in range(40):
        extra = await Firm.create(name=f"Фирма {index}", inn="7736207543")
        await Outlet.create(firm=extra, name="Точка", kind=OutletKind.OUTLET)
    many = await _count_queries(gql, caplog)
    assert one == many
    # The token look-up and two existence checks: counted, so a silent logger fails here.
    assert 1 <= one <= 3


async def test_providers_in_russian_by_default(gql: Any) -> None:
    providers = {p["code"]: p for p in (await gql(PROVIDERS))["mailProviders"]}
    assert list(providers) == [
        "GOOGLE",
        "MAIL_RU",
        "OUTLOOK",
        "RAMBLER",
        "TRADESOFT",
        "YANDEX",
        "OTHER",
    ]
    assert providers["OTHER"] == {
        "code": "OTHER",
        "title": "Другой",
        "smtpHost": None,
        "port": None,
        "useSsl": False,
        "security": None,
        "appPasswordHelpUrl": None,
        "domains": [],
    }
    assert providers["YANDEX"]["smtpHost"] == "smtp.yandex.ru"
    assert providers["YANDEX"]["port"] == 465
    assert providers["YANDEX"]["security"] == "SSL_TLS"
    assert "ya.ru" in providers["YANDEX"]["domains"]
    assert (
        providers["GOOGLE"]["appPasswordHelpUrl"]
        == "https://support.google.com/accounts/answer/185833"
    )
    assert (
        providers["MAIL_RU"]["appPasswordHelpUrl"]
        == "https://help.mail.ru/mail/security/protection/external"
    )
    assert providers["OUTLOOK"]["port"] == 587
    assert providers["OUTLOOK"]["useSsl"] is True
    assert providers["OUTLOOK"]["security"] == "STARTTLS"
    assert providers["RAMBLER"]["smtpHost"] == "smtp.rambler.ru"
    assert providers["MAIL_RU"]["domains"] == [
        "mail.ru",
        "inbox.ru",
        "list.ru",
        "bk.ru",
        "internet.ru",
    ]


async def test_provider_titles_in_english_on_request(gql: Any) -> None:
    providers = (await gql(PROVIDERS, lang="en"))["mailProviders"]
    assert providers[-1]["title"] == "Other"


def test_deployment_file_overrides_presets(tmp_path: Path) -> None:
    override = tmp_path / "providers.json"
    override.write_text(
        json.dumps(
            {
                "providers": [
                    {
                        "code": "TRADESOFT",
                        "title": {"ru": "Tradesoft", "en": "Tradesoft"},
                        "smtpHost": "smtp.example.org",
                        "port": 587,
                        "useSsl": True,
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    presets = load_presets(override)
    assert presets[ProviderCode.TRADESOFT].smtp_host == "smtp.example.org"
    assert presets[ProviderCode.TRADESOFT].port == 587
    assert presets[ProviderCode.YANDEX].smtp_host == "smtp.yandex.ru"
    assert (
        load_presets(tradesoft_host="relay.local")[ProviderCode.TRADESOFT].smtp_host
        == "relay.local"
    )


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        '{"providers": {}}',
        '{"providers": [{"code": "NOPE"}]}',
        '{"providers": [{"code": "YANDEX", "title": {"ru": "Я", "en": "Y"}, "smtpHost": "h", "port": 70000}]}',
    ],
)
def test_bad_providers_file_is_refused_with_a_reason(tmp_path: Path, document: str) -> None:
    override = tmp_path / "providers.json"
    override.write_text(document, encoding="utf-8")
    with pytest.raises(PresetError, match=r"providers\.json"):
        load_presets(override)
