"""OAuth2 sign-in end to end: a real OpenID provider, XOAUTH2 over STARTTLS, the real app.

The provider is ``oidc-provider-mock`` on loopback behind a front that enforces PKCE
(tests/oauth_peers.py); the SMTP server takes XOAUTH2 only and checks each bearer at the
provider's userinfo endpoint. Everything runs on the session database (SQLite or
PostgreSQL, see conftest), two app instances included.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from tortoise import timezone

from models import ApiToken, OAuthConnection, OAuthState
from models import TestEmailAttempt as AttemptRecord
from oauth import tokens
from services.secrets import PasswordBox
from tests.conftest import SECRET_KEY, GraphQLClient, MakeClient
from tests.oauth_peers import (
    RunningProvider,
    XOAuth2Recorder,
    oauth_provider,
    outlook_providers_file,
    xoauth2_server,
)
from tests.smtpd import Certificates

pytestmark = pytest.mark.filterwarnings("ignore::authlib.deprecate.AuthlibDeprecationWarning")

ADDRESS = "shop@outlook.com"
RECIPIENT = "buyer@example.org"
CLIENT_ID = "mailtab-test-client"
CLIENT_SECRET = "client-secret-Zq8-never-shown"
PUBLIC = "http://mailtab.test"

START = """mutation($input: StartMailOAuthInput!) {
  startMailOAuth(input: $input) { authorizationUrl errors { field code message } } }"""
DISCONNECT = """mutation($address: String!) {
  disconnectMailOAuth(address: $address) { disconnected revoked errors { field code } } }"""
SAVE = """mutation($input: MailSettingsInput!) {
  saveMailSettings(input: $input) {
    settings { authMethod hasPassword oauth { address status connectedAt } }
    account { id authMethod hasPassword }
    errors { field code message }
    warnings { field code message }
  } }"""
SEND = """mutation($input: SendTestEmailInput!) {
  sendTestEmail(input: $input) {
    delivered messageId
    failure { code field message hint smtpCode smtpReply }
    errors { field code message }
    steps { name status smtpCode smtpReply }
  } }"""
TAB = "{ mailTab { settings { authMethod oauth { address status } } } }"
PROVIDERS = "{ mailProviders { code oauth2Available } }"


@pytest.fixture(scope="module")
def provider() -> Iterator[RunningProvider]:
    with oauth_provider() as running:
        yield running


@pytest.fixture(scope="module")
def providers_file(provider: RunningProvider, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return outlook_providers_file(provider, tmp_path_factory.mktemp("providers"))


@pytest.fixture
async def smtp(
    provider: RunningProvider, certificates: Certificates
) -> AsyncIterator[tuple[int, XOAuth2Recorder]]:
    async with xoauth2_server(
        certificate=certificates.good, userinfo_url=provider.userinfo_url
    ) as running:
        yield running


def overrides(providers_file: Path, certificates: Certificates) -> dict[str, Any]:
    return {
        "providers_file": providers_file,
        "oauth_outlook_client_id": CLIENT_ID,
        "oauth_outlook_client_secret": CLIENT_SECRET,
        "public_url": PUBLIC,
        "smtp_ca_file": certificates.ca_file,
        "smtp_timeout": 3,
    }


@pytest.fixture
async def client(
    client_with: MakeClient, providers_file: Path, certificates: Certificates
) -> GraphQLClient:
    return await client_with(**overrides(providers_file, certificates))


async def authorize(
    client: GraphQLClient, *, address: str = ADDRESS, deny: bool = False, **extra: Any
) -> str:
    """startMailOAuth, then the provider's login form as a browser fills it: the callback URL."""
    data = await client(START, {"input": {"provider": "OUTLOOK", "address": address, **extra}})
    assert data["startMailOAuth"]["errors"] == []
    url = data["startMailOAuth"]["authorizationUrl"]
    async with httpx.AsyncClient(timeout=10) as browser:
        form = await browser.get(url)
        assert form.status_code == 200, form.text
        answer = await browser.post(url, data={"action": "deny"} if deny else {"sub": address})
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(f"{PUBLIC}/oauth/callback?")
    return location.removeprefix(PUBLIC)


async def connect(client: GraphQLClient, via: GraphQLClient | None = None) -> httpx.Response:
    callback = await authorize(client)
    return await (via or client).http.get(callback)


def outlook_form(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "OUTLOOK",
        "smtpHost": "localhost",
        "port": port,
        "useSsl": True,
        "security": "STARTTLS",
        "address": ADDRESS,
        "authMethod": "OAUTH2",
        **extra,
    }


async def save(client: GraphQLClient, port: int) -> dict[str, Any]:
    payload: dict[str, Any] = (await client(SAVE, {"input": outlook_form(port)}))[
        "saveMailSettings"
    ]
    assert payload["errors"] == [], payload
    return payload


async def send(client: GraphQLClient) -> dict[str, Any]:
    return dict((await client(SEND, {"input": {"recipient": RECIPIENT}}))["sendTestEmail"])


async def expire_access_token() -> None:
    await OAuthConnection.all().update(access_expires_at=timezone.now() - timedelta(minutes=1))


def _peer_record(name: str) -> bool:
    """A log record of the test's own peers (the browser's and the test client's httpx, the
    provider's werkzeug, Flask and Authlib server code), not of the service under test."""
    first = name.split(".")[0]
    return first in ("httpx", "httpcore", "werkzeug", "oidc_provider_mock") or name.startswith(
        ("authlib.oauth2.rfc6749", "authlib.oidc", "mail.log")
    )


# --- configuration --------------------------------------------------------------------------


async def test_oauth2_is_available_where_a_client_is_configured(
    client: GraphQLClient, gql: GraphQLClient
) -> None:
    configured = {
        p["code"]: p["oauth2Available"] for p in (await client(PROVIDERS))["mailProviders"]
    }
    assert configured["OUTLOOK"] is True
    assert configured["GOOGLE"] is False  # the preset has oauth2, but no client id is set
    assert configured["YANDEX"] is False  # no oauth2 object at all
    plain = {p["code"]: p["oauth2Available"] for p in (await gql(PROVIDERS))["mailProviders"]}
    assert not any(plain.values())


async def test_the_authorization_url_asks_for_the_code_flow_with_pkce(
    client: GraphQLClient, provider: RunningProvider, tab_ready: None
) -> None:
    data = await client(START, {"input": {"provider": "OUTLOOK", "address": ADDRESS}})
    url = data["startMailOAuth"]["authorizationUrl"]
    assert url.startswith(f"{provider.url}/oauth2/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == f"{PUBLIC}/oauth/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["scope"] == "email offline_access"
    assert query["login_hint"] == ADDRESS
    assert len(query["state"]) >= 32
    assert CLIENT_SECRET not in url
    # Kept server-side: only its digest, with the verifier encrypted.
    [row] = await OAuthState.all()
    assert row.state_hash != query["state"] and query["state"] not in row.verifier_encrypted
    lifetime = row.expires_at - row.created_at
    assert timedelta(minutes=10) - timedelta(seconds=5) < lifetime <= timedelta(minutes=10)


async def test_start_refuses_what_it_cannot_do(
    client: GraphQLClient, gql: GraphQLClient, viewer_gql: GraphQLClient, tab_ready: None
) -> None:
    async def errors(graphql: GraphQLClient, **values: Any) -> list[tuple[str, str]]:
        data = await graphql(
            START, {"input": {"provider": "OUTLOOK", "address": ADDRESS, **values}}
        )
        assert data["startMailOAuth"]["authorizationUrl"] is None
        return [(e["field"], e["code"]) for e in data["startMailOAuth"]["errors"]]

    assert await errors(gql) == [("provider", "OAUTH2_NOT_CONFIGURED")]
    assert await errors(client, provider="GOOGLE") == [("provider", "OAUTH2_NOT_CONFIGURED")]
    assert await errors(client, address="not an address") == [("address", "INVALID")]
    assert await errors(client, returnUrl="https://evil.example/steal") == [
        ("returnUrl", "INVALID")
    ]
    assert await errors(client, returnUrl="javascript:alert(1)") == [("returnUrl", "INVALID")]
    response = await viewer_gql.post(START, {"input": {"provider": "OUTLOOK", "address": ADDRESS}})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await OAuthState.all().count() == 0


async def test_start_waits_for_the_tab(client: GraphQLClient) -> None:
    data = await client(START, {"input": {"provider": "OUTLOOK", "address": ADDRESS}})
    assert [e["code"] for e in data["startMailOAuth"]["errors"]] == ["MAIL_TAB_UNAVAILABLE"]


# --- connect, save, send --------------------------------------------------------------------


async def test_connect_save_and_send_with_xoauth2(
    client: GraphQLClient,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
    tab_ready: None,
) -> None:
    port, recorder = smtp
    page = await connect(client)
    assert page.status_code == 200
    assert "Почтовый ящик подключён" in page.text and ADDRESS in page.text
    assert "<script" not in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert provider.front.pkce_failures == 0

    [connection] = await OAuthConnection.all()
    assert connection.status == "CONNECTED"
    for secret in provider.front.refresh_tokens + provider.front.access_tokens:
        # Encrypted at rest.
        assert secret not in connection.refresh_token_encrypted
        assert secret not in (connection.access_token_encrypted or "")

    saved = await save(client, port)
    assert saved["settings"]["authMethod"] == "OAUTH2"
    assert saved["settings"]["hasPassword"] is False
    assert saved["settings"]["oauth"]["status"] == "CONNECTED"
    assert saved["account"]["authMethod"] == "OAUTH2"
    assert "PASSWORD_LOGIN_DISABLED" not in [w["code"] for w in saved["warnings"]]

    result = await send(client)
    assert result["delivered"] is True, result
    [auth] = [step for step in result["steps"] if step["name"] == "AUTH"]
    assert auth["status"] == "OK" and auth["smtpCode"] == 235
    assert recorder.auth_commands == ["XOAUTH2"]
    assert recorder.accepted == [ADDRESS]
    assert recorder.bearers == [provider.front.access_tokens[-1]]
    assert provider.front.grants == ["authorization_code"]  # the cached token was used

    # The form as it stands (unsaved) works the same way.
    unsaved = await client(
        SEND, {"input": {"recipient": RECIPIENT, "settings": outlook_form(port)}}
    )
    assert unsaved["sendTestEmail"]["delivered"] is True


async def test_the_connected_page_speaks_english_and_a_return_url_is_followed(
    client: GraphQLClient, tab_ready: None
) -> None:
    callback = await authorize(client)
    page = await client.http.get(callback, headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "Mailbox connected" in page.text

    back = f"{PUBLIC}/?tab=mail"
    callback = await authorize(client, returnUrl=back)
    answer = await client.http.get(callback)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{back}&mailOAuth=connected"


async def test_save_and_send_with_oauth2_need_a_connection(
    client: GraphQLClient, smtp: tuple[int, XOAuth2Recorder], tab_ready: None
) -> None:
    port, recorder = smtp
    data = await client(SAVE, {"input": outlook_form(port)})
    errors = data["saveMailSettings"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("authMethod", "OAUTH2_NOT_CONNECTED")]
    sent = await client(SEND, {"input": {"recipient": RECIPIENT, "settings": outlook_form(port)}})
    errors = sent["sendTestEmail"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("authMethod", "OAUTH2_NOT_CONNECTED")]
    assert recorder.auth_commands == []


async def test_password_login_warning_points_at_oauth2(
    client: GraphQLClient, gql: GraphQLClient, tab_ready: None
) -> None:
    form = {"provider": "OUTLOOK", "address": ADDRESS, "password": "app-password"}
    here = (await client(SAVE, {"input": form}, lang="en"))["saveMailSettings"]["warnings"]
    [warning] = [w for w in here if w["code"] == "PASSWORD_LOGIN_DISABLED"]
    assert warning["field"] == "authMethod" and "Connect with OAuth2" in warning["message"]
    there = (await gql(SAVE, {"input": form}, lang="en"))["saveMailSettings"]["warnings"]
    [warning] = [w for w in there if w["code"] == "PASSWORD_LOGIN_DISABLED"]
    assert "OAuth2 only" in warning["message"]  # no OAuth2 here: another service, then


# --- the callback's refusals ----------------------------------------------------------------


async def test_forged_reused_and_expired_states_change_nothing(
    client: GraphQLClient, tab_ready: None
) -> None:
    forged = await client.http.get("/oauth/callback?state=forged-state-value&code=abc")
    assert forged.status_code == 400 and "не выдавалась" in forged.text
    missing = await client.http.get("/oauth/callback?code=abc", headers={"Accept-Language": "en"})
    assert missing.status_code == 400 and "no state parameter" in missing.text
    assert await OAuthConnection.all().count() == 0

    callback = await authorize(client)
    assert (await client.http.get(callback)).status_code == 200
    [before] = await OAuthConnection.all()
    again = await client.http.get(callback, headers={"Accept-Language": "en"})
    assert again.status_code == 400 and "used already" in again.text
    [after] = await OAuthConnection.all()
    assert (after.connected_at, after.refresh_token_encrypted) == (
        before.connected_at,
        before.refresh_token_encrypted,
    )

    await OAuthConnection.all().delete()
    late = await authorize(client)
    await OAuthState.filter(used_at__isnull=True).update(expires_at=timezone.now())
    expired = await client.http.get(late, headers={"Accept-Language": "en"})
    assert expired.status_code == 400 and "expired" in expired.text
    assert await OAuthConnection.all().count() == 0


async def test_a_state_of_a_revoked_token_is_refused(
    client: GraphQLClient, tab_ready: None
) -> None:
    callback = await authorize(client)
    await ApiToken.all().update(revoked_at=timezone.now())
    page = await client.http.get(callback, headers={"Accept-Language": "en"})
    assert page.status_code == 400 and "revoked" in page.text
    assert await OAuthConnection.all().count() == 0


async def test_access_denied_and_a_missing_code_change_nothing(
    client: GraphQLClient, tab_ready: None
) -> None:
    denied = await authorize(client, deny=True)
    assert "error=access_denied" in denied
    page = await client.http.get(denied, headers={"Accept-Language": "en"})
    assert page.status_code == 400 and "Access was not granted" in page.text
    assert "Traceback" not in page.text

    data = await client(START, {"input": {"provider": "OUTLOOK", "address": ADDRESS}})
    state = parse_qs(urlsplit(data["startMailOAuth"]["authorizationUrl"]).query)["state"][0]
    no_code = await client.http.get(f"/oauth/callback?state={state}")
    assert no_code.status_code == 400 and "кода авторизации" in no_code.text
    assert await OAuthConnection.all().count() == 0


# --- refresh ----------------------------------------------------------------------------------


async def test_a_refused_refresh_asks_to_reconnect_and_reconnecting_sends_again(
    client: GraphQLClient,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
    tab_ready: None,
) -> None:
    port, recorder = smtp
    await connect(client)
    await save(client, port)
    await expire_access_token()
    assert (await send(client))["delivered"] is True  # refreshed once, then sent
    assert provider.front.grants.count("refresh_token") == 1
    assert provider.front.refresh_scopes == ["email"]  # no offline_access on a refresh

    provider.revoke_user(ADDRESS)  # e.g. the password changed, or the grant was removed
    await expire_access_token()
    refused = await send(client)
    assert refused["delivered"] is False
    assert refused["failure"]["code"] == "OAUTH2_REAUTHORIZATION_REQUIRED"
    assert refused["failure"]["field"] == "authMethod"
    assert refused["failure"]["hint"]
    tab = (await client(TAB))["mailTab"]["settings"]
    assert tab["oauth"]["status"] == "REAUTHORIZATION_REQUIRED"
    [attempt] = await AttemptRecord.filter(outcome="OAUTH2_REAUTHORIZATION_REQUIRED")
    assert attempt.delivered is False
    # Saving again is refused until the mailbox is connected again.
    again = (await client(SAVE, {"input": outlook_form(port)}))["saveMailSettings"]["errors"]
    assert [(e["field"], e["code"]) for e in again] == [("authMethod", "OAUTH2_NOT_CONNECTED")]

    await connect(client)
    assert (await client(TAB))["mailTab"]["settings"]["oauth"]["status"] == "CONNECTED"
    assert (await send(client))["delivered"] is True
    assert recorder.accepted == [ADDRESS, ADDRESS]


async def test_a_provider_outage_is_a_retryable_failure_of_its_own(
    client: GraphQLClient,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
    tab_ready: None,
) -> None:
    port, _ = smtp
    await connect(client)
    await save(client, port)
    await expire_access_token()
    provider.front.outage = True
    try:
        down = await send(client)
    finally:
        provider.front.outage = False
    assert down["delivered"] is False
    assert down["failure"]["code"] == "OAUTH2_PROVIDER_UNAVAILABLE"
    assert (await client(TAB))["mailTab"]["settings"]["oauth"]["status"] == "CONNECTED"
    assert (await send(client))["delivered"] is True


async def test_two_instances_share_states_and_refresh_once(
    client_with: MakeClient,
    providers_file: Path,
    certificates: Certificates,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
    tab_ready: None,
) -> None:
    port, recorder = smtp
    first = await client_with(**overrides(providers_file, certificates))
    second = await client_with(**overrides(providers_file, certificates))
    page = await connect(first, via=second)  # the callback reaches the other instance
    assert page.status_code == 200
    await save(first, port)
    await expire_access_token()
    refreshes = provider.front.grants.count("refresh_token")
    results = await asyncio.gather(send(first), send(second), send(first), send(second))
    assert [r["delivered"] for r in results] == [True] * 4, results
    assert provider.front.grants.count("refresh_token") == refreshes + 1
    [connection] = await OAuthConnection.all()
    assert connection.refresh_count == 1 and connection.refresh_lease_id is None
    assert len(set(recorder.bearers)) == 1


# --- disconnect, keys, secrets ----------------------------------------------------------------


async def test_disconnect_removes_and_revokes(
    client: GraphQLClient,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
    tab_ready: None,
) -> None:
    port, _ = smtp
    await connect(client)
    await save(client, port)
    data = (await client(DISCONNECT, {"address": ADDRESS}))["disconnectMailOAuth"]
    assert data == {"disconnected": True, "revoked": True, "errors": []}
    assert provider.front.revoked == [provider.front.refresh_tokens[-1]]
    assert await OAuthConnection.all().count() == 0
    sent = (await send(client))["errors"]
    assert [(e["field"], e["code"]) for e in sent] == [("authMethod", "OAUTH2_NOT_CONNECTED")]
    again = (await client(DISCONNECT, {"address": ADDRESS}))["disconnectMailOAuth"]
    assert again["disconnected"] is False


async def test_rotating_the_key_re_encrypts_stored_tokens(
    client: GraphQLClient, provider: RunningProvider, tab_ready: None
) -> None:
    await connect(client)
    [before] = await OAuthConnection.all()
    new_key = Fernet.generate_key().decode()
    rotated, unreadable = await tokens.rotate(PasswordBox([new_key, SECRET_KEY]))
    assert (rotated, unreadable) == (1, 0)
    [after] = await OAuthConnection.all()
    assert after.refresh_token_encrypted != before.refresh_token_encrypted
    only_new = PasswordBox([new_key])
    assert only_new.decrypt(after.refresh_token_encrypted) == provider.front.refresh_tokens[-1]
    assert only_new.decrypt(after.access_token_encrypted or "") == provider.front.access_tokens[-1]


async def test_no_token_code_verifier_or_client_secret_leaves_the_service(
    client: GraphQLClient,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
    tab_ready: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, _ = smtp
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):
        seen.append((await connect(client)).text)
        replay = await authorize(client)
        seen.append((await client.http.get(replay)).text)
        seen.append((await client.http.get(replay)).text)  # reused: refused
        seen.append(json.dumps(await save(client, port)))
        await expire_access_token()
        seen.append(json.dumps(await send(client)))
        provider.revoke_user(ADDRESS)
        await expire_access_token()
        seen.append(json.dumps(await send(client)))
        seen.append(json.dumps(await client(TAB)))
        seen.append(
            json.dumps(await client("{ testEmailAttempts(last: 20) { outcome smtpCode address } }"))
        )
        seen.append(json.dumps(await client("{ emailAccounts { authMethod oauth { status } } }")))
        seen.append((await client.http.get("/metrics")).text)
        seen.append(json.dumps(await client(DISCONNECT, {"address": ADDRESS})))
    secrets = [*provider.front.secrets(), CLIENT_SECRET]
    assert len(secrets) >= 8
    logged = "\n".join(
        f"{r.getMessage()} {r.args!r}" for r in caplog.records if not _peer_record(r.name)
    )
    for secret in secrets:
        for text in [*seen, logged]:
            assert secret not in text
    for row in await AttemptRecord.all().values():
        assert not any(secret in str(value) for value in row.values() for secret in secrets)


async def test_an_access_token_revoked_before_it_expires_is_refreshed_once(
    client: GraphQLClient,
    provider: RunningProvider,
    smtp: tuple[int, XOAuth2Recorder],
    tab_ready: None,
) -> None:
    """The SMTP server refuses the cached token: refreshed and tried again, once."""
    port, recorder = smtp
    await connect(client)
    await save(client, port)
    cached = provider.front.access_tokens[-1]
    refreshes = provider.front.grants.count("refresh_token")
    # Revoked at the provider, but still cached here as valid for an hour.
    provider.revoke_user(ADDRESS)
    refused = await send(client)
    assert refused["delivered"] is False
    # The refresh token went with it: the connection must be made again.
    assert refused["failure"]["code"] == "OAUTH2_REAUTHORIZATION_REQUIRED"
    assert recorder.bearers == [cached]  # one try with the cached token, no second login
    assert provider.front.grants.count("refresh_token") == refreshes + 1

    await connect(client)
    # Only the access token revoked this time (the provider keeps the refresh token valid).
    fresh = provider.front.access_tokens[-1]
    provider.front.drop_access_token(fresh)
    result = await send(client)
    assert result["delivered"] is True, result
    assert recorder.bearers[-2:] == [fresh, provider.front.access_tokens[-1]]
    assert recorder.accepted == [ADDRESS]


async def test_outlook_refusing_a_password_points_at_oauth2_where_it_is_set_up(
    client: GraphQLClient, gql: GraphQLClient, certificates: Certificates, tab_ready: None
) -> None:
    from tests.smtpd import Replies, ServerMode, smtp_server

    basic_off = "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."
    async with smtp_server(
        mode=ServerMode.STARTTLS,
        certificate=certificates.good,
        accounts={ADDRESS: "app-password"},
        replies=Replies(auth=basic_off),
    ) as server:
        form = {**outlook_form(server.port, password="app-password"), "authMethod": "PASSWORD"}
        variables = {"input": {"recipient": RECIPIENT, "settings": form}}
        here = (await client(SEND, variables, lang="en"))["sendTestEmail"]["failure"]
        there = (await gql(SEND, variables, lang="en"))["sendTestEmail"]["failure"]
    assert here["code"] == there["code"] == "PASSWORD_LOGIN_DISABLED"
    assert here["field"] == "authMethod" and "Connect with OAuth2" in here["hint"]
    assert there["field"] != "authMethod" and "OAuth2 sign-in is set up" not in there["hint"]


async def test_a_fault_in_the_callback_is_a_page_without_a_traceback(
    client: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import web.oauth_callback

    async def broken(**_: Any) -> None:
        raise RuntimeError("boom code=secret-code-value")

    monkeypatch.setattr(web.oauth_callback, "complete_sign_in", broken)
    page = await client.http.get(
        "/oauth/callback?state=s&code=secret-code-value", headers={"Accept-Language": "en"}
    )
    assert page.status_code == 500
    assert "server error" in page.text and "Traceback" not in page.text
    assert "secret-code-value" not in page.text
    assert "secret-code-value" not in "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("mailtab")
    )


async def test_checklists_point_at_oauth2_where_it_is_set_up(
    client: GraphQLClient, gql: GraphQLClient
) -> None:
    query = "{ mailProviders { code status checklist { text } } }"
    here = {p["code"]: p for p in (await client(query, lang="en"))["mailProviders"]}
    there = {p["code"]: p for p in (await gql(query, lang="en"))["mailProviders"]}
    assert here["OUTLOOK"]["status"] == there["OUTLOOK"]["status"] == "OAUTH2_ONLY"
    mine = " ".join(item["text"] for item in here["OUTLOOK"]["checklist"])
    theirs = " ".join(item["text"] for item in there["OUTLOOK"]["checklist"])
    assert "press Connect with OAuth2" in mine and "choose another mail service" not in mine
    assert "choose another mail service" in theirs and "Connect with OAuth2" not in theirs
