"""OAuth2 provider data and clients: the presets' oauth2 objects, MAILTAB_OAUTH_*, the redirect URI."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, load_settings
from mail.errors import PresetError
from mail.presets import ProviderCode, load_presets
from oauth.clients import configured_clients


def test_google_and_outlook_ship_their_endpoints() -> None:
    presets = load_presets()
    google = presets[ProviderCode.GOOGLE].oauth2
    assert google is not None
    assert google.authorization_url == "https://accounts.google.com/o/oauth2/v2/auth"
    assert google.token_url == "https://oauth2.googleapis.com/token"
    assert google.scopes == ("https://mail.google.com/",)
    # Offline access with consent: Google issues a refresh token every time.
    assert dict(google.authorization_params) == {"access_type": "offline", "prompt": "consent"}
    outlook = presets[ProviderCode.OUTLOOK].oauth2
    assert outlook is not None
    assert (
        outlook.authorization_url
        == "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
    )
    assert outlook.token_url == "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    assert outlook.scopes == ("https://outlook.office.com/SMTP.Send", "offline_access")
    others = [code for code, p in presets.items() if p.oauth2 is not None]
    assert others == [ProviderCode.GOOGLE, ProviderCode.OUTLOOK]


def _entry(code: str, **oauth2: Any) -> dict[str, Any]:
    shipped = json.loads(resources.files("mail").joinpath("providers.json").read_text("utf-8"))
    [entry] = [p for p in shipped["providers"] if p["code"] == code]
    if oauth2:
        entry["oauth2"] = oauth2
    else:
        entry.pop("oauth2", None)
    return dict(entry)


def _file(tmp_path: Path, *entries: dict[str, Any]) -> Path:
    path = tmp_path / "providers.json"
    path.write_text(json.dumps({"providers": list(entries)}), encoding="utf-8")
    return path


def test_a_deployment_file_replaces_the_endpoints_with_the_entry(tmp_path: Path) -> None:
    local = {
        "authorizationUrl": "http://127.0.0.1:9000/authorize",
        "tokenUrl": "http://localhost:9000/token",
        "scopes": ["email"],
    }
    presets = load_presets(_file(tmp_path, _entry("OUTLOOK", **local), _entry("GOOGLE")))
    outlook = presets[ProviderCode.OUTLOOK].oauth2
    assert outlook is not None and outlook.token_url == "http://localhost:9000/token"
    assert outlook.revocation_url is None
    assert presets[ProviderCode.GOOGLE].oauth2 is None  # the entry without it: no OAuth2


@pytest.mark.parametrize(
    ("oauth2", "reason"),
    [
        (
            {
                "authorizationUrl": "http://idp.example/a",
                "tokenUrl": "https://idp.example/t",
                "scopes": ["s"],
            },
            "authorizationUrl",
        ),
        (
            {
                "authorizationUrl": "https://idp.example/a",
                "tokenUrl": "ftp://idp.example/t",
                "scopes": ["s"],
            },
            "tokenUrl",
        ),
        (
            {
                "authorizationUrl": "https://idp.example/a",
                "tokenUrl": "https://idp.example/t",
                "scopes": [],
            },
            "scopes",
        ),
        (
            {
                "authorizationUrl": "https://idp.example/a",
                "tokenUrl": "https://idp.example/t",
                "scopes": ["a b"],
            },
            "scopes",
        ),
        (
            {
                "authorizationUrl": "https://idp.example/a",
                "tokenUrl": "https://idp.example/t",
                "scopes": ["s"],
                "authorizationParams": {"x": 1},
            },
            "authorizationParams",
        ),
    ],
)
def test_bad_endpoints_are_refused_naming_the_field(
    tmp_path: Path, oauth2: dict[str, Any], reason: str
) -> None:
    with pytest.raises(PresetError, match=f"OUTLOOK: oauth2: {reason}"):
        load_presets(_file(tmp_path, _entry("OUTLOOK", **oauth2)))


def test_a_client_exists_where_its_id_is_set(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MAILTAB_OAUTH_OUTLOOK_CLIENT_ID", "app-id")
    clean_env.setenv("MAILTAB_PUBLIC_URL", "https://erp.example.ru/mail/")
    settings = load_settings()
    clients = configured_clients(load_presets(), settings)
    assert list(clients) == [ProviderCode.OUTLOOK]  # Google has endpoints but no client id
    outlook = clients[ProviderCode.OUTLOOK]
    assert outlook.client_id == "app-id" and outlook.client_secret is None  # public client
    assert outlook.redirect_uri == "https://erp.example.ru/mail/oauth/callback"
    assert outlook.refresh_scopes == ("https://outlook.office.com/SMTP.Send",)

    clean_env.setenv("MAILTAB_OAUTH_GOOGLE_CLIENT_ID", "g-id")
    clean_env.setenv("MAILTAB_OAUTH_GOOGLE_CLIENT_SECRET", "g-secret-value")
    settings = load_settings()
    google = configured_clients(load_presets(), settings)[ProviderCode.GOOGLE]
    assert google.client_secret == "g-secret-value"
    assert "g-secret-value" not in repr(google) + repr(settings) + str(settings)


@pytest.mark.parametrize(
    "url",
    ["erp.example.ru", "ftp://erp.example.ru", "https://erp.example.ru/?a=1", "https://u@x.ru"],
)
def test_public_url_must_be_an_http_address(clean_env: pytest.MonkeyPatch, url: str) -> None:
    clean_env.setenv("MAILTAB_PUBLIC_URL", url)
    with pytest.raises(ConfigError, match="MAILTAB_PUBLIC_URL"):
        load_settings()


def test_a_checklist_item_may_depend_on_oauth2(tmp_path: Path) -> None:
    entry = _entry("OUTLOOK")
    entry["checklist"][0]["oauth2"] = "sometimes"
    with pytest.raises(PresetError, match='oauth2 must be "available" or "unavailable"'):
        load_presets(_file(tmp_path, entry))
    outlook = load_presets()[ProviderCode.OUTLOOK].checklist
    without = [item.text.en for item in outlook if item.shown(oauth2_available=False)]
    with_it = [item.text.en for item in outlook if item.shown(oauth2_available=True)]
    assert any("choose another mail service" in text for text in without)
    assert any("press Connect with OAuth2" in text for text in with_it)
    assert not any("choose another mail service" in text for text in with_it)
