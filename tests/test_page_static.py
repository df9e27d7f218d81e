"""The page's files and headers without a browser: vendored files as pinned, no inline code,
the policies of ``/`` and ``/graphql``, static files, the optional-feature list."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import httpx
from graphql import build_schema

from web.page import OPTIONAL_FEATURES, STATIC_DIR, features_of

VENDOR = STATIC_DIR / "vendor"
PAGES = ("index.html", "graphiql.html")


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def policy_of(response: httpx.Response) -> dict[str, str]:
    parts = (
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    return {name: value for name, value in parts}


def test_vendored_files_are_the_pinned_ones_with_their_licences() -> None:
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text("utf-8"))
    listed: set[str] = set()
    for package in manifest["packages"]:
        assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"]), package
        assert package["integrity"].startswith("sha512-"), package
        assert package["license"] == "MIT", package
        for name, digest in package["files"].items():
            assert sri((VENDOR / name).read_bytes()) == digest, name
            assert (VENDOR / name).with_name("LICENSE").is_file(), name
            listed.add(name)
    present = {
        str(path.relative_to(VENDOR))
        for path in VENDOR.rglob("*")
        if path.is_file() and not path.name.startswith(("LICENSE", "README", "MANIFEST"))
    }
    assert present == listed


def test_graphiql_page_loads_exactly_the_vendored_files_by_their_hashes() -> None:
    manifest = json.loads((VENDOR / "MANIFEST.json").read_text("utf-8"))
    hashes = {name: digest for p in manifest["packages"] for name, digest in p["files"].items()}
    html = (STATIC_DIR / "graphiql.html").read_text("utf-8")
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
    loaded = {}
    for tag in tags:
        url = re.search(r'(?:src|href)="([^"]+)"', tag)
        assert url, tag
        path = url.group(1)
        assert path.startswith("static/"), path
        assert (STATIC_DIR / path.removeprefix("static/")).is_file(), path
        if path.startswith("static/vendor/"):
            integrity = re.search(r'integrity="([^"]+)"', tag)
            assert integrity, tag
            loaded[path.removeprefix("static/vendor/")] = integrity.group(1)
    assert loaded == hashes


def test_pages_hold_no_inline_script_or_style() -> None:
    for name in PAGES:
        html = (STATIC_DIR / name).read_text("utf-8")
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], name
        assert "<style" not in html, name
        assert not re.search(r"\sstyle=", html), name
        assert not re.search(r"\son[a-z]+=", html), name
        assert not re.search(r"<(?:script|link)\b[^>]*(?:src|href)=\"(?:https?:)?//", html), name


async def test_mail_tab_page_is_served_under_a_strict_policy(anonymous: httpx.AsyncClient) -> None:
    page = await anonymous.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert 'id="mail-form"' in page.text
    policy = policy_of(page)
    assert policy["default-src"] == "'none'"
    for directive in ("script-src", "style-src", "img-src", "connect-src"):
        assert policy[directive] == "'self'", directive
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["require-trusted-types-for"] == "'script'"
    assert "unsafe" not in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    head = await anonymous.head("/")
    assert head.status_code == 200 and head.content == b""


async def test_graphiql_page_is_served_by_mailtab_itself(anonymous: httpx.AsyncClient) -> None:
    page = await anonymous.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.text == (STATIC_DIR / "graphiql.html").read_text("utf-8")
    policy = policy_of(page)
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert "unsafe" not in page.headers["content-security-policy"]


async def test_static_files_have_their_types_and_caching(anonymous: httpx.AsyncClient) -> None:
    script = await anonymous.get("/static/js/main.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "no-cache"
    assert script.headers["x-content-type-options"] == "nosniff"
    style = await anonymous.get("/static/mailtab.css")
    assert style.headers["content-type"].startswith("text/css")
    vendored = await anonymous.get("/static/vendor/react-18.2.0/react.production.min.js")
    assert vendored.status_code == 200
    assert "immutable" in vendored.headers["cache-control"]
    for missing in ("/static/nope.js", "/static/../app.py", "/static/%2e%2e/app.py"):
        assert (await anonymous.get(missing)).status_code == 404, missing
    assert (await anonymous.post("/static/js/main.js")).status_code == 405


async def test_feature_list_names_what_the_served_schema_has(
    anonymous: httpx.AsyncClient, app: object
) -> None:
    listed = (await anonymous.get("/features.json")).json()["features"]
    assert set(listed) <= set(OPTIONAL_FEATURES)
    assert "SendTestEmailPayload.steps" in OPTIONAL_FEATURES


def test_features_are_read_from_the_schema() -> None:
    grown = build_schema(
        """
        type Query { detectMailProvider(email: String!): Boolean, mailProviders: [MailProvider!]! }
        type Mutation { sendTestEmail: SendTestEmailPayload! }
        type MailProvider { code: String!, oauth2Available: Boolean! }
        type SendTestEmailPayload { delivered: Boolean!, steps: [String!]! }
        input MailSettingsInput { provider: String!, authMethod: String }
        """
    )
    assert features_of(grown) == [
        "Query.detectMailProvider",
        "MailProvider.oauth2Available",
        "MailSettingsInput.authMethod",
        "SendTestEmailPayload.steps",
    ]
    assert features_of(build_schema("type Query { mailTab: Boolean }")) == []
