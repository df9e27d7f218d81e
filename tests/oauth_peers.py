"""OAuth2 peers for the tests: a real OpenID provider and an SMTP server that wants XOAUTH2.

- ``oauth_provider``: ``oidc-provider-mock`` (a Flask/Authlib OpenID provider nobody here
  wrote) served by werkzeug on 127.0.0.1 in a thread, behind ``ProviderFront``: a WSGI
  front that enforces PKCE S256 (the mock's 0.3.4 does not check ``code_challenge``),
  offers RFC 7009 revocation, can play an outage, and records what went through (the
  codes, verifiers and tokens the secret scans look for, and how many refreshes were asked),
  and can revoke one access token early (userinfo then refuses it).
- ``xoauth2_server``: aiosmtpd with STARTTLS that offers AUTH XOAUTH2 only (PLAIN and LOGIN
  are refused) and accepts a login when the bearer token is valid for that user at the
  provider's userinfo endpoint.

Nothing here is a fixture: test modules wrap these in fixtures of their own.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from aiosmtpd.smtp import SMTP, AuthResult
from werkzeug.serving import BaseWSGIServer, make_server

from tests.smtpd import LOOPBACK, Recorder, Replies, _Controller, _Handler, server_tls_context

__all__ = [
    "ProviderFront",
    "RunningProvider",
    "XOAuth2Recorder",
    "oauth_provider",
    "outlook_providers_file",
    "xoauth2_server",
]

StartResponse = Callable[..., Any]


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class ProviderFront:
    """WSGI front of the mock provider: PKCE, revocation, outages, and a record of it all."""

    app: Any
    outage: bool = False
    challenges: dict[str, str] = field(default_factory=dict)
    """code -> the code_challenge its authorization carried."""
    codes: list[str] = field(default_factory=list)
    verifiers: list[str] = field(default_factory=list)
    access_tokens: list[str] = field(default_factory=list)
    refresh_tokens: list[str] = field(default_factory=list)
    grants: list[str] = field(default_factory=list)
    """grant_type of every token request that reached the provider."""
    refresh_scopes: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    pkce_failures: int = 0
    dropped: set[str] = field(default_factory=set)
    """Access tokens revoked early: userinfo refuses them, their refresh tokens stay valid."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize":
            return self._authorize(environ, start_response)
        if path == "/oauth2/token":
            return self._token(environ, start_response)
        if path == "/oauth2/revoke":
            return self._revoke(environ, start_response)
        if path == "/userinfo":
            bearer = environ.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
            if bearer in self.dropped:
                start_response("401 Unauthorized", [("Content-Type", "application/json")])
                return [b'{"error": "invalid_token"}']
        return self.app(environ, start_response)  # type: ignore[no-any-return]

    @staticmethod
    def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json")])
        return [data]

    def _authorize(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        challenge = query.get("code_challenge", [""])[0]
        if not challenge or query.get("code_challenge_method", [""])[0] != "S256":
            # What a provider requiring PKCE for public clients answers.
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"PKCE with code_challenge_method=S256 is required"]

        def recording(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            for name, value in headers:
                if name.lower() == "location":
                    code = parse_qs(urlsplit(value).query).get("code", [""])[0]
                    if code:
                        with self.lock:
                            self.challenges[code] = challenge
                            self.codes.append(code)
            return start_response(status, headers, *rest)

        return self.app(environ, recording)  # type: ignore[no-any-return]

    def _token(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        grant = form.get("grant_type", "")
        with self.lock:
            self.grants.append(grant)
            if grant == "refresh_token":
                self.refresh_scopes.append(form.get("scope", ""))
        if self.outage:
            start_response("503 Service Unavailable", [("Content-Type", "text/html")])
            return [b"<html><body>down for maintenance</body></html>"]
        if grant == "authorization_code":
            verifier = form.get("code_verifier", "")
            with self.lock:
                self.verifiers.append(verifier)
                expected = self.challenges.pop(form.get("code", ""), None)
            if expected is None or not verifier or _s256(verifier) != expected:
                with self.lock:
                    self.pkce_failures += 1
                return self._json(
                    start_response,
                    "400 Bad Request",
                    {"error": "invalid_grant", "error_description": "PKCE verification failed"},
                )
        if grant == "refresh_token" and form.get("refresh_token") in self.revoked:
            return self._json(start_response, "400 Bad Request", {"error": "invalid_grant"})
        chunks = list(self.app(environ, start_response))
        try:
            answer = json.loads(b"".join(chunks))
        except ValueError:
            answer = {}
        with self.lock:
            if isinstance(answer.get("access_token"), str):
                self.access_tokens.append(answer["access_token"])
            if isinstance(answer.get("refresh_token"), str):
                self.refresh_tokens.append(answer["refresh_token"])
        return chunks

    def _revoke(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode())
        with self.lock:
            self.revoked.extend(form.get("token", []))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    def drop_access_token(self, token: str) -> None:
        with self.lock:
            self.dropped.add(token)

    def secrets(self) -> list[str]:
        """Every code, verifier and token that went through: none may leave mailtab."""
        with self.lock:
            return [*self.codes, *self.verifiers, *self.access_tokens, *self.refresh_tokens]


@dataclass(frozen=True, slots=True)
class RunningProvider:
    url: str
    front: ProviderFront

    @property
    def userinfo_url(self) -> str:
        return f"{self.url}/userinfo"

    def endpoints(self, scopes: list[str]) -> dict[str, Any]:
        """The ``oauth2`` object of a providers file pointing at this provider."""
        return {
            "authorizationUrl": f"{self.url}/oauth2/authorize",
            "tokenUrl": f"{self.url}/oauth2/token",
            "revocationUrl": f"{self.url}/oauth2/revoke",
            "scopes": scopes,
        }

    def revoke_user(self, sub: str) -> None:
        """The user's tokens revoked at the provider (a password change, a removed grant)."""
        httpx.post(f"{self.url}/users/{sub}/revoke-tokens", timeout=5).raise_for_status()


@contextmanager
def oauth_provider() -> Iterator[RunningProvider]:
    """The mock OpenID provider, on 127.0.0.1, behind ``ProviderFront``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mock imports Authlib's deprecated jose module
        import oidc_provider_mock

    front = ProviderFront(oidc_provider_mock.app())
    server: BaseWSGIServer = make_server(LOOPBACK, 0, front, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield RunningProvider(url=f"http://{LOOPBACK}:{server.server_port}", front=front)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@dataclass
class XOAuth2Recorder(Recorder):
    bearers: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)


class _XOAuth2Handler(_Handler):
    def __init__(self, recorder: XOAuth2Recorder, userinfo_url: str) -> None:
        super().__init__(recorder)
        self.xrecorder = recorder
        self.userinfo_url = userinfo_url

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) > 1:
            blob: Any = base64.b64decode(args[1])
        else:
            blob = await server.challenge_auth("")
            if not isinstance(blob, bytes):
                return AuthResult(success=False, handled=True)
        fields = dict(
            part.split("=", 1) for part in blob.decode("utf-8").split("\x01") if "=" in part
        )
        user, bearer = fields.get("user", ""), fields.get("auth", "")
        token = bearer.removeprefix("Bearer ")
        self.xrecorder.logins.append(user)
        self.xrecorder.bearers.append(token)
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.get(
                self.userinfo_url, headers={"Authorization": f"Bearer {token}"}
            )
        claims = answer.json() if answer.status_code == 200 else {}
        if bearer.startswith("Bearer ") and claims.get("email") == user:
            self.xrecorder.accepted.append(user)
            return AuthResult(success=True, auth_data=user)
        # As Gmail refuses a token: a 334 challenge with the error as base64 JSON; the client
        # answers with an empty line, then the final 535 (SMTP-REPLIES.md).
        error = {"status": "401", "schemes": "bearer", "scope": "email"}
        await server.challenge_auth(json.dumps(error))
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Username and Password not accepted"
        )


@asynccontextmanager
async def xoauth2_server(
    *, certificate: Any, userinfo_url: str
) -> AsyncIterator[tuple[int, XOAuth2Recorder]]:
    """An aiosmtpd STARTTLS server on 127.0.0.1 taking XOAUTH2 only: (port, recorder)."""
    recorder = XOAuth2Recorder(accounts={}, replies=Replies())
    handler = _XOAuth2Handler(recorder, userinfo_url)
    controller = _Controller(
        handler,
        recorder=recorder,
        server_hostname="mail.test",
        ident="mailtab test ESMTP",
        tls_context=server_tls_context(certificate),
        require_starttls=True,
        auth_require_tls=True,
        auth_exclude_mechanism=["PLAIN", "LOGIN"],
    )
    await asyncio.to_thread(controller.start)
    try:
        yield int(controller.port), recorder
    finally:
        await asyncio.to_thread(controller.stop)


def outlook_providers_file(provider: RunningProvider, folder: Path) -> Path:
    """A providers file (MAILTAB_PROVIDERS_FILE) whose Outlook signs in at ``provider``.

    The mock knows OpenID scopes only; offline_access shows it is left out of refreshes.
    No "openid": the mock's ID-token signing uses an Authlib API that now warns.
    """
    shipped = json.loads(resources.files("mail").joinpath("providers.json").read_text("utf-8"))
    [outlook] = [p for p in shipped["providers"] if p["code"] == "OUTLOOK"]
    outlook["oauth2"] = provider.endpoints(["email", "offline_access"])
    path = folder / "providers.json"
    path.write_text(json.dumps({"providers": [outlook]}), encoding="utf-8")
    return path
