"""Provider status, checklist and MX rules: shipped as data, validated, replaceable by a deployment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from i18n import Text
from mail.errors import PresetError
from mail.presets import ChecklistItem, MailProviderStatus, MxRule, ProviderCode, load_presets


def test_status_of_every_shipped_provider() -> None:
    presets = load_presets()
    assert {code: preset.status for code, preset in presets.items()} == {
        ProviderCode.GOOGLE: MailProviderStatus.PREPARATION,
        ProviderCode.MAIL_RU: MailProviderStatus.PREPARATION,
        ProviderCode.OUTLOOK: MailProviderStatus.OAUTH2_ONLY,
        ProviderCode.RAMBLER: MailProviderStatus.PREPARATION,
        ProviderCode.TRADESOFT: MailProviderStatus.OK,
        ProviderCode.YANDEX: MailProviderStatus.PREPARATION,
        ProviderCode.OTHER: MailProviderStatus.OK,
    }


def test_checklists_say_what_to_prepare_with_links() -> None:
    presets = load_presets()
    for code, preset in presets.items():
        # Something to do exactly where the status says so.
        assert bool(preset.checklist) == (preset.status is not MailProviderStatus.OK), code
        for item in preset.checklist:
            assert item.text.ru.strip() and item.text.en.strip()
            assert item.url is None or item.url.startswith("https://")
    yandex = [item.url for item in presets[ProviderCode.YANDEX].checklist]
    assert yandex[0] == "https://mail.yandex.ru/#setup/client"  # the mail-clients settings page
    assert len(yandex) == 3  # access, app password, dropped on a password change
    google = presets[ProviderCode.GOOGLE].checklist
    assert [item.url for item in google if item.shown(oauth2_available=False)] == [
        "https://support.google.com/accounts/answer/185839",
        "https://support.google.com/accounts/answer/185833",
    ]
    # Where OAuth2 is set up, one more way: no app password at all.
    assert len([item for item in google if item.shown(oauth2_available=True)]) == 3
    assert [item.url for item in presets[ProviderCode.MAIL_RU].checklist] == [
        "https://help.mail.ru/mail/security/protection/external"
    ]


@pytest.mark.parametrize(
    ("host", "code"),
    [
        ("aspmx.l.google.com", ProviderCode.GOOGLE),
        ("alt4.aspmx.l.google.com", ProviderCode.GOOGLE),
        ("aspmx3.googlemail.com", ProviderCode.GOOGLE),
        ("smtp.google.com", ProviderCode.GOOGLE),
        ("mx.yandex.net", ProviderCode.YANDEX),
        ("mx.yandex.ru", ProviderCode.YANDEX),
        ("emx.mail.ru", ProviderCode.MAIL_RU),
        ("mxs.mail.ru", ProviderCode.MAIL_RU),
        ("contoso-com.mail.protection.outlook.com", ProviderCode.OUTLOOK),
    ],
)
def test_mx_hosts_of_company_mail(host: str, code: ProviderCode) -> None:
    presets = load_presets()
    owners = [c for c, preset in presets.items() if any(r.matches(host) for r in preset.mx_rules)]
    assert owners == [code]


@pytest.mark.parametrize(
    "host",
    [
        "aspmx.l.google.com.evil.example",  # a suffix is not the host
        "x.alt1.aspmx.l.google.com",  # "*" stays within one label
        "mail.protection.outlook.com",
        "a.b.mail.protection.outlook.com",
        "mx.yandex.net.example",
        "emx.mail.ru.example",
    ],
)
def test_mx_patterns_match_whole_hosts_only(host: str) -> None:
    presets = load_presets()
    assert not any(rule.matches(host) for p in presets.values() for rule in p.mx_rules)


def test_microsoft_365_rule_names_its_submission_server() -> None:
    rules = load_presets()[ProviderCode.OUTLOOK].mx_rules
    assert rules == (MxRule(("*.mail.protection.outlook.com",), "smtp.office365.com", 587, True),)


def _write(tmp_path: Path, entry: dict[str, Any]) -> Path:
    base: dict[str, Any] = {
        "code": "TRADESOFT",
        "title": {"ru": "Tradesoft", "en": "Tradesoft"},
        "smtpHost": "smtp.example.org",
        "port": 465,
        "useSsl": True,
    }
    path = tmp_path / "providers.json"
    path.write_text(json.dumps({"providers": [base | entry]}), encoding="utf-8")
    return path


def test_deployment_sets_status_checklist_and_mx(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "status": "PREPARATION",
            "checklist": [
                {"text": {"ru": "Включите SMTP", "en": "Turn SMTP on"}, "url": None},
                {"text": {"ru": "Справка", "en": "Help"}, "url": "https://help.example.org/smtp"},
            ],
            "mx": [
                {"hosts": ["MX*.Example.ORG."]},
                {"hosts": ["*.relay.example.org"], "smtpHost": "out.example.org", "port": 587},
            ],
        },
    )
    preset = load_presets(path)[ProviderCode.TRADESOFT]
    assert preset.status is MailProviderStatus.PREPARATION
    assert preset.checklist == (
        ChecklistItem(Text(ru="Включите SMTP", en="Turn SMTP on"), None),
        ChecklistItem(Text(ru="Справка", en="Help"), "https://help.example.org/smtp"),
    )
    assert preset.mx_rules == (
        MxRule(("mx*.example.org",)),
        MxRule(("*.relay.example.org",), "out.example.org", 587, None),
    )
    assert preset.mx_rules[0].matches("mx2.example.org")
    # Entries the file leaves out keep the shipped data.
    assert load_presets(path)[ProviderCode.YANDEX].status is MailProviderStatus.PREPARATION


def test_entry_without_the_new_fields_is_ok_with_nothing_to_prepare(tmp_path: Path) -> None:
    preset = load_presets(_write(tmp_path, {}))[ProviderCode.TRADESOFT]
    assert (preset.status, preset.checklist, preset.mx_rules) == (MailProviderStatus.OK, (), ())


@pytest.mark.parametrize(
    "entry",
    [
        {"status": "MAYBE"},
        {"checklist": {"text": "x"}},
        {"checklist": ["Turn it on"]},
        {"checklist": [{"text": {"ru": "Только по-русски"}}]},
        {"checklist": [{"text": {"ru": " ", "en": "Blank Russian"}}]},
        {
            "checklist": [
                {"text": {"ru": "Ссылка", "en": "Link"}, "url": "http://plain.example.org"}
            ]
        },
        {"checklist": [{"text": {"ru": "Ссылка", "en": "Link"}, "url": "javascript:alert(1)"}]},
        {"checklist": [{"text": {"ru": "Ссылка", "en": "Link"}, "url": "https://a b.example"}]},
        {"mx": "mx.example.org"},
        {"mx": [{"hosts": []}]},
        {"mx": [{"hosts": ["*"]}]},
        {"mx": [{"hosts": ["mx.example.*"]}]},
        {"mx": [{"hosts": ["mx..example.org"]}]},
        {"mx": [{"hosts": ["mx_1.example.org"]}]},
        {"mx": [{"hosts": [7]}]},
        {"mx": [{"hosts": ["mx.example.org"], "smtpHost": "out.example.org"}]},
        {"mx": [{"hosts": ["mx.example.org"], "port": 587}]},
        {"mx": [{"hosts": ["mx.example.org"], "smtpHost": "o.example.org", "port": 0}]},
        {"mx": [{"hosts": ["mx.example.org"], "smtpHost": "o.example.org", "port": True}]},
        {
            "mx": [
                {
                    "hosts": ["mx.example.org"],
                    "smtpHost": "o.example.org",
                    "port": 25,
                    "useSsl": "yes",
                }
            ]
        },
    ],
)
def test_bad_new_fields_are_refused_with_the_file_and_provider(
    tmp_path: Path, entry: dict[str, Any]
) -> None:
    with pytest.raises(PresetError, match=r"providers\.json.*TRADESOFT"):
        load_presets(_write(tmp_path, entry))
